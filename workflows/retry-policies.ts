// Every retry policy the workflows use, in one place: how long a step keeps trying decides how an
// outage looks to the business (an order that waits, or a job run that reports and moves on).
import type { RetryPolicy } from '@temporalio/workflow';

/**
 * Steps that talk to outside systems (warehouses, fraud provider, manufacturers) or our database,
 * which may be down for a while: retried with backoff for as long as it takes.
 */
export const untilItWorks: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/** An order's steps: as `untilItWorks`, except for refusals that retrying cannot fix. */
export const orderStep: RetryPolicy = {
  ...untilItWorks,
  nonRetryableErrorTypes: ['WAREHOUSE_REJECTED', 'VALIDATION_FAILED', 'CONTRACT_VIOLATION', 'ACCOUNT_NOT_FOUND'],
};

/** The order's read-model write: quick retries, since agents wait for it. */
export const projectionWrite: RetryPolicy = { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' };

/** The bill run: a refusal is reported per account and the rest of the run carries on. */
export const billRunStep: RetryPolicy = { ...untilItWorks, nonRetryableErrorTypes: ['VALIDATION_FAILED'] };

/** The Sales Order Dispatch job's heartbeat-resumable signalling. */
export const dispatchJobStep: RetryPolicy = { initialInterval: '1 second', maximumInterval: '30 seconds' };

/**
 * A Device Enrolment job run gives up on one transaction after a few tries; it stays recorded and
 * the next run takes it up again with the same transaction id.
 */
export const enrolmentJobStep: RetryPolicy = { ...untilItWorks, maximumInterval: '30 seconds', maximumAttempts: 5 };

/** The orphaned returns job gives up after a few tries; the next scheduled run starts again where it stopped. */
export const orphanedReturnsStep: RetryPolicy = { ...untilItWorks, maximumInterval: '30 seconds', maximumAttempts: 5 };
