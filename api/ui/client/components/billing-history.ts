// An account's invoices and charges, where this server has the billing routes.
import { api, unlessMissing } from '../api';
import type { AccountCharge, InvoiceSummary, List } from '../api-types';
import { $, h } from '../dom';
import { money, orderLink } from '../format';
import { recordTable } from './record-table';

const INVOICE_KINDS: Record<InvoiceSummary['kind'], string> = { offCycle: 'Immediate', cycle: 'Regular' };

const list = async <T>(path: string) => (await unlessMissing(api<List<T>>('GET', path)))?.body.items ?? null;

export async function billingHistory(accountId: string, currency: string): Promise<void> {
  const box = $('#account-billing');
  const base = `/accounts/${encodeURIComponent(accountId)}`;
  try {
    const [invoices, charges] = await Promise.all([list<InvoiceSummary>(`${base}/invoices`), list<AccountCharge>(`${base}/charges`)]);
    if (invoices === null && charges === null) {
      box.replaceChildren(h('p', { class: 'muted' }, 'Billing history is not available on this server yet; charges show on each order.'));
      return;
    }
    const parts: HTMLElement[] = [];
    if (invoices) {
      parts.push(h('h3', null, 'Invoices'));
      parts.push(
        invoices.length
          ? recordTable(
              invoices,
              [
                { key: 'invoiceNumber', label: 'Invoice' },
                { key: 'kind', label: 'Kind', render: (v) => INVOICE_KINDS[v] ?? v },
                { key: 'issuedAt', label: 'Issued', time: true },
                { key: 'chargeCount', label: 'Charges', num: true },
                { key: 'totals', label: 'Net', num: true, render: (t, i) => money(t?.net, i.currency) },
                { key: 'totals', label: 'Tax', num: true, render: (t, i) => money(t?.tax, i.currency) },
                { key: 'totals', label: 'Total', num: true, render: (t, i) => money(t?.gross, i.currency) },
              ],
              currency,
              'Invoices',
            )
          : h('p', { class: 'muted' }, 'No invoices.'),
      );
    }
    if (charges) {
      parts.push(h('h3', null, 'Charges'));
      parts.push(
        charges.length
          ? recordTable(
              charges,
              [
                { key: 'createdAt', label: 'Date', time: true },
                { key: 'orderId', label: 'Order', render: (v) => orderLink(v) },
                { key: 'description', label: 'Description' },
                { key: 'quantity', label: 'Qty', num: true },
                { key: 'amount', label: 'Net', money: true },
                { key: 'tax', label: 'Tax', money: true },
                { key: 'invoiceNumber', label: 'Invoice', render: (v) => v || 'next invoice' },
              ],
              currency,
              'Charges',
            )
          : h('p', { class: 'muted' }, 'No charges.'),
      );
    }
    box.replaceChildren(...parts);
  } catch (err) {
    box.replaceChildren(h('p', { class: 'muted' }, `Billing history could not be loaded: ${err instanceof Error ? err.message : String(err)}`));
  }
}
