// The warehouse adaptor's core: a response file in, a dispatch batch out. The file is parsed as a
// stream in chunks (bounded memory), every row validated; valid rows are stored in MongoDB, rows
// for unknown orders go to the exceptions list, rejected rows to the batch's rejected rows (the
// first 1,000 also to its report); then the Sales
// Order Dispatch job is started under the file's hash, so the same file is never applied twice.
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { salesOrderFileId } from '../domain/sales-order';
import { DispatchRowValidator, MAX_RECORD_CHARS, MalformedCsvError, csvParseOptions } from '../domain/warehouse-response';
import type { DispatchRow, RowRejection, SubOrderRef } from '../domain/types';
import type { Config } from '../infra/config';
import { isDuplicateKey, type Db } from '../infra/db';
import { warehouseFiles, warehouseRows } from '../infra/metrics';
import { adaptorExceptionId } from '../domain/adaptor-exceptions';
import {
  deleteDispatchRows,
  deleteRejectedRows,
  rejectedCells,
  storeDispatchRowChunk,
  storeRejectionChunk,
  type StoredDispatchRow,
  type StoredRejectedRow,
} from '../infra/store/dispatch-rows';
import { hashStream } from './file-hash';
import { dispatchWorkflowId } from '../workflows/messages';

export { hashStream };

const CHUNK = 500;
/** Sales-order lookups in flight at once while a file is read. */
const LOOKUP_CONCURRENCY = 16;
type SubOrderDoc = { subOrderNumber: string; orderId: string; warehouseId: string; lines: unknown };
/** Rejections kept on the batch for its report; every one is also stored with the batch's rejected rows. */
const MAX_STORED_REJECTIONS = 1000;
/** Sub-orders remembered between chunks; beyond this the cache starts again (memory stays bounded). */
const MAX_CACHED_SUB_ORDERS = 20_000;
/** The largest response file taken, from the inbox or over HTTP (about 500,000 rows). */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;

export interface IngestDeps {
  config: Config;
  db: Db;
  temporal: Client;
}

export type IngestOutcome =
  | { kind: 'accepted'; batchId: string; rowCount: number; validRows: number; rejectedRows: number; exceptionRows: number; rejections: RowRejection[] }
  | { kind: 'duplicate'; batchId: string }
  /** batchId is null when the file was refused before it was read (not a regular file, too large). */
  | { kind: 'unreadable'; batchId: string | null; reason: string; rejections: RowRejection[] };

export interface IngestSource {
  warehouseId: string;
  fileName: string;
  source: 'inbox' | 'api-csv' | 'api-json';
  /** Opened twice: once to hash, once to parse (both streaming). */
  open: () => Readable;
  /**
   * An already converted batch: the batch id it declares (the hash of the warehouse's own file, which
   * cannot be checked) and its row numbers (the n-th CSV record is row rowNumbers[n-1]). The
   * declared id is kept as `declaredBatchId`; the batch's own id is `jsonBatchId`, so a batch cannot
   * claim the id of a file it is not (and make that file a "duplicate" never applied).
   */
  declared?: { batchId: string; rowNumbers: number[] };
}

/**
 * A JSON batch's id: from its content (the hash of the CSV it is rendered as) in a namespace of its
 * own (the prefix, the warehouse and the declared id), so it never equals a file's sha256, and the
 * same batch sent again is the same batch.
 */
export function jsonBatchId(warehouseId: string, declaredBatchId: string, contentHash: string): string {
  return createHash('sha256').update(`dispatch-batch.v1 json\n${warehouseId}\n${declaredBatchId}\n${contentHash}`).digest('hex');
}

export async function ingestWarehouseFile(deps: IngestDeps, src: IngestSource): Promise<IngestOutcome> {
  const outcome = await ingest(deps, src);
  const warehouse = src.warehouseId;
  warehouseFiles.inc({ warehouse, outcome: outcome.kind === 'unreadable' ? 'quarantined' : outcome.kind });
  if (outcome.kind === 'accepted') {
    warehouseRows.inc({ warehouse, kind: 'valid' }, outcome.validRows);
    warehouseRows.inc({ warehouse, kind: 'rejected' }, outcome.rejectedRows);
    warehouseRows.inc({ warehouse, kind: 'exception' }, outcome.exceptionRows);
  }
  return outcome;
}

async function ingest(deps: IngestDeps, src: IngestSource): Promise<IngestOutcome> {
  const { models } = deps.db;
  const contentHash = await hashStream(src.open());
  const batchId = src.declared ? jsonBatchId(src.warehouseId, src.declared.batchId, contentHash) : contentHash;
  const existing = await models.DispatchBatch.findOne({ _id: batchId }, { batchId: 1, status: 1 }).lean();
  if (existing) {
    // Seen before. Make sure its job ran (a crash may have come between storing and starting);
    // a finished batch is never run again, even once the server has forgotten its workflow.
    if (existing.status !== 'done') await startDispatchJob(deps, batchId);
    return { kind: 'duplicate', batchId };
  }

  const refs = new Map<string, SubOrderRef | null>();
  const validator = new DispatchRowValidator((n) => refs.get(n) ?? undefined, src.warehouseId);
  const rejections: RowRejection[] = [];
  let rejectedRows = 0;
  let validRows = 0;
  let exceptionRows = 0;
  let rowCount = 0;
  const orderIds = new Set<string>();
  const receivedAt = new Date().toISOString();

  let header: string[] | null = null;
  let chunk: unknown[][] = [];
  let recordsRead = 0;
  let rowChunks = 0;
  let rejectionChunks = 0;
  /** Removes what was stored of a file that turns out unreadable: nothing of it may be applied or listed. */
  const discard = () =>
    Promise.all([
      deleteDispatchRows(models, batchId, rowChunks),
      deleteRejectedRows(models, batchId, rejectionChunks),
      models.AdaptorException.deleteMany({ batchId }),
    ]);

  const flush = async () => {
    if (!chunk.length) return;
    if (refs.size > MAX_CACHED_SUB_ORDERS) refs.clear();
    const wanted = [...new Set(chunk.map((c) => String(c[1] ?? '').trim()))].filter((n) => n && !refs.has(n));
    if (wanted.length) {
      // One lookup by _id (the file id) per sub-order: the only lookup FerretDB does not scan for.
      // A few at a time: a chunk's hundreds at once would grow the driver's pool (and its memory,
      // which stays) to its maximum whenever the database is slow.
      const found: (SubOrderDoc | null)[] = [];
      for (let i = 0; i < wanted.length; i += LOOKUP_CONCURRENCY) {
        found.push(
          ...(await Promise.all(
            wanted
              .slice(i, i + LOOKUP_CONCURRENCY)
              .map((n) =>
                models.SalesOrder.findOne({ _id: salesOrderFileId(n, 'new') }, { subOrderNumber: 1, orderId: 1, warehouseId: 1, lines: 1 }).lean<SubOrderDoc>(),
              ),
          )),
        );
      }
      const docs = found.filter((d): d is NonNullable<typeof d> => d !== null);
      for (const n of wanted) refs.set(n, null);
      for (const d of docs)
        refs.set(d.subOrderNumber, {
          subOrderNumber: d.subOrderNumber,
          orderId: d.orderId,
          warehouseId: d.warehouseId,
          lines: d.lines as SubOrderRef['lines'],
        });
    }
    const rows: StoredDispatchRow[] = [];
    const unknown: DispatchRow[] = [];
    const rejected: StoredRejectedRow[] = [];
    for (const cells of chunk) {
      rowCount++;
      const r = validator.acceptCells(cells, src.declared?.rowNumbers[rowCount - 1] ?? rowCount);
      if ('row' in r) {
        const orderId = refs.get(r.row.subOrderNumber)!.orderId;
        rows.push({ rowNumber: r.row.rowNumber, orderId, row: r.row });
        orderIds.add(orderId);
      } else if ('rejection' in r) {
        rejectedRows++;
        if (rejections.length < MAX_STORED_REJECTIONS) rejections.push(r.rejection);
        rejected.push({ ...r.rejection, cells: rejectedCells(cells) });
      } else unknown.push(r.unknownOrder);
    }
    chunk = [];
    validRows += rows.length;
    exceptionRows += unknown.length;
    await storeDispatchRowChunk(models, batchId, rowChunks++, rows);
    if (rejected.length) await storeRejectionChunk(models, batchId, rejectionChunks++, rejected);
    await insertIgnoringDuplicates(
      models.AdaptorException,
      unknown.map((row) => ({
        _id: adaptorExceptionId(batchId, row.rowNumber),
        batchId,
        rowNumber: row.rowNumber,
        warehouseId: src.warehouseId,
        code: 'UNKNOWN_ORDER',
        message: `no sales order ${row.subOrderNumber} was sent to ${src.warehouseId}`,
        row,
        createdAt: receivedAt,
        resolved: false,
      })),
    );
  };

  try {
    const parser = src.open().pipe(parse(csvParseOptions));
    for await (const record of parser as AsyncIterable<unknown[]>) {
      if (!header) {
        header = record.map((c) => String(c ?? ''));
        const bad = validator.checkHeader(header);
        if (bad) return { kind: 'unreadable', batchId, reason: bad.message, rejections: [bad] };
        continue;
      }
      recordsRead++;
      if (recordsRead > deps.config.adaptorMaxFileRows) {
        const reason = `the file has more than ${deps.config.adaptorMaxFileRows} data rows; split it`;
        await discard();
        return { kind: 'unreadable', batchId, reason, rejections: [...rejections, { rowNumber: recordsRead, code: 'TOO_MANY_ROWS', message: reason }] };
      }
      chunk.push(record);
      if (chunk.length >= CHUNK) await flush();
    }
    await flush();
  } catch (err) {
    if (err instanceof MalformedCsvError || err instanceof CsvError) {
      // Any parser error (not every code starts with CSV_: INVALID_OPENING_QUOTE) means a malformed file.
      const tooLong = (err as CsvError).code === 'CSV_MAX_RECORD_SIZE';
      const reason = tooLong
        ? `a record after ${recordsRead} data rows is longer than ${MAX_RECORD_CHARS} characters`
        : `the file is not valid CSV after ${recordsRead} data rows: ${(err as Error).message}`;
      // Quarantined as a whole: nothing of it may be applied or listed, not even rows stored so far.
      await discard();
      return {
        kind: 'unreadable',
        batchId,
        reason,
        rejections: [...rejections, { rowNumber: recordsRead + 1, code: tooLong ? 'RECORD_TOO_LARGE' : 'MALFORMED_CSV', message: reason }],
      };
    }
    throw err;
  }
  if (!header) {
    return {
      kind: 'unreadable',
      batchId,
      reason: 'the file is empty',
      rejections: [{ rowNumber: 0, code: 'EMPTY_FILE', message: 'the file is empty: expected a header row' }],
    };
  }

  // Rows first, then the batch: a batch document means its rows are all stored.
  try {
    await models.DispatchBatch.create({
      _id: batchId,
      batchId,
      warehouseId: src.warehouseId,
      sourceFile: src.fileName,
      source: src.source,
      ...(src.declared ? { declaredBatchId: src.declared.batchId } : {}),
      receivedAt,
      status: 'received',
      rowCount,
      validRows,
      rejectedRows,
      exceptionRows,
      rejections,
      orderIds: [...orderIds].sort(),
      orderCount: orderIds.size,
      rowChunks,
      rejectionChunks,
    });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    await startDispatchJob(deps, batchId);
    return { kind: 'duplicate', batchId };
  }
  await startDispatchJob(deps, batchId);
  return { kind: 'accepted', batchId, rowCount, validRows, rejectedRows, exceptionRows, rejections };
}

async function startDispatchJob(deps: IngestDeps, batchId: string): Promise<void> {
  try {
    await deps.temporal.workflow.start('salesOrderDispatchWorkflow', {
      workflowId: dispatchWorkflowId(batchId),
      taskQueue: deps.config.temporal.taskQueue,
      args: [{ batchId }],
      // A second start for the same file is refused; only a run that failed may be started again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `Sales Order Dispatch for batch ${batchId.slice(0, 12)}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Inserted lean (no mongoose document per row, no casting): the rows are built here, fully typed,
 * and a file of 100,000 exceptions must not cost a hydrated document each.
 */
async function insertIgnoringDuplicates<T>(model: { insertMany(docs: T[], opts: { ordered: false; lean: true }): Promise<unknown> }, docs: T[]): Promise<void> {
  if (!docs.length) return;
  try {
    await model.insertMany(docs, { ordered: false, lean: true });
  } catch (err) {
    // Re-ingesting after a crash: rows already stored are skipped, the rest were inserted.
    const e = err as { code?: number; writeErrors?: { code?: number; err?: { code?: number } }[] };
    // A failure of the whole command (database busy, connection lost) comes as a bulk error with
    // NO write errors: that is not "all duplicates", and swallowing it would lose the rows.
    const all = !!e.writeErrors?.length && e.writeErrors.every((w) => (w.code ?? w.err?.code) === 11000);
    if (!(isDuplicateKey(err) || all)) throw err;
  }
}
