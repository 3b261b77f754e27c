// Carrying out an authorised return once it is numbered: its units held, an exchange's replacement
// order opened, and its workflow `return-<rmaId>` started. The API does it right after numbering;
// the orphaned returns job (workflows/orphaned-returns.ts) does it for a return the API numbered and
// then crashed before starting. Either may find the other's work done: a unit held by this return
// counts as held, the replacement order's id and its lines' update ids come from the RMA, and a
// workflow already started under the return's id is its own.
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { DomainError } from '../domain/errors';
import { returnWorkflowId, type ReturnUnit, type ReturnView } from '../domain/returns';
import { keepAnswer, newestView } from './store/order-views';
import { addLineUpdate, orderWorkflowId } from '../workflows/messages';
import type { returnWorkflow } from '../workflows/returns';
import type { Config } from './config';
import type { Db } from './db';
import { newOrderId, openOrder } from './open-order';
import { returnsStore } from './store/returns';

export interface ReturnStartDeps {
  config: Config;
  db: Db;
  temporal: Client;
}

/** What carrying out the return came to: its workflow started now, or found started already. */
export type ReturnStartOutcome = 'started' | 'alreadyStarted';

/**
 * Holds the return's units, opens an exchange's replacement order, starts the return's workflow.
 * A unit another return holds refuses this one (it keeps its number, `refused`): UNIT_ALREADY_RETURNED.
 */
export async function startReturn(deps: ReturnStartDeps, given: ReturnView): Promise<{ ret: ReturnView; outcome: ReturnStartOutcome }> {
  const { config, db, temporal } = deps;
  const { Return } = db.models;
  const store = returnsStore(db);
  let ret = given;
  const unitIds = ret.units.map((u) => u.unitId);
  const taken = await store.hold(ret.orderId, ret.rmaId, unitIds);
  if (taken.length) {
    const refusal = { code: 'UNIT_ALREADY_RETURNED', message: `unit ${taken.join(', ')} is already returned or being returned` };
    await store.release(ret.orderId, ret.rmaId, unitIds);
    await Return.updateOne({ _id: ret.rmaId }, { $set: { status: 'refused', refusal, updatedAt: new Date().toISOString() } });
    throw new DomainError('UNIT_ALREADY_RETURNED', refusal.message, { units: taken, rmaId: ret.rmaId });
  }
  if (ret.exchange && !ret.replacementOrderId) {
    const replacementOrderId = await replacementOrder(deps, ret);
    ret = { ...ret, replacementOrderId };
    await Return.updateOne({ _id: ret.rmaId }, { $set: { replacementOrderId } });
  }
  // The receipt wait ends when the return's record says, however late its workflow starts.
  const receiptWaitMs = Math.max(1, Date.parse(ret.expiresAt) - Date.now());
  try {
    await temporal.workflow.start<typeof returnWorkflow>('returnWorkflow', {
      workflowId: returnWorkflowId(ret.rmaId),
      taskQueue: config.temporal.taskQueue,
      // A number is handed out once: a workflow under its id is this return's own (the API's start, or the job's).
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [{ ret, receiptWaitMs }],
      staticSummary: `Return ${ret.rmaId} of ${ret.units.length} unit(s) of order ${ret.orderId} (${ret.reason})`,
    });
    return { ret, outcome: 'started' };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { ret, outcome: 'alreadyStarted' };
  }
}

/** An exchange: a New order on the same account and delivery, the returned units' lines at their captured prices. */
async function replacementOrder(deps: ReturnStartDeps, ret: ReturnView): Promise<string> {
  const { db, temporal } = deps;
  const stored = await db.models.OrderView.findOne({ _id: ret.orderId }, { state: 1, answered: 1 }).lean();
  const order = stored ? newestView(stored) : undefined;
  if (!order) throw new DomainError('ORDER_NOT_FOUND', `no order ${ret.orderId}`);
  const account = await db.reference.account(order.accountId);
  if (!account) throw new DomainError('ACCOUNT_NOT_FOUND', `no account ${order.accountId}`);
  const orderId = newOrderId(`exchange:${ret.rmaId}`);
  const by = ret.requestedBy;
  await openOrder(deps, { orderId, account, createdBy: by, delivery: order.delivery ?? account.defaultDelivery, billingMode: order.billingMode });
  const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
  const byLine = new Map<number, number>();
  for (const u of ret.units as ReturnUnit[]) byLine.set(u.lineNumber, (byLine.get(u.lineNumber) ?? 0) + 1);
  for (const [lineNumber, quantity] of byLine) {
    const line = order.lines.find((l) => l.lineNumber === lineNumber)!;
    const product = await db.reference.product(line.sku);
    if (!product) throw new DomainError('PRODUCT_NOT_FOUND', `no product ${line.sku} in the catalogue`);
    // The captured price, not today's: charged when it ships, while the returned unit is credited.
    const view = await handle.executeUpdate(addLineUpdate, {
      args: [{ product: { ...product, unitPrice: line.unitPrice, taxRateBps: line.taxRateBps }, quantity, by }],
      updateId: `exchange:${ret.rmaId}:${lineNumber}`,
    });
    await keepAnswer(db, view);
  }
  return orderId;
}
