// Returns: RMA numbers without gaps, and each unit held by one return at a time.
//
// FerretDB v1 lacks: transactions, atomic read-modify-write, and pushdown of any filter but `{_id}`.
// This store instead: the return document is its own number's slot (`RMA-<n>`, slot-chains.ts;
// the hint `rma` says where the search starts), inserted complete, so a number exists only if its
// return does, and a return the rules then refuse keeps its number with status `refused`. A unit is
// held by inserting `returnedUnits` `<orderId>:<unitId>`: of two returns racing for a unit, one
// insert wins. An expired return lets its units go (deleted by `_id`, after reading they are its own).
// The plain MongoDB way: a counter advanced by `findOneAndUpdate({$inc})` in a transaction with the
// insert of the return and of its units (a unique index on `{orderId, unitId}`).
import { isDuplicateKey, type Db } from '../db';
import { rmaNumberOf, unitClaimId } from '../../domain/returns';
import { sequenceHints } from './sequence-hints';
import { claimSlot } from './slot-chains';

const HINT = 'rma';

export function returnsStore(db: Pick<Db, 'models'>) {
  const { Return, ReturnedUnit } = db.models;
  const hints = sequenceHints(db.models);

  return {
    /** Inserts the return under the next free RMA number; `make(rmaId, n)` gives the document. */
    async number<D extends Record<string, unknown>>(make: (rmaId: string, sequence: number) => D): Promise<D> {
      const placed = await claimSlot<D>(
        {
          read: (n) => Return.findOne({ _id: rmaNumberOf(n) }).lean<D>(),
          insert: (doc) => Return.create(doc),
          isOwn: () => false, // every request is a return of its own (the API's Idempotency-Key answers replays)
          name: (n) => `return ${rmaNumberOf(n)}`,
        },
        (await hints.last(HINT)) + 1,
        async (n) => ({ insert: make(rmaNumberOf(n), n) }),
      );
      const doc = placed!.doc;
      await hints.raise(HINT, doc.sequence as number);
      return doc;
    },

    /** Holds each unit for the return; the units another return holds (none: all held). */
    async hold(orderId: string, rmaId: string, unitIds: string[]): Promise<string[]> {
      const heldAt = new Date().toISOString();
      const taken = await Promise.all(
        unitIds.map(async (unitId) => {
          const _id = unitClaimId(orderId, unitId);
          try {
            await ReturnedUnit.create({ _id, orderId, unitId, rmaId, heldAt });
            return null;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
            const other = await ReturnedUnit.findOne({ _id }).lean();
            return other?.rmaId === rmaId ? null : unitId;
          }
        }),
      );
      return taken.filter((u): u is string => u !== null);
    },

    /** Which of these units a return holds (by `_id`, one read each). */
    async held(orderId: string, unitIds: string[]): Promise<Set<string>> {
      const docs = await Promise.all(unitIds.map((u) => ReturnedUnit.findOne({ _id: unitClaimId(orderId, u) }, { unitId: 1 }).lean()));
      return new Set(docs.flatMap((d) => (d ? [d.unitId] : [])));
    },

    /** Lets go of the units this return holds (an expired or refused return). */
    async release(orderId: string, rmaId: string, unitIds: string[]): Promise<void> {
      await Promise.all(
        unitIds.map(async (u) => {
          const _id = unitClaimId(orderId, u);
          const doc = await ReturnedUnit.findOne({ _id }).lean();
          if (doc?.rmaId === rmaId) await ReturnedUnit.deleteOne({ _id });
        }),
      );
    },
  };
}
