// The warehouse adaptor process: watches the warehouses' inbox folders and turns each response
// file into a dispatch batch for the Sales Order Dispatch job.
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { connectDb } from '../infra/db';
import { temporalDataConverter } from '../infra/payload-codec';
import { watchInboxes } from './watcher';

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
const connection = await Connection.connect({ address: config.temporal.address });
const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) });
const watcher = watchInboxes({ config, db, temporal }, config.warehouses.ids, config.adaptorPollMs);
console.log(`adaptor: watching inboxes of ${config.warehouses.ids.join(', ')} under ${config.dataDir}/warehouses`);

const stop = async () => {
  await watcher.stop();
  await connection.close();
  await db.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
