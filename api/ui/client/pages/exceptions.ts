// Ops: warehouse response rows the adaptor could not apply to an order.
import { api } from '../api';
import type { AdaptorException, List } from '../api-types';
import { recordTable } from '../components/record-table';
import { $, h } from '../dom';
import { run } from '../notice';

export function initExceptions(): void {
  const form = $('#exceptions-filter', HTMLFormElement);
  const box = $('#exceptions');
  const load = async () => {
    const qs = new URLSearchParams({ limit: '200' });
    const wh = $('#exc-warehouse', HTMLInputElement).value.trim();
    if (wh) qs.set('warehouseId', wh);
    const r = await run($('button', HTMLButtonElement, form), 'Loading exceptions', () => api<List<AdaptorException>>('GET', `/adaptor/exceptions?${qs}`));
    if (!r) return;
    const items = r.body.items.map((e) => ({ ...e, subOrderNumber: e.row?.subOrderNumber, sku: e.row?.sku }));
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
              ],
              null,
              'Adaptor exceptions',
            ),
          )
        : h('p', { class: 'muted card' }, 'No exceptions.'),
    );
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  void load();
}
