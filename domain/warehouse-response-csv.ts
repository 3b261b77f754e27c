// Whole-text convenience for the warehouse response CSV, for tests and small inputs.
// The adaptor streams instead: `createReadStream(path).pipe(parse(csvParseOptions))` given to
// validateWarehouseResponseRecordsAsync.
//
// DO NOT import this module from workflow code: csv-parse calls `Buffer` when it is loaded and
// the Temporal workflow sandbox has no Buffer. domain/warehouse-response.ts is workflow-safe.

import { parse } from 'csv-parse/sync';
import type { SubOrderRef } from './types';
import {
  MalformedCsvError,
  csvParseOptions,
  validateWarehouseResponseRecords,
  type WarehouseResponseResult,
} from './warehouse-response';

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
