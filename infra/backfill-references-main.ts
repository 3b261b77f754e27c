// `npm run backfill:references` (in the production image: `node dist/infra/backfill-references-main.js`):
// notes the search references (IMEIs, serials, tracking numbers) of every order already stored, for
// orders that shipped before the search existed. Order and invoice numbers need none. Reads the
// API's environment (MONGODB_URI); safe to run again and while everything runs.
import { loadConfig } from './config';
import { connectDb } from './db';
import { backfillOrderReferences } from './store/order-references';

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
try {
  const started = Date.now();
  const { orders, references } = await backfillOrderReferences(db.models, (n) => console.error(`backfill: ${n} orders…`));
  console.error(`backfill: ${orders} orders read, ${references} unit references noted in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  await db.close();
}
