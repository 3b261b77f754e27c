// `npm run bench [-- --quick]`: measures the order pipeline on a Temporal dev server and FerretDB
// of its own against baselines run on the same servers in the same run (timings on shared
// machines are noisy; ratios are what we compare). See the README section "Performance".
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime } from '@temporalio/worker';
import { Hono } from 'hono';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { watchInboxes, type WatchHandle } from '../adaptor/watcher';
import { createApp } from '../api/app';
import { loadConfig, type Config } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
import { ensureTools, freePort, startFerretDb, startTemporal, type ManagedProcess } from '../infra/dev-stack';
import { seedDemoData } from '../infra/seed';
import { HttpStockClient } from '../infra/stock-client';
import type { SimulatorOptions } from '../simulators/warehouse';
import { orderWorkflowId } from '../workflows/messages';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';
import { workflowsPath } from '../worker/worker';
import { baselineDispatchSignal, baselineGenerateUpdate, baselineLineUpdate } from './baseline-workflows';
import { addCounts, CommandCounter, cpuMeter, memoryKb, percentile, subtractCounts, type CommandCounts } from './metrics';
import { markdownReport, p1ChartSvg, type BenchReport, type GoalRow, type Machine, type P1Level } from './report';

Runtime.install({ logger: new DefaultLogger('WARN') });

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'agent-dev-token';

// ---------------------------------------------------------------------------------------------
// Options

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'p1-orders': { type: 'string' },
    'p1-concurrency': { type: 'string' },
    'p2-orders': { type: 'string' },
    'p2-concurrency': { type: 'string' },
    'p3-seconds': { type: 'string' },
    'p3-connections': { type: 'string' },
    'p4-rows': { type: 'string' },
    'p5-orders': { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = args.quick!;
const num = (v: string | undefined, full: number, small: number) => (v === undefined ? (quick ? small : full) : Number(v));
const opts = {
  p1Orders: num(args['p1-orders'], 500, 10),
  // FerretDB's SQLite answers SQLITE_BUSY under many concurrent writers (see README): agents
  // beyond ~8 at once push projections into retries and workflow tasks past their timeout.
  p1Concurrency: (args['p1-concurrency'] ?? (quick ? '1,2' : '1,4,8')).split(',').map(Number),
  p2Orders: num(args['p2-orders'], 10_000, 40),
  p2Concurrency: num(args['p2-concurrency'], 4, 4),
  p3Seconds: num(args['p3-seconds'], 10, 2),
  p3Connections: num(args['p3-connections'], 100, 100),
  p4Rows: num(args['p4-rows'], 100_000, 5_000),
  p5Orders: num(args['p5-orders'], 10_000, 40),
  only: new Set((args.only ?? 'P1,P2,P3,P4,P5').toUpperCase().split(',')),
  out: path.resolve(args.out ?? path.join(benchDir, 'results')),
};

// ---------------------------------------------------------------------------------------------
// Progress on stderr: a bar on a terminal, a line per tenth otherwise (logs of background runs).

const tty = process.stderr.isTTY;
function progress(label: string, total: number) {
  let lastTenth = -1;
  const started = Date.now();
  const draw = (done: number) => {
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    if (tty) {
      const width = 30;
      const filled = Math.round((Math.min(done, total) / Math.max(total, 1)) * width);
      process.stderr.write(`\r${label.padEnd(44)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${secs}s   `);
    } else {
      const tenth = Math.floor((Math.min(done, total) / Math.max(total, 1)) * 10);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        process.stderr.write(`${label}: ${done}/${total} (${secs}s)\n`);
      }
    }
  };
  draw(0);
  return {
    update: draw,
    done(note = '') {
      draw(total);
      if (tty) process.stderr.write(note ? ` ${note}\n` : '\n');
      else if (note) process.stderr.write(`${label}: ${note}\n`);
    },
  };
}
const say = (s: string) => process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `total` jobs with `concurrency` workers pulling from one counter. */
async function runPool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (let i = next++; i < total; i = next++) await job(i);
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Servers and systems

const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hardware-orders-bench-'));
const cleanups: (() => Promise<unknown>)[] = [];
let temporalAddress = '';
let mongoHost = '';
let temporal: Client;
let serverPids: { temporal?: number; ferretdb?: number } = {};
let realBundle = '';
let baselineBundle = '';

/** Resolves on a forked child's first message (it is ready); rejects if it exits first. */
function readyOf(child: ChildProcess, name: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code} before it was ready`)));
  });
}

/** Asks a forked child to stop over IPC (SIGTERM once the channel is gone); SIGKILL after `graceMs`. */
async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  if (child.connected) child.send({ type: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

interface ChildWorker {
  child: ChildProcess;
  stats(): Promise<{ rssKb: number; peakRssKb: number; heapUsedKb: number; commands: CommandCounts }>;
  stop(): Promise<void>;
}

async function startChildWorker(mode: 'real' | 'baseline', env: Record<string, string>): Promise<ChildWorker> {
  const log = fs.openSync(path.join(tmpRoot, `worker-${env.TEMPORAL_TASK_QUEUE}.log`), 'a');
  const child = fork(path.join(benchDir, 'worker-child.ts'), [mode], {
    // BENCH_WORKER_CPU_PROF=<dir>: a V8 CPU profile of each worker, written there when it stops.
    // Our worker runs with the flags it is deployed with; the baseline with Node's defaults.
    execArgv: [...(mode === 'real' ? WORKER_NODE_FLAGS : []), '--import', 'tsx', '--expose-gc', ...(process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : [])],
    env: { ...process.env, ...env, WORKFLOW_BUNDLE_PATH: mode === 'real' ? realBundle : baselineBundle },
    // The worker's own log (SDK warnings) goes to a file beside the servers' logs.
    stdio: ['ignore', log, log, 'ipc'],
  });
  await readyOf(child, `${mode} worker`);
  let queue: Promise<unknown> = Promise.resolve();
  const w: ChildWorker = {
    child,
    stats() {
      const p = queue.then(
        () =>
          new Promise<Awaited<ReturnType<ChildWorker['stats']>>>((resolve) => {
            child.once('message', (m) => resolve(m as never));
            child.send({ type: 'stats' });
          }),
      );
      queue = p.catch(() => undefined);
      return p;
    },
    stop: () => stopChild(child, 30_000),
  };
  cleanups.push(() => w.stop());
  return w;
}

interface WarehouseChild {
  child: ChildProcess;
  /** Answers every order the warehouses hold now; the response files written. */
  respond(): Promise<string[]>;
  stop(): Promise<void>;
}

async function startWarehouseChild(options: SimulatorOptions, port: number): Promise<WarehouseChild> {
  const child = fork(path.join(benchDir, 'warehouse-child.ts'), [JSON.stringify({ ...options, port })], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await readyOf(child, 'warehouse simulator');
  let nextId = 0;
  const w: WarehouseChild = {
    child,
    respond() {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const onMessage = (m: { type: string; id?: number; files?: string[]; error?: string }) => {
          if (m.type !== 'responded' || m.id !== id) return;
          child.off('message', onMessage);
          if (m.error) reject(new Error(m.error));
          else resolve(m.files!);
        };
        child.on('message', onMessage);
        child.send({ type: 'respond', id });
      });
    },
    stop: () => stopChild(child, 10_000),
  };
  cleanups.push(() => w.stop());
  return w;
}

interface BenchSystem {
  name: string;
  config: Config;
  db: Db;
  counter: CommandCounter;
  api: ReturnType<typeof createApp>;
  simulator: WarehouseChild;
  adaptor: WatchHandle;
  worker: ChildWorker;
  /** Database commands of the harness side (API, adaptor) and the worker, together. */
  commands(): Promise<CommandCounts>;
  stop(): Promise<void>;
}

/** One system per scenario: its own database, task queue, warehouse folders and worker process. */
async function startBenchSystem(name: string, autoRespond: boolean): Promise<BenchSystem> {
  const dataDir = path.join(tmpRoot, name);
  const simPort = await freePort();
  const env = {
    NODE_ENV: 'development',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: `bench-${name}`,
    MONGODB_URI: `mongodb://${mongoHost}/bench_${name}?monitorCommands=true`,
    DATA_DIR: dataDir,
    WAREHOUSE_STOCK_URL: `http://127.0.0.1:${simPort}`,
    ADAPTOR_POLL_MS: '200',
    // Every order gets a fraud check (the baseline runs one). Orders go to their customers' own
    // addresses (deliveryFor), so the velocity rule runs at its default limit and refers none.
    FRAUD_VALUE_THRESHOLD: '0',
    LOG_LEVEL: 'warn',
  };
  const config = loadConfig(env);
  const db = await connectDb(config.mongodbUri);
  await seedDemoData(db);
  const counter = new CommandCounter();
  counter.attach(db.conn.getClient());
  const simulator = await startWarehouseChild({ dataDir, warehouseIds: config.warehouses.ids, seed: 7, errorRate: 0, outOfStockRate: 0, defaultStock: 1_000_000_000, autoRespond, pollMs: 200 }, simPort);
  const worker = await startChildWorker('real', env);
  const adaptor = watchInboxes({ config, db, temporal }, config.warehouses.ids, config.adaptorPollMs);
  const stock = new HttpStockClient(config.warehouses.stockUrl!, config.warehouses.ids, config.warehouses.stockTimeoutMs);
  const api = createApp({ config, db, temporal, stock });
  let stopped = false;
  const sys: BenchSystem = {
    name,
    config,
    db,
    counter,
    api,
    simulator,
    adaptor,
    worker,
    async commands() {
      return addCounts(counter.snapshot(), (await worker.stats()).commands);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await adaptor.stop();
      await simulator.stop();
      await worker.stop();
      await db.close();
    },
  };
  cleanups.push(() => sys.stop());
  return sys;
}

/** The agent's API, in process: P1 measures the pipeline, P3 measures HTTP. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely
async function callApi(sys: BenchSystem, method: string, url: string, body?: unknown): Promise<any> {
  const res = await sys.api.request(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-agent-id': 'bench-agent' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** Waits until `n` workflows matching the visibility query have closed; returns their close info. */
async function waitClosed(query: string, n: number, label: string, timeoutMs: number) {
  const bar = progress(label, n);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { count } = await temporal.workflow.count(`${query} AND ExecutionStatus != 'Running'`);
    bar.update(count);
    if (count >= n) break;
    if (Date.now() > deadline) {
      bar.done('timed out');
      throw new Error(`${label}: only ${count} of ${n} closed within ${Math.round(timeoutMs / 1000)} s`);
    }
    await sleep(500);
  }
  bar.done();
  const closed = new Map<string, { start: number; close: number; status: string }>();
  for await (const wf of temporal.workflow.list({ query: `${query} AND ExecutionStatus != 'Running'` })) {
    closed.set(wf.workflowId, { start: wf.startTime.getTime(), close: wf.closeTime?.getTime() ?? NaN, status: wf.status.name });
  }
  return closed;
}

/**
 * Per workflow, on average: history events, and workflow activations (each workflow task, and
 * each local activity result, which wakes the workflow code within its task).
 */
async function historyShape(workflowIds: string[]): Promise<{ events: number; activations: number }> {
  let events = 0;
  let activations = 0;
  for (const id of workflowIds) {
    const history = (await temporal.workflow.getHandle(id).fetchHistory()).events ?? [];
    events += history.length;
    for (const e of history) {
      if (e.workflowTaskCompletedEventAttributes) activations++;
      else if (e.markerRecordedEventAttributes?.markerName === 'core_local_activity') activations++;
    }
  }
  const n = Math.max(1, workflowIds.length);
  return { events: events / n, activations: activations / n };
}

const sample = <T>(xs: T[], n: number) => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0).slice(0, n);
/** A call centre's orders go to many customers: order i's delivery, an address of its own. */
const deliveryFor = (i: number) => ({
  name: 'Bob Smith',
  phone: '+44 7700 900999',
  address: { lines: [`${i + 1} Park Road`], city: 'Leeds', postcode: 'LS2 7AB', country: 'GB' },
});

/** CPU of every process serving a run: the servers, its worker, the warehouses, and this harness (API, adaptor, agents). */
const processCpu = (worker: ChildWorker, warehouses?: WarehouseChild) =>
  cpuMeter({ temporal: serverPids.temporal, ferretdb: serverPids.ferretdb, worker: worker.child.pid, ...(warehouses ? { warehouses: warehouses.child.pid } : {}), harness: 'self' });
const stage = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95) });
const waitBudget = (n: number) => 120_000 + n * 1_000;

/** Warehouse files are named by the time they were written: 2025-06-01T10-11-12-345Z-…csv. */
function fileTime(name: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z/.exec(name);
  return m ? Date.parse(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : NaN;
}

// ---------------------------------------------------------------------------------------------
// P1: end to end, at each concurrency

const P1_LINES = [
  { sku: 'HS-APL-IP16-128', quantity: 1 },
  { sku: 'PR-GEN-CASE-IP16', quantity: 1 },
];

async function p1Real(concurrency: number, n: number) {
  const sys = await startBenchSystem(`p1_c${concurrency}`, true);
  try {
    const before = await sys.commands();
    const createMs: number[] = [];
    const generatedAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    const errors: string[] = [];
    const bar = progress(`P1 ours c=${concurrency}: agents generate`, n);
    const cpu = processCpu(sys.worker, sys.simulator);
    const t0 = Date.now();
    await runPool(n, concurrency, async (i) => {
      try {
        const s = Date.now();
        const order = await callApi(sys, 'POST', '/api/v1/accounts/ACC-1001/orders', { delivery: deliveryFor(i) });
        createMs.push(Date.now() - s);
        startedAt.set(order.orderId, s);
        for (const line of P1_LINES) await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/lines`, line);
        generatedAt.set(order.orderId, Date.now());
        await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/generate`);
      } catch (err) {
        errors.push(String(err));
      }
      bar.update(generatedAt.size);
    });
    bar.done();
    const closed = await waitClosed(`TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow'`, generatedAt.size, `P1 ours c=${concurrency}: orders closed`, waitBudget(n));
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
    const shape = await historyShape(sample(ids, 5).map(orderWorkflowId));
    const dispatchJobs = [...(await waitClosed(`TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'salesOrderDispatchWorkflow'`, batches.length, `P1 ours c=${concurrency}: dispatch jobs`, 60_000)).keys()];
    const dispatchEvents = (await historyShape(dispatchJobs)).events * dispatchJobs.length;
    const used = subtractCounts(after, before);
    return {
      orders: n,
      generated: ids.length,
      complete,
      errors: errors.slice(0, 5),
      errorCount: errors.length,
      seconds: (lastClose - t0) / 1000,
      ordersPerSec: ids.length / ((lastClose - t0) / 1000),
      stagesMs: { 'create→New': stage(createMs), 'generate→AwaitingDispatch': stage(toDispatch), 'respond→Complete': stage(toComplete), 'create→closed': stage(total) },
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

async function startBaselineWorker(name: string) {
  const taskQueue = `bench-baseline-${name}`;
  const worker = await startChildWorker('baseline', { TEMPORAL_ADDRESS: temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, MONGODB_URI: `mongodb://${mongoHost}/unused` });
  return { taskQueue, worker };
}

async function p1Baseline(concurrency: number, n: number) {
  const { taskQueue, worker } = await startBaselineWorker(`p1_c${concurrency}`);
  try {
    const createMs: number[] = [];
    const startedAt = new Map<string, number>();
    const bar = progress(`P1 baseline c=${concurrency}: clients generate`, n);
    const cpu = processCpu(worker);
    const t0 = Date.now();
    await runPool(n, concurrency, async (i) => {
      const workflowId = `baseline-p1-c${concurrency}-${i}`;
      const s = Date.now();
      const handle = await temporal.workflow.start('baselineOrderWorkflow', { taskQueue, workflowId, args: [{}] });
      createMs.push(Date.now() - s);
      startedAt.set(workflowId, s);
      for (const line of P1_LINES) await handle.executeUpdate(baselineLineUpdate, { args: [line] });
      await handle.executeUpdate(baselineGenerateUpdate);
      // The warehouse's answer: the least any design could do is one signal.
      await handle.signal(baselineDispatchSignal);
      bar.update(startedAt.size);
    });
    bar.done();
    const closed = await waitClosed(`TaskQueue = '${taskQueue}'`, n, `P1 baseline c=${concurrency}: closed`, waitBudget(n));
    const cpuMsPerOrder = cpu.perUnit(n);
    const lastClose = Math.max(...[...closed.values()].map((c) => c.close));
    const total = [...startedAt].map(([id, s]) => (closed.get(id)?.close ?? NaN) - s).filter(Number.isFinite);
    return {
      orders: n,
      seconds: (lastClose - t0) / 1000,
      ordersPerSec: n / ((lastClose - t0) / 1000),
      stagesMs: { 'create→New': stage(createMs), 'create→closed': stage(total) },
      cpuMsPerOrder,
      ...(await historyShape(sample([...startedAt.keys()], 5)).then((h) => ({ historyEventsPerOrder: h.events, activationsPerOrder: h.activations }))),
    };
  } finally {
    await worker.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// P2 (bulk dispatch) and P5 (open orders) share one population in Awaiting Dispatch.

async function p2p5(n2: number, n5: number) {
  const n = Math.max(n2, n5);
  const sys = await startBenchSystem('p2', false);
  const out: Record<string, unknown> = { orders: n };
  const before = await sys.worker.stats();
  out.workerRssBeforeMb = before.rssKb / 1024;
  {
    const bar = progress('P2/P5 ours: orders to Awaiting Dispatch', n);
    let generated = 0;
    const errors: string[] = [];
    await runPool(n, opts.p2Concurrency, async (i) => {
      try {
        const order = await callApi(sys, 'POST', '/api/v1/accounts/ACC-1001/orders', { delivery: deliveryFor(i) });
        await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/lines`, P1_LINES[0]);
        await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/generate`);
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
  await sleep(2000);
  const open = await sys.worker.stats();
  out.workerRssOpenMb = open.rssKb / 1024;
  out.workerPeakRssMb = open.peakRssKb / 1024;
  out.workerHeapUsedMb = open.heapUsedKb / 1024;

  // P2: one response file for them all; time until every order has closed (charged, projected).
  const cpu = processCpu(sys.worker, sys.simulator);
  const t0 = Date.now();
  const files = await sys.simulator.respond();
  const written = Date.now();
  out.responseFiles = files.length;
  let lastClose: number;
  try {
    const closed = await waitClosed(`TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow'`, out.awaitingDispatch as number, 'P2 ours: orders closed after the file', waitBudget(n));
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

async function p2p5Baseline(n: number) {
  const { taskQueue, worker } = await startBaselineWorker('p2');
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
    await sleep(2000);
    const stats = await worker.stats();
    out.workerRssOpenMb = stats.rssKb / 1024;
    const cpu = processCpu(worker);
    const t0 = Date.now();
    const sig = progress('P2 baseline: signals', n);
    let signalled = 0;
    await runPool(n, 32, async (i) => {
      await temporal.workflow.getHandle(`baseline-p2-${i}`).signal(baselineDispatchSignal);
      if (++signalled % 100 === 0) sig.update(signalled);
    });
    sig.done();
    const closed = await waitClosed(`TaskQueue = '${taskQueue}'`, n, 'P2 baseline: closed', waitBudget(n));
    out.seconds = (Math.max(...[...closed.values()].map((c) => c.close)) - t0) / 1000;
    out.cpuMsPerOrder = cpu.perUnit(n);
    return out;
  } finally {
    await worker.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// P3: the agent API over real HTTP under load, against a bare hono route in the same process.

interface LoadResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

async function load(url: string, extra: Record<string, unknown> = {}): Promise<LoadResult> {
  const cfg = JSON.stringify({ url, connections: opts.p3Connections, duration: opts.p3Seconds, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, ...extra });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, 'load-child.ts'), cfg], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`load generator exited with ${code}`))));
  });
}

async function p3(sys: BenchSystem) {
  const listen = (app: { fetch: (req: Request) => Response | Promise<Response> }) =>
    new Promise<{ server: ServerType; port: number }>((resolve) => {
      void freePort().then((port) => {
        const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () => resolve({ server, port }));
      });
    });
  const order = await callApi(sys, 'POST', '/api/v1/accounts/ACC-1001/orders', {});
  await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/lines`, P1_LINES[0]);
  const orderBody = await callApi(sys, 'GET', `/api/v1/orders/${order.orderId}`);
  const stockBody = await callApi(sys, 'GET', '/api/v1/stock?sku=HS-APL-IP16-128&sku=PR-GEN-CASE-IP16');
  const bare = new Hono();
  bare.get('/order', (c) => c.json(orderBody));
  bare.get('/stock', (c) => c.json(stockBody));
  bare.post('/orders', (c) => c.json(order, 201));
  const real = await listen(sys.api);
  const base = await listen(bare);
  try {
    const endpoints = [
      { name: 'order read', ours: `/api/v1/orders/${order.orderId}`, baseline: '/order', extra: {} },
      { name: 'stock check', ours: '/api/v1/stock?sku=HS-APL-IP16-128&sku=PR-GEN-CASE-IP16', baseline: '/stock', extra: {} },
      { name: 'create order', ours: '/api/v1/accounts/ACC-1001/orders', baseline: '/orders', extra: { method: 'POST', body: '{}' } },
    ];
    const results: Record<string, { ours: LoadResult; baseline: LoadResult }> = {};
    for (const e of endpoints) {
      say(`P3: ${e.name}, ${opts.p3Connections} connections, ${opts.p3Seconds} s each (baseline, then ours)`);
      const b = await load(`http://127.0.0.1:${base.port}${e.baseline}`, e.extra);
      const o = await load(`http://127.0.0.1:${real.port}${e.ours}`, e.extra);
      results[e.name] = { ours: o, baseline: b };
    }
    return results;
  } finally {
    await new Promise((r) => real.server.close(r));
    await new Promise((r) => base.server.close(r));
  }
}

// ---------------------------------------------------------------------------------------------
// P4: the adaptor on a large response file, each side in a process of its own (own peak RSS).

function p4(rows: number) {
  const file = path.join(tmpRoot, `response-${rows}.csv`);
  const run = (...a: string[]) => execFileSync(process.execPath, ['--import', 'tsx', path.join(benchDir, 'p4-file.ts'), ...a], { encoding: 'utf8' });
  say(`P4: writing a ${rows}-row response file`);
  run('write', file, String(rows));
  say('P4: csv-parse alone (baseline)');
  const baseline = JSON.parse(run('csv-parse', file));
  say('P4: the adaptor: hash, parse, validate');
  const ours = JSON.parse(run('adaptor', file));
  return { rows, fileMb: fs.statSync(file).size / 1e6, ours, baseline };
}

// ---------------------------------------------------------------------------------------------
// Main

function machine(tools: { temporal: string; ferretdb: string }): Machine {
  const cpus = os.cpus();
  let temporalVersion = 'temporal ?';
  try {
    temporalVersion = execFileSync(tools.temporal, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as unknown
  }
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGb: os.totalmem() / 1024 ** 3,
    loadAverageAtStart: os.loadavg(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    temporal: temporalVersion,
    ferretdb: /ferretdb-(v[\d.]+)/.exec(tools.ferretdb)?.[1] ?? path.basename(path.dirname(tools.ferretdb)),
  };
}

async function main() {
  const startedAt = new Date();
  say(`bench: ${quick ? 'quick' : 'full'} run; work files in ${tmpRoot}`);
  const tools = ensureTools();
  const m = machine(tools);
  const goals: GoalRow[] = [];
  const scenarios: Record<string, unknown> = {};
  const failures: BenchReport['failures'] = [];
  const p1Levels: P1Level[] = [];
  const attempt = async (name: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (err) {
      say(`${name} failed: ${(err as Error).stack ?? err}`);
      failures.push({ scenario: name, error: String((err as Error).message ?? err) });
    }
  };

  if (opts.only.has('P4')) {
    await attempt('P4', async () => {
      const r = p4(opts.p4Rows);
      scenarios.P4 = r;
      const ratio = r.ours.rowsPerSec / r.baseline.rowsPerSec;
      goals.push({ scenario: 'P4 warehouse file', measure: `${r.rows.toLocaleString('en-GB')} rows: speed`, ours: r.ours.rowsPerSec, baseline: r.baseline.rowsPerSec, unit: 'rows/s', ratio, goal: '≥ 0.5 × baseline', met: ratio >= 0.5 });
      goals.push({ scenario: 'P4 warehouse file', measure: 'peak RSS', ours: r.ours.peakRssKb / 1024, baseline: r.baseline.peakRssKb / 1024, unit: 'MB', ratio: null, goal: '≤ 200 MB', met: r.ours.peakRssKb / 1024 <= 200 });
    });
  }
  if (![...opts.only].some((s) => s !== 'P4')) return finish();

  const [tPort, uiPort, fPort] = [await freePort(), await freePort(), await freePort()];
  say('bench: starting the Temporal dev server and FerretDB');
  const [temporalServer, ferret]: ManagedProcess[] = await Promise.all([
    startTemporal({ binary: tools.temporal, port: tPort, uiPort, dbFile: path.join(tmpRoot, 'temporal.db'), logFile: path.join(tmpRoot, 'temporal.log'), headless: true }),
    startFerretDb({ binary: tools.ferretdb, port: fPort, dir: path.join(tmpRoot, 'ferretdb'), logFile: path.join(tmpRoot, 'ferretdb.log') }),
  ]);
  cleanups.push(() => temporalServer.stop(), () => ferret.stop());
  serverPids = { temporal: temporalServer.child.pid, ferretdb: ferret.child.pid };
  temporalAddress = `127.0.0.1:${tPort}`;
  mongoHost = `127.0.0.1:${fPort}`;
  const connection = await Connection.connect({ address: temporalAddress });
  cleanups.push(() => connection.close());
  temporal = new Client({ connection });
  say('bench: bundling the workflows (ours and the baseline)');
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: (msg: string) => say(msg), log() {} };
  realBundle = path.join(tmpRoot, 'workflows.js');
  baselineBundle = path.join(tmpRoot, 'baseline-workflows.js');
  fs.writeFileSync(realBundle, (await bundleWorkflowCode({ workflowsPath, logger: quiet })).code);
  fs.writeFileSync(baselineBundle, (await bundleWorkflowCode({ workflowsPath: path.join(benchDir, 'baseline-workflows.ts'), logger: quiet })).code);

  if (opts.only.has('P1')) {
    for (const c of opts.p1Concurrency) {
      await attempt(`P1 c=${c}`, async () => {
        const baseline = await p1Baseline(c, opts.p1Orders);
        const ours = await p1Real(c, opts.p1Orders);
        scenarios[`P1 c=${c}`] = { ours, baseline };
        p1Levels.push({ concurrency: c, orders: opts.p1Orders, completed: ours.complete, ordersPerSec: ours.ordersPerSec, baselineOrdersPerSec: baseline.ordersPerSec, ratio: ours.ordersPerSec / baseline.ordersPerSec, stagesMs: ours.stagesMs, baselineStagesMs: baseline.stagesMs, cpuMsPerOrder: ours.cpuMsPerOrder, baselineCpuMsPerOrder: baseline.cpuMsPerOrder });
        say(`P1 c=${c}: ours ${ours.ordersPerSec.toFixed(2)} orders/s, baseline ${baseline.ordersPerSec.toFixed(2)} orders/s`);
      });
    }
    for (const l of p1Levels) {
      goals.push({ scenario: 'P1 end to end', measure: `throughput, ${l.orders} orders, ${l.concurrency} agents`, ours: l.ordersPerSec, baseline: l.baselineOrdersPerSec, unit: 'orders/s', ratio: l.ratio, goal: '≥ 0.5 × baseline', met: l.ratio >= 0.5 });
    }
    const last = scenarios[`P1 c=${p1Levels.at(-1)?.concurrency}`] as { ours: Awaited<ReturnType<typeof p1Real>>; baseline: Awaited<ReturnType<typeof p1Baseline>> } | undefined;
    if (last) {
      const { ours, baseline } = last;
      goals.push({ scenario: 'P1 end to end', measure: 'workflow activations per order', ours: ours.activationsPerOrder, baseline: baseline.activationsPerOrder, unit: 'activations', ratio: ours.activationsPerOrder / baseline.activationsPerOrder, goal: '≤ 10', met: ours.activationsPerOrder <= 10 });
      goals.push({ scenario: 'P1 end to end', measure: 'history events per order (dispatch job share reported apart)', ours: ours.historyEventsPerOrder, baseline: baseline.historyEventsPerOrder, unit: `events (+${ours.dispatchJobEventsPerOrder.toFixed(1)})`, ratio: ours.historyEventsPerOrder / baseline.historyEventsPerOrder, goal: '≤ 45', met: ours.historyEventsPerOrder <= 45 });
      goals.push({ scenario: 'P1 end to end', measure: 'MongoDB commands per order (writes)', ours: ours.mongoCommandsPerOrder, baseline: null, unit: `commands (${ours.mongoWritesPerOrder.toFixed(1)} writes)`, ratio: null, goal: '≤ 30', met: ours.mongoCommandsPerOrder <= 30 });
      goals.push({ scenario: 'P1 end to end', measure: 'CPU time per order, all processes', ours: ours.cpuMsPerOrder.total, baseline: baseline.cpuMsPerOrder.total, unit: 'ms', ratio: ours.cpuMsPerOrder.total / baseline.cpuMsPerOrder.total, goal: '≤ 120 ms', met: ours.cpuMsPerOrder.total <= 120 });
    }
  }

  if (opts.only.has('P2') || opts.only.has('P5') || opts.only.has('P3')) {
    let sys: BenchSystem | undefined;
    // P3 runs on P2's population when both run; `--only P3` alone measures on a fresh system.
    if (opts.only.has('P2') || opts.only.has('P5')) await attempt('P2/P5', async () => {
      const baseline = await p2p5Baseline(Math.max(opts.p2Orders, opts.p5Orders));
      const r = await p2p5(opts.p2Orders, opts.p5Orders);
      sys = r.sys;
      scenarios.P2 = { ours: r.out, baseline };
      const ours = r.out.seconds as number;
      const b = baseline.seconds as number;
      const timedOut = r.out.error ? ` (gave up: ${r.out.error})` : '';
      goals.push({ scenario: 'P2 bulk dispatch', measure: `${(r.out.awaitingDispatch as number).toLocaleString('en-GB')} orders, one file: time to all closed${timedOut}`, ours, baseline: b, unit: 's', ratio: ours / b, goal: '≤ 1.8 × baseline', met: !timedOut && ours / b <= 1.8 });
      const cpuOurs = r.out.cpuMsPerOrder as Record<string, number>;
      const cpuBase = baseline.cpuMsPerOrder as Record<string, number>;
      const byProcess = Object.keys(cpuOurs)
        .filter((k) => k !== 'total')
        .map((k) => `${k} ${Math.round(cpuOurs[k])}${k in cpuBase ? ` / ${Math.round(cpuBase[k])}` : ''}`)
        .join(', ');
      goals.push({ scenario: 'P2 bulk dispatch', measure: `CPU time per order after the file, all processes (${byProcess})`, ours: cpuOurs.total, baseline: cpuBase.total, unit: 'ms', ratio: cpuOurs.total / cpuBase.total, goal: 'reported', met: true });
      const rss = r.out.workerRssOpenMb as number;
      goals.push({ scenario: 'P5 open orders', measure: `worker RSS, ${(r.out.awaitingDispatch as number).toLocaleString('en-GB')} orders open`, ours: rss, baseline: baseline.workerRssOpenMb as number, unit: 'MB', ratio: null, goal: '≤ 500 MB', met: rss <= 500 });
    });
    if (opts.only.has('P3')) {
      await attempt('P3', async () => {
        sys ??= await startBenchSystem('p3', false);
        const r = await p3(sys);
        scenarios.P3 = r;
        for (const [name, v] of Object.entries(r)) {
          // No answer at all within the load tool's timeout counts as errors too.
          const errs = v.ours.errors + v.ours.non2xx + (v.ours.requests === 0 ? 1 : 0);
          goals.push({ scenario: 'P3 agent API', measure: `${name}: p99 (p50 ${v.ours.p50Ms} / ${v.baseline.p50Ms} ms; ${v.ours.requests} answered, ${errs} errors)`, ours: v.ours.p99Ms, baseline: v.baseline.p99Ms, unit: 'ms', ratio: v.ours.p99Ms / Math.max(1, v.baseline.p99Ms), goal: 'p99 ≤ 3 × baseline, 0 errors', met: v.ours.requests > 0 && v.ours.p99Ms <= 3 * Math.max(1, v.baseline.p99Ms) && errs === 0 });
        }
      });
    }
    await sys?.stop();
  }
  return finish();

  function finish() {
    m.loadAverageAtEnd = os.loadavg();
    const report: BenchReport = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), quick, options: { ...opts, only: [...opts.only] }, machine: m, goals, scenarios, failures };
    fs.mkdirSync(opts.out, { recursive: true });
    const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
    const md = markdownReport(report, p1Levels);
    for (const base of [stamp, 'latest']) {
      fs.writeFileSync(path.join(opts.out, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
      fs.writeFileSync(path.join(opts.out, `${base}.md`), md);
      fs.writeFileSync(path.join(opts.out, `${base}-p1.svg`), p1ChartSvg(p1Levels));
    }
    process.stdout.write(md);
    say(`bench: results in ${path.join(opts.out, `${stamp}.{json,md}`)} and ${stamp}-p1.svg; harness peak RSS ${(memoryKb().peakRssKb / 1024).toFixed(0)} MB`);
    return report;
  }
}

let exitCode = 0;
let cleaning: Promise<void> | undefined;
const cleanUp = () =>
  (cleaning ??= (async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    if (!process.env.KEEP_BENCH_DATA) fs.rmSync(tmpRoot, { recursive: true, force: true });
  })());
// Interrupted: stop the servers and workers this run started before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void cleanUp().then(() => process.exit(130)));
try {
  const report = await main();
  if (report.failures.length) exitCode = 1;
} catch (err) {
  say(`bench failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  // Teardown stops the servers under clients that may still hold a retry timer; such a timer
  // firing on its closed channel is not a benchmark failure. Anything else still is.
  process.on('uncaughtException', (err) => {
    if (/Channel has been shut down/.test(String(err))) return;
    say(`bench teardown failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
  await cleanUp();
}
process.exit(exitCode);
