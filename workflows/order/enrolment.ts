// Device enrolment: one child workflow per manufacturer for the shipped devices whose lines asked
// for it, once the order's shipments settle (Complete, or Error: what shipped is the customer's
// either way), and again for what each resubmission round shipped. ABANDON on purpose: the order
// does not wait for the manufacturers, and closing the order must not end the children.
import { log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import {
  devicesToEnrol,
  enrolmentWorkflowId,
  orderTimePicks,
  ordersOwnEnrolmentDue,
  programmeDeviceKey,
  resubmissionEnrolmentWorkflowId,
} from '../../domain/enrolment';
import { deviceEnrolmentWorkflow } from '../enrolment';
import type { EnrolmentRequest } from './agent-actions';
import type { OrderRecord } from './record';

export class DeviceEnrolment {
  /** Devices this order has asked a manufacturer to enrol (rebuilt on replay like the rest of the workflow's state). */
  private readonly requested = new Set<string>();

  constructor(
    private readonly record: OrderRecord,
    private readonly request: EnrolmentRequest,
  ) {}

  /** Enrols the shipped devices not asked for yet, when the order's shipments have settled. */
  async enrolShipped(): Promise<void> {
    const { order } = this.record;
    if (!ordersOwnEnrolmentDue(order.status)) return;
    const round = Math.max(0, ...order.subOrders.map((s) => s.resubmission ?? 0));
    for (const e of devicesToEnrol(order, orderTimePicks(order.lines), this.request.customerIds, this.requested)) {
      for (const d of e.devices) this.requested.add(programmeDeviceKey(e.manufacturer, d.deviceId));
      await startChild(deviceEnrolmentWorkflow, {
        workflowId: round ? resubmissionEnrolmentWorkflowId(order.orderId, e.manufacturer, round) : enrolmentWorkflowId(order.orderId, e.manufacturer),
        parentClosePolicy: ParentClosePolicy.ABANDON,
        args: [{ orderId: order.orderId, ...e, requestedBy: this.request.requestedBy }],
      }).catch((err) => log.warn('enrolment not started; the order goes on', { manufacturer: e.manufacturer, error: String(err) }));
    }
  }
}
