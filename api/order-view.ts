// The order as agents read it: its read model, or 404 ORDER_NOT_FOUND.
import type { Db } from '../infra/db';
import type { OrderView } from '../workflows/messages';
import { apiError } from './errors';

export async function readOrderView(db: Db, orderId: string): Promise<OrderView> {
  const doc = await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
  if (!doc) throw apiError('ORDER_NOT_FOUND', `no order ${orderId}`);
  return doc.state as OrderView;
}
