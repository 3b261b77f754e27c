// The processes of a chaos run and how each kind dies and comes back: our own (worker, API,
// adaptor, simulators) supervised and restarted after any exit; the servers (Temporal, FerretDB)
// started again with the same options after a SIGKILL. None may outlive the harness.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '../infra/dev-stack';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Every process the harness started: none may outlive it, however it ends. */
const spawned = new Set<ChildProcess>();
let exitHook = false;
export const track = (c: ChildProcess) => {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const p of spawned) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    });
  }
  spawned.add(c);
  c.once('exit', () => spawned.delete(c));
  return c;
};

/** SIGKILL (or the given crash signal), resolved once the process has gone. */
async function killHard(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await exited;
}

/**
 * A server of the run (Temporal, FerretDB, PostgreSQL): crashed, then started again with the same
 * options. `crashSignal`: SIGKILL, except PostgreSQL, whose crash is SIGQUIT (immediate shutdown:
 * no checkpoint, crash recovery at the next start); a SIGKILLed postmaster leaves its backends
 * holding the shared memory, and PostgreSQL then refuses to start on that data folder.
 */
export class RestartableServer {
  private current?: ManagedProcess;

  constructor(
    private readonly startServer: () => Promise<ManagedProcess>,
    private readonly crashSignal: NodeJS.Signals = 'SIGKILL',
  ) {}

  async start(): Promise<void> {
    this.current = await this.startServer();
    track(this.current.child);
  }

  async killAndRestart(pauseMs: number): Promise<void> {
    await killHard(this.current!.child, this.crashSignal);
    await sleep(pauseMs);
    await this.start();
  }

  async stop(): Promise<void> {
    await this.current?.stop();
  }
}

/** One of our processes: restarted after a planned kill, and after any unplanned exit. */
export class Supervised {
  child?: ChildProcess;
  unplannedExits = 0;
  private planned = false;
  private stopping = false;
  /** Resolved by whichever incarnation of the process gets ready first. */
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly ready: RegExp,
    private readonly log: (l: string) => void,
  ) {}

  /** Starts the process and resolves once it prints its ready line. */
  start(): Promise<void> {
    const out = fs.createWriteStream(this.logFile, { flags: 'a' });
    const flags = this.name.startsWith('worker') ? WORKER_NODE_FLAGS : [];
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', path.join(repoRoot, this.script)], {
      cwd: repoRoot,
      env: this.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = track(child);
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    let seen = '';
    let isReady = false;
    child.stdout!.on('data', (d: Buffer) => {
      out.write(d);
      if (isReady) return;
      seen = (seen + d.toString()).slice(-2000);
      if (this.ready.test(seen)) {
        isReady = true;
        for (const w of this.waiters.splice(0)) w();
      }
    });
    child.stderr!.on('data', (d: Buffer) => out.write(d));
    child.once('exit', (code, signal) => {
      out.end();
      if (this.stopping || this.child !== child) return;
      if (this.planned) return;
      this.unplannedExits++;
      this.log(`${this.name} exited by itself (${signal ?? code}); restarting in 1 s`);
      setTimeout(() => {
        if (!this.stopping && this.child === child) void this.start();
      }, 1000);
    });
    return ready;
  }

  /** SIGKILL, then a restart after `pauseMs`; resolves when the new process is ready. */
  async killAndRestart(pauseMs: number): Promise<void> {
    this.planned = true;
    await killHard(this.child!);
    await sleep(pauseMs);
    this.planned = false;
    await this.start();
  }

  /** A deployment's restart: SIGTERM (the process drains and exits), then started again; resolves when it is ready. */
  async restart(): Promise<void> {
    const child = this.child!;
    this.planned = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(t);
    }
    this.planned = false;
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}
