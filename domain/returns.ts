// Returns (RMA) and their credit: which units of an order can come back, when, and what the
// customer is credited for them. Pure: no I/O, safe to import from workflow code.
//
// Rules:
// - A unit is named by its IMEI (or IMEI2), serial number or licence key. Units shipped in bulk
//   without any of those (capture `none`) cannot be named and are not returnable here.
// - A unit can be returned once: an open or received return holds it (an expired one lets go).
// - A unit is returnable once it is charged (the order was billed for what shipped).
// - `unwanted` within RETURN_WINDOW_UNWANTED of shipment; `faulty`, and the operator's own
//   mistakes (`wrongItem`, `damagedInTransit`), within RETURN_WINDOW_FAULTY. The window runs from
//   the start (00:00 UTC) of the unit's ship date: the ship date is all the warehouse reports.
// - An exchange (a replacement order) only for `faulty` and `wrongItem`.
// Credit, per unit: its captured price, and its share of the charge's tax. The charge's tax was
// rounded once on the whole charge (domain/money.ts), so the share of the unit at place j of q is
// round(T·j/q) − round(T·(j−1)/q): the shares of a charge's units add up to its tax exactly, and
// any set of them to no more. An `unwanted` return keeps RESTOCKING_FEE_PERCENT of the price (and
// the tax on what it keeps).
import { DomainError } from './errors';
import { invoiceTotals } from './money';
import type { OrderState } from './order-state';

export const RETURN_REASONS = ['faulty', 'unwanted', 'wrongItem', 'damagedInTransit'] as const;
export type ReturnReason = (typeof RETURN_REASONS)[number];

export const CONDITION_GRADES = ['A', 'B', 'C', 'scrap'] as const;
export type ConditionGrade = (typeof CONDITION_GRADES)[number];

/** Reasons that may ask for a replacement order. */
export const EXCHANGE_REASONS: readonly ReturnReason[] = ['faulty', 'wrongItem'];

export const RETURN_STATUSES = ['authorised', 'received', 'credited', 'expired', 'refused'] as const;
export type ReturnStatus = (typeof RETURN_STATUSES)[number];

/** `RMA-00000001`: numbered 1..N without gaps. */
export const rmaNumberOf = (n: number) => `RMA-${String(n).padStart(8, '0')}`;
export const isRmaNumber = (s: string) => /^RMA-[0-9]{8,}$/.test(s);
/** `CN-00000001`: credit notes, numbered 1..N without gaps. */
export const creditNoteNumberOf = (n: number) => `CN-${String(n).padStart(8, '0')}`;
export const returnWorkflowId = (rmaId: string) => `return-${rmaId}`;
/** The credit note's idempotency key: one per return, ever. */
export const returnCreditKey = (rmaId: string) => `return:${rmaId}`;
/** The deferred credit line of a unit (a negative charge on the next cycle invoice): one per unit, ever. */
export const creditChargeKey = (orderId: string, unitId: string) => `${orderId}:credit:${unitId}`;
/** A unit's claim by a return (and later its credit): one per unit of an order. */
export const unitClaimId = (orderId: string, unitId: string) => `${orderId}:${unitId}`;

export interface ReturnWindows {
  /** Milliseconds from the ship date. */
  unwantedMs: number;
  faultyMs: number;
}

export interface ReturnableUnit {
  /** The unit's key: its IMEI, else its serial number (as enrolment names devices), else its licence key. */
  unitId: string;
  kind: 'device' | 'licence';
  imei?: string;
  imei2?: string;
  serialNumber?: string;
  licenceKey?: string;
  lineNumber: number;
  sku: string;
  description: string;
  unitPrice: number;
  taxRateBps: number;
  /** The charge it was billed on, and its place in that charge (1-based) of `chargeQuantity`. */
  chargeKey: string;
  place: number;
  chargeQuantity: number;
  chargeTax: number;
  /** The invoice the charge is on, as the order last saw it (null: waiting for the cycle invoice). */
  invoiceNumber: string | null;
  /** Devices: the warehouse and sub-order that shipped it. */
  warehouseId?: string;
  subOrderNumber?: string;
  /** YYYY-MM-DD (devices: the warehouse's ship date; licences: the day they were issued). */
  shipDate: string;
}

type OrderForReturns = Pick<OrderState, 'orderId' | 'lines' | 'subOrders' | 'licences' | 'charges' | 'history'>;

/**
 * Every unit of the order that can be named and was charged, with the charge it is on. Units are
 * placed in their charge in the order they shipped (the order's own record of them), which never
 * changes once they shipped: a unit's tax share is fixed.
 */
export function returnableUnits(order: OrderForReturns): ReturnableUnit[] {
  const charges = new Map(order.charges.map((c) => [c.chargeKey, c]));
  const placed = new Map<string, number>();
  const out: ReturnableUnit[] = [];
  for (const sub of order.subOrders) {
    const round = sub.resubmission ? `:R${sub.resubmission}` : '';
    for (const u of sub.units) {
      const chargeKey = `${order.orderId}:${u.lineNumber}:${u.batchId}${round}`;
      const place = (placed.get(chargeKey) ?? 0) + u.quantity;
      placed.set(chargeKey, place);
      const unitId = u.imei ?? u.serialNumber;
      const charge = charges.get(chargeKey);
      const line = order.lines.find((l) => l.lineNumber === u.lineNumber);
      if (!unitId || u.quantity !== 1 || !charge || !line) continue;
      out.push({
        unitId,
        kind: 'device',
        ...(u.imei ? { imei: u.imei } : {}),
        ...(u.imei2 ? { imei2: u.imei2 } : {}),
        ...(u.serialNumber ? { serialNumber: u.serialNumber } : {}),
        lineNumber: u.lineNumber,
        sku: u.sku,
        description: line.description,
        unitPrice: charge.unitPrice,
        taxRateBps: charge.taxRateBps,
        chargeKey,
        place,
        chargeQuantity: charge.quantity,
        chargeTax: charge.tax,
        invoiceNumber: charge.invoiceNumber,
        warehouseId: sub.warehouseId,
        subOrderNumber: sub.subOrderNumber,
        shipDate: u.shipDate ?? generatedOn(order),
      });
    }
  }
  for (const l of order.licences) {
    const chargeKey = `${order.orderId}:${l.lineNumber}:licence`;
    const charge = charges.get(chargeKey);
    const line = order.lines.find((x) => x.lineNumber === l.lineNumber);
    if (!charge || !line) continue;
    l.keys.forEach((key, i) =>
      out.push({
        unitId: key,
        kind: 'licence',
        licenceKey: key,
        lineNumber: l.lineNumber,
        sku: line.sku,
        description: line.description,
        unitPrice: charge.unitPrice,
        taxRateBps: charge.taxRateBps,
        chargeKey,
        place: i + 1,
        chargeQuantity: charge.quantity,
        chargeTax: charge.tax,
        invoiceNumber: charge.invoiceNumber,
        shipDate: generatedOn(order),
      }),
    );
  }
  return out;
}

/** Licences are issued when the order is generated: the day it left Awaiting Generation. */
function generatedOn(order: Pick<OrderState, 'history'>): string {
  const left = order.history.find((h) => h.from === 'AwaitingGeneration');
  return (left ?? order.history[order.history.length - 1]).at.slice(0, 10);
}

/** Finds a unit by any of its names (IMEI, IMEI2, serial number, licence key). */
export function findUnit(units: readonly ReturnableUnit[], ref: string): ReturnableUnit | undefined {
  const r = ref.trim();
  return units.find((u) => u.unitId === r || u.imei === r || u.imei2 === r || u.serialNumber === r || u.licenceKey === r);
}

export interface ReturnRequest {
  units: string[];
  reason: ReturnReason;
  exchange: boolean;
}

/** The last instant a unit shipped on `shipDate` can be returned for `reason`. */
export function returnDeadline(shipDate: string, reason: ReturnReason, windows: ReturnWindows): string {
  const from = Date.parse(`${shipDate}T00:00:00.000Z`);
  return new Date(from + (reason === 'unwanted' ? windows.unwantedMs : windows.faultyMs)).toISOString();
}

/**
 * Checks a return request against the order's units and the units other returns hold; gives the
 * units it returns. Refusals carry a machine-readable code (domain/errors.ts) and the units concerned.
 */
export function checkReturn(
  order: OrderForReturns & Pick<OrderState, 'status'>,
  request: ReturnRequest,
  held: ReadonlySet<string>,
  now: string,
  windows: ReturnWindows,
): ReturnableUnit[] {
  if (!RETURN_REASONS.includes(request.reason)) throw new DomainError('VALIDATION_FAILED', `unknown return reason ${String(request.reason)}`);
  if (request.units.length === 0) throw new DomainError('VALIDATION_FAILED', 'name at least one unit (IMEI, serial number or licence key)');
  if (request.exchange && !EXCHANGE_REASONS.includes(request.reason)) {
    throw new DomainError('EXCHANGE_NOT_ALLOWED', `an exchange is only for ${EXCHANGE_REASONS.join(' or ')} returns, not ${request.reason}`, {
      reason: request.reason,
    });
  }
  const all = returnableUnits(order);
  const chosen: ReturnableUnit[] = [];
  const unknown: string[] = [];
  for (const ref of request.units) {
    const u = findUnit(all, ref);
    if (!u) unknown.push(ref);
    else if (chosen.some((c) => c.unitId === u.unitId)) throw new DomainError('VALIDATION_FAILED', `unit ${ref} is named twice`, { units: [ref] });
    else chosen.push(u);
  }
  if (unknown.length) {
    throw new DomainError(
      'UNIT_NOT_RETURNABLE',
      `order ${order.orderId} has no charged unit ${unknown.join(', ')} (shipped, billed, with an IMEI, serial or licence key)`,
      {
        units: unknown,
      },
    );
  }
  const again = chosen.filter((u) => held.has(u.unitId)).map((u) => u.unitId);
  if (again.length) throw new DomainError('UNIT_ALREADY_RETURNED', `unit ${again.join(', ')} is already returned or being returned`, { units: again });
  const late = chosen.filter((u) => returnDeadline(u.shipDate, request.reason, windows) < now);
  if (late.length) {
    throw new DomainError('RETURN_WINDOW_CLOSED', `the ${request.reason} return window has closed for ${late.map((u) => u.unitId).join(', ')}`, {
      units: late.map((u) => ({ unitId: u.unitId, shipDate: u.shipDate, deadline: returnDeadline(u.shipDate, request.reason, windows) })),
    });
  }
  return chosen;
}

// ---- Credit ---------------------------------------------------------------------------------

/** n·num/den rounded half-up, for non-negative integers (exact in BigInt). */
function ratio(n: number, num: number, den: number): number {
  if (den <= 0) return 0;
  const p = BigInt(n) * BigInt(num);
  const d = BigInt(den);
  let q = p / d;
  if ((p % d) * 2n >= d) q += 1n;
  return Number(q);
}

/** The tax of the unit at `place` (1-based) among `quantity` units of a charge whose tax is `chargeTax`. */
export function unitTaxShare(chargeTax: number, place: number, quantity: number): number {
  return ratio(chargeTax, place, quantity) - ratio(chargeTax, place - 1, quantity);
}

/** RESTOCKING_FEE_PERCENT as basis points of the price (10.5% = 1050). */
export const restockingFeeBps = (percent: number) => Math.round(percent * 100);

export interface CreditLine {
  unitId: string;
  kind: 'device' | 'licence';
  lineNumber: number;
  sku: string;
  description: string;
  chargeKey: string;
  invoiceNumber: string | null;
  /** Credited, excluding tax (positive: what the customer gets back). */
  amount: number;
  tax: number;
  /** Kept from the price for an unwanted return (excluding tax). */
  restockingFee: number;
  taxRateBps: number;
}

export function creditForUnit(
  u: Pick<
    ReturnableUnit,
    | 'unitId'
    | 'kind'
    | 'lineNumber'
    | 'sku'
    | 'description'
    | 'chargeKey'
    | 'invoiceNumber'
    | 'unitPrice'
    | 'taxRateBps'
    | 'place'
    | 'chargeQuantity'
    | 'chargeTax'
  >,
  reason: ReturnReason,
  feeBps: number,
): CreditLine {
  const price = Math.max(0, u.unitPrice);
  const taxShare = price > 0 ? unitTaxShare(u.chargeTax, u.place, u.chargeQuantity) : 0;
  const fee = reason === 'unwanted' ? Math.min(price, ratio(price, feeBps, 10_000)) : 0;
  const amount = price - fee;
  const tax = fee === 0 ? taxShare : ratio(taxShare, amount, price);
  return {
    unitId: u.unitId,
    kind: u.kind,
    lineNumber: u.lineNumber,
    sku: u.sku,
    description: u.description,
    chargeKey: u.chargeKey,
    invoiceNumber: u.invoiceNumber,
    amount,
    tax,
    restockingFee: fee,
    taxRateBps: u.taxRateBps,
  };
}

export function creditForReturn(units: Parameters<typeof creditForUnit>[0][], reason: ReturnReason, feeBps: number) {
  const lines = units.map((u) => creditForUnit(u, reason, feeBps));
  return { lines, totals: invoiceTotals(lines) };
}

// ---- Reconciliation: charges, credits and invoices agree ------------------------------------

export interface LedgerCharge {
  chargeKey: string;
  orderId: string;
  quantity: number;
  amount: number;
  tax: number;
  invoiceNumber: string | null;
}
export interface LedgerDocument {
  number: string;
  /** Invoices: the charges on it (credit lines of a cycle invoice are negative charges). */
  chargeKeys?: string[];
  /** Credit notes: the units credited, each naming its charge. */
  lines?: { unitId: string; chargeKey: string; amount: number; tax: number }[];
  gross: number;
}
export interface ShippedUnit {
  orderId: string;
  unitId: string;
  chargeKey: string | null;
  returned: boolean;
  /** Units shipped in bulk without a name are one entry of several units. Default 1. */
  quantity?: number;
}

export interface BalanceProblem {
  code: string;
  message: string;
}

export interface BalanceCheck {
  ok: boolean;
  charged: number;
  credited: number;
  invoiced: number;
  creditNotes: number;
  pending: number;
  problems: BalanceProblem[];
}

/**
 * An account's books agree when: every invoice's total is its charges' total and every invoiced
 * charge is on that invoice; every credit note's total is its lines'; no unit is credited twice
 * and no charge credited beyond itself; charges − credits = invoiced − credit notes + pending;
 * every shipped unit that was not returned is on a charge and not credited, every returned one
 * credited; and each charge is for exactly the shipped units that name it (charged once).
 */
export function checkBalance(input: {
  charges: LedgerCharge[];
  invoices: LedgerDocument[];
  creditNotes: LedgerDocument[];
  units: ShippedUnit[];
}): BalanceCheck {
  const problems: BalanceProblem[] = [];
  const gross = (c: { amount: number; tax: number }) => c.amount + c.tax;
  const charges = new Map(input.charges.map((c) => [c.chargeKey, c]));
  const creditLine = (c: LedgerCharge) => c.chargeKey.includes(':credit:');
  let charged = 0;
  let creditedByLines = 0;
  let pending = 0;
  for (const c of input.charges) {
    if (creditLine(c)) creditedByLines -= gross(c);
    else charged += gross(c);
    if (!c.invoiceNumber) pending += gross(c);
  }
  const onInvoice = new Map<string, string>();
  let invoiced = 0;
  for (const inv of input.invoices) {
    invoiced += inv.gross;
    let sum = 0;
    for (const k of inv.chargeKeys ?? []) {
      const c = charges.get(k);
      if (!c) {
        problems.push({ code: 'INVOICE_CHARGE_MISSING', message: `${inv.number} lists charge ${k}, which does not exist` });
        continue;
      }
      if (onInvoice.has(k)) problems.push({ code: 'CHARGE_INVOICED_TWICE', message: `charge ${k} is on ${onInvoice.get(k)} and ${inv.number}` });
      onInvoice.set(k, inv.number);
      if (c.invoiceNumber !== inv.number)
        problems.push({ code: 'CHARGE_INVOICE_MISMATCH', message: `charge ${k} points at ${c.invoiceNumber ?? 'no invoice'}, is on ${inv.number}` });
      sum += gross(c);
    }
    if (sum !== inv.gross) problems.push({ code: 'INVOICE_TOTAL_MISMATCH', message: `${inv.number} totals ${inv.gross}, its charges ${sum}` });
  }
  for (const c of input.charges) {
    if (c.invoiceNumber && onInvoice.get(c.chargeKey) !== c.invoiceNumber) {
      problems.push({ code: 'CHARGE_NOT_ON_INVOICE', message: `charge ${c.chargeKey} points at ${c.invoiceNumber}, which does not list it` });
    }
  }
  const creditedUnits = new Map<string, string>();
  const creditedPerCharge = new Map<string, number>();
  let creditNotes = 0;
  const noteCredit = (unitKey: string, chargeKey: string, amount: number, where: string) => {
    if (creditedUnits.has(unitKey))
      problems.push({ code: 'UNIT_CREDITED_TWICE', message: `unit ${unitKey} is credited by ${creditedUnits.get(unitKey)} and ${where}` });
    creditedUnits.set(unitKey, where);
    creditedPerCharge.set(chargeKey, (creditedPerCharge.get(chargeKey) ?? 0) + amount);
  };
  for (const cn of input.creditNotes) {
    creditNotes += cn.gross;
    let sum = 0;
    for (const l of cn.lines ?? []) {
      sum += gross(l);
      noteCredit(`${orderOf(l.chargeKey)}:${l.unitId}`, l.chargeKey, gross(l), cn.number);
    }
    if (sum !== cn.gross) problems.push({ code: 'CREDIT_NOTE_TOTAL_MISMATCH', message: `${cn.number} totals ${cn.gross}, its lines ${sum}` });
  }
  for (const c of input.charges.filter(creditLine)) {
    const [orderId, , ...unit] = c.chargeKey.split(':');
    const unitId = unit.join(':');
    const unitCharge = input.units.find((u) => u.orderId === orderId && u.unitId === unitId)?.chargeKey;
    if (!unitCharge) problems.push({ code: 'CREDIT_WITHOUT_UNIT', message: `credit line ${c.chargeKey} names no shipped unit` });
    noteCredit(`${orderId}:${unitId}`, unitCharge ?? c.chargeKey, -gross(c), c.chargeKey);
  }
  for (const [k, credited] of creditedPerCharge) {
    const c = charges.get(k);
    if (c && credited > gross(c)) problems.push({ code: 'CHARGE_OVER_CREDITED', message: `charge ${k} (${gross(c)}) is credited ${credited}` });
  }
  const unitsPerCharge = new Map<string, number>();
  for (const u of input.units) {
    const key = `${u.orderId}:${u.unitId}`;
    if (!u.chargeKey || !charges.has(u.chargeKey)) {
      if (!u.returned) problems.push({ code: 'UNIT_NOT_CHARGED', message: `unit ${key} shipped and is not charged` });
      continue;
    }
    unitsPerCharge.set(u.chargeKey, (unitsPerCharge.get(u.chargeKey) ?? 0) + (u.quantity ?? 1));
    if (!u.returned && creditedUnits.has(key)) problems.push({ code: 'UNRETURNED_UNIT_CREDITED', message: `unit ${key} is credited but was not returned` });
    if (u.returned && !creditedUnits.has(key)) problems.push({ code: 'RETURNED_UNIT_NOT_CREDITED', message: `unit ${key} was returned and is not credited` });
  }
  for (const [k, n] of unitsPerCharge) {
    if (n > charges.get(k)!.quantity)
      problems.push({ code: 'UNIT_CHARGED_TWICE', message: `charge ${k} is for ${charges.get(k)!.quantity} unit(s), ${n} shipped units name it` });
  }
  const credited = creditedByLines + creditNotes;
  if (charged - credited !== invoiced - creditNotes + pending) {
    problems.push({
      code: 'BALANCE_MISMATCH',
      message: `charges ${charged} − credits ${credited} ≠ invoiced ${invoiced} − credit notes ${creditNotes} + pending ${pending}`,
    });
  }
  return { ok: problems.length === 0, charged, credited, invoiced, creditNotes, pending, problems };
}

const orderOf = (chargeKey: string) => chargeKey.slice(0, chargeKey.indexOf(':'));

// ---- A return as recorded (the `returns` collection, the workflow's state, the API's answer) ----

export interface ReturnUnit extends ReturnableUnit {
  /** What the customer is credited for it, fixed when the return is authorised. */
  credit: CreditLine;
  /** Set once the warehouse (or ops) reports it back. */
  received?: { grade: ConditionGrade; at: string; by: string; source: 'warehouse' | 'ops' | 'licence' };
  /** An expired return lets go of the units that never came back. */
  released?: boolean;
}

export interface ReturnAuthorisationSent {
  warehouseId: string;
  fileId: string;
  sentAt: string;
  location: string;
}

export interface ReturnCredit {
  /** The credit note (account billed at once, its charges invoiced); null when every unit went on the next cycle invoice. */
  creditNoteNumber: string | null;
  /** Credit lines waiting for the account's next cycle invoice (negative charges). */
  creditChargeKeys: string[];
  /** The invoices the credit corrects. */
  corrects: string[];
  net: number;
  tax: number;
  gross: number;
  issuedAt: string;
}

export interface ReturnView {
  rmaId: string;
  sequence: number;
  orderId: string;
  accountId: string;
  currency: string;
  reason: ReturnReason;
  note: string;
  exchange: boolean;
  replacementOrderId?: string;
  status: ReturnStatus;
  creditMode: 'immediate' | 'nextInvoice';
  units: ReturnUnit[];
  authorisations: ReturnAuthorisationSent[];
  credit?: ReturnCredit;
  refusal?: { code: string; message: string };
  /** Not received by then (RETURN_RECEIPT_WAIT after authorisation), the return expires. */
  expiresAt: string;
  requestedBy: string;
  requestedAt: string;
  updatedAt: string;
}

/** The record of a return the rules accepted, before its number: `authorised`, each unit's credit fixed now. */
export function authorisedReturn(o: {
  order: { orderId: string; accountId: string; currency: string };
  units: ReturnableUnit[];
  reason: ReturnReason;
  note: string;
  exchange: boolean;
  /** The account's billing mode now: how the return is credited. */
  creditMode: ReturnView['creditMode'];
  feeBps: number;
  receiptWaitMs: number;
  by: string;
  now: Date;
}): Omit<ReturnView, 'rmaId' | 'sequence'> {
  const at = o.now.toISOString();
  return {
    orderId: o.order.orderId,
    accountId: o.order.accountId,
    currency: o.order.currency,
    reason: o.reason,
    note: o.note,
    exchange: o.exchange,
    status: 'authorised',
    creditMode: o.creditMode,
    units: o.units.map((u): ReturnUnit => ({ ...u, credit: creditForUnit(u, o.reason, o.feeBps) })),
    authorisations: [],
    expiresAt: new Date(o.now.getTime() + o.receiptWaitMs).toISOString(),
    requestedBy: o.by,
    requestedAt: at,
    updatedAt: at,
  };
}

/**
 * Applies a receipt (warehouse rows or ops) to the return: each named unit not yet received is
 * marked with its grade. Gives the units applied and the names that fit no unit of the return.
 */
export function applyReceipt(
  ret: Pick<ReturnView, 'units'>,
  units: { unit: string; grade: ConditionGrade }[],
  by: string,
  source: 'warehouse' | 'ops',
  at: string,
): { applied: string[]; unknown: string[] } {
  const applied: string[] = [];
  const unknown: string[] = [];
  for (const r of units) {
    const u = findUnit(ret.units, r.unit) as ReturnUnit | undefined;
    if (!u) unknown.push(r.unit);
    else if (!u.received && !u.released) {
      u.received = { grade: r.grade, at, by, source };
      applied.push(u.unitId);
    }
  }
  return { applied, unknown };
}

/** Devices wait for the warehouse; licences have nothing to send back and count as received at once. */
export const awaitingReceipt = (ret: Pick<ReturnView, 'units'>) => ret.units.filter((u) => !u.received && !u.released);
