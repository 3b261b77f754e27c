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
  /** Resolves once the process has printed `text` (it prints `ready` when it polls); rejects if it exits first. */
  printed(text: string): Promise<void>;
  /** SIGKILL now, and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Shuts the system's in-process worker down and starts one in a child process; resolves once it
 * polls. `env` adds settings, e.g. worker-process.ts' fault injections.
 */
export async function killableWorker(sys: TestSystem, env: NodeJS.ProcessEnv = {}): Promise<KillableWorker> {
  await sys.worker.shutdown();
  const script = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', script], {
    env: { ...process.env, ...sys.env, WORKFLOW_BUNDLE_PATH: inject('workflowBundlePath'), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => out.includes(text) && resolve();
      proc.stdout!.on('data', check);
      proc.once('exit', (code) => reject(new Error(`worker process exited (${code}) before printing "${text}"`)));
      check();
    });
  await printed('ready');
  return {
    proc,
    exited,
    printed,
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
