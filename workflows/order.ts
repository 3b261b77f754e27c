// The order, as the business runs it: an agent builds it (New) and generates it; the Sales Order
// Request job checks fraud and sends a sales order to each warehouse (Awaiting Generation); the
// warehouses' results arrive through the Sales Order Dispatch job (Awaiting Dispatch → Complete or
// Error); shipped devices are enrolled with their manufacturers and the customer is billed for
// what shipped (licences only once the order delivers: else they are revoked). An order in Error stays open for ops to resubmit what did not ship, or close it.
// Each step lives in workflows/order/.
import { allHandlersFinished, condition, metricMeter, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import * as rules from '../domain/order-state';
import type { NewOrderInput, OrderState } from '../domain/order-state';
import { AccountIdAttr, BillingModeAttr, NeedsAttentionAttr, OrderStatusAttr, WarehouseIdsAttr, attr } from './messages';
import { handleAgentActions, type EnrolmentRequest } from './order/agent-actions';
import { bill } from './order/billing';
import { awaitDispatch, handleDispatchResults } from './order/dispatch';
import { DeviceEnrolment } from './order/enrolment';
import { OrderJob } from './order/job-step';
import { revokeUndeliveredLicences } from './order/licences';
import { keepReadModelCurrent, readModelCaughtUp } from './order/projection';
import { OrderRecord, SYSTEM, type OrderAttributes } from './order/record';
import { awaitResolution, ErrorResolution, handleResolutionActions } from './order/resolution';
import { salesOrderRequest } from './order/sales-order-request';
import { handleStuckOrderActions, StuckOrders } from './order/stuck-orders';

export interface OrderWorkflowInput extends NewOrderInput {
  /** When the opener (infra/open-order.ts) opened it: the order as opened is the read model it stored. */
  openedAt: string;
  /** How long a New order may sit untouched before it is cancelled as abandoned. */
  abandonAfter?: string;
}

export interface OrderOutcome {
  orderId: string;
  status: OrderState['status'];
  invoiceNumber: string | null;
}

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderOutcome> {
  const record = openRecord(input);
  const { order } = record;
  const enrolment: EnrolmentRequest = { customerIds: {}, requestedBy: SYSTEM };
  // Cancelling before any warehouse holds the order stops the Sales Order Request job at once.
  const job = new OrderJob();
  const stuck = new StuckOrders(record);
  const resolution = new ErrorResolution();
  const devices = new DeviceEnrolment(record, enrolment);
  handleAgentActions(record, enrolment, () => job.cancel());
  handleDispatchResults(record);
  handleStuckOrderActions(record, stuck);
  handleResolutionActions(record, resolution, stuck);
  keepReadModelCurrent(record);

  // New: the agent builds the order until they generate or cancel it.
  if (!(await condition(() => order.status !== 'New', input.abandonAfter ?? '30 days'))) {
    record.move('cancel', SYSTEM, 'abandoned: not generated in time');
  }

  // Awaiting Generation: fraud check, allocation, a sales order per warehouse.
  if (order.status === 'AwaitingGeneration') await job.run(() => salesOrderRequest(record, stuck));

  for (;;) {
    // Awaiting Dispatch: the warehouses' results, until every sub-order is resolved.
    if (order.status === 'AwaitingDispatch') await awaitDispatch(record, stuck);

    // Shipments settled (Complete or Error): enrol what shipped, bill what was delivered.
    await devices.enrolShipped();
    await bill(record);

    // Error: ops resubmit what did not ship (the job again, for that only) or close it.
    const resubmission = await awaitResolution(record, resolution);
    if (!resubmission) break;
    if (order.status === 'AwaitingGeneration') await job.run(() => salesOrderRequest(record, stuck, resubmission));
  }
  // Ended without delivering (Cancelled, or closed in Error with nothing shipped): licences revoked.
  await revokeUndeliveredLicences(record);

  await readModelCaughtUp(record);
  await condition(allHandlersFinished);
  return { orderId: order.orderId, status: order.status, invoiceNumber: order.invoiceNumber };
}

/** The order's record, wired to Temporal: search attributes for ops, the summary line, workflow time. */
function openRecord(input: OrderWorkflowInput): OrderRecord {
  const keys = {
    OrderStatus: OrderStatusAttr,
    AccountId: AccountIdAttr,
    BillingMode: BillingModeAttr,
    WarehouseIds: WarehouseIdsAttr,
    NeedsAttention: NeedsAttentionAttr,
  };
  const started: Partial<OrderAttributes> = {};
  for (const [name, key] of Object.entries(keys)) {
    const value = workflowInfo().typedSearchAttributes.get(key);
    if (value !== undefined) Object.assign(started, { [name]: value });
  }
  const now = () => new Date().toISOString(); // workflow time: deterministic on replay
  const transitions = metricMeter.createCounter('order_transitions', 'transitions', 'Order status transitions, by event and the status reached');
  return new OrderRecord(
    rules.newOrder(input, input.openedAt),
    {
      publishAttributes: (changed) => upsertSearchAttributes(Object.entries(changed).map(([name, value]) => attr(keys[name as keyof OrderAttributes], value))),
      showDetails: setCurrentDetails,
      now,
      countTransition: (event, status) => transitions.add(1, { event, status }),
    },
    started,
  );
}
