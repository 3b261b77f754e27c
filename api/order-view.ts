// The order as agents read it: its read model, or 404 ORDER_NOT_FOUND. The read model holds a New
// order as it was opened; its workflow writes it again once it has left New and the generate's
// Sales Order Request job rests (sent, waiting, failed or cancelled). Until then the order is read
// from the workflow itself (the getOrder query) when `live` is given.
import type { Client } from '@temporalio/client';
import type { Db } from '../infra/db';
import { getOrderQuery, orderWorkflowId, type OrderView } from '../workflows/messages';
import { apiError } from './errors';

export async function readOrderView(db: Db, orderId: string, live?: Client): Promise<OrderView> {
  const stored = await storedView(db, orderId);
  if (!stored) throw apiError('ORDER_NOT_FOUND', `no order ${orderId}`);
  return live ? currentView(db, stored, live) : stored;
}

/** A stored view as it is now: a New order's from its workflow, any other as stored. */
export async function currentView(db: Db, stored: OrderView, live: Client): Promise<OrderView> {
  if (stored.status !== 'New') return stored;
  try {
    return await live.workflow.getHandle(orderWorkflowId(stored.orderId)).query(getOrderQuery);
  } catch (err) {
    // Cancelled since it was read and its workflow already gone: the read model has it by now.
    const again = await storedView(db, stored.orderId);
    if (again && again.status !== 'New') return again;
    throw err;
  }
}

async function storedView(db: Db, orderId: string): Promise<OrderView | undefined> {
  return (await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean())?.state as OrderView | undefined;
}
