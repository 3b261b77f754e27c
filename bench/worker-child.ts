// A benchmark worker in a process of its own, so its RSS is its own and it gets a core of its own
// like a deployed worker. `real`: the project's worker (startWorker) on a prebuilt bundle, with
// MongoDB command monitoring; `baseline`: the bare baseline workflow with empty activities.
// Started by bench/system.ts with fork(); answers { type: 'stats' } and { type: 'stop' } over IPC.
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { temporalDataConverter } from '../infra/payload-codec';
import { startWorker } from '../worker/worker';
import type { BaselineActivities } from './baseline-workflows';
import { CommandCounter, memoryKb } from './metrics';

Runtime.install({ logger: new DefaultLogger('WARN') });

const mode = process.argv[2];
const codePath = process.env.WORKFLOW_BUNDLE_PATH!;
const config = loadConfig();
const counter = new CommandCounter();
let shutdown: () => Promise<void>;

if (mode === 'real') {
  const db = await connectDb(config.mongodbUri);
  counter.attach(db.conn.getClient());
  const running = await startWorker({ config, db, workflowBundle: { codePath } });
  shutdown = async () => {
    await running.shutdown();
    await db.close();
  };
} else {
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const empty = async () => {};
  const activities: BaselineActivities = { fraudCheck: empty, send: empty, billing: empty };
  const worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    // The baseline seals its payloads too: encryption is part of any design that holds customer data.
    dataConverter: temporalDataConverter(config),
    workflowBundle: { codePath },
    activities,
  });
  const done = worker.run();
  shutdown = async () => {
    worker.shutdown();
    await done;
    await connection.close();
  };
}

process.on('message', (msg: { type: string }) => {
  if (msg.type === 'stats') {
    process.send!({ type: 'stats', ...memoryKb(), heapUsedKb: Math.round(process.memoryUsage().heapUsed / 1024), commands: counter.snapshot() });
  } else if (msg.type === 'gc-stats') {
    globalThis.gc?.();
    process.send!({ type: 'stats', ...memoryKb(), heapUsedKb: Math.round(process.memoryUsage().heapUsed / 1024), commands: counter.snapshot() });
  } else if (msg.type === 'stop') {
    void shutdown().then(() => process.exit(0));
  }
});
// The harness went away without stopping us: do not linger as an orphan.
process.once('disconnect', () => void shutdown().then(() => process.exit(0)));
process.send!({ type: 'ready' });
