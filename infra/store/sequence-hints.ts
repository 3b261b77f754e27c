// Sequence hints: where a search along a slot chain (slot-chains.ts) starts.
//
// FerretDB v1 lacks: an atomic `$max`/`$inc` (its update is read-modify-write), so a hint written by
// two issuers at once may even go back.
// This store instead: keeps the last slot known to be taken per chain (`invoice`,
// `account:<accountId>`, `address:<slot prefix>`) as a hint that may lag, never run ahead; a
// lagging hint costs extra reads along the chain, never correctness.
// The plain MongoDB way: no hints at all; a counter document advanced by `findOneAndUpdate` with
// `$inc` gives the next number in one command.
import { ignoreDuplicate, type Models } from '../db';

export interface SequenceHints {
  /** The last slot known to be taken (0: none). */
  last(id: string): Promise<number>;
  /** Best effort: only where searches start. */
  raise(id: string, last: number): Promise<void>;
}

export function sequenceHints(models: Pick<Models, 'SequenceHint'>): SequenceHints {
  const { SequenceHint } = models;
  return {
    last: async (id) => (await SequenceHint.findOne({ _id: id }).lean())?.last ?? 0,
    raise: async (id, last) => {
      await SequenceHint.updateOne({ _id: id }, { $max: { last } }, { upsert: true }).catch(ignoreDuplicate);
    },
  };
}
