// The local profiles' process supervisor (`npm start`, `npm run start:cluster`): runs our processes
// (worker, API, adaptor, simulators) from source as children, restarts one that dies (as a real
// supervisor would), logs each to <logs>/<name>.log, and on Ctrl-C stops them and then the servers.
// No child outlives it, however it ends.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ManagedProcess } from '../infra/dev-stack';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .once('listening', () => s.close(() => resolve(true)));
    s.listen(port, '127.0.0.1');
  });
}

/** Exits with a message when a port the profile needs is taken. */
export async function requireFreePorts(ports: readonly (readonly [string, number])[]): Promise<void> {
  for (const [what, port] of ports) {
    if (!(await portFree(port))) {
      console.error(`port ${port} (${what}) is in use: is hardware-orders already running? Set the matching *_PORT variable to move it.`);
      process.exit(1);
    }
  }
}

export class Supervisor {
  readonly servers: ManagedProcess[] = [];
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly logs: string) {
    fs.mkdirSync(logs, { recursive: true });
    // Whatever ends this process, its children must not outlive it.
    process.on('exit', () => {
      for (const c of this.children.values()) if (c.exitCode === null) c.kill('SIGKILL');
      for (const s of this.servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
    });
    // Ctrl-C reaches this process twice (from the terminal and relayed by tsx): the second must not kill it mid-stop.
    process.on('SIGINT', () => void this.stopAll());
    process.on('SIGTERM', () => void this.stopAll());
  }

  /** Runs one of our processes (`script` from the repository root) with `env`; restarts it if it dies. */
  run(name: string, script: string, env: NodeJS.ProcessEnv = process.env): void {
    const out = fs.openSync(path.join(this.logs, `${name}.log`), 'a');
    const flags = name.startsWith('worker') ? WORKER_NODE_FLAGS : [];
    const child = spawn(process.execPath, [...flags, '--import', 'tsx', path.join(root, script)], { cwd: root, env, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    this.children.set(name, child);
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      console.error(`${name} exited (${signal ?? code}); restarting in 2 s — see ${path.join(this.logs, `${name}.log`)}`);
      setTimeout(() => !this.stopping && this.run(name, script, env), 2000);
    });
  }

  /** Our processes first (SIGTERM, then SIGKILL after 10 s), then the servers in reverse order of start. */
  async stopAll(code = 0): Promise<never> {
    // Already stopping: the first call exits the process.
    if (this.stopping) return new Promise<never>(() => {});
    this.stopping = true;
    console.log('\nstopping…');
    const children = [...this.children.values()];
    const exits = children.map((c) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r()))));
    for (const c of children) c.kill('SIGTERM');
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const s of [...this.servers].reverse()) await s.stop();
    console.log('stopped.');
    process.exit(code);
  }
}

/** Resolves once the API at `port` answers /healthz (or after a minute). */
export async function waitForApi(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
