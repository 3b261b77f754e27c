// The order's exception paths, pure: resolving an order in Error (resubmit what did not ship, or
// close it), orders stuck Awaiting Dispatch (the dispatch SLA, resending the sales order, a
// cancellation the warehouse never answers), and the flags ops filter on (NeedsAttention). The
// workflow (workflows/order/resolution.ts, stuck-orders.ts) and the API ask these rules.
import type { AllocationLine } from './allocation';
import { DomainError } from './errors';
import { ATTENTION_FLAGS, type AttentionFlag } from './needs-attention';
import { activeSubOrders, allowedActions, deliveryProblems, shippedQuantity, type OrderState } from './order-state';
import type { DeliveryContact, SubOrder } from './types';

export { ATTENTION_FLAGS, type AttentionFlag };

export function needsAttention(order: OrderState): AttentionFlag[] {
  const open = (s: SubOrder) => s.status === 'Sent' && !s.superseded;
  const on: Record<AttentionFlag, boolean> = {
    fraudReview: order.status === 'AwaitingGeneration' && !!order.fraud?.awaitingReview && !order.fraud.review,
    backordered: order.status === 'AwaitingGeneration' && order.backorder !== null,
    error: order.status === 'Error' && !order.errorResolution?.closed,
    dispatchOverdue: order.status === 'AwaitingDispatch' && !order.cancellationRequested && order.subOrders.some((s) => open(s) && s.overdue),
    cancellationUnanswered: order.status === 'AwaitingDispatch' && !!order.cancellation?.unanswered,
  };
  return ATTENTION_FLAGS.filter((f) => on[f]);
}

function refuse(order: OrderState, what: string): never {
  throw new DomainError('INVALID_TRANSITION', `cannot ${what}: order ${order.orderId} is ${order.status}`, { status: order.status });
}

function requireOpsAction(order: OrderState, action: 'resubmit' | 'close' | 'resend' | 'resendCancellation', what: string): void {
  if (!allowedActions(order).includes(action)) {
    if (order.status === 'Error' && order.errorResolution?.closed) {
      throw new DomainError('INVALID_TRANSITION', `cannot ${what}: order ${order.orderId} was closed as Error`, { status: order.status });
    }
    refuse(order, what);
  }
}

// ---- Error is resolvable ----

/**
 * What a resubmission sends again: per warehouse line, the quantity not shipped and not still with
 * a warehouse (a sub-order still Sent, e.g. waiting for a cancellation's answer, holds its part).
 */
export function outstandingLines(order: OrderState): AllocationLine[] {
  const out: AllocationLine[] = [];
  for (const line of order.lines) {
    if (line.kind === 'softwareLicence') continue;
    let covered = 0;
    for (const sub of order.subOrders) {
      covered += shippedQuantity(sub, line.lineNumber);
      const held = sub.status === 'Sent' && !sub.superseded ? sub.lines.find((l) => l.lineNumber === line.lineNumber) : undefined;
      if (held) covered += Math.max(0, held.quantity - shippedQuantity(sub, line.lineNumber));
    }
    if (line.quantity > covered) out.push({ lineNumber: line.lineNumber, sku: line.sku, quantity: line.quantity - covered });
  }
  return out;
}

export interface ResubmitPlan {
  /** A corrected delivery that differs from the order's: the fraud check runs again. */
  addressChanged: boolean;
  lines: AllocationLine[];
}

const sameDelivery = (a: DeliveryContact | null, b: DeliveryContact) => JSON.stringify(a) === JSON.stringify(b);

export function checkResubmit(order: OrderState, delivery?: DeliveryContact): ResubmitPlan {
  requireOpsAction(order, 'resubmit', 'resubmit');
  if (delivery) {
    const problems = deliveryProblems(delivery);
    if (problems.length) throw new DomainError('DELIVERY_ADDRESS_INVALID', `delivery is not valid: ${problems.join('; ')}`, { problems });
  }
  const addressChanged = !!delivery && !sameDelivery(order.delivery, delivery);
  if (order.error?.code === 'FRAUD_REJECTED' && !addressChanged) {
    throw new DomainError('DELIVERY_CHANGE_REQUIRED', `order ${order.orderId} failed the fraud check: resubmit it with a corrected delivery address`);
  }
  const lines = outstandingLines(order);
  if (!lines.length && !licencesMissing(order)) {
    throw new DomainError('NOTHING_TO_RESUBMIT', `order ${order.orderId} has nothing left to send: every unit shipped or is still with a warehouse`);
  }
  return { addressChanged, lines };
}

/** Software lines whose licences were never provisioned (the order failed before that step). */
export const licencesMissing = (order: OrderState) => order.lines.some((l) => l.kind === 'softwareLicence') && order.licences.length === 0;

/**
 * Readies the order for its next resubmission (the workflow then moves it with `resubmit`): the
 * corrected delivery, the resolved sub-orders set aside (their shipments stay billed and enrolled),
 * the error cleared. Cancelling is immediate again unless a warehouse still holds a part.
 */
export function applyResubmit(order: OrderState, delivery?: DeliveryContact): number {
  if (delivery) order.delivery = delivery;
  for (const sub of order.subOrders) if (sub.status !== 'Sent') sub.superseded = true;
  order.error = null;
  order.errorResolution = null;
  order.sendStarted = order.subOrders.some((s) => s.status === 'Sent' && !s.superseded);
  return ++order.resubmissions;
}

/** The sub-order number of a resubmission's sub-order: `<orderId>-<warehouseId>-R<n>`. */
export const resubmittedSubOrderNumber = (orderId: string, warehouseId: string, n: number) => `${orderId}-${warehouseId}-R${n}`;

/** Close: an order in Error accepted as it is, or an order whose cancellation the warehouse never answered. */
export function checkClose(order: OrderState): void {
  requireOpsAction(order, 'close', 'close');
}

/**
 * Closing an order whose cancellation went unanswered: the sub-orders still open count as
 * cancelled (ops' decision, in the history), and the order's outcome follows from its sub-orders.
 */
export function applyCloseUnanswered(order: OrderState): string[] {
  const closed = activeSubOrders(order).filter((s) => s.status === 'Sent');
  for (const sub of closed) sub.status = 'Cancelled';
  if (order.cancellation) order.cancellation.unanswered = false;
  return closed.map((s) => s.subOrderNumber);
}

// ---- Stuck orders ----

export function checkResend(order: OrderState): void {
  requireOpsAction(order, 'resend', 'resend the sales order');
}

/** The sub-orders whose sales order goes out again; their SLA starts again from `at`. */
export function applyResend(order: OrderState, at: string): SubOrder[] {
  const subs = activeSubOrders(order).filter((s) => s.status === 'Sent');
  for (const sub of subs) {
    sub.resends = (sub.resends ?? 0) + 1;
    sub.sentAt = at;
    delete sub.dispatchDueBy;
    sub.overdue = false;
  }
  return subs;
}

export function checkResendCancellation(order: OrderState): void {
  requireOpsAction(order, 'resendCancellation', 'resend the cancellation');
}

/** The cancellation goes out again (the n-th send); its answer is awaited afresh. */
export function applyResendCancellation(order: OrderState, at: string): number {
  const c = order.cancellation!;
  c.sends++;
  c.sentAt = at;
  c.unanswered = false;
  delete c.answerDueBy;
  return c.sends;
}

/** DISPATCH_SLA (with each warehouse's own) and CANCEL_ANSWER_TIMEOUT in ms, as configuration gives them. */
export interface DispatchDeadlines {
  defaultDispatchSlaMs: number;
  dispatchSlaMs: Record<string, number>;
  cancelAnswerTimeoutMs: number;
}

export interface StuckOrderPolicy {
  /** DISPATCH_SLA for a warehouse (its override or the default), ms. */
  dispatchSlaMs(warehouseId: string): number;
  cancelAnswerTimeoutMs: number;
}

/** Sets the deadlines not set yet (after a send or a resend); true when something changed. */
export function stampDeadlines(order: OrderState, policy: StuckOrderPolicy, now: string): boolean {
  let changed = false;
  const at = (from: string | undefined, ms: number) => new Date(Date.parse(from ?? now) + ms).toISOString();
  for (const sub of activeSubOrders(order)) {
    if (sub.status === 'Sent' && !sub.dispatchDueBy) {
      sub.dispatchDueBy = at(sub.sentAt, policy.dispatchSlaMs(sub.warehouseId));
      changed = true;
    }
  }
  const c = order.cancellation;
  if (c && !c.answerDueBy) {
    c.answerDueBy = at(c.sentAt, policy.cancelAnswerTimeoutMs);
    changed = true;
  }
  return changed;
}

/** True when a deadline is missing (a send or resend just happened): the workflow stamps it. */
export function deadlinesToStamp(order: OrderState): boolean {
  return activeSubOrders(order).some((s) => s.status === 'Sent' && !s.dispatchDueBy) || (!!order.cancellation && !order.cancellation.answerDueBy);
}

/** The next deadline still to pass (ms since the epoch), if any. */
export function nextDeadline(order: OrderState): number | undefined {
  const times: string[] = [];
  if (!order.cancellationRequested) {
    for (const s of activeSubOrders(order)) if (s.status === 'Sent' && s.dispatchDueBy && !s.overdue) times.push(s.dispatchDueBy);
  }
  const c = order.cancellation;
  if (c?.answerDueBy && !c.unanswered) times.push(c.answerDueBy);
  return times.length ? Math.min(...times.map(Date.parse)) : undefined;
}

/** Flags what passed its deadline by `now`; returns a history note for each newly flagged thing. */
export function flagPastDeadlines(order: OrderState, now: string): string[] {
  const t = Date.parse(now);
  const notes: string[] = [];
  if (!order.cancellationRequested) {
    for (const s of activeSubOrders(order)) {
      if (s.status === 'Sent' && s.dispatchDueBy && !s.overdue && Date.parse(s.dispatchDueBy) <= t) {
        s.overdue = true;
        notes.push(`dispatch overdue: ${s.warehouseId} has not dispatched ${s.subOrderNumber} (due by ${s.dispatchDueBy})`);
      }
    }
  }
  const c = order.cancellation;
  if (c?.answerDueBy && !c.unanswered && Date.parse(c.answerDueBy) <= t && activeSubOrders(order).some((s) => s.status === 'Sent')) {
    c.unanswered = true;
    notes.push(`cancellation unanswered: no answer from the warehouse by ${c.answerDueBy}`);
  }
  return notes;
}
