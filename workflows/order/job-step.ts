import { CancellationScope, CancelledFailure } from '@temporalio/workflow';

/**
 * Awaits one step of a job that an agent may cancel (the job runs in a cancellation scope). A
 * cancellation that arrived in the same workflow task as the step's result still wins, so no
 * later step runs on a cancelled order.
 */
export async function jobStep<T>(step: Promise<T>): Promise<T> {
  const result = await step;
  if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('the order was cancelled');
  return result;
}
