// What about an order needs ops' attention: the order kinds of the ops work queue.
// Pure. Today's flags only (fraud review, backorder, Error); dispatch and cancellation deadlines
// add theirs here.
import type { OrderState } from './order-state';

export const ORDER_ATTENTION_KINDS = ['fraudReview', 'backordered', 'error', 'dispatchOverdue', 'cancellationUnanswered'] as const;
export type OrderAttention = (typeof ORDER_ATTENTION_KINDS)[number];

export function needsAttentionOf(order: Pick<OrderState, 'status' | 'fraud' | 'backorder'>): OrderAttention[] {
  const flags: OrderAttention[] = [];
  if (order.status === 'AwaitingGeneration' && order.fraud?.awaitingReview && !order.fraud.review) flags.push('fraudReview');
  if (order.status === 'AwaitingGeneration' && order.backorder) flags.push('backordered');
  if (order.status === 'Error') flags.push('error');
  return flags;
}

/** Everything the ops work queue lists: the orders' flags, unresolved adaptor exceptions, failed enrolments. */
export const WORK_QUEUE_KINDS = [...ORDER_ATTENTION_KINDS, 'adaptorException', 'enrolmentFailed'] as const;
export type WorkQueueKind = (typeof WORK_QUEUE_KINDS)[number];
