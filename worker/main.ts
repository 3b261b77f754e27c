// The worker process: runs order and dispatch workflows and their activities until signalled.
import { loadConfig } from '../infra/config';
import { startWorker } from './worker';

const config = loadConfig();
const running = await startWorker({ config });
console.log(`worker: polling task queue ${config.temporal.taskQueue} on ${config.temporal.address}`);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void running.shutdown());
await running.done;
