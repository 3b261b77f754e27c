// P1: orders through the whole pipeline via the API (create, two lines, generate, fraud check,
// sales-order file, warehouse response, dispatch job, Complete, charge) at each concurrency,
// against the bare baseline workflow driven by plain client calls.
import { orderWorkflowId } from '../../workflows/messages';
import { baselineDispatchSignal, baselineGenerateUpdate, baselineLineUpdate } from '../baseline-workflows';
import { subtractCounts } from '../metrics';
import { progress, say } from '../progress';
import type { Recorder } from '../report';
import { ORDER_LINES } from '../orders';
import {
  driveOrder,
  historyShape,
  processCpu,
  runPool,
  sample,
  stage,
  startBaselineWorker,
  startBenchSystem,
  waitBudget,
  waitClosed,
  type BenchServers,
} from '../system';

/** Warehouse files are named by the time they were written: 2025-06-01T10-11-12-345Z-…csv. */
function fileTime(name: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(name);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : NaN;
}

async function ours(servers: BenchServers, concurrency: number, n: number) {
  const { temporal } = servers;
  const sys = await startBenchSystem(servers, `p1_c${concurrency}`, true);
  try {
    const before = await sys.commands();
    const createMs: number[] = [];
    const generatedAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const errors: string[] = [];
    const bar = progress(`P1 ours c=${concurrency}: agents generate`, n);
    const cpu = processCpu(servers, sys.worker, sys.simulator);
    const t0 = Date.now();
    await runPool(n, concurrency, async (i) => {
      try {
        await driveOrder(sys, i, ORDER_LINES, {
          created(orderId, s) {
            createMs.push(Date.now() - s);
            startedAt.set(orderId, s);
          },
          generating: (orderId) => generatedAt.set(orderId, Date.now()),
        });
      } catch (err) {
        errors.push(String(err));
      }
      bar.update(generatedAt.size);
    });
    bar.done();
    const closed = await waitClosed(
      temporal,
      `TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow'`,
      generatedAt.size,
      `P1 ours c=${concurrency}: orders closed`,
      waitBudget(n),
    );
    const cpuMsPerOrder = cpu.perUnit(generatedAt.size);
    const lastClose = Math.max(...[...closed.values()].map((c) => c.close));
    const after = await sys.commands();

    // Stage times from the orders' own history (workflow time) and the warehouse files' names.
    const views = await sys.db.models.OrderView.find({}, { orderId: 1, status: 1, state: 1 }).lean();
    const batches = await sys.db.models.DispatchBatch.find({}, { sourceFile: 1, orderIds: 1 }).lean();
    const respondedAt = new Map<string, number>();
    for (const b of batches) for (const id of b.orderIds as string[]) respondedAt.set(id, fileTime(b.sourceFile as string));
    const toDispatch: number[] = [];
    const toComplete: number[] = [];
    const total: number[] = [];
    let complete = 0;
    for (const v of views) {
      const history = (v.state as { history: { to: string; at: string }[] }).history;
      const at = (to: string) => Date.parse(history.find((h) => h.to === to)?.at ?? '');
      if (v.status === 'Complete') complete++;
      const gen = generatedAt.get(v.orderId as string);
      if (gen) toDispatch.push(at('AwaitingDispatch') - gen);
      const responded = respondedAt.get(v.orderId as string);
      if (responded) toComplete.push(at('Complete') - responded);
      const c = closed.get(orderWorkflowId(v.orderId as string));
      const s = startedAt.get(v.orderId as string);
      if (c && s) total.push(c.close - s);
    }
    const ids = [...generatedAt.keys()];
    const shape = await historyShape(temporal, sample(ids, 5).map(orderWorkflowId));
    const dispatchJobs = [
      ...(
        await waitClosed(
          temporal,
          `TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'salesOrderDispatchWorkflow'`,
          batches.length,
          `P1 ours c=${concurrency}: dispatch jobs`,
          60_000,
        )
      ).keys(),
    ];
    const dispatchEvents = (await historyShape(temporal, dispatchJobs)).events * dispatchJobs.length;
    const used = subtractCounts(after, before);
    return {
      orders: n,
      generated: ids.length,
      complete,
      errors: errors.slice(0, 5),
      errorCount: errors.length,
      seconds: (lastClose - t0) / 1000,
      ordersPerSec: ids.length / ((lastClose - t0) / 1000),
      stagesMs: {
        'create→New': stage(createMs),
        'generate→AwaitingDispatch': stage(toDispatch),
        'respond→Complete': stage(toComplete),
        'create→closed': stage(total),
      },
      historyEventsPerOrder: shape.events,
      activationsPerOrder: shape.activations,
      cpuMsPerOrder,
      dispatchJobEventsPerOrder: dispatchEvents / Math.max(1, ids.length),
      responseFiles: batches.length,
      mongoWritesPerOrder: used.writes / Math.max(1, ids.length),
      mongoCommandsPerOrder: used.total / Math.max(1, ids.length),
      mongoCommandsByName: used.byName,
      mongoCommandsByCollection: used.byCollection,
    };
  } finally {
    await sys.stop();
  }
}

async function baseline(servers: BenchServers, concurrency: number, n: number) {
  const { temporal } = servers;
  const { taskQueue, worker } = await startBaselineWorker(servers, `p1_c${concurrency}`);
  try {
    const createMs: number[] = [];
    const startedAt = new Map<string, number>();
    const bar = progress(`P1 baseline c=${concurrency}: clients generate`, n);
    const cpu = processCpu(servers, worker);
    const t0 = Date.now();
    await runPool(n, concurrency, async (i) => {
      const workflowId = `baseline-p1-c${concurrency}-${i}`;
      const s = Date.now();
      const handle = await temporal.workflow.start('baselineOrderWorkflow', { taskQueue, workflowId, args: [{}] });
      createMs.push(Date.now() - s);
      startedAt.set(workflowId, s);
      for (const line of ORDER_LINES) await handle.executeUpdate(baselineLineUpdate, { args: [line] });
      await handle.executeUpdate(baselineGenerateUpdate);
      // The warehouse's answer: the least any design could do is one signal.
      await handle.signal(baselineDispatchSignal);
      bar.update(startedAt.size);
    });
    bar.done();
    const closed = await waitClosed(temporal, `TaskQueue = '${taskQueue}'`, n, `P1 baseline c=${concurrency}: closed`, waitBudget(n));
    const cpuMsPerOrder = cpu.perUnit(n);
    const lastClose = Math.max(...[...closed.values()].map((c) => c.close));
    const total = [...startedAt].map(([id, s]) => (closed.get(id)?.close ?? NaN) - s).filter(Number.isFinite);
    return {
      orders: n,
      seconds: (lastClose - t0) / 1000,
      ordersPerSec: n / ((lastClose - t0) / 1000),
      stagesMs: { 'create→New': stage(createMs), 'create→closed': stage(total) },
      cpuMsPerOrder,
      ...(await historyShape(temporal, sample([...startedAt.keys()], 5)).then((h) => ({
        historyEventsPerOrder: h.events,
        activationsPerOrder: h.activations,
      }))),
    };
  } finally {
    await worker.stop();
  }
}

/** P1 at each concurrency (a level that fails is reported and the next one runs), then its goals. */
export async function runP1(servers: BenchServers, o: { orders: number; concurrency: number[] }, rec: Recorder): Promise<void> {
  let last: { ours: Awaited<ReturnType<typeof ours>>; baseline: Awaited<ReturnType<typeof baseline>> } | undefined;
  for (const c of o.concurrency) {
    await rec.attempt(`P1 c=${c}`, async () => {
      const b = await baseline(servers, c, o.orders);
      const r = await ours(servers, c, o.orders);
      last = { ours: r, baseline: b };
      rec.scenarios[`P1 c=${c}`] = last;
      rec.p1Levels.push({
        concurrency: c,
        orders: o.orders,
        completed: r.complete,
        ordersPerSec: r.ordersPerSec,
        baselineOrdersPerSec: b.ordersPerSec,
        ratio: r.ordersPerSec / b.ordersPerSec,
        stagesMs: r.stagesMs,
        baselineStagesMs: b.stagesMs,
        cpuMsPerOrder: r.cpuMsPerOrder,
        baselineCpuMsPerOrder: b.cpuMsPerOrder,
      });
      say(`P1 c=${c}: ours ${r.ordersPerSec.toFixed(2)} orders/s, baseline ${b.ordersPerSec.toFixed(2)} orders/s`);
    });
  }
  for (const l of rec.p1Levels) {
    rec.goals.push({
      scenario: 'P1 end to end',
      measure: `throughput, ${l.orders} orders, ${l.concurrency} agents`,
      ours: l.ordersPerSec,
      baseline: l.baselineOrdersPerSec,
      unit: 'orders/s',
      ratio: l.ratio,
      goal: '≥ 0.5 × baseline',
      met: l.ratio >= 0.5,
    });
  }
  if (!last) return;
  const { ours: r, baseline: b } = last;
  rec.goals.push({
    scenario: 'P1 end to end',
    measure: 'workflow activations per order',
    ours: r.activationsPerOrder,
    baseline: b.activationsPerOrder,
    unit: 'activations',
    ratio: r.activationsPerOrder / b.activationsPerOrder,
    goal: '≤ 10',
    met: r.activationsPerOrder <= 10,
  });
  rec.goals.push({
    scenario: 'P1 end to end',
    measure: 'history events per order (dispatch job share reported apart)',
    ours: r.historyEventsPerOrder,
    baseline: b.historyEventsPerOrder,
    unit: `events (+${r.dispatchJobEventsPerOrder.toFixed(1)})`,
    ratio: r.historyEventsPerOrder / b.historyEventsPerOrder,
    goal: '≤ 45',
    met: r.historyEventsPerOrder <= 45,
  });
  rec.goals.push({
    scenario: 'P1 end to end',
    measure: 'MongoDB commands per order (writes)',
    ours: r.mongoCommandsPerOrder,
    baseline: null,
    unit: `commands (${r.mongoWritesPerOrder.toFixed(1)} writes)`,
    ratio: null,
    goal: '≤ 30',
    met: r.mongoCommandsPerOrder <= 30,
  });
  rec.goals.push({
    scenario: 'P1 end to end',
    measure: 'CPU time per order, all processes',
    ours: r.cpuMsPerOrder.total,
    baseline: b.cpuMsPerOrder.total,
    unit: 'ms',
    ratio: r.cpuMsPerOrder.total / b.cpuMsPerOrder.total,
    goal: '≤ 120 ms',
    met: r.cpuMsPerOrder.total <= 120,
  });
}
