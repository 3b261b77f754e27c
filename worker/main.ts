// The worker process: runs order and dispatch workflows and their activities until signalled.
import fs from 'node:fs';
import { loadConfig } from '../infra/config';
import { ensureSchedules } from '../infra/schedules';
import { prebuiltWorkflowBundle, startWorker } from './worker';

const config = loadConfig();
// The compiled worker loads the workflow bundle built with it; run from source, it bundles workflows/.
const workflowBundle = fs.existsSync(prebuiltWorkflowBundle) ? { codePath: prebuiltWorkflowBundle } : undefined;
const running = await startWorker({ config, workflowBundle });
console.log(`worker: polling task queue ${config.temporal.taskQueue} on ${config.temporal.address}`);
// The recurring jobs (the daily bill run) exist whenever a worker runs; ensureSchedules absorbs the
// race of several workers starting at once. A failure here must not stop the worker: the next start retries.
await ensureSchedules(running.deps.temporal, config).then(
  (done) => console.log(`worker: schedules ${done.map((s) => `${s.scheduleId} ${s.outcome}`).join(', ')}`),
  (err) => console.error('worker: could not ensure the schedules:', err),
);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
await running.done;
