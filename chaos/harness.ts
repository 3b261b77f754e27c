// Crash-and-restart harness: the whole system as separate processes on its own Temporal dev server
// and FerretDB, a seeded mix of orders driven over HTTP (chaos/orders.ts), and SIGKILLs at seeded
// moments (worker, Temporal, FerretDB, API, adaptor; chaos/crashes.ts), each victim restarted
// after a short pause (chaos/processes.ts). After recovery it counts what survived
// (chaos/checks.ts): every order terminal, one charge per shipped line and batch, one outbound
// file per sales order, every dispatch row applied once, every inbound file archived or
// quarantined with a report. `npm run chaos` runs 500 orders; test/integration/chaos.test.ts 50.
// Profile `cluster` runs the same on the cluster profile (infra/cluster.ts): the real Temporal server
// on PostgreSQL, two workers and two API instances (calls spread over both, retried on the other),
// and PostgreSQL among the victims; test/cluster/cluster.test.ts.
import { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { loadConfig } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
import { clusterServers, freeClusterPorts } from '../infra/cluster';
import { readyLine } from '../infra/log';
import { ensureTools, freePort, startFerretDb, startTemporal, waitForPort } from '../infra/dev-stack';
import { temporalDataConverter } from '../infra/payload-codec';
import { seedDemoData } from '../infra/seed';
import { connectTemporalClient } from '../infra/temporal-connection';
import { check, quiescent, type ChaosReport } from './checks';
import { DEFAULT_KILLS, planKills, runKills, type KillTarget } from './crashes';
import { ApiDriver, driveOrder, planOrders, stockWarehouses, watchOrders, type DrivenOrder } from './orders';
import { RestartableServer, Supervised } from './processes';
import { rng } from './rng';

export interface ChaosOptions {
  orders: number;
  seed: number;
  /** Everything of the run (databases, warehouse folders, logs) goes here. */
  workDir: string;
  kills?: Partial<Record<KillTarget, number>>;
  /** Orders in flight at once. */
  concurrency?: number;
  /** Share of warehouse lines the simulator answers with an error. */
  warehouseErrorRate?: number;
  /** How long to wait for every order to finish after the last one was submitted. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called after the checks, before the system stops (e.g. to record replay fixtures). */
  beforeStop?: (ctx: ChaosContext) => Promise<void>;
  /** `dev` (default): the Temporal dev server, one worker, one API. `cluster`: the cluster profile. */
  profile?: 'dev' | 'cluster';
  /** Called once the system is up, before the load (e.g. the walking skeleton). */
  afterStart?: (ctx: ChaosContext) => Promise<void>;
  /** At this share of progress, restart every worker in turn (SIGTERM, wait until ready, next), as a deployment does. */
  rollingRestartAt?: number;
}

export interface ChaosContext {
  temporal: Client;
  db: Db;
  orders: DrivenOrder[];
  /** The first API instance. */
  apiUrl: string;
  apiUrls: string[];
  api: ApiDriver;
  /** Each worker process's pids over the run (a restart adds one). */
  workerPids: () => number[];
  temporalUiUrl?: string;
  rollingRestarts: number;
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`));
  const r = rng(opts.seed);
  const work = path.resolve(opts.workDir);
  const logs = path.join(work, 'logs');
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(logs, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });

  const cluster = opts.profile === 'cluster';
  const tools = ensureTools({ cluster });
  const [tPort, uiPort, fPort, apiPort, api2Port, simPort, makerPort, pgPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const servers: Record<string, RestartableServer> = {};
  if (cluster) {
    const c = clusterServers({
      tools,
      dir: work,
      logDir: logs,
      ports: { postgres: pgPort, temporal: tPort, temporalInternal: await freeClusterPorts(8), temporalUi: uiPort, ferretdb: fPort },
    });
    servers.postgres = new RestartableServer(c.postgres, 'SIGQUIT');
    servers.ferretdb = new RestartableServer(c.ferretdb);
    await Promise.all([servers.postgres.start(), servers.ferretdb.start()]);
    await c.schema();
    servers.temporal = new RestartableServer(c.temporal);
    await servers.temporal.start();
    servers.temporalUi = new RestartableServer(c.temporalUi);
    await servers.temporalUi.start();
  } else {
    const temporalOpts = {
      binary: tools.temporal,
      port: tPort,
      uiPort,
      dbFile: path.join(work, 'temporal.db'),
      logFile: path.join(logs, 'temporal.log'),
      headless: true,
    };
    const ferretOpts = { binary: tools.ferretdb, port: fPort, dir: path.join(work, 'ferretdb'), logFile: path.join(logs, 'ferretdb.log') };
    servers.temporal = new RestartableServer(() => startTemporal(temporalOpts));
    servers.ferretdb = new RestartableServer(() => startFerretDb(ferretOpts));
    await servers.temporal.start();
    await servers.ferretdb.start();
  }

  const taskQueue = `chaos-${opts.seed}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    // The ready lines are info lines.
    LOG_LEVEL: 'info',
    TEMPORAL_ADDRESS: `127.0.0.1:${tPort}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MONGODB_URI: `mongodb://127.0.0.1:${fPort}/chaos`,
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    WAREHOUSE_STOCK_URL: `http://127.0.0.1:${simPort}`,
    WAREHOUSE_SIMULATOR_PORT: String(simPort),
    WAREHOUSE_SIMULATOR_SEED: String(opts.seed),
    WAREHOUSE_SIMULATOR_ERROR_RATE: String(opts.warehouseErrorRate ?? 0.05),
    ADAPTOR_POLL_MS: '300',
    // Orders in Error (the warehouse errors above) wait for ops this long, then close: the run drains.
    ERROR_RESOLUTION_WINDOW: '5s',
    MANUFACTURER_SIMULATOR_PORT: String(makerPort),
    MANUFACTURER_API_URL: `http://127.0.0.1:${makerPort}`,
    ENROLMENT_REQUEST_JOB_INTERVAL: '10 seconds',
    ENROLMENT_RESPONSE_JOB_INTERVAL: '10 seconds',
    // Orders above £1,500 gross get a fraud check (and with it the velocity rule's referrals).
    FRAUD_VALUE_THRESHOLD: '150000',
  };

  const db = await connectDb(env.MONGODB_URI!);
  await seedDemoData(db);
  const connection = await connectTemporalClient(loadConfig(env).temporal);
  const temporal = new Client({ connection, namespace: 'default', dataConverter: temporalDataConverter(loadConfig(env)) });

  const proc = (name: string, script: string, ready: RegExp, extra: NodeJS.ProcessEnv = {}) =>
    new Supervised(name, script, { ...env, ...extra }, path.join(logs, `${name}.log`), ready, log);
  const procs: Record<string, Supervised> = {
    simulator: proc('warehouse-simulator', 'simulators/warehouse-main.ts', readyLine('warehouse-simulator')),
    manufacturers: proc('manufacturer-simulator', 'simulators/manufacturer-main.ts', readyLine('manufacturer-simulator')),
    // The production entry point: it also keeps the Schedules (bill run, enrolment jobs) in place.
    worker: proc('worker', 'worker/main.ts', readyLine('worker')),
    api: proc('api', 'api/main.ts', readyLine('api')),
    adaptor: proc('adaptor', 'adaptor/main.ts', readyLine('adaptor')),
  };
  // The cluster profile's second worker and second API instance (the victims are the first ones).
  if (cluster) {
    procs.worker2 = proc('worker-2', 'worker/main.ts', readyLine('worker'));
    procs.api2 = proc('api-2', 'api/main.ts', readyLine('api'), { PORT: String(api2Port) });
  }
  const apiUrls = [`http://127.0.0.1:${apiPort}`, ...(cluster ? [`http://127.0.0.1:${api2Port}`] : [])];
  const workers = [procs.worker, ...(cluster ? [procs.worker2] : [])];
  const workerPids: number[] = [];
  const stopAll = async () => {
    await Promise.allSettled(Object.values(procs).map((p) => p.stop()));
    await connection.close().catch(() => {});
    await db.close().catch(() => {});
    await Promise.allSettled(
      Object.values(servers)
        .reverse()
        .map((s) => s.stop()),
    );
  };

  try {
    await Promise.all(Object.values(procs).map((p) => p.start()));
    const notePids = () => workers.forEach((w) => w.child?.pid && !workerPids.includes(w.child.pid) && workerPids.push(w.child.pid));
    notePids();
    await stockWarehouses(`http://127.0.0.1:${simPort}`);
    const startupMs = Date.now() - t0;
    log(
      `system up in ${startupMs} ms (${cluster ? 'cluster profile: Temporal server on PostgreSQL' : 'Temporal dev server'} ${env.TEMPORAL_ADDRESS}, FerretDB ${env.MONGODB_URI}, API ${apiUrls.join(', ')}); driving ${opts.orders} orders`,
    );

    const api = new ApiDriver(apiUrls);
    const orders = planOrders(r, opts.orders);
    let rollingRestarts = 0;
    const ctx = (): ChaosContext => ({
      temporal,
      db,
      orders,
      apiUrl: apiUrls[0],
      apiUrls,
      api,
      workerPids: () => (notePids(), [...workerPids]),
      temporalUiUrl: servers.temporalUi ? `http://127.0.0.1:${uiPort}` : undefined,
      rollingRestarts,
    });
    if (opts.afterStart) await opts.afterStart(ctx());

    // Progress: half for submitting, half for orders reaching a terminal status.
    let submitted = 0;
    const byId = new Map<string, DrivenOrder>();
    const watcher = watchOrders(db, api, byId);
    const progress = () => (submitted + watcher.terminal()) / (2 * opts.orders);

    const counts = { ...DEFAULT_KILLS, ...opts.kills };
    let killing = true;
    const chaos = runKills({
      plan: planKills(r, counts),
      victims: {
        temporal: servers.temporal,
        ferretdb: servers.ferretdb,
        postgres: servers.postgres ?? { killAndRestart: () => Promise.reject(new Error('no PostgreSQL in the dev profile')) },
        worker: { killAndRestart: (pause) => procs.worker.killAndRestart(pause).then(notePids) },
        adaptor: procs.adaptor,
        api: { killAndRestart: (pause) => procs.api.killAndRestart(pause).then(() => waitForPort(apiPort)) },
      },
      progress,
      r,
      t0,
      log,
    }).finally(() => (killing = false));

    // A deployment's rolling restart of the workers: one at a time, the next once the last is back.
    let rollingDone = opts.rollingRestartAt === undefined;
    const rolling =
      opts.rollingRestartAt === undefined
        ? Promise.resolve()
        : (async () => {
            while (progress() < opts.rollingRestartAt!) await sleep(100);
            for (const w of workers) {
              log(`rolling restart: ${w.name} (SIGTERM) at progress ${(progress() * 100).toFixed(0)}%`);
              await w.restart();
              notePids();
              rollingRestarts++;
              log(`rolling restart: ${w.name} is back`);
            }
          })().finally(() => (rollingDone = true));

    const tLoad = Date.now();
    const limit = pLimit(opts.concurrency ?? 12);
    await Promise.all(
      orders.map((o) =>
        limit(() =>
          driveOrder(api, o, () => {
            submitted++;
            if (o.orderId) byId.set(o.orderId, o);
          }),
        ),
      ),
    );
    const loadMs = Date.now() - tLoad;
    log(`all ${orders.length} orders submitted in ${loadMs} ms (${api.retries} retried calls so far)`);

    // Drain: every order terminal, every kill done, nothing left running or waiting.
    const tDrain = Date.now();
    const drainDeadline = Date.now() + (opts.drainTimeoutMs ?? 15 * 60_000);
    const created = orders.filter((o) => o.orderId);
    let lastLog = 0;
    while (Date.now() < drainDeadline) {
      const quiet = !killing && rollingDone && watcher.terminal() >= created.length && (await quiescent(db, temporal, dataDir, taskQueue).catch(() => false));
      if (quiet) break;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`draining: ${watcher.terminal()}/${created.length} orders terminal, kills ${killing ? 'still running' : 'done'}`);
      }
      await sleep(1000);
    }
    await watcher.stop();
    const kills = await chaos;
    await rolling;
    const drainMs = Date.now() - tDrain;

    const unplannedExits = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.unplannedExits]));
    const report = await check({ db, temporal, dataDir, taskQueue, orders, kills, counts, unplannedExits, api, seed: opts.seed });
    report.durations = { startupMs, loadMs, drainMs, totalMs: Date.now() - t0 };
    if (opts.beforeStop) await opts.beforeStop(ctx());
    return report;
  } finally {
    await stopAll();
  }
}
