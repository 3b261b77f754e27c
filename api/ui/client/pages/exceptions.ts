// Ops: warehouse response rows the adaptor could not apply to an order, each reapplied to its
// order (optionally a corrected order id) or dismissed with a reason; resolved ones on request.
import { api } from '../api';
import type { AdaptorException, AdaptorExceptionList } from '../api-types';
import { recordTable } from '../components/record-table';
import { $, h } from '../dom';
import { orderLink, timeEl } from '../format';
import { run, showNotice } from '../notice';

export function initExceptions(): void {
  const form = $('#exceptions-filter', HTMLFormElement);
  const box = $('#exceptions');
  const more = $('#exceptions-more', HTMLButtonElement);
  const params = new URLSearchParams(location.search);
  const batchId = params.get('batchId');
  let cursor: string | null = null;
  let shown: AdaptorException[] = [];

  const load = async (append: boolean) => {
    const qs = new URLSearchParams({ limit: '100', state: $('#exc-state', HTMLSelectElement).value });
    const wh = $('#exc-warehouse', HTMLInputElement).value.trim();
    if (wh) qs.set('warehouseId', wh);
    if (batchId) qs.set('batchId', batchId);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : $('button', HTMLButtonElement, form), 'Loading exceptions', () =>
      api<AdaptorExceptionList>('GET', `/adaptor/exceptions?${qs}`),
    );
    if (!r) return;
    cursor = r.body.nextCursor;
    shown = append ? [...shown, ...r.body.items] : r.body.items;
    render();
    more.hidden = !cursor;
  };

  const render = () => {
    const items = shown.map((e) => ({ ...e, subOrderNumber: e.row?.subOrderNumber, sku: e.row?.sku }));
    box.replaceChildren(
      items.length
        ? h(
            'div',
            { class: 'card' },
            recordTable(
              items,
              [
                { key: 'createdAt', label: 'When', time: true },
                { key: 'warehouseId', label: 'Warehouse' },
                { key: 'batchId', label: 'Batch', render: (v) => h('code', { title: v }, v.slice(0, 12)) },
                { key: 'rowNumber', label: 'Row', num: true },
                { key: 'subOrderNumber', label: 'Sub-order' },
                { key: 'sku', label: 'SKU' },
                { key: 'code', label: 'Code' },
                { key: 'message', label: 'Message' },
                { key: 'id', label: 'Resolution', render: (_v, e) => resolutionCell(e) },
              ],
              null,
              'Adaptor exceptions',
            ),
          )
        : h('p', { class: 'muted card' }, 'No exceptions.'),
    );
  };

  /** Who resolved it and how; or the two actions, each with its own field. */
  function resolutionCell(e: AdaptorException) {
    const r = e.resolution;
    if (r)
      return h(
        'span',
        { class: 'resolution' },
        r.action === 'reapply' ? ['Reapplied to ', orderLink(r.orderId ?? '')] : ['Dismissed: ', r.reason ?? ''],
        h('small', { class: 'muted' }, ' by ', r.by, ', ', timeEl(r.at)),
      );
    const label = `row ${e.rowNumber} of batch ${e.batchId.slice(0, 12)}`;
    const orderId = h('input', { name: 'orderId', maxlength: 64, placeholder: 'order id (optional)', 'aria-label': `Order id for ${label}`, size: 18 });
    const reason = h('input', { name: 'reason', maxlength: 500, placeholder: 'reason', 'aria-label': `Reason to dismiss ${label}`, size: 18 });
    const reapply = h('button', { type: 'button', class: 'secondary small' }, 'Reapply');
    const dismiss = h('button', { type: 'button', class: 'secondary small' }, 'Dismiss');
    const resolve = async (btn: HTMLButtonElement, body: Record<string, string>, doing: string) => {
      const done = await run(btn, doing, () => api<AdaptorException>('POST', `/adaptor/exceptions/${encodeURIComponent(e.id)}/resolve`, body));
      if (!done) return;
      shown = shown.map((x) => (x.id === e.id ? done.body : x));
      render();
      showNotice(`${label}: ${body.action === 'reapply' ? `applied to ${done.body.resolution?.orderId}` : 'dismissed'}.`, 'info');
    };
    reapply.addEventListener('click', () => {
      const id = orderId.value.trim();
      void resolve(reapply, id ? { action: 'reapply', orderId: id } : { action: 'reapply' }, 'Reapplying');
    });
    dismiss.addEventListener('click', () => {
      if (!reason.value.trim()) {
        showNotice('Give a reason for dismissing the row: it is kept with the exception.');
        reason.focus();
        return;
      }
      void resolve(dismiss, { action: 'dismiss', reason: reason.value.trim() }, 'Dismissing');
    });
    return h('div', { class: 'resolve' }, h('div', { class: 'actions' }, orderId, reapply), h('div', { class: 'actions' }, reason, dismiss));
  }

  if (batchId) $('#exc-batch').textContent = `Batch ${batchId.slice(0, 12)} only.`;
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load(false);
  });
  more.addEventListener('click', () => void load(true));
  void load(false);
}
