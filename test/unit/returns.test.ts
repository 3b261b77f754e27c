import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chargesForOrder } from '../../domain/billing';
import { DomainError } from '../../domain/errors';
import { applyDispatchRows, type OrderState } from '../../domain/order-state';
import {
  checkBalance,
  checkReturn,
  creditChargeKey,
  creditForReturn,
  creditForUnit,
  creditNoteNumberOf,
  restockingFeeBps,
  returnDeadline,
  returnableUnits,
  rmaNumberOf,
  unitTaxShare,
  type LedgerCharge,
  type LedgerDocument,
  type ReturnWindows,
} from '../../domain/returns';
import type { DispatchRow, Product } from '../../domain/types';
import { orderSentToOneWarehouse, testProduct } from '../support/domain-fixtures';

const DAY = 86_400_000;
const WINDOWS: ReturnWindows = { unwantedMs: 14 * DAY, faultyMs: 365 * DAY };

const product = (sku: string, unitPrice: number, capture: Product['capture'], kind: Product['kind'] = 'handset', taxRateBps = 2000) =>
  testProduct({ sku, unitPrice, capture, kind, taxRateBps });

const PHONE = product('PHONE', 18900, 'imei');
const CHEAP = product('CHEAP', 33, 'serial', 'peripheral');
const CASE = product('CASE', 1499, 'none', 'peripheral');
const LICENCE = product('SW-1Y', 3600, 'none', 'softwareLicence');

let rowNumber = 0;
function shippedOrder(lines: { p: Product; quantity: number }[], shipDate = '2025-03-01'): OrderState {
  const order = orderSentToOneWarehouse(lines, { orderId: 'ORD-R1', createdAt: '2025-03-01T09:00:00.000Z' });
  order.history.push({ from: 'AwaitingGeneration', to: 'AwaitingDispatch', at: '2025-03-01T09:05:00.000Z', by: 'system', reason: 'sent' });
  const rows: DispatchRow[] = [];
  for (const l of order.lines) {
    if (l.kind === 'softwareLicence') {
      order.licences.push({ lineNumber: l.lineNumber, keys: Array.from({ length: l.quantity }, (_, i) => `LIC-${l.lineNumber}-${i + 1}`) });
      continue;
    }
    const base = { warehouseId: 'WH-A', subOrderNumber: 'ORD-R1-WH-A', lineNumber: l.lineNumber, sku: l.sku, disposition: 'shipped' as const, shipDate };
    if (l.capture === 'none') rows.push({ ...base, rowNumber: ++rowNumber, quantityShipped: l.quantity });
    else
      for (let u = 0; u < l.quantity; u++) {
        rows.push({
          ...base,
          rowNumber: ++rowNumber,
          quantityShipped: 1,
          serialNumber: `SN-${l.lineNumber}-${u + 1}`,
          ...(l.capture === 'imei' ? { imei: `IMEI-${l.lineNumber}-${u + 1}` } : {}),
        });
      }
  }
  applyDispatchRows(order, 'batch-1', rows);
  // Delivered: its licences are charged (domain/licences.ts) as well as its shipped units.
  order.status = 'Complete';
  order.charges = chargesForOrder(order).map((c) => ({ ...c, invoiceNumber: 'INV-00000001' }));
  return order;
}

function refusal(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('numbers and ids', () => {
  it('pads RMA and credit note numbers to eight digits', () => {
    expect(rmaNumberOf(1)).toBe('RMA-00000001');
    expect(creditNoteNumberOf(42)).toBe('CN-00000042');
    expect(creditChargeKey('ORD-1', '356')).toBe('ORD-1:credit:356');
  });
});

describe('returnableUnits', () => {
  it('lists each charged device by IMEI and each licence key, placed in its charge; bulk units without a name are left out', () => {
    const order = shippedOrder([
      { p: PHONE, quantity: 2 },
      { p: CASE, quantity: 3 },
      { p: LICENCE, quantity: 2 },
    ]);
    const units = returnableUnits(order);
    expect(units.map((u) => [u.unitId, u.kind, u.chargeKey, u.place, u.chargeQuantity, u.shipDate, u.invoiceNumber])).toEqual([
      ['IMEI-1-1', 'device', 'ORD-R1:1:batch-1', 1, 2, '2025-03-01', 'INV-00000001'],
      ['IMEI-1-2', 'device', 'ORD-R1:1:batch-1', 2, 2, '2025-03-01', 'INV-00000001'],
      ['LIC-3-1', 'licence', 'ORD-R1:3:licence', 1, 2, '2025-03-01', 'INV-00000001'],
      ['LIC-3-2', 'licence', 'ORD-R1:3:licence', 2, 2, '2025-03-01', 'INV-00000001'],
    ]);
    expect(units[0]).toMatchObject({ serialNumber: 'SN-1-1', warehouseId: 'WH-A', subOrderNumber: 'ORD-R1-WH-A', unitPrice: 18900 });
  });

  it('leaves out units not charged yet', () => {
    const order = shippedOrder([{ p: PHONE, quantity: 1 }]);
    order.charges = [];
    expect(returnableUnits(order)).toEqual([]);
  });
});

describe('checkReturn: the return rules', () => {
  const order = shippedOrder([
    { p: PHONE, quantity: 2 },
    { p: LICENCE, quantity: 1 },
  ]);
  const now = '2025-03-10T12:00:00.000Z';
  const ask = (units: string[], reason: 'faulty' | 'unwanted' | 'wrongItem' | 'damagedInTransit' = 'unwanted', exchange = false) => ({
    units,
    reason,
    exchange,
  });

  it('finds units by IMEI, serial number or licence key', () => {
    const got = checkReturn(order, ask(['IMEI-1-1', 'SN-1-2', 'LIC-2-1']), new Set(), now, WINDOWS);
    expect(got.map((u) => u.unitId)).toEqual(['IMEI-1-1', 'IMEI-1-2', 'LIC-2-1']);
  });

  it('refuses a unit not on the order, with its code and the unit', () => {
    const e = refusal(() => checkReturn(order, ask(['IMEI-9']), new Set(), now, WINDOWS));
    expect(e.code).toBe('UNIT_NOT_RETURNABLE');
    expect(e.details).toEqual({ units: ['IMEI-9'] });
  });

  it('refuses a unit already held by a return (a unit is returned once)', () => {
    const e = refusal(() => checkReturn(order, ask(['SN-1-1']), new Set(['IMEI-1-1']), now, WINDOWS));
    expect(e.code).toBe('UNIT_ALREADY_RETURNED');
    expect(e.details).toEqual({ units: ['IMEI-1-1'] });
  });

  it('refuses a unit named twice in one request', () => {
    expect(refusal(() => checkReturn(order, ask(['IMEI-1-1', 'SN-1-1']), new Set(), now, WINDOWS)).code).toBe('VALIDATION_FAILED');
  });

  it('refuses an empty request and an unknown reason', () => {
    expect(refusal(() => checkReturn(order, ask([]), new Set(), now, WINDOWS)).code).toBe('VALIDATION_FAILED');
    expect(refusal(() => checkReturn(order, { units: ['IMEI-1-1'], reason: 'bored' as never, exchange: false }, new Set(), now, WINDOWS)).code).toBe(
      'VALIDATION_FAILED',
    );
  });

  it('unwanted: within 14 days of the ship date (from 00:00 UTC that day), not after', () => {
    expect(returnDeadline('2025-03-01', 'unwanted', WINDOWS)).toBe('2025-03-15T00:00:00.000Z');
    expect(checkReturn(order, ask(['IMEI-1-1']), new Set(), '2025-03-14T23:59:59.999Z', WINDOWS)).toHaveLength(1);
    expect(checkReturn(order, ask(['IMEI-1-1']), new Set(), '2025-03-15T00:00:00.000Z', WINDOWS)).toHaveLength(1);
    const e = refusal(() => checkReturn(order, ask(['IMEI-1-1']), new Set(), '2025-03-15T00:00:00.001Z', WINDOWS));
    expect(e.code).toBe('RETURN_WINDOW_CLOSED');
    expect(e.details).toEqual({ units: [{ unitId: 'IMEI-1-1', shipDate: '2025-03-01', deadline: '2025-03-15T00:00:00.000Z' }] });
  });

  it('faulty, wrongItem and damagedInTransit: within the faulty window (365 days)', () => {
    const later = '2025-12-01T00:00:00.000Z';
    for (const reason of ['faulty', 'wrongItem', 'damagedInTransit'] as const) {
      expect(checkReturn(order, ask(['IMEI-1-1'], reason), new Set(), later, WINDOWS)).toHaveLength(1);
      expect(refusal(() => checkReturn(order, ask(['IMEI-1-1'], reason), new Set(), '2026-03-02T00:00:00.000Z', WINDOWS)).code).toBe('RETURN_WINDOW_CLOSED');
    }
    expect(refusal(() => checkReturn(order, ask(['IMEI-1-1'], 'unwanted'), new Set(), later, WINDOWS)).code).toBe('RETURN_WINDOW_CLOSED');
  });

  it('an exchange only for faulty or wrongItem', () => {
    expect(checkReturn(order, ask(['IMEI-1-1'], 'faulty', true), new Set(), now, WINDOWS)).toHaveLength(1);
    expect(checkReturn(order, ask(['IMEI-1-1'], 'wrongItem', true), new Set(), now, WINDOWS)).toHaveLength(1);
    expect(refusal(() => checkReturn(order, ask(['IMEI-1-1'], 'unwanted', true), new Set(), now, WINDOWS)).code).toBe('EXCHANGE_NOT_ALLOWED');
    expect(refusal(() => checkReturn(order, ask(['IMEI-1-1'], 'damagedInTransit', true), new Set(), now, WINDOWS)).code).toBe('EXCHANGE_NOT_ALLOWED');
  });
});

describe('credit: captured price and tax per unit, restocking fee for unwanted only', () => {
  const unit = (over: Partial<Parameters<typeof creditForUnit>[0]> = {}) => ({
    unitId: 'U1',
    kind: 'device' as const,
    lineNumber: 1,
    sku: 'PHONE',
    description: 'PHONE name',
    chargeKey: 'ORD-R1:1:batch-1',
    invoiceNumber: 'INV-00000001',
    unitPrice: 18900,
    taxRateBps: 2000,
    place: 1,
    chargeQuantity: 1,
    chargeTax: 3780,
    ...over,
  });

  it('credits the unit price and its tax', () => {
    expect(creditForUnit(unit(), 'faulty', 0)).toMatchObject({ amount: 18900, tax: 3780, restockingFee: 0, invoiceNumber: 'INV-00000001' });
  });

  it("splits a charge's rounded tax between its units so they add up to it exactly", () => {
    // 3 units at 33p, 20%: the charge's tax is round(19.8) = 20p; 6.6p each would round to 7p (21p).
    const shares = [1, 2, 3].map((place) => unitTaxShare(20, place, 3));
    expect(shares).toEqual([7, 6, 7]);
    expect(shares.reduce((a, b) => a + b)).toBe(20);
  });

  it('keeps RESTOCKING_FEE_PERCENT of an unwanted unit, and the tax on it; never of a faulty one', () => {
    const fee = restockingFeeBps(10);
    expect(fee).toBe(1000);
    expect(creditForUnit(unit(), 'unwanted', fee)).toMatchObject({ amount: 17010, tax: 3402, restockingFee: 1890 });
    expect(creditForUnit(unit(), 'faulty', fee)).toMatchObject({ amount: 18900, tax: 3780, restockingFee: 0 });
    expect(creditForUnit(unit(), 'wrongItem', fee)).toMatchObject({ restockingFee: 0 });
    expect(creditForUnit(unit(), 'damagedInTransit', fee)).toMatchObject({ restockingFee: 0 });
  });

  it('rounds the fee half up, and a 100% fee credits nothing', () => {
    // 12.5% of 1499 = 187.375 → 187; 15% of 1499 = 224.85 → 225.
    expect(creditForUnit(unit({ unitPrice: 1499, chargeTax: 300 }), 'unwanted', restockingFeeBps(12.5)).restockingFee).toBe(187);
    expect(creditForUnit(unit({ unitPrice: 1499, chargeTax: 300 }), 'unwanted', restockingFeeBps(15)).restockingFee).toBe(225);
    expect(creditForUnit(unit(), 'unwanted', restockingFeeBps(100))).toMatchObject({ amount: 0, tax: 0, restockingFee: 18900 });
  });

  it('credits a zero-priced unit (an exchange replacement) nothing', () => {
    expect(creditForUnit(unit({ unitPrice: 0, chargeTax: 0 }), 'faulty', 0)).toMatchObject({ amount: 0, tax: 0 });
  });

  it('totals a return over its lines', () => {
    const order = shippedOrder([{ p: CHEAP, quantity: 3 }]);
    const units = returnableUnits(order);
    const { lines, totals } = creditForReturn(units, 'faulty', 0);
    expect(lines.map((l) => l.tax)).toEqual([7, 6, 7]);
    expect(totals).toEqual({ net: 99, tax: 20, gross: 119 });
    expect(totals.tax).toBe(order.charges[0].tax);
  });

  it('property: credits never exceed the charge, per charge and per unit, for any prices, quantities, fees and returned subsets', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5_000_000 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 0, max: 2500 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom('faulty', 'unwanted', 'wrongItem', 'damagedInTransit' as const),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (unitPrice, quantity, taxRateBps, feeBps, reason, picks) => {
          const p = product('P', unitPrice, 'serial', 'peripheral', taxRateBps);
          const order = shippedOrder([{ p, quantity }]);
          const [charge] = order.charges;
          const units = returnableUnits(order);
          const all = creditForReturn(units, reason, feeBps);
          // Every unit returned, no fee: exactly the charge.
          if (reason !== 'unwanted' || feeBps === 0) expect(all.totals).toEqual({ net: charge.amount, tax: charge.tax, gross: charge.amount + charge.tax });
          const some = creditForReturn(
            units.filter((_, i) => picks[i]),
            reason,
            feeBps,
          );
          expect(some.totals.net).toBeLessThanOrEqual(charge.amount);
          expect(some.totals.tax).toBeLessThanOrEqual(charge.tax);
          for (const l of some.lines) {
            expect(l.amount).toBeGreaterThanOrEqual(0);
            expect(l.tax).toBeGreaterThanOrEqual(0);
            expect(l.amount + l.restockingFee).toBe(unitPrice);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('checkBalance: charges − credits = invoiced amounts; every shipped unit charged once', () => {
  const charges: LedgerCharge[] = [
    { chargeKey: 'O1:1:b1', orderId: 'O1', quantity: 2, amount: 2000, tax: 400, invoiceNumber: 'INV-1' },
    { chargeKey: 'O2:1:b2', orderId: 'O2', quantity: 1, amount: 1000, tax: 200, invoiceNumber: null },
  ];
  const invoices: LedgerDocument[] = [{ number: 'INV-1', chargeKeys: ['O1:1:b1'], gross: 2400 }];
  const units = [
    { orderId: 'O1', unitId: 'A', chargeKey: 'O1:1:b1', returned: false },
    { orderId: 'O1', unitId: 'B', chargeKey: 'O1:1:b1', returned: true },
    { orderId: 'O2', unitId: 'C', chargeKey: 'O2:1:b2', returned: true },
  ];
  const creditNotes: LedgerDocument[] = [{ number: 'CN-1', lines: [{ unitId: 'B', chargeKey: 'O1:1:b1', amount: 1000, tax: 200 }], gross: 1200 }];
  const creditLine: LedgerCharge = { chargeKey: 'O2:credit:C', orderId: 'O2', quantity: 1, amount: -1000, tax: -200, invoiceNumber: null };

  it('holds for invoices, a credit note and a pending credit line', () => {
    const r = checkBalance({ charges: [...charges, creditLine], invoices, creditNotes, units });
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, charged: 3600, credited: 2400, invoiced: 2400, creditNotes: 1200, pending: 0 });
  });

  it('finds a unit credited twice, a charge over-credited and a returned unit not credited', () => {
    const twice = [...creditNotes, { number: 'CN-2', lines: [{ unitId: 'B', chargeKey: 'O1:1:b1', amount: 1000, tax: 200 }], gross: 1200 }];
    const r = checkBalance({ charges: [...charges, creditLine], invoices, creditNotes: twice, units });
    expect(r.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['UNIT_CREDITED_TWICE']));
    const none = checkBalance({ charges, invoices, creditNotes: [], units });
    expect(none.problems.map((p) => p.code)).toEqual(['RETURNED_UNIT_NOT_CREDITED', 'RETURNED_UNIT_NOT_CREDITED']);
  });

  it('finds an invoice that does not add up, an uncharged unit and a unit credited without a return', () => {
    const r = checkBalance({
      charges: [...charges, creditLine],
      invoices: [{ number: 'INV-1', chargeKeys: ['O1:1:b1'], gross: 2500 }],
      creditNotes,
      units: [...units.map((u) => (u.unitId === 'B' ? { ...u, returned: false } : u)), { orderId: 'O3', unitId: 'D', chargeKey: null, returned: false }],
    });
    expect(r.problems.map((p) => p.code).sort()).toEqual(['BALANCE_MISMATCH', 'INVOICE_TOTAL_MISMATCH', 'UNIT_NOT_CHARGED', 'UNRETURNED_UNIT_CREDITED']);
  });

  it('property: for random shipments and returns credited by the rules, the balance check holds', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            unitPrice: fc.integer({ min: 1, max: 100_000 }),
            quantity: fc.integer({ min: 1, max: 6 }),
            taxRateBps: fc.integer({ min: 0, max: 2500 }),
            returned: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
            deferred: fc.boolean(),
            reason: fc.constantFrom('faulty', 'unwanted' as const),
          }),
          { minLength: 1, maxLength: 5 },
        ),
        fc.integer({ min: 0, max: 10_000 }),
        (orders, feeBps) => {
          const ledger: LedgerCharge[] = [];
          const invs: LedgerDocument[] = [];
          const notes: LedgerDocument[] = [];
          const shipped: { orderId: string; unitId: string; chargeKey: string; returned: boolean }[] = [];
          orders.forEach((o, i) => {
            const order = shippedOrder([{ p: product('P', o.unitPrice, 'serial', 'peripheral', o.taxRateBps), quantity: o.quantity }]);
            const orderId = `O${i}`;
            const units = returnableUnits({ ...order, orderId: 'ORD-R1' });
            const [c] = order.charges;
            const chargeKey = `${orderId}:1:b`;
            ledger.push({ chargeKey, orderId, quantity: c.quantity, amount: c.amount, tax: c.tax, invoiceNumber: `INV-${i}` });
            invs.push({ number: `INV-${i}`, chargeKeys: [chargeKey], gross: c.amount + c.tax });
            const back = units.filter((_, k) => o.returned[k]);
            for (const [k, u] of units.entries()) shipped.push({ orderId, unitId: u.unitId, chargeKey, returned: o.returned[k] });
            if (!back.length) return;
            const credit = creditForReturn(
              back.map((u) => ({ ...u, chargeKey })),
              o.reason,
              feeBps,
            );
            if (o.deferred)
              for (const l of credit.lines)
                ledger.push({ chargeKey: creditChargeKey(orderId, l.unitId), orderId, quantity: 1, amount: -l.amount, tax: -l.tax, invoiceNumber: null });
            else notes.push({ number: `CN-${i}`, lines: credit.lines, gross: credit.totals.gross });
          });
          const r = checkBalance({ charges: ledger, invoices: invs, creditNotes: notes, units: shipped });
          expect(r.problems).toEqual([]);
          expect(r.credited).toBeLessThanOrEqual(r.charged);
        },
      ),
      { numRuns: 200 },
    );
  });
});
