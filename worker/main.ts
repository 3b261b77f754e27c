// The worker process: runs order and dispatch workflows and their activities until signalled.
import fs from 'node:fs';
import { loadConfig } from '../infra/config';
import { errorFields, log, logReady } from '../infra/log';
import { startOpsServer } from '../infra/ops-server';
import { readinessOf } from '../infra/readiness';
import { ensureSchedules } from '../infra/schedules';
import { installWorkerRuntime } from './runtime';
import { prebuiltWorkflowBundle, startWorker } from './worker';

const config = loadConfig();
const workerLog = log.child({ component: 'worker' });
installWorkerRuntime(config);
// The compiled worker loads the workflow bundle built with it; run from source, it bundles workflows/.
const workflowBundle = fs.existsSync(prebuiltWorkflowBundle) ? { codePath: prebuiltWorkflowBundle } : undefined;
const running = await startWorker({ config, workflowBundle });
const ops = config.ops
  ? await startOpsServer({ ...config.ops, component: 'worker', ready: readinessOf(running.deps.db, running.deps.temporal.connection) })
  : null;
// The recurring jobs (the daily bill run) exist whenever a worker runs; ensureSchedules absorbs the
// race of several workers starting at once. A failure here must not stop the worker: the next start retries.
await ensureSchedules(running.deps.temporal, config).then(
  (done) => workerLog.info({ schedules: done.map((s) => `${s.scheduleId} ${s.outcome}`) }, 'schedules ensured'),
  (err) => workerLog.error(errorFields(err), 'could not ensure the schedules; the next start retries'),
);
logReady('worker', {
  taskQueue: config.temporal.taskQueue,
  temporal: config.temporal.address,
  coreMetrics: config.workerCoreMetricsAddress,
  opsPort: ops?.port ?? null,
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
await running.done;
await ops?.close();
