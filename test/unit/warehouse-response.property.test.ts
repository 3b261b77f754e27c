// Property tests for the warehouse response validator: valid generated files are accepted in
// full; mutated files (cells, rows, raw characters) never crash the validator, never yield a row
// that breaks the rules (re-checked here independently), and never lose a row.
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DISPOSITIONS, type DispatchRow, type SubOrderRef, type UnitCapture } from '../../domain/types';
import { MalformedCsvError, REJECTION_CODES, WAREHOUSE_RESPONSE_COLUMNS, csvParseOptions, type WarehouseResponseResult } from '../../domain/warehouse-response';
import { parseWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { validateDispatchBatch } from '../../infra/contracts';

const WH = 'WH1';
const RUNS = 300;

// ---- Independent re-implementations of the rules (not the production code) ----

const DOUBLED = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];
function luhnOk(s: string): boolean {
  if (!/^\d{15}$/.test(s)) return false;
  let sum = 0;
  [...s].reverse().forEach((ch, i) => {
    const d = Number(ch);
    sum += i % 2 === 1 ? DOUBLED[d] : d;
  });
  return sum % 10 === 0;
}
function withCheckDigit(payload14: string): string {
  for (let d = 0; d <= 9; d++) if (luhnOk(payload14 + d)) return payload14 + d;
  throw new Error('unreachable');
}
function realDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const dt = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  dt.setUTCFullYear(Number(m[1])); // Date.UTC maps years 0-99 to 1900-1999
  return dt.getUTCFullYear() === Number(m[1]) && dt.getUTCMonth() === Number(m[2]) - 1 && dt.getUTCDate() === Number(m[3]);
}
const clean = (s: string) => s === s.trim() && s.length > 0 && !/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s);

// ---- Generators ----

const SKUS = ['PHONE-A', 'PHONE-B', 'CABLE', 'ROUTER', 'CASE'];
const subOrderArb = (index: number) =>
  fc
    .record({
      warehouseId: fc.constantFrom(WH, WH, WH, 'WH2'),
      lines: fc.uniqueArray(
        fc.record({
          lineNumber: fc.integer({ min: 1, max: 6 }),
          sku: fc.constantFrom(...SKUS),
          quantity: fc.integer({ min: 1, max: 4 }),
          capture: fc.constantFrom<UnitCapture>('none', 'serial', 'imei'),
        }),
        { minLength: 1, maxLength: 4, selector: (l) => l.lineNumber },
      ),
    })
    .map((s): SubOrderRef => ({ orderId: `ORD-${index}`, subOrderNumber: `ORD-${index}-${s.warehouseId}`, ...s }));

const subOrdersArb = fc.tuple(subOrderArb(1), subOrderArb(2), subOrderArb(3)).map((t) => t.slice(0, 3));

type Cells = Record<(typeof WAREHOUSE_RESPONSE_COLUMNS)[number], string>;
const blank = (): Cells => Object.fromEntries(WAREHOUSE_RESPONSE_COLUMNS.map((c) => [c, ''])) as Cells;

/** Per line: how many units to ship (as a fraction of the ordered quantity) and what to do with the rest. */
const planArb = fc.array(
  fc.record({
    shipFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    rest: fc.constantFrom('outOfStock', 'cancelled', 'error', 'nothing'),
    dualSim: fc.boolean(),
    split: fc.boolean(),
    date: fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true }),
  }),
  { minLength: 12, maxLength: 12 },
);

/** A valid file's rows (cells) for the sub-orders in WH, plus some rows for unknown sub-orders. */
type PlanStep = { shipFraction: number; rest: string; dualSim: boolean; split: boolean; date: Date };
function validRows(subOrders: SubOrderRef[], plan: PlanStep[], unknown: number): Cells[] {
  const rows: Cells[] = [];
  let unit = 0;
  let p = 0;
  for (const so of subOrders.filter((s) => s.warehouseId === WH)) {
    for (const line of so.lines) {
      const step = plan[p++ % plan.length];
      const shipDate = step.date.toISOString().slice(0, 10);
      const base = { ...blank(), warehouse_id: WH, sub_order_number: so.subOrderNumber, line_number: String(line.lineNumber), sku: line.sku };
      const k = Math.floor(step.shipFraction * line.quantity + 0.5);
      const disposition = k < line.quantity ? 'partial' : 'shipped';
      if (line.capture === 'none') {
        const chunks = step.split && k > 1 ? [1, k - 1] : k > 0 ? [k] : [];
        for (const q of chunks)
          rows.push({ ...base, quantity_shipped: String(q), carrier: 'DPD', tracking_number: `T${unit++}`, ship_date: shipDate, disposition });
      } else {
        for (let i = 0; i < k; i++) {
          const n = unit++;
          const r: Cells = { ...base, quantity_shipped: '1', serial_number: `SN-${n}`, ship_date: shipDate, disposition };
          if (line.capture === 'imei') {
            r.imei = withCheckDigit(`35${String(n * 2).padStart(12, '0')}`);
            if (step.dualSim) r.imei2 = withCheckDigit(`35${String(n * 2 + 1).padStart(12, '0')}`);
          }
          rows.push(r);
        }
      }
      if (k < line.quantity && step.rest !== 'nothing') {
        rows.push({
          ...base,
          quantity_shipped: step.split ? '0' : '',
          disposition: step.rest,
          error_code: step.rest === 'error' ? 'E42' : '',
          error_message: step.rest === 'error' ? 'Damaged, "crushed"' : '',
        });
      }
    }
  }
  for (let i = 0; i < unknown; i++) {
    rows.push({
      ...blank(),
      warehouse_id: WH,
      sub_order_number: `ORD-X${i}-${WH}`,
      line_number: '1',
      sku: 'CABLE',
      quantity_shipped: '1',
      ship_date: '2025-01-31',
      disposition: 'shipped',
    });
  }
  return rows;
}

const formatArb = fc.record({
  crlf: fc.boolean(),
  bom: fc.boolean(),
  finalNewline: fc.boolean(),
  quoteAll: fc.boolean(),
  pad: fc.boolean(),
});
type Format = { crlf: boolean; bom: boolean; finalNewline: boolean; quoteAll: boolean; pad: boolean };

function quoteCell(cell: string, f: Format): string {
  const must = /[",\r\n]/.test(cell) || cell !== cell.trim();
  if (must || f.quoteAll) return `"${cell.replace(/"/g, '""')}"`;
  return f.pad && cell !== '' ? ` ${cell} ` : cell;
}
function toCsv(records: string[][], f: Format): string {
  const eol = f.crlf ? '\r\n' : '\n';
  const body = records.map((r) => r.map((c) => quoteCell(c, f)).join(',')).join(eol);
  return (f.bom ? '\uFEFF' : '') + body + (f.finalNewline ? eol : '');
}
const header = () => [...WAREHOUSE_RESPONSE_COLUMNS];
const cellsOf = (r: Cells) => WAREHOUSE_RESPONSE_COLUMNS.map((c) => r[c]);

const fileArb = fc
  .record({ subOrders: subOrdersArb, plan: planArb, unknown: fc.integer({ min: 0, max: 2 }), format: formatArb, seed: fc.integer() })
  .map((x) => {
    const rows = validRows(x.subOrders, x.plan, x.unknown);
    // Deterministic shuffle from the seed: order within a file must not matter.
    let s = x.seed >>> 0;
    for (let i = rows.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [rows[i], rows[j]] = [rows[j], rows[i]];
    }
    return { ...x, rows };
  });

const INTERESTING = [
  '',
  ' ',
  '0',
  '00',
  '1',
  '2',
  '5',
  '-1',
  '1.5',
  '1e2',
  '+1',
  '99999999999999999999',
  'shipped',
  'partial',
  'outOfStock',
  'cancelled',
  'error',
  'SHIPPED',
  'lost',
  WH,
  'WH2',
  'ORD-1-WH1',
  'ORD-2-WH1',
  'ORD-3-WH2',
  'ORD-404-WH1',
  ...SKUS,
  'SN-0',
  'SN-1',
  '353911101234566',
  '353911101234567',
  '35391110123456',
  '350000000000006',
  '350000000000022',
  '2025-02-29',
  '2024-02-29',
  '2025-13-01',
  '2025-1-1',
  '14/03/2025',
  'a,b',
  'say "hi"',
  'line\nbreak',
  'bell\u0007',
  'x'.repeat(300),
  '\u2028',
  'é',
  '😀',
];
const cellValueArb = fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ maxLength: 20 }), fc.stringMatching(/^\d{15}$/));

type Mutation =
  | { kind: 'set'; row: number; col: number; value: string }
  | { kind: 'dupRow'; row: number }
  | { kind: 'dropCell'; row: number; col: number }
  | { kind: 'addCell'; row: number; value: string }
  | { kind: 'swap'; row: number; a: number; b: number }
  | { kind: 'header'; col: number; value: string };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('set' as const), row: fc.nat(), col: fc.nat(13), value: cellValueArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('dupRow' as const), row: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('dropCell' as const), row: fc.nat(), col: fc.nat(13) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('addCell' as const), row: fc.nat(), value: cellValueArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('swap' as const), row: fc.nat(), a: fc.nat(13), b: fc.nat(13) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('header' as const), col: fc.nat(13), value: cellValueArb }) },
);

function mutate(records: string[][], mutations: Mutation[]): string[][] {
  const out = records.map((r) => [...r]);
  for (const m of mutations) {
    if (m.kind === 'header') {
      out[0][m.col] = m.value;
      continue;
    }
    if (out.length < 2) continue;
    const i = 1 + (m.row % (out.length - 1));
    const r = out[i];
    if (m.kind === 'set') r[m.col % r.length] = m.value;
    else if (m.kind === 'dupRow') out.splice(i, 0, [...r]);
    else if (m.kind === 'dropCell') r.splice(m.col % r.length, 1);
    else if (m.kind === 'addCell') r.push(m.value);
    else [r[m.a % r.length], r[m.b % r.length]] = [r[m.b % r.length], r[m.a % r.length]];
  }
  return out;
}

// ---- The invariants ----

function checkInvariants(text: string, result: WarehouseResponseResult, subOrders: SubOrderRef[]): void {
  const lookup = (n: string) => subOrders.find((s) => s.subOrderNumber === n);
  // The input rows, as csv-parse sees them (header first).
  const records = parse(text, { ...csvParseOptions }) as string[][];
  const dataRows = Math.max(0, records.length - 1);

  if (result.headerRejection !== null) {
    expect(result.headerRejection.rowNumber).toBe(0);
    expect(Object.keys(REJECTION_CODES)).toContain(result.headerRejection.code);
    expect(result.rows.length + result.rejections.length + result.unknownOrders.length).toBe(0);
    return;
  }
  // Nothing dropped, nothing counted twice.
  expect(result.recordCount).toBe(dataRows);
  const numbers = [...result.rows.map((r) => r.rowNumber), ...result.rejections.map((r) => r.rowNumber), ...result.unknownOrders.map((r) => r.rowNumber)].sort(
    (a, b) => a - b,
  );
  expect(numbers).toEqual(Array.from({ length: dataRows }, (_, i) => i + 1));

  for (const rej of result.rejections) {
    expect(Object.keys(REJECTION_CODES)).toContain(rej.code);
    expect(rej.message).toMatch(new RegExp(`^Row ${rej.rowNumber}: `));
  }
  for (const u of result.unknownOrders) expect(lookup(u.subOrderNumber)).toBeUndefined();

  const shipped = new Map<string, number>();
  const serials = new Set<string>();
  const imeis = new Set<string>();
  const checkRow = (row: DispatchRow, known: boolean) => {
    // Faithful to its input row.
    const cells = records[row.rowNumber].map((c) => c.trim());
    const cell = (name: string) => cells[WAREHOUSE_RESPONSE_COLUMNS.indexOf(name as (typeof WAREHOUSE_RESPONSE_COLUMNS)[number])];
    expect(cells).toHaveLength(WAREHOUSE_RESPONSE_COLUMNS.length);
    expect(row.warehouseId).toBe(cell('warehouse_id'));
    expect(row.subOrderNumber).toBe(cell('sub_order_number'));
    expect(row.sku).toBe(cell('sku'));
    expect(row.disposition).toBe(cell('disposition'));
    expect(row.serialNumber ?? '').toBe(cell('serial_number'));
    expect(row.imei ?? '').toBe(cell('imei'));
    expect(row.imei2 ?? '').toBe(cell('imei2'));
    expect(row.lineNumber).toBe(Number(cell('line_number')));
    for (const v of Object.values(row)) if (typeof v === 'string') expect(clean(v)).toBe(true);

    expect(row.warehouseId).toBe(WH);
    expect(DISPOSITIONS).toContain(row.disposition);
    expect(Number.isSafeInteger(row.lineNumber) && row.lineNumber >= 1).toBe(true);
    const shipping = row.disposition === 'shipped' || row.disposition === 'partial';
    if (shipping) {
      expect(Number.isSafeInteger(row.quantityShipped) && row.quantityShipped >= 1).toBe(true);
      expect(realDate(row.shipDate ?? '')).toBe(true);
    } else if (row.disposition === 'returned') {
      expect(row.quantityShipped).toBe(0);
      expect(row.serialNumber ?? row.imei).toBeDefined();
      expect(['A', 'B', 'C', 'scrap']).toContain(row.errorCode);
    } else {
      expect(row.quantityShipped).toBe(0);
      expect(row.serialNumber ?? row.imei ?? row.imei2).toBeUndefined();
    }
    if (row.shipDate !== undefined) expect(realDate(row.shipDate)).toBe(true);
    if (row.disposition === 'error' || row.disposition === 'outOfStock') expect(row.errorCode).toBeTruthy();
    if (row.imei !== undefined) expect(luhnOk(row.imei)).toBe(true);
    if (row.imei2 !== undefined) {
      expect(luhnOk(row.imei2)).toBe(true);
      expect(row.imei).toBeDefined();
      expect(row.imei2).not.toBe(row.imei);
    }
    if (row.disposition !== 'returned' && (row.serialNumber !== undefined || row.imei !== undefined)) expect(row.quantityShipped).toBe(1);
    if (!known) return;

    const ref = lookup(row.subOrderNumber);
    expect(ref).toBeDefined();
    expect(ref!.warehouseId).toBe(row.warehouseId);
    const line = ref!.lines.find((l) => l.lineNumber === row.lineNumber);
    expect(line).toBeDefined();
    expect(line!.sku).toBe(row.sku);
    if (shipping && line!.capture !== 'none') expect(row.serialNumber).toBeDefined();
    if (shipping && line!.capture === 'imei') expect(row.imei).toBeDefined();
    const key = `${row.subOrderNumber}|${row.lineNumber}`;
    shipped.set(key, (shipped.get(key) ?? 0) + row.quantityShipped);
    expect(shipped.get(key)!).toBeLessThanOrEqual(line!.quantity);
    if (row.serialNumber !== undefined) {
      const sk = `${row.subOrderNumber}|${row.serialNumber}`;
      expect(serials.has(sk)).toBe(false);
      serials.add(sk);
    }
    for (const imei of [row.imei, row.imei2]) {
      if (imei === undefined) continue;
      expect(imeis.has(imei)).toBe(false);
      imeis.add(imei);
    }
  };
  result.rows.forEach((r) => checkRow(r, true));
  result.unknownOrders.forEach((r) => checkRow(r, false));

  // And the accepted rows always make a contract-valid batch.
  const batch = {
    schemaVersion: '1',
    batchId: 'f'.repeat(64),
    warehouseId: WH,
    sourceFile: 'p.csv',
    receivedAt: '2025-01-01T00:00:00Z',
    rows: [...result.rows, ...result.unknownOrders],
  };
  expect(validateDispatchBatch(batch)).toEqual({ ok: true });
}

function run(text: string, subOrders: SubOrderRef[]): WarehouseResponseResult | MalformedCsvError {
  try {
    return parseWarehouseResponseCsv(text, (n) => subOrders.find((s) => s.subOrderNumber === n), WH);
  } catch (err) {
    if (err instanceof MalformedCsvError) return err;
    throw err;
  }
}

describe('warehouse response validator (properties)', () => {
  it('accepts every row of a valid generated file, whatever the CSV formatting and row order', () => {
    fc.assert(
      fc.property(fileArb, ({ subOrders, rows, format, unknown }) => {
        const text = toCsv([header(), ...rows.map(cellsOf)], format);
        const result = run(text, subOrders);
        if (result instanceof MalformedCsvError) throw result;
        expect(result.headerRejection).toBeNull();
        expect(result.rejections).toEqual([]);
        expect(result.unknownOrders).toHaveLength(unknown);
        expect(result.rows).toHaveLength(rows.length - unknown);
        checkInvariants(text, result, subOrders);
      }),
      { numRuns: RUNS },
    );
  });

  it('never crashes, never accepts a bad row and never drops a row when cells and rows are mutated', () => {
    fc.assert(
      fc.property(fileArb, fc.array(mutationArb, { minLength: 1, maxLength: 6 }), ({ subOrders, rows, format }, mutations) => {
        const records = mutate([header(), ...rows.map(cellsOf)], mutations);
        const text = toCsv(records, format);
        const result = run(text, subOrders);
        // Cells are quoted properly, so the CSV itself is always well-formed here.
        if (result instanceof MalformedCsvError) throw result;
        checkInvariants(text, result, subOrders);
      }),
      { numRuns: RUNS },
    );
  });

  it('only ever throws MalformedCsvError when raw characters are mutated', () => {
    const charArb = fc.oneof(
      fc.constantFrom('"', ',', '\n', '\r', ' ', '\uFEFF', '0', '9', 'x', '\u0000'),
      fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
    );
    const editArb = fc.record({ at: fc.nat(), op: fc.constantFrom('insert', 'delete', 'replace'), ch: charArb });
    fc.assert(
      fc.property(fileArb, fc.array(editArb, { minLength: 1, maxLength: 5 }), ({ subOrders, rows, format }, edits) => {
        let text = toCsv([header(), ...rows.map(cellsOf)], format);
        for (const e of edits) {
          const at = text.length === 0 ? 0 : e.at % text.length;
          if (e.op === 'insert') text = text.slice(0, at) + e.ch + text.slice(at);
          else if (e.op === 'delete') text = text.slice(0, at) + text.slice(at + 1);
          else text = text.slice(0, at) + e.ch + text.slice(at + 1);
        }
        const result = run(text, subOrders);
        if (result instanceof MalformedCsvError) {
          expect(result.code).toBe('MALFORMED_CSV');
          return;
        }
        checkInvariants(text, result, subOrders);
      }),
      { numRuns: RUNS },
    );
  });

  it('arbitrary text never crashes the parser path with anything but MalformedCsvError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400, unit: 'binary' }), fc.boolean(), (body, withHeader) => {
        const text = withHeader ? `${WAREHOUSE_RESPONSE_COLUMNS.join(',')}\n${body}` : body;
        const result = run(text, []);
        if (!(result instanceof MalformedCsvError)) checkInvariants(text, result, []);
      }),
      { numRuns: RUNS },
    );
  });
});
