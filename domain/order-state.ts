// The order's state machine and the pure rules for every agent action. This module is the only
// place that decides what is allowed; the workflow's update validators and the UI ask it.
import type { StockShortage } from './allocation';
import { DomainError } from './errors';
import type {
  BillingMode,
  Charge,
  DeliveryContact,
  DispatchRow,
  FraudCheckResult,
  Manufacturer,
  OrderError,
  OrderLine,
  OrderStatus,
  Product,
  HistoryEntry,
  SubOrder,
} from './types';

/** Events that move an order between statuses. */
export type OrderEvent =
  | 'generate' // agent generated the order
  | 'cancel' // agent cancelled before anything reached a warehouse
  | 'sentToWarehouse' // every sub-order's sales order was sent
  | 'fulfilledWithoutWarehouse' // software licences only: provisioned at generation
  | 'rejected' // fraud rejected or a warehouse refused the request
  | 'dispatchComplete' // every sub-order line shipped
  | 'dispatchError' // a warehouse reported an error or out of stock
  | 'cancellationConfirmed' // every sub-order confirmed cancelled by its warehouse
  | 'resubmit' // ops re-send what did not ship (Error → a fresh Sales Order Request for it)
  | 'close' // ops accept an order in Error as it is
  | 'resolutionExpired'; // ERROR_RESOLUTION_WINDOW passed with no ops action: closed as Error

/** The one transition table: status -> event -> next status. Anything absent is refused. */
export const TRANSITIONS: Readonly<Record<OrderStatus, Partial<Record<OrderEvent, OrderStatus>>>> = {
  New: { generate: 'AwaitingGeneration', cancel: 'Cancelled' },
  AwaitingGeneration: {
    cancel: 'Cancelled',
    sentToWarehouse: 'AwaitingDispatch',
    fulfilledWithoutWarehouse: 'Complete',
    rejected: 'Error',
  },
  AwaitingDispatch: {
    dispatchComplete: 'Complete',
    dispatchError: 'Error',
    cancellationConfirmed: 'Cancelled',
  },
  Complete: {},
  // Error ends the agent's process; ops may still resolve it within the resolution window.
  Error: { resubmit: 'AwaitingGeneration', close: 'Error', resolutionExpired: 'Error' },
  Cancelled: {},
};

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['Complete', 'Error', 'Cancelled'];

/** Events out of a terminal status: ops resolving an order in Error (domain/order-exceptions.ts). */
export const RESOLUTION_EVENTS: readonly OrderEvent[] = ['resubmit', 'close', 'resolutionExpired'];

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function nextStatus(status: OrderStatus, event: OrderEvent): OrderStatus | undefined {
  return TRANSITIONS[status][event];
}

/**
 * Agent actions and the statuses in which each is offered. The last four are ops' (the API allows
 * them to the ops role only): resolving an Error, and unsticking an order Awaiting Dispatch.
 */
export type AgentAction =
  'editLines' | 'setDelivery' | 'setBillingMode' | 'requestEnrolment' | 'generate' | 'cancel' | 'resubmit' | 'close' | 'resend' | 'resendCancellation';

export function allowedActions(
  order: Pick<OrderState, 'status' | 'cancellationRequested' | 'sendStarted' | 'errorResolution' | 'cancellation' | 'subOrders'>,
): AgentAction[] {
  switch (order.status) {
    case 'New':
      return ['editLines', 'setDelivery', 'setBillingMode', 'requestEnrolment', 'generate', 'cancel'];
    case 'AwaitingGeneration':
      return order.cancellationRequested ? [] : ['cancel'];
    case 'AwaitingDispatch':
      if (order.cancellationRequested) return order.cancellation?.unanswered ? ['resendCancellation', 'close'] : [];
      return order.subOrders.some((s) => s.status === 'Sent' && !s.superseded) ? ['cancel', 'resend'] : ['cancel'];
    case 'Error':
      // Open only while the workflow waits for ops (after billing what shipped), until closed.
      if (!order.errorResolution || order.errorResolution.closed) return [];
      // The customer asked to cancel: nothing goes out again.
      return order.cancellationRequested ? ['close'] : ['resubmit', 'close'];
    default:
      return [];
  }
}

export interface FraudState {
  required: boolean;
  reasons: string[];
  result?: FraudCheckResult;
  /** Set while a referred order waits for an ops decision. */
  awaitingReview?: { since: string; deadline: string };
  review?: { decision: 'approve' | 'reject'; by: string; reason: string; at: string };
}

/** A software line's licence keys, issued at generation; revoked when the order ends without it (domain/licences.ts). */
export interface LicenceLine {
  lineNumber: number;
  keys: string[];
  /** When the keys were revoked (never charged then); absent while they stand. */
  revokedAt?: string;
}

export interface OrderState {
  orderId: string;
  accountId: string;
  currency: string;
  status: OrderStatus;
  createdAt: string;
  createdBy: string;
  lines: OrderLine[];
  nextLineNumber: number;
  delivery: DeliveryContact | null;
  billingMode: BillingMode;
  fraud: FraudState | null;
  subOrders: SubOrder[];
  /** A sales order has started going to a warehouse: cancelling now needs the warehouse. */
  sendStarted: boolean;
  cancellationRequested: boolean;
  error: OrderError | null;
  history: HistoryEntry[];
  charges: Charge[];
  invoiceNumber: string | null;
  licences: LicenceLine[];
  /** Waiting for stock no warehouse has yet (Awaiting Generation); null once sent or never short. */
  backorder: Backorder | null;
  /** In Error: open for ops (resubmit or close) until `openUntil`; null before the workflow waits for them. */
  errorResolution: ErrorResolution | null;
  /** Resubmissions so far: the n-th sends sub-orders `<orderId>-<warehouseId>-R<n>`. */
  resubmissions: number;
  /** The cancellation sent to the warehouses, waiting for their answer. */
  cancellation: CancellationSent | null;
  /** Bumped by the workflow once per committed change; the read model keeps only the newest revision. */
  revision: number;
}

/** An order held back because no warehouse (nor all together) holds what it needs. */
export interface Backorder {
  since: string;
  /** The latest stock check's shortfall. */
  shortages: StockShortage[];
  lastCheckedAt: string;
  /** After this the order goes to Error BACKORDER_EXPIRED. */
  expiresAt: string;
}

export interface ErrorResolution {
  /** When the window (ERROR_RESOLUTION_WINDOW) ends and the order closes as Error. */
  openUntil: string;
  /** Closed by ops or by the window passing: nothing more can be done to the order. */
  closed: { by: string; reason: string; at: string } | null;
}

export interface CancellationSent {
  /** When it last went out (first send or ops' resend). */
  sentAt: string;
  /** Unanswered past this (CANCEL_ANSWER_TIMEOUT), the order is flagged for ops. */
  answerDueBy?: string;
  unanswered: boolean;
  /** How many times it went out. */
  sends: number;
}

export interface NewOrderInput {
  orderId: string;
  accountId: string;
  currency: string;
  createdBy: string;
  delivery: DeliveryContact | null;
  billingMode: BillingMode;
  /** The API request that created it (its x-request-id). */
  requestId?: string;
}

export function newOrder(input: NewOrderInput, at: string): OrderState {
  return {
    orderId: input.orderId,
    accountId: input.accountId,
    currency: input.currency,
    status: 'New',
    createdAt: at,
    createdBy: input.createdBy,
    lines: [],
    nextLineNumber: 1,
    delivery: input.delivery,
    billingMode: input.billingMode,
    fraud: null,
    subOrders: [],
    sendStarted: false,
    cancellationRequested: false,
    error: null,
    history: [{ from: null, to: 'New', at, by: input.createdBy, reason: 'order created', ...(input.requestId ? { requestId: input.requestId } : {}) }],
    charges: [],
    invoiceNumber: null,
    licences: [],
    backorder: null,
    errorResolution: null,
    resubmissions: 0,
    cancellation: null,
    revision: 1,
  };
}

function refuse(order: OrderState, what: string): never {
  throw new DomainError('INVALID_TRANSITION', `cannot ${what}: order ${order.orderId} is ${order.status}`, {
    status: order.status,
  });
}

/**
 * Edits a New order takes: each is several history events, and a workflow history has a hard
 * limit, so an order edited without end would be terminated by the server. Far above any real
 * order; past it the agent generates or cancels the order, or starts a new one.
 */
export const MAX_EDITS_WHILE_NEW = 500;

const EDITS: readonly AgentAction[] = ['editLines', 'setDelivery', 'setBillingMode', 'requestEnrolment'];

/** The revision counts the order's committed changes: while New, its edits. */
export function checkEditLimit(order: Pick<OrderState, 'orderId' | 'revision'>): void {
  if (order.revision > MAX_EDITS_WHILE_NEW) {
    throw new DomainError('ORDER_EDIT_LIMIT', `order ${order.orderId} has had ${MAX_EDITS_WHILE_NEW} edits: generate or cancel it, or start a new order`);
  }
}

function requireAction(order: OrderState, action: AgentAction, what: string): void {
  if (!allowedActions(order).includes(action)) refuse(order, what);
  if (EDITS.includes(action)) checkEditLimit(order);
}

/** What a history entry may carry besides who, when and why (domain/order-history.ts builds the changes). */
export type EntryDetail = Pick<HistoryEntry, 'changes' | 'requestId' | 'note'>;

/** Moves the order along the transition table and records who and why. */
export function transition(order: OrderState, event: OrderEvent, at: string, by: string, reason: string, detail: EntryDetail = {}): void {
  const to = nextStatus(order.status, event);
  if (!to) refuse(order, event);
  order.history.push({ from: order.status, to, at, by, reason, ...detail });
  order.status = to;
  // A backorder is a state of Awaiting Generation only (cancelled, failed or sent, it is over).
  if (to !== 'AwaitingGeneration') order.backorder = null;
}

// ---- Agent actions: each has a check (used by the update validator; throws DomainError)
// ---- and an apply (used by the handler once the check passed).

export interface AddLineRequest {
  product: Product;
  quantity: number;
  enrolment?: Manufacturer;
}

export const MAX_QUANTITY_PER_LINE = 999;
export const MAX_LINES_PER_ORDER = 100;

function checkQuantity(quantity: number): void {
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_QUANTITY_PER_LINE) {
    throw new DomainError('VALIDATION_FAILED', `quantity must be an integer from 1 to ${MAX_QUANTITY_PER_LINE}`);
  }
}

function checkEnrolment(product: Pick<Product, 'sku' | 'enrolmentProgrammes'>, enrolment: Manufacturer | undefined): void {
  if (enrolment && !product.enrolmentProgrammes.includes(enrolment)) {
    throw new DomainError('ENROLMENT_NOT_SUPPORTED', `${product.sku} does not support the ${enrolment} enrolment programme`);
  }
}

export function checkAddLine(order: OrderState, req: AddLineRequest): void {
  requireAction(order, 'editLines', 'add a line');
  if (!req.product.active) throw new DomainError('PRODUCT_INACTIVE', `${req.product.sku} is no longer sold`);
  if (req.product.currency !== order.currency) {
    throw new DomainError('CURRENCY_MISMATCH', `${req.product.sku} is priced in ${req.product.currency}, the account bills in ${order.currency}`);
  }
  if (order.lines.length >= MAX_LINES_PER_ORDER) {
    throw new DomainError('VALIDATION_FAILED', `an order holds at most ${MAX_LINES_PER_ORDER} lines`);
  }
  checkQuantity(req.quantity);
  checkEnrolment(req.product, req.enrolment);
}

export function applyAddLine(order: OrderState, req: AddLineRequest): OrderLine {
  const n = order.nextLineNumber++;
  const line: OrderLine = {
    lineId: `L${n}`,
    lineNumber: n,
    sku: req.product.sku,
    description: req.product.name,
    kind: req.product.kind,
    quantity: req.quantity,
    unitPrice: req.product.unitPrice,
    taxRateBps: req.product.taxRateBps,
    capture: req.product.capture,
    ...(req.product.manufacturer ? { manufacturer: req.product.manufacturer } : {}),
    ...(req.enrolment ? { enrolment: req.enrolment } : {}),
  };
  order.lines.push(line);
  return line;
}

export interface ChangeLineRequest {
  lineId: string;
  quantity?: number;
  /** null removes the enrolment request. */
  enrolment?: Manufacturer | null;
  /** The line's product as the catalogue has it, for the enrolment check. */
  enrolmentProgrammes?: Manufacturer[];
}

function findLine(order: OrderState, lineId: string): OrderLine {
  const line = order.lines.find((l) => l.lineId === lineId);
  if (!line) throw new DomainError('LINE_NOT_FOUND', `order ${order.orderId} has no line ${lineId}`);
  return line;
}

export function checkChangeLine(order: OrderState, req: ChangeLineRequest): void {
  requireAction(order, 'editLines', 'change a line');
  const line = findLine(order, req.lineId);
  if (req.quantity !== undefined) checkQuantity(req.quantity);
  if (req.enrolment) checkEnrolment({ sku: line.sku, enrolmentProgrammes: req.enrolmentProgrammes ?? [] }, req.enrolment);
}

export function applyChangeLine(order: OrderState, req: ChangeLineRequest): OrderLine {
  const line = findLine(order, req.lineId);
  if (req.quantity !== undefined) line.quantity = req.quantity;
  if (req.enrolment === null) delete line.enrolment;
  else if (req.enrolment) line.enrolment = req.enrolment;
  return line;
}

export function checkRemoveLine(order: OrderState, lineId: string): void {
  requireAction(order, 'editLines', 'remove a line');
  findLine(order, lineId);
}

export function applyRemoveLine(order: OrderState, lineId: string): void {
  order.lines = order.lines.filter((l) => l.lineId !== lineId);
}

export function deliveryProblems(d: DeliveryContact | null): string[] {
  if (!d) return ['no delivery contact'];
  const problems: string[] = [];
  if (!d.name?.trim()) problems.push('delivery name is empty');
  if (!d.address.lines.some((l) => l.trim())) problems.push('address has no street line');
  if (!d.address.city?.trim()) problems.push('city is empty');
  if (!d.address.postcode?.trim()) problems.push('postcode is empty');
  if (!/^[A-Z]{2}$/.test(d.address.country ?? '')) problems.push('country must be an ISO 3166-1 alpha-2 code');
  return problems;
}

export function checkSetDelivery(order: OrderState, delivery: DeliveryContact): void {
  requireAction(order, 'setDelivery', 'change the delivery');
  const problems = deliveryProblems(delivery);
  if (problems.length) throw new DomainError('DELIVERY_ADDRESS_INVALID', `delivery is not valid: ${problems.join('; ')}`, { problems });
}

export function applySetDelivery(order: OrderState, delivery: DeliveryContact): void {
  order.delivery = delivery;
}

export function checkSetBillingMode(order: OrderState): void {
  requireAction(order, 'setBillingMode', 'change the billing mode');
}

export function applySetBillingMode(order: OrderState, mode: BillingMode): void {
  order.billingMode = mode;
}

export function checkGenerate(order: OrderState): void {
  requireAction(order, 'generate', 'generate');
  if (order.lines.length === 0) throw new DomainError('ORDER_HAS_NO_LINES', 'an order needs at least one line before it can be generated');
  const problems = deliveryProblems(order.delivery);
  if (problems.length) throw new DomainError('DELIVERY_ADDRESS_INVALID', `delivery is not valid: ${problems.join('; ')}`, { problems });
}

export type CancelOutcome = 'cancelled' | 'cancellationRequested';

/** Cancel takes effect at once until a sales order has started going to a warehouse. */
export function checkCancel(order: OrderState): CancelOutcome {
  requireAction(order, 'cancel', 'cancel');
  return order.sendStarted || order.status === 'AwaitingDispatch' ? 'cancellationRequested' : 'cancelled';
}

// ---- Dispatch: rows from the warehouse applied to sub-orders, idempotently. ----

export function rowKey(batchId: string, row: Pick<DispatchRow, 'rowNumber'>): string {
  return `${batchId}:${row.rowNumber}`;
}

/** A unit's identity across files, so the same unit reported twice is recorded once. */
function unitIdentity(u: { lineNumber: number; imei?: string; serialNumber?: string }): string | null {
  if (u.imei) return `imei:${u.imei}`;
  if (u.serialNumber) return `serial:${u.lineNumber}:${u.serialNumber}`;
  return null;
}

export function shippedQuantity(sub: SubOrder, lineNumber: number): number {
  return sub.units.filter((u) => u.lineNumber === lineNumber).reduce((n, u) => n + u.quantity, 0);
}

export interface ApplyRowsResult {
  applied: number;
  ignored: number;
}

/** Applies a batch's rows for this order. A row (or unit) seen before changes nothing. */
export function applyDispatchRows(order: OrderState, batchId: string, rows: DispatchRow[]): ApplyRowsResult {
  let applied = 0;
  let ignored = 0;
  const seenRows = new Set(order.subOrders.flatMap((s) => [...s.units, ...s.lineExceptions].map((u) => u.rowKey)));
  const seenUnits = new Set(order.subOrders.flatMap((s) => s.units.map(unitIdentity).filter((x): x is string => x !== null)));
  for (const row of rows) {
    const sub = order.subOrders.find((s) => s.subOrderNumber === row.subOrderNumber);
    const line = sub?.lines.find((l) => l.lineNumber === row.lineNumber);
    const key = rowKey(batchId, row);
    // A returned unit is its return's business (workflows/returns.ts), never the order's.
    if (!sub || !line || seenRows.has(key) || row.disposition === 'returned') {
      ignored++;
      continue;
    }
    if (row.disposition === 'shipped' || row.disposition === 'partial') {
      const identity = unitIdentity(row);
      if ((identity && seenUnits.has(identity)) || shippedQuantity(sub, row.lineNumber) + row.quantityShipped > line.quantity) {
        ignored++;
        continue;
      }
      sub.units.push({
        rowKey: key,
        batchId,
        lineNumber: row.lineNumber,
        sku: row.sku,
        quantity: row.quantityShipped,
        ...(row.serialNumber ? { serialNumber: row.serialNumber } : {}),
        ...(row.imei ? { imei: row.imei } : {}),
        ...(row.imei2 ? { imei2: row.imei2 } : {}),
        ...(row.carrier ? { carrier: row.carrier } : {}),
        ...(row.trackingNumber ? { trackingNumber: row.trackingNumber } : {}),
        ...(row.shipDate ? { shipDate: row.shipDate } : {}),
      });
      if (identity) seenUnits.add(identity);
    } else {
      sub.lineExceptions.push({
        rowKey: key,
        lineNumber: row.lineNumber,
        disposition: row.disposition,
        code: row.errorCode || (row.disposition === 'outOfStock' ? 'OUT_OF_STOCK' : row.disposition === 'cancelled' ? 'CANCELLED' : 'WAREHOUSE_ERROR'),
        message: row.errorMessage || `warehouse reported ${row.disposition} for line ${row.lineNumber} (${row.sku})`,
      });
    }
    seenRows.add(key);
    sub.status = subOrderStatus(sub);
    applied++;
  }
  return { applied, ignored };
}

/**
 * A sub-order stays Sent until every line is resolved: shipped in full, or closed by an error,
 * out-of-stock or cancelled row. Then: any error → Error; nothing shipped and all cancelled →
 * Cancelled; otherwise Shipped (what shipped is what the customer has).
 */
export function subOrderStatus(sub: SubOrder): SubOrder['status'] {
  if (sub.status === 'Pending') return 'Pending';
  const resolved = sub.lines.every((l) => shippedQuantity(sub, l.lineNumber) >= l.quantity || sub.lineExceptions.some((e) => e.lineNumber === l.lineNumber));
  if (!resolved) return 'Sent';
  const errors = sub.lineExceptions.filter((e) => e.disposition !== 'cancelled');
  if (errors.length) {
    sub.error ??= { code: errors[0].code, message: errors[0].message };
    return 'Error';
  }
  if (sub.units.length === 0) return 'Cancelled';
  return 'Shipped';
}

/** Where dispatch leaves the order once no sub-order is still waiting, or undefined while one is. */
export function dispatchOutcome(order: OrderState): OrderEvent | undefined {
  const subs = activeSubOrders(order);
  if (subs.length === 0 || subs.some((s) => s.status === 'Sent' || s.status === 'Pending')) return undefined;
  if (subs.some((s) => s.status === 'Error')) return 'dispatchError';
  if (subs.every((s) => s.status === 'Cancelled')) return 'cancellationConfirmed';
  // Some shipped, some cancelled: what shipped is what the customer has.
  return 'dispatchComplete';
}

/** The sub-orders that decide the order's outcome: all but those a resubmission replaced. */
export function activeSubOrders(order: Pick<OrderState, 'subOrders'>): SubOrder[] {
  return order.subOrders.filter((s) => !s.superseded);
}

/** Quantity shipped per order line across all sub-orders: what the customer is charged for. */
export function shippedByLine(order: OrderState): Map<number, number> {
  const out = new Map<number, number>();
  for (const sub of order.subOrders) for (const u of sub.units) out.set(u.lineNumber, (out.get(u.lineNumber) ?? 0) + u.quantity);
  return out;
}
