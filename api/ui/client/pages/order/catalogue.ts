// Adding products to a New order: search the catalogue by kind and text, pick quantity and
// enrolment programme per product. Retired products (active: false) are listed after the others
// as no longer sold, without an Add button: the API refuses them (PRODUCT_INACTIVE).
import { KIND_LABELS, PROGRAMME_LABELS } from '../../../../../domain/labels';
import type { Manufacturer } from '../../../../../domain/types';
import { api } from '../../api';
import type { List, Product } from '../../api-types';
import { $, h, submitter } from '../../dom';
import { money } from '../../format';
import { run, type Control } from '../../notice';
import type { OrderContext } from './context';

/** Options of an enrolment select: none, then the product's programmes. */
export const programmeOptions = (programmes: readonly Manufacturer[]) => [
  h('option', { value: '' }, 'None'),
  programmes.map((m) => h('option', { value: m }, PROGRAMME_LABELS[m] || m)),
];

export function catalogue(ctx: OrderContext) {
  const body = $('#catalogue tbody');
  const kind = $('#catalogue-kind', HTMLSelectElement);
  const q = $('#catalogue-q', HTMLInputElement);

  async function search(control: Control | null): Promise<void> {
    const qs = new URLSearchParams();
    if (kind.value) qs.set('kind', kind.value);
    if (q.value.trim()) qs.set('q', q.value.trim());
    qs.set('includeInactive', 'true');
    const r = await run(control, 'Searching the catalogue', () => api<List<Product>>('GET', `/catalogue?${qs}`));
    if (!r) return;
    for (const p of r.body.items) ctx.products.set(p.sku, p);
    const items = [...r.body.items.filter((p) => p.active), ...r.body.items.filter((p) => !p.active)];
    body.replaceChildren(...items.map(row));
    if (!r.body.items.length) body.replaceChildren(h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'Nothing matches.')));
  }

  function row(p: Product): HTMLTableRowElement {
    if (!p.active)
      return h(
        'tr',
        { 'data-sku': p.sku, class: 'unavailable' },
        h('td', null, h('div', null, p.name), h('small', { class: 'muted' }, `${p.sku} · ${KIND_LABELS[p.kind] || p.kind}`)),
        h('td', { class: 'num muted' }, money(p.unitPrice, p.currency)),
        h('td', { colspan: 3, class: 'muted' }, 'Unavailable: no longer sold'),
      );
    const qty = h('input', { type: 'number', min: 1, max: 999, value: '1', class: 'qty', 'aria-label': `Quantity of ${p.name}` });
    const enrol = p.enrolmentProgrammes.length
      ? h(
          'select',
          { 'aria-label': `Enrolment for ${p.name}`, class: 'enrol', hidden: !ctx.allowed('requestEnrolment') },
          programmeOptions(p.enrolmentProgrammes),
        )
      : null;
    const add = h('button', { type: 'button', class: 'small', 'aria-label': `Add ${p.name}` }, 'Add');
    add.addEventListener('click', () => {
      const line: { sku: string; quantity: number; enrolment?: string } = { sku: p.sku, quantity: Number(qty.value) };
      if (enrol?.value) line.enrolment = enrol.value;
      void ctx.change(add, `Adding ${p.sku}`, 'POST', '/lines', line);
    });
    return h(
      'tr',
      { 'data-sku': p.sku },
      h('td', null, h('div', null, p.name), h('small', { class: 'muted' }, `${p.sku} · ${KIND_LABELS[p.kind] || p.kind}`)),
      h('td', { class: 'num' }, money(p.unitPrice, p.currency)),
      h('td', null, qty),
      h('td', null, enrol ?? h('span', { class: 'muted' }, '—')),
      h('td', null, add),
    );
  }

  $('#catalogue-search', HTMLFormElement).addEventListener('submit', (ev) => {
    ev.preventDefault();
    void search(submitter(ev));
  });
  kind.addEventListener('change', () => void search(null));

  return {
    search,
    render(): void {
      $('#catalogue-section').hidden = !ctx.allowed('editLines');
    },
  };
}
