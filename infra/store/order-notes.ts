// Notes on orders whose workflow has finished (Complete, Cancelled, an Error closed, or past
// Temporal's retention): the workflow can no longer take the `addNote` update, and the read model
// has one writer, the workflow (and the reconciliation rewriting it from the workflow), so a note
// is kept beside it and joins the order's history when the API reads the order. A running
// workflow's notes are in its own history (workflows/order/agent-actions.ts).
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}` (a `find({orderId})` reads every note) and
// an atomic `$push` (two notes added at once to one document would each rewrite it from their own
// read, and one would be lost).
// This store instead: gives each order's notes a slot chain (slot-chains.ts), `orderNotes._id =
// <orderId>#<n>` from 1, one document per note, inserted once and never changed; reading an
// order's notes reads slots until a free one (an order without notes: one read). The note's key
// (the request's Idempotency-Key, else its id) is how a retried request finds its note.
// The plain MongoDB way: one document per note with an index on `{orderId, at}` and a unique
// `{orderId, noteKey}`, or a `$push` onto the order's document.
import { MAX_NOTES_PER_ORDER } from '../../domain/order-history';
import type { HistoryEntry } from '../../domain/types';
import type { Models } from '../db';
import { claimSlot } from './slot-chains';

const slotId = (orderId: string, n: number) => `${orderId}#${n}`;

interface KeptNote {
  _id: string;
  orderId: string;
  noteKey: string;
  entry: HistoryEntry;
}

export interface OrderNotes {
  /** The order's kept notes, in the order added. */
  of(orderId: string): Promise<HistoryEntry[]>;
  /** Keeps the note unless one with the same key is kept already; `added` false then, and that note is answered. */
  add(orderId: string, noteKey: string, entry: HistoryEntry): Promise<{ entry: HistoryEntry; added: boolean }>;
}

export function orderNotes(models: Pick<Models, 'OrderNote'>): OrderNotes {
  const { OrderNote } = models;
  const read = (orderId: string, n: number) => OrderNote.findOne({ _id: slotId(orderId, n) }).lean<KeptNote>();

  return {
    async of(orderId) {
      const out: HistoryEntry[] = [];
      for (let n = 1; n <= MAX_NOTES_PER_ORDER; n++) {
        const doc = await read(orderId, n);
        if (!doc) break;
        out.push(doc.entry);
      }
      return out;
    },

    async add(orderId, noteKey, entry) {
      const claimed = await claimSlot(
        {
          read: (n) => read(orderId, n),
          insert: (doc) => OrderNote.create(doc),
          isOwn: (doc) => doc.noteKey === noteKey,
          name: (n) => `order note ${slotId(orderId, n)}`,
        },
        1,
        async (n) => ({ insert: { _id: slotId(orderId, n), orderId, noteKey, entry } }),
      );
      return { entry: claimed!.doc.entry, added: claimed!.claimed };
    },
  };
}
