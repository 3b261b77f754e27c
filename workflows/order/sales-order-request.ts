// The Sales Order Request job: once generated, the order passes the fraud check, is allocated to
// warehouses from their stock, and one sales order goes to each; software licences are issued here.
import { buildSalesOrderRequest } from '../../domain/sales-order';
import * as rules from '../../domain/order-state';
import { localSteps, outsideSteps } from './activities';
import { fraudCheckPasses } from './fraud-check';
import { jobStep } from './job-step';
import { SYSTEM, type OrderRecord } from './record';

export async function salesOrderRequest(record: OrderRecord): Promise<void> {
  const { order } = record;
  if (!(await fraudCheckPasses(record))) return;

  const lineRefs = (kind: 'warehouse' | 'licence') =>
    order.lines
      .filter((l) => (l.kind === 'softwareLicence') === (kind === 'licence'))
      .map((l) => ({ lineNumber: l.lineNumber, sku: l.sku, quantity: l.quantity }));
  const warehouseLines = lineRefs('warehouse');
  const licenceLines = lineRefs('licence');

  if (warehouseLines.length) {
    const allocation = await jobStep(record.inStep(localSteps.allocateWarehouses({ lines: warehouseLines })));
    order.subOrders = allocation.map((a) => ({
      subOrderNumber: `${order.orderId}-${a.warehouseId}`,
      warehouseId: a.warehouseId,
      lines: a.lines,
      status: 'Pending',
      units: [],
      lineExceptions: [],
    }));
    // From here on a warehouse may hold the order: cancelling must go through it.
    order.sendStarted = true;
    record.commit();
    const refused = await sendSalesOrders(record, 'new');
    if (refused) {
      record.fail('WAREHOUSE_REJECTED', refused);
      // Warehouses that took their part must not ship half an order that is now in Error.
      if (order.subOrders.some((s) => s.status === 'Sent')) await sendSalesOrders(record, 'cancel');
      return;
    }
  }

  if (licenceLines.length) {
    order.licences = await jobStep(record.inStep(localSteps.provisionLicences({ orderId: order.orderId, lines: licenceLines })));
    record.commit();
  }

  if (order.subOrders.length) record.move('sentToWarehouse', SYSTEM, `sales order sent to ${order.subOrders.map((s) => s.warehouseId).join(', ')}`);
  else record.move('fulfilledWithoutWarehouse', SYSTEM, 'software licences provisioned');
}

/**
 * Sends one sales order per sub-order (a cancellation only to those the warehouse holds); returns
 * the first warehouse refusal, if any.
 */
export async function sendSalesOrders(record: OrderRecord, purpose: 'new' | 'cancel'): Promise<string | undefined> {
  const { order } = record;
  const generatedAt = record.now();
  const lineOf = (lineNumber: number) => order.lines.find((l) => l.lineNumber === lineNumber)!;
  const fraud = order.fraud;
  const results = await Promise.allSettled(
    order.subOrders
      .filter((s) => purpose === 'new' || s.status === 'Sent')
      .map(async (sub) => {
        const request = buildSalesOrderRequest({
          orderId: order.orderId,
          accountId: order.accountId,
          subOrderNumber: sub.subOrderNumber,
          warehouseId: sub.warehouseId,
          purpose,
          generatedAt,
          serviceLevel: 'standard',
          fraudCheck: {
            required: fraud?.required ?? false,
            reasons: fraud?.reasons ?? [],
            // The final decision: a referral approved by ops goes out as accepted.
            result: !fraud?.required ? 'notRequired' : fraud.review?.decision === 'approve' ? 'accept' : (fraud.result?.decision ?? 'accept'),
            ...(fraud?.result ? { providerReference: fraud.result.providerReference } : {}),
          },
          delivery: order.delivery!,
          lines: sub.lines.map((sl) => ({ line: lineOf(sl.lineNumber), quantity: sl.quantity })),
        });
        await outsideSteps.sendSalesOrder({ request, lines: sub.lines.map((sl) => ({ ...sl, capture: lineOf(sl.lineNumber).capture })) });
        if (purpose === 'new') {
          // The warehouse may have answered before this send was confirmed (a worker crash
          // retried it): rows applied meanwhile left the sub-order Pending, so resolve it now.
          sub.status = 'Sent';
          sub.status = rules.subOrderStatus(sub);
        }
      }),
  );
  record.commit();
  const refusal = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!refusal) return undefined;
  const cause = (refusal.reason as { cause?: { message?: string } }).cause;
  return cause?.message ?? String(refusal.reason);
}
