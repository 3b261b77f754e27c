// Invoice numbers: each invoice issued exactly once per idempotency key, with a gapless invoice
// number (`INV-<n>`, 1..N across all accounts) and a gapless place in its account's sequence.
//
// FerretDB v1 lacks: transactions, atomic read-modify-write (`findOneAndUpdate` with `$inc` is a read
// then a write), and pushdown of any filter but `{_id}` (on an immediate invoice's path every read
// is by `_id`).
// This store instead: two slot chains (slot-chains.ts), the account's invoices (accountInvoices
// `<accountId>:<n>`) and the invoice numbers (invoices `INV-<n>`). Where their searches start: this
// process's memory of each chain's end (its next slot is inserted at once, no read first), else
// the chain's sequence hint; a chain's claims in this process go one at a time (per-key-queue.ts),
// so they never race each other. invoiceRequests fix where an immediate invoice's search starts and
// record what was issued.
// - Numbers: the invoice is inserted complete, so an invoice number exists only if its invoice
//   does. The numbers are exactly 1..N at every moment.
// - The account's place is claimed with the invoice's charges and totals, before it takes a number.
//   Its accountSequence has no gap once every issuer started has finished (Temporal retries them,
//   and a bill run completes any claimed invoice that holds a charge it would take).
// - One invoice per key: every issuer of a key reads upward from a start below any place the key
//   could have taken, and adopts a place of its own key instead of claiming another. Immediate
//   invoices fix that start in their InvoiceRequest before the first claim; cycle invoices read the
//   account's hint (or memory) and then look for a claim of their key (a claim made before that
//   look is found by it, one made after lies above what was read). An invoice's number search starts from the number
//   hint (or memory) read before its account place was claimed, stored in that claim for every
//   issuer to share. A search that starts higher (from memory) goes back to that start when the
//   key proves to hold a slot below it (slot-chains.ts).
// - No charge on two invoices: an immediate invoice takes only its own order's immediate charges
//   (the ledger checks); a cycle invoice takes deferred charges chosen after every earlier claim of
//   the account was visible, minus the charges those claims hold, and its claim lands only on the
//   place after them.
// Hints (raised every HINT_EVERY slots) and the InvoiceRequest's invoiceNumber are written after
// the fact: a lagging hint or memory costs extra reads, never correctness; neither runs ahead (they
// name only slots seen taken, and slots are never freed). Charges are marked with their invoice
// last (guardedById), all in one command.
// The plain MongoDB way: one transaction that advances two counter documents with
// `findOneAndUpdate({$inc})` (the global number and the account's), inserts the invoice and marks
// its charges with `updateMany({_id: {$in: keys}, invoiceNumber: null})`; a retry finds the invoice
// by its unique idempotencyKey.
import type { Db } from '../db';
import { ignoreDuplicate, isDuplicateKey } from '../db';
import { oneAtATimePerKey } from './per-key-queue';
import { sequenceHints } from './sequence-hints';
import { claimSlot, slotMemory } from './slot-chains';

/** What this store needs of a charge: its key, and the invoice it is marked with. */
export interface ChargeRef {
  chargeKey: string;
  invoiceNumber?: string | null;
}

/** What an invoice says besides its numbers: fixed when it claims its place in the account's sequence. */
export interface InvoiceContent {
  kind: 'offCycle' | 'cycle';
  billDate?: string;
  cutOff?: string;
  currency: string;
  chargeKeys: string[];
  net: number;
  tax: number;
  gross: number;
}

/** The account's n-th invoice, claimed but perhaps not numbered yet (AccountInvoice in infra/db.ts). */
interface AccountInvoiceDoc extends InvoiceContent {
  _id: string;
  accountId: string;
  accountSequence: number;
  idempotencyKey: string;
  numberFrom: number;
  claimedAt: string;
}

export interface InvoiceDoc extends InvoiceContent {
  _id: string;
  invoiceNumber: string;
  sequence: number;
  accountSequence: number;
  idempotencyKey: string;
  accountId: string;
  issuedAt: string;
}

/** An invoice and whether this call claimed it (chose its charges): false for a retry, a rerun or a concurrent attempt. */
export interface Issued {
  invoice: InvoiceDoc;
  created: boolean;
}

export interface InvoiceNumbers {
  /**
   * The invoice under `key` with exactly `content`: the charges of `known` (read by the caller in
   * this call), which only this key can ever take.
   */
  issueFixed(input: { key: string; accountId: string; content: InvoiceContent; known: ChargeRef[] }): Promise<Issued>;
  /**
   * The invoice under `key` with the account's `pending` charges that no other claim holds, its
   * content made by `contentOf`; null when there is nothing to invoice. `pending` runs once every
   * earlier claim of the account is visible.
   */
  issueChosen<C extends ChargeRef>(input: {
    key: string;
    accountId: string;
    pending: () => Promise<C[]>;
    contentOf: (free: C[]) => InvoiceContent;
  }): Promise<Issued | null>;
}

/** At a free place: claim it with this content, adopt the key's claim found meanwhile, or nothing to invoice (null). */
type Choice = { insert: InvoiceContent } | { adopt: AccountInvoiceDoc } | null;

export const invoiceNumberOf = (sequence: number) => `INV-${String(sequence).padStart(8, '0')}`;
const accountInvoiceId = (accountId: string, accountSequence: number) => `${accountId}:${accountSequence}`;
// A chain's name is also its sequence hint's id.
const NUMBER_CHAIN = 'invoice';
const accountChain = (accountId: string) => `account:${accountId}`;
/** A chain's persisted hint is raised when its slot is a multiple of this (best effort). */
const HINT_EVERY = 16;
const REMEMBERED_CHAINS = 20_000;

export function invoiceNumbers(db: Pick<Db, 'models' | 'guardedById'>): InvoiceNumbers {
  const { AccountInvoice, Charge, Invoice, InvoiceRequest } = db.models;
  const hints = sequenceHints(db.models);
  // Kept by the ledger for the worker's life: the end of each chain as this process last saw it.
  const memory = slotMemory(REMEMBERED_CHAINS);
  const inTurn = oneAtATimePerKey();
  /** The chain's last slot known taken: this process's memory, else its hint (one read). */
  const lastKnown = async (chain: string) => memory.last(chain) ?? (await hints.last(chain));
  /** The slot after the remembered end, tried first without a read; none when this process has not seen the chain. */
  const likelyFree = (chain: string) => {
    const last = memory.last(chain);
    return last === undefined ? undefined : last + 1;
  };

  async function issuedBefore(invoiceNumber: string): Promise<Issued> {
    const invoice = await Invoice.findOne({ _id: invoiceNumber }).lean<InvoiceDoc>();
    if (!invoice) throw new Error(`invoice ${invoiceNumber} was recorded as issued but does not exist`);
    return { invoice, created: false };
  }

  /**
   * Claims the first free place of the account's sequence from `from` on, or adopts the place the
   * key already holds. `choose` runs at each free place, after the place before it was seen taken.
   */
  async function claimAccountPlace(
    accountId: string,
    key: string,
    from: number,
    choose: () => Promise<Choice>,
  ): Promise<{ doc: AccountInvoiceDoc; claimed: boolean } | null> {
    const chain = accountChain(accountId);
    // Remembered inside the turn: the next claim in this process starts where this one ended.
    return inTurn(chain, async () => {
      const placed = await claimSlot<AccountInvoiceDoc>(
        {
          read: (n) => AccountInvoice.findOne({ _id: accountInvoiceId(accountId, n) }).lean<AccountInvoiceDoc>(),
          insert: (claim) => AccountInvoice.create(claim),
          isOwn: (place) => place.idempotencyKey === key,
          name: (n) => `invoice ${key}: account place ${accountInvoiceId(accountId, n)}`,
        },
        from,
        async (n) => {
          const chosen = await choose();
          if (!chosen || 'adopt' in chosen) return chosen;
          const numberFrom = (await lastKnown(NUMBER_CHAIN)) + 1;
          return {
            insert: {
              _id: accountInvoiceId(accountId, n),
              accountId,
              accountSequence: n,
              idempotencyKey: key,
              numberFrom,
              claimedAt: new Date().toISOString(),
              ...chosen.insert,
            },
          };
        },
        likelyFree(chain),
      );
      if (placed) memory.taken(chain, placed.doc.accountSequence);
      return placed;
    });
  }

  /**
   * Numbers a claimed invoice (the first free number from the claim's start, or the one its key
   * already took), then moves the hints, marks its charges and records it as issued. Any caller may
   * complete any claim: they all search from the same start, so the claim gets one number.
   */
  async function complete(claim: AccountInvoiceDoc, created: boolean, known?: Map<string, ChargeRef>): Promise<Issued> {
    const invoice = await inTurn(NUMBER_CHAIN, async () => {
      const numbered = await claimSlot<InvoiceDoc>(
        {
          read: (n) => Invoice.findOne({ _id: invoiceNumberOf(n) }).lean<InvoiceDoc>(),
          insert: (invoice) => Invoice.create(invoice),
          isOwn: (invoice) => invoice.idempotencyKey === claim.idempotencyKey,
          name: (n) => `invoice ${claim.idempotencyKey}: number ${invoiceNumberOf(n)}`,
        },
        claim.numberFrom,
        async (n) => ({
          insert: {
            _id: invoiceNumberOf(n),
            invoiceNumber: invoiceNumberOf(n),
            sequence: n,
            accountSequence: claim.accountSequence,
            idempotencyKey: claim.idempotencyKey,
            accountId: claim.accountId,
            kind: claim.kind,
            ...(claim.billDate ? { billDate: claim.billDate, cutOff: claim.cutOff } : {}),
            issuedAt: new Date().toISOString(),
            currency: claim.currency,
            chargeKeys: claim.chargeKeys,
            net: claim.net,
            tax: claim.tax,
            gross: claim.gross,
          },
        }),
        likelyFree(NUMBER_CHAIN),
      );
      const doc = numbered!.doc; // never null: a free number is always inserted
      memory.taken(NUMBER_CHAIN, doc.sequence);
      return doc;
    });
    await Promise.all([
      invoice.sequence % HINT_EVERY === 0 && hints.raise(NUMBER_CHAIN, invoice.sequence),
      claim.accountSequence % HINT_EVERY === 0 && hints.raise(accountChain(claim.accountId), claim.accountSequence),
      markCharges(invoice.invoiceNumber, invoice.chargeKeys, known),
    ]);
    // Last: a retry that finds it needs nothing more.
    await InvoiceRequest.updateOne({ _id: claim.idempotencyKey }, { $set: { invoiceNumber: invoice.invoiceNumber } }, { upsert: true }).catch(ignoreDuplicate);
    return { invoice, created };
  }

  /** Charges point at their invoice; repeated after a crash, this converges. */
  async function markCharges(invoiceNumber: string, chargeKeys: string[], known?: Map<string, ChargeRef>): Promise<void> {
    const unmarked = await Promise.all(
      chargeKeys.map(async (k) => {
        // Read just before (or, for `known`, earlier in this call: only this invoice can mark it since).
        const charge = known?.get(k) ?? (await Charge.findOne({ _id: k }, { invoiceNumber: 1 }).lean<{ invoiceNumber?: string | null }>());
        return charge && !charge.invoiceNumber ? [k] : [];
      }),
    );
    const marks = unmarked.flat().map((k) => ({ updateOne: { filter: db.guardedById(k, { invoiceNumber: null }), update: { $set: { invoiceNumber } } } }));
    // One command whose statements each name one charge by _id (an $in filter reads the whole collection on FerretDB).
    if (marks.length) await Charge.bulkWrite(marks, { ordered: false });
  }

  return {
    async issueFixed({ key, accountId, content, known }) {
      // Fix the search's start before the first claim: insert first (the usual first call), read
      // the request only when it exists (a retry or a concurrent attempt).
      const start = (await lastKnown(accountChain(accountId))) + 1;
      let accountFrom = start;
      try {
        await InvoiceRequest.create({ _id: key, accountFrom: start });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const request = await InvoiceRequest.findOne({ _id: key }).lean();
        if (request?.invoiceNumber) return issuedBefore(request.invoiceNumber);
        if (!request?.accountFrom) throw new Error(`invoice ${key}: its request has no start in the account's sequence`);
        accountFrom = request.accountFrom;
      }
      const placed = await claimAccountPlace(accountId, key, accountFrom, async () => ({ insert: content }));
      if (!placed) throw new Error(`invoice ${key}: no place claimed`); // the content is never empty
      return complete(placed.doc, placed.claimed, new Map(known.map((c) => [c.chargeKey, c])));
    },

    async issueChosen({ key, accountId, pending, contentOf }) {
      const request = await InvoiceRequest.findOne({ _id: key }).lean();
      if (request?.invoiceNumber) return issuedBefore(request.invoiceNumber);
      // Hint (or memory) first, then the look for our own claim: together they cover every claim of this key.
      const from = (await lastKnown(accountChain(accountId))) + 1;
      const own = await AccountInvoice.findOne({ idempotencyKey: key }).lean<AccountInvoiceDoc>();
      const placed = own ? { doc: own, claimed: false } : await claimAccountPlace(accountId, key, from, () => chooseFree(accountId, key, pending, contentOf));
      return placed && complete(placed.doc, placed.claimed);
    },
  };

  /**
   * The pending charges no other claim holds, chosen once every earlier claim of the account is
   * visible. A claim that holds one is completed on its issuer's behalf (numbered, its charges
   * marked). Our own claim, if one already holds them, is adopted.
   */
  async function chooseFree<C extends ChargeRef>(
    accountId: string,
    key: string,
    pending: () => Promise<C[]>,
    contentOf: (free: C[]) => InvoiceContent,
  ): Promise<Choice> {
    const charges = await pending();
    if (!charges.length) return null;
    const holding = await AccountInvoice.find({ accountId, chargeKeys: { $in: charges.map((c) => c.chargeKey) } }).lean<AccountInvoiceDoc[]>();
    const own = holding.find((c) => c.idempotencyKey === key);
    if (own) return { adopt: own };
    const held = new Set<string>();
    for (const claim of holding) {
      for (const k of claim.chargeKeys) held.add(k);
      await complete(claim, false);
    }
    const free = charges.filter((c) => !held.has(c.chargeKey));
    return free.length ? { insert: contentOf(free) } : null;
  }
}
