// Awaiting Dispatch: the Sales Order Dispatch job signals each order with its rows of a warehouse
// response file, until every sub-order is resolved (Complete, Error or Cancelled). Meanwhile the
// dispatch SLA and a cancellation's answer are watched (stuck-orders.ts).
import { condition, log, setHandler } from '@temporalio/workflow';
import * as exceptions from '../../domain/order-exceptions';
import * as rules from '../../domain/order-state';
import { dispatchResultSignal } from '../messages';
import { SYSTEM, type OrderRecord } from './record';
import { sendSalesOrders } from './sales-order-request';
import type { StuckOrders } from './stuck-orders';

export function handleDispatchResults(record: OrderRecord): void {
  setHandler(dispatchResultSignal, ({ batchId, rows }) => {
    const { applied, ignored } = rules.applyDispatchRows(record.order, batchId, rows);
    if (applied) record.commit();
    if (ignored) log.info('dispatch rows ignored as already applied or not ours', { batchId, applied, ignored });
  });
}

/** Waits for the warehouses' results; an agent's cancellation request is passed on to them. */
export async function awaitDispatch(record: OrderRecord, stuck: StuckOrders): Promise<void> {
  const { order } = record;
  const policy = await stuck.policy();
  const cancellationToSend = () => order.cancellationRequested && !order.cancellation;
  for (;;) {
    if (exceptions.stampDeadlines(order, policy, record.now())) record.commit();
    const next = exceptions.nextDeadline(order);
    const woken = () => rules.dispatchOutcome(order) !== undefined || cancellationToSend() || stuck.hasQueued() || exceptions.deadlinesToStamp(order);
    if (!(next === undefined ? (await condition(woken), true) : await condition(woken, Math.max(1, next - Date.now())))) {
      for (const note of exceptions.flagPastDeadlines(order, record.now())) record.commit({ by: SYSTEM, reason: note });
      continue;
    }
    if (cancellationToSend()) {
      order.cancellation = { sentAt: record.now(), unanswered: false, sends: 1 };
      await sendSalesOrders(record, 'cancel', rules.activeSubOrders(order));
      continue;
    }
    if (stuck.hasQueued()) {
      await stuck.sendQueued();
      continue;
    }
    const outcome = rules.dispatchOutcome(order);
    if (!outcome) continue;
    const errored = rules.activeSubOrders(order).find((s) => s.status === 'Error');
    if (errored?.error) order.error = errored.error;
    const closed = stuck.closedBy;
    if (closed) record.move(outcome, closed.by, `closed with the cancellation unanswered: ${closed.reason}`);
    else
      record.move(
        outcome,
        SYSTEM,
        outcome === 'dispatchError' ? `warehouse ${errored!.warehouseId}: ${errored!.error?.code}` : 'warehouse dispatch results applied',
      );
    return;
  }
}
