// One warehouse file ingested in a process of its own, as the adaptor process does it, with its
// live memory measured there: the test process also runs the worker, the API and vitest, whose
// work under a loaded machine would count as the ingest's. Configured from the environment like
// every process (infra/config.ts); arguments: WAREHOUSE_ID FILE. Prints one JSON line: the
// outcome and the memory measured. Run with `node --expose-gc --import tsx`.
import fs from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { ingestWarehouseFile } from '../../adaptor/ingest';
import { loadConfig } from '../../infra/config';
import { connectDb } from '../../infra/db';
import { temporalDataConverter } from '../../infra/payload-codec';
import { connectTemporalClient } from '../../infra/temporal-connection';

const [warehouseId, file] = process.argv.slice(2);
const gc = globalThis.gc;
if (!warehouseId || !file || !gc) throw new Error('usage: node --expose-gc --import tsx ingest-process.ts WAREHOUSE_ID FILE');

const config = loadConfig();
const db = await connectDb(config.mongodbUri);
const connection = await connectTemporalClient(config.temporal);
const temporal = new Client({ connection, namespace: config.temporal.namespace, dataConverter: temporalDataConverter(config) });

// Live memory, not garbage V8 has yet to collect: sampled right after a full GC. What a held file
// would be: JS objects and strings (the heap) and Buffers (array buffers). Native memory libraries
// keep outside both (V8's other "external" memory) is reported, not counted: it varied from 10 to
// 35 MB between runs of the same ingest.
const live = () => {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
gc();
const before = { live: live(), rss: process.memoryUsage().rss };
let peakLive = before.live;
let atPeak = process.memoryUsage();
let peakRss = before.rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  gc();
  const now = live();
  if (now > peakLive) {
    peakLive = now;
    atPeak = process.memoryUsage();
  }
}, 250);
const t0 = Date.now();
try {
  const outcome = await ingestWarehouseFile(
    { config, db, temporal },
    { warehouseId, fileName: path.basename(file), source: 'inbox', open: () => fs.createReadStream(file) },
  );
  const ms = Date.now() - t0;
  process.stdout.write(
    `${JSON.stringify({ outcome, ms, liveGrowth: peakLive - before.live, atPeak, rssBefore: before.rss, rssGrowth: peakRss - before.rss })}\n`,
  );
} finally {
  clearInterval(sampler);
  await connection.close();
  await db.close();
}
