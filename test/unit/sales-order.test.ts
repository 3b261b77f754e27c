import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildSalesOrderRequest,
  canonicalSalesOrderRequest,
  salesOrderFileName,
  serialiseSalesOrderRequest,
  type BuildSalesOrderRequestInput,
} from '../../domain/sales-order';
import type { OrderLine, SalesOrderRequest } from '../../domain/types';
import { validateSalesOrderRequest } from '../../infra/contracts';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
const GOLDEN = fixture('sales-order-request.golden.json');
const DOC = fileURLToPath(new URL('../../docs/warehouse-files.md', import.meta.url));

const iphone: OrderLine = {
  lineId: 'l-1',
  lineNumber: 1,
  sku: 'HS-IPH15-128',
  description: 'iPhone 15 128GB Black',
  kind: 'handset',
  quantity: 5,
  unitPrice: 79900,
  taxRateBps: 2000,
  capture: 'imei',
  manufacturer: 'apple',
  enrolment: 'apple',
};
const cable: OrderLine = {
  lineId: 'l-2',
  lineNumber: 2,
  sku: 'ACC-USBC-1M',
  description: 'USB-C cable 1m',
  kind: 'peripheral',
  quantity: 3,
  unitPrice: 1500,
  taxRateBps: 2000,
  capture: 'none',
};
const router: OrderLine = {
  lineId: 'l-4',
  lineNumber: 4,
  sku: 'RTR-5G-PRO',
  description: '5G router Pro',
  kind: 'peripheral',
  quantity: 1,
  unitPrice: 24900,
  taxRateBps: 2000,
  capture: 'serial',
};

function input(overrides: Partial<BuildSalesOrderRequestInput> = {}): BuildSalesOrderRequestInput {
  return {
    orderId: 'ORD-1001',
    accountId: 'ACC-42',
    subOrderNumber: 'ORD-1001-WH-LON',
    warehouseId: 'WH-LON',
    purpose: 'new',
    generatedAt: '2025-03-13T09:30:00.000Z',
    serviceLevel: 'nextDay',
    fraudCheck: { required: true, reasons: ['deliveryAddressDiffersFromBilling'], result: 'accept', providerReference: 'FRD-778812' },
    delivery: {
      name: 'Jane Smith',
      phone: '+44 7700 900123',
      email: 'jane.smith@example.com',
      address: { lines: ['Acme Ltd', '1 High Street'], city: 'London', postcode: 'EC1A 1BB', country: 'GB' },
    },
    // Deliberately out of order: the request sorts lines by line number.
    lines: [
      { line: router, quantity: 1 },
      { line: iphone, quantity: 2 },
      { line: cable, quantity: 3 },
    ],
    ...overrides,
  };
}

describe('buildSalesOrderRequest', () => {
  it('maps the order, sub-order and lines', () => {
    const req = buildSalesOrderRequest(input());
    expect(req.schemaVersion).toBe('1');
    expect(req.fileId).toBe('ORD-1001-WH-LON-new');
    expect(req.depositorOrderNumber).toBe('ORD-1001');
    expect(req.subOrderNumber).toBe('ORD-1001-WH-LON');
    expect(req.lines.map((l) => l.lineNumber)).toEqual([1, 2, 4]);
    expect(req.lines[0]).toEqual({
      lineNumber: 1,
      sku: 'HS-IPH15-128',
      description: 'iPhone 15 128GB Black',
      quantity: 2, // the allocation, not the order line quantity
      unitOfMeasure: 'EA',
      captureSerialNumbers: true,
      captureImei: true,
      enrolmentProgramme: 'apple',
    });
    expect(req.lines[1]).toMatchObject({ captureSerialNumbers: false, captureImei: false });
    expect('enrolmentProgramme' in req.lines[1]).toBe(false);
    expect(req.lines[2]).toMatchObject({ captureSerialNumbers: true, captureImei: false });
    expect(req.shipTo).toEqual({
      name: 'Jane Smith',
      phone: '+44 7700 900123',
      email: 'jane.smith@example.com',
      addressLines: ['Acme Ltd', '1 High Street'],
      city: 'London',
      postcode: 'EC1A 1BB',
      country: 'GB',
    });
  });

  it('uses <subOrderNumber>-<purpose> as the file id and <fileId>.json as the file name', () => {
    const cancel = buildSalesOrderRequest(input({ purpose: 'cancel' }));
    expect(cancel.fileId).toBe('ORD-1001-WH-LON-cancel');
    expect(salesOrderFileName(cancel)).toBe('ORD-1001-WH-LON-cancel.json');
    expect(salesOrderFileName(buildSalesOrderRequest(input()))).toBe('ORD-1001-WH-LON-new.json');
  });

  it('omits undefined and empty optional fields', () => {
    const req = buildSalesOrderRequest(
      input({
        fraudCheck: { required: false, reasons: [], result: 'notRequired' },
        delivery: { name: 'Bob', phone: '', address: { lines: ['2 Low Road'], city: 'Leeds', region: undefined, postcode: 'LS1 1AA', country: 'GB' } },
      }),
    );
    expect(req.fraudCheck).toEqual({ required: false, reasons: [], result: 'notRequired' });
    expect(Object.keys(req.shipTo)).toEqual(['name', 'addressLines', 'city', 'postcode', 'country']);
    const json = serialiseSalesOrderRequest(req);
    expect(json).not.toContain('undefined');
    expect(json).not.toContain('null');
    expect(validateSalesOrderRequest(JSON.parse(json))).toEqual({ ok: true });
  });

  it('does not share arrays with its input', () => {
    const i = input();
    const req = buildSalesOrderRequest(i);
    req.shipTo.addressLines.push('mutated');
    req.fraudCheck.reasons.push('mutated');
    expect(i.delivery.address.lines).toEqual(['Acme Ltd', '1 High Street']);
    expect(i.fraudCheck.reasons).toEqual(['deliveryAddressDiffersFromBilling']);
  });

  it('skips zero allocations and rejects programming errors', () => {
    const req = buildSalesOrderRequest(
      input({
        lines: [
          { line: iphone, quantity: 2 },
          { line: cable, quantity: 0 },
        ],
      }),
    );
    expect(req.lines.map((l) => l.sku)).toEqual(['HS-IPH15-128']);
    expect(() => buildSalesOrderRequest(input({ lines: [] }))).toThrow(/no line/);
    expect(() => buildSalesOrderRequest(input({ lines: [{ line: cable, quantity: 0 }] }))).toThrow(/no line/);
    expect(() => buildSalesOrderRequest(input({ lines: [{ line: cable, quantity: -1 }] }))).toThrow(/invalid quantity/);
    expect(() => buildSalesOrderRequest(input({ lines: [{ line: cable, quantity: 1.5 }] }))).toThrow(/invalid quantity/);
    expect(() =>
      buildSalesOrderRequest(
        input({
          lines: [
            { line: cable, quantity: 1 },
            { line: cable, quantity: 2 },
          ],
        }),
      ),
    ).toThrow(/more than once/);
  });

  it('is deterministic: the same input gives the same bytes', () => {
    expect(serialiseSalesOrderRequest(buildSalesOrderRequest(input()))).toBe(serialiseSalesOrderRequest(buildSalesOrderRequest(input())));
  });
});

describe('serialiseSalesOrderRequest', () => {
  it('matches the golden file byte for byte', () => {
    const golden = readFileSync(GOLDEN, 'utf8');
    expect(serialiseSalesOrderRequest(buildSalesOrderRequest(input()))).toBe(golden);
  });

  it('the golden file is valid against the schema and is the example in the documentation', () => {
    const golden = readFileSync(GOLDEN, 'utf8');
    expect(validateSalesOrderRequest(JSON.parse(golden))).toEqual({ ok: true });
    expect(readFileSync(DOC, 'utf8')).toContain('```json\n' + golden + '```');
  });

  it('is stable under a JSON round trip and key reordering', () => {
    const req = buildSalesOrderRequest(input());
    const text = serialiseSalesOrderRequest(req);
    expect(serialiseSalesOrderRequest(JSON.parse(text) as SalesOrderRequest)).toBe(text);
    const shuffled = Object.fromEntries(Object.entries(req).reverse()) as unknown as SalesOrderRequest;
    expect(serialiseSalesOrderRequest(shuffled)).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "fileId": "ORD-1001-WH-LON-new",\n');
    expect(canonicalSalesOrderRequest(req)).toEqual(req);
  });
});

describe('sales order schema', () => {
  const valid = () => JSON.parse(serialiseSalesOrderRequest(buildSalesOrderRequest(input()))) as Record<string, unknown> & SalesOrderRequest;

  it('accepts every request built from valid inputs', () => {
    const capture = fc.constantFrom('none' as const, 'serial' as const, 'imei' as const);
    const enrolment = fc.option(fc.constantFrom('apple' as const, 'google' as const, 'samsung' as const), { nil: undefined });
    const lineArb = fc.record({ lineNumber: fc.integer({ min: 1, max: 500 }), capture, enrolment, qty: fc.integer({ min: 1, max: 1000 }) });
    fc.assert(
      fc.property(
        fc.uniqueArray(lineArb, { minLength: 1, maxLength: 8, selector: (l) => l.lineNumber }),
        fc.constantFrom('new' as const, 'cancel' as const),
        fc.constantFrom('standard' as const, 'nextDay' as const),
        fc.option(fc.constantFrom('a@b.co', 'first.last+tag@example.co.uk'), { nil: undefined }),
        (lines, purpose, serviceLevel, email) => {
          const req = buildSalesOrderRequest(
            input({
              purpose,
              serviceLevel,
              delivery: { name: 'X', email, address: { lines: ['1 A St'], city: 'C', region: 'R', postcode: 'P1', country: 'FR' } },
              lines: lines.map((l) => ({
                line: { ...cable, lineNumber: l.lineNumber, sku: `SKU-${l.lineNumber}`, capture: l.capture, enrolment: l.enrolment },
                quantity: l.qty,
              })),
            }),
          );
          expect(validateSalesOrderRequest(JSON.parse(serialiseSalesOrderRequest(req)))).toEqual({ ok: true });
        },
      ),
      { numRuns: 200 },
    );
  });

  // Mutations reach into arbitrary JSON: a loose type keeps the table readable.
  type Loose = Record<string, any>;
  const invalid: [string, (r: Loose) => void, RegExp][] = [
    ['an unknown top-level property', (r) => (r.extra = 1), /must NOT have additional properties: extra/],
    ['an unknown line property', (r) => (r.lines[0].price = 1), /\/lines\/0 must NOT have additional properties: price/],
    ['an unknown shipTo property', (r) => (r.shipTo.notes = 'x'), /\/shipTo must NOT have additional properties/],
    ['no lines', (r) => (r.lines = []), /\/lines must NOT have fewer than 1 items/],
    ['a zero quantity', (r) => (r.lines[0].quantity = 0), /\/lines\/0\/quantity must be >= 1/],
    ['a fractional quantity', (r) => (r.lines[0].quantity = 1.5), /\/lines\/0\/quantity must be integer/],
    ['a zero line number', (r) => (r.lines[0].lineNumber = 0), /\/lines\/0\/lineNumber must be >= 1/],
    ['another unit of measure', (r) => (r.lines[0].unitOfMeasure = 'BOX'), /unitOfMeasure must be equal to constant/],
    ['IMEI capture without serial capture', (r) => (r.lines[0].captureSerialNumbers = false), /captureSerialNumbers must be equal to constant/],
    ['an unknown enrolment programme', (r) => (r.lines[0].enrolmentProgramme = 'nokia'), /enrolmentProgramme must be equal to one of the allowed values/],
    ['a lower-case country', (r) => (r.shipTo.country = 'gb'), /\/shipTo\/country must match pattern/],
    ['a 3-letter country', (r) => (r.shipTo.country = 'GBR'), /\/shipTo\/country must match pattern/],
    ['a bad email', (r) => (r.shipTo.email = 'not-an-email'), /\/shipTo\/email must match format "email"/],
    ['a bad generatedAt', (r) => (r.generatedAt = '13/03/2025'), /\/generatedAt must match format "date-time"/],
    ['no address lines', (r) => (r.shipTo.addressLines = []), /\/shipTo\/addressLines must NOT have fewer than 1 items/],
    ['an empty name', (r) => (r.shipTo.name = ''), /\/shipTo\/name must NOT have fewer than 1 characters/],
    ['a missing city', (r) => delete r.shipTo.city, /\/shipTo must have required property 'city'/],
    ['another schema version', (r) => (r.schemaVersion = '2'), /\/schemaVersion must be equal to constant/],
    ['an unknown purpose', (r) => (r.purpose = 'change'), /\/purpose must be equal to one of the allowed values/],
    ['a fileId without purpose', (r) => (r.fileId = 'ORD-1001-WH-LON'), /\/fileId must match pattern/],
    ['an unknown fraud result', (r) => (r.fraudCheck.result = 'maybe'), /\/fraudCheck\/result must be equal to one of the allowed values/],
    ['an unknown service level', (r) => (r.serviceLevel = 'sameDay'), /\/serviceLevel must be equal to one of the allowed values/],
    ['a null optional field', (r) => (r.shipTo.phone = null), /\/shipTo\/phone must be string/],
  ];
  it.each(invalid)('rejects %s', (_name, mutate, message) => {
    const r = valid();
    mutate(r);
    const result = validateSalesOrderRequest(r);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toMatch(message);
  });
});
