// The Sales Order Dispatch job: one run per warehouse response file (id from the file's hash, so
// the same file twice is refused by the server). The rows live in MongoDB, not in this history;
// an activity hands each affected order its rows and survives crashes through its heartbeats.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { dispatchJobStep } from './retry-policies';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '10 seconds',
  retry: dispatchJobStep,
});

export interface SalesOrderDispatchInput {
  batchId: string;
}

export async function salesOrderDispatchWorkflow({ batchId }: SalesOrderDispatchInput): Promise<{ ordersSignalled: number }> {
  const { ordersSignalled } = await acts.signalOrdersInBatch({ batchId });
  await acts.finishDispatchBatch({ batchId, ordersSignalled });
  return { ordersSignalled };
}
