// The test system's worker replaced by one in a child process (test/support/worker-process.ts),
// so a test can SIGKILL it mid-activity and then start a fresh one.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import type { TestSystem } from './system';

export interface KillableWorker {
  proc: ChildProcess;
  /** Resolves when the process has exited (killed or not). */
  exited: Promise<void>;
  /** SIGKILL now, and wait for the exit. */
  kill(): Promise<void>;
}

/** Shuts the system's in-process worker down and starts one in a child process; resolves once it polls. */
export async function killableWorker(sys: TestSystem): Promise<KillableWorker> {
  await sys.worker.shutdown();
  const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...sys.env, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath') },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    proc.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
  return {
    proc,
    exited,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
