// `npm run start:cluster`: the production shape on one machine, without containers. PostgreSQL 15
// (data/cluster/postgres), the real Temporal server on it (deploy/temporal/cluster-postgres.yaml,
// the configuration docker-compose.yml mounts; schema created or upgraded by the server's SQL tool;
// the `default` namespace and our search attributes), the Temporal Web UI, FerretDB, then TWO
// workers on the one task queue, TWO API instances (ports 3000 and 3001), the adaptor and the
// warehouse and manufacturer simulators. Ctrl-C stops everything. See docs/operations.md.
import fs from 'node:fs';
import path from 'node:path';
import { clusterServers } from '../infra/cluster';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { ensureTools } from '../infra/dev-stack';
import { seedDemoData } from '../infra/seed';
import { buildAgentView } from './agentview-bundle';
import { requireFreePorts, Supervisor, waitForApi } from './supervisor';

const ports = {
  postgres: Number(process.env.POSTGRES_PORT ?? 5432),
  temporal: Number(process.env.TEMPORAL_PORT ?? 7233),
  // Temporal's frontend HTTP and membership, history, matching and worker ports (the server's usual ones).
  temporalInternal: [7243, 6933, 7234, 6934, 7235, 6935, 7239, 6939],
  temporalUi: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  ferretdb: Number(process.env.FERRETDB_PORT ?? 27017),
};
const apiPorts = [Number(process.env.PORT ?? 3000), Number(process.env.API_2_PORT ?? 3001)];
// Probes and metrics per process, as `npm start` gives them (docs/operations.md, Logs, probes and metrics).
const workerOps = [9101, 9103];
const adaptorOps = 9102;
const coreMetrics = ['127.0.0.1:9464', '127.0.0.1:9465'];
process.env.NODE_ENV ??= 'development';
process.env.WAREHOUSE_SIMULATOR_REPLENISH_PER_MINUTE ??= '10';
process.env.TEMPORAL_ADDRESS ??= `127.0.0.1:${ports.temporal}`;
process.env.TEMPORAL_UI_URL ??= `http://localhost:${ports.temporalUi}`;
process.env.MONGODB_URI ??= `mongodb://127.0.0.1:${ports.ferretdb}/hardware_orders`;
const config = loadConfig();
const clusterDir = path.join(config.dataDir, 'cluster');
const logs = path.join(config.dataDir, 'logs', 'cluster');
fs.mkdirSync(logs, { recursive: true });

const supervisor = new Supervisor(logs);
await requireFreePorts([
  ['PostgreSQL', ports.postgres],
  ['Temporal', ports.temporal],
  ...ports.temporalInternal.map((p) => ['Temporal (internal)', p] as const),
  ['Temporal UI', ports.temporalUi],
  ['FerretDB', ports.ferretdb],
  ...apiPorts.map((p, i) => [`API ${i + 1}`, p] as const),
  ['warehouse simulator', config.warehouseSimulator.port],
  ['manufacturer simulator', config.manufacturerSimulator.port],
  ...workerOps.map((p, i) => [`worker ${i + 1} ops port`, p] as const),
  ['adaptor ops port', adaptorOps],
  ...coreMetrics.map((a, i) => [`worker ${i + 1} Temporal metrics`, Number(a.split(':').pop())] as const),
]);

const t0 = Date.now();
await buildAgentView();
const tools = ensureTools({ cluster: true });
const servers = clusterServers({ tools, dir: clusterDir, logDir: logs, ports });
try {
  console.log('starting PostgreSQL and FerretDB…');
  const [postgres, ferretdb] = await Promise.all([servers.postgres(), servers.ferretdb()]);
  supervisor.servers.push(postgres, ferretdb);
  console.log("creating or upgrading Temporal's schema…");
  await servers.schema();
  console.log('starting the Temporal server and its Web UI…');
  supervisor.servers.push(await servers.temporal());
  supervisor.servers.push(await servers.temporalUi());
} catch (err) {
  console.error(`could not start the servers (logs in ${logs}):`, err);
  await supervisor.stopAll(1);
}

const db = await connectDb(config.mongodbUri);
await seedDemoData(db);
await db.close();

workerOps.forEach((p, i) =>
  supervisor.run(`worker-${i + 1}`, 'worker/main.ts', { ...process.env, OPS_PORT: String(p), WORKER_CORE_METRICS_ADDRESS: coreMetrics[i] }),
);
apiPorts.forEach((p, i) => supervisor.run(`api-${i + 1}`, 'api/main.ts', { ...process.env, PORT: String(p) }));
supervisor.run('adaptor', 'adaptor/main.ts', { ...process.env, OPS_PORT: String(adaptorOps) });
supervisor.run('warehouse-simulator', 'simulators/warehouse-main.ts');
supervisor.run('manufacturer-simulator', 'simulators/manufacturer-main.ts');
await Promise.all(apiPorts.map(waitForApi));

console.log(`
hardware-orders (cluster profile) is running (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)
  AgentView and API   http://localhost:${apiPorts[0]}/ and http://localhost:${apiPorts[1]}/   (two instances)
  Temporal Web UI     ${config.temporal.uiUrl}
  Temporal frontend   ${config.temporal.address}   (real server on PostgreSQL 127.0.0.1:${ports.postgres}, database temporal, user temporal)
  MongoDB (FerretDB)  ${config.mongodbUri}
  Workers             2, task queue ${config.temporal.taskQueue}
  Probes and metrics  workers :${workerOps.join(', :')} (Temporal SDK metrics ${coreMetrics.join(', ')}), adaptor :${adaptorOps}
  Demo tokens         agent: ${config.tokens.agent[0]}   ops: ${config.tokens.ops[0]}   adaptor: ${config.tokens.adaptor[0]}   admin: ${config.tokens.admin[0]}
  Data and logs       ${clusterDir}, ${logs}
Ctrl-C stops everything.`);
