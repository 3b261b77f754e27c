import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { orderIdOfChargeKey } from '../../domain/billing';
import { luhnCheckDigit } from '../../domain/imei';
import { MAX_QUERY_LENGTH, normaliseReference, searchProbes, unitReferences } from '../../domain/search';
import type { DispatchedUnit, SubOrder } from '../../domain/types';

const IMEI = '490154203237518';

describe('normaliseReference', () => {
  it('reads an IMEI with spaces, dashes, slashes or dots, and only when its check digit is right', () => {
    for (const typed of [IMEI, ' 49 015420 323751 8 ', '49-015420-323751-8', '49/015420/323751/8', '49.015420.323751.8'])
      expect(normaliseReference('imei', typed)).toBe(IMEI);
    expect(normaliseReference('imei', '490154203237519')).toBeNull(); // wrong check digit
    expect(normaliseReference('imei', '49015420323751')).toBeNull(); // 14 digits
    expect(normaliseReference('imei', 'A90154203237518')).toBeNull();
  });

  it('reads an order number in any case, with or without ORD-, and Crockford look-alikes as their digits', () => {
    expect(normaliseReference('order', 'ord-7kq2m9xd4a')).toBe('ORD-7KQ2M9XD4A');
    expect(normaliseReference('order', '7KQ2M9XD4A')).toBe('ORD-7KQ2M9XD4A');
    expect(normaliseReference('order', 'ORD-7KQ2M9XD4O')).toBe('ORD-7KQ2M9XD40'); // O read as 0
    expect(normaliseReference('order', 'ORD-IKQ2M9XD4L')).toBe('ORD-1KQ2M9XD41'); // I and L read as 1
    expect(normaliseReference('order', 'ORD-7KQ2M9XD4')).toBeNull(); // 9 characters
    expect(normaliseReference('order', 'ORD-7KQ2M9XD4U')).toBeNull(); // U is not Crockford
  });

  it('reads an invoice number with or without its dash and leading zeros', () => {
    for (const typed of ['INV-00000042', 'inv-42', 'INV42', ' inv 0042 ']) expect(normaliseReference('invoice', typed)).toBe('INV-00000042');
    expect(normaliseReference('invoice', '42')).toBeNull();
    expect(normaliseReference('invoice', 'INV-123456789')).toBeNull(); // more than 8 digits
  });

  it('keeps serials and tracking numbers as typed, but for case and spaces', () => {
    expect(normaliseReference('serial', ' sn-abc 123 ')).toBe('SN-ABC123');
    expect(normaliseReference('tracking', '1z 999 aa1')).toBe('1Z999AA1');
    expect(normaliseReference('serial', '   ')).toBeNull();
    expect(normaliseReference('tracking', 'X'.repeat(MAX_QUERY_LENGTH + 1))).toBeNull();
  });

  it('is idempotent for every kind: a stored value normalises to itself', () => {
    fc.assert(
      fc.property(fc.constantFrom('order', 'imei', 'serial', 'tracking', 'invoice' as const), fc.string({ maxLength: 70 }), (kind, raw) => {
        const once = normaliseReference(kind, raw);
        if (once !== null) expect(normaliseReference(kind, once)).toBe(once);
      }),
    );
  });
});

describe('searchProbes', () => {
  it('probes every kind the value could be: an IMEI also as a serial or tracking number', () => {
    expect(searchProbes(IMEI).map((p) => p.kind)).toEqual(['imei', 'serial', 'tracking']);
    expect(searchProbes('ord-7kq2m9xd4a')).toEqual([
      { kind: 'order', value: 'ORD-7KQ2M9XD4A' },
      { kind: 'serial', value: 'ORD-7KQ2M9XD4A' },
      { kind: 'tracking', value: 'ORD-7KQ2M9XD4A' },
    ]);
    expect(searchProbes('INV-7').map((p) => `${p.kind}:${p.value}`)).toEqual(['serial:INV-7', 'tracking:INV-7', 'invoice:INV-00000007']);
    expect(searchProbes('TRK-1').map((p) => p.kind)).toEqual(['serial', 'tracking']);
  });

  it('probes nothing for an empty query', () => {
    expect(searchProbes('  ')).toEqual([]);
  });

  it('never probes an IMEI that fails the Luhn check', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9]{14}$/), fc.integer({ min: 0, max: 9 }), (body, d) => {
        const probes = searchProbes(body + d).filter((p) => p.kind === 'imei');
        expect(probes.length).toBe(d === luhnCheckDigit(body) ? 1 : 0);
      }),
    );
  });
});

describe('unitReferences', () => {
  const unit = (over: Partial<DispatchedUnit>): DispatchedUnit => ({ rowKey: 'b:1', lineNumber: 1, sku: 'S', quantity: 1, batchId: 'b', ...over });
  const sub = (units: DispatchedUnit[]): SubOrder => ({
    subOrderNumber: 'ORD-X-WH-NORTH',
    warehouseId: 'WH-NORTH',
    lines: [],
    status: 'Shipped',
    units,
    lineExceptions: [],
  });

  it("lists each IMEI (both of a dual-SIM handset), serial and tracking number of the order's units once", () => {
    const refs = unitReferences({
      subOrders: [
        sub([
          unit({ imei: IMEI, imei2: '356938035643809', serialNumber: 'sn-1', trackingNumber: 'trk 1' }),
          unit({ serialNumber: 'SN-2', trackingNumber: 'TRK1' }),
        ]),
        sub([unit({ trackingNumber: 'TRK-2' }), unit({})]),
      ],
    });
    expect(refs.map((r) => `${r.kind}:${r.value}`).sort()).toEqual(
      ['imei:490154203237518', 'imei:356938035643809', 'serial:SN-1', 'serial:SN-2', 'tracking:TRK1', 'tracking:TRK-2'].sort(),
    );
  });

  it('is empty before anything shipped', () => {
    expect(unitReferences({ subOrders: [sub([])] })).toEqual([]);
  });
});

describe('orderIdOfChargeKey', () => {
  it('is the order id a charge key starts with', () => {
    expect(orderIdOfChargeKey('ORD-7KQ2M9XD4A:2:ab12cd')).toBe('ORD-7KQ2M9XD4A');
    expect(orderIdOfChargeKey('ORD-7KQ2M9XD4A:1:licence')).toBe('ORD-7KQ2M9XD4A');
  });
});
