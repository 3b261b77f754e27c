// `npm start`: the whole system on its embedded defaults. Temporal dev server (with Web UI) and
// FerretDB built from source and cached, demo data loaded, then the worker, the API, the warehouse
// adaptor and the warehouse and manufacturer simulators as child processes. Data persists under data/. Ctrl-C stops all.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { ensureTools, startFerretDb, startTemporal, type ManagedProcess } from '../infra/dev-stack';
import { buildAgentView } from './agentview-bundle';
import { seedDemoData } from '../infra/seed';
import { WORKER_NODE_FLAGS } from '../worker/node-flags';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const temporalPort = Number(process.env.TEMPORAL_PORT ?? 7233);
const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
const mongoPort = Number(process.env.FERRETDB_PORT ?? 27017);
// npm start is the local development stack: the dev tokens, on loopback (HOST defaults to 127.0.0.1).
process.env.NODE_ENV ??= 'development';
// The demo's warehouses get deliveries, so a long run does not sell them out.
process.env.WAREHOUSE_SIMULATOR_REPLENISH_PER_MINUTE ??= '10';
process.env.TEMPORAL_ADDRESS ??= `127.0.0.1:${temporalPort}`;
process.env.TEMPORAL_UI_URL ??= `http://localhost:${uiPort}`;
process.env.MONGODB_URI ??= `mongodb://127.0.0.1:${mongoPort}/hardware_orders`;
const config = loadConfig();
const logs = path.join(config.dataDir, 'logs');
fs.mkdirSync(logs, { recursive: true });

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .once('listening', () => s.close(() => resolve(true)));
    s.listen(port, '127.0.0.1');
  });
}

const servers: ManagedProcess[] = [];
const children = new Map<string, ChildProcess>();
let stopping = false;

async function stopAll(code = 0): Promise<never> {
  stopping = true;
  console.log('\nstopping…');
  const exits = [...children.values()].map((c) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r()))));
  for (const c of children.values()) c.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers.reverse()) await s.stop();
  console.log('stopped.');
  process.exit(code);
}
// Whatever ends this process, its children must not outlive it.
process.on('exit', () => {
  for (const c of children.values()) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
});
process.once('SIGINT', () => void stopAll());
process.once('SIGTERM', () => void stopAll());

/** Runs one of our processes; restarts it if it dies (as a supervisor would), logging to data/logs. */
function run(name: string, script: string, env: NodeJS.ProcessEnv = {}): void {
  const out = fs.openSync(path.join(logs, `${name}.log`), 'a');
  const flags = name === 'worker' ? WORKER_NODE_FLAGS : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', path.join(root, script)], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  children.set(name, child);
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); restarting in 2 s — see ${path.join(logs, `${name}.log`)}`);
    setTimeout(() => !stopping && run(name, script, env), 2000);
  });
}

// Probes and metrics as a deployment has them (docs/operations.md, Metrics); each overridable.
const workerOps = process.env.WORKER_OPS_PORT ?? '9101';
const adaptorOps = process.env.ADAPTOR_OPS_PORT ?? '9102';
const coreMetrics = process.env.WORKER_CORE_METRICS_ADDRESS ?? '127.0.0.1:9464';
for (const [what, port] of [
  ['Temporal', temporalPort],
  ['Temporal UI', uiPort],
  ['FerretDB', mongoPort],
  ['API', config.port],
  ['warehouse simulator', config.warehouseSimulator.port],
  ['manufacturer simulator', config.manufacturerSimulator.port],
  ['worker ops port (WORKER_OPS_PORT)', Number(workerOps)],
  ['adaptor ops port (ADAPTOR_OPS_PORT)', Number(adaptorOps)],
  ['worker Temporal metrics (WORKER_CORE_METRICS_ADDRESS)', Number(coreMetrics.split(':').pop())],
] as const) {
  if (!(await portFree(port))) {
    console.error(`port ${port} (${what}) is in use: is hardware-orders already running? Set the matching *_PORT variable to move it.`);
    process.exit(1);
  }
}

const t0 = Date.now();
await buildAgentView();
const tools = ensureTools();
console.log('starting Temporal dev server and FerretDB…');
const [temporal, ferret] = await Promise.all([
  startTemporal({
    binary: tools.temporal,
    port: temporalPort,
    uiPort,
    dbFile: path.join(config.dataDir, 'temporal.db'),
    logFile: path.join(logs, 'temporal.log'),
  }),
  startFerretDb({ binary: tools.ferretdb, port: mongoPort, dir: path.join(config.dataDir, 'ferretdb'), logFile: path.join(logs, 'ferretdb.log') }),
]).catch(async (err) => {
  console.error('could not start the servers:', err);
  return stopAll(1);
});
servers.push(temporal, ferret);

const db = await connectDb(config.mongodbUri);
await seedDemoData(db);
await db.close();

run('worker', 'worker/main.ts', { OPS_PORT: workerOps, WORKER_CORE_METRICS_ADDRESS: coreMetrics });
run('api', 'api/main.ts');
run('adaptor', 'adaptor/main.ts', { OPS_PORT: adaptorOps });
run('warehouse-simulator', 'simulators/warehouse-main.ts');
run('manufacturer-simulator', 'simulators/manufacturer-main.ts');

// Ready when the API answers.
for (let i = 0; i < 600; i++) {
  const ok = await fetch(`http://127.0.0.1:${config.port}/healthz`)
    .then((r) => r.ok)
    .catch(() => false);
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

console.log(`
hardware-orders is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)
  AgentView and API   http://localhost:${config.port}/
  API docs            http://localhost:${config.port}/docs   (OpenAPI: /openapi.json)
  Temporal Web UI     ${config.temporal.uiUrl}   (filter: OrderStatus="AwaitingDispatch")
  MongoDB (FerretDB)  ${config.mongodbUri}
  Metrics             API http://localhost:${config.port}/metrics (ops token)   worker http://localhost:${workerOps}/metrics and http://${coreMetrics}/metrics (Temporal)   adaptor http://localhost:${adaptorOps}/metrics
  Demo tokens         agent: ${config.tokens.agent[0]}   ops: ${config.tokens.ops[0]}   adaptor: ${config.tokens.adaptor[0]}   admin: ${config.tokens.admin[0]}
  Demo accounts       ACC-1001 (Alice Johnson), ACC-1002 (Brightwater Logistics Ltd), ACC-1003 (Callum MacLeod)
  Data and logs       ${config.dataDir}
Ctrl-C stops everything.`);
