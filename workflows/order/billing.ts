// Billing: the customer pays for exactly what they received, at once (an off-cycle invoice) or on
// the account's next cycle invoice.
import { chargesForOrder } from '../../domain/billing';
import { localSteps } from './activities';
import type { OrderRecord } from './record';

export async function bill(record: OrderRecord): Promise<void> {
  const { order } = record;
  const charges = chargesForOrder(order);
  if (charges.length === 0) return;
  const billed = await record.inStep(
    localSteps.billOrder({ orderId: order.orderId, accountId: order.accountId, currency: order.currency, billingMode: order.billingMode, charges }),
  );
  order.charges = billed.charges;
  order.invoiceNumber = billed.invoiceNumber;
  record.commit();
}
