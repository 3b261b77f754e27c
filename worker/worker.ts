// Wires the order process together: Temporal connection, workflows, activities and their adapters.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createActivities, type ActivityDeps } from '../activities';
import type { Config } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
import { HttpFraudProvider, RulesFraudProvider, type FraudProvider } from '../infra/fraud-providers';
import { temporalDataConverter } from '../infra/payload-codec';
import { HttpStockClient } from '../infra/stock-client';
import { OutboxFolderTransport } from '../infra/warehouse-transport';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Written by `npm run build` at the root of dist/, beside the compiled worker/ (scripts/build.ts). */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';
export const prebuiltWorkflowBundle = fileURLToPath(new URL(`../${WORKFLOW_BUNDLE_FILE}`, import.meta.url));

export interface RunningWorker {
  worker: Worker;
  deps: ActivityDeps;
  /** Resolves when the worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

export interface WorkerOptions {
  config: Config;
  /** A prebuilt bundle (tests build it once); otherwise the worker bundles workflows/ itself. */
  workflowBundle?: WorkflowBundleOption;
  /** Replace an adapter (tests, or an operator's own systems). */
  overrides?: Partial<Pick<ActivityDeps, 'fraudProvider' | 'transport' | 'stock'>>;
  db?: Db;
}

export function defaultFraudProvider(config: Config, db: Db): FraudProvider {
  const url = config.fraud.providerUrl;
  return url ? new HttpFraudProvider(url) : new RulesFraudProvider(db.models, { limit: config.fraud.velocityLimit, windowHours: 24 * 7 });
}

export async function startWorker({ config, workflowBundle, overrides, db: givenDb }: WorkerOptions): Promise<RunningWorker> {
  const db = givenDb ?? (await connectDb(config.mongodbUri));
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const dataConverter = temporalDataConverter(config);
  const temporal = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter });
  const deps: ActivityDeps = {
    config,
    db,
    temporal,
    fraudProvider: overrides?.fraudProvider ?? defaultFraudProvider(config, db),
    transport: overrides?.transport ?? new OutboxFolderTransport(config.dataDir),
    stock:
      overrides && 'stock' in overrides
        ? (overrides.stock ?? null)
        : config.warehouses.stockUrl
          ? new HttpStockClient(config.warehouses.stockUrl, config.warehouses.ids, config.warehouses.stockTimeoutMs)
          : null,
  };
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    dataConverter,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    activities: createActivities(deps),
    // FerretDB on SQLite has one writer at a time: a hundred concurrent writes only queue into
    // SQLITE_BUSY. MongoDB deployments can raise it.
    maxConcurrentActivityTaskExecutions: config.workerActivityConcurrency,
    maxConcurrentLocalActivityExecutions: config.workerActivityConcurrency,
    // Orders stay open for days waiting for the warehouse: a bounded cache bounds the worker's
    // memory (the SDK default grows with the heap limit, thousands of workflows); an evicted order
    // replays its short history when its next event comes.
    maxCachedWorkflows: config.workerMaxCachedWorkflows,
  });
  const done = worker.run().finally(async () => {
    await connection.close();
    await clientConnection.close();
    if (!givenDb) await db.close();
  });
  return {
    worker,
    deps,
    done,
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
