// Bulk reference data from CSV (POST /api/v1/imports/{kind}, `npm run import`): streamed with
// csv-parse, every row validated by domain/reference-data.ts and written by business key through
// the reference-data writer, so a file imported twice changes nothing the second time.
import { CsvError, parse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { checkHeader, ROW_READERS, type ReferenceKind } from '../domain/reference-data';
import { csvParseOptions } from '../domain/warehouse-response';
import type { ReferenceDataWriter, WriteOutcome } from './reference-data';

/** The most data rows one file may carry; a larger catalogue is split into several files. */
export const MAX_IMPORT_ROWS = 100_000;
/** Each list in a report names at most this many rows; the counts are always complete. */
export const MAX_LISTED_ROWS = 1_000;

export interface ImportReport {
  kind: ReferenceKind;
  /** Set when the file as a whole could not be read (bad header, broken CSV, too many rows). */
  error?: string;
  counts: { rows: number; created: number; updated: number; unchanged: number; rejected: number };
  accepted: { line: number; key: string; change: 'created' | 'updated' }[];
  unchanged: { line: number; key: string }[];
  rejected: { line: number; key: string | null; reason: string }[];
  /** True when a list was cut at MAX_LISTED_ROWS. */
  truncated: boolean;
}

export async function importReferenceCsv(kind: ReferenceKind, input: Readable, writer: ReferenceDataWriter): Promise<ImportReport> {
  const report: ImportReport = {
    kind,
    counts: { rows: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 },
    accepted: [],
    unchanged: [],
    rejected: [],
    truncated: false,
  };
  const list = <T>(into: T[], item: T) => (into.length < MAX_LISTED_ROWS ? into.push(item) : (report.truncated = true));
  const reject = (line: number, key: string | null, reason: string) => {
    report.counts.rejected++;
    list(report.rejected, { line, key, reason });
  };
  const read = ROW_READERS[kind];
  const write = (value: unknown): Promise<WriteOutcome> =>
    kind === 'products'
      ? writer.product(value as Parameters<ReferenceDataWriter['product']>[0])
      : kind === 'accounts'
        ? writer.account(value as Parameters<ReferenceDataWriter['account']>[0])
        : writer.blocklistEntry(value as Parameters<ReferenceDataWriter['blocklistEntry']>[0]);
  // A key given twice in one file would make the file's effect depend on row order.
  const firstLine = new Map<string, number>();
  let header: string[] | null = null;

  try {
    const parser = parse({ ...csvParseOptions, info: true });
    // pipe() does not pass a source's error on (a body cut off, a size limit): the parser fails with it.
    input.once('error', (e) => parser.destroy(e));
    input.pipe(parser);
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = info.lines;
      if (!header) {
        header = record.map((c) => String(c ?? ''));
        const bad = checkHeader(kind, header);
        if (bad) return { ...report, error: bad };
        continue;
      }
      if (++report.counts.rows > MAX_IMPORT_ROWS) {
        report.counts.rows--;
        return { ...report, error: `the file has more than ${MAX_IMPORT_ROWS} data rows: rows up to line ${line - 1} were imported; split the rest` };
      }
      if (record.length !== header.length) {
        reject(line, null, `the row has ${record.length} cells, the header ${header.length}`);
        continue;
      }
      const row = Object.fromEntries(header.map((name, i) => [name, record[i]]));
      const result = read(row);
      if (!result.ok) {
        reject(line, result.key, result.reason);
        continue;
      }
      const seen = firstLine.get(result.key);
      if (seen !== undefined) {
        reject(line, result.key, `${result.key} is also on line ${seen}: give each once`);
        continue;
      }
      firstLine.set(result.key, line);
      const outcome = await write(result.value);
      if (outcome === 'unchanged') {
        report.counts.unchanged++;
        list(report.unchanged, { line, key: result.key });
      } else {
        report.counts[outcome]++;
        list(report.accepted, { line, key: result.key, change: outcome });
      }
    }
  } catch (err) {
    if (!(err instanceof CsvError)) throw err;
    // Rows before the break are written (each on its own, by key); the rest are not read.
    return { ...report, error: `the file is not valid CSV after ${report.counts.rows} data rows: ${err.message}` };
  }
  if (!header) return { ...report, error: 'the file is empty: it needs a header row' };
  return report;
}
