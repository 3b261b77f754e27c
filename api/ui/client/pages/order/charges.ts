// What the customer is charged for the order, and its invoice once issued.
import { api } from '../../api';
import type { Invoice } from '../../api-types';
import { recordTable } from '../../components/record-table';
import { $, h } from '../../dom';
import { money, timeEl } from '../../format';
import type { OrderContext } from './context';

export function charges(ctx: OrderContext) {
  // An issued invoice does not change: read once per page.
  const invoices = new Map<string, Promise<Invoice | null>>();

  /** The invoice itself, where the billing routes exist (otherwise just its number shows). */
  async function invoiceDetails(n: string, el: HTMLElement): Promise<void> {
    let read = invoices.get(n);
    if (!read) {
      read = api<Invoice>('GET', `/invoices/${encodeURIComponent(n)}`).then(
        (r) => r.body,
        () => null,
      );
      invoices.set(n, read);
    }
    const inv = await read;
    if (inv && el.isConnected) el.append(` · issued `, timeEl(inv.issuedAt), ` · total ${money(inv.totals.gross, inv.currency || ctx.order.currency)}`);
  }

  return function render(): void {
    const { order } = ctx;
    const parts: HTMLElement[] = [];
    if (!order.charges.length) {
      parts.push(
        h(
          'p',
          { class: 'muted' },
          order.billingMode === 'immediate'
            ? 'The customer is charged when the order completes, on an immediate invoice.'
            : 'The customer is charged when the order completes, on the next regular invoice.',
        ),
      );
    } else {
      parts.push(
        recordTable(
          order.charges,
          [
            { key: 'lineNumber', label: 'Line', num: true },
            { key: 'description', label: 'Description' },
            { key: 'quantity', label: 'Qty', num: true },
            { key: 'amount', label: 'Net', money: true },
            { key: 'tax', label: 'Tax', money: true },
            { key: 'invoiceNumber', label: 'Invoice', nowrap: true, render: (v) => v || 'next invoice' },
          ],
          order.currency,
          'Charges',
        ),
      );
      const net = order.charges.reduce((s, c) => s + c.amount, 0);
      const tax = order.charges.reduce((s, c) => s + c.tax, 0);
      parts.push(
        h('p', { class: 'charge-total' }, `Charged ${money(net + tax, order.currency)} (${money(net, order.currency)} + ${money(tax, order.currency)} tax)`),
      );
    }
    if (order.invoiceNumber) {
      const inv = h('p', { class: 'invoice' }, 'Invoice ', h('strong', { id: 'invoice-number' }, order.invoiceNumber));
      parts.push(inv);
      void invoiceDetails(order.invoiceNumber, inv);
    }
    $('#charges').replaceChildren(...parts);
  };
}
