// The pure validation of reference-data CSV rows (domain/reference-data.ts): what an import
// accepts, and the reason it gives for what it refuses.
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { CSV_COLUMNS, accountFromRow, blocklistEntryFromRow, checkHeader, productFromRow, sameRecord } from '../../domain/reference-data';
import { csvParseOptions } from '../../domain/warehouse-response';
import { DEMO_ACCOUNTS, DEMO_PRODUCTS } from '../../infra/seed';

const product = {
  sku: 'HS-TEST-1',
  name: 'Test Phone 128GB',
  kind: 'handset',
  unitPrice: '49900',
  currency: 'GBP',
  taxRateBps: '2000',
  capture: 'imei',
  manufacturer: 'samsung',
  enrolmentProgrammes: 'samsung;google',
  active: 'true',
};

const account = {
  accountId: 'ACC-9001',
  name: 'Dana Test',
  billingLines: 'Flat 2;7 High Street',
  billingCity: 'York',
  billingRegion: '',
  billingPostcode: 'YO1 7HH',
  billingCountry: 'GB',
  deliveryName: '',
  deliveryPhone: '',
  deliveryEmail: '',
  deliveryLines: '',
  deliveryCity: '',
  deliveryRegion: '',
  deliveryPostcode: '',
  deliveryCountry: '',
  billingCycleDay: '14',
  defaultBillingMode: 'nextInvoice',
  currency: 'GBP',
};

describe('product rows', () => {
  it('reads a full row into a product', () => {
    expect(productFromRow(product)).toEqual({
      ok: true,
      key: 'HS-TEST-1',
      value: {
        sku: 'HS-TEST-1',
        name: 'Test Phone 128GB',
        kind: 'handset',
        unitPrice: 49900,
        currency: 'GBP',
        taxRateBps: 2000,
        capture: 'imei',
        manufacturer: 'samsung',
        enrolmentProgrammes: ['samsung', 'google'],
        active: true,
      },
    });
  });

  it('an empty manufacturer and programme list are absent and empty; active takes false/no/0', () => {
    const r = productFromRow({ ...product, manufacturer: '', enrolmentProgrammes: '', active: 'no' });
    expect(r.ok && r.value).toMatchObject({ enrolmentProgrammes: [], active: false });
    expect(r.ok && 'manufacturer' in r.value).toBe(false);
  });

  it.each([
    [{ unitPrice: '499.00' }, /unitPrice/],
    [{ unitPrice: '-1' }, /unitPrice/],
    [{ unitPrice: '' }, /unitPrice/],
    [{ taxRateBps: '20001' }, /taxRateBps/],
    [{ kind: 'tablet' }, /kind/],
    [{ capture: 'rfid' }, /capture/],
    [{ currency: 'gbp' }, /currency: an ISO 4217 code/],
    [{ manufacturer: 'nokia' }, /manufacturer/],
    [{ enrolmentProgrammes: 'apple;apple' }, /enrolmentProgrammes: lists a programme twice/],
    [{ active: 'maybe' }, /active/],
    [{ sku: 'HS TEST' }, /sku has only letters/],
    [{ name: '' }, /name/],
    [{ name: 'bad\u0000name' }, /control characters/],
  ])('refuses %j with a reason naming the field', (change, reason) => {
    const r = productFromRow({ ...product, ...change });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('every demo product, written out as a row, reads back the same', () => {
    for (const p of DEMO_PRODUCTS) {
      const row = {
        ...Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)])),
        manufacturer: p.manufacturer ?? '',
        enrolmentProgrammes: p.enrolmentProgrammes.join(';'),
      };
      const r = productFromRow(row);
      expect(r.ok && sameRecord(r.value, p), p.sku).toBe(true);
    }
  });
});

describe('account rows', () => {
  it('empty delivery columns default to the account name and billing address', () => {
    const r = accountFromRow(account);
    expect(r).toEqual({
      ok: true,
      key: 'ACC-9001',
      value: {
        accountId: 'ACC-9001',
        name: 'Dana Test',
        billingAddress: { lines: ['Flat 2', '7 High Street'], city: 'York', postcode: 'YO1 7HH', country: 'GB' },
        defaultDelivery: { name: 'Dana Test', address: { lines: ['Flat 2', '7 High Street'], city: 'York', postcode: 'YO1 7HH', country: 'GB' } },
        billingCycleDay: 14,
        defaultBillingMode: 'nextInvoice',
        currency: 'GBP',
      },
    });
  });

  it('a delivery contact of its own', () => {
    const r = accountFromRow({
      ...account,
      deliveryName: 'Post Room',
      deliveryPhone: '+44 1904 000000',
      deliveryEmail: 'post@example.com',
      deliveryLines: '1 Depot Way',
      deliveryCity: 'Leeds',
      deliveryRegion: 'West Yorkshire',
      deliveryPostcode: 'LS1 1AA',
      deliveryCountry: 'GB',
    });
    expect(r.ok && r.value.defaultDelivery).toEqual({
      name: 'Post Room',
      phone: '+44 1904 000000',
      email: 'post@example.com',
      address: { lines: ['1 Depot Way'], city: 'Leeds', region: 'West Yorkshire', postcode: 'LS1 1AA', country: 'GB' },
    });
  });

  it.each([
    [{ billingCycleDay: '29' }, /billingCycleDay/],
    [{ billingCycleDay: 'first' }, /billingCycleDay/],
    [{ defaultBillingMode: 'monthly' }, /defaultBillingMode/],
    [{ billingLines: '' }, /billingAddress.lines/],
    [{ billingCountry: 'GBR' }, /billingAddress.country/],
    [{ deliveryEmail: 'not-an-email' }, /defaultDelivery.email/],
    [{ accountId: '' }, /accountId/],
  ])('refuses %j with a reason naming the field', (change, reason) => {
    const r = accountFromRow({ ...account, ...change });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });

  it('the demo accounts are valid accounts', () => {
    // What the seed wrote, an administrator may write back unchanged.
    for (const a of DEMO_ACCOUNTS) expect(accountFromRow({ ...account, accountId: a.accountId }).ok).toBe(true);
  });
});

describe('blocklist rows', () => {
  it('reads kind, value and an optional note; the key is kind:value', () => {
    expect(blocklistEntryFromRow({ kind: 'email', value: 'x@example.invalid', note: '' })).toEqual({
      ok: true,
      key: 'email:x@example.invalid',
      value: { kind: 'email', value: 'x@example.invalid' },
    });
  });
  it('refuses an unknown kind, an empty value and an address that is not a key', () => {
    expect(blocklistEntryFromRow({ kind: 'ip', value: '1.2.3.4', note: '' })).toMatchObject({ ok: false, reason: /kind/ });
    expect(blocklistEntryFromRow({ kind: 'postcode', value: '', note: '' })).toMatchObject({ ok: false, key: null, reason: /value/ });
    expect(blocklistEntryFromRow({ kind: 'address', value: '1 Fraud Lane', note: '' })).toMatchObject({ ok: false, reason: /COUNTRY\|POSTCODE/ });
    expect(blocklistEntryFromRow({ kind: 'address', value: 'GB|NW11AA|NOWHERE|1 FRAUD LANE', note: '' }).ok).toBe(true);
  });
});

describe('headers', () => {
  it('accepts the columns in any order and names what is missing, unknown or repeated', () => {
    expect(checkHeader('blocklist', ['note', 'value', 'kind'])).toBeNull();
    expect(checkHeader('products', [...CSV_COLUMNS.products])).toBeNull();
    expect(checkHeader('blocklist', ['kind', 'value'])).toMatch(/missing note/);
    expect(checkHeader('blocklist', ['kind', 'value', 'note', 'colour'])).toMatch(/unknown colour/);
    expect(checkHeader('blocklist', ['kind', 'value', 'note', 'kind'])).toMatch(/repeated kind/);
  });

  it("a CSV file read with the adaptor's parser options gives rows the readers take", () => {
    const [header, ...rows] = parse(
      `${CSV_COLUMNS.products.join(',')}\n${CSV_COLUMNS.products.map((c) => `"${product[c]}"`).join(',')}\n`,
      csvParseOptions,
    ) as string[][];
    expect(checkHeader('products', header)).toBeNull();
    expect(productFromRow(Object.fromEntries(header.map((h, i) => [h, rows[0][i]]))).ok).toBe(true);
  });
});

describe('sameRecord', () => {
  it('ignores key order and absent fields, not values', () => {
    expect(sameRecord({ a: 1, b: [1, 2], c: undefined }, { b: [1, 2], a: 1 })).toBe(true);
    expect(sameRecord({ a: 1, b: [1, 2] }, { a: 1, b: [2, 1] })).toBe(false);
    expect(sameRecord({ a: { x: 1 } }, { a: { x: 2 } })).toBe(false);
  });
});
