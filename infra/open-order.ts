// Opening an order: its id and its workflow started (status New). The API opens an agent's order;
// an exchange's replacement order is opened wherever its return is carried out (infra/return-start.ts).
import { createHash, randomBytes } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Account, BillingMode, DeliveryContact } from '../domain/types';
import { AccountIdAttr, BillingModeAttr, OrderStatusAttr, attr, getOrderQuery, openedUpdate, orderWorkflowId, type OrderView } from '../workflows/messages';
import type { Config } from './config';
import type { Db } from './db';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** ORD- and 10 Crockford base-32 characters: from the seed (an idempotency key, an exchange's RMA) when given, else random. */
export function newOrderId(seed?: string): string {
  const bytes = seed ? createHash('sha256').update(seed).digest() : randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += CROCKFORD[bytes[i] % 32];
  return `ORD-${out}`;
}

/**
 * Starts an order's workflow (status New) and answers with its view once the read model has it.
 * A retried start whose order has since closed answers with that order and starts nothing.
 */
export async function openOrder(
  { config, db, temporal }: { config: Config; db: Db; temporal: Client },
  o: { orderId: string; account: Account; createdBy: string; requestId?: string; delivery: DeliveryContact; billingMode: BillingMode },
): Promise<OrderView> {
  const { orderId, account } = o;
  const startOp = new WithStartWorkflowOperation('orderWorkflow', {
    workflowId: orderWorkflowId(orderId),
    taskQueue: config.temporal.taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    // An order id is never reused, even after its workflow closed.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [
      {
        orderId,
        accountId: account.accountId,
        currency: account.currency,
        createdBy: o.createdBy,
        ...(o.requestId ? { requestId: o.requestId } : {}),
        delivery: o.delivery,
        billingMode: o.billingMode,
      },
    ],
    typedSearchAttributes: [attr(OrderStatusAttr, 'New'), attr(AccountIdAttr, account.accountId), attr(BillingModeAttr, o.billingMode)],
    staticSummary: `Hardware order ${orderId} on account ${account.accountId}`,
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(openedUpdate, { startWorkflowOperation: startOp });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const existing = await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
    // Its read model not written (yet): the closed workflow answers for itself.
    return (existing?.state as OrderView | undefined) ?? (await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery));
  }
}
