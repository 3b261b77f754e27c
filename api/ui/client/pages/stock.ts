// Stock for any SKUs, without an order.
import { api } from '../api';
import type { StockCheck } from '../api-types';
import { stockTable } from '../components/stock-table';
import { $, submitter } from '../dom';
import { run } from '../notice';

export function initStock(): void {
  const skus = $('#stock-skus', HTMLTextAreaElement);
  $('#stock-form', HTMLFormElement).addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const qs = new URLSearchParams();
    for (const s of skus.value.split(/[\s,]+/).filter(Boolean)) qs.append('sku', s);
    const wh = $('#stock-warehouse', HTMLInputElement).value.trim();
    if (wh) qs.set('warehouse', wh);
    const r = await run(submitter(ev), 'Checking stock', () => api<StockCheck>('GET', `/stock?${qs}`));
    if (r) $('#stock-result').replaceChildren(...stockTable(r.body));
  });
  skus.focus();
}
