// What the order view reconciliation job decides from a closed order's visibility row alone.
import { describe, expect, it } from 'vitest';
import { closedOrdersQuery, FINAL_PROJECTION_WITHIN_MS, judgeReadModel } from '../../activities/reconciliation';

const closedAt = new Date('2025-03-14T10:00:00.000Z');
const at = (msBeforeClose: number) => new Date(closedAt.getTime() - msBeforeClose).toISOString();

describe('judging a closed order’s read model without asking its workflow', () => {
  it('takes a read model with the final status written just before the close as the final projection', () => {
    expect(judgeReadModel({ status: 'Complete', closedAt }, { status: 'Complete', updatedAt: at(40) })).toBe('consistent');
    expect(judgeReadModel({ status: 'Complete', closedAt }, { status: 'Complete', updatedAt: at(FINAL_PROJECTION_WITHIN_MS) })).toBe('consistent');
  });

  it('asks the workflow when the read model is missing, shows another status, or may be an older snapshot with the same status', () => {
    expect(judgeReadModel({ status: 'Complete', closedAt }, null)).toBe('missing');
    expect(judgeReadModel({ status: 'Complete', closedAt }, { status: 'AwaitingDispatch', updatedAt: at(40) })).toBe('statusDiffers');
    // Complete before billing, superseded by a newer write: built at least a projection timeout earlier.
    expect(judgeReadModel({ status: 'Complete', closedAt }, { status: 'Complete', updatedAt: at(FINAL_PROJECTION_WITHIN_MS + 1) })).toBe('cannotTell');
    expect(judgeReadModel({ status: undefined, closedAt }, { status: 'Complete', updatedAt: at(40) })).toBe('cannotTell');
    expect(judgeReadModel({ status: 'Complete', closedAt }, { status: 'Complete', updatedAt: 'not a time' })).toBe('cannotTell');
  });

  it('the judgement stays below the order workflow’s 10 s projection timeout, so a timed-out snapshot is never taken as final', () => {
    expect(FINAL_PROJECTION_WITHIN_MS).toBeLessThan(10_000);
  });
});

describe('the visibility query for closed orders', () => {
  it('selects this deployment’s order workflows closed in the window', () => {
    expect(closedOrdersQuery('hardware-orders', { closedAfter: '2025-03-14T09:45:00.000Z', closedBefore: '2025-03-14T10:00:00.000Z' })).toBe(
      "WorkflowType = 'orderWorkflow' AND TaskQueue = 'hardware-orders' AND ExecutionStatus != 'Running' AND CloseTime >= '2025-03-14T09:45:00.000Z' AND CloseTime < '2025-03-14T10:00:00.000Z'",
    );
  });

  it('quotes a task queue name that carries a quote', () => {
    expect(closedOrdersQuery("o'brien", { closedAfter: 'a', closedBefore: 'b' })).toContain("TaskQueue = 'o\\'brien'");
  });
});
