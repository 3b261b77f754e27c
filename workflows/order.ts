// The order, as the business runs it: an agent builds it (New), generates it (Awaiting
// Generation: fraud check, Sales Order Request to each warehouse), the warehouses dispatch it
// (Awaiting Dispatch → Complete or Error), and the customer is billed for what shipped.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Activities } from '../activities';
import { DomainError } from '../domain/errors';
import { orderTotals } from '../domain/money';
import * as rules from '../domain/order-state';
import type { NewOrderInput, OrderEvent, OrderState } from '../domain/order-state';
import { buildSalesOrderRequest } from '../domain/sales-order';
import { chargesForOrder } from '../domain/billing';
import {
  AccountIdAttr,
  BillingModeAttr,
  OrderStatusAttr,
  WarehouseIdsAttr,
  addLineUpdate,
  cancelUpdate,
  changeLineUpdate,
  dispatchResultSignal,
  fraudReviewUpdate,
  generateUpdate,
  getOrderQuery,
  openedUpdate,
  removeLineUpdate,
  setBillingModeUpdate,
  setDeliveryUpdate,
  attr,
  type OrderView,
} from './messages';
// Device enrolment (issue 7).
import { ParentClosePolicy, startChild } from '@temporalio/workflow';
import { checkEnrolmentCustomerIds, checkRequestEnrolment, devicesToEnrol, enrolmentWorkflowId, orderTimePicks, type EnrolmentCustomerIds } from '../domain/enrolment';
import { deviceEnrolmentWorkflow } from './enrolment';
import { requestEnrolmentUpdate } from './messages';

export interface OrderWorkflowInput extends NewOrderInput {
  /** How long a New order may sit untouched before it is cancelled as abandoned. */
  abandonAfter?: string;
}

export interface OrderOutcome {
  orderId: string;
  status: OrderState['status'];
  invoiceNumber: string | null;
}

const SYSTEM = 'system';

// Business steps talk to outside systems that may be down for a while: retry with backoff, for as
// long as it takes, except for refusals that retrying cannot fix.
const businessRetry = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  nonRetryableErrorTypes: ['WAREHOUSE_REJECTED', 'VALIDATION_FAILED', 'CONTRACT_VIOLATION'],
};
const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: businessRetry });

// Short steps that only touch our own database: local activities, run by the worker inside the
// workflow task (one marker event, no activity task round trip through the server), same retries.
const dbSteps = proxyLocalActivities<Activities>({ startToCloseTimeout: '30 seconds', retry: businessRetry });
/** Histories from before the database steps ran as local activities replay with activities. */
const DB_STEPS_LOCAL = 'db-steps-as-local-activities';
const databaseSteps = () => (patched(DB_STEPS_LOCAL) ? dbSteps : acts);

// The read model is a projection of this workflow's state: a local activity keeps it cheap.
const projection = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

const now = () => new Date().toISOString(); // workflow time: deterministic on replay

function viewOf(order: OrderState): OrderView {
  const t = orderTotals(order.lines);
  return {
    ...order,
    totals: { net: t.net, tax: t.tax, gross: t.gross },
    allowedActions: rules.allowedActions(order),
  };
}

/** Domain refusals become update failures with the stable code as the failure type. */
function validate(check: () => unknown): void {
  try {
    check();
  } catch (err) {
    if (err instanceof DomainError) {
      throw ApplicationFailure.create({ type: err.code, message: err.message, details: err.details === undefined ? [] : [err.details], nonRetryable: true });
    }
    throw err;
  }
}

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderOutcome> {
  const order = rules.newOrder(input, now());
  let projectedRevision = 0;

  // One projection at a time, each of the newest state: two concurrent writes (an update handler's
  // and the main flow's) could land out of order on FerretDB, whose replace is not atomic.
  let projecting: Promise<void> = Promise.resolve();
  function project(): Promise<void> {
    projecting = projecting.then(async () => {
      if (order.revision <= projectedRevision) return;
      const snapshot = viewOf(order);
      await projection.projectOrder(snapshot);
      projectedRevision = Math.max(projectedRevision, snapshot.revision);
    });
    return projecting;
  }

  function publishStatus(): void {
    upsertSearchAttributes([
      attr(OrderStatusAttr, order.status),
      attr(AccountIdAttr, order.accountId),
      attr(BillingModeAttr, order.billingMode),
      attr(WarehouseIdsAttr, order.subOrders.map((s) => s.warehouseId)),
    ]);
    showDetails();
  }

  /** The Temporal UI's summary line. No command: safe to call anywhere without breaking replay. */
  function showDetails(): void {
    const lines = order.lines.length;
    setCurrentDetails(
      `**${order.status}**${order.cancellationRequested ? ' (cancellation requested)' : ''} · ${lines} line${lines === 1 ? '' : 's'} · ` +
        `${viewOf(order).totals.gross} ${order.currency} minor units${order.error ? ` · ${order.error.code}` : ''}${fraudSummary()}`,
    );
  }

  /** The fraud flag and decision for the Temporal UI: reason codes only, never personal data. */
  function fraudSummary(): string {
    const f = order.fraud;
    if (!f?.required) return '';
    const decision = f.result ? ` ${f.result.decision}${f.result.reasons.length ? ` (${f.result.reasons.join(', ')})` : ''}` : ' pending';
    const review = f.awaitingReview ? ` · FRAUD_REVIEW until ${f.awaitingReview.deadline}` : f.review ? ` · review ${f.review.decision}` : '';
    return ` · fraud check [${f.reasons.join(', ')}]:${decision}${review}`;
  }

  /** A history entry that records an event without a status change. */
  function note(by: string, reason: string): void {
    order.history.push({ from: order.status, to: order.status, at: now(), by, reason });
    order.revision++;
  }

  function move(event: OrderEvent, by: string, reason: string): void {
    rules.transition(order, event, now(), by, reason);
    publishStatus();
  }

  function fail(code: string, message: string): void {
    order.error = { code, message };
    move('rejected', SYSTEM, `${code}: ${message}`);
  }

  // ---- Agent actions: validators refuse without touching history; handlers apply and project.
  setHandler(getOrderQuery, () => viewOf(order));

  // ---- Device enrolment (issue 7): the customer's programme ids, given on a New order.
  const enrolment: { customerIds: EnrolmentCustomerIds; requestedBy: string } = { customerIds: {}, requestedBy: SYSTEM };
  setHandler(
    requestEnrolmentUpdate,
    ({ customerIds, by }) => {
      Object.assign(enrolment.customerIds, customerIds);
      enrolment.requestedBy = by;
      return { ...viewOf(order), enrolmentCustomerIds: { ...enrolment.customerIds } };
    },
    { validator: ({ customerIds }) => validate(() => checkRequestEnrolment(order, customerIds)) },
  );
  setHandler(openedUpdate, async () => {
    await condition(() => projectedRevision >= 1);
    return viewOf(order);
  });

  setHandler(
    addLineUpdate,
    async (req) => {
      rules.applyAddLine(order, req);
      await project();
      return viewOf(order);
    },
    { validator: (req) => validate(() => rules.checkAddLine(order, req)) },
  );
  setHandler(
    changeLineUpdate,
    async (req) => {
      rules.applyChangeLine(order, req);
      await project();
      return viewOf(order);
    },
    { validator: (req) => validate(() => rules.checkChangeLine(order, req)) },
  );
  setHandler(
    removeLineUpdate,
    async ({ lineId }) => {
      rules.applyRemoveLine(order, lineId);
      await project();
      return viewOf(order);
    },
    { validator: ({ lineId }) => validate(() => rules.checkRemoveLine(order, lineId)) },
  );
  setHandler(
    setDeliveryUpdate,
    async ({ delivery }) => {
      rules.applySetDelivery(order, delivery);
      await project();
      return viewOf(order);
    },
    { validator: ({ delivery }) => validate(() => rules.checkSetDelivery(order, delivery)) },
  );
  setHandler(
    setBillingModeUpdate,
    async ({ billingMode }) => {
      rules.applySetBillingMode(order, billingMode);
      publishStatus();
      await project();
      return viewOf(order);
    },
    { validator: (_req) => validate(() => rules.checkSetBillingMode(order)) },
  );
  setHandler(
    generateUpdate,
    async ({ by }) => {
      move('generate', by, 'agent generated the order');
      await project();
      return viewOf(order);
    },
    // Issue 7: lines asking for enrolment need the customer's programme id before generation.
    { validator: (_req) => validate(() => (rules.checkGenerate(order), checkEnrolmentCustomerIds(order.lines, enrolment.customerIds))) },
  );
  setHandler(
    cancelUpdate,
    async ({ by, reason }) => {
      const outcome = rules.checkCancel(order);
      if (outcome === 'cancelled') {
        move('cancel', by, reason);
      } else {
        order.cancellationRequested = true;
        note(by, `cancellation requested: ${reason}`);
        publishStatus();
      }
      await project();
      return { outcome, order: viewOf(order) };
    },
    { validator: (_req) => validate(() => rules.checkCancel(order)) },
  );
  setHandler(
    fraudReviewUpdate,
    async ({ decision, by, reason }) => {
      order.fraud!.review = { decision, by, reason, at: now() };
      note(by, `fraud review ${decision === 'approve' ? 'approved' : 'rejected'}: ${reason}`);
      showDetails();
      await project();
      return viewOf(order);
    },
    {
      validator: (_req) =>
        validate(() => {
          if (!order.fraud?.awaitingReview || order.fraud.review || order.status !== 'AwaitingGeneration') {
            throw new DomainError('INVALID_TRANSITION', `order ${order.orderId} is not waiting for a fraud review`);
          }
        }),
    },
  );

  // ---- Events from the warehouse, via the Sales Order Dispatch job.
  setHandler(dispatchResultSignal, ({ batchId, rows }) => {
    const { applied, ignored } = rules.applyDispatchRows(order, batchId, rows);
    if (ignored) log.info('dispatch rows ignored as already applied or not ours', { batchId, applied, ignored });
  });

  publishStatus();
  await project();

  // ---- New: the agent builds the order until they generate or cancel it.
  const touched = await condition(() => order.status !== 'New', input.abandonAfter ?? '30 days');
  if (!touched) move('cancel', SYSTEM, 'abandoned: not generated in time');

  // ---- Awaiting Generation: the Sales Order Request job.
  if (order.status === 'AwaitingGeneration') await salesOrderRequest();

  // ---- Awaiting Dispatch: apply the warehouses' results until every sub-order is resolved.
  if (order.status === 'AwaitingDispatch') await awaitDispatch();

  // ---- Device enrolment (issue 7): one child per manufacturer for the shipped devices. ABANDON on
  // purpose: Complete does not wait for the manufacturers, and closing must not end the children.
  if (order.status === 'Complete') {
    for (const e of devicesToEnrol(order, orderTimePicks(order.lines), enrolment.customerIds)) {
      await startChild(deviceEnrolmentWorkflow, {
        workflowId: enrolmentWorkflowId(order.orderId, e.manufacturer),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ orderId: order.orderId, ...e, requestedBy: enrolment.requestedBy }],
      }).catch((err) => log.warn('enrolment not started; the order goes on', { manufacturer: e.manufacturer, error: String(err) }));
    }
  }

  // ---- Billing: the customer pays for exactly what they received.
  await bill();

  await project();
  await condition(allHandlersFinished);
  return { orderId: order.orderId, status: order.status, invoiceNumber: order.invoiceNumber };

  // ------------------------------------------------------------------------------------------

  async function salesOrderRequest(): Promise<void> {
    const gross = viewOf(order).totals.gross;
    const assessment = await databaseSteps().assessFraudRisk({
      orderId: order.orderId,
      accountId: order.accountId,
      delivery: order.delivery!,
      orderGross: gross,
    });
    order.fraud = { required: assessment.required, reasons: assessment.reasons };
    order.revision++;
    showDetails();
    await project();
    if (order.status !== 'AwaitingGeneration') return;

    if (order.fraud.required && !(await fraudCheckPasses(assessment.reviewDeadline))) return;
    if (order.status !== 'AwaitingGeneration') return; // cancelled while the check ran

    const warehouseLines = order.lines.filter((l) => l.kind !== 'softwareLicence');
    const licenceLines = order.lines.filter((l) => l.kind === 'softwareLicence');

    if (warehouseLines.length) {
      const allocation = await acts.allocateWarehouses({
        lines: warehouseLines.map((l) => ({ lineNumber: l.lineNumber, sku: l.sku, quantity: l.quantity })),
      });
      if (order.status !== 'AwaitingGeneration') return;
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
      order.revision++;
      publishStatus();
      const refused = await sendSalesOrders('new');
      if (refused) {
        fail('WAREHOUSE_REJECTED', refused);
        // Warehouses that took their part must not ship half an order that is now in Error.
        if (order.subOrders.some((s) => s.status === 'Sent')) await sendSalesOrders('cancel');
        await project();
        return;
      }
    }

    if (licenceLines.length) {
      const issued = await acts.provisionLicences({
        orderId: order.orderId,
        lines: licenceLines.map((l) => ({ lineNumber: l.lineNumber, sku: l.sku, quantity: l.quantity })),
      });
      order.licences = issued;
      order.revision++;
      if (order.status !== 'AwaitingGeneration') return; // cancelled while provisioning
    }

    if (order.subOrders.length) move('sentToWarehouse', SYSTEM, `sales order sent to ${order.subOrders.map((s) => s.warehouseId).join(', ')}`);
    else move('fulfilledWithoutWarehouse', SYSTEM, 'software licences provisioned');
    await project();
  }

  /** Runs the fraud check; true when the order may go to the warehouse. */
  async function fraudCheckPasses(reviewDeadline: string): Promise<boolean> {
    const result = await acts.runFraudCheck({
      checkId: `${order.orderId}:fraud`,
      orderId: order.orderId,
      accountId: order.accountId,
      delivery: order.delivery!,
    });
    order.fraud!.result = result;
    note(`fraud:${result.provider}`, `fraud check ${result.decision}${result.reasons.length ? `: ${result.reasons.join(', ')}` : ''} (reference ${result.providerReference || 'none'})`);
    showDetails();
    if (order.status !== 'AwaitingGeneration') {
      await project(); // cancelled while the provider was asked
      return false;
    }
    if (result.decision === 'reject') {
      fail('FRAUD_REJECTED', `fraud check rejected the delivery: ${result.reasons.join(', ') || 'no reason given'}`);
      await project();
      return false;
    }
    if (result.decision === 'accept') return true;

    // Refer: ops decide before the deadline, or the order is rejected.
    const since = now();
    order.fraud!.awaitingReview = { since, deadline: new Date(Date.now() + msToNumber(reviewDeadline as Parameters<typeof msToNumber>[0])).toISOString() };
    order.revision++;
    showDetails();
    await project();
    const decided = await condition(() => !!order.fraud!.review || order.status !== 'AwaitingGeneration', reviewDeadline);
    const review = order.fraud!.review;
    delete order.fraud!.awaitingReview;
    order.revision++;
    showDetails();
    if (order.status !== 'AwaitingGeneration') {
      await project();
      return false;
    }
    if (!decided) {
      fail('FRAUD_REJECTED', `fraud review not decided within ${reviewDeadline}`);
      await project();
      return false;
    }
    if (review!.decision === 'reject') {
      fail('FRAUD_REJECTED', `fraud review rejected by ${review!.by}: ${review!.reason}`);
      await project();
      return false;
    }
    return true;
  }

  /** Sends one sales order per sub-order; returns the first warehouse refusal, if any. */
  async function sendSalesOrders(purpose: 'new' | 'cancel'): Promise<string | undefined> {
    const generatedAt = now();
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
              required: order.fraud?.required ?? false,
              reasons: order.fraud?.reasons ?? [],
              // The final decision: a referral approved by ops goes out as accepted.
              result: !order.fraud?.required ? 'notRequired' : order.fraud.review?.decision === 'approve' ? 'accept' : (order.fraud.result?.decision ?? 'accept'),
              ...(order.fraud?.result ? { providerReference: order.fraud.result.providerReference } : {}),
            },
            delivery: order.delivery!,
            lines: sub.lines.map((sl) => ({ line: order.lines.find((l) => l.lineNumber === sl.lineNumber)!, quantity: sl.quantity })),
          });
          await acts.sendSalesOrder({ request, lines: sub.lines.map((sl) => ({ ...sl, capture: order.lines.find((l) => l.lineNumber === sl.lineNumber)!.capture })) });
          if (purpose === 'new') {
            // The warehouse may have answered before this send was confirmed (a worker crash
            // retried it): rows applied meanwhile left the sub-order Pending, so resolve it now.
            sub.status = 'Sent';
            sub.status = rules.subOrderStatus(sub);
          }
        }),
    );
    order.revision++;
    const refusal = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!refusal) return undefined;
    const cause = (refusal.reason as { cause?: { message?: string } }).cause;
    return cause?.message ?? String(refusal.reason);
  }

  async function awaitDispatch(): Promise<void> {
    let cancellationSent = false;
    for (;;) {
      await condition(
        () => rules.dispatchOutcome(order) !== undefined || (order.cancellationRequested && !cancellationSent) || order.revision > projectedRevision,
      );
      if (order.cancellationRequested && !cancellationSent) {
        cancellationSent = true;
        await sendSalesOrders('cancel');
      }
      const outcome = rules.dispatchOutcome(order);
      if (outcome) {
        const errored = order.subOrders.find((s) => s.status === 'Error');
        if (errored?.error) order.error = errored.error;
        move(outcome, SYSTEM, outcome === 'dispatchError' ? `warehouse ${errored!.warehouseId}: ${errored!.error?.code}` : 'warehouse dispatch results applied');
        return;
      }
      await project();
    }
  }

  async function bill(): Promise<void> {
    const charges = chargesForOrder(order);
    if (charges.length === 0) return;
    const recorded = await databaseSteps().recordCharges({
      orderId: order.orderId,
      accountId: order.accountId,
      currency: order.currency,
      billingMode: order.billingMode,
      charges,
    });
    order.charges = recorded;
    order.revision++;
    if (order.billingMode === 'immediate') {
      const invoice = await databaseSteps().issueInvoice({
        accountId: order.accountId,
        idempotencyKey: `order:${order.orderId}`,
        kind: 'offCycle',
        chargeKeys: recorded.map((c) => c.chargeKey),
      });
      order.invoiceNumber = invoice.invoiceNumber;
      // The agent sees each charge on the order with the invoice it went on.
      order.charges = recorded.map((c) => ({ ...c, invoiceNumber: invoice.invoiceNumber }));
      order.revision++;
    }
  }
}
