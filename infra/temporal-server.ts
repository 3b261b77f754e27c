// The real Temporal server (go.temporal.io/server/cmd/server, built and cached by
// scripts/build-tools.sh), started from a configuration template in deploy/temporal/: for what the
// CLI's dev server cannot do (frontend TLS, the authorizer). Unlike the dev server it creates no
// namespace and no search attributes: startTemporalServer registers them through the frontend, the
// way an operator would (over the same TLS connection our processes use).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { TemporalSettings } from './config';
import { logStream, manage, SEARCH_ATTRIBUTES, waitForPort, type ManagedProcess } from './dev-stack';
import { connectTemporalClient, type ClientConnectionOptions } from './temporal-connection';

/** Fills every `{{name}}` of a deploy/temporal/ template; a placeholder without a value is an error. */
export function fillServerTemplate(template: string, values: Record<string, string | number>): string {
  const missing = new Set<string>();
  const filled = template.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in values)) missing.add(name);
    return String(values[name] ?? '');
  });
  if (missing.size) throw new Error(`server template: no value for ${[...missing].join(', ')}`);
  return filled;
}

export interface TemporalServerOptions {
  binary: string;
  /** The server's working folder (with `config`, its configuration is written to <dir>/config/server.yaml). */
  dir: string;
  /** The filled-in server configuration (YAML), or `configFile`: a file the server reads as it is (rendering it itself when it says `# enable-template`). */
  config?: string;
  configFile?: string;
  /** Environment of the server process (what a templated `configFile` reads). */
  env?: NodeJS.ProcessEnv;
  /** How our processes reach its frontend (address and TLS): used to wait for it and set it up. */
  frontend: TemporalSettings;
  /** Connection options for the setup calls, e.g. an admin `apiKey` when the authorizer is on. */
  adminConnection?: ClientConnectionOptions;
  namespace?: string;
  logFile?: string;
  timeoutMs?: number;
}

/** Starts the server, waits for its frontend, registers the namespace and the order workflow's search attributes. */
export async function startTemporalServer(o: TemporalServerOptions): Promise<ManagedProcess> {
  fs.mkdirSync(o.dir, { recursive: true });
  let configDir = path.join(o.dir, 'config');
  let configEnv = 'server';
  if (o.configFile) {
    // The server loads <config dir>/<env>.yaml: point both at the file itself.
    configDir = path.dirname(path.resolve(o.configFile));
    configEnv = path.basename(o.configFile, '.yaml');
  } else {
    fs.mkdirSync(configDir, { recursive: true });
    fs.writeFileSync(path.join(configDir, 'server.yaml'), o.config ?? '');
  }
  const configText = o.config ?? fs.readFileSync(o.configFile!, 'utf8');
  const out = logStream(o.logFile);
  const authorizer = /^\s*authorizer:\s*\S/m.test(configText);
  // The internal frontend runs only when named (the server's default list leaves it out).
  const internalFrontend = /^ {2}internal-frontend:/m.test(configText);
  const services = ['frontend', ...(internalFrontend ? ['internal-frontend'] : []), 'history', 'matching', 'worker'].flatMap((s) => ['--service', s]);
  const args = ['--root', '/', '--config', configDir, '--env', configEnv, ...(authorizer ? [] : ['--allow-no-auth']), 'start', ...services];
  const child = spawn(o.binary, args, { cwd: o.dir, env: o.env ?? process.env, stdio: ['ignore', out, out] });
  const server = manage('temporal-server', child);
  try {
    const port = Number(o.frontend.address.split(':').at(-1));
    const timeoutMs = o.timeoutMs ?? 60_000;
    await waitForPort(port, '127.0.0.1', timeoutMs, child);
    await registerNamespace(o.frontend, o.namespace ?? 'default', o.adminConnection ?? {}, Date.now() + timeoutMs, child);
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

const INDEXED_VALUE_TYPE = { Keyword: 2, KeywordList: 7 } as const; // temporal.api.enums.v1.IndexedValueType

async function registerNamespace(
  frontend: TemporalSettings,
  namespace: string,
  options: ClientConnectionOptions,
  deadline: number,
  child: ChildProcess,
): Promise<void> {
  const conn = await retry(() => connectTemporalClient(frontend, { connectTimeout: 2000, ...options }), deadline, child);
  try {
    await retry(
      async () => {
        await ignoreAlreadyExists(conn.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') }));
        await conn.workflowService.describeNamespace({ namespace });
      },
      deadline,
      child,
    );
    const wanted = Object.fromEntries(Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]));
    await retry(() => ignoreAlreadyExists(conn.operatorService.addSearchAttributes({ namespace, searchAttributes: wanted })), deadline, child);
    await retry(() => hasSearchAttributes(conn, namespace, Object.keys(wanted)), deadline, child);
  } finally {
    await conn.close();
  }
}

async function hasSearchAttributes(conn: Connection, namespace: string, names: string[]): Promise<void> {
  const { customAttributes } = await conn.operatorService.listSearchAttributes({ namespace });
  const missing = names.filter((n) => !customAttributes?.[n]);
  if (missing.length) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
}

/** gRPC ALREADY_EXISTS (6): registering twice is fine. */
async function ignoreAlreadyExists(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if ((err as { code?: number }).code !== 6) throw err;
  }
}

async function retry<T>(fn: () => Promise<T>, deadline: number, child?: ChildProcess): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (child && child.exitCode !== null) throw new Error(`the Temporal server exited with ${child.exitCode} (see its log)`, { cause: err });
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
