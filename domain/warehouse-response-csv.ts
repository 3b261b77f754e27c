// Whole-text convenience for the warehouse response CSV, for tests and small inputs, and its writer
// (the warehouse simulator, JSON batches posted to the adaptor, test files).
// The adaptor streams instead: `createReadStream(path).pipe(parse(csvParseOptions))` given to
// validateWarehouseResponseRecordsAsync.
//
// DO NOT import this module from workflow code: csv-parse calls `Buffer` when it is loaded and
// the Temporal workflow sandbox has no Buffer. domain/warehouse-response.ts is workflow-safe.

import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import type { SubOrderRef } from './types';
import {
  MalformedCsvError,
  WAREHOUSE_RESPONSE_COLUMNS,
  csvParseOptions,
  validateWarehouseResponseRecords,
  type WarehouseResponseColumn,
  type WarehouseResponseResult,
} from './warehouse-response';

/** One response row by column name; a missing, undefined or null cell is written empty. */
export type WarehouseResponseCells = Partial<Record<WarehouseResponseColumn, string | number | null | undefined>>;

/** A warehouse response file: the header, then one line per row, quoted where CSV needs it. */
export function formatWarehouseResponseCsv(rows: readonly WarehouseResponseCells[]): string {
  return stringify([[...WAREHOUSE_RESPONSE_COLUMNS], ...rows.map((r) => WAREHOUSE_RESPONSE_COLUMNS.map((c) => r[c] ?? ''))]);
}

/**
 * Parses and validates a whole warehouse response file.
 * Throws MalformedCsvError (code 'MALFORMED_CSV') when csv-parse cannot parse the text.
 */
export function parseWarehouseResponseCsv(
  text: string,
  lookup: (subOrderNumber: string) => SubOrderRef | undefined,
  expectedWarehouseId?: string,
): WarehouseResponseResult {
  let records: string[][];
  try {
    records = parse(text, { ...csvParseOptions }) as string[][];
  } catch (err) {
    throw new MalformedCsvError(err, 0);
  }
  return validateWarehouseResponseRecords(records, lookup, expectedWarehouseId);
}
