// A stock check's answer: per SKU at the asked warehouse and across all, and who did not answer.
import type { StockCheck } from '../api-types';
import { h } from '../dom';
import { timeEl } from '../format';
import { recordTable } from './record-table';

const stockStatus = (status: string) => h('span', { class: `stock st-${status}` }, status);

export function stockTable(result: StockCheck): HTMLElement[] {
  const parts = [
    recordTable(
      result.items,
      [
        { key: 'sku', label: 'SKU', nowrap: true },
        { key: 'requested', label: 'Requested', num: true },
        { key: 'status', label: 'Asked warehouse', nowrap: true, render: (v, i) => [`${i.askedWarehouseId}: `, stockStatus(v)] },
        { key: 'overallStatus', label: 'All warehouses', nowrap: true, render: (v, i) => [stockStatus(v), ` (${i.totalAvailable})`] },
        { key: 'warehouses', label: 'Per warehouse', render: (ws) => ws.map((w) => h('div', { class: 'nowrap' }, `${w.warehouseId}: ${w.available}`)) },
        { key: 'alternativeWarehouse', label: 'Alternative' },
      ],
      null,
      'Stock per SKU',
    ),
    h('p', { class: 'muted' }, 'Checked ', timeEl(result.checkedAt)),
  ];
  if (result.unavailableWarehouses.length) {
    parts.push(h('p', { class: 'warn' }, 'Did not answer: ', result.unavailableWarehouses.map((u) => `${u.warehouseId} (${u.message})`).join('; ')));
  }
  return parts;
}
