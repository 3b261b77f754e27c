import { CancellationScope, CancelledFailure, isCancellation } from '@temporalio/workflow';

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

/**
 * The order's cancellable job of the moment: the Sales Order Request job, or a resubmission's. An
 * agent's cancel before any warehouse holds the order cancels it at once.
 */
export class OrderJob {
  private scope: CancellationScope | null = null;

  cancel(): void {
    this.scope?.cancel();
  }

  async run(job: () => Promise<void>): Promise<void> {
    this.scope = new CancellationScope();
    try {
      await this.scope.run(job);
    } catch (err) {
      if (!isCancellation(err)) throw err;
    } finally {
      this.scope = null;
    }
  }
}
