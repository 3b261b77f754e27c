// Dispatch rows: a warehouse batch's valid rows, kept here rather than in workflow history.
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}`: `find({batchId})` would read and decode
// every batch's rows, and `deleteMany({batchId})` likewise.
// This store instead: keeps the rows in the chunks the adaptor parsed them in, `dispatchRowChunks._id
// = <batchId>:<n>` for n = 0 … rowChunks - 1 (the batch document says how many), so reading or
// deleting a batch is rowChunks operations by `_id`.
// The plain MongoDB way: the same chunks (or one document per row) with an index on `batchId`,
// read with `find({batchId}).sort({chunk: 1})` and removed with `deleteMany({batchId})`.
import type { DispatchRow } from '../../domain/types';
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
