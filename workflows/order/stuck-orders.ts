// Orders stuck Awaiting Dispatch: each sub-order has DISPATCH_SLA (per warehouse) from its send to
// be dispatched, and a cancellation CANCEL_ANSWER_TIMEOUT to be answered; past that the order is
// flagged for ops (NeedsAttention dispatchOverdue / cancellationUnanswered), who can resend the
// sales order (purpose `resend`, same sub-order numbers), resend the cancellation, or close.
// The handlers change the order; awaitDispatch (dispatch.ts) sends what they queued.
import { setHandler } from '@temporalio/workflow';
import * as exceptions from '../../domain/order-exceptions';
import * as history from '../../domain/order-history';
import type { SubOrder } from '../../domain/types';
import { resendCancellationUpdate, resendUpdate } from '../messages';
import { localSteps } from './activities';
import { validate } from './agent-actions';
import type { OrderRecord } from './record';
import { SYSTEM } from './record';
import { sendSalesOrders } from './sales-order-request';

/** What ops asked to send again, sent by the Awaiting Dispatch loop. */
export class StuckOrders {
  private readonly queued: { purpose: 'resend' | 'cancel'; subs: SubOrder[] }[] = [];
  /** Ops closed the order while its cancellation went unanswered: the outcome is theirs. */
  closedBy: { by: string; reason: string } | null = null;

  constructor(private readonly record: OrderRecord) {}

  queue(purpose: 'resend' | 'cancel', subs: SubOrder[]): void {
    this.queued.push({ purpose, subs });
  }

  hasQueued(): boolean {
    return this.queued.length > 0;
  }

  async sendQueued(): Promise<void> {
    for (let next = this.queued.shift(); next; next = this.queued.shift()) {
      const refused = await sendSalesOrders(this.record, next.purpose, next.subs);
      if (refused) this.record.commit({ by: SYSTEM, reason: `${next.purpose === 'resend' ? 'resend' : 'cancellation'} refused by the warehouse: ${refused}` });
    }
  }

  /** The deadlines read with the allocation of the sales orders just sent. */
  private deadlines: exceptions.DispatchDeadlines | null = null;

  deadlinesOfAllocation(deadlines: exceptions.DispatchDeadlines): void {
    this.deadlines = deadlines;
  }

  /** The deadlines in force: those read with the allocation, else (an order with none in this run) read now. */
  async policy(): Promise<exceptions.StuckOrderPolicy> {
    const p = this.deadlines ?? (await this.record.inStep(localSteps.stuckOrderPolicy()));
    return { dispatchSlaMs: (w) => p.dispatchSlaMs[w] ?? p.defaultDispatchSlaMs, cancelAnswerTimeoutMs: p.cancelAnswerTimeoutMs };
  }
}

export function handleStuckOrderActions(record: OrderRecord, stuck: StuckOrders): void {
  const { order } = record;
  setHandler(
    resendUpdate,
    (req) => {
      const subs = exceptions.applyResend(order, record.now());
      stuck.queue('resend', subs);
      record.commit({ by: req.by, reason: `sales order resent to ${subs.map((s) => s.warehouseId).join(', ')}: ${req.reason}`, ...history.requestOf(req) });
      return record.view();
    },
    { validator: (_req) => validate(() => exceptions.checkResend(order)) },
  );
  setHandler(
    resendCancellationUpdate,
    (req) => {
      exceptions.applyResendCancellation(order, record.now());
      stuck.queue(
        'cancel',
        order.subOrders.filter((s) => s.status === 'Sent' && !s.superseded),
      );
      record.commit({ by: req.by, reason: `cancellation resent: ${req.reason}`, ...history.requestOf(req) });
      return record.view();
    },
    { validator: (_req) => validate(() => exceptions.checkResendCancellation(order)) },
  );
}
