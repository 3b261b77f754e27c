// Device enrolment: one child workflow per manufacturer for the shipped devices whose lines asked
// for it. ABANDON on purpose: Complete does not wait for the manufacturers, and closing the order
// must not end the children.
import { log, ParentClosePolicy, startChild } from '@temporalio/workflow';
import { devicesToEnrol, enrolmentWorkflowId, orderTimePicks } from '../../domain/enrolment';
import { deviceEnrolmentWorkflow } from '../enrolment';
import type { EnrolmentRequest } from './agent-actions';
import type { OrderRecord } from './record';

export async function enrolDevices({ order }: OrderRecord, enrolment: EnrolmentRequest): Promise<void> {
  for (const e of devicesToEnrol(order, orderTimePicks(order.lines), enrolment.customerIds)) {
    await startChild(deviceEnrolmentWorkflow, {
      workflowId: enrolmentWorkflowId(order.orderId, e.manufacturer),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [{ orderId: order.orderId, ...e, requestedBy: enrolment.requestedBy }],
    }).catch((err) => log.warn('enrolment not started; the order goes on', { manufacturer: e.manufacturer, error: String(err) }));
  }
}
