// The fraud check of the delivery name and address, when the fraud policy asks for one: accept,
// reject, or refer to ops, who decide before a deadline or the order is rejected.
import { condition } from '@temporalio/workflow';
import { outsideSteps, type localSteps } from './activities';
import { jobStep } from './job-step';
import type { OrderRecord } from './record';

/** The fraud policy's verdict on the order (asked with the stock, sales-order-request.ts). */
export type FraudPolicy = NonNullable<Awaited<ReturnType<typeof localSteps.prepareSalesOrderRequest>>['fraudPolicy']>;

/** The order as the fraud check needs it: the policy weighs the delivery against the account's and the value. */
export const fraudRiskOf = (record: OrderRecord) => {
  const { order } = record;
  return { orderId: order.orderId, accountId: order.accountId, delivery: order.delivery!, orderGross: record.view().totals.gross };
};

/**
 * `passed`: the order may go to the warehouse (`afterReview` when ops had to decide first); otherwise
 * the order has failed. `checkId`: one per check (`<orderId>:fraud`, `…:fraud:R<n>` for a
 * resubmission's), the provider's idempotency key.
 */
export async function fraudCheck(record: OrderRecord, checkId: string, policy: FraudPolicy): Promise<{ passed: boolean; afterReview: boolean }> {
  const { order } = record;
  order.fraud = { required: policy.required, reasons: policy.reasons };
  record.commit();
  if (!policy.required) return { passed: true, afterReview: false };

  const result = await jobStep(
    record.inOutsideStep(outsideSteps.runFraudCheck({ checkId, orderId: order.orderId, accountId: order.accountId, delivery: order.delivery! })),
  );
  const fraud = order.fraud;
  fraud.result = result;
  record.commit({
    by: `fraud:${result.provider}`,
    reason: `fraud check ${result.decision}${result.reasons.length ? `: ${result.reasons.join(', ')}` : ''} (reference ${result.providerReference || 'none'})`,
  });
  if (result.decision === 'accept') return { passed: true, afterReview: false };
  if (result.decision === 'reject') {
    record.fail('FRAUD_REJECTED', `fraud check rejected the delivery: ${result.reasons.join(', ') || 'no reason given'}`);
    return { passed: false, afterReview: false };
  }

  // Referred: ops decide (the fraud review update) before the deadline.
  fraud.awaitingReview = { since: record.now(), deadline: new Date(Date.now() + policy.reviewDeadlineMs).toISOString() };
  record.commit();
  let decided: boolean;
  try {
    decided = await jobStep(condition(() => !!fraud.review, policy.reviewDeadlineMs));
  } finally {
    // Decided, timed out or cancelled: the order leaves the fraud review queue.
    delete fraud.awaitingReview;
    record.commit();
  }
  if (!decided) {
    record.fail('FRAUD_REJECTED', `fraud review not decided within ${policy.reviewDeadline}`);
    return { passed: false, afterReview: true };
  }
  if (fraud.review!.decision === 'reject') {
    record.fail('FRAUD_REJECTED', `fraud review rejected by ${fraud.review!.by}: ${fraud.review!.reason}`);
    return { passed: false, afterReview: true };
  }
  return { passed: true, afterReview: true };
}
