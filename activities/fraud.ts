import { ApplicationFailure, Context } from '@temporalio/activity';
import { msToNumber, type Duration } from '@temporalio/common';
import { decideFraudCheck } from '../domain/fraud';
import type { DeliveryContact, FraudCheckResult } from '../domain/types';
import { isDuplicateKey } from '../infra/db';
import type { FraudCheckRequest } from '../infra/fraud-providers';
import type { ActivityDeps } from './index';

export function fraudActivities({ db, config, fraudProvider }: ActivityDeps) {
  const { OrderView, FraudDecision } = db.models;
  return {
    /** The fraud policy: does this order need a fraud check, and why. */
    async assessFraudRisk(input: { orderId: string; accountId: string; delivery: DeliveryContact; orderGross: number }) {
      const account = await db.reference.account(input.accountId);
      if (!account) throw ApplicationFailure.nonRetryable(`account ${input.accountId} not found`, 'ACCOUNT_NOT_FOUND');
      // Every generated order passes here once: the provider's velocity rule counts it from now on.
      await fraudProvider.noteGeneratedOrder?.({ orderId: input.orderId, delivery: input.delivery, at: new Date() });
      // Asked only when the policy uses it; exists() stops at the first match, where a count would
      // read every order of the account (on FerretDB, every order) for a yes/no question.
      const hasPreviousOrders =
        !(config.fraud.enabled && config.fraud.checkFirstOrder) ||
        (await OrderView.exists({ accountId: input.accountId, _id: { $ne: input.orderId }, status: { $in: ['AwaitingDispatch', 'Complete'] } })) !== null;
      const decision = decideFraudCheck(
        { delivery: input.delivery, billingAddress: account.billingAddress as never, orderGross: input.orderGross, hasPreviousOrders },
        config.fraud,
      );
      return { ...decision, reviewDeadline: config.fraud.reviewDeadline, reviewDeadlineMs: msToNumber(config.fraud.reviewDeadline as Duration) };
    },

    /**
     * Asks the fraud provider once per check id: the decision is stored under that id, so a retry
     * or a replay after a crash returns the recorded decision rather than asking again. A check id
     * is scheduled once (`<orderId>:fraud`, `…:R<n>`), so its first attempt asks without reading:
     * should it meet a recorded decision (a workflow reset), that decision still wins, and the
     * provider saw the same idempotency key.
     */
    async runFraudCheck(req: FraudCheckRequest): Promise<FraudCheckResult> {
      if (!isFirstAttempt()) {
        const existing = await FraudDecision.findOne({ _id: req.checkId }).lean();
        if (existing) return toResult(existing);
      }
      const answer = await fraudProvider.check(req);
      const record = { checkId: req.checkId, orderId: req.orderId, ...answer, provider: fraudProvider.name, checkedAt: new Date().toISOString() };
      try {
        await FraudDecision.create({ _id: req.checkId, ...record });
        return toResult(record);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        return toResult((await FraudDecision.findOne({ _id: req.checkId }).lean())!);
      }
    },
  };
}

/** The activity's first attempt; false for a retry, and outside an activity (a test driving it directly), where nothing says so. */
function isFirstAttempt(): boolean {
  try {
    return Context.current().info.attempt === 1;
  } catch {
    return false;
  }
}

function toResult(d: {
  decision: string;
  reasons?: string[] | null;
  provider?: string | null;
  providerReference?: string | null;
  checkedAt?: string | null;
}): FraudCheckResult {
  return {
    decision: d.decision as FraudCheckResult['decision'],
    reasons: [...(d.reasons ?? [])],
    provider: d.provider ?? 'unknown',
    providerReference: d.providerReference ?? '',
    checkedAt: d.checkedAt ?? '',
  };
}
