// The order's lines and totals; on a New order each line's quantity, enrolment and removal.
import { KIND_LABELS, PROGRAMME_LABELS } from '../../../../../domain/labels';
import type { OrderLine } from '../../../../../domain/types';
import { $, h, type Child } from '../../dom';
import { money } from '../../format';
import { programmeOptions } from './catalogue';
import type { OrderContext } from './context';

export function renderLines(ctx: OrderContext): void {
  const { order } = ctx;
  const edit = ctx.allowed('editLines');
  const enrolEdit = ctx.allowed('requestEnrolment');
  const linePath = (l: OrderLine) => `/lines/${encodeURIComponent(l.lineId)}`;

  const row = (l: OrderLine) => {
    const netCell = h('td', { class: 'num' }, money(l.unitPrice * l.quantity, order.currency));
    let qtyCell: Child = String(l.quantity);
    if (edit) {
      const qty = h('input', { type: 'number', min: 1, max: 999, value: String(l.quantity), class: 'qty', 'aria-label': `Quantity of ${l.description}` });
      const save = h('button', { type: 'button', class: 'small secondary', hidden: true }, 'Update');
      // Live preview of the line while typing; the API's totals replace it once saved.
      qty.addEventListener('input', () => {
        const n = Number(qty.value);
        const valid = Number.isInteger(n) && n >= 1 && n <= 999;
        netCell.textContent = valid ? money(l.unitPrice * n, order.currency) : '—';
        netCell.classList.toggle('pending', n !== l.quantity);
        save.hidden = n === l.quantity;
      });
      const submit = () => void ctx.change(save, `Changing line ${l.lineNumber}`, 'PATCH', linePath(l), { quantity: Number(qty.value) });
      save.addEventListener('click', submit);
      qty.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') submit();
      });
      qtyCell = h('span', { class: 'qty-edit' }, qty, save);
    }
    const programmes = ctx.products.get(l.sku)?.enrolmentProgrammes ?? [];
    let enrolCell: Child = l.enrolment ? PROGRAMME_LABELS[l.enrolment] || l.enrolment : programmes.length ? 'None' : '—';
    if (enrolEdit && programmes.length) {
      const sel = h('select', { 'aria-label': `Enrolment for ${l.description}` }, programmeOptions(programmes));
      sel.value = l.enrolment || '';
      sel.addEventListener(
        'change',
        () => void ctx.change(sel, `Changing enrolment of line ${l.lineNumber}`, 'PATCH', linePath(l), { enrolment: sel.value || null }),
      );
      enrolCell = sel;
    }
    let remove: HTMLButtonElement | null = null;
    if (edit) {
      const button = h('button', { type: 'button', class: 'small danger-link', 'aria-label': `Remove ${l.description}` }, 'Remove');
      button.addEventListener('click', () => void ctx.change(button, `Removing line ${l.lineNumber}`, 'DELETE', linePath(l)));
      remove = button;
    }
    return h(
      'tr',
      { 'data-sku': l.sku },
      h('td', null, String(l.lineNumber)),
      h('td', null, h('div', null, l.description), h('small', { class: 'muted' }, `${l.sku} · ${KIND_LABELS[l.kind] || l.kind}`)),
      h('td', null, qtyCell),
      h('td', null, enrolCell),
      h('td', { class: 'num' }, money(l.unitPrice, order.currency)),
      netCell,
      h('td', null, remove),
    );
  };

  $('#lines tbody').replaceChildren(...order.lines.map(row));
  $('#lines-empty').hidden = order.lines.length > 0;
  $('#total-net').textContent = money(order.totals.net, order.currency);
  $('#total-tax').textContent = money(order.totals.tax, order.currency);
  $('#total-gross').textContent = money(order.totals.gross, order.currency);
}
