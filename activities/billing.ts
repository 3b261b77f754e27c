import { ApplicationFailure } from '@temporalio/activity';
import { cycleDayOf, cycleInvoiceKey, isBillDate, billCutOff, type BillRunInvoice, type ChargeDraft } from '../domain/billing';
import { invoiceTotals } from '../domain/money';
import type { BillingMode, Charge } from '../domain/types';
import { isDuplicateKey, type Models } from '../infra/db';
import type { ActivityDeps } from './index';

/**
 * The billing ledger. The built-in one keeps charges and invoices in MongoDB; an operator's billing
 * engine replaces it by implementing the same calls with the same idempotency keys.
 */
export interface BillingLedger {
  recordCharges(input: RecordChargesInput): Promise<Charge[]>;
  /** An off-cycle invoice for exactly the given charges (immediate billing). */
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
  /** false when the invoice already existed under the idempotency key (a retry or a rerun). */
  created: boolean;
}

type ChargeDoc = { chargeKey: string; currency: string; amount: number; tax: number };

export class MongoLedger implements BillingLedger {
  constructor(private readonly models: Models) {}

  async recordCharges(input: RecordChargesInput): Promise<Charge[]> {
    const { Charge } = this.models;
    const createdAt = new Date().toISOString();
    for (const c of input.charges) {
      try {
        await Charge.create({ _id: c.chargeKey, ...c, accountId: input.accountId, orderId: input.orderId, currency: input.currency, billingMode: input.billingMode, createdAt, invoiceNumber: null });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // recorded by an earlier attempt
      }
    }
    // One lookup per charge by _id: an $in would read the whole collection on FerretDB.
    const stored = await Promise.all(
      input.charges.map(async (c) => {
        const doc = await Charge.findOne({ _id: c.chargeKey }).lean();
        if (!doc) throw new Error(`charge ${c.chargeKey} is missing right after it was recorded`);
        return doc;
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
    const { Charge } = this.models;
    const issued = await this.insertInvoice(input.accountId, input.idempotencyKey, { kind: input.kind }, async () => {
      const charges = await Charge.find({ chargeKey: { $in: input.chargeKeys }, accountId: input.accountId }).lean();
      if (charges.length !== input.chargeKeys.length) {
        throw ApplicationFailure.nonRetryable(`invoice ${input.idempotencyKey}: some charges do not exist on account ${input.accountId}`, 'VALIDATION_FAILED');
      }
      return charges;
    });
    if (!issued) throw ApplicationFailure.nonRetryable(`invoice ${input.idempotencyKey}: no charges given`, 'VALIDATION_FAILED');
    return issued;
  }

  async issueCycleInvoice(input: IssueCycleInvoiceInput): Promise<IssuedInvoice | null> {
    const { Charge, Invoice } = this.models;
    const idempotencyKey = cycleInvoiceKey(input.accountId, input.date);
    return this.insertInvoice(input.accountId, idempotencyKey, { kind: 'cycle', billDate: input.date, cutOff: input.cutOff }, async () => {
      const pending = await Charge.find({ accountId: input.accountId, billingMode: 'nextInvoice', invoiceNumber: null, createdAt: { $lte: input.cutOff } })
        .sort({ createdAt: 1, chargeKey: 1 })
        .lean();
      if (!pending.length) return [];
      // A charge not yet marked may already be on an invoice whose issuer stopped before marking
      // it: leave it to that invoice, and finish the marking on its behalf.
      const taken = await Invoice.find({ accountId: input.accountId, chargeKeys: { $in: pending.map((c) => c.chargeKey) } }, { invoiceNumber: 1, chargeKeys: 1 }).lean();
      const onInvoice = new Set<string>();
      for (const inv of taken) {
        for (const k of inv.chargeKeys) onInvoice.add(k);
        await this.markCharges(inv.invoiceNumber, inv.chargeKeys);
      }
      return pending.filter((c) => !onInvoice.has(c.chargeKey));
    });
  }

  /**
   * Issues an invoice exactly once per idempotency key, without transactions.
   *
   * Numbers: the invoice takes the next global sequence (gap-free: a number exists only if its
   * insert succeeded) and the next per-account sequence; unique indexes on both decide races.
   * Charges: `select` runs after the account's last invoice was read, and the insert succeeds only
   * if no other invoice for the account was inserted since. So every earlier invoice of the account
   * was visible to `select`, and two invoices can never take the same charge, whatever overlaps
   * (two bill runs, a bill run and an immediate invoice, a retry of either).
   */
  private async insertInvoice(
    accountId: string,
    idempotencyKey: string,
    fields: { kind: 'offCycle' | 'cycle'; billDate?: string; cutOff?: string },
    select: () => Promise<ChargeDoc[]>,
  ): Promise<IssuedInvoice | null> {
    const { Invoice } = this.models;
    let created = false;
    let invoice = await Invoice.findOne({ idempotencyKey }).lean();
    for (let attempt = 0; !invoice; attempt++) {
      if (attempt > 50) throw new Error('invoice numbering contended too long; will retry');
      const lastOfAccount = await Invoice.findOne({ accountId }, { accountSequence: 1 }).sort({ accountSequence: -1 }).lean();
      const charges = await select();
      if (!charges.length) {
        // Nothing left to take: perhaps because an overlapping run just issued this very invoice.
        invoice = await Invoice.findOne({ idempotencyKey }).lean();
        if (!invoice) return null;
        break;
      }
      const last = await Invoice.findOne({}, { sequence: 1 }).sort({ sequence: -1 }).lean();
      const sequence = (last?.sequence ?? 0) + 1;
      const totals = invoiceTotals(charges);
      try {
        await Invoice.create({
          invoiceNumber: `INV-${String(sequence).padStart(8, '0')}`,
          sequence,
          accountSequence: (lastOfAccount?.accountSequence ?? 0) + 1,
          idempotencyKey,
          accountId,
          ...fields,
          issuedAt: new Date().toISOString(),
          currency: charges[0].currency,
          chargeKeys: charges.map((c) => c.chargeKey),
          net: totals.net,
          tax: totals.tax,
          gross: totals.gross,
        });
        created = true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // lost a race for a number, or our key exists: look again
      }
      invoice = await Invoice.findOne({ idempotencyKey }).lean();
    }
    // Charges point at their invoice; repeated after a crash, this converges.
    await this.markCharges(invoice.invoiceNumber, invoice.chargeKeys);
    return { invoiceNumber: invoice.invoiceNumber, currency: invoice.currency, gross: invoice.gross ?? 0, chargeCount: invoice.chargeKeys.length, created };
  }

  private async markCharges(invoiceNumber: string, chargeKeys: string[]): Promise<void> {
    await this.models.Charge.updateMany({ chargeKey: { $in: chargeKeys }, invoiceNumber: null }, { $set: { invoiceNumber } });
  }
}

export function billingActivities({ db }: ActivityDeps, ledger: BillingLedger = new MongoLedger(db.models)) {
  const { Account } = db.models;
  return {
    recordCharges: (input: RecordChargesInput) => ledger.recordCharges(input),
    issueInvoice: (input: IssueInvoiceInput) => ledger.issueInvoice(input),

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
