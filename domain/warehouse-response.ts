// The inbound warehouse response file (EDI X12 945 "warehouse shipping advice" mapped to CSV):
// one row per dispatched unit (or per line outcome for rows that ship nothing).
// See docs/warehouse-files.md for the column-by-column mapping and the rejection codes.
//
// Pure: no I/O, no clock, no randomness, and no runtime import of csv-parse (csv-parse calls
// Buffer when it is loaded, which the Temporal workflow sandbox does not provide). The caller
// parses the file with csv-parse using `csvParseOptions` and feeds the raw records here, one at a
// time, so a large file is never held in memory as text.

import type { Options as CsvParseOptions } from 'csv-parse';
import { isValidImei } from './imei';
import { DISPOSITIONS, type Disposition, type DispatchRow, type RowRejection, type SubOrderRef, type UnitCapture } from './types';

/** The header, exactly: these columns, in this order. */
export const WAREHOUSE_RESPONSE_COLUMNS = [
  'warehouse_id',
  'sub_order_number',
  'line_number',
  'sku',
  'quantity_shipped',
  'serial_number',
  'imei',
  'imei2',
  'carrier',
  'tracking_number',
  'ship_date',
  'disposition',
  'error_code',
  'error_message',
] as const;
export type WarehouseResponseColumn = (typeof WAREHOUSE_RESPONSE_COLUMNS)[number];

/** Columns that must be non-empty on every row. */
export const REQUIRED_COLUMNS: readonly WarehouseResponseColumn[] = ['warehouse_id', 'sub_order_number', 'line_number', 'sku', 'disposition'];

/** Identifier columns: at most MAX_IDENTIFIER_LENGTH characters. Every other column: at most MAX_FIELD_LENGTH. */
export const IDENTIFIER_COLUMNS: readonly WarehouseResponseColumn[] = ['warehouse_id', 'sub_order_number', 'sku'];
export const MAX_IDENTIFIER_LENGTH = 100;
export const MAX_FIELD_LENGTH = 256;

/** error_code recorded on an outOfStock row that leaves error_code empty. */
export const DEFAULT_OUT_OF_STOCK_CODE = 'OUT_OF_STOCK';

/**
 * Options for csv-parse (`parse(csvParseOptions)` for the stream, or csv-parse/sync for small
 * inputs). Records come back as raw string arrays (`columns: false`): the first is the header,
 * given to `DispatchRowValidator.checkHeader`, the rest to `acceptCells`. `relax_column_count`
 * turns a short or long row into a COLUMN_COUNT rejection instead of a parser error.
 * Anything csv-parse still throws (an unclosed quote, an invalid opening quote, ...) means the
 * file is malformed: the whole file is quarantined.
 */
/**
 * The most characters csv-parse buffers for one record: a valid row is a few hundred (cells are
 * capped at 256), so a larger record is an attack or a broken file, refused before it costs memory.
 */
export const MAX_RECORD_CHARS = 64 * 1024;

export const csvParseOptions = {
  max_record_size: MAX_RECORD_CHARS,
  columns: false,
  relax_column_count: true,
  skip_empty_lines: true,
  bom: true,
  trim: true,
} as const satisfies CsvParseOptions;

/** Every rejection code, with the rule it enforces (the documentation's table is checked against this). */
export const REJECTION_CODES = {
  // Header (rowNumber 0): the whole file is rejected.
  EMPTY_FILE: 'The file has no header row.',
  HEADER_MISSING_COLUMNS: 'The header lacks one or more of the required columns.',
  HEADER_UNKNOWN_COLUMNS: 'The header has columns that are not part of the format.',
  HEADER_DUPLICATE_COLUMNS: 'The header names a column more than once.',
  HEADER_COLUMN_ORDER: 'The header has the right columns in the wrong order.',
  // Rows.
  COLUMN_COUNT: 'The row does not have exactly one cell per header column.',
  INVALID_CHARACTERS: 'A cell contains a control character or line break.',
  FIELD_TOO_LONG: 'A cell is longer than allowed (identifiers 100, other cells 256 characters).',
  MISSING_FIELD: 'A required cell (warehouse_id, sub_order_number, line_number, sku, disposition) is empty.',
  INVALID_DISPOSITION: 'disposition is not one of shipped, partial, outOfStock, cancelled, error, returned.',
  WAREHOUSE_MISMATCH: "warehouse_id is not the file's warehouse or not the sub-order's warehouse.",
  INVALID_LINE_NUMBER: 'line_number is not a positive integer.',
  INVALID_QUANTITY: 'quantity_shipped is not a positive integer (shipped/partial) or not 0/empty (other dispositions).',
  MISSING_SHIP_DATE: 'ship_date is empty on a shipped or partial row.',
  INVALID_SHIP_DATE: 'ship_date is not a valid YYYY-MM-DD calendar date.',
  MISSING_ERROR_CODE: 'error_code is empty on an error row.',
  UNEXPECTED_UNIT: 'serial_number, imei or imei2 is given on a row that ships nothing (other than returned).',
  MISSING_RETURNED_UNIT: 'A returned row names no unit (serial_number or imei).',
  INVALID_CONDITION_GRADE: 'error_code on a returned row is not a condition grade: A, B, C or scrap.',
  INVALID_IMEI: 'imei is not 15 digits with a valid Luhn check digit.',
  INVALID_IMEI2: 'imei2 is not a valid IMEI, is given without imei, or equals imei.',
  UNIT_QUANTITY_NOT_ONE: 'A row carrying a serial number or IMEI does not have quantity_shipped 1.',
  UNKNOWN_LINE: 'The sub-order has no line with this line_number.',
  SKU_MISMATCH: "sku is not the SKU of the sub-order's line.",
  MISSING_SERIAL: 'serial_number is empty for a line whose product captures serial numbers or IMEIs.',
  MISSING_IMEI: 'imei is empty for a line whose product captures IMEIs.',
  DUPLICATE_UNIT: 'The same serial number (within a sub-order) or the same IMEI is shipped twice in the file.',
  OVER_SHIPPED: "The file ships more units of a sub-order line than the line's ordered quantity.",
} as const;
export type RejectionCode = keyof typeof REJECTION_CODES;

export type DispatchRowResult = { row: DispatchRow } | { rejection: RowRejection } | { unknownOrder: DispatchRow };

/** Thrown when the CSV itself cannot be parsed: the caller quarantines the whole file. */
export class MalformedCsvError extends Error {
  readonly code = 'MALFORMED_CSV';
  /** The csv-parse error code (e.g. CSV_QUOTE_NOT_CLOSED), when known. */
  readonly csvCode?: string;
  /** Records (header included) read successfully before the error. */
  readonly recordsRead: number;

  constructor(cause: unknown, recordsRead: number) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`Malformed CSV after ${recordsRead} record(s): ${detail}`, { cause });
    this.name = 'MalformedCsvError';
    this.recordsRead = recordsRead;
    const code = (cause as { code?: unknown } | null)?.code;
    if (typeof code === 'string') this.csvCode = code;
  }
}

const ZEROS = /^0+$/;
const DISPOSITION_SET: ReadonlySet<string> = new Set<string>(DISPOSITIONS);
/** The condition grades a returned row carries in error_code (domain/returns.ts CONDITION_GRADES). */
const CONDITION_GRADES: ReadonlySet<string> = new Set(['A', 'B', 'C', 'scrap']);
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// Per-column facts, fixed because checkHeader accepts exactly WAREHOUSE_RESPONSE_COLUMNS in order:
// a data row's cell i is always column i, so the hot path reads cells by position.
const COLUMN_COUNT = WAREHOUSE_RESPONSE_COLUMNS.length;
const at = (column: WarehouseResponseColumn): number => WAREHOUSE_RESPONSE_COLUMNS.indexOf(column);
const WAREHOUSE_ID = at('warehouse_id');
const SUB_ORDER_NUMBER = at('sub_order_number');
const LINE_NUMBER = at('line_number');
const SKU = at('sku');
const QUANTITY_SHIPPED = at('quantity_shipped');
const SERIAL_NUMBER = at('serial_number');
const IMEI = at('imei');
const IMEI2 = at('imei2');
const CARRIER = at('carrier');
const TRACKING_NUMBER = at('tracking_number');
const SHIP_DATE = at('ship_date');
const DISPOSITION = at('disposition');
const ERROR_CODE = at('error_code');
const ERROR_MESSAGE = at('error_message');
const MAX_LENGTH: readonly number[] = WAREHOUSE_RESPONSE_COLUMNS.map((c) => (IDENTIFIER_COLUMNS.includes(c) ? MAX_IDENTIFIER_LENGTH : MAX_FIELD_LENGTH));
const REQUIRED_AT: readonly number[] = REQUIRED_COLUMNS.map(at);

/**
 * True when `s` contains a control character (C0, DEL, C1) or a Unicode line/paragraph separator.
 * A loop rather than a regex: it runs on every cell of every row.
 */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029) return true;
  }
  return false;
}

/** The value of s[from, to) as decimal digits, or -1 when any of them is not a digit. */
function digitsAt(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** True when `s` is YYYY-MM-DD and a real calendar date (proleptic Gregorian, leap years included). */
export function isValidIsoDate(s: string): boolean {
  if (s.length !== 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return false;
  const year = digitsAt(s, 0, 4);
  const month = digitsAt(s, 5, 7);
  const day = digitsAt(s, 8, 10);
  if (year < 0 || month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return day <= (month === 2 && leap ? 29 : DAYS_IN_MONTH[month - 1]);
}

/** Maps raw header/cell arrays to a record keyed by column; missing cells become ''. */
export function recordFromCells(header: readonly string[], cells: readonly unknown[]): Record<string, string> {
  const record: Record<string, string> = {};
  header.forEach((column, i) => {
    const v = cells[i];
    record[column] = v === undefined || v === null ? '' : String(v);
  });
  return record;
}

/** A raw cell as trimmed text; absent cells are ''. */
function cellText(raw: unknown): string {
  return typeof raw === 'string' ? raw.trim() : raw === undefined || raw === null ? '' : String(raw).trim();
}

/** What a file has shipped so far for one sub-order (kept per sub-order: no composite string keys). */
interface ShippedSoFar {
  /** lineNumber → units shipped so far. */
  readonly units: Map<number, number>;
  /** serial number → row number that shipped it (serials are unique within a sub-order). */
  readonly serials: Map<string, number>;
}

/**
 * Incremental validator for one warehouse response file. Give it the header, then each data
 * row in file order; it remembers what the file has shipped so far (units, quantities per line)
 * to detect duplicates and over-shipping. Use one instance per file.
 *
 * Each row ends up in exactly one of: `row` (valid, for a known sub-order), `rejection` (invalid),
 * `unknownOrder` (well-formed but for a sub-order the lookup does not know: an exception, not a
 * rejection). Only `row` results count towards duplicate and over-shipping checks.
 * `accept` never throws unless `lookup` does.
 */
export class DispatchRowValidator {
  private headerAccepted = false;
  /** Sub-order number → what the file has shipped for it so far. */
  private readonly shipped = new Map<string, ShippedSoFar>();
  /** IMEI (either slot) → row number that shipped it. */
  private readonly imeis = new Map<string, number>();
  /** The current row's trimmed cells, by column position (reused: rows are validated one at a time). */
  private readonly cells: string[] = new Array<string>(COLUMN_COUNT).fill('');

  constructor(
    private readonly lookup: (subOrderNumber: string) => SubOrderRef | undefined,
    private readonly expectedWarehouseId?: string,
  ) {}

  /**
   * Checks the header row (rowNumber 0 in the rejection). Cells are trimmed and a leading BOM is
   * ignored. Returns null when the header is exactly WAREHOUSE_RESPONSE_COLUMNS, in order.
   */
  checkHeader(columns: readonly string[]): RowRejection | null {
    const names = columns.map((c, i) => {
      const s = String(c ?? '').trim();
      return i === 0 ? s.replace(/^\uFEFF/, '').trim() : s;
    });
    if (names.length === 0 || (names.length === 1 && names[0] === '')) {
      return reject(0, 'EMPTY_FILE', 'The file is empty: expected a header row.');
    }
    const expected: readonly string[] = WAREHOUSE_RESPONSE_COLUMNS;
    const missing = expected.filter((c) => !names.includes(c));
    if (missing.length > 0) {
      return reject(0, 'HEADER_MISSING_COLUMNS', `Header is missing column(s): ${missing.join(', ')}.`);
    }
    const unknown = names.filter((c) => !expected.includes(c));
    if (unknown.length > 0) {
      return reject(0, 'HEADER_UNKNOWN_COLUMNS', `Header has unknown column(s): ${unknown.map(show).join(', ')}.`);
    }
    const duplicates = [...new Set(names.filter((c, i) => names.indexOf(c) !== i))];
    if (duplicates.length > 0) {
      return reject(0, 'HEADER_DUPLICATE_COLUMNS', `Header repeats column(s): ${duplicates.join(', ')}.`);
    }
    if (names.some((c, i) => c !== expected[i])) {
      return reject(0, 'HEADER_COLUMN_ORDER', `Header columns must be in this order: ${expected.join(',')}.`);
    }
    this.headerAccepted = true;
    return null;
  }

  /**
   * Validates a raw data row (an array of cells, as csv-parse returns with `columns: false`).
   * Requires a header accepted by checkHeader first (throws otherwise: a programming error).
   */
  acceptCells(cells: readonly unknown[], rowNumber: number): DispatchRowResult {
    if (!this.headerAccepted) {
      throw new Error('DispatchRowValidator.acceptCells: call checkHeader with a valid header first');
    }
    if (cells.length !== COLUMN_COUNT) {
      return rejected(rowNumber, 'COLUMN_COUNT', `Row has ${cells.length} cell(s); the header has ${COLUMN_COUNT}.`);
    }
    return this.check(cells, rowNumber);
  }

  /** Validates one data row given as a record keyed by column name (absent keys count as empty). */
  accept(record: Readonly<Record<string, string>>, rowNumber: number): DispatchRowResult {
    const cells = WAREHOUSE_RESPONSE_COLUMNS.map((c) => (Object.prototype.hasOwnProperty.call(record, c) ? record[c] : undefined));
    return this.check(cells, rowNumber);
  }

  /**
   * Every rule, on cells in header order. The hot path (every row of a file): no closures, and no
   * allocation per row beyond the row and its result.
   */
  private check(raw: readonly unknown[], rowNumber: number): DispatchRowResult {
    const shaped = this.shape(raw, rowNumber);
    if ('rejection' in shaped) return shaped;
    const row = shaped.row;

    const ref = this.lookup(row.subOrderNumber);
    if (ref === undefined) return { unknownOrder: row };

    if (ref.warehouseId !== row.warehouseId) {
      return rejected(rowNumber, 'WAREHOUSE_MISMATCH', `Sub-order ${row.subOrderNumber} belongs to warehouse ${ref.warehouseId}, not ${row.warehouseId}.`);
    }
    let line: SubOrderRef['lines'][number] | undefined;
    for (let i = 0; i < ref.lines.length; i++) {
      if (ref.lines[i].lineNumber === row.lineNumber) {
        line = ref.lines[i];
        break;
      }
    }
    if (line === undefined) {
      return rejected(rowNumber, 'UNKNOWN_LINE', `Sub-order ${row.subOrderNumber} has no line ${row.lineNumber}.`);
    }
    if (line.sku !== row.sku) {
      return rejected(rowNumber, 'SKU_MISMATCH', `Line ${row.lineNumber} of sub-order ${row.subOrderNumber} is SKU ${line.sku}, not ${row.sku}.`);
    }
    if (row.disposition !== 'shipped' && row.disposition !== 'partial') return shaped;

    const capture: UnitCapture = line.capture;
    if ((capture === 'serial' || capture === 'imei') && row.serialNumber === undefined) {
      return rejected(rowNumber, 'MISSING_SERIAL', `SKU ${row.sku} needs a serial number per unit.`);
    }
    if (capture === 'imei' && row.imei === undefined) {
      return rejected(rowNumber, 'MISSING_IMEI', `SKU ${row.sku} needs an IMEI per unit.`);
    }
    const sofar = this.shipped.get(row.subOrderNumber);
    if (row.serialNumber !== undefined) {
      const prior = sofar?.serials.get(row.serialNumber);
      if (prior !== undefined) {
        return rejected(
          rowNumber,
          'DUPLICATE_UNIT',
          `Serial number ${row.serialNumber} of sub-order ${row.subOrderNumber} was already shipped on row ${prior}.`,
        );
      }
    }
    if (row.imei !== undefined) {
      const prior = this.imeis.get(row.imei);
      if (prior !== undefined) return rejected(rowNumber, 'DUPLICATE_UNIT', `IMEI ${row.imei} was already shipped on row ${prior}.`);
    }
    if (row.imei2 !== undefined) {
      const prior = this.imeis.get(row.imei2);
      if (prior !== undefined) return rejected(rowNumber, 'DUPLICATE_UNIT', `IMEI ${row.imei2} was already shipped on row ${prior}.`);
    }
    const before = sofar?.units.get(row.lineNumber) ?? 0;
    if (before + row.quantityShipped > line.quantity) {
      return rejected(
        rowNumber,
        'OVER_SHIPPED',
        `Line ${row.lineNumber} of sub-order ${row.subOrderNumber} ordered ${line.quantity}; this row would bring the file's shipped total to ${before + row.quantityShipped}.`,
      );
    }

    // Accepted: remember what it shipped.
    if (sofar === undefined) {
      const units = new Map<number, number>([[row.lineNumber, row.quantityShipped]]);
      const serials = new Map<string, number>();
      if (row.serialNumber !== undefined) serials.set(row.serialNumber, rowNumber);
      this.shipped.set(row.subOrderNumber, { units, serials });
    } else {
      sofar.units.set(row.lineNumber, before + row.quantityShipped);
      if (row.serialNumber !== undefined) sofar.serials.set(row.serialNumber, rowNumber);
    }
    if (row.imei !== undefined) this.imeis.set(row.imei, rowNumber);
    if (row.imei2 !== undefined) this.imeis.set(row.imei2, rowNumber);
    return shaped;
  }

  /** Checks that need no sub-order: cell hygiene, required cells, formats, per-row consistency. */
  private shape(raw: readonly unknown[], rowNumber: number): { row: DispatchRow } | { rejection: RowRejection } {
    const v = this.cells;
    for (let i = 0; i < COLUMN_COUNT; i++) {
      const cell = cellText(raw[i]);
      if (hasControlChar(cell))
        return rejected(rowNumber, 'INVALID_CHARACTERS', `${WAREHOUSE_RESPONSE_COLUMNS[i]} contains a control character or line break.`);
      const max = MAX_LENGTH[i];
      if (cell.length > max)
        return rejected(rowNumber, 'FIELD_TOO_LONG', `${WAREHOUSE_RESPONSE_COLUMNS[i]} is ${cell.length} characters long; at most ${max} allowed.`);
      v[i] = cell;
    }
    for (let r = 0; r < REQUIRED_AT.length; r++) {
      if (v[REQUIRED_AT[r]] === '') {
        const missing = REQUIRED_COLUMNS.filter((c) => v[at(c)] === '');
        return rejected(rowNumber, 'MISSING_FIELD', `Required cell(s) empty: ${missing.join(', ')}.`);
      }
    }

    const dispositionCell = v[DISPOSITION];
    if (!DISPOSITION_SET.has(dispositionCell)) {
      return rejected(rowNumber, 'INVALID_DISPOSITION', `disposition ${show(dispositionCell)} is not one of ${DISPOSITIONS.join(', ')}.`);
    }
    const disposition = dispositionCell as Disposition;
    const shipping = disposition === 'shipped' || disposition === 'partial';

    const warehouseId = v[WAREHOUSE_ID];
    if (this.expectedWarehouseId !== undefined && warehouseId !== this.expectedWarehouseId) {
      return rejected(rowNumber, 'WAREHOUSE_MISMATCH', `warehouse_id ${show(warehouseId)} is not this file's warehouse ${this.expectedWarehouseId}.`);
    }

    const lineNumber = positiveInt(v[LINE_NUMBER]);
    if (lineNumber === undefined) return rejected(rowNumber, 'INVALID_LINE_NUMBER', `line_number ${show(v[LINE_NUMBER])} is not a positive integer.`);

    const quantity = v[QUANTITY_SHIPPED];
    let quantityShipped: number;
    if (shipping) {
      const q = positiveInt(quantity);
      if (q === undefined) {
        return rejected(rowNumber, 'INVALID_QUANTITY', `quantity_shipped ${show(quantity)} must be a positive integer on a ${disposition} row.`);
      }
      quantityShipped = q;
    } else {
      if (quantity !== '' && !ZEROS.test(quantity)) {
        return rejected(rowNumber, 'INVALID_QUANTITY', `quantity_shipped ${show(quantity)} must be 0 or empty on a ${disposition} row.`);
      }
      quantityShipped = 0;
    }

    const shipDate = v[SHIP_DATE];
    if (shipDate === '') {
      if (shipping) return rejected(rowNumber, 'MISSING_SHIP_DATE', `ship_date is required on a ${disposition} row.`);
    } else if (!isValidIsoDate(shipDate)) {
      return rejected(rowNumber, 'INVALID_SHIP_DATE', `ship_date ${show(shipDate)} is not a valid YYYY-MM-DD date.`);
    }

    let errorCode = v[ERROR_CODE];
    if (errorCode === '') {
      if (disposition === 'error') return rejected(rowNumber, 'MISSING_ERROR_CODE', 'error_code is required on an error row.');
      if (disposition === 'outOfStock') errorCode = DEFAULT_OUT_OF_STOCK_CODE;
    }

    const serialNumber = v[SERIAL_NUMBER];
    const imei = v[IMEI];
    const imei2 = v[IMEI2];
    const returned = disposition === 'returned';
    if (returned) {
      if (serialNumber === '' && imei === '') return rejected(rowNumber, 'MISSING_RETURNED_UNIT', 'A returned row names its unit by serial_number or imei.');
      if (!CONDITION_GRADES.has(errorCode)) {
        return rejected(rowNumber, 'INVALID_CONDITION_GRADE', `error_code ${show(errorCode)} on a returned row is not a condition grade: A, B, C or scrap.`);
      }
    } else if (!shipping && (serialNumber !== '' || imei !== '' || imei2 !== '')) {
      return rejected(rowNumber, 'UNEXPECTED_UNIT', `A ${disposition} row ships nothing and must not carry serial_number, imei or imei2.`);
    }
    if (imei !== '' && !isValidImei(imei)) {
      return rejected(rowNumber, 'INVALID_IMEI', `imei ${show(imei)} is not 15 digits with a valid check digit.`);
    }
    if (imei2 !== '') {
      if (!isValidImei(imei2)) return rejected(rowNumber, 'INVALID_IMEI2', `imei2 ${show(imei2)} is not 15 digits with a valid check digit.`);
      if (imei === '') return rejected(rowNumber, 'INVALID_IMEI2', 'imei2 is given without imei.');
      if (imei2 === imei) return rejected(rowNumber, 'INVALID_IMEI2', 'imei2 repeats imei.');
    }
    if (!returned && (serialNumber !== '' || imei !== '') && quantityShipped !== 1) {
      return rejected(
        rowNumber,
        'UNIT_QUANTITY_NOT_ONE',
        `A row carrying a serial number or IMEI is one unit: quantity_shipped must be 1, not ${quantityShipped}.`,
      );
    }

    // Interface order, optional cells omitted when empty: stable JSON. (Assigned one by one, not
    // spread: this runs for every row.)
    const row = { rowNumber, warehouseId, subOrderNumber: v[SUB_ORDER_NUMBER], lineNumber, sku: v[SKU], quantityShipped } as DispatchRow;
    if (serialNumber !== '') row.serialNumber = serialNumber;
    if (imei !== '') row.imei = imei;
    if (imei2 !== '') row.imei2 = imei2;
    if (v[CARRIER] !== '') row.carrier = v[CARRIER];
    if (v[TRACKING_NUMBER] !== '') row.trackingNumber = v[TRACKING_NUMBER];
    if (shipDate !== '') row.shipDate = shipDate;
    row.disposition = disposition;
    if (errorCode !== '') row.errorCode = errorCode;
    if (v[ERROR_MESSAGE] !== '') row.errorMessage = v[ERROR_MESSAGE];
    return { row };
  }
}

export interface WarehouseResponseResult {
  /** Non-null when the header (or its absence) rejects the whole file; then no data row is read. */
  headerRejection: RowRejection | null;
  rows: DispatchRow[];
  rejections: RowRejection[];
  unknownOrders: DispatchRow[];
  /** Data records read (header excluded): rows + rejections + unknownOrders when the header is valid. */
  recordCount: number;
}

/**
 * Validates a whole file given as raw records (header first), e.g. from csv-parse/sync.
 * Data rows are numbered from 1 in record order. An error thrown by the iterable (a csv-parse
 * error) is rethrown as MalformedCsvError.
 */
export function validateWarehouseResponseRecords(
  records: Iterable<readonly unknown[]>,
  lookup: (subOrderNumber: string) => SubOrderRef | undefined,
  expectedWarehouseId?: string,
): WarehouseResponseResult {
  const it = records[Symbol.iterator]();
  const collector = new Collector(lookup, expectedWarehouseId);
  for (;;) {
    let next: IteratorResult<readonly unknown[]>;
    try {
      next = it.next();
    } catch (err) {
      throw new MalformedCsvError(err, collector.recordsRead);
    }
    if (next.done) break;
    if (!collector.push(next.value)) {
      it.return?.();
      break;
    }
  }
  return collector.result();
}

/**
 * Streaming variant: `records` is typically `createReadStream(path).pipe(parse(csvParseOptions))`.
 * Stops reading (and returns the iterator) as soon as the header is rejected. A parser error is
 * rethrown as MalformedCsvError.
 */
export async function validateWarehouseResponseRecordsAsync(
  records: AsyncIterable<readonly unknown[]> | Iterable<readonly unknown[]>,
  lookup: (subOrderNumber: string) => SubOrderRef | undefined,
  expectedWarehouseId?: string,
): Promise<WarehouseResponseResult> {
  const it: AsyncIterator<readonly unknown[]> | Iterator<readonly unknown[]> =
    Symbol.asyncIterator in records ? records[Symbol.asyncIterator]() : records[Symbol.iterator]();
  const collector = new Collector(lookup, expectedWarehouseId);
  for (;;) {
    let next: IteratorResult<readonly unknown[]>;
    try {
      next = await it.next();
    } catch (err) {
      throw new MalformedCsvError(err, collector.recordsRead);
    }
    if (next.done) break;
    if (!collector.push(next.value)) {
      await it.return?.();
      break;
    }
  }
  return collector.result();
}

class Collector {
  recordsRead = 0;
  private readonly validator: DispatchRowValidator;
  private headerRejection: RowRejection | null = null;
  private readonly rows: DispatchRow[] = [];
  private readonly rejections: RowRejection[] = [];
  private readonly unknownOrders: DispatchRow[] = [];

  constructor(lookup: (subOrderNumber: string) => SubOrderRef | undefined, expectedWarehouseId?: string) {
    this.validator = new DispatchRowValidator(lookup, expectedWarehouseId);
  }

  /** False when reading should stop (header rejected). */
  push(record: readonly unknown[]): boolean {
    this.recordsRead++;
    if (this.recordsRead === 1) {
      this.headerRejection = this.validator.checkHeader(record.map((c) => (c === undefined || c === null ? '' : String(c))));
      return this.headerRejection === null;
    }
    const r = this.validator.acceptCells(record, this.recordsRead - 1);
    if ('row' in r) this.rows.push(r.row);
    else if ('rejection' in r) this.rejections.push(r.rejection);
    else this.unknownOrders.push(r.unknownOrder);
    return true;
  }

  result(): WarehouseResponseResult {
    const headerRejection = this.recordsRead === 0 ? reject(0, 'EMPTY_FILE', 'The file is empty: expected a header row.') : this.headerRejection;
    return {
      headerRejection,
      rows: this.rows,
      rejections: this.rejections,
      unknownOrders: this.unknownOrders,
      recordCount: Math.max(0, this.recordsRead - 1),
    };
  }
}

export interface RejectionSummary {
  code: string;
  count: number;
  /** Up to 5 row numbers, ascending. */
  sampleRows: number[];
  /** The message of the first such rejection. */
  example: string;
}

/** Rejections grouped by code, most frequent first (ties by code), for exception reports and logs. */
export function summariseRejections(rejections: readonly RowRejection[]): RejectionSummary[] {
  const byCode = new Map<string, RowRejection[]>();
  for (const r of rejections) {
    const list = byCode.get(r.code);
    if (list) list.push(r);
    else byCode.set(r.code, [r]);
  }
  return [...byCode.entries()]
    .map(([code, list]) => ({
      code,
      count: list.length,
      sampleRows: list
        .map((r) => r.rowNumber)
        .sort((a, b) => a - b)
        .slice(0, 5),
      example: list[0].message,
    }))
    .sort((a, b) => b.count - a.count || (a.code < b.code ? -1 : a.code > b.code ? 1 : 0));
}

function reject(rowNumber: number, code: RejectionCode, message: string): RowRejection {
  return { rowNumber, code, message: rowNumber > 0 ? `Row ${rowNumber}: ${message}` : message };
}

function rejected(rowNumber: number, code: RejectionCode, message: string): { rejection: RowRejection } {
  return { rejection: reject(rowNumber, code, message) };
}

/** A positive safe integer written as decimal digits only (no sign, point or exponent), else undefined. */
function positiveInt(s: string): number | undefined {
  if (s.length === 0) return undefined;
  let n = digitsAt(s, 0, s.length);
  if (n < 0) return undefined;
  // Up to 15 digits the running total is exact; beyond, decide as Number() rounds.
  if (s.length > 15) n = Number(s);
  return Number.isSafeInteger(n) && n >= 1 ? n : undefined;
}

/** Quotes a cell value for a message, shortened so a hostile cell cannot flood the logs. */
function show(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
