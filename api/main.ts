// The API process: the agent API, its OpenAPI docs and AgentView, on PORT (default 3000).
import { serve } from '@hono/node-server';
import { Client } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { log, logReady } from '../infra/log';
import { temporalDataConverter } from '../infra/payload-codec';
import { HttpStockClient } from '../infra/stock-client';
import { connectTemporalClient } from '../infra/temporal-connection';
import { createApp } from './app';
import { startIdempotencySweep } from './idempotency';

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
const connection = await connectTemporalClient(config.temporal);
const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) });
const stock = config.warehouses.stockUrl ? new HttpStockClient(config.warehouses.stockUrl, config.warehouses.ids, config.warehouses.stockTimeoutMs) : null;
const app = createApp({ config, db, temporal, stock });

if (!config.oidc && !Object.values(config.tokens).some((t) => t.length)) {
  // Without NODE_ENV=development (or test) the published dev tokens are refused, so nobody could sign in.
  log.fatal({ component: 'api' }, 'nobody could sign in: set OIDC_ISSUER, or NODE_ENV=development for the dev tokens');
  process.exit(1);
}
const server = serve({ fetch: app.fetch, port: config.port, hostname: config.host }, (info) => {
  logReady('api', { url: `http://${config.host}:${info.port}`, docs: '/docs' });
});
// Slow or stuck clients cannot hold connections forever.
const http = server as unknown as { requestTimeout: number; headersTimeout: number; keepAliveTimeout: number };
http.requestTimeout = 60_000;
http.headersTimeout = 15_000;
http.keepAliveTimeout = 5_000;

const stopSweep = startIdempotencySweep(db);

const stop = () => {
  stopSweep();
  server.close();
  void Promise.all([connection.close(), db.close()]).finally(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
