// Every workflow type the worker runs.
export { orderWorkflow } from './order';
export { salesOrderDispatchWorkflow } from './dispatch';
export { billRunWorkflow } from './bill-run';
export { deviceEnrolmentWorkflow, deviceUnenrolmentWorkflow, enrolmentRequestJob, enrolmentResponseJob } from './enrolment';
export { orderViewReconciliationWorkflow } from './order-view-reconciliation';
export { returnWorkflow } from './returns';
export { orphanedReturnsWorkflow } from './orphaned-returns';
