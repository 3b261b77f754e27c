// The systems the scenarios measure: a Temporal dev server and a FerretDB of the run's own, and per
// scenario a bench system (database, task queue, warehouse simulator and worker in processes of
// their own, the API and the adaptor in process), plus the helpers every scenario uses on them.
import { serve, type ServerType } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { watchInboxes, type WatchHandle } from '../adaptor/watcher';
import { createApp } from '../api/app';
import { loadConfig, type Config } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
import { freePort, startFerretDb, startTemporal, type ToolPaths } from '../infra/dev-stack';
import { failureConverterPath, temporalDataConverter } from '../infra/payload-codec';
import { seedDemoData } from '../infra/seed';
import { HttpStockClient } from '../infra/stock-client';
import { connectTemporalClient } from '../infra/temporal-connection';
import type { SimulatorOptions } from '../simulators/warehouse';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';
import { workflowsPath } from '../worker/worker';
import { addCounts, CommandCounter, cpuMeter, percentile, type CommandCounts } from './metrics';
import { deliveryFor, ORDER_LINES } from './orders';
import { progress, say } from './progress';
import type { Machine } from './report';

export const benchDir = path.dirname(fileURLToPath(import.meta.url));
export const TOKEN = 'agent-dev-token';

export const stage = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95) });
export const waitBudget = (n: number) => 120_000 + n * 1_000;
export const sample = <T>(xs: T[], n: number) => xs.filter((_, i) => i % Math.max(1, Math.floor(xs.length / n)) === 0).slice(0, n);

/** Runs job(0) … job(total - 1), at most `concurrency` at once. */
export async function runPool(total: number, concurrency: number, job: (i: number) => Promise<void>): Promise<void> {
  const limit = pLimit(concurrency);
  await Promise.all(Array.from({ length: total }, (_, i) => limit(() => job(i))));
}

/** Runs a bench script in a Node process of its own (its own CPU and RSS); resolves with its stdout. */
export function runScript(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(benchDir, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${script} exited with ${code}`))));
  });
}

/** What a run owns: its work folder, and what to stop when it ends (in reverse order, once). */
export class BenchRun {
  readonly tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hardware-orders-bench-'));
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private cleaning?: Promise<void>;

  defer(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup);
  }

  cleanUp(): Promise<void> {
    return (this.cleaning ??= (async () => {
      for (const c of this.cleanups.reverse()) await c().catch(() => undefined);
      if (!process.env.KEEP_BENCH_DATA) fs.rmSync(this.tmpRoot, { recursive: true, force: true });
    })());
  }
}

export function machine(tools: ToolPaths): Machine {
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

/** The run's Temporal dev server and FerretDB, and both workflow bundles (ours and the baseline). */
export interface BenchServers {
  run: BenchRun;
  temporal: Client;
  temporalAddress: string;
  mongoHost: string;
  pids: { temporal?: number; ferretdb?: number };
  realBundle: string;
  baselineBundle: string;
}

export async function startServers(run: BenchRun, tools: ToolPaths): Promise<BenchServers> {
  const [tPort, uiPort, fPort] = [await freePort(), await freePort(), await freePort()];
  say('bench: starting the Temporal dev server and FerretDB');
  const [temporalServer, ferret] = await Promise.all([
    startTemporal({
      binary: tools.temporal,
      port: tPort,
      uiPort,
      dbFile: path.join(run.tmpRoot, 'temporal.db'),
      logFile: path.join(run.tmpRoot, 'temporal.log'),
      headless: true,
    }),
    startFerretDb({ binary: tools.ferretdb, port: fPort, dir: path.join(run.tmpRoot, 'ferretdb'), logFile: path.join(run.tmpRoot, 'ferretdb.log') }),
  ]);
  run.defer(() => temporalServer.stop());
  run.defer(() => ferret.stop());
  const temporalAddress = `127.0.0.1:${tPort}`;
  // The bench's own dev server: plaintext.
  const connection = await connectTemporalClient({ address: temporalAddress, tls: null });
  run.defer(() => connection.close());
  say('bench: bundling the workflows (ours and the baseline)');
  const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error: (msg: string) => say(msg), log() {} };
  const realBundle = path.join(run.tmpRoot, 'workflows.js');
  const baselineBundle = path.join(run.tmpRoot, 'baseline-workflows.js');
  fs.writeFileSync(realBundle, (await bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: quiet })).code);
  fs.writeFileSync(
    baselineBundle,
    (await bundleWorkflowCode({ workflowsPath: path.join(benchDir, 'baseline-workflows.ts'), failureConverterPath, logger: quiet })).code,
  );
  return {
    run,
    // The bench runs in development: the development payload key, like its processes.
    temporal: new Client({ connection, dataConverter: temporalDataConverter({ temporal: { payloadKeysFile: null } }) }),
    temporalAddress,
    mongoHost: `127.0.0.1:${fPort}`,
    pids: { temporal: temporalServer.child.pid, ferretdb: ferret.child.pid },
    realBundle,
    baselineBundle,
  };
}

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

export interface ChildWorker {
  child: ChildProcess;
  stats(): Promise<{ rssKb: number; peakRssKb: number; heapUsedKb: number; commands: CommandCounts }>;
  stop(): Promise<void>;
}

async function startChildWorker(servers: BenchServers, mode: 'real' | 'baseline', env: Record<string, string>): Promise<ChildWorker> {
  const log = fs.openSync(path.join(servers.run.tmpRoot, `worker-${env.TEMPORAL_TASK_QUEUE}.log`), 'a');
  const child = fork(path.join(benchDir, 'worker-child.ts'), [mode], {
    // BENCH_WORKER_CPU_PROF=<dir>: a V8 CPU profile of each worker, written there when it stops.
    // Our worker runs with the flags it is deployed with; the baseline with Node's defaults.
    execArgv: [
      ...(mode === 'real' ? WORKER_NODE_FLAGS : []),
      '--import',
      'tsx',
      '--expose-gc',
      ...(process.env.BENCH_WORKER_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_WORKER_CPU_PROF}`] : []),
    ],
    env: { ...process.env, ...env, WORKFLOW_BUNDLE_PATH: mode === 'real' ? servers.realBundle : servers.baselineBundle },
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
  servers.run.defer(() => w.stop());
  return w;
}

/** The baseline worker (bare workflow, empty activities) on a task queue of its own. */
export async function startBaselineWorker(servers: BenchServers, name: string) {
  const taskQueue = `bench-baseline-${name}`;
  const worker = await startChildWorker(servers, 'baseline', {
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MONGODB_URI: `mongodb://${servers.mongoHost}/unused`,
  });
  return { taskQueue, worker };
}

export interface WarehouseChild {
  child: ChildProcess;
  /** Answers every order the warehouses hold now; the response files written. */
  respond(): Promise<string[]>;
  stop(): Promise<void>;
}

async function startWarehouseChild(run: BenchRun, options: SimulatorOptions, port: number): Promise<WarehouseChild> {
  const child = fork(path.join(benchDir, 'warehouse-child.ts'), [JSON.stringify({ ...options, port })], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
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
  run.defer(() => w.stop());
  return w;
}

export interface BenchSystem {
  name: string;
  servers: BenchServers;
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
export async function startBenchSystem(servers: BenchServers, name: string, autoRespond: boolean): Promise<BenchSystem> {
  const { run, temporal } = servers;
  const dataDir = path.join(run.tmpRoot, name);
  const simPort = await freePort();
  const env = {
    NODE_ENV: 'development',
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_TASK_QUEUE: `bench-${name}`,
    MONGODB_URI: `mongodb://${servers.mongoHost}/bench_${name}?monitorCommands=true`,
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
  const simulator = await startWarehouseChild(
    run,
    { dataDir, warehouseIds: config.warehouses.ids, seed: 7, errorRate: 0, outOfStockRate: 0, defaultStock: 1_000_000_000, autoRespond, pollMs: 200 },
    simPort,
  );
  const worker = await startChildWorker(servers, 'real', env);
  const adaptor = watchInboxes({ config, db, temporal }, config.warehouses.ids, config.adaptorPollMs);
  const stock = new HttpStockClient(config.warehouses.stockUrl!, config.warehouses.ids, config.warehouses.stockTimeoutMs);
  const api = createApp({ config, db, temporal, stock });
  let stopped = false;
  const sys: BenchSystem = {
    name,
    servers,
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
  run.defer(() => sys.stop());
  return sys;
}

/** The agent's API, in process: the pipeline scenarios drive orders through it without HTTP. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API answers are read loosely
export async function callApi(sys: BenchSystem, method: string, url: string, body?: unknown): Promise<any> {
  const res = await sys.api.request(url, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

/** One agent's order: create, the lines, generate. Returns the order id once the generate is answered. */
export async function driveOrder(
  sys: BenchSystem,
  i: number,
  lines = ORDER_LINES,
  marks: { created?(orderId: string, startedAt: number): void; generating?(orderId: string): void } = {},
): Promise<string> {
  const s = Date.now();
  const { orderId } = await callApi(sys, 'POST', '/api/v1/accounts/ACC-1001/orders', { delivery: deliveryFor(i) });
  marks.created?.(orderId, s);
  for (const line of lines) await callApi(sys, 'POST', `/api/v1/orders/${orderId}/lines`, line);
  marks.generating?.(orderId);
  await callApi(sys, 'POST', `/api/v1/orders/${orderId}/generate`);
  return orderId;
}

/** An app served over real HTTP on a free local port (the agent's view of the API). */
export function listen(app: { fetch: (req: Request) => Response | Promise<Response> }): Promise<{ server: ServerType; port: number; close(): Promise<void> }> {
  return new Promise((resolve) => {
    void freePort().then((port) => {
      const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
        resolve({ server, port, close: () => new Promise<void>((r) => server.close(() => r())) }),
      );
    });
  });
}

/** Waits until `n` workflows matching the visibility query have closed; returns their close info. */
export async function waitClosed(temporal: Client, query: string, n: number, label: string, timeoutMs: number) {
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
export async function historyShape(temporal: Client, workflowIds: string[]): Promise<{ events: number; activations: number }> {
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

/** CPU of every process serving a run: the servers, its worker, the warehouses, and this harness (API, adaptor, agents). */
export const processCpu = (servers: BenchServers, worker: ChildWorker, warehouses?: WarehouseChild) =>
  cpuMeter({
    temporal: servers.pids.temporal,
    ferretdb: servers.pids.ferretdb,
    worker: worker.child.pid,
    ...(warehouses ? { warehouses: warehouses.child.pid } : {}),
    harness: 'self',
  });
