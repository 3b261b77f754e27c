// What a customer is charged for: exactly the units they received. One charge per order line per
// dispatch batch that shipped it (a partial then final shipment gives two; a resubmission's
// shipments add `:R<n>`), and one per licence line once the order delivers (domain/licences.ts: a
// licence of an order that ends without delivering is revoked, never charged). The charge key is
// the business idempotency key: retries and replays find the same key.
import { licenceChargeKey, licencesToCharge } from './licences';
import { invoiceTotals, lineAmounts, type InvoiceTotals } from './money';
import type { OrderState } from './order-state';
import type { Charge } from './types';
import { isValidIsoDate } from './warehouse-response';

/** A charge before it is on an invoice. */
export type ChargeDraft = Omit<Charge, 'invoiceNumber'>;

/** The order once billed: the new charges (each with the invoice it went on) and the invoice number, if one was issued. */
export function withBill<O extends Pick<OrderState, 'charges' | 'invoiceNumber'>>(
  order: O,
  billed: { charges: OrderState['charges']; invoiceNumber: string | null },
): O {
  return { ...order, charges: [...order.charges, ...billed.charges], invoiceNumber: billed.invoiceNumber ?? order.invoiceNumber };
}

export function chargesForOrder(order: OrderState): ChargeDraft[] {
  const shipped = new Map<string, { lineNumber: number; batchId: string; quantity: number }>();
  for (const sub of order.subOrders) {
    // A resubmission's shipments are charges of their own, even in a file that also closes an earlier sub-order's line.
    const round = sub.resubmission ? `:R${sub.resubmission}` : '';
    for (const u of sub.units) {
      const k = `${u.lineNumber}:${u.batchId}${round}`;
      const cur = shipped.get(k) ?? { lineNumber: u.lineNumber, batchId: `${u.batchId}${round}`, quantity: 0 };
      cur.quantity += u.quantity;
      shipped.set(k, cur);
    }
  }
  const drafts: ChargeDraft[] = [];
  const draft = (key: string, lineNumber: number, quantity: number): void => {
    const line = order.lines.find((l) => l.lineNumber === lineNumber);
    if (!line || quantity <= 0) return;
    const { net, tax } = lineAmounts(line.unitPrice, quantity, line.taxRateBps);
    drafts.push({
      chargeKey: key,
      lineNumber,
      sku: line.sku,
      description: line.description,
      quantity,
      unitPrice: line.unitPrice,
      taxRateBps: line.taxRateBps,
      amount: net,
      tax,
    });
  };
  for (const s of shipped.values()) draft(`${order.orderId}:${s.lineNumber}:${s.batchId}`, s.lineNumber, s.quantity);
  for (const l of licencesToCharge(order)) draft(licenceChargeKey(order.orderId, l.lineNumber), l.lineNumber, l.keys.length);
  return drafts.sort((a, b) => a.lineNumber - b.lineNumber || a.chargeKey.localeCompare(b.chargeKey));
}

/**
 * The idempotency key of an order's own (immediate) invoice. An order billed again later (what a
 * resubmission shipped) gets a further invoice for the new charges only: `order:<orderId>:<n>`.
 */
export function orderInvoiceKey(orderId: string, invoicesSoFar: number): string {
  return invoicesSoFar === 0 ? `order:${orderId}` : `order:${orderId}:${invoicesSoFar + 1}`;
}

/** True when the invoice key is one of this order's own invoices. */
export function isOrderInvoiceKey(key: string, orderId: string): boolean {
  const prefix = `order:${orderId}`;
  return key === prefix || (key.startsWith(`${prefix}:`) && /^[0-9]+$/.test(key.slice(prefix.length + 1)));
}

/** The order a charge is for: its key starts with the order id (order ids hold no ':'). */
export const orderIdOfChargeKey = (chargeKey: string): string => chargeKey.slice(0, chargeKey.indexOf(':'));

// ---- Invoices: what an invoice shows, computed from its charges by the one money module.

export interface InvoiceTaxLine {
  taxRateBps: number;
  net: number;
  tax: number;
  gross: number;
}

/**
 * The tax analysis and totals of an invoice. Each charge carries its own rounded tax (rounded on
 * the line, see domain/money.ts), so the analysis only groups and adds: it always sums to the totals.
 */
export function invoiceSummary(charges: readonly { taxRateBps: number; amount: number; tax: number }[]): {
  taxByRate: InvoiceTaxLine[];
  totals: InvoiceTotals;
} {
  const byRate = new Map<number, { amount: number; tax: number }[]>();
  for (const c of charges) byRate.set(c.taxRateBps, [...(byRate.get(c.taxRateBps) ?? []), c]);
  const taxByRate = [...byRate.entries()].sort(([a], [b]) => a - b).map(([taxRateBps, group]) => ({ taxRateBps, ...invoiceTotals(group) }));
  return { taxByRate, totals: invoiceTotals(charges) };
}

// ---- Bill runs: on its cycle day an account is invoiced for every pending deferred charge.

export interface BillRunInput {
  /** The cycle date to bill, YYYY-MM-DD. Absent when the Temporal Schedule started the run. */
  date?: string;
}

export interface BillRunInvoice {
  accountId: string;
  invoiceNumber: string;
  currency: string;
  gross: number;
  chargeCount: number;
  /** false when an earlier (or overlapping) run had already issued this cycle's invoice. */
  created: boolean;
}

export interface BillRunResult {
  date: string;
  /** Charges created up to this instant (end of the date, UTC) are on the cycle's invoices. */
  cutOff: string;
  accountsDue: number;
  invoices: BillRunInvoice[];
  /** Accounts due with nothing pending: no invoice is issued for them. */
  nothingToBill: string[];
  /** Accounts whose invoice could not be issued (a rerun of the date retries exactly these). */
  failed: { accountId: string; message: string }[];
}

/** One workflow per bill date: a manual trigger finds the run already going for its date. */
export const billRunWorkflowId = (date: string) => `bill-run-${date}`;

/** The idempotency key of an account's cycle invoice: one per account and bill date, ever. */
export const cycleInvoiceKey = (accountId: string, date: string) => `cycle:${accountId}:${date}`;

export function isBillDate(date: string): boolean {
  return isValidIsoDate(date);
}

/** The last instant of the bill date (UTC), comparable with the ISO timestamps on charges. */
export function billCutOff(date: string): string {
  return `${date}T23:59:59.999Z`;
}

/**
 * The accounts a date bills: those whose cycle day is the date's day of the month. Cycle days are
 * 1-28, so every account comes due every month and the 29th-31st bill nobody.
 */
export function cycleDayOf(date: string): number {
  return Number(date.slice(8, 10));
}

/**
 * The date a scheduled run bills: the UTC day that ended last before its scheduled time. A run
 * scheduled at 02:00 on the 16th bills cycle day 15 with every charge up to the end of the 15th,
 * so the period it closes is over and no charge can still arrive inside it. Uses the nominal
 * scheduled time, so a run started late (catch-up after an outage, or buffered) bills its own day.
 */
export function billDateForScheduledRun(scheduledAt: Date): string {
  return new Date(scheduledAt.getTime() - 86_400_000).toISOString().slice(0, 10);
}
