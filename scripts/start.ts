// `npm start`: the whole system on its embedded defaults. Temporal dev server (with Web UI) and
// FerretDB built from source and cached, demo data loaded, then the worker, the API, the warehouse
// adaptor and the warehouse and manufacturer simulators as child processes. Data persists under data/. Ctrl-C stops all.
import fs from 'node:fs';
import path from 'node:path';
import { devIdpPath, loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { ensureTools, startFerretDb, startTemporal } from '../infra/dev-stack';
import { buildAgentView } from './agentview-bundle';
import { seedDemoData } from '../infra/seed';
import { requireFreePorts, Supervisor, waitForApi } from './supervisor';

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
// The API accepts access tokens from the development OpenID provider started below (README "Sign-in").
const devIdpPort = Number(process.env.DEV_IDP_PORT ?? 3103);
process.env.OIDC_ISSUER ??= `http://127.0.0.1:${devIdpPort}${devIdpPath}`;
const config = loadConfig();
const logs = path.join(config.dataDir, 'logs');
fs.mkdirSync(logs, { recursive: true });

const supervisor = new Supervisor(logs);
const run = (name: string, script: string, env: NodeJS.ProcessEnv = {}) => supervisor.run(name, script, { ...process.env, ...env });

// Probes and metrics as a deployment has them (docs/operations.md, Logs, probes and metrics); each overridable.
const workerOps = process.env.WORKER_OPS_PORT ?? '9101';
const adaptorOps = process.env.ADAPTOR_OPS_PORT ?? '9102';
const coreMetrics = process.env.WORKER_CORE_METRICS_ADDRESS ?? '127.0.0.1:9464';

await requireFreePorts([
  ['Temporal', temporalPort],
  ['Temporal UI', uiPort],
  ['FerretDB', mongoPort],
  ['API', config.port],
  ['warehouse simulator', config.warehouseSimulator.port],
  ['manufacturer simulator', config.manufacturerSimulator.port],
  ['development identity provider (DEV_IDP_PORT)', config.devIdpPort],
  ['worker ops port (WORKER_OPS_PORT)', Number(workerOps)],
  ['adaptor ops port (ADAPTOR_OPS_PORT)', Number(adaptorOps)],
  ['worker Temporal metrics (WORKER_CORE_METRICS_ADDRESS)', Number(coreMetrics.split(':').pop())],
]);

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
  return supervisor.stopAll(1);
});
supervisor.servers.push(temporal, ferret);

const db = await connectDb(config.mongodbUri);
await seedDemoData(db);
await db.close();

// The provider first: the API discovers its keys on the first access token.
run('dev-idp', 'scripts/dev-idp-main.ts');
run('worker', 'worker/main.ts', { OPS_PORT: workerOps, WORKER_CORE_METRICS_ADDRESS: coreMetrics });
run('api', 'api/main.ts');
run('adaptor', 'adaptor/main.ts', { OPS_PORT: adaptorOps });
run('warehouse-simulator', 'simulators/warehouse-main.ts');
run('manufacturer-simulator', 'simulators/manufacturer-main.ts');

// Ready when the API answers.
await waitForApi(config.port);

console.log(`
hardware-orders is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)
  AgentView and API   http://localhost:${config.port}/
  API docs            http://localhost:${config.port}/docs   (OpenAPI: /openapi.json)
  Temporal Web UI     ${config.temporal.uiUrl}   (filter: OrderStatus="AwaitingDispatch")
  MongoDB (FerretDB)  ${config.mongodbUri}
  Metrics             API http://localhost:${config.port}/metrics (ops token)   worker http://localhost:${workerOps}/metrics and http://${coreMetrics}/metrics (Temporal)   adaptor http://localhost:${adaptorOps}/metrics
  Demo tokens         agent: ${config.tokens.agent[0]}   ops: ${config.tokens.ops[0]}   adaptor: ${config.tokens.adaptor[0]}   admin: ${config.tokens.admin[0]}
  Dev OpenID provider ${config.oidc?.issuer}   people alice, olga, adam (password <name>-dev-password)   client credentials adaptor / adaptor-dev-secret
  Demo accounts       ACC-1001 (Alice Johnson), ACC-1002 (Brightwater Logistics Ltd), ACC-1003 (Callum MacLeod)
  Data and logs       ${config.dataDir}
Ctrl-C stops everything.`);
