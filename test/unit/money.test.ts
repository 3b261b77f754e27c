import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatMoney, invoiceTotals, lineAmounts, orderTotals, taxOn, type PricedLine } from '../../domain/money';

const arbLine: fc.Arbitrary<PricedLine> = fc.record({
  unitPrice: fc.integer({ min: -1_000_000, max: 10_000_000 }),
  quantity: fc.integer({ min: 0, max: 1_000 }),
  taxRateBps: fc.constantFrom(0, 500, 1250, 1750, 2000, 2100, 1900, 2300, 333),
});

/** Reference tax in exact rational arithmetic: half away from zero. */
function referenceTax(net: number, bps: number): number {
  const p = BigInt(net) * BigInt(bps);
  const abs = p < 0n ? -p : p;
  const q = (abs * 2n + 10_000n) / 20_000n; // floor(abs/10000 + 1/2)
  return Number(p < 0n ? -q : q);
}

describe('lineAmounts', () => {
  it('prices a simple line', () => {
    expect(lineAmounts(999, 2, 2000)).toEqual({ net: 1998, tax: 400, gross: 2398 }); // 399.6 -> 400
    expect(lineAmounts(79_900, 1, 2000)).toEqual({ net: 79_900, tax: 15_980, gross: 95_880 });
    expect(lineAmounts(1234, 3, 0)).toEqual({ net: 3702, tax: 0, gross: 3702 });
  });

  it('a zero quantity line is worth nothing', () => {
    expect(lineAmounts(12_345, 0, 2000)).toEqual({ net: 0, tax: 0, gross: 0 });
  });

  it('rounds the half up (away from zero) and truncates below the half', () => {
    expect(lineAmounts(1, 1, 5000).tax).toBe(1); // 0.5 -> 1
    expect(lineAmounts(10, 1, 500).tax).toBe(1); // 0.5 -> 1
    expect(lineAmounts(25, 1, 1000).tax).toBe(3); // 2.5 -> 3
    expect(lineAmounts(5000, 1, 1).tax).toBe(1); // 0.5 -> 1
    expect(lineAmounts(4999, 1, 1).tax).toBe(0); // 0.4999 -> 0
    expect(lineAmounts(3, 1, 500).tax).toBe(0); // 0.15 -> 0
    expect(lineAmounts(7, 1, 2000).tax).toBe(1); // 1.4 -> 1
    expect(lineAmounts(8, 1, 2000).tax).toBe(2); // 1.6 -> 2
  });

  it('rounds negative (credit) lines symmetrically: the half goes away from zero', () => {
    expect(lineAmounts(-1, 1, 5000)).toEqual({ net: -1, tax: -1, gross: -2 });
    expect(lineAmounts(-25, 1, 1000).tax).toBe(-3);
    expect(lineAmounts(-7, 1, 2000).tax).toBe(-1);
    expect(lineAmounts(-999, 2, 2000)).toEqual({ net: -1998, tax: -400, gross: -2398 });
  });

  it('rounds tax on the line total, not per unit', () => {
    // 3 x 1p at 50%: per-unit rounding would give 3 x 1 = 3; the line's tax is round(1.5) = 2.
    expect(lineAmounts(1, 3, 5000)).toEqual({ net: 3, tax: 2, gross: 5 });
  });

  it('stays exact for large amounts where float multiplication would drift', () => {
    // 0.1 + 0.2 style drift would show here with float maths on big numbers.
    const big = 900_719_925_474; // ~9e11 minor units
    const { net, tax, gross } = lineAmounts(big, 1, 2000);
    expect(net).toBe(big);
    expect(tax).toBe(180_143_985_095); // 180143985094.8 -> ...095
    expect(gross).toBe(net + tax);
  });

  it.each([
    ['fractional unit price', () => lineAmounts(1.5, 1, 2000)],
    ['NaN unit price', () => lineAmounts(Number.NaN, 1, 2000)],
    ['infinite unit price', () => lineAmounts(Number.POSITIVE_INFINITY, 1, 2000)],
    ['unsafe unit price', () => lineAmounts(2 ** 53, 1, 2000)],
    ['negative quantity', () => lineAmounts(100, -1, 2000)],
    ['fractional quantity', () => lineAmounts(100, 0.5, 2000)],
    ['unsafe quantity', () => lineAmounts(1, Number.MAX_SAFE_INTEGER + 1, 2000)],
    ['negative tax rate', () => lineAmounts(100, 1, -1)],
    ['fractional tax rate', () => lineAmounts(100, 1, 12.5)],
    ['net overflowing the safe range', () => lineAmounts(Number.MAX_SAFE_INTEGER, 2, 0)],
    ['gross overflowing the safe range', () => lineAmounts(Number.MAX_SAFE_INTEGER, 1, 2000)],
  ])('throws a RangeError for %s', (_name, call) => {
    expect(call).toThrow(RangeError);
  });

  it('property: net = price x quantity, tax matches exact half-up rounding, gross = net + tax', () => {
    fc.assert(
      fc.property(arbLine, ({ unitPrice, quantity, taxRateBps }) => {
        const a = lineAmounts(unitPrice, quantity, taxRateBps);
        expect(a.net).toBe(unitPrice * quantity + 0); // + 0: the domain never returns -0
        expect(a.tax).toBe(referenceTax(a.net, taxRateBps));
        expect(a.gross).toBe(a.net + a.tax);
        expect(Number.isSafeInteger(a.tax)).toBe(true);
        // Rounding error is at most half a minor unit.
        expect(Math.abs(a.tax * 10_000 - a.net * taxRateBps)).toBeLessThanOrEqual(5_000);
      }),
    );
  });

  it('property: a credit line mirrors the debit line exactly', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 10_000 }), (price, qty, bps) => {
        const debit = lineAmounts(price, qty, bps);
        const credit = lineAmounts(-price, qty, bps);
        expect(credit.net).toBe(-debit.net || 0);
        expect(credit.tax + debit.tax).toBe(0);
      }),
    );
  });
});

describe('taxOn', () => {
  it('rounds half away from zero', () => {
    expect(taxOn(15, 1000)).toBe(2);
    expect(taxOn(-15, 1000)).toBe(-2);
    expect(taxOn(14, 1000)).toBe(1);
    expect(taxOn(0, 2000)).toBe(0);
  });
});

describe('orderTotals', () => {
  it('is zero for an empty order', () => {
    expect(orderTotals([])).toEqual({ net: 0, tax: 0, gross: 0, byTaxRate: [] });
  });

  it('counts each line exactly once on a multi-item order (no running-total double counting)', () => {
    // The reference OMS added the running subtotal again for every item, so a 3-line order
    // came out as a + (a+b) + (a+b+c). Distinct line amounts make any such bug visible.
    const lines: PricedLine[] = [
      { unitPrice: 10_000, quantity: 1, taxRateBps: 2000 }, // 100.00 + 20.00
      { unitPrice: 2_500, quantity: 2, taxRateBps: 2000 }, //  50.00 + 10.00
      { unitPrice: 1_000, quantity: 3, taxRateBps: 0 }, //     30.00 +  0.00
    ];
    const totals = orderTotals(lines);
    expect(totals.net).toBe(18_000);
    expect(totals.tax).toBe(3_000);
    expect(totals.gross).toBe(21_000);
    expect(totals.byTaxRate).toEqual([
      { taxRateBps: 0, net: 3_000, tax: 0 },
      { taxRateBps: 2000, net: 15_000, tax: 3_000 },
    ]);
    // A double-counting implementation would give 10_000 + 15_000 + 18_000 = 43_000.
    expect(totals.net).not.toBe(43_000);
  });

  it('sums rounded line taxes (per-line rounding), not a re-rounded order tax', () => {
    // Three lines of 1p at 50%: each line's tax rounds 0.5 -> 1, so the order tax is 3 (an
    // order-level rounding would give round(1.5) = 2).
    const line = { unitPrice: 1, quantity: 1, taxRateBps: 5000 };
    const totals = orderTotals([line, line, line]);
    expect(totals).toEqual({ net: 3, tax: 3, gross: 6, byTaxRate: [{ taxRateBps: 5000, net: 3, tax: 3 }] });
  });

  it('handles credit (negative price) lines', () => {
    const totals = orderTotals([
      { unitPrice: 50_000, quantity: 1, taxRateBps: 2000 },
      { unitPrice: -5_000, quantity: 1, taxRateBps: 2000 },
    ]);
    expect(totals).toMatchObject({ net: 45_000, tax: 9_000, gross: 54_000 });
  });

  it('rejects an invalid line', () => {
    expect(() => orderTotals([{ unitPrice: 100, quantity: -2, taxRateBps: 2000 }])).toThrow(RangeError);
    expect(() => orderTotals([{ unitPrice: 0.1, quantity: 1, taxRateBps: 2000 }])).toThrow(RangeError);
  });

  it('throws instead of overflowing when the sum leaves the safe range', () => {
    const half = Math.floor(Number.MAX_SAFE_INTEGER / 2) + 1;
    expect(() =>
      orderTotals([
        { unitPrice: half, quantity: 1, taxRateBps: 0 },
        { unitPrice: half, quantity: 1, taxRateBps: 0 },
      ]),
    ).toThrow(RangeError);
  });

  it('property: totals are exactly the sum of the line amounts, each line once', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 30 }), (lines) => {
        const totals = orderTotals(lines);
        const amounts = lines.map((l) => lineAmounts(l.unitPrice, l.quantity, l.taxRateBps));
        expect(totals.net).toBe(amounts.reduce((s, a) => s + a.net, 0));
        expect(totals.tax).toBe(amounts.reduce((s, a) => s + a.tax, 0));
        expect(totals.gross).toBe(totals.net + totals.tax);
        for (const v of [totals.net, totals.tax, totals.gross]) expect(Number.isInteger(v)).toBe(true);
      }),
    );
  });

  it('property: the VAT analysis adds up to the totals and is sorted by rate', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 30 }), (lines) => {
        const totals = orderTotals(lines);
        expect(totals.byTaxRate.reduce((s, r) => s + r.net, 0)).toBe(totals.net);
        expect(totals.byTaxRate.reduce((s, r) => s + r.tax, 0)).toBe(totals.tax);
        const rates = totals.byTaxRate.map((r) => r.taxRateBps);
        expect(rates).toEqual([...new Set(lines.map((l) => l.taxRateBps))].sort((a, b) => a - b));
      }),
    );
  });

  it('property: totals do not depend on line order, and are additive over concatenation', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 20 }), fc.array(arbLine, { maxLength: 20 }), (a, b) => {
        const ab = orderTotals([...a, ...b]);
        const ba = orderTotals([...b, ...a]);
        expect(ab).toEqual(ba);
        expect(ab.net).toBe(orderTotals(a).net + orderTotals(b).net);
        expect(ab.tax).toBe(orderTotals(a).tax + orderTotals(b).tax);
        expect(orderTotals([...a].reverse())).toEqual(orderTotals(a));
      }),
    );
  });

  it('property: appending one line grows the totals by exactly that line (catches running-total bugs)', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { minLength: 1, maxLength: 20 }), arbLine, (lines, extra) => {
        const before = orderTotals(lines);
        const after = orderTotals([...lines, extra]);
        const added = lineAmounts(extra.unitPrice, extra.quantity, extra.taxRateBps);
        expect(after.net - before.net).toBe(added.net);
        expect(after.tax - before.tax).toBe(added.tax);
        expect(after.gross - before.gross).toBe(added.gross);
      }),
    );
  });
});

describe('invoiceTotals', () => {
  it('sums charges once each', () => {
    expect(invoiceTotals([])).toEqual({ net: 0, tax: 0, gross: 0 });
    expect(
      invoiceTotals([
        { amount: 10_000, tax: 2_000 },
        { amount: 5_000, tax: 1_000 },
        { amount: 3_000, tax: 0 },
      ]),
    ).toEqual({ net: 18_000, tax: 3_000, gross: 21_000 });
  });

  it('handles credits', () => {
    expect(
      invoiceTotals([
        { amount: 10_000, tax: 2_000 },
        { amount: -10_000, tax: -2_000 },
      ]),
    ).toEqual({ net: 0, tax: 0, gross: 0 });
  });

  it('rejects non-integer or unsafe amounts', () => {
    expect(() => invoiceTotals([{ amount: 10.5, tax: 0 }])).toThrow(RangeError);
    expect(() => invoiceTotals([{ amount: 10, tax: Number.NaN }])).toThrow(RangeError);
    expect(() => invoiceTotals([{ amount: 2 ** 60, tax: 0 }])).toThrow(RangeError);
  });

  it('property: equals orderTotals for the charges made from the same lines', () => {
    fc.assert(
      fc.property(fc.array(arbLine, { maxLength: 30 }), (lines) => {
        const charges = lines.map((l) => {
          const a = lineAmounts(l.unitPrice, l.quantity, l.taxRateBps);
          return { amount: a.net, tax: a.tax };
        });
        const { net, tax, gross } = orderTotals(lines);
        expect(invoiceTotals(charges)).toEqual({ net, tax, gross });
      }),
    );
  });
});

describe('formatMoney', () => {
  it.each([
    [123_456, 'GBP', '£1,234.56'],
    [0, 'GBP', '£0.00'],
    [5, 'GBP', '£0.05'],
    [100, 'GBP', '£1.00'],
    [99_999, 'EUR', '€999.99'],
    [100_000, 'EUR', '€1,000.00'],
    [123_456_789, 'USD', '$1,234,567.89'],
    [-123_456, 'GBP', '-£1,234.56'],
    [-5, 'USD', '-$0.05'],
    [12_345, 'XYZ', '123.45 XYZ'],
    [123_456_700, 'CHF', '1,234,567.00 CHF'],
    [-1, 'SEK', '-0.01 SEK'],
    [12_345, 'gbp', '£123.45'],
    [Number.MAX_SAFE_INTEGER, 'GBP', '£90,071,992,547,409.91'],
  ])('formats %d %s as %s', (minor, currency, expected) => {
    expect(formatMoney(minor, currency)).toBe(expected);
  });

  it('rejects non-integer amounts', () => {
    expect(() => formatMoney(1.5, 'GBP')).toThrow(RangeError);
    expect(() => formatMoney(Number.NaN, 'GBP')).toThrow(RangeError);
  });

  it('property: the formatted string parses back to the same minor units', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom('GBP', 'EUR', 'USD', 'NOK'), (minor, currency) => {
        const text = formatMoney(minor, currency);
        const digits = text.replace(/[^\d]/g, '');
        const sign = text.startsWith('-') ? -1 : 1;
        expect(sign * Number(digits)).toBe(minor === 0 ? 0 : minor);
        expect(text).toMatch(/^-?(?:[£€$])?\d{1,3}(?:,\d{3})*\.\d{2}(?: [A-Z]{3})?$/);
      }),
    );
  });
});
