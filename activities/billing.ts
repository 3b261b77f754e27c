import { ApplicationFailure } from '@temporalio/activity';
import { cycleDayOf, cycleInvoiceKey, isBillDate, billCutOff, type BillRunInvoice, type ChargeDraft } from '../domain/billing';
import { invoiceTotals } from '../domain/money';
import type { BillingMode, Charge } from '../domain/types';
import { ignoreDuplicate, isDuplicateKey, raiseSequenceHint, sequenceHint, type Db } from '../infra/db';
import type { ActivityDeps } from './index';

/**
 * The billing ledger. The built-in one keeps charges and invoices in MongoDB; an operator's billing
 * engine replaces it by implementing the same calls with the same idempotency keys.
 */
export interface BillingLedger {
  recordCharges(input: RecordChargesInput): Promise<Charge[]>;
  /**
   * An off-cycle invoice for exactly the given charges (immediate billing): the order's own
   * immediate charges, under the key `order:<orderId>`, so each can only ever be on that invoice.
   */
  issueInvoice(input: IssueInvoiceInput): Promise<IssuedInvoice>;
  /**
   * The account's cycle invoice: every pending deferred charge created up to the cut-off, each on
   * one invoice only. null when there is nothing to bill (no invoice is issued then).
   */
  issueCycleInvoice(input: IssueCycleInvoiceInput): Promise<IssuedInvoice | null>;
}

export interface RecordChargesInput {
  orderId: string;
  accountId: string;
  currency: string;
  billingMode: BillingMode;
  charges: ChargeDraft[];
}

export interface IssueInvoiceInput {
  accountId: string;
  /** `order:<orderId>` for an immediate invoice, `cycle:<accountId>:<date>` for a bill run. */
  idempotencyKey: string;
  kind: 'offCycle' | 'cycle';
  chargeKeys: string[];
}

export interface IssueCycleInvoiceInput {
  accountId: string;
  /** The bill date, YYYY-MM-DD: the invoice's idempotency key is `cycle:<accountId>:<date>`. */
  date: string;
  /** ISO instant: charges created after it wait for the next cycle. */
  cutOff: string;
}

export interface IssuedInvoice {
  invoiceNumber: string;
  currency: string;
  gross: number;
  chargeCount: number;
  /**
   * true for the one call that claimed the invoice (chose its charges); false for every other call
   * with its key: a retry or a rerun, or a concurrent attempt.
   */
  created: boolean;
}

type ChargeDoc = { chargeKey: string; orderId?: string; accountId?: string; billingMode?: string; currency: string; amount: number; tax: number; invoiceNumber?: string | null };

/** What an invoice says besides its numbers: fixed when it claims its place in the account's sequence. */
interface InvoiceContent {
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

interface InvoiceDoc extends InvoiceContent {
  _id: string;
  invoiceNumber: string;
  sequence: number;
  accountSequence: number;
  idempotencyKey: string;
  accountId: string;
  issuedAt: string;
}

export const invoiceNumberOf = (sequence: number) => `INV-${String(sequence).padStart(8, '0')}`;
const accountInvoiceId = (accountId: string, accountSequence: number) => `${accountId}:${accountSequence}`;
const NUMBER_HINT = 'invoice';
const accountHint = (accountId: string) => `account:${accountId}`;

/**
 * Issues each invoice exactly once per idempotency key with only _id point reads and unique _id
 * inserts on an immediate invoice's path (FerretDB on SQLite scans the collection for any other
 * filter), without transactions or atomic read-modify-write.
 *
 * Two sequences, each a chain of documents with unique _ids: the account's invoices
 * (AccountInvoice `<accountId>:<n>`) and the invoice numbers (Invoice `INV-<n>`). A place n is
 * taken only by an issuer that saw n-1 taken (or read n-1 from a hint, which names only taken
 * places), so each chain is gap-free: there is no n without n-1. Issuers find the first free place
 * by reading upward from a start; a lost race only means reading the next place.
 * - Numbers: the invoice is inserted complete, so an invoice number exists only if its invoice
 *   does. The numbers are exactly 1..N at every moment.
 * - The account's place is claimed with the invoice's charges and totals, before it takes a number.
 *   Its accountSequence has no gap once every issuer started has finished (Temporal retries them,
 *   and a bill run completes any claimed invoice that holds a charge it would take).
 * - One invoice per key: every issuer of a key reads upward from a start below any place the key
 *   could have taken, and adopts a place of its own key instead of claiming another. Immediate
 *   invoices fix that start in their InvoiceRequest before the first claim; cycle invoices read the
 *   account hint and then look for a claim of their key (a claim made before that look is found by
 *   it, one made after lies above the hint). An invoice's number search starts from the number
 *   hint read before its account place was claimed, stored in that claim for every issuer to share.
 * - No charge on two invoices: an immediate invoice takes only its own order's immediate charges;
 *   a cycle invoice takes deferred charges chosen after every earlier claim of the account was
 *   visible, minus the charges those claims hold, and its claim lands only on the place after them.
 * Hints (SequenceHint) and the InvoiceRequest's invoiceNumber are written after the fact: a lagging
 * hint costs extra reads, never correctness.
 */
export class MongoLedger implements BillingLedger {
  constructor(private readonly db: Pick<Db, 'models' | 'guardedById'>) {}

  async recordCharges(input: RecordChargesInput): Promise<Charge[]> {
    const { Charge } = this.db.models;
    const createdAt = new Date().toISOString();
    // One write per charge; only a charge an earlier attempt recorded is read back (by _id: an $in
    // would read the whole collection on FerretDB).
    const stored = await Promise.all(
      input.charges.map(async (c) => {
        try {
          return (await Charge.create({ _id: c.chargeKey, ...c, accountId: input.accountId, orderId: input.orderId, currency: input.currency, billingMode: input.billingMode, createdAt, invoiceNumber: null })).toObject();
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // recorded by an earlier attempt
          const doc = await Charge.findOne({ _id: c.chargeKey }).lean();
          if (!doc) throw new Error(`charge ${c.chargeKey} clashed on its key but is not stored under it`);
          return doc;
        }
      }),
    );
    return stored
      .map((s) => ({
        chargeKey: s.chargeKey,
        lineNumber: s.lineNumber,
        sku: s.sku,
        description: s.description,
        quantity: s.quantity,
        unitPrice: s.unitPrice,
        taxRateBps: s.taxRateBps,
        amount: s.amount,
        tax: s.tax,
        invoiceNumber: s.invoiceNumber ?? null,
      }))
      .sort((a, b) => a.lineNumber - b.lineNumber || a.chargeKey.localeCompare(b.chargeKey));
  }

  async issueInvoice(input: IssueInvoiceInput): Promise<IssuedInvoice> {
    const { Charge, InvoiceRequest } = this.db.models;
    const key = input.idempotencyKey;
    const refuse = (message: string) => ApplicationFailure.nonRetryable(`invoice ${key}: ${message}`, 'VALIDATION_FAILED');
    const request = await InvoiceRequest.findOne({ _id: key }).lean();
    if (request?.invoiceNumber) return this.issuedInvoice(request.invoiceNumber);
    if (!input.chargeKeys.length) throw refuse('no charges given');
    if (new Set(input.chargeKeys).size !== input.chargeKeys.length) throw refuse('a charge is given twice');

    const [charges, accountHintValue] = await Promise.all([
      Promise.all(input.chargeKeys.map((k) => Charge.findOne({ _id: k }).lean<ChargeDoc>())),
      request ? null : this.hint(accountHint(input.accountId)),
    ]);
    for (const [i, c] of charges.entries()) {
      if (!c || c.accountId !== input.accountId) throw refuse(`charge ${input.chargeKeys[i]} does not exist on account ${input.accountId}`);
      // Each immediate charge can go on one invoice only: its own order's.
      if (c.billingMode !== 'immediate') throw refuse(`charge ${c.chargeKey} waits for the cycle invoice`);
      if (key !== `order:${c.orderId}`) throw refuse(`charge ${c.chargeKey} belongs to order ${c.orderId}`);
    }
    const known = charges as ChargeDoc[];

    let accountFrom = request?.accountFrom;
    if (!request) {
      try {
        accountFrom = (accountHintValue ?? 0) + 1;
        await InvoiceRequest.create({ _id: key, accountFrom });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // a concurrent attempt fixed the start first: use theirs
        accountFrom = (await InvoiceRequest.findOne({ _id: key }).lean())?.accountFrom;
      }
    }
    if (!accountFrom) throw new Error(`invoice ${key}: its request has no start in the account's sequence`);

    const content: InvoiceContent = { kind: input.kind, currency: known[0].currency, chargeKeys: input.chargeKeys, ...invoiceTotals(known) };
    const placed = await this.claimAccountPlace(input.accountId, key, accountFrom, async () => content);
    if (!placed) throw new Error(`invoice ${key}: no place claimed`); // the content above is never empty
    return this.complete(placed.claim, placed.claimed, new Map(known.map((c) => [c.chargeKey, c])));
  }

  async issueCycleInvoice(input: IssueCycleInvoiceInput): Promise<IssuedInvoice | null> {
    const { AccountInvoice, InvoiceRequest } = this.db.models;
    const key = cycleInvoiceKey(input.accountId, input.date);
    const request = await InvoiceRequest.findOne({ _id: key }).lean();
    if (request?.invoiceNumber) return this.issuedInvoice(request.invoiceNumber);
    // Hint first, then the look for our own claim: together they cover every claim of this key.
    const from = (await this.hint(accountHint(input.accountId))) + 1;
    const own = await AccountInvoice.findOne({ idempotencyKey: key }).lean<AccountInvoiceDoc>();
    const placed = own ? { claim: own, claimed: false } : await this.claimAccountPlace(input.accountId, key, from, () => this.selectCycleCharges(key, input));
    return placed && this.complete(placed.claim, placed.claimed);
  }

  /**
   * The deferred charges a cycle invoice takes, chosen once every earlier claim of the account is
   * visible: pending ones not held by another claim. A claim that holds one is completed on its
   * issuer's behalf (numbered, its charges marked). Returns our own claim if one already holds them.
   */
  private async selectCycleCharges(key: string, input: IssueCycleInvoiceInput): Promise<InvoiceContent | AccountInvoiceDoc | null> {
    const { Charge, AccountInvoice } = this.db.models;
    const pending = await Charge.find({ accountId: input.accountId, billingMode: 'nextInvoice', invoiceNumber: null, createdAt: { $lte: input.cutOff } })
      .sort({ createdAt: 1, chargeKey: 1 })
      .lean<ChargeDoc[]>();
    if (!pending.length) return null;
    const holding = await AccountInvoice.find({ accountId: input.accountId, chargeKeys: { $in: pending.map((c) => c.chargeKey) } }).lean<AccountInvoiceDoc[]>();
    const own = holding.find((c) => c.idempotencyKey === key);
    if (own) return own;
    const held = new Set<string>();
    for (const claim of holding) {
      for (const k of claim.chargeKeys) held.add(k);
      await this.complete(claim, false);
    }
    const free = pending.filter((c) => !held.has(c.chargeKey));
    if (!free.length) return null;
    return { kind: 'cycle', billDate: input.date, cutOff: input.cutOff, currency: free[0].currency, chargeKeys: free.map((c) => c.chargeKey), ...invoiceTotals(free) };
  }

  /**
   * Claims the first free place of the account's sequence from `from` on, or adopts the place the
   * key already holds. `choose` runs at each free place, after the place before it was seen taken:
   * it gives the content, an existing claim of this key, or null when there is nothing to invoice.
   */
  private async claimAccountPlace(
    accountId: string,
    key: string,
    from: number,
    choose: () => Promise<InvoiceContent | AccountInvoiceDoc | null>,
  ): Promise<{ claim: AccountInvoiceDoc; claimed: boolean } | null> {
    const { AccountInvoice } = this.db.models;
    for (let n = from; ; n++) {
      const _id = accountInvoiceId(accountId, n);
      let place = await AccountInvoice.findOne({ _id }).lean<AccountInvoiceDoc>();
      if (!place) {
        const chosen = await choose();
        if (chosen && 'accountSequence' in chosen) return { claim: chosen, claimed: false };
        if (!chosen) {
          // Nothing left to take: perhaps because a concurrent attempt just claimed this very place.
          place = await AccountInvoice.findOne({ _id }).lean<AccountInvoiceDoc>();
          return place?.idempotencyKey === key ? { claim: place, claimed: false } : null;
        }
        const claim: AccountInvoiceDoc = {
          _id,
          accountId,
          accountSequence: n,
          idempotencyKey: key,
          numberFrom: (await this.hint(NUMBER_HINT)) + 1,
          claimedAt: new Date().toISOString(),
          ...chosen,
        };
        try {
          await AccountInvoice.create(claim);
          return { claim, claimed: true };
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // lost the race for this place: see who took it
        }
        place = await AccountInvoice.findOne({ _id }).lean<AccountInvoiceDoc>();
        if (!place) throw new Error(`invoice ${key}: claiming ${_id} clashed, yet the place is free (does the key hold another place?)`);
      }
      if (place.idempotencyKey === key) return { claim: place, claimed: false };
    }
  }

  /**
   * Numbers a claimed invoice (the first free number from the claim's start, or the one its key
   * already took), then moves the hints, marks its charges and records it as issued. Any caller may
   * complete any claim: they all search from the same start, so the claim gets one number.
   */
  private async complete(claim: AccountInvoiceDoc, claimed: boolean, known?: Map<string, ChargeDoc>): Promise<IssuedInvoice> {
    const { Invoice } = this.db.models;
    let invoice: InvoiceDoc | null = null;
    for (let n = claim.numberFrom; !invoice; n++) {
      const _id = invoiceNumberOf(n);
      let taken = await Invoice.findOne({ _id }).lean<InvoiceDoc>();
      if (!taken) {
        const doc: InvoiceDoc = {
          _id,
          invoiceNumber: _id,
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
        };
        try {
          await Invoice.create(doc);
          taken = doc;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // lost the race for this number: see who took it
          taken = await Invoice.findOne({ _id }).lean<InvoiceDoc>();
          if (!taken) throw new Error(`invoice ${claim.idempotencyKey}: numbering ${_id} clashed, yet the number is free (is the key numbered elsewhere?)`);
        }
      }
      if (taken.idempotencyKey === claim.idempotencyKey) invoice = taken;
    }
    await Promise.all([
      this.raiseHint(NUMBER_HINT, invoice.sequence),
      this.raiseHint(accountHint(claim.accountId), claim.accountSequence),
      this.markCharges(invoice.invoiceNumber, invoice.chargeKeys, known),
    ]);
    // Last: a retry that finds it needs nothing more.
    await this.db.models.InvoiceRequest.updateOne({ _id: claim.idempotencyKey }, { $set: { invoiceNumber: invoice.invoiceNumber } }, { upsert: true }).catch(ignoreDuplicate);
    return summary(invoice, claimed);
  }

  private async issuedInvoice(invoiceNumber: string): Promise<IssuedInvoice> {
    const invoice = await this.db.models.Invoice.findOne({ _id: invoiceNumber }).lean<InvoiceDoc>();
    if (!invoice) throw new Error(`invoice ${invoiceNumber} was recorded as issued but does not exist`);
    return summary(invoice, false);
  }

  /** Charges point at their invoice; repeated after a crash, this converges. */
  private async markCharges(invoiceNumber: string, chargeKeys: string[], known?: Map<string, ChargeDoc>): Promise<void> {
    const { Charge } = this.db.models;
    await Promise.all(
      chargeKeys.map(async (k) => {
        // Read just before (or, for `known`, earlier in this call: only this invoice can mark it since).
        const charge = known?.get(k) ?? (await Charge.findOne({ _id: k }, { invoiceNumber: 1 }).lean<{ invoiceNumber?: string | null }>());
        if (!charge || charge.invoiceNumber) return;
        await Charge.updateOne(this.db.guardedById(k, { invoiceNumber: null }), { $set: { invoiceNumber } });
      }),
    );
  }

  private hint(id: string): Promise<number> {
    return sequenceHint(this.db.models, id);
  }

  private raiseHint(id: string, last: number): Promise<void> {
    return raiseSequenceHint(this.db.models, id, last);
  }
}

function summary(invoice: InvoiceDoc, created: boolean): IssuedInvoice {
  return { invoiceNumber: invoice.invoiceNumber, currency: invoice.currency, gross: invoice.gross ?? 0, chargeCount: invoice.chargeKeys.length, created };
}

export function billingActivities({ db }: ActivityDeps, ledger: BillingLedger = new MongoLedger(db)) {
  const { Account } = db.models;
  return {
    recordCharges: (input: RecordChargesInput) => ledger.recordCharges(input),
    issueInvoice: (input: IssueInvoiceInput) => ledger.issueInvoice(input),

    /**
     * Bills an order for what shipped: its charges, and its own invoice when the account pays at
     * once. One step for the workflow; both calls are idempotent under their keys, so a retry
     * after a crash between them finishes the job.
     */
    async billOrder(input: RecordChargesInput): Promise<{ charges: Charge[]; invoiceNumber: string | null }> {
      const charges = await ledger.recordCharges(input);
      if (input.billingMode !== 'immediate') return { charges, invoiceNumber: null };
      const { invoiceNumber } = await ledger.issueInvoice({
        accountId: input.accountId,
        idempotencyKey: `order:${input.orderId}`,
        kind: 'offCycle',
        chargeKeys: charges.map((c) => c.chargeKey),
      });
      // The agent sees each charge on the order with the invoice it went on.
      return { charges: charges.map((c) => ({ ...c, invoiceNumber })), invoiceNumber };
    },

    /** One page of the accounts a bill date is due for (cycle day = the date's day), by account id. */
    async accountsDueForBillRun(input: { date: string; after: string | null; limit: number }): Promise<string[]> {
      if (!isBillDate(input.date)) throw ApplicationFailure.nonRetryable(`${input.date} is not a YYYY-MM-DD date`, 'VALIDATION_FAILED');
      const filter: Record<string, unknown> = { billingCycleDay: cycleDayOf(input.date) };
      if (input.after !== null) filter.accountId = { $gt: input.after };
      const page = await Account.find(filter, { accountId: 1, _id: 0 }).sort({ accountId: 1 }).limit(input.limit).lean();
      return page.map((a) => a.accountId);
    },

    /** The account's invoice for the bill date; idempotent under retries, reruns and overlapping runs. */
    async invoiceAccountForBillRun(input: { accountId: string; date: string }): Promise<BillRunInvoice | null> {
      const issued = await ledger.issueCycleInvoice({ accountId: input.accountId, date: input.date, cutOff: billCutOff(input.date) });
      return issued && { accountId: input.accountId, ...issued };
    },
  };
}
