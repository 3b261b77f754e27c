// Billing: the customer pays for exactly what they received, at once (an off-cycle invoice) or on
// the account's next cycle invoice. An order is billed whenever its shipments settle, and again
// for what a resubmission shipped later: each time only the charges not billed before.
import { condition } from '@temporalio/workflow';
import { chargesForOrder, orderInvoiceKey, withBill } from '../../domain/billing';
import { localSteps } from './activities';
import type { OrderRecord } from './record';

export async function bill(record: OrderRecord): Promise<void> {
  const { order } = record;
  const billed = new Set(order.charges.map((c) => c.chargeKey));
  const charges = chargesForOrder(order).filter((c) => !billed.has(c.chargeKey));
  if (charges.length === 0) return;
  const invoicesSoFar = new Set(order.charges.flatMap((c) => (c.invoiceNumber ? [c.invoiceNumber] : []))).size;
  // The bill and the read model's write that shows it are one step: it is given the view as it is
  // now and writes the next revision with the bill's outcome, as committed below.
  if (!record.writeIdle()) await condition(() => record.writeIdle());
  const view = record.takeSnapshot();
  const billing = record.inStep(
    localSteps.billOrderAndShow({
      view,
      orderId: order.orderId,
      accountId: order.accountId,
      currency: order.currency,
      billingMode: order.billingMode,
      charges,
      ...(invoicesSoFar ? { invoiceKey: orderInvoiceKey(order.orderId, invoicesSoFar) } : {}),
    }),
  );
  const result = await billing.catch((err: unknown) => {
    record.snapshotAbandoned();
    throw err;
  });
  Object.assign(order, withBill(order, result));
  record.commit();
  // What the step wrote; a change another handler made meanwhile is newer, and written after.
  record.snapshotWritten({ revision: view.revision + 1, status: view.status });
}
