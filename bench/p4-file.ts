// P4, run in a child process of its own so that its peak RSS is its own:
//   write <file> <rows>     a warehouse response file: <rows> shipped units with serials and IMEIs
//   csv-parse <file>        baseline: csv-parse alone, counting records
//   adaptor <file> <rows>   the adaptor's path: hash the file (a pass of its own, as in ingest,
//                           where the batch id is looked up before any row is read), then
//                           csv-parse with the adaptor's options, in chunks of 500, every row
//                           through DispatchRowValidator (sub-orders looked up per chunk, here from
//                           memory instead of MongoDB)
// Prints one JSON line: { rows, valid, rejected, ms, rowsPerSec, peakRssKb }.
import { parse } from 'csv-parse';
import fs from 'node:fs';
import { once } from 'node:events';
import type { SubOrderRef } from '../domain/types';
import { memoryKb } from './metrics';

/** Units per sub-order line: a bulk file ships several handsets per order. */
export const UNITS_PER_SUB_ORDER = 5;
const subOrderOf = (unit: number) => `ORD-B${String(Math.floor(unit / UNITS_PER_SUB_ORDER)).padStart(9, '0')}-WH-NORTH`;

async function writeFile(file: string, rows: number): Promise<void> {
  const { luhnCheckDigit } = await import('../domain/imei');
  const { WAREHOUSE_RESPONSE_COLUMNS } = await import('../domain/warehouse-response');
  const out = fs.createWriteStream(file);
  out.write(WAREHOUSE_RESPONSE_COLUMNS.join(',') + '\n');
  for (let u = 0; u < rows; u++) {
    const body = '353325' + String(u).padStart(8, '0');
    const line = [
      'WH-NORTH',
      subOrderOf(u),
      '1',
      'HS-APL-IP16-128',
      '1',
      `SN${String(u).padStart(10, '0')}`,
      body + luhnCheckDigit(body),
      '',
      'DPD',
      `TRK${Math.floor(u / UNITS_PER_SUB_ORDER)}`,
      '2025-06-02',
      'shipped',
      '',
      '',
    ];
    if (!out.write(line.join(',') + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function csvParseAlone(file: string) {
  let rows = 0;
  for await (const _record of fs.createReadStream(file).pipe(parse())) rows++;
  return { rows: rows - 1, valid: rows - 1, rejected: 0 };
}

/** The adaptor's modules, loaded before the clock starts: a running adaptor has them loaded once. */
async function loadAdaptor() {
  // Loaded here, not at the top: the baseline's RSS must not include the adaptor's modules.
  // hashStream from its own module (adaptor/ingest.ts re-exports it): this path stores nothing,
  // so it does not load mongoose and the Temporal client.
  const { hashStream } = await import('../adaptor/file-hash');
  const { DispatchRowValidator, csvParseOptions } = await import('../domain/warehouse-response');
  return { hashStream, DispatchRowValidator, csvParseOptions };
}

async function adaptorPath(file: string, { hashStream, DispatchRowValidator, csvParseOptions }: Awaited<ReturnType<typeof loadAdaptor>>) {
  await hashStream(fs.createReadStream(file));
  const refs = new Map<string, SubOrderRef | null>();
  const known = (n: string): SubOrderRef | null => {
    const m = /^ORD-B(\d{9})-WH-NORTH$/.exec(n);
    if (!m) return null;
    return {
      orderId: `ORD-B${m[1]}`,
      subOrderNumber: n,
      warehouseId: 'WH-NORTH',
      lines: [{ lineNumber: 1, sku: 'HS-APL-IP16-128', quantity: UNITS_PER_SUB_ORDER, capture: 'imei' }],
    };
  };
  const validator = new DispatchRowValidator((n) => refs.get(n) ?? undefined, 'WH-NORTH');
  let header = false;
  let chunk: unknown[][] = [];
  let rows = 0;
  let valid = 0;
  let rejected = 0;
  const flush = async () => {
    // The same per-chunk lookup as ingest (one query per new sub-order there); an await keeps it a turn.
    for (const cells of chunk) {
      const n = String(cells[1] ?? '').trim();
      if (!refs.has(n)) refs.set(n, known(n));
    }
    await Promise.resolve();
    for (const cells of chunk) {
      const r = validator.acceptCells(cells, ++rows);
      if ('row' in r) valid++;
      else rejected++;
    }
    chunk = [];
  };
  for await (const record of fs.createReadStream(file).pipe(parse(csvParseOptions)) as AsyncIterable<unknown[]>) {
    if (!header) {
      const bad = validator.checkHeader(record.map(String));
      if (bad) throw new Error(bad.message);
      header = true;
      continue;
    }
    chunk.push(record);
    if (chunk.length >= 500) await flush();
  }
  await flush();
  return { rows, valid, rejected };
}

const [mode, file, rowsArg] = process.argv.slice(2);
if (mode === 'write') {
  await writeFile(file, Number(rowsArg));
} else {
  const adaptor = mode === 'csv-parse' ? null : await loadAdaptor();
  const started = performance.now();
  const result = adaptor ? await adaptorPath(file, adaptor) : await csvParseAlone(file);
  const ms = performance.now() - started;
  process.stdout.write(JSON.stringify({ ...result, ms, rowsPerSec: result.rows / (ms / 1000), peakRssKb: memoryKb().peakRssKb }) + '\n');
}
