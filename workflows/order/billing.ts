// Billing: the customer pays for exactly what they received, at once (an off-cycle invoice) or on
// the account's next cycle invoice. An order is billed whenever its shipments settle, and again
// for what a resubmission shipped later: each time only the charges not billed before.
import { chargesForOrder, orderInvoiceKey } from '../../domain/billing';
import { localSteps } from './activities';
import type { OrderRecord } from './record';

export async function bill(record: OrderRecord): Promise<void> {
  const { order } = record;
  const billed = new Set(order.charges.map((c) => c.chargeKey));
  const charges = chargesForOrder(order).filter((c) => !billed.has(c.chargeKey));
  if (charges.length === 0) return;
  const invoicesSoFar = new Set(order.charges.flatMap((c) => (c.invoiceNumber ? [c.invoiceNumber] : []))).size;
  const result = await record.inStep(
    localSteps.billOrder({
      orderId: order.orderId,
      accountId: order.accountId,
      currency: order.currency,
      billingMode: order.billingMode,
      charges,
      ...(invoicesSoFar ? { invoiceKey: orderInvoiceKey(order.orderId, invoicesSoFar) } : {}),
    }),
  );
  order.charges = [...order.charges, ...result.charges];
  order.invoiceNumber = result.invoiceNumber ?? order.invoiceNumber;
  record.commit();
}
