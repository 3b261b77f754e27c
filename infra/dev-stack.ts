// Starts the real servers the project runs on locally and in tests: the Temporal dev server
// (SQLite, Web UI) and FerretDB (MongoDB wire protocol on SQLite), both built from source by
// scripts/build-tools.sh. Production runs a Temporal cluster and MongoDB instead (docker-compose.yml).
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TemporalSettings } from './config';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Search attributes the order workflow keeps current (registered at dev-server start). */
export const SEARCH_ATTRIBUTES = {
  OrderStatus: 'Keyword',
  AccountId: 'Keyword',
  BillingMode: 'Keyword',
  WarehouseIds: 'KeywordList',
  NeedsAttention: 'KeywordList',
} as const;

export interface ToolPaths {
  /** The Temporal CLI (its dev server). */
  temporal: string;
  /** The real Temporal server (go.temporal.io/server/cmd/server), for TLS and cluster profiles (infra/temporal-server.ts). */
  temporalServer: string;
  ferretdb: string;
  /** With `cluster`: the server's SQL schema tool, the stand-alone Web UI server, PostgreSQL 15's bin folder (infra/cluster.ts); empty otherwise. */
  temporalSql: string;
  temporalUi: string;
  postgresBin: string;
}

/**
 * Builds the tools on first use (cached outside the clone) and returns their paths. `sshd`: also
 * installs Debian's OpenSSH server when missing (the SFTP warehouse tests run one). `cluster`: also
 * the cluster profile's tools (schema tool, Web UI server) and PostgreSQL 15 (apt-get when missing).
 */
export function ensureTools(opts: { sshd?: boolean; cluster?: boolean } = {}): ToolPaths {
  const flags = [...(opts.sshd ? ['--sshd'] : []), ...(opts.cluster ? ['--cluster'] : [])];
  const out = execFileSync('bash', [path.join(repoRoot, 'scripts/build-tools.sh'), ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop()!) as ToolPaths;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, host = '127.0.0.1', timeoutMs = 60_000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listened on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `stopSignal`: what asks the process to stop (PostgreSQL's fast shutdown is SIGINT; SIGTERM waits for every client). */
export function manage(name: string, child: ChildProcess, stopSignal: NodeJS.Signals = 'SIGTERM'): ManagedProcess {
  return {
    name,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(stopSignal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function logStream(logFile: string | undefined): 'inherit' | 'ignore' | number {
  if (!logFile) return 'ignore';
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  return fs.openSync(logFile, 'a');
}

export interface TemporalOptions {
  binary: string;
  port: number;
  uiPort: number;
  httpPort?: number;
  metricsPort?: number;
  dbFile: string;
  namespace?: string;
  logFile?: string;
  headless?: boolean;
}

export async function startTemporal(o: TemporalOptions): Promise<ManagedProcess> {
  fs.mkdirSync(path.dirname(o.dbFile), { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--http-port',
    String(o.httpPort ?? (await freePort())),
    '--metrics-port',
    String(o.metricsPort ?? (await freePort())),
    '--db-filename',
    o.dbFile,
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    'synchronous=OFF',
    '--namespace',
    o.namespace ?? 'default',
    '--log-level',
    'warn',
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([k, v]) => ['--search-attribute', `${k}=${v}`]),
    ...(o.headless ? ['--headless'] : []),
  ];
  const out = logStream(o.logFile);
  const child = spawn(o.binary, args, { stdio: ['ignore', out, out] });
  await waitForPort(o.port, '127.0.0.1', 120_000, child);
  await waitForTemporalReady(`127.0.0.1:${o.port}`, o.namespace ?? 'default');
  return manage('temporal', child);
}

/** Waits until the frontend at `settings` answers for `namespace` (TLS settings as our processes use them). */
export async function waitForTemporalReady(settings: TemporalSettings | string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const { connectTemporalClient } = await import('./temporal-connection');
  const frontend = typeof settings === 'string' ? { address: settings, tls: null } : settings;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const conn = await connectTemporalClient(frontend, { connectTimeout: 2000 });
      try {
        await conn.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export interface FerretOptions {
  binary: string;
  port: number;
  dir: string;
  logFile?: string;
}

export async function startFerretDb(o: FerretOptions): Promise<ManagedProcess> {
  fs.mkdirSync(o.dir, { recursive: true });
  const out = logStream(o.logFile);
  // FERRETDB_DEBUG_ADDR serves Go pprof profiles, for finding where the database spends its time.
  const debug = process.env.FERRETDB_DEBUG_ADDR ? ['-debug-addr', process.env.FERRETDB_DEBUG_ADDR] : [];
  const child = spawn(o.binary, ['-listen-addr', `127.0.0.1:${o.port}`, '-sqlite-dir', o.dir, ...debug], {
    stdio: ['ignore', out, out],
  });
  await waitForPort(o.port, '127.0.0.1', 60_000, child);
  return manage('ferretdb', child);
}
