// A worker in a process of its own, so a test can SIGKILL it mid-activity. Configured from the
// environment like every process (infra/config.ts) plus WORKFLOW_BUNDLE_PATH; prints "ready".
// Run with `node --import tsx test/support/worker-process.ts` (one process: `tsx` itself would
// spawn a child that a SIGKILL would orphan).
import { loadConfig } from '../../infra/config';
import { installWorkerRuntime } from '../../worker/runtime';
import { startWorker } from '../../worker/worker';

const config = loadConfig();

// HOLD_AFTER_CREDIT=1 (returns.test.ts): the ledger credits a return, says so on stdout and then
// never answers, so the test can kill the process after the credit was written and before the
// workflow heard of it.
if (process.env.HOLD_AFTER_CREDIT === '1') {
  const { MongoLedger } = await import('../../activities/billing');
  const credit = MongoLedger.prototype.creditReturn;
  MongoLedger.prototype.creditReturn = async function (this: InstanceType<typeof MongoLedger>, input) {
    await credit.call(this, input);
    process.stdout.write(`credited ${input.rmaId}\n`);
    return new Promise(() => {});
  };
}
installWorkerRuntime(config);

const codePath = process.env.WORKFLOW_BUNDLE_PATH;
const running = await startWorker({ config, ...(codePath ? { workflowBundle: { codePath } } : {}) });
process.stdout.write('ready\n');
const stop = () => void running.shutdown().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await running.done;
