// P2: N orders waiting in Awaiting Dispatch, one N-row response file: time until all have closed,
// against plain client signals to N idle baseline workflows. The same population gives P5.
import { setTimeout as sleep } from 'node:timers/promises';
import { baselineDispatchSignal } from '../baseline-workflows';
import { progress } from '../progress';
import type { Recorder } from '../report';
import { ORDER_LINES } from '../orders';
import { driveOrder, processCpu, runPool, startBaselineWorker, startBenchSystem, waitBudget, waitClosed, type BenchServers, type BenchSystem } from '../system';
import { openOrdersMemory, p5Goal } from './p5-worker-memory';

async function ours(servers: BenchServers, n: number, concurrency: number) {
  const { temporal } = servers;
  const sys = await startBenchSystem(servers, 'p2', false);
  const out: Record<string, unknown> = { orders: n };
  const before = await sys.worker.stats();
  out.workerRssBeforeMb = before.rssKb / 1024;
  {
    const bar = progress('P2/P5 ours: orders to Awaiting Dispatch', n);
    let generated = 0;
    const errors: string[] = [];
    await runPool(n, concurrency, async (i) => {
      try {
        await driveOrder(sys, i, [ORDER_LINES[0]]);
        generated++;
      } catch (err) {
        errors.push(String(err));
      }
      bar.update(generated);
    });
    bar.done(errors.length ? `${errors.length} failed: ${errors[0]}` : '');
    out.populateErrors = errors.length;
    const q = `TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow' AND OrderStatus = 'AwaitingDispatch'`;
    const wait = progress('P2/P5 ours: waiting in Awaiting Dispatch', generated);
    const deadline = Date.now() + waitBudget(n);
    for (;;) {
      const { count } = await temporal.workflow.count(q);
      wait.update(count);
      if (count >= generated) break;
      if (Date.now() > deadline) throw new Error(`only ${count} of ${generated} orders reached Awaiting Dispatch`);
      await sleep(1000);
    }
    wait.done();
    out.awaitingDispatch = generated;
  }
  // P5: the worker holding them all open.
  Object.assign(out, await openOrdersMemory(sys.worker));

  // P2: one response file for them all; time until every order has closed (charged, projected).
  const cpu = processCpu(servers, sys.worker, sys.simulator);
  const t0 = Date.now();
  const files = await sys.simulator.respond();
  const written = Date.now();
  out.responseFiles = files.length;
  let lastClose: number;
  try {
    const closed = await waitClosed(
      temporal,
      `TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow'`,
      out.awaitingDispatch as number,
      'P2 ours: orders closed after the file',
      waitBudget(n),
    );
    lastClose = Math.max(...[...closed.values()].map((c) => c.close));
  } catch (err) {
    // Too slow to finish: report the time waited as a lower bound, and P5 all the same.
    out.error = String((err as Error).message);
    lastClose = Date.now();
  }
  out.cpuMsPerOrder = cpu.perUnit(out.awaitingDispatch as number);
  const batch = await sys.db.models.DispatchBatch.findOne({}, { batchId: 1, rowCount: 1 }).lean();
  out.responseRows = batch?.rowCount;
  const job = batch ? await temporal.workflow.getHandle(`dispatch-${batch.batchId}`).describe() : undefined;
  out.seconds = (lastClose - t0) / 1000;
  out.breakdownSeconds = {
    writeFile: (written - t0) / 1000,
    fileToBatchStored: job ? (job.startTime.getTime() - t0) / 1000 : null,
    dispatchJobSignalling: job?.closeTime ? (job.closeTime.getTime() - job.startTime.getTime()) / 1000 : null,
    lastOrderClosedAfterJob: job?.closeTime ? (lastClose - job.closeTime.getTime()) / 1000 : null,
  };
  out.complete = await sys.db.models.OrderView.countDocuments({ status: 'Complete' });
  return { sys, out };
}

async function baseline(servers: BenchServers, n: number) {
  const { temporal } = servers;
  const { taskQueue, worker } = await startBaselineWorker(servers, 'p2');
  try {
    const out: Record<string, unknown> = { orders: n };
    const bar = progress('P2/P5 baseline: idle workflows', n);
    let started = 0;
    await runPool(n, 50, async (i) => {
      await temporal.workflow.start('baselineOrderWorkflow', { taskQueue, workflowId: `baseline-p2-${i}`, args: [{ awaitingDispatch: true }] });
      bar.update(++started);
    });
    bar.done();
    // Idle means the worker has run their first workflow task: wait for the last ones started.
    for (const i of [n - 1, Math.floor(n / 2), 0]) {
      for (;;) {
        const d = await temporal.workflow.getHandle(`baseline-p2-${i}`).describe();
        if (d.historyLength >= 4) break;
        await sleep(500);
      }
    }
    Object.assign(out, await openOrdersMemory(worker));
    const cpu = processCpu(servers, worker);
    const t0 = Date.now();
    const sig = progress('P2 baseline: signals', n);
    let signalled = 0;
    await runPool(n, 32, async (i) => {
      await temporal.workflow.getHandle(`baseline-p2-${i}`).signal(baselineDispatchSignal);
      sig.update(++signalled);
    });
    sig.done();
    const closed = await waitClosed(temporal, `TaskQueue = '${taskQueue}'`, n, 'P2 baseline: closed', waitBudget(n));
    out.seconds = (Math.max(...[...closed.values()].map((c) => c.close)) - t0) / 1000;
    out.cpuMsPerOrder = cpu.perUnit(n);
    return out;
  } finally {
    await worker.stop();
  }
}

/**
 * P2 and P5 on one population of max(p2Orders, p5Orders); returns the system still running, with
 * its closed orders, for P3 to measure on.
 */
export async function runP2P5(servers: BenchServers, o: { p2Orders: number; p5Orders: number; p2Concurrency: number }, rec: Recorder): Promise<BenchSystem> {
  const b = await baseline(servers, Math.max(o.p2Orders, o.p5Orders));
  const { sys, out } = await ours(servers, Math.max(o.p2Orders, o.p5Orders), o.p2Concurrency);
  rec.scenarios.P2 = { ours: out, baseline: b };
  const seconds = out.seconds as number;
  const baseSeconds = b.seconds as number;
  const orders = out.awaitingDispatch as number;
  const timedOut = out.error ? ` (gave up: ${out.error})` : '';
  rec.goals.push({
    scenario: 'P2 bulk dispatch',
    measure: `${orders.toLocaleString('en-GB')} orders, one file: time to all closed${timedOut}`,
    ours: seconds,
    baseline: baseSeconds,
    unit: 's',
    ratio: seconds / baseSeconds,
    goal: '≤ 1.8 × baseline',
    met: !timedOut && seconds / baseSeconds <= 1.8,
  });
  const cpuOurs = out.cpuMsPerOrder as Record<string, number>;
  const cpuBase = b.cpuMsPerOrder as Record<string, number>;
  const byProcess = Object.keys(cpuOurs)
    .filter((k) => k !== 'total')
    .map((k) => `${k} ${Math.round(cpuOurs[k])}${k in cpuBase ? ` / ${Math.round(cpuBase[k])}` : ''}`)
    .join(', ');
  rec.goals.push({
    scenario: 'P2 bulk dispatch',
    measure: `CPU time per order after the file, all processes (${byProcess})`,
    ours: cpuOurs.total,
    baseline: cpuBase.total,
    unit: 'ms',
    ratio: cpuOurs.total / cpuBase.total,
    goal: 'reported',
    met: true,
  });
  rec.goals.push(p5Goal(orders, out.workerRssOpenMb as number, b.workerRssOpenMb as number));
  return sys;
}
