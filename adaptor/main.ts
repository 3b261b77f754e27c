// The warehouse adaptor process: watches the warehouses' inbox folders (and polls the SFTP inboxes
// WAREHOUSES_FILE names) and turns each response file into a dispatch batch for the Sales Order
// Dispatch job.
import { Client } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { logReady } from '../infra/log';
import { startOpsServer } from '../infra/ops-server';
import { temporalDataConverter } from '../infra/payload-codec';
import { readinessOf } from '../infra/readiness';
import { sftpAddress } from '../infra/sftp';
import { connectTemporalClient } from '../infra/temporal-connection';
import { watchInboxes } from './watcher';

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
const connection = await connectTemporalClient(config.temporal);
const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) });
const watcher = watchInboxes({ config, db, temporal }, config.warehouses.ids, config.adaptorPollMs);
const ops = config.ops ? await startOpsServer({ ...config.ops, component: 'adaptor', ready: readinessOf(db, connection) }) : null;
const inboxes = config.warehouses.ids.map((id) => {
  const { responses, sftp } = config.warehouses.exchanges[id];
  return responses.transport === 'sftp' ? `${id} (SFTP ${sftpAddress(sftp!)}${responses.path} every ${responses.pollMs} ms)` : `${id} (${responses.transport})`;
});
logReady('adaptor', { inboxes, localCopies: `${config.dataDir}/warehouses`, opsPort: ops?.port ?? null });

const stop = async () => {
  await watcher.stop();
  await ops?.close();
  await connection.close();
  await db.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
