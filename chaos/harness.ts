// Crash-and-restart harness: the whole system as separate processes on its own Temporal dev server
// and FerretDB, a seeded mix of orders driven over HTTP (chaos/orders.ts), and SIGKILLs at seeded
// moments (worker, Temporal, FerretDB, API, adaptor; chaos/crashes.ts), each victim restarted
// after a short pause (chaos/processes.ts). After recovery it counts what survived
// (chaos/checks.ts): every order terminal, one charge per shipped line and batch, one outbound
// file per sales order, every dispatch row applied once, every inbound file archived or
// quarantined with a report. `npm run chaos` runs 500 orders; test/integration/chaos.test.ts 50.
import { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pLimit from 'p-limit';
import { loadConfig } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
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
  beforeStop?: (ctx: { temporal: Client; db: Db; orders: DrivenOrder[]; apiUrl: string }) => Promise<void>;
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

  const tools = ensureTools();
  const [tPort, uiPort, fPort, apiPort, simPort, makerPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const temporalOpts = {
    binary: tools.temporal,
    port: tPort,
    uiPort,
    dbFile: path.join(work, 'temporal.db'),
    logFile: path.join(logs, 'temporal.log'),
    headless: true,
  };
  const ferretOpts = { binary: tools.ferretdb, port: fPort, dir: path.join(work, 'ferretdb'), logFile: path.join(logs, 'ferretdb.log') };
  const temporalServer = new RestartableServer(() => startTemporal(temporalOpts));
  const ferret = new RestartableServer(() => startFerretDb(ferretOpts));
  await temporalServer.start();
  await ferret.start();

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

  const proc = (name: string, script: string, ready: RegExp) => new Supervised(name, script, env, path.join(logs, `${name}.log`), ready, log);
  const procs = {
    simulator: proc('warehouse-simulator', 'simulators/warehouse-main.ts', readyLine('warehouse-simulator')),
    manufacturers: proc('manufacturer-simulator', 'simulators/manufacturer-main.ts', readyLine('manufacturer-simulator')),
    // The production entry point: it also keeps the Schedules (bill run, enrolment jobs) in place.
    worker: proc('worker', 'worker/main.ts', readyLine('worker')),
    api: proc('api', 'api/main.ts', readyLine('api')),
    adaptor: proc('adaptor', 'adaptor/main.ts', readyLine('adaptor')),
  };
  const stopAll = async () => {
    await Promise.allSettled(Object.values(procs).map((p) => p.stop()));
    await connection.close().catch(() => {});
    await db.close().catch(() => {});
    await Promise.allSettled([temporalServer.stop(), ferret.stop()]);
  };

  try {
    await Promise.all(Object.values(procs).map((p) => p.start()));
    await stockWarehouses(`http://127.0.0.1:${simPort}`);
    const startupMs = Date.now() - t0;
    log(`system up in ${startupMs} ms (Temporal ${env.TEMPORAL_ADDRESS}, FerretDB ${env.MONGODB_URI}, API :${apiPort}); driving ${opts.orders} orders`);

    const api = new ApiDriver(`http://127.0.0.1:${apiPort}`);
    const orders = planOrders(r, opts.orders);

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
        temporal: temporalServer,
        ferretdb: ferret,
        worker: procs.worker,
        adaptor: procs.adaptor,
        api: { killAndRestart: (pause) => procs.api.killAndRestart(pause).then(() => waitForPort(apiPort)) },
      },
      progress,
      r,
      t0,
      log,
    }).finally(() => (killing = false));

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
      const quiet = !killing && watcher.terminal() >= created.length && (await quiescent(db, temporal, dataDir, taskQueue).catch(() => false));
      if (quiet) break;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`draining: ${watcher.terminal()}/${created.length} orders terminal, kills ${killing ? 'still running' : 'done'}`);
      }
      await sleep(1000);
    }
    await watcher.stop();
    const kills = await chaos;
    const drainMs = Date.now() - tDrain;

    const unplannedExits = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.unplannedExits]));
    const report = await check({ db, temporal, dataDir, taskQueue, orders, kills, counts, unplannedExits, api, seed: opts.seed });
    report.durations = { startupMs, loadMs, drainMs, totalMs: Date.now() - t0 };
    if (opts.beforeStop) await opts.beforeStop({ temporal, db, orders, apiUrl: `http://127.0.0.1:${apiPort}` });
    return report;
  } finally {
    await stopAll();
  }
}
