import { ApplicationFailure } from '@temporalio/activity';
import type { ChargeDraft } from '../domain/billing';
import { invoiceTotals } from '../domain/money';
import type { BillingMode, Charge } from '../domain/types';
import { isDuplicateKey, type Models } from '../infra/db';
import type { ActivityDeps } from './index';

/**
 * The billing ledger. The built-in one keeps charges and invoices in MongoDB; an operator's billing
 * engine replaces it by implementing the same two calls with the same idempotency keys.
 */
export interface BillingLedger {
  recordCharges(input: RecordChargesInput): Promise<Charge[]>;
  issueInvoice(input: IssueInvoiceInput): Promise<{ invoiceNumber: string; gross: number }>;
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

export class MongoLedger implements BillingLedger {
  constructor(private readonly models: Models) {}

  async recordCharges(input: RecordChargesInput): Promise<Charge[]> {
    const { Charge } = this.models;
    const createdAt = new Date().toISOString();
    for (const c of input.charges) {
      try {
        await Charge.create({ ...c, accountId: input.accountId, orderId: input.orderId, currency: input.currency, billingMode: input.billingMode, createdAt, invoiceNumber: null });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // recorded by an earlier attempt
      }
    }
    const stored = await Charge.find({ chargeKey: { $in: input.charges.map((c) => c.chargeKey) } }).lean();
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

  /**
   * Gap-free invoice numbers without transactions: an invoice is inserted with the next sequence
   * number and the unique indexes on sequence and idempotency key decide races. A number is used
   * only by an insert that succeeded, so no gaps; a retry finds its invoice by idempotency key.
   */
  async issueInvoice(input: IssueInvoiceInput): Promise<{ invoiceNumber: string; gross: number }> {
    const { Invoice, Charge } = this.models;
    let invoice = await Invoice.findOne({ idempotencyKey: input.idempotencyKey }).lean();
    for (let attempt = 0; !invoice; attempt++) {
      if (attempt > 50) throw new Error('invoice numbering contended too long; will retry');
      const charges = await Charge.find({ chargeKey: { $in: input.chargeKeys }, accountId: input.accountId }).lean();
      if (charges.length !== input.chargeKeys.length) {
        throw ApplicationFailure.nonRetryable(`invoice ${input.idempotencyKey}: some charges do not exist on account ${input.accountId}`, 'VALIDATION_FAILED');
      }
      const last = await Invoice.findOne({}, { sequence: 1 }).sort({ sequence: -1 }).lean();
      const sequence = (last?.sequence ?? 0) + 1;
      const totals = invoiceTotals(charges.map((c) => ({ amount: c.amount, tax: c.tax })));
      try {
        await Invoice.create({
          invoiceNumber: `INV-${String(sequence).padStart(8, '0')}`,
          sequence,
          idempotencyKey: input.idempotencyKey,
          accountId: input.accountId,
          kind: input.kind,
          issuedAt: new Date().toISOString(),
          currency: charges[0]?.currency ?? 'GBP',
          chargeKeys: input.chargeKeys,
          net: totals.net,
          tax: totals.tax,
          gross: totals.gross,
        });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // lost the race for this number, or our key exists: look again
      }
      invoice = await Invoice.findOne({ idempotencyKey: input.idempotencyKey }).lean();
    }
    // Charges point at their invoice; repeated after a crash, this converges.
    await Charge.updateMany({ chargeKey: { $in: invoice.chargeKeys }, invoiceNumber: null }, { $set: { invoiceNumber: invoice.invoiceNumber } });
    return { invoiceNumber: invoice.invoiceNumber, gross: invoice.gross ?? 0 };
  }
}

export function billingActivities({ db }: ActivityDeps) {
  const ledger: BillingLedger = new MongoLedger(db.models);
  return {
    recordCharges: (input: RecordChargesInput) => ledger.recordCharges(input),
    issueInvoice: (input: IssueInvoiceInput) => ledger.issueInvoice(input),
  };
}
