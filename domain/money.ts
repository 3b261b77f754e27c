// Money arithmetic for order lines, orders and invoices. Pure: safe to import from workflow code.
//
// Conventions:
// - Every amount is an integer number of minor units (pence, cents). Never a float.
// - Tax rates are integer basis points (2000 = 20%).
// - Amounts may be negative (credits, refunds); quantities may not.
// - Tax is computed PER LINE and rounded there, as on a UK VAT invoice that shows VAT line by
//   line (HMRC VAT Notice 700, section 17.5: rounding at line level is acceptable if used
//   consistently). Order and invoice totals are exact sums of the already rounded line amounts,
//   so a printed invoice always adds up.
// - Rounding is half-up, i.e. the half goes away from zero: 12.5p -> 13p, -12.5p -> -13p.
//   Anything below the half is truncated towards zero: 12.4999p -> 12p.
// - Multiplication is done in BigInt so that large amounts never lose precision; results that
//   do not fit in a safe integer throw a RangeError instead of drifting.

export interface LineAmounts {
  /** unitPrice x quantity, minor units. */
  net: number;
  /** Tax on the line, rounded half-up (away from zero) to whole minor units. */
  tax: number;
  /** net + tax. */
  gross: number;
}

export interface PricedLine {
  /** Unit price excluding tax, minor units (may be negative for a discount line). */
  unitPrice: number;
  /** Whole units, >= 0. */
  quantity: number;
  /** Tax rate in basis points, integer >= 0. */
  taxRateBps: number;
}

export interface TaxRateTotals {
  taxRateBps: number;
  net: number;
  tax: number;
}

export interface OrderTotals {
  net: number;
  tax: number;
  gross: number;
  /** One entry per distinct tax rate present, ascending by rate. */
  byTaxRate: TaxRateTotals[];
}

export interface ChargeAmounts {
  /** Net amount of the charge, minor units. */
  amount: number;
  /** Tax on the charge, minor units. */
  tax: number;
}

export interface InvoiceTotals {
  net: number;
  tax: number;
  gross: number;
}

const BPS_DENOMINATOR = 10_000n;

/** Throws a RangeError unless `value` is a safe integer (the only acceptable money shape). */
export function assertMinorUnits(value: number, what = 'amount'): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a safe integer number of minor units, got ${String(value)}`);
  }
}

function assertQuantity(quantity: number): void {
  if (!Number.isSafeInteger(quantity)) {
    throw new RangeError(`quantity must be a safe integer, got ${String(quantity)}`);
  }
  if (quantity < 0) throw new RangeError(`quantity must not be negative, got ${quantity}`);
}

function assertTaxRate(taxRateBps: number): void {
  if (!Number.isSafeInteger(taxRateBps) || taxRateBps < 0) {
    throw new RangeError(`taxRateBps must be a non-negative integer, got ${String(taxRateBps)}`);
  }
}

function toSafeNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new RangeError(`${what} exceeds the safe integer range`);
  }
  return Number(value);
}

/**
 * Tax on a net amount at a rate in basis points, rounded half-up (half away from zero).
 * Exact: computed in BigInt.
 */
export function taxOn(net: number, taxRateBps: number): number {
  assertMinorUnits(net, 'net');
  assertTaxRate(taxRateBps);
  const product = BigInt(net) * BigInt(taxRateBps);
  const sign = product < 0n ? -1n : 1n;
  const magnitude = product < 0n ? -product : product;
  let quotient = magnitude / BPS_DENOMINATOR;
  if ((magnitude % BPS_DENOMINATOR) * 2n >= BPS_DENOMINATOR) quotient += 1n;
  return toSafeNumber(sign * quotient, 'tax');
}

/** Net, tax and gross for one line; tax is rounded on the line (see the file header). */
export function lineAmounts(unitPrice: number, quantity: number, taxRateBps: number): LineAmounts {
  assertMinorUnits(unitPrice, 'unitPrice');
  assertQuantity(quantity);
  assertTaxRate(taxRateBps);
  const net = toSafeNumber(BigInt(unitPrice) * BigInt(quantity), 'net');
  const tax = taxOn(net, taxRateBps);
  const gross = toSafeNumber(BigInt(net) + BigInt(tax), 'gross');
  return { net, tax, gross };
}

/**
 * Totals of an order: each line is priced with {@link lineAmounts} and added exactly once.
 * `byTaxRate` groups the line amounts by rate (the VAT analysis on an invoice), ascending.
 */
export function orderTotals(lines: readonly PricedLine[]): OrderTotals {
  let net = 0n;
  let tax = 0n;
  const byRate = new Map<number, { net: bigint; tax: bigint }>();
  for (const line of lines) {
    const amounts = lineAmounts(line.unitPrice, line.quantity, line.taxRateBps);
    net += BigInt(amounts.net);
    tax += BigInt(amounts.tax);
    const bucket = byRate.get(line.taxRateBps) ?? { net: 0n, tax: 0n };
    bucket.net += BigInt(amounts.net);
    bucket.tax += BigInt(amounts.tax);
    byRate.set(line.taxRateBps, bucket);
  }
  const byTaxRate = [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([taxRateBps, t]) => ({
      taxRateBps,
      net: toSafeNumber(t.net, 'net'),
      tax: toSafeNumber(t.tax, 'tax'),
    }));
  return {
    net: toSafeNumber(net, 'net'),
    tax: toSafeNumber(tax, 'tax'),
    gross: toSafeNumber(net + tax, 'gross'),
    byTaxRate,
  };
}

/** Totals of an invoice from its charges (each already carries its rounded tax); each charge counted once. */
export function invoiceTotals(charges: readonly ChargeAmounts[]): InvoiceTotals {
  let net = 0n;
  let tax = 0n;
  for (const charge of charges) {
    assertMinorUnits(charge.amount, 'amount');
    assertMinorUnits(charge.tax, 'tax');
    net += BigInt(charge.amount);
    tax += BigInt(charge.tax);
  }
  return {
    net: toSafeNumber(net, 'net'),
    tax: toSafeNumber(tax, 'tax'),
    gross: toSafeNumber(net + tax, 'gross'),
  };
}

const CURRENCY_SYMBOLS: Readonly<Record<string, string>> = { GBP: '£', EUR: '€', USD: '$' };

/**
 * Formats minor units for display. Every currency handled here has 2 decimal places.
 * GBP/EUR/USD get their symbol in front ("£1,234.56", "-€0.05"); any other currency code is
 * written after the amount ("1,234.56 XYZ"). Thousands are separated by commas. No Intl: the
 * output must not depend on the host's locale data.
 */
export function formatMoney(minor: number, currency: string): string {
  assertMinorUnits(minor, 'amount');
  const code = currency.trim().toUpperCase();
  const negative = minor < 0;
  const abs = Math.abs(minor);
  const major = Math.floor(abs / 100);
  const cents = abs % 100;
  const grouped = String(major).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const number = `${grouped}.${String(cents).padStart(2, '0')}`;
  const symbol = CURRENCY_SYMBOLS[code];
  const body = symbol !== undefined ? `${symbol}${number}` : `${number} ${code}`;
  return negative ? `-${body}` : body;
}
