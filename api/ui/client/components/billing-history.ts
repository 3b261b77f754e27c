// An account's invoices, charges and the credits for its returns, where this server has the routes.
import { api, unlessMissing } from '../api';
import type { AccountCharge, CreditNotes, InvoiceSummary, List } from '../api-types';
import { $, h } from '../dom';
import { money, orderLink } from '../format';
import { recordTable } from './record-table';

const INVOICE_KINDS: Record<InvoiceSummary['kind'], string> = { offCycle: 'Immediate', cycle: 'Regular' };

const list = async <T>(path: string) => (await unlessMissing(api<List<T>>('GET', path)))?.body.items ?? null;

/** One return's credit as the account sees it: a credit note issued at once, or credit lines on a cycle invoice. */
interface ReturnCreditRow {
  creditNoteNumber: string | null;
  issuedAt: string;
  rmaId: string;
  orderId: string;
  gross: number;
  currency: string;
  credited: string;
}

/** Credit notes, and each return's credit lines together (one per invoice they go on), oldest first. */
export function returnCredits(c: CreditNotes): ReturnCreditRow[] {
  const rows: ReturnCreditRow[] = c.items.map((n) => ({
    creditNoteNumber: n.creditNoteNumber,
    issuedAt: n.issuedAt,
    rmaId: n.rmaId,
    orderId: n.orderId,
    gross: n.gross,
    currency: n.currency,
    credited: n.corrects.length ? `At once, corrects ${n.corrects.join(', ')}` : 'At once',
  }));
  const lines = new Map<string, ReturnCreditRow>();
  for (const l of c.creditLines) {
    const key = `${l.rmaId}|${l.invoiceNumber ?? ''}`;
    const row = lines.get(key) ?? {
      creditNoteNumber: null,
      issuedAt: l.createdAt,
      rmaId: l.rmaId,
      orderId: l.orderId,
      gross: 0,
      currency: l.currency,
      credited: l.invoiceNumber ? `On invoice ${l.invoiceNumber}` : 'On the next invoice',
    };
    row.gross -= l.amount + l.tax; // credit lines are negative charges
    lines.set(key, row);
  }
  return [...rows, ...lines.values()].sort((a, b) => a.issuedAt.localeCompare(b.issuedAt) || a.rmaId.localeCompare(b.rmaId));
}

export async function billingHistory(accountId: string, currency: string): Promise<void> {
  const box = $('#account-billing');
  const base = `/accounts/${encodeURIComponent(accountId)}`;
  try {
    const [invoices, charges, credits] = await Promise.all([
      list<InvoiceSummary>(`${base}/invoices`),
      list<AccountCharge>(`${base}/charges`),
      unlessMissing(api<CreditNotes>('GET', `${base}/credit-notes`)),
    ]);
    if (invoices === null && charges === null && credits === null) {
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
    if (credits) {
      const rows = returnCredits(credits.body);
      parts.push(h('h3', null, 'Credit notes'));
      parts.push(
        h(
          'div',
          { id: 'account-credit-notes' },
          rows.length
            ? recordTable(
                rows,
                [
                  { key: 'creditNoteNumber', label: 'Credit note', render: (v) => v ?? '—' },
                  { key: 'issuedAt', label: 'Date', time: true },
                  { key: 'rmaId', label: 'Return' },
                  { key: 'orderId', label: 'Order', render: (v) => orderLink(v) },
                  { key: 'gross', label: 'Credited', money: true },
                  { key: 'credited', label: 'How' },
                ],
                currency,
                'Credit notes',
              )
            : h('p', { class: 'muted' }, 'No credit notes.'),
        ),
      );
    }
    box.replaceChildren(...parts);
  } catch (err) {
    box.replaceChildren(h('p', { class: 'muted' }, `Billing history could not be loaded: ${err instanceof Error ? err.message : String(err)}`));
  }
}
