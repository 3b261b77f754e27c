import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billCutOff, billDateForScheduledRun, chargesForOrder, cycleDayOf, invoiceSummary, isBillDate } from '../../domain/billing';
import { licenceChargeKey, licenceFate, licencesToRevoke } from '../../domain/licences';
import { lineAmounts } from '../../domain/money';
import { applyDispatchRows, type OrderState } from '../../domain/order-state';
import type { DispatchRow, Product } from '../../domain/types';
import { orderSentToOneWarehouse, testProduct } from '../support/domain-fixtures';

const product = (sku: string, unitPrice: number, taxRateBps = 2000, kind: Product['kind'] = 'peripheral') => testProduct({ sku, unitPrice, taxRateBps, kind });

const sentOrder = (lines: { p: Product; quantity: number }[]) => orderSentToOneWarehouse(lines, { orderId: 'ORD-T1', createdAt: '2025-01-01T00:00:00.000Z' });

let rowNumber = 0;
const row = (
  lineNumber: number,
  sku: string,
  disposition: DispatchRow['disposition'],
  quantityShipped: number,
  extra: Partial<DispatchRow> = {},
): DispatchRow => ({
  rowNumber: ++rowNumber,
  warehouseId: 'WH-A',
  subOrderNumber: 'ORD-T1-WH-A',
  lineNumber,
  sku,
  quantityShipped,
  disposition,
  ...(quantityShipped > 0 ? { shipDate: '2025-01-02' } : {}),
  ...extra,
});

const CASE = product('CASE', 1499);
const CHARGER = product('CHARGER', 1900);
const LICENCE = product('SW-1Y', 3600, 2000, 'softwareLicence');

describe('chargesForOrder: the customer pays for exactly what they received', () => {
  it('charges a partial shipment and the final one separately, each keyed by its dispatch batch', () => {
    const order = sentOrder([{ p: CASE, quantity: 3 }]);
    applyDispatchRows(order, 'batch-1', [row(1, 'CASE', 'partial', 1, { errorCode: 'BACKORDER' })]);
    expect(chargesForOrder(order)).toEqual([
      {
        chargeKey: 'ORD-T1:1:batch-1',
        lineNumber: 1,
        sku: 'CASE',
        description: 'CASE name',
        quantity: 1,
        unitPrice: 1499,
        taxRateBps: 2000,
        amount: 1499,
        tax: 300,
      },
    ]);
    applyDispatchRows(order, 'batch-2', [row(1, 'CASE', 'shipped', 2)]);
    const charges = chargesForOrder(order);
    expect(charges.map((c) => [c.chargeKey, c.quantity, c.amount, c.tax])).toEqual([
      ['ORD-T1:1:batch-1', 1, 1499, 300],
      ['ORD-T1:1:batch-2', 2, 2998, 600],
    ]);
    // The same batch applied again (a redelivered signal) changes nothing.
    applyDispatchRows(order, 'batch-2', [{ ...row(1, 'CASE', 'shipped', 2), rowNumber: rowNumber }]);
    expect(chargesForOrder(order)).toEqual(charges);
  });

  it('sums the unit rows of one line in one batch into one charge', () => {
    const order = sentOrder([{ p: CASE, quantity: 3 }]);
    applyDispatchRows(order, 'b', [row(1, 'CASE', 'shipped', 1), row(1, 'CASE', 'shipped', 1), row(1, 'CASE', 'shipped', 1)]);
    expect(chargesForOrder(order)).toEqual([
      expect.objectContaining({ chargeKey: 'ORD-T1:1:b', quantity: 3, amount: 4497, tax: lineAmounts(1499, 3, 2000).tax }),
    ]);
  });

  it('an order that errors after some units shipped is charged for exactly those units', () => {
    const order = sentOrder([
      { p: CASE, quantity: 2 },
      { p: CHARGER, quantity: 1 },
    ]);
    applyDispatchRows(order, 'b', [
      row(1, 'CASE', 'partial', 1),
      row(1, 'CASE', 'error', 0, { errorCode: 'PICK_FAILED' }),
      row(2, 'CHARGER', 'error', 0, { errorCode: 'PICK_FAILED' }),
    ]);
    expect(order.subOrders[0].status).toBe('Error');
    expect(chargesForOrder(order).map((c) => [c.lineNumber, c.quantity])).toEqual([[1, 1]]);
  });

  it('charges nothing when nothing shipped (errored, out of stock, cancelled lines)', () => {
    const order = sentOrder([
      { p: CASE, quantity: 2 },
      { p: CHARGER, quantity: 1 },
    ]);
    applyDispatchRows(order, 'b', [row(1, 'CASE', 'outOfStock', 0), row(2, 'CHARGER', 'cancelled', 0)]);
    expect(chargesForOrder(order)).toEqual([]);
  });

  it('charges licences once per licence line once the order delivered, next to what shipped', () => {
    const order = sentOrder([
      { p: LICENCE, quantity: 2 },
      { p: CHARGER, quantity: 1 },
    ]);
    order.licences = [{ lineNumber: 1, keys: ['K1', 'K2'] }];
    applyDispatchRows(order, 'b', [row(2, 'CHARGER', 'shipped', 1)]);
    order.status = 'Complete';
    expect(chargesForOrder(order)).toEqual([
      {
        chargeKey: 'ORD-T1:1:licence',
        lineNumber: 1,
        sku: 'SW-1Y',
        description: 'SW-1Y name',
        quantity: 2,
        unitPrice: 3600,
        taxRateBps: 2000,
        amount: 7200,
        tax: 1440,
      },
      {
        chargeKey: 'ORD-T1:2:b',
        lineNumber: 2,
        sku: 'CHARGER',
        description: 'CHARGER name',
        quantity: 1,
        unitPrice: 1900,
        taxRateBps: 2000,
        amount: 1900,
        tax: 380,
      },
    ]);
  });
});

const charge = (unitPrice: number, quantity: number, taxRateBps: number) => ({
  taxRateBps,
  ...(({ net, tax }) => ({ amount: net, tax }))(lineAmounts(unitPrice, quantity, taxRateBps)),
});

describe('licences and money agree: a licence is charged only once the order delivers, else revoked', () => {
  const licenceOrder = (status: OrderState['status'], shipped: boolean) => {
    const order = sentOrder([
      { p: LICENCE, quantity: 2 },
      { p: CHARGER, quantity: 1 },
    ]);
    order.licences = [{ lineNumber: 1, keys: ['K1', 'K2'] }];
    if (shipped) applyDispatchRows(order, 'b', [row(2, 'CHARGER', 'shipped', 1)]);
    order.status = status;
    return order;
  };
  const licenceCharges = (order: OrderState) => chargesForOrder(order).filter((c) => c.chargeKey.endsWith(':licence'));

  it('decides per status and shipment: charge, revoke, or hold until ops resolve an Error', () => {
    const closed = { by: 'ops:o', reason: 'rejected', at: '2025-01-03T00:00:00.000Z' };
    const cases: [OrderState['status'], boolean, OrderState['errorResolution'], string][] = [
      ['Complete', true, null, 'charge'],
      ['Error', true, null, 'charge'],
      ['Error', true, { openUntil: '2025-02-01T00:00:00.000Z', closed }, 'charge'],
      ['Cancelled', false, null, 'revoke'],
      ['Error', false, { openUntil: '2025-02-01T00:00:00.000Z', closed }, 'revoke'],
      ['Error', false, null, 'hold'],
      ['Error', false, { openUntil: '2025-02-01T00:00:00.000Z', closed: null }, 'hold'],
      ['AwaitingDispatch', true, null, 'hold'],
      ['AwaitingGeneration', false, null, 'hold'],
    ];
    for (const [status, shipped, errorResolution, fate] of cases) {
      const order = { ...licenceOrder(status, shipped), errorResolution };
      expect(licenceFate(order), `${status} shipped=${shipped} closed=${!!errorResolution?.closed}`).toBe(fate);
      expect(licenceCharges(order), `${status} shipped=${shipped}`).toHaveLength(fate === 'charge' ? 1 : 0);
      expect(licencesToRevoke(order).map((l) => l.lineNumber)).toEqual(fate === 'revoke' ? [1] : []);
    }
  });

  it('a cancelled order: its licences are revoked and never charged; once revoked, nothing is left to revoke', () => {
    const order = licenceOrder('Cancelled', false);
    expect(chargesForOrder(order)).toEqual([]);
    expect(licencesToRevoke(order)).toEqual([{ lineNumber: 1, keys: ['K1', 'K2'] }]);
    order.licences[0].revokedAt = '2025-01-03T00:00:00.000Z';
    expect(licencesToRevoke(order)).toEqual([]);
    // Revoked keys are never charged, whatever the order does next.
    expect(licenceCharges({ ...order, status: 'Complete' })).toEqual([]);
  });

  it('a licence already charged (an Error order billed for what shipped, resubmitted, then cancelled) is not revoked', () => {
    const order = licenceOrder('Cancelled', false);
    order.charges = [{ ...chargesForOrder(licenceOrder('Complete', true))[0], invoiceNumber: null }];
    expect(order.charges[0].chargeKey).toBe(licenceChargeKey('ORD-T1', 1));
    expect(licencesToRevoke(order)).toEqual([]);
  });
});

describe('invoice arithmetic', () => {
  it('rounds tax on each line, so many small lines add up to more than tax on their total', () => {
    const lines = Array.from({ length: 1000 }, () => charge(333, 1, 2000)); // 66.6p tax each -> 67p
    const { taxByRate, totals } = invoiceSummary(lines);
    expect(totals).toEqual({ net: 333_000, tax: 67_000, gross: 400_000 });
    expect(taxByRate).toEqual([{ taxRateBps: 2000, net: 333_000, tax: 67_000, gross: 400_000 }]);
  });

  it('rounds half up and truncates below the half', () => {
    expect(charge(25, 1, 2000)).toEqual({ taxRateBps: 2000, amount: 25, tax: 5 });
    expect(charge(1, 1, 5000)).toEqual({ taxRateBps: 5000, amount: 1, tax: 1 }); // 0.5p -> 1p
    expect(charge(7, 1, 500)).toEqual({ taxRateBps: 500, amount: 7, tax: 0 }); // 0.35p -> 0p
    expect(charge(9, 1, 500)).toEqual({ taxRateBps: 500, amount: 9, tax: 0 }); // 0.45p -> 0p
    expect(charge(10, 1, 500)).toEqual({ taxRateBps: 500, amount: 10, tax: 1 }); // 0.5p -> 1p
  });

  it('analyses mixed tax rates by rate, ascending, and the analysis sums to the totals', () => {
    const lines = [charge(79900, 1, 2000), charge(1250, 3, 500), charge(999, 2, 0), charge(1499, 1, 2000), charge(333, 7, 500)];
    const { taxByRate, totals } = invoiceSummary(lines);
    expect(taxByRate).toEqual([
      { taxRateBps: 0, net: 1998, tax: 0, gross: 1998 },
      { taxRateBps: 500, net: 3750 + 2331, tax: 188 + 117, gross: 3750 + 2331 + 188 + 117 },
      { taxRateBps: 2000, net: 81399, tax: 15980 + 300, gross: 81399 + 16280 },
    ]);
    expect(totals).toEqual({ net: 1998 + 6081 + 81399, tax: 305 + 16280, gross: 1998 + 6081 + 81399 + 305 + 16280 });
  });

  it('keeps zero-value lines on the invoice without changing the totals', () => {
    const paid = [charge(1900, 1, 2000)];
    const withFree = [...paid, charge(0, 5, 2000), charge(0, 1, 0)];
    expect(invoiceSummary(withFree).totals).toEqual(invoiceSummary(paid).totals);
    expect(invoiceSummary(withFree).taxByRate).toEqual([
      { taxRateBps: 0, net: 0, tax: 0, gross: 0 },
      { taxRateBps: 2000, net: 1900, tax: 380, gross: 2280 },
    ]);
    expect(invoiceSummary([])).toEqual({ taxByRate: [], totals: { net: 0, tax: 0, gross: 0 } });
  });

  it('always: the tax analysis sums exactly to the totals, gross = net + tax', () => {
    const line = fc.record({
      unitPrice: fc.integer({ min: 0, max: 5_000_000 }),
      quantity: fc.integer({ min: 0, max: 999 }),
      rate: fc.constantFrom(0, 500, 1750, 2000, 2500),
    });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 200 }), (ls) => {
        const { taxByRate, totals } = invoiceSummary(ls.map((l) => charge(l.unitPrice, l.quantity, l.rate)));
        expect(taxByRate.reduce((s, t) => s + t.net, 0)).toBe(totals.net);
        expect(taxByRate.reduce((s, t) => s + t.tax, 0)).toBe(totals.tax);
        expect(totals.gross).toBe(totals.net + totals.tax);
        expect(taxByRate.map((t) => t.taxRateBps)).toEqual([...new Set(ls.map((l) => l.rate))].sort((a, b) => a - b));
      }),
    );
  });
});

describe('bill dates', () => {
  it('a scheduled run bills the UTC day that ended last before its scheduled time', () => {
    expect(billDateForScheduledRun(new Date('2025-03-16T02:00:00Z'))).toBe('2025-03-15');
    expect(billDateForScheduledRun(new Date('2025-03-01T02:00:00Z'))).toBe('2025-02-28');
    expect(billDateForScheduledRun(new Date('2024-03-01T02:00:00Z'))).toBe('2024-02-29');
    expect(billDateForScheduledRun(new Date('2025-01-01T00:00:00Z'))).toBe('2024-12-31');
  });

  it('the cut-off is the last instant of the date and orders correctly against charge timestamps', () => {
    expect(billCutOff('2025-03-15')).toBe('2025-03-15T23:59:59.999Z');
    expect('2025-03-15T23:59:59.998Z' <= billCutOff('2025-03-15')).toBe(true);
    expect('2025-03-16T00:00:00.000Z' <= billCutOff('2025-03-15')).toBe(false);
  });

  it('the cycle day is the day of the month; only real dates are bill dates', () => {
    expect(cycleDayOf('2025-03-15')).toBe(15);
    expect(cycleDayOf('2025-03-01')).toBe(1);
    expect(isBillDate('2024-02-29')).toBe(true);
    expect(isBillDate('2025-02-29')).toBe(false);
    expect(isBillDate('2025-3-1')).toBe(false);
  });
});
