// Dispatch rows: a warehouse batch's valid rows, kept here rather than in workflow history, and
// every one of its rejected rows, for ops.
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}`: `find({batchId})` would read and decode
// every batch's rows, and `deleteMany({batchId})` likewise.
// This store instead: keeps the rows in the chunks the adaptor parsed them in, `dispatchRowChunks._id
// = <batchId>:<n>` for n = 0 … rowChunks - 1 (the batch document says how many), so reading or
// deleting a batch is rowChunks operations by `_id`. Rejected rows likewise, in
// `dispatchRejectionChunks` (only chunks that had one, numbered 0 … rejectionChunks - 1), read a
// page at a time from a (chunk, place in chunk) cursor.
// The plain MongoDB way: the same chunks (or one document per row) with an index on `batchId`,
// read with `find({batchId}).sort({chunk: 1})` and removed with `deleteMany({batchId})`.
import type { DispatchRow, RowRejection } from '../../domain/types';
import { ignoreDuplicate, type Models } from '../db';

export interface StoredDispatchRow {
  rowNumber: number;
  orderId: string;
  row: DispatchRow;
}

export const dispatchRowChunkId = (batchId: string, chunk: number): string => `${batchId}:${chunk}`;

/** Stores one chunk (empty ones too: the reader expects every number). The same file re-ingested after a crash makes the same chunk. */
export async function storeDispatchRowChunk(models: Models, batchId: string, chunk: number, rows: StoredDispatchRow[]): Promise<void> {
  await models.DispatchRowChunk.create({ _id: dispatchRowChunkId(batchId, chunk), batchId, chunk, rows }).then(() => undefined, ignoreDuplicate);
}

/** Every valid row of a batch, in file order. A missing chunk is an error: rows are stored before their batch. */
export async function readDispatchRows(models: Models, batchId: string, rowChunks: number): Promise<StoredDispatchRow[]> {
  const rows: StoredDispatchRow[] = [];
  for (let n = 0; n < rowChunks; n++) {
    const chunk = await models.DispatchRowChunk.findOne({ _id: dispatchRowChunkId(batchId, n) }, { rows: 1 }).lean();
    if (!chunk) throw new Error(`dispatch batch ${batchId}: row chunk ${n} of ${rowChunks} is missing`);
    rows.push(...(chunk.rows as StoredDispatchRow[]));
  }
  return rows;
}

/** Removes the chunks stored so far for a file that turned out unreadable. */
export async function deleteDispatchRows(models: Models, batchId: string, rowChunks: number): Promise<void> {
  await Promise.all(Array.from({ length: rowChunks }, (_, n) => models.DispatchRowChunk.deleteOne({ _id: dispatchRowChunkId(batchId, n) })));
}

/** A rejected row as stored: why, and the row's cells as read (at most 14, each at most 256 characters). */
export interface StoredRejectedRow extends RowRejection {
  cells: string[];
}

/** The cells of a rejected record, bounded: a hostile row cannot make a chunk too large to store. */
export const rejectedCells = (cells: readonly unknown[]): string[] =>
  cells.slice(0, 14).map((c) => (c === undefined || c === null ? '' : String(c)).slice(0, 256));

export const dispatchRejectionChunkId = (batchId: string, chunk: number): string => `${batchId}:${chunk}`;

/** Stores one chunk's rejected rows (only chunks that have some). Idempotent, like the valid rows. */
export async function storeRejectionChunk(models: Models, batchId: string, chunk: number, rows: StoredRejectedRow[]): Promise<void> {
  await models.DispatchRejectionChunk.create({ _id: dispatchRejectionChunkId(batchId, chunk), batchId, chunk, rows }).then(() => undefined, ignoreDuplicate);
}

/**
 * Up to `limit` rejected rows from place `at` (chunk, index in it) on, and where the next page
 * starts (null at the end). Reads chunks by `_id` only.
 */
export async function readRejectedRows(
  models: Models,
  batchId: string,
  rejectionChunks: number,
  at: { chunk: number; index: number },
  limit: number,
): Promise<{ rows: StoredRejectedRow[]; next: { chunk: number; index: number } | null }> {
  const rows: StoredRejectedRow[] = [];
  let { chunk, index } = at;
  while (chunk < rejectionChunks) {
    const doc = await models.DispatchRejectionChunk.findOne({ _id: dispatchRejectionChunkId(batchId, chunk) }, { rows: 1 }).lean();
    if (!doc) throw new Error(`dispatch batch ${batchId}: rejection chunk ${chunk} of ${rejectionChunks} is missing`);
    const inChunk = doc.rows as StoredRejectedRow[];
    const take = inChunk.slice(index, index + (limit - rows.length));
    rows.push(...take);
    index += take.length;
    if (index >= inChunk.length) {
      chunk++;
      index = 0;
    }
    if (rows.length >= limit) break;
  }
  return { rows, next: chunk < rejectionChunks ? { chunk, index } : null };
}

/** Removes the rejection chunks stored so far for a file that turned out unreadable. */
export async function deleteRejectedRows(models: Models, batchId: string, rejectionChunks: number): Promise<void> {
  await Promise.all(Array.from({ length: rejectionChunks }, (_, n) => models.DispatchRejectionChunk.deleteOne({ _id: dispatchRejectionChunkId(batchId, n) })));
}
