// The Sales Order Request job: once generated, the order passes the fraud check, is allocated to
// warehouses from their stock, and one sales order goes to each; software licences are issued here.
// A resubmission by ops runs the same job for what did not ship.
import { sleep } from '@temporalio/workflow';
import type { AllocationLine, StockShortage, WarehouseAllocation } from '../../domain/allocation';
import * as exceptions from '../../domain/order-exceptions';
import { buildSalesOrderRequest } from '../../domain/sales-order';
import * as rules from '../../domain/order-state';
import type { SalesOrderPurpose, SubOrder } from '../../domain/types';
import { localSteps, outsideSteps } from './activities';
import { fraudCheck, fraudRiskOf } from './fraud-check';
import { jobStep } from './job-step';
import { SYSTEM, type OrderRecord } from './record';
import type { StuckOrders } from './stuck-orders';

/**
 * The job once generated (round 0), and again for each resubmission by ops (round n: only what
 * did not ship, as sub-orders `…-R<n>`, the fraud check again only when asked).
 */
export async function salesOrderRequest(
  record: OrderRecord,
  stuck: StuckOrders,
  job: { round: number; fraudCheck: boolean } = { round: 0, fraudCheck: true },
): Promise<void> {
  const { order } = record;
  const { round } = job;
  const warehouseLines = exceptions.outstandingLines(order);
  // The fraud policy and the stock are asked in one step; the stock's answer is used once the fraud
  // check passes, unless ops had to review the order first (then it is asked again).
  const first = await jobStep(
    record.inStep(localSteps.prepareSalesOrderRequest({ fraudRisk: job.fraudCheck ? fraudRiskOf(record) : null, lines: warehouseLines })),
  );
  let stockAnswer = first.allocation ?? undefined;
  if (first.fraudPolicy) {
    const checked = await fraudCheck(record, round ? `${order.orderId}:fraud:R${round}` : `${order.orderId}:fraud`, first.fraudPolicy);
    if (!checked.passed) return;
    if (checked.afterReview) stockAnswer = undefined;
  }

  let sent: SubOrder[] = [];
  if (warehouseLines.length) {
    const allocation = await allocateFromStock(record, stuck, warehouseLines, stockAnswer);
    if (!allocation) return;
    sent = allocation.map((a) => ({
      subOrderNumber: round ? exceptions.resubmittedSubOrderNumber(order.orderId, a.warehouseId, round) : `${order.orderId}-${a.warehouseId}`,
      warehouseId: a.warehouseId,
      lines: a.lines,
      status: 'Pending',
      units: [],
      lineExceptions: [],
      ...(round ? { resubmission: round } : {}),
    }));
    order.subOrders.push(...sent);
    // From here on a warehouse may hold the order: cancelling must go through it.
    order.sendStarted = true;
    record.commit();
    const refused = await record.inOutsideStep(sendSalesOrders(record, 'new', sent));
    if (refused) {
      record.fail('WAREHOUSE_REJECTED', refused);
      // Warehouses that took their part must not ship half an order that is now in Error.
      const took = sent.filter((s) => s.status === 'Sent');
      if (took.length) await sendSalesOrders(record, 'cancel', took);
      return;
    }
  }

  if (exceptions.licencesMissing(order)) {
    const licenceLines = order.lines.filter((l) => l.kind === 'softwareLicence').map((l) => ({ lineNumber: l.lineNumber, sku: l.sku, quantity: l.quantity }));
    order.licences = await jobStep(record.inStep(localSteps.provisionLicences({ orderId: order.orderId, lines: licenceLines })));
    record.commit();
  }

  if (rules.activeSubOrders(order).length) record.move('sentToWarehouse', SYSTEM, `sales order sent to ${sent.map((s) => s.warehouseId).join(', ')}`);
  else record.move('fulfilledWithoutWarehouse', SYSTEM, 'software licences provisioned');
}

/**
 * The warehouses for the lines, from their stock (`stockAnswer`: asked already, with the fraud policy). Under the backorder policy a sku that all the
 * warehouses together cannot fill holds the order in Awaiting Generation, flagged, checking stock
 * again every so often until it can go (or it expires into Error BACKORDER_EXPIRED); a
 * cancellation ends the wait at once. Returns null when the order failed.
 */
async function allocateFromStock(
  record: OrderRecord,
  stuck: StuckOrders,
  lines: AllocationLine[],
  stockAnswer: AllocationDecision | undefined,
): Promise<WarehouseAllocation[] | null> {
  const { order } = record;
  for (let asked = stockAnswer; ; asked = undefined) {
    const decision = asked ?? (await jobStep(record.inStep(localSteps.allocateWarehouses({ lines }))));
    const { policy } = decision;
    stuck.deadlinesOfAllocation(decision.dispatchDeadlines);
    if (!decision.stockChecked) record.commit({ by: SYSTEM, reason: 'stock not checked (no stock interface): allocated by warehouse preference' });
    const held = policy.shortage === 'backorder' ? decision.shortages : [];
    if (!held.length) {
      if (order.backorder) {
        order.backorder = null;
        record.commit({ by: SYSTEM, reason: 'backorder released: the warehouses now hold every line' });
      } else if (decision.shortages.length) {
        record.commit({ by: SYSTEM, reason: `sent short of stock (ALLOCATION_SHORTAGE=send): ${shortfall(decision.shortages)}` });
      }
      return decision.allocation;
    }
    const now = record.now();
    if (!order.backorder) {
      const expiresAt = new Date(Date.parse(now) + policy.backorderMaxWaitMs).toISOString();
      order.backorder = { since: now, shortages: held, lastCheckedAt: now, expiresAt };
      record.commit({ by: SYSTEM, reason: `backordered until stock arrives (at the latest ${expiresAt}): ${shortfall(held)}` });
    } else {
      order.backorder = { ...order.backorder, shortages: held, lastCheckedAt: now };
      record.commit();
    }
    const left = Date.parse(order.backorder.expiresAt) - Date.parse(now);
    if (left <= 0) {
      record.fail('BACKORDER_EXPIRED', `no stock within ${policy.backorderMaxWait}: ${shortfall(held)}`);
      return null;
    }
    await jobStep(sleep(Math.min(policy.backorderRecheckMs, left)));
  }
}

type AllocationDecision = Awaited<ReturnType<typeof localSteps.allocateWarehouses>>;

const shortfall = (shortages: StockShortage[]) => shortages.map((s) => `${s.sku} ${s.available} of ${s.requested}`).join(', ');

/**
 * Sends one sales order per given sub-order (a cancellation only to those the warehouse holds);
 * returns the first warehouse refusal, if any. A resend or a cancellation sent again is a file of
 * its own (`…-resend-2`), with the same sub-order number.
 */
export async function sendSalesOrders(record: OrderRecord, purpose: SalesOrderPurpose, subs: SubOrder[]): Promise<string | undefined> {
  const { order } = record;
  const generatedAt = record.now();
  const lineOf = (lineNumber: number) => order.lines.find((l) => l.lineNumber === lineNumber)!;
  const fraud = order.fraud;
  const sendOf = (sub: SubOrder) => (purpose === 'resend' ? (sub.resends ?? 1) : purpose === 'cancel' ? (order.cancellation?.sends ?? 1) : 1);
  const results = await Promise.allSettled(
    subs
      .filter((s) => purpose !== 'cancel' || s.status === 'Sent')
      .map(async (sub) => {
        const request = buildSalesOrderRequest({
          orderId: order.orderId,
          accountId: order.accountId,
          subOrderNumber: sub.subOrderNumber,
          warehouseId: sub.warehouseId,
          purpose,
          send: sendOf(sub),
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
          // The dispatch SLA runs from here (workflows/order/stuck-orders.ts).
          sub.sentAt = generatedAt;
        }
      }),
  );
  record.commit();
  const refusal = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!refusal) return undefined;
  const cause = (refusal.reason as { cause?: { message?: string } }).cause;
  return cause?.message ?? String(refusal.reason);
}
