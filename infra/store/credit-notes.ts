// Credit notes: each issued exactly once per idempotency key (`return:<rmaId>`), with a gapless
// number `CN-<n>` (1..N across all accounts).
//
// FerretDB v1 lacks: transactions, atomic read-modify-write, and pushdown of any filter but `{_id}`.
// This store instead: one slot chain (slot-chains.ts) of credit notes inserted complete, so a number
// exists only if its credit note does; the sequence hint `creditNote` says where searches start. A
// creditNoteRequest fixes, before the first claim, where the key's search starts, so every issuer of
// the key (a retry, a second worker) walks the same chain from the same place and finds the key's
// note instead of claiming another number.
// The plain MongoDB way: `findOneAndUpdate({_id: 'creditNote'}, {$inc: {n: 1}})` and the insert in
// one transaction; a retry finds the note by its unique idempotencyKey.
import { ignoreDuplicate, isDuplicateKey, type Db } from '../db';
import { creditNoteNumberOf } from '../../domain/returns';
import { sequenceHints } from './sequence-hints';
import { claimSlot } from './slot-chains';

export interface CreditNoteContent {
  accountId: string;
  orderId: string;
  rmaId: string;
  currency: string;
  reason: string;
  corrects: string[];
  lines: Record<string, unknown>[];
  net: number;
  tax: number;
  gross: number;
}

export interface CreditNoteDoc extends CreditNoteContent {
  _id: string;
  creditNoteNumber: string;
  sequence: number;
  idempotencyKey: string;
  issuedAt: string;
}

const HINT = 'creditNote';

export function creditNotes(db: Pick<Db, 'models'>) {
  const { CreditNote, CreditNoteRequest } = db.models;
  const hints = sequenceHints(db.models);

  return {
    /** The credit note under `key` (issued now, or by an earlier call); `created` only for the call whose insert took the number. */
    async issue(key: string, content: CreditNoteContent): Promise<{ note: CreditNoteDoc; created: boolean }> {
      let from = (await hints.last(HINT)) + 1;
      try {
        await CreditNoteRequest.create({ _id: key, numberFrom: from });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const request = await CreditNoteRequest.findOne({ _id: key }).lean();
        if (!request) throw new Error(`credit note ${key}: its request clashed but is not stored`);
        if (request.creditNoteNumber) {
          const note = await CreditNote.findOne({ _id: request.creditNoteNumber }).lean<CreditNoteDoc>();
          if (!note) throw new Error(`credit note ${request.creditNoteNumber} was recorded as issued but does not exist`);
          return { note, created: false };
        }
        from = request.numberFrom;
      }
      const placed = await claimSlot<CreditNoteDoc>(
        {
          read: (n) => CreditNote.findOne({ _id: creditNoteNumberOf(n) }).lean<CreditNoteDoc>(),
          insert: (doc) => CreditNote.create(doc),
          isOwn: (doc) => doc.idempotencyKey === key,
          name: (n) => `credit note ${key}: number ${creditNoteNumberOf(n)}`,
        },
        from,
        async (n) => ({
          insert: {
            _id: creditNoteNumberOf(n),
            creditNoteNumber: creditNoteNumberOf(n),
            sequence: n,
            idempotencyKey: key,
            issuedAt: new Date().toISOString(),
            ...content,
          },
        }),
      );
      const note = placed!.doc; // never null: a free number is always inserted
      await hints.raise(HINT, note.sequence);
      await CreditNoteRequest.updateOne({ _id: key }, { $set: { creditNoteNumber: note.creditNoteNumber } }).catch(ignoreDuplicate);
      return { note, created: placed!.claimed };
    },
  };
}
