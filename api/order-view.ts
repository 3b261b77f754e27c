// The order as agents read it: its read model, or 404 ORDER_NOT_FOUND. The API stores a new order as
// opened and keeps every update's answer beside the workflow's last write (infra/store/order-views.ts
// keepAnswer); the workflow writes the order once it has left New and the generate's Sales Order
// Request job rests. A read takes the newer of the two, so it shows an agent's change at once
// without asking the workflow.
import type { Db } from '../infra/db';
import { newestView } from '../infra/store/order-views';
import type { OrderView } from '../workflows/messages';
import { apiError } from './errors';

export async function readOrderView(db: Db, orderId: string): Promise<OrderView> {
  const doc = await db.models.OrderView.findOne({ _id: orderId }, { state: 1, answered: 1 }).lean();
  if (!doc) throw apiError('ORDER_NOT_FOUND', `no order ${orderId}`);
  return newestView(doc);
}
