// Every workflow type the worker runs.
export { orderWorkflow } from './order';
export { salesOrderDispatchWorkflow } from './dispatch';
