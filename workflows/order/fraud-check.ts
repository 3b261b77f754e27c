// The fraud check of the delivery name and address, when the fraud policy asks for one: accept,
// reject, or refer to ops, who decide before a deadline or the order is rejected.
import { condition } from '@temporalio/workflow';
import { localSteps, outsideSteps } from './activities';
import { jobStep } from './job-step';
import type { OrderRecord } from './record';

/** True when the order may go to the warehouse; otherwise the order has failed. */
/** `checkId`: one per check (`<orderId>:fraud`, `…:fraud:R<n>` for a resubmission's), the provider's idempotency key. */
export async function fraudCheckPasses(record: OrderRecord, checkId: string): Promise<boolean> {
  const { order } = record;
  const policy = await jobStep(
    record.inStep(
      localSteps.assessFraudRisk({ orderId: order.orderId, accountId: order.accountId, delivery: order.delivery!, orderGross: record.view().totals.gross }),
    ),
  );
  order.fraud = { required: policy.required, reasons: policy.reasons };
  record.commit();
  if (!policy.required) return true;

  const result = await jobStep(outsideSteps.runFraudCheck({ checkId, orderId: order.orderId, accountId: order.accountId, delivery: order.delivery! }));
  const fraud = order.fraud;
  fraud.result = result;
  record.commit({
    by: `fraud:${result.provider}`,
    reason: `fraud check ${result.decision}${result.reasons.length ? `: ${result.reasons.join(', ')}` : ''} (reference ${result.providerReference || 'none'})`,
  });
  if (result.decision === 'accept') return true;
  if (result.decision === 'reject') {
    record.fail('FRAUD_REJECTED', `fraud check rejected the delivery: ${result.reasons.join(', ') || 'no reason given'}`);
    return false;
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
    return false;
  }
  if (fraud.review!.decision === 'reject') {
    record.fail('FRAUD_REJECTED', `fraud review rejected by ${fraud.review!.by}: ${fraud.review!.reason}`);
    return false;
  }
  return true;
}
