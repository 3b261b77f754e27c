// What went to each warehouse and what came back: units with their device ids and tracking,
// lines closed without shipping, and software licence keys.
import type { DispatchedUnit, SubOrder } from '../../../../../domain/types';
import type { OrderView } from '../../api-types';
import { recordTable } from '../../components/record-table';
import { $, h } from '../../dom';
import { timeEl } from '../../format';

const shipDates = (units: DispatchedUnit[]) => {
  const dates = [...new Set(units.map((u) => u.shipDate).filter(Boolean))];
  return dates.length ? ` · shipped ${dates.join(', ')}` : '';
};

function deviceIds(u: DispatchedUnit) {
  const ids = [u.imei && `IMEI ${u.imei}`, u.imei2 && `IMEI2 ${u.imei2}`, u.serialNumber && `SN ${u.serialNumber}`].filter(Boolean);
  return ids.length ? ids.map((x) => h('div', null, x)) : '—';
}

function subOrder(s: SubOrder, currency: string) {
  return h(
    'div',
    { class: 'suborder' },
    h('h3', null, `${s.subOrderNumber} `, h('span', { class: `badge so-${s.status}` }, s.status)),
    h(
      'p',
      { class: 'muted' },
      `Warehouse ${s.warehouseId} · `,
      s.lines.map((l) => `line ${l.lineNumber}: ${l.quantity} × ${l.sku}`).join(', '),
      shipDates(s.units),
    ),
    s.error ? h('p', { class: 'error-box' }, `${s.error.message} (${s.error.code})`) : null,
    s.units.length
      ? recordTable(
          s.units,
          [
            { key: 'sku', label: 'Line', nowrap: true, render: (v, u) => `${u.lineNumber}: ${v}` },
            { key: 'quantity', label: 'Qty', num: true },
            { key: 'rowKey', label: 'Device', nowrap: true, render: (_v, u) => deviceIds(u) },
            { key: 'trackingNumber', label: 'Tracking', nowrap: true, render: (v, u) => (v ? `${u.carrier ? `${u.carrier} ` : ''}${v}` : '—') },
          ],
          currency,
          `Units dispatched for ${s.subOrderNumber}`,
        )
      : null,
    s.lineExceptions.length
      ? recordTable(
          s.lineExceptions,
          [
            { key: 'lineNumber', label: 'Line', num: true },
            { key: 'disposition', label: 'Outcome' },
            { key: 'code', label: 'Code' },
            { key: 'message', label: 'Message' },
          ],
          currency,
          `Line exceptions for ${s.subOrderNumber}`,
        )
      : null,
  );
}

export function renderSubOrders(order: OrderView): void {
  const parts: HTMLElement[] = [];
  if (!order.subOrders.length) parts.push(h('p', { class: 'muted' }, 'Sub-orders are created per warehouse when the order is generated.'));
  for (const s of order.subOrders) parts.push(subOrder(s, order.currency));
  if (order.licences?.length) {
    parts.push(h('h3', null, 'Software licences'));
    parts.push(
      h(
        'ul',
        null,
        order.licences.map((l) =>
          h(
            'li',
            null,
            `Line ${l.lineNumber}: `,
            l.keys.map((k, i) => [i ? ', ' : null, h('code', l.revokedAt ? { class: 'revoked' } : null, k)]),
            // The order ended without delivering: the keys no longer work and were never charged.
            l.revokedAt ? [' — revoked ', timeEl(l.revokedAt), ', not charged'] : null,
          ),
        ),
      ),
    );
  }
  $('#suborders').replaceChildren(...parts);
}
