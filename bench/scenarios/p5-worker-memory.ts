// P5: the worker's memory with the P2 population open (every order waiting in Awaiting Dispatch),
// against the baseline worker holding as many idle workflows. Measured inside P2's run.
import { setTimeout as sleep } from 'node:timers/promises';
import type { GoalRow } from '../report';
import type { ChildWorker } from '../system';

/** The worker's memory once the open workflows have settled, in MB. */
export async function openOrdersMemory(worker: ChildWorker) {
  await sleep(2000);
  const s = await worker.stats();
  return { workerRssOpenMb: s.rssKb / 1024, workerPeakRssMb: s.peakRssKb / 1024, workerHeapUsedMb: s.heapUsedKb / 1024 };
}

export function p5Goal(openOrders: number, oursRssMb: number, baselineRssMb: number): GoalRow {
  return {
    scenario: 'P5 open orders',
    measure: `worker RSS, ${openOrders.toLocaleString('en-GB')} orders open`,
    ours: oursRssMb,
    baseline: baselineRssMb,
    unit: 'MB',
    ratio: null,
    goal: '≤ 500 MB',
    met: oursRssMb <= 500,
  };
}
