// The real system for one integration test file: its own database, task queue and data folder on
// the shared Temporal dev server and FerretDB; the worker, the API (in process) and the warehouse
// simulator and adaptor driven by the test.
import { Client } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { createApp } from '../../api/app';
import { watchInboxes, type WatchHandle } from '../../adaptor/watcher';
import { DEV_TOKEN_ACTORS, loadConfig, type Config } from '../../infra/config';
import { connectDb, type Db } from '../../infra/db';
import { temporalDataConverter } from '../../infra/payload-codec';
import { seedDemoData } from '../../infra/seed';
import { HttpStockClient, type StockClient } from '../../infra/stock-client';
import { connectTemporalClient } from '../../infra/temporal-connection';
import type { ActivityDeps } from '../../activities';
import { WarehouseSimulator, type SimulatorOptions } from '../../simulators/warehouse';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { installWorkerRuntime } from '../../worker/runtime';

// Worker lifecycle chatter hides test output; warnings and errors still show.
installWorkerRuntime({ logLevel: 'warn', workerCoreMetricsAddress: null });

export const TOKENS = { agent: 'agent-dev-token', adaptor: 'adaptor-dev-token', ops: 'ops-dev-token', admin: 'admin-dev-token' } as const;
/** Who each dev token's calls are recorded as (infra/config.ts DEV_TOKEN_ACTORS): `by` in histories. */
export const DEV_ACTORS = {
  agent: DEV_TOKEN_ACTORS.agent.subject,
  adaptor: DEV_TOKEN_ACTORS.adaptor.subject,
  ops: DEV_TOKEN_ACTORS.ops.subject,
  admin: DEV_TOKEN_ACTORS.admin.subject,
};

export interface TestSystem {
  config: Config;
  /** The environment the config was loaded from: a process of its own configures itself from it. */
  env: Record<string, string>;
  db: Db;
  temporal: Client;
  worker: RunningWorker;
  simulator: WarehouseSimulator;
  adaptor: WatchHandle;
  api: ReturnType<typeof createApp>;
  /** Calls the API in process: JSON in, { status, body } out. */
  call(
    method: string,
    url: string,
    opts?: { role?: keyof typeof TOKENS | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

export interface SystemOptions {
  env?: Record<string, string>;
  simulator?: Partial<SimulatorOptions>;
  overrides?: Partial<Pick<ActivityDeps, 'fraudProvider' | 'transport' | 'stock'>>;
  /** Do not connect to warehouses (stock checks answer 503). */
  noWarehouseConnection?: boolean;
}

export async function startSystem(opts: SystemOptions = {}): Promise<TestSystem> {
  const id = randomBytes(4).toString('hex');
  const dataDir = path.join(inject('tmpRoot'), `sys-${id}`);
  fs.mkdirSync(dataDir, { recursive: true });
  const env = {
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `test-${id}`,
    MONGODB_URI: `mongodb://${inject('mongoHost')}/t_${id}`,
    DATA_DIR: dataDir,
    ADAPTOR_POLL_MS: '200',
    // An order in Error waits this long for ops before it closes (30 days by default): tests that
    // wait for an Error order's workflow to end do not wait a month. order-exceptions.test sets its own.
    ERROR_RESOLUTION_WINDOW: '2s',
  };
  const simulator = new WarehouseSimulator({
    dataDir,
    warehouseIds: loadConfig({ ...env, ...opts.env }).warehouses.ids,
    seed: 7,
    errorRate: 0,
    outOfStockRate: 0,
    autoRespond: false,
    pollMs: 200,
    ...opts.simulator,
  });
  // The simulator takes its port first: a port picked free and bound later can be taken meanwhile.
  const simPort = await simulator.listen(0);
  const systemEnv: Record<string, string> = { ...env, WAREHOUSE_STOCK_URL: opts.noWarehouseConnection ? '' : `http://127.0.0.1:${simPort}`, ...opts.env };
  const config = loadConfig(systemEnv);
  const db = await connectDb(config.mongodbUri);
  await seedDemoData(db);
  const connection = await connectTemporalClient(config.temporal);
  const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) });
  const stock: StockClient | null = config.warehouses.stockUrl
    ? new HttpStockClient(config.warehouses.stockUrl, config.warehouses.ids, config.warehouses.stockTimeoutMs)
    : null;
  const worker = await startWorker({ config, db, workflowBundle: { codePath: inject('workflowBundlePath') }, overrides: opts.overrides });
  const adaptor = watchInboxes({ config, db, temporal }, config.warehouses.ids, config.adaptorPollMs);
  const api = createApp({ config, db, temporal, stock });

  return {
    config,
    env: systemEnv,
    db,
    temporal,
    worker,
    simulator,
    adaptor,
    api,
    async call(method, url, o = {}) {
      const role = o.role === undefined ? 'agent' : o.role;
      const headers: Record<string, string> = { ...(role ? { authorization: `Bearer ${TOKENS[role]}` } : {}), ...o.headers };
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await api.request(url, { method, headers, body });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed as any };
    },
    async stop() {
      await adaptor.stop();
      await simulator.stop();
      await worker.shutdown();
      await connection.close();
      await db.close();
    },
  };
}

/** Polls until the predicate holds (integration tests wait for durable processes, never sleep blindly). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
