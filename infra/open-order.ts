// Opening an order: its id and its workflow started (status New). The API opens an agent's order;
// an exchange's replacement order is opened wherever its return is carried out (infra/return-start.ts).
import { createHash, randomBytes } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { newOrder } from '../domain/order-state';
import type { Account, BillingMode, DeliveryContact } from '../domain/types';
import { AccountIdAttr, BillingModeAttr, OrderStatusAttr, attr, getOrderQuery, orderWorkflowId, type OrderView } from '../workflows/messages';
import type { OrderWorkflowInput } from '../workflows/order';
import { viewOf } from '../workflows/order/record';
import { storeOpenedOrder } from './store/order-views';
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
 * Opens an order: starts its workflow (status New) and stores its read model as opened, then
 * answers with that view. The workflow writes the read model again once the order leaves New.
 * A retried open whose workflow exists (running or closed) answers with that order and starts
 * nothing; it stores the read model if the first attempt did not get that far.
 */
export async function openOrder(
  { config, db, temporal }: { config: Config; db: Db; temporal: Client },
  o: { orderId: string; account: Account; createdBy: string; requestId?: string; delivery: DeliveryContact; billingMode: BillingMode },
): Promise<OrderView> {
  const { orderId, account } = o;
  const input: OrderWorkflowInput = {
    orderId,
    accountId: account.accountId,
    currency: account.currency,
    createdBy: o.createdBy,
    ...(o.requestId ? { requestId: o.requestId } : {}),
    delivery: o.delivery,
    billingMode: o.billingMode,
    openedAt: new Date().toISOString(),
  };
  try {
    await temporal.workflow.start('orderWorkflow', {
      workflowId: orderWorkflowId(orderId),
      taskQueue: config.temporal.taskQueue,
      // An order id is never reused, even after its workflow closed.
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [input],
      typedSearchAttributes: [attr(OrderStatusAttr, 'New'), attr(AccountIdAttr, account.accountId), attr(BillingModeAttr, o.billingMode)],
      staticSummary: `Hardware order ${orderId} on account ${account.accountId}`,
    });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const existing = await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
    if (existing) return existing.state as OrderView;
    const view = await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery);
    if (view.status === 'New') await storeOpenedOrder(db, view);
    return view;
  }
  const view = viewOf(newOrder(input, input.openedAt));
  await storeOpenedOrder(db, view);
  return view;
}
