// The balance check of one account (GET /api/v1/accounts/{id}/balance-check, and the tests' helper):
// reads the account's ledger and its billed orders, and lets the pure check (domain/returns.ts
// checkBalance) say whether charges − credits equal the invoiced amounts and every shipped,
// unreturned unit is charged exactly once. An ops check: it reads the account's documents with
// filters FerretDB does not push down (a scan there), never on an order's path.
import { licenceChargeKey, licenceFate } from '../domain/licences';
import { checkBalance, type BalanceCheck, type LedgerDocument, type ShippedUnit, type ReturnView } from '../domain/returns';
import type { OrderView } from '../workflows/messages';
import type { Db } from './db';

/** Orders in these states were billed for what they shipped. */
const BILLED = new Set(['Complete', 'Error', 'Cancelled']);

export async function accountBalanceCheck(db: Pick<Db, 'models'>, accountId: string): Promise<BalanceCheck & { accountId: string }> {
  const { Charge, Invoice, CreditNote, OrderView: Orders, Return, Licence } = db.models;
  const [charges, invoices, notes, orders, returns] = await Promise.all([
    Charge.find({ accountId }).lean(),
    Invoice.find({ accountId }).lean(),
    CreditNote.find({ accountId }).lean(),
    Orders.find({ accountId }, { state: 1 }).lean(),
    Return.find({ accountId }).lean<ReturnView[]>(),
  ]);
  const returned = new Set(returns.flatMap((r) => r.units.filter((u) => u.received).map((u) => `${r.orderId}:${u.unitId}`)));
  const units: ShippedUnit[] = [];
  for (const doc of orders) {
    const order = doc.state as OrderView;
    if (!BILLED.has(order.status)) continue;
    for (const sub of order.subOrders) {
      const round = sub.resubmission ? `:R${sub.resubmission}` : '';
      for (const u of sub.units) {
        const unitId = u.imei ?? u.serialNumber ?? u.rowKey;
        units.push({
          orderId: order.orderId,
          unitId,
          chargeKey: `${order.orderId}:${u.lineNumber}:${u.batchId}${round}`,
          returned: returned.has(`${order.orderId}:${unitId}`),
          quantity: u.quantity,
        });
      }
    }
    // Held licences (an Error order still open for ops) are neither charged nor revoked yet.
    if (!order.licences.length || licenceFate(order) === 'hold') continue;
    // A licence revoked other than by a return (its order cancelled) was never the customer's.
    const stored = await Licence.find({ orderId: order.orderId }, { licenceKey: 1, revokedAt: 1, revokedFor: 1 }).lean();
    const neverTheCustomers = new Set(stored.filter((l) => l.revokedAt && !l.revokedFor).map((l) => l.licenceKey));
    for (const l of order.licences) {
      for (const key of l.keys) {
        if (neverTheCustomers.has(key)) continue;
        units.push({
          orderId: order.orderId,
          unitId: key,
          chargeKey: licenceChargeKey(order.orderId, l.lineNumber),
          returned: returned.has(`${order.orderId}:${key}`),
        });
      }
    }
  }
  const result = checkBalance({
    charges: charges.map((c) => ({
      chargeKey: c.chargeKey,
      orderId: c.orderId,
      quantity: c.quantity,
      amount: c.amount,
      tax: c.tax,
      invoiceNumber: c.invoiceNumber ?? null,
    })),
    invoices: invoices.map((i): LedgerDocument => ({ number: i.invoiceNumber, chargeKeys: i.chargeKeys, gross: i.gross ?? 0 })),
    creditNotes: notes.map((n): LedgerDocument => ({ number: n.creditNoteNumber, lines: n.lines as LedgerDocument['lines'], gross: n.gross })),
    units,
  });
  return { accountId, ...result };
}
