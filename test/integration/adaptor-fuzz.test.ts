// Abuse at the warehouse edge: generated and mutated response files (cells, rows, raw bytes,
// headers). 10,000 go through the adaptor's parsing and validation exactly as ingest runs it (the
// csv-parse stream with csvParseOptions feeding DispatchRowValidator); a few hundred go through the
// whole adaptor (processInboxFile → ingestWarehouseFile → MongoDB → Sales Order Dispatch job →
// orders). Whatever the file: no crash, no row applied that breaks a rule (re-checked here by
// independent code), every row accounted for, every rejection reported.
import fc from 'fast-check';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processInboxFile } from '../../adaptor/watcher';
import type { DispatchRow, RowRejection, SubOrderRef } from '../../domain/types';
import { DispatchRowValidator, REJECTION_CODES, WAREHOUSE_RESPONSE_COLUMNS, csvParseOptions } from '../../domain/warehouse-response';
import { warehouseFolders } from '../../infra/config';
import { readDispatchRows } from '../../infra/store/dispatch-rows';
import type { OrderView } from '../../workflows/messages';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { ordersAwaitingDispatch, shippedRows, type ResponseRow } from '../support/dispatch-fixtures';
import { eventually, startSystem, type TestSystem } from '../support/system';

const PURE_CASES = Number(process.env.ADAPTOR_FUZZ_CASES ?? 10_000);
const DB_CASES = Number(process.env.ADAPTOR_FUZZ_DB_CASES ?? 100);
const WH = 'WH-NORTH';

let sys: TestSystem;
let orders: OrderView[] = [];
let refs = new Map<string, SubOrderRef>();

beforeAll(async () => {
  sys = await startSystem({ env: { WAREHOUSES: `${WH},WH-SOUTH` } });
  // Under the fraud threshold, all in stock at the first warehouse: one sub-order each at WH-NORTH.
  orders = await ordersAwaitingDispatch(sys, 8, {
    accountId: 'ACC-1002',
    lines: [
      { sku: 'HS-APL-IP16-128', quantity: 1 },
      { sku: 'PR-ROUTER-5G', quantity: 1 },
      { sku: 'PR-APL-USBC-20W', quantity: 2 },
    ],
  });
  const docs = await sys.db.models.SalesOrder.find({ orderId: { $in: orders.map((o) => o.orderId) }, purpose: 'new' }).lean();
  refs = new Map(
    docs.map((d) => [
      d.subOrderNumber,
      { subOrderNumber: d.subOrderNumber, orderId: d.orderId, warehouseId: d.warehouseId, lines: d.lines as SubOrderRef['lines'] },
    ]),
  );
  expect(refs.size).toBe(orders.length);
}, 300_000);

afterAll(async () => {
  await sys?.stop();
});

// ---- Independent rules (not the production validator) for a row the adaptor accepted. ----

const DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
const luhn = (s: string) => /^\d{15}$/.test(s) && [...s].reverse().reduce((sum, ch, i) => sum + (i % 2 ? DOUBLED[Number(ch)] : Number(ch)), 0) % 10 === 0;
const realDate = (s: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  d.setUTCFullYear(Number(m[1]));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
};
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Why an accepted row should not have been accepted, or null. `shipped` carries the file's running totals. */
function breaks(row: DispatchRow, fileWarehouse: string, shipped: Map<string, number>, imeis: Set<string>): string | null {
  const ref = refs.get(row.subOrderNumber);
  if (!ref) return 'accepted a row for an unknown sub-order';
  if (row.warehouseId !== fileWarehouse || ref.warehouseId !== row.warehouseId) return 'accepted a row for another warehouse';
  const line = ref.lines.find((l) => l.lineNumber === row.lineNumber);
  if (!line) return 'accepted a row for a line the sub-order does not have';
  if (line.sku !== row.sku) return 'accepted a row with the wrong SKU';
  for (const v of Object.values(row))
    if (typeof v === 'string' && (CONTROL.test(v) || v !== v.trim() || v.length > 256))
      return 'accepted a cell with control characters, padding or excess length';
  const shipping = row.disposition === 'shipped' || row.disposition === 'partial';
  if (!['shipped', 'partial', 'outOfStock', 'cancelled', 'error'].includes(row.disposition)) return 'accepted an unknown disposition';
  if (!shipping) {
    if (row.quantityShipped !== 0 || row.serialNumber || row.imei || row.imei2) return 'accepted units on a row that ships nothing';
    if (row.disposition === 'error' && !row.errorCode) return 'accepted an error row without a code';
    return null;
  }
  if (!Number.isSafeInteger(row.quantityShipped) || row.quantityShipped < 1) return 'accepted a shipped row without a positive quantity';
  if (!row.shipDate || !realDate(row.shipDate)) return 'accepted a shipped row without a real ship date';
  if (line.capture !== 'none' && !row.serialNumber) return 'accepted a unit without its serial number';
  if (line.capture === 'imei' && (!row.imei || !luhn(row.imei))) return 'accepted a handset without a valid IMEI';
  if (row.imei2 && (!luhn(row.imei2) || row.imei2 === row.imei)) return 'accepted an invalid second IMEI';
  if ((row.serialNumber || row.imei) && row.quantityShipped !== 1) return 'accepted a serialised row for more than one unit';
  for (const i of [row.imei, row.imei2]) {
    if (!i) continue;
    if (imeis.has(i)) return 'accepted the same IMEI twice in a file';
    imeis.add(i);
  }
  const key = `${row.subOrderNumber}:${row.lineNumber}`;
  const total = (shipped.get(key) ?? 0) + row.quantityShipped;
  if (total > line.quantity) return 'accepted more units than the line ordered';
  shipped.set(key, total);
  return null;
}

// ---- Files: valid ones from the real orders, then mutated. ----

const COLS = WAREHOUSE_RESPONSE_COLUMNS;
const weirdCell = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '0',
    '-1',
    '1.5',
    '1e3',
    '999999999999999999999',
    'NaN',
    'WH-SOUTH',
    'WH-NOWHERE',
    'shipped',
    'partial',
    'error',
    'outOfStock',
    'cancelled',
    'SHIPPED',
    '2026-02-30',
    '2026-13-01',
    '26-01-01',
    '353325110000008',
    '353325110000009',
    '35332511000000',
    'ORD-UNKNOWN-WH-NORTH',
    'HS-APL-IP16-128',
    'PR-ROUTER-5G',
    '=cmd|"/c calc"!A1',
    'x'.repeat(300),
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('a\u0000b', 'line\nbreak', 'tab\there', '\u2028', '"quoted"', 'comma,inside', ' padded '),
);

type Mutation = (rows: ResponseRow[], header: string[]) => { rows: ResponseRow[]; header: string[] };
const cellMutation = fc.tuple(fc.nat(), fc.constantFrom(...COLS), weirdCell).map(([i, col, value]): Mutation => (rows, header) => {
  if (!rows.length) return { rows, header };
  const copy = rows.map((r) => ({ ...r }));
  copy[i % copy.length][col] = value;
  return { rows: copy, header };
});
const rowMutation = fc
  .tuple(fc.constantFrom('duplicate', 'drop', 'shipTwice', 'otherOrder'), fc.nat(), fc.nat())
  .map(([kind, i, j]): Mutation => (rows, header) => {
    if (!rows.length) return { rows, header };
    const r = rows[i % rows.length];
    const copy = [...rows];
    if (kind === 'duplicate') copy.splice(j % (copy.length + 1), 0, { ...r });
    else if (kind === 'drop') copy.splice(i % copy.length, 1);
    else if (kind === 'shipTwice') copy.push({ ...r, serial_number: `${r.serial_number ?? 'SN'}X` });
    else copy.push({ ...r, sub_order_number: [...refs.keys()][j % refs.size] });
    return { rows: copy, header };
  });
const headerMutation = fc.constantFrom<Mutation>(
  (rows, h) => ({ rows, header: [...h].reverse() }),
  (rows, h) => ({ rows, header: h.slice(1) }),
  (rows, h) => ({ rows, header: [...h, 'extra'] }),
  (rows, h) => ({ rows, header: [h[0], ...h] }),
  (rows, h) => ({ rows, header: h.map((c) => c.toUpperCase()) }),
  (rows, h) => ({ rows, header: [`\ufeff${h[0]}`, ...h.slice(1)] }),
);

const render = (rows: ResponseRow[], header: string[]) =>
  header.join(',') === COLS.join(',') ? formatWarehouseResponseCsv(rows) : stringify([header, ...rows.map((r) => COLS.map((c) => r[c] ?? ''))]);

/** Raw text edits: stray quotes, cut files, odd line endings, bytes that are not UTF-8, extra cells. */
const rawMutation = fc
  .tuple(
    fc.constantFrom('quote', 'truncate', 'crlf', 'bytes', 'extraCell', 'blankLines', 'nul', 'none'),
    fc.nat(),
    fc.uint8Array({ minLength: 1, maxLength: 8 }),
  )
  .map(([kind, at, bytes]) => (text: string): Buffer => {
    const i = text.length ? at % text.length : 0;
    switch (kind) {
      case 'quote':
        return Buffer.from(text.slice(0, i) + '"' + text.slice(i));
      case 'truncate':
        return Buffer.from(text.slice(0, i));
      case 'crlf':
        return Buffer.from(text.replace(/\n/g, '\r\n'));
      case 'bytes':
        return Buffer.concat([Buffer.from(text.slice(0, i)), Buffer.from(bytes), Buffer.from(text.slice(i))]);
      case 'extraCell':
        return Buffer.from(text.replace(/\n/, ',x\n'));
      case 'blankLines':
        return Buffer.from(text.replace(/\n/g, '\n\n'));
      case 'nul':
        return Buffer.from(text.slice(0, i) + '\u0000' + text.slice(i));
      default:
        return Buffer.from(text);
    }
  });

const fileArb = fc
  .record({
    orders: fc.subarray([...Array(8).keys()], { minLength: 1, maxLength: 4 }),
    mutations: fc.array(fc.oneof({ weight: 5, arbitrary: cellMutation }, { weight: 3, arbitrary: rowMutation }, { weight: 1, arbitrary: headerMutation }), {
      maxLength: 4,
    }),
    raw: fc.oneof({ weight: 4, arbitrary: fc.constant((t: string) => Buffer.from(t)) }, { weight: 1, arbitrary: rawMutation }),
    warehouse: fc.constantFrom(WH, WH, WH, 'WH-SOUTH'),
  })
  .map(({ orders: picks, mutations, raw, warehouse }) => {
    let rows = picks.flatMap((i) => shippedRows(orders[i % orders.length]));
    let header: string[] = [...COLS];
    for (const m of mutations) ({ rows, header } = m(rows, header));
    return { warehouse, content: raw(render(rows, header)) };
  });

// ---- The pure path, as ingest runs it. ----

interface Validated {
  kind: 'accepted' | 'unreadable';
  rowCount: number;
  rows: DispatchRow[];
  rejections: RowRejection[];
  unknown: DispatchRow[];
}

async function validateLikeIngest(content: Buffer, warehouse: string): Promise<Validated> {
  const validator = new DispatchRowValidator((n) => refs.get(n), warehouse);
  const out: Validated = { kind: 'accepted', rowCount: 0, rows: [], rejections: [], unknown: [] };
  let header = false;
  try {
    for await (const record of Readable.from([content]).pipe(parse(csvParseOptions)) as AsyncIterable<unknown[]>) {
      if (!header) {
        header = true;
        const bad = validator.checkHeader(record.map((c) => String(c ?? '')));
        if (bad) return { ...out, kind: 'unreadable', rejections: [bad] };
        continue;
      }
      const r = validator.acceptCells(record, ++out.rowCount);
      if ('row' in r) out.rows.push(r.row);
      else if ('rejection' in r) out.rejections.push(r.rejection);
      else out.unknown.push(r.unknownOrder);
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    return { ...out, kind: 'unreadable' };
  }
  return header ? out : { ...out, kind: 'unreadable' };
}

describe('the warehouse adaptor under generated and mutated files', () => {
  it(`parses and validates ${PURE_CASES} files the way ingest does: no crash, no bad row accepted, every row accounted for`, { timeout: 600_000 }, async () => {
    const codes = new Map<string, number>();
    let accepted = 0;
    let unreadable = 0;
    await fc.assert(
      fc.asyncProperty(fileArb, async ({ warehouse, content }) => {
        const v = await validateLikeIngest(content, warehouse);
        if (v.kind === 'unreadable') {
          unreadable++;
          return;
        }
        accepted++;
        expect(v.rows.length + v.rejections.length + v.unknown.length).toBe(v.rowCount);
        const shipped = new Map<string, number>();
        const imeis = new Set<string>();
        for (const row of v.rows) expect(breaks(row, warehouse, shipped, imeis), JSON.stringify(row)).toBeNull();
        for (const r of v.rejections) {
          expect(Object.keys(REJECTION_CODES)).toContain(r.code);
          expect(r.rowNumber).toBeGreaterThanOrEqual(1);
          expect(r.rowNumber).toBeLessThanOrEqual(v.rowCount);
          expect(r.message.length).toBeGreaterThan(0);
          codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        }
      }),
      { numRuns: PURE_CASES, seed: 4242 },
    );
    console.log(
      `adaptor pure-path fuzz: ${PURE_CASES} files, ${accepted} read, ${unreadable} unreadable; rejections by code: ${JSON.stringify(Object.fromEntries(codes))}`,
    );
    // The generator reaches the interesting places: most rules fire, and files both pass and fail.
    expect(codes.size).toBeGreaterThan(12);
    expect(unreadable).toBeGreaterThan(0);
  });

  it(
    `ingests ${DB_CASES} files through the real adaptor: each archived or quarantined with a complete report, no bad row stored or applied`,
    { timeout: 900_000 },
    async () => {
      const { DispatchBatch, AdaptorException } = sys.db.models;
      const deps = { config: sys.config, db: sys.db, temporal: sys.temporal };
      const outcomes = { accepted: 0, duplicate: 0, unreadable: 0 };
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fileArb, async ({ warehouse, content }) => {
          const f = warehouseFolders(sys.config.dataDir, warehouse);
          await fsp.mkdir(f.processing, { recursive: true });
          const file = path.join(f.processing, `fuzz-${String(++n).padStart(5, '0')}.csv`);
          await fsp.writeFile(file, content);
          const outcome = await processInboxFile(deps, warehouse, file);
          outcomes[outcome.kind]++;
          // The file left processing, with its report beside it.
          expect(fs.existsSync(file)).toBe(false);
          const dir = outcome.kind === 'unreadable' ? f.quarantine : f.archive;
          const moved = fs.readdirSync(dir).find((x) => x.endsWith(`-${path.basename(file)}`));
          expect(moved, `${path.basename(file)} in ${dir}`).toBeDefined();
          const report = JSON.parse(fs.readFileSync(path.join(dir, `${moved}.report.json`), 'utf8'));
          expect(report).toMatchObject({ batchId: outcome.batchId, outcome: outcome.kind });
          if (outcome.kind === 'unreadable') {
            expect(report.reason).toEqual(expect.any(String));
            expect(report.rejections.length).toBeGreaterThan(0);
            return;
          }
          const batch = await DispatchBatch.findOne({ batchId: outcome.batchId }).lean();
          expect(batch).not.toBeNull();
          if (outcome.kind !== 'accepted') return;
          expect(outcome.validRows + outcome.rejectedRows + outcome.exceptionRows).toBe(outcome.rowCount);
          expect(report.rejections).toHaveLength(Math.min(outcome.rejectedRows, 1000));
          const rows = await readDispatchRows(sys.db.models, outcome.batchId, batch!.rowChunks);
          expect(rows).toHaveLength(outcome.validRows);
          expect(await AdaptorException.countDocuments({ batchId: outcome.batchId, code: 'UNKNOWN_ORDER' })).toBe(outcome.exceptionRows);
          const shipped = new Map<string, number>();
          const imeis = new Set<string>();
          for (const r of [...rows].sort((a, b) => a.rowNumber - b.rowNumber)) {
            expect(breaks(r.row, warehouse, shipped, imeis), JSON.stringify(r.row)).toBeNull();
          }
        }),
        { numRuns: DB_CASES, seed: 777 },
      );
      console.log(`adaptor DB fuzz: ${DB_CASES} files through processInboxFile: ${JSON.stringify(outcomes)}`);
      expect(outcomes.accepted).toBeGreaterThan(0);
      expect(outcomes.unreadable).toBeGreaterThan(0);

      // Every dispatch job finishes; what reached the orders is only ever stored, valid rows, once each.
      await eventually(async () => !(await DispatchBatch.exists({ status: { $ne: 'done' } })), 'every dispatch batch done', 300_000);
      const stored = new Set<string>();
      for (const b of await DispatchBatch.find({}, { batchId: 1, rowChunks: 1 }).lean()) {
        for (const r of await readDispatchRows(sys.db.models, b.batchId, b.rowChunks)) stored.add(`${b.batchId}:${r.rowNumber}`);
      }
      for (const o of orders) {
        const view = (await sys.db.models.OrderView.findOne({ orderId: o.orderId }).lean())!.state as OrderView;
        const seen = new Set<string>();
        for (const sub of view.subOrders) {
          for (const u of [...sub.units, ...sub.lineExceptions]) {
            expect(stored.has(u.rowKey), `${o.orderId} applied ${u.rowKey}, which no stored row backs`).toBe(true);
            expect(seen.has(u.rowKey), `${o.orderId} applied ${u.rowKey} twice`).toBe(false);
            seen.add(u.rowKey);
          }
          for (const l of sub.lines)
            expect(sub.units.filter((u) => u.lineNumber === l.lineNumber).reduce((s, u) => s + u.quantity, 0)).toBeLessThanOrEqual(l.quantity);
        }
      }
    },
  );
});
