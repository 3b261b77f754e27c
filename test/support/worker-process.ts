// A worker in a process of its own, so a test can SIGKILL it mid-activity. Configured from the
// environment like every process (infra/config.ts) plus WORKFLOW_BUNDLE_PATH; prints "ready".
// Run with `node --import tsx test/support/worker-process.ts` (one process: `tsx` itself would
// spawn a child that a SIGKILL would orphan).
import { loadConfig } from '../../infra/config';
import { installWorkerRuntime } from '../../worker/runtime';
import { startWorker } from '../../worker/worker';

const config = loadConfig();
installWorkerRuntime(config);

const codePath = process.env.WORKFLOW_BUNDLE_PATH;
const running = await startWorker({ config, ...(codePath ? { workflowBundle: { codePath } } : {}) });
process.stdout.write('ready\n');
const stop = () => void running.shutdown().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await running.done;
