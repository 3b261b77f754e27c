// Guarded writes: a write to one document by `_id` that must land only while a condition holds
// (an order view's older revision, a charge not yet invoiced).
//
// FerretDB v1 lacks: an atomic conditional update (its update reads, filters, then writes), and
// pushdown of any filter but `{_id}` alone: `{_id, revision: {$lt: n}}` reads and decodes the whole
// collection for each write.
// This store instead: on FerretDB the filter is `{_id}` alone and what the caller knows just before
// the write is the guard (a read, or the revision it last wrote: with one writer per document,
// that is enough); on MongoDB the guard also goes into the filter. Callers do the same on both, so
// the only difference is this filter, whose two shapes the unit tests check.
// The plain MongoDB way: the guard in the filter, `updateOne({_id, ...guard}, update)`, and no read.
import type { Connection } from 'mongoose';

/** The filter for a write to document `id` that must only land while `guard` holds. */
export type GuardedById = (id: string, guard: Record<string, unknown>) => Record<string, unknown>;

export function guardedById(idOnlyPushdown: boolean): GuardedById {
  return (id, guard) => (idOnlyPushdown ? { _id: id } : { _id: id, ...guard });
}

/** FerretDB names itself in buildInfo; MongoDB does not. */
export async function isIdOnlyPushdown(conn: Connection): Promise<boolean> {
  const buildInfo = await conn.db!.admin().command({ buildInfo: 1 });
  return typeof buildInfo.ferretdbVersion === 'string';
}
