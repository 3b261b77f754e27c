// A batch's valid rows, stored in the chunks the adaptor parsed them in: `<batchId>:<n>` for
// n = 0 … rowChunks - 1. Reading a batch is then rowChunks lookups by _id, never a query that
// FerretDB would answer by scanning every batch's rows.
import type { DispatchRow } from '../domain/types';
import { ignoreDuplicate, type Models } from './db';

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
