import { ApplicationFailure } from '@temporalio/activity';
import {
  cycleDayOf,
  cycleInvoiceKey,
  isBillDate,
  isOrderInvoiceKey,
  billCutOff,
  orderInvoiceKey,
  type BillRunInvoice,
  type ChargeDraft,
} from '../domain/billing';
import { invoiceTotals } from '../domain/money';
import type { BillingMode, Charge } from '../domain/types';
import { ignoreDuplicate, keysTaken, type Db } from '../infra/db';
import { invoiceNumbers, type InvoiceNumbers, type Issued } from '../infra/store/invoice-numbers';
import { creditNotes } from '../infra/store/credit-notes';
import { creditChargeKey, returnCreditKey, type CreditLine, type ReturnCredit } from '../domain/returns';
import { businessEvents } from './business-events';
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
  /**
   * Bills an order for what shipped: records its charges, and issues its own invoice (key
   * `order:<orderId>`, or `order:<orderId>:<n>` for what a resubmission shipped later) when the
   * account pays at once. Idempotent under those keys.
   */
  billOrder(input: RecordChargesInput): Promise<BilledOrder>;
  /**
   * Credits a received return: its invoiced units on a credit note `CN-<n>` (key `return:<rmaId>`)
   * correcting their invoices, the others as credit lines (negative charges, key
   * `<orderId>:credit:<unitId>`) on the account's next cycle invoice. Idempotent under those keys.
   */
  creditReturn(input: CreditReturnInput): Promise<ReturnCredit>;
}

export interface CreditReturnInput {
  rmaId: string;
  orderId: string;
  accountId: string;
  currency: string;
  reason: string;
  /** Units whose charge is invoiced, credited on a credit note at once. */
  onCreditNote: CreditLine[];
  /** Units credited as lines of the next cycle invoice. */
  onNextInvoice: CreditLine[];
}

export interface BilledOrder {
  charges: Charge[];
  invoiceNumber: string | null;
}

export interface RecordChargesInput {
  orderId: string;
  /** The order's immediate invoice key (`orderInvoiceKey`): `order:<orderId>` unless the order was billed before. */
  invoiceKey?: string;
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

/** A charge as stored. */
type ChargeDoc = Charge & { orderId: string; accountId: string; billingMode: BillingMode; currency: string };

/**
 * The built-in ledger: charges in MongoDB, invoices numbered by infra/store/invoice-numbers.ts (which
 * holds every FerretDB workaround of issuing them). A charge is recorded once under its key: one
 * insert per charge, and only a charge an earlier attempt recorded is read back, by _id.
 */
export class MongoLedger implements BillingLedger {
  private readonly numbers: InvoiceNumbers;
  private readonly credits: ReturnType<typeof creditNotes>;
  constructor(private readonly db: Pick<Db, 'models' | 'guardedById'>) {
    this.numbers = invoiceNumbers(db);
    this.credits = creditNotes(db);
  }

  async recordCharges(input: RecordChargesInput): Promise<Charge[]> {
    return toCharges(await this.record(input));
  }

  async issueInvoice(input: IssueInvoiceInput): Promise<IssuedInvoice> {
    const { Charge } = this.db.models;
    // By _id, one read each: an $in would read the whole collection on FerretDB.
    const charges = await Promise.all(input.chargeKeys.map((k) => Charge.findOne({ _id: k }).lean<ChargeDoc>()));
    return this.invoiceCharges(input, charges);
  }

  /** Records the charges, then invoices exactly those it holds (no reading them back). */
  async billOrder(input: RecordChargesInput): Promise<BilledOrder> {
    const recorded = await this.record(input);
    const charges = toCharges(recorded);
    if (input.billingMode !== 'immediate') return { charges, invoiceNumber: null };
    const { invoiceNumber } = await this.invoiceCharges(
      {
        accountId: input.accountId,
        idempotencyKey: input.invoiceKey ?? orderInvoiceKey(input.orderId, 0),
        kind: 'offCycle',
        chargeKeys: recorded.map((c) => c.chargeKey),
      },
      recorded,
    );
    // The agent sees each charge on the order with the invoice it went on.
    return { charges: charges.map((c) => ({ ...c, invoiceNumber })), invoiceNumber };
  }

  async issueCycleInvoice(input: IssueCycleInvoiceInput): Promise<IssuedInvoice | null> {
    const { Charge } = this.db.models;
    const issued = await this.numbers.issueChosen({
      key: cycleInvoiceKey(input.accountId, input.date),
      accountId: input.accountId,
      pending: () =>
        Charge.find({ accountId: input.accountId, billingMode: 'nextInvoice', invoiceNumber: null, createdAt: { $lte: input.cutOff } })
          .sort({ createdAt: 1, chargeKey: 1 })
          .lean<ChargeDoc[]>(),
      contentOf: (free) => ({
        kind: 'cycle',
        billDate: input.date,
        cutOff: input.cutOff,
        currency: free[0].currency,
        chargeKeys: free.map((c) => c.chargeKey),
        ...invoiceTotals(free),
      }),
    });
    return issued && summary(issued);
  }

  async creditReturn(input: CreditReturnInput): Promise<ReturnCredit> {
    const { Charge } = this.db.models;
    const createdAt = new Date().toISOString();
    const creditChargeKeys = await Promise.all(
      input.onNextInvoice.map(async (l) => {
        const chargeKey = creditChargeKey(input.orderId, l.unitId);
        await Charge.create({
          _id: chargeKey,
          chargeKey,
          accountId: input.accountId,
          orderId: input.orderId,
          lineNumber: l.lineNumber,
          sku: l.sku,
          description: `Credit ${input.rmaId}: ${l.description} ${l.unitId}`.slice(0, 200),
          quantity: 1,
          unitPrice: -l.amount,
          amount: -l.amount,
          taxRateBps: l.taxRateBps,
          tax: -l.tax,
          currency: input.currency,
          billingMode: 'nextInvoice',
          createdAt,
          invoiceNumber: null,
          rmaId: input.rmaId,
          unitId: l.unitId,
          ...(l.invoiceNumber ? { corrects: l.invoiceNumber } : {}),
        }).catch(ignoreDuplicate); // recorded by an earlier attempt: the key is the unit's, once ever
        return chargeKey;
      }),
    );
    let creditNoteNumber: string | null = null;
    if (input.onCreditNote.length) {
      const totals = invoiceTotals(input.onCreditNote);
      const { note, created } = await this.credits.issue(returnCreditKey(input.rmaId), {
        accountId: input.accountId,
        orderId: input.orderId,
        rmaId: input.rmaId,
        currency: input.currency,
        reason: input.reason,
        corrects: [...new Set(input.onCreditNote.map((l) => l.invoiceNumber!))].sort(),
        lines: input.onCreditNote.map((l) => ({ ...l })),
        ...totals,
      });
      if (created) businessEvents.creditNoteIssued();
      creditNoteNumber = note.creditNoteNumber;
    }
    const all = [...input.onCreditNote, ...input.onNextInvoice];
    return {
      creditNoteNumber,
      creditChargeKeys,
      corrects: [...new Set(all.flatMap((l) => (l.invoiceNumber ? [l.invoiceNumber] : [])))].sort(),
      ...invoiceTotals(all),
      issuedAt: createdAt,
    };
  }

  /** One write per charge; a charge an earlier attempt recorded is read back. In line order. */
  private async record(input: RecordChargesInput): Promise<ChargeDoc[]> {
    const { Charge } = this.db.models;
    const createdAt = new Date().toISOString();
    const docs = input.charges.map((c) => ({
      _id: c.chargeKey,
      ...c,
      accountId: input.accountId,
      orderId: input.orderId,
      currency: input.currency,
      billingMode: input.billingMode,
      createdAt,
      invoiceNumber: null,
    }));
    // All in one command; a charge recorded by an earlier attempt clashes on its key and is read back.
    let inserted: ChargeDoc[] = [];
    const clashed = new Set(
      await keysTaken(docs, async (all) => {
        inserted = (await Charge.insertMany(all, { ordered: false })).map((d) => d.toObject() as ChargeDoc);
      }),
    );
    const stored = clashed.size
      ? await Promise.all(
          docs.map(async (c, i) => {
            const doc = await Charge.findOne({ _id: c._id }).lean<ChargeDoc>();
            if (!doc)
              throw new Error(`charge ${c._id} ${clashed.has(i) ? 'clashed on its key but is not stored under it' : 'was inserted but cannot be read'}`);
            return doc;
          }),
        )
      : inserted;
    businessEvents.chargesRecorded(docs.length - clashed.size, input.billingMode);
    return stored.sort((a, b) => a.lineNumber - b.lineNumber || a.chargeKey.localeCompare(b.chargeKey));
  }

  /** An off-cycle invoice for exactly these charges (as read or recorded in this call), once they pass. */
  private async invoiceCharges(input: IssueInvoiceInput, charges: (ChargeDoc | null)[]): Promise<IssuedInvoice> {
    const key = input.idempotencyKey;
    const refuse = (message: string) => ApplicationFailure.nonRetryable(`invoice ${key}: ${message}`, 'VALIDATION_FAILED');
    if (!input.chargeKeys.length) throw refuse('no charges given');
    if (new Set(input.chargeKeys).size !== input.chargeKeys.length) throw refuse('a charge is given twice');
    for (const [i, c] of charges.entries()) {
      if (!c || c.accountId !== input.accountId) throw refuse(`charge ${input.chargeKeys[i]} does not exist on account ${input.accountId}`);
      // Each immediate charge can go on one invoice only: its own order's.
      if (c.billingMode !== 'immediate') throw refuse(`charge ${c.chargeKey} waits for the cycle invoice`);
      if (!isOrderInvoiceKey(key, c.orderId)) throw refuse(`charge ${c.chargeKey} belongs to order ${c.orderId}`);
    }
    const known = charges as ChargeDoc[];
    const content = { kind: input.kind, currency: known[0].currency, chargeKeys: input.chargeKeys, ...invoiceTotals(known) };
    return summary(await this.numbers.issueFixed({ key, accountId: input.accountId, content, known }));
  }
}

function toCharges(stored: ChargeDoc[]): Charge[] {
  return stored.map((s) => ({
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
  }));
}

function summary({ invoice, created }: Issued): IssuedInvoice {
  if (created) businessEvents.invoiceIssued(invoice.kind);
  return { invoiceNumber: invoice.invoiceNumber, currency: invoice.currency, gross: invoice.gross ?? 0, chargeCount: invoice.chargeKeys.length, created };
}

export function billingActivities({ db }: ActivityDeps, ledger: BillingLedger = new MongoLedger(db)) {
  const { Account } = db.models;
  return {
    recordCharges: (input: RecordChargesInput) => ledger.recordCharges(input),
    issueInvoice: (input: IssueInvoiceInput) => ledger.issueInvoice(input),

    /** One step for the workflow; a retry after a crash between recording and invoicing finishes the job. */
    billOrder: (input: RecordChargesInput): Promise<BilledOrder> => ledger.billOrder(input),

    /** A received return's credit (credit note and/or next-invoice credit lines); idempotent per return and unit. */
    creditReturn: (input: CreditReturnInput): Promise<ReturnCredit> => ledger.creditReturn(input),

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
