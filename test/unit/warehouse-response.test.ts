import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { describe, expect, it } from 'vitest';
import type { DispatchBatch, DispatchRow, SubOrderRef } from '../../domain/types';
import {
  DEFAULT_OUT_OF_STOCK_CODE,
  DispatchRowValidator,
  MalformedCsvError,
  REJECTION_CODES,
  WAREHOUSE_RESPONSE_COLUMNS,
  csvParseOptions,
  isValidIsoDate,
  summariseRejections,
  validateWarehouseResponseRecords,
  validateWarehouseResponseRecordsAsync,
  type WarehouseResponseColumn,
} from '../../domain/warehouse-response';
import { parseWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { validateDispatchBatch } from '../../infra/contracts';
import { EXAMPLE_WAREHOUSE_ID, exampleLookup } from '../fixtures/warehouse-response.example';

const EXAMPLE_CSV = fileURLToPath(new URL('../fixtures/warehouse-response.example.csv', import.meta.url));
const DOC = fileURLToPath(new URL('../../docs/warehouse-files.md', import.meta.url));

const HEADER = WAREHOUSE_RESPONSE_COLUMNS.join(',');
const IMEI_A = '353911101234566';
const IMEI_B = '353911101234574';
const IMEI_C = '353911109876541';
const IMEI_D = '356762112345678';
const BAD_IMEI = '353911101234567';

const SUB_ORDERS: SubOrderRef[] = [
  {
    orderId: 'ORD-1',
    subOrderNumber: 'ORD-1-WH1',
    warehouseId: 'WH1',
    lines: [
      { lineNumber: 1, sku: 'PHONE', quantity: 3, capture: 'imei' },
      { lineNumber: 2, sku: 'CABLE', quantity: 5, capture: 'none' },
      { lineNumber: 3, sku: 'ROUTER', quantity: 2, capture: 'serial' },
    ],
  },
  { orderId: 'ORD-2', subOrderNumber: 'ORD-2-WH2', warehouseId: 'WH2', lines: [{ lineNumber: 1, sku: 'CABLE', quantity: 1, capture: 'none' }] },
];
const lookup = (n: string) => SUB_ORDERS.find((s) => s.subOrderNumber === n);

type Cells = Partial<Record<WarehouseResponseColumn, string>>;
const BASE: Cells = {
  warehouse_id: 'WH1',
  sub_order_number: 'ORD-1-WH1',
  line_number: '2',
  sku: 'CABLE',
  quantity_shipped: '1',
  carrier: 'DPD',
  tracking_number: 'T1',
  ship_date: '2025-03-14',
  disposition: 'shipped',
};
const phone = (imei: string, serial = `SN-${imei}`): Cells => ({ ...BASE, line_number: '1', sku: 'PHONE', serial_number: serial, imei });
const record = (c: Cells): Record<string, string> => Object.fromEntries(WAREHOUSE_RESPONSE_COLUMNS.map((k) => [k, c[k] ?? '']));
const csvLine = (c: Cells) => WAREHOUSE_RESPONSE_COLUMNS.map((k) => c[k] ?? '').join(',');

/** `validator(null)`: no expected warehouse. */
function validator(expected: string | null = 'WH1') {
  const v = new DispatchRowValidator(lookup, expected ?? undefined);
  expect(v.checkHeader([...WAREHOUSE_RESPONSE_COLUMNS])).toBeNull();
  return v;
}
function rejectionCode(c: Cells, v = validator()): string | undefined {
  const r = v.accept(record(c), 1);
  return 'rejection' in r ? r.rejection.code : undefined;
}

describe('header', () => {
  const v = () => new DispatchRowValidator(lookup);
  it('accepts the exact header, trimmed, with a BOM', () => {
    expect(v().checkHeader([...WAREHOUSE_RESPONSE_COLUMNS])).toBeNull();
    expect(v().checkHeader(WAREHOUSE_RESPONSE_COLUMNS.map((c, i) => (i === 0 ? `\uFEFF ${c} ` : ` ${c}`)))).toBeNull();
  });
  it.each([
    [[], 'EMPTY_FILE'],
    [[''], 'EMPTY_FILE'],
    [WAREHOUSE_RESPONSE_COLUMNS.slice(0, -1), 'HEADER_MISSING_COLUMNS'],
    [[...WAREHOUSE_RESPONSE_COLUMNS.slice(0, -1), 'error_text'], 'HEADER_MISSING_COLUMNS'],
    [[...WAREHOUSE_RESPONSE_COLUMNS, 'notes'], 'HEADER_UNKNOWN_COLUMNS'],
    [[...WAREHOUSE_RESPONSE_COLUMNS, ''], 'HEADER_UNKNOWN_COLUMNS'],
    [[...WAREHOUSE_RESPONSE_COLUMNS, 'sku'], 'HEADER_DUPLICATE_COLUMNS'],
    [[...WAREHOUSE_RESPONSE_COLUMNS].reverse(), 'HEADER_COLUMN_ORDER'],
    [WAREHOUSE_RESPONSE_COLUMNS.map((c) => c.toUpperCase()), 'HEADER_MISSING_COLUMNS'],
  ] as [string[], string][])('%j → %s', (columns, code) => {
    const r = v().checkHeader(columns);
    expect(r).toMatchObject({ rowNumber: 0, code });
    expect(r?.message).toBeTruthy();
  });
  it('names the missing and unknown columns', () => {
    expect(v().checkHeader(WAREHOUSE_RESPONSE_COLUMNS.filter((c) => c !== 'imei2'))?.message).toContain('imei2');
    expect(v().checkHeader([...WAREHOUSE_RESPONSE_COLUMNS, 'notes'])?.message).toContain('"notes"');
  });
  it('acceptCells refuses to run before a valid header', () => {
    expect(() => v().acceptCells([], 1)).toThrow(/checkHeader/);
  });
  it('a whole file with a bad header reads no rows', () => {
    const r = parseWarehouseResponseCsv('a,b,c\n1,2,3\n', lookup);
    expect(r.headerRejection?.code).toBe('HEADER_MISSING_COLUMNS');
    expect(r.rows).toEqual([]);
    expect(r.rejections).toEqual([]);
    expect(r.recordCount).toBe(0);
  });
  it('an empty file is EMPTY_FILE', () => {
    expect(parseWarehouseResponseCsv('', lookup).headerRejection?.code).toBe('EMPTY_FILE');
    expect(parseWarehouseResponseCsv('\n\n', lookup).headerRejection?.code).toBe('EMPTY_FILE');
    expect(validateWarehouseResponseRecords([], lookup).headerRejection?.code).toBe('EMPTY_FILE');
  });
  it('a header-only file is valid and empty', () => {
    const r = parseWarehouseResponseCsv(HEADER + '\n', lookup);
    expect(r).toEqual({ headerRejection: null, rows: [], rejections: [], unknownOrders: [], recordCount: 0 });
  });
});

describe('valid rows', () => {
  it('maps a shipped unit with serial, IMEI and IMEI2', () => {
    const r = validator().accept(record({ ...phone(IMEI_A, ' SN-1 '), imei2: IMEI_B }), 7);
    expect(r).toEqual({
      row: {
        rowNumber: 7,
        warehouseId: 'WH1',
        subOrderNumber: 'ORD-1-WH1',
        lineNumber: 1,
        sku: 'PHONE',
        quantityShipped: 1,
        serialNumber: 'SN-1',
        imei: IMEI_A,
        imei2: IMEI_B,
        carrier: 'DPD',
        trackingNumber: 'T1',
        shipDate: '2025-03-14',
        disposition: 'shipped',
      },
    });
  });
  it('omits empty optional cells', () => {
    const r = validator().accept(record({ ...BASE, carrier: '', tracking_number: ' ' }), 1);
    expect(r).toEqual({
      row: {
        rowNumber: 1,
        warehouseId: 'WH1',
        subOrderNumber: 'ORD-1-WH1',
        lineNumber: 2,
        sku: 'CABLE',
        quantityShipped: 1,
        shipDate: '2025-03-14',
        disposition: 'shipped',
      },
    });
  });
  it('accepts several units of a no-capture line on one row, up to the ordered quantity', () => {
    const v = validator();
    expect('row' in v.accept(record({ ...BASE, quantity_shipped: '3', disposition: 'partial' }), 1)).toBe(true);
    expect('row' in v.accept(record({ ...BASE, quantity_shipped: '2' }), 2)).toBe(true);
  });
  it('accepts a serial-captured unit without IMEI', () => {
    expect(validator().accept(record({ ...BASE, line_number: '3', sku: 'ROUTER', serial_number: 'R-1' }), 1)).toHaveProperty('row.serialNumber', 'R-1');
  });
  it('accepts rows that ship nothing with quantity 0 or empty', () => {
    const v = validator();
    for (const [disposition, q, code] of [
      ['outOfStock', '', ''],
      ['outOfStock', '0', 'NO_STOCK'],
      ['cancelled', '0', ''],
      ['cancelled', '', 'CUSTOMER_CANCELLED'],
      ['error', '', 'ADDRESS_INVALID'],
      ['error', '00', 'X'],
    ]) {
      const r = v.accept(record({ ...BASE, quantity_shipped: q, ship_date: '', disposition, error_code: code, carrier: '', tracking_number: '' }), 1);
      expect(r).toHaveProperty('row.quantityShipped', 0);
    }
  });
  it(`defaults an outOfStock row's empty error_code to ${DEFAULT_OUT_OF_STOCK_CODE}`, () => {
    const r = validator().accept(record({ ...BASE, quantity_shipped: '0', disposition: 'outOfStock', ship_date: '' }), 1);
    expect(r).toHaveProperty('row.errorCode', 'OUT_OF_STOCK');
    const c = validator().accept(record({ ...BASE, quantity_shipped: '', disposition: 'cancelled', ship_date: '' }), 1);
    expect(c).toHaveProperty('row');
    expect(c).not.toHaveProperty('row.errorCode');
  });
  it('does not count rows that ship nothing towards over-shipping', () => {
    const v = validator();
    v.accept(record({ ...BASE, quantity_shipped: '0', disposition: 'cancelled', ship_date: '' }), 1);
    expect(v.accept(record({ ...BASE, quantity_shipped: '5' }), 2)).toHaveProperty('row');
  });
  it('trims cells', () => {
    const r = validator().accept(record({ ...BASE, warehouse_id: ' WH1 ', line_number: ' 2', sku: 'CABLE\t', disposition: ' shipped ' }), 1);
    expect(r).toHaveProperty('row.sku', 'CABLE');
  });
  it('allows a ship date on an outOfStock row', () => {
    expect(validator().accept(record({ ...BASE, quantity_shipped: '0', disposition: 'outOfStock' }), 1)).toHaveProperty('row.shipDate', '2025-03-14');
  });
  it('treats absent keys as empty cells', () => {
    const { carrier: _c, tracking_number: _t, ...rest } = record(BASE);
    expect(validator().accept(rest, 1)).toHaveProperty('row');
  });
});

describe('returned rows (a unit back under a return)', () => {
  it('name the unit and carry its condition grade in error_code, shipping nothing', () => {
    const r = validator().accept(
      record({ ...phone(IMEI_A), quantity_shipped: '0', disposition: 'returned', error_code: 'scrap', carrier: '', tracking_number: '' }),
      3,
    );
    expect(r).toEqual({
      row: expect.objectContaining({
        rowNumber: 3,
        disposition: 'returned',
        imei: IMEI_A,
        serialNumber: `SN-${IMEI_A}`,
        quantityShipped: 0,
        errorCode: 'scrap',
      }) as DispatchRow,
    });
  });
});

describe('unknown sub-orders', () => {
  it('are exceptions, not rejections, once well-formed', () => {
    const r = validator().accept(record({ ...BASE, sub_order_number: 'ORD-999-WH1', line_number: '9', sku: 'ANY' }), 4);
    expect(r).toEqual({
      unknownOrder: expect.objectContaining({ rowNumber: 4, subOrderNumber: 'ORD-999-WH1', lineNumber: 9, sku: 'ANY' }) as DispatchRow,
    });
  });
  it('are shape-validated first', () => {
    expect(rejectionCode({ ...BASE, sub_order_number: 'ORD-999-WH1', imei: BAD_IMEI, serial_number: 'S' })).toBe('INVALID_IMEI');
    expect(rejectionCode({ ...BASE, sub_order_number: 'ORD-999-WH1', quantity_shipped: '0' })).toBe('INVALID_QUANTITY');
    expect(rejectionCode({ ...BASE, sub_order_number: 'ORD-999-WH1', warehouse_id: 'WH9' })).toBe('WAREHOUSE_MISMATCH');
  });
});

describe('rejections', () => {
  const long = (n: number) => 'x'.repeat(n);
  const cases: [string, Cells | (() => string | undefined), string][] = [
    ['a control character', { ...BASE, carrier: 'D\u0007PD' }, 'INVALID_CHARACTERS'],
    ['an embedded line break', { ...BASE, error_message: 'a\nb' }, 'INVALID_CHARACTERS'],
    ['a 101-character SKU', { ...BASE, sku: long(101) }, 'FIELD_TOO_LONG'],
    ['a 257-character message', { ...BASE, error_message: long(257) }, 'FIELD_TOO_LONG'],
    ['an empty warehouse_id', { ...BASE, warehouse_id: '' }, 'MISSING_FIELD'],
    ['an empty sub_order_number', { ...BASE, sub_order_number: ' ' }, 'MISSING_FIELD'],
    ['an empty line_number', { ...BASE, line_number: '' }, 'MISSING_FIELD'],
    ['an empty sku', { ...BASE, sku: '' }, 'MISSING_FIELD'],
    ['an empty disposition', { ...BASE, disposition: '' }, 'MISSING_FIELD'],
    ['an unknown disposition', { ...BASE, disposition: 'lost' }, 'INVALID_DISPOSITION'],
    ['a wrongly cased disposition', { ...BASE, disposition: 'Shipped' }, 'INVALID_DISPOSITION'],
    ["another warehouse's row", { ...BASE, warehouse_id: 'WH2' }, 'WAREHOUSE_MISMATCH'],
    ['line number 0', { ...BASE, line_number: '0' }, 'INVALID_LINE_NUMBER'],
    ['line number -1', { ...BASE, line_number: '-1' }, 'INVALID_LINE_NUMBER'],
    ['line number 1.5', { ...BASE, line_number: '1.5' }, 'INVALID_LINE_NUMBER'],
    ['line number 1e3', { ...BASE, line_number: '1e3' }, 'INVALID_LINE_NUMBER'],
    ['a huge line number', { ...BASE, line_number: '99999999999999999999' }, 'INVALID_LINE_NUMBER'],
    ['quantity 0 on a shipped row', { ...BASE, quantity_shipped: '0' }, 'INVALID_QUANTITY'],
    ['an empty quantity on a partial row', { ...BASE, quantity_shipped: '', disposition: 'partial' }, 'INVALID_QUANTITY'],
    ['quantity 1.0', { ...BASE, quantity_shipped: '1.0' }, 'INVALID_QUANTITY'],
    ['quantity +1', { ...BASE, quantity_shipped: '+1' }, 'INVALID_QUANTITY'],
    ['quantity 1 on an outOfStock row', { ...BASE, quantity_shipped: '1', disposition: 'outOfStock' }, 'INVALID_QUANTITY'],
    ['quantity -0 on a cancelled row', { ...BASE, quantity_shipped: '-0', disposition: 'cancelled' }, 'INVALID_QUANTITY'],
    ['no ship date on a shipped row', { ...BASE, ship_date: '' }, 'MISSING_SHIP_DATE'],
    ['no ship date on a partial row', { ...BASE, ship_date: '', disposition: 'partial' }, 'MISSING_SHIP_DATE'],
    ['ship date 2025-02-29', { ...BASE, ship_date: '2025-02-29' }, 'INVALID_SHIP_DATE'],
    ['ship date 2025-13-01', { ...BASE, ship_date: '2025-13-01' }, 'INVALID_SHIP_DATE'],
    ['ship date 14/03/2025', { ...BASE, ship_date: '14/03/2025' }, 'INVALID_SHIP_DATE'],
    ['a ship date with a time', { ...BASE, ship_date: '2025-03-14T10:00:00Z' }, 'INVALID_SHIP_DATE'],
    ['a bad ship date on a cancelled row', { ...BASE, quantity_shipped: '', disposition: 'cancelled', ship_date: '2025-00-10' }, 'INVALID_SHIP_DATE'],
    ['an error row without error_code', { ...BASE, quantity_shipped: '0', disposition: 'error', ship_date: '' }, 'MISSING_ERROR_CODE'],
    ['a serial on an outOfStock row', { ...BASE, quantity_shipped: '0', disposition: 'outOfStock', serial_number: 'S' }, 'UNEXPECTED_UNIT'],
    ['an IMEI on an error row', { ...BASE, quantity_shipped: '0', disposition: 'error', error_code: 'E', imei: IMEI_A }, 'UNEXPECTED_UNIT'],
    ['a returned row without a unit', { ...BASE, quantity_shipped: '0', disposition: 'returned', error_code: 'A' }, 'MISSING_RETURNED_UNIT'],
    ['a returned row without a grade', { ...BASE, quantity_shipped: '0', disposition: 'returned', imei: IMEI_A }, 'INVALID_CONDITION_GRADE'],
    [
      'a returned row with an unknown grade',
      { ...BASE, quantity_shipped: '', disposition: 'returned', imei: IMEI_A, error_code: 'D' },
      'INVALID_CONDITION_GRADE',
    ],
    ['a bad IMEI check digit', phone(BAD_IMEI), 'INVALID_IMEI'],
    ['a 14-digit IMEI', phone(IMEI_A.slice(0, 14)), 'INVALID_IMEI'],
    ['a bad IMEI on a no-capture line', { ...BASE, serial_number: 'S', imei: BAD_IMEI }, 'INVALID_IMEI'],
    ['a bad IMEI2', { ...phone(IMEI_A), imei2: BAD_IMEI }, 'INVALID_IMEI2'],
    ['IMEI2 without IMEI', { ...BASE, serial_number: 'S', imei2: IMEI_A }, 'INVALID_IMEI2'],
    ['IMEI2 equal to IMEI', { ...phone(IMEI_A), imei2: IMEI_A }, 'INVALID_IMEI2'],
    ['a serial on a quantity-2 row', { ...BASE, quantity_shipped: '2', serial_number: 'S' }, 'UNIT_QUANTITY_NOT_ONE'],
    ['an IMEI on a quantity-2 row', { ...phone(IMEI_A), quantity_shipped: '2' }, 'UNIT_QUANTITY_NOT_ONE'],
    [
      "the sub-order's warehouse differs (no expected warehouse)",
      () => rejectionCode({ ...BASE, warehouse_id: 'WH1', sub_order_number: 'ORD-2-WH2', line_number: '1' }, validator(null)),
      'WAREHOUSE_MISMATCH',
    ],
    ['an unknown line', { ...BASE, line_number: '4' }, 'UNKNOWN_LINE'],
    ['a SKU that is not the line\u2019s', { ...BASE, sku: 'ROUTER' }, 'SKU_MISMATCH'],
    ['a SKU differing in case', { ...BASE, sku: 'cable' }, 'SKU_MISMATCH'],
    ['no serial on a serial line', { ...BASE, line_number: '3', sku: 'ROUTER' }, 'MISSING_SERIAL'],
    ['no serial on an IMEI line', { ...phone(IMEI_A), serial_number: '' }, 'MISSING_SERIAL'],
    ['no IMEI on an IMEI line', { ...phone(IMEI_A), imei: '' }, 'MISSING_IMEI'],
    ['several units on an IMEI line without ids', { ...BASE, line_number: '1', sku: 'PHONE', quantity_shipped: '2' }, 'MISSING_SERIAL'],
    ['more than ordered on one row', { ...BASE, quantity_shipped: '6' }, 'OVER_SHIPPED'],
  ];
  it.each(cases)('%s → %s', (_name, c, code) => {
    const got = typeof c === 'function' ? c() : rejectionCode(c);
    expect(got).toBe(code);
  });

  it('every rejection carries its row number and a message naming the row', () => {
    const r = validator().accept(record({ ...BASE, disposition: 'lost' }), 12);
    expect(r).toEqual({ rejection: { rowNumber: 12, code: 'INVALID_DISPOSITION', message: expect.stringMatching(/^Row 12: disposition "lost"/) as string } });
  });

  it('DUPLICATE_UNIT: the same serial twice in a sub-order', () => {
    const v = validator();
    expect(v.accept(record({ ...BASE, line_number: '3', sku: 'ROUTER', serial_number: 'R-1' }), 1)).toHaveProperty('row');
    const r = v.accept(record({ ...BASE, line_number: '3', sku: 'ROUTER', serial_number: 'R-1' }), 2);
    expect(r).toHaveProperty('rejection.code', 'DUPLICATE_UNIT');
    expect(r).toHaveProperty('rejection.message', expect.stringContaining('row 1') as string);
  });
  it('DUPLICATE_UNIT: the same IMEI twice, in either slot', () => {
    const v = validator();
    expect(v.accept(record({ ...phone(IMEI_A, 'S1'), imei2: IMEI_B }), 1)).toHaveProperty('row');
    expect(v.accept(record(phone(IMEI_A, 'S2')), 2)).toHaveProperty('rejection.code', 'DUPLICATE_UNIT');
    expect(v.accept(record(phone(IMEI_B, 'S3')), 3)).toHaveProperty('rejection.code', 'DUPLICATE_UNIT');
    expect(v.accept(record({ ...phone(IMEI_C, 'S4'), imei2: IMEI_A }), 4)).toHaveProperty('rejection.code', 'DUPLICATE_UNIT');
    expect(v.accept(record(phone(IMEI_C, 'S5')), 5)).toHaveProperty('row');
  });
  it('a rejected unit does not block a later valid one', () => {
    const v = validator();
    expect(v.accept(record({ ...phone(IMEI_A, 'S1'), ship_date: '' }), 1)).toHaveProperty('rejection');
    expect(v.accept(record(phone(IMEI_A, 'S1')), 2)).toHaveProperty('row');
  });
  it('the same serial in different sub-orders is not a duplicate', () => {
    const v = validator(null);
    expect(v.accept(record({ ...BASE, serial_number: 'S' }), 1)).toHaveProperty('row');
    expect(v.accept(record({ ...BASE, warehouse_id: 'WH2', sub_order_number: 'ORD-2-WH2', line_number: '1', serial_number: 'S' }), 2)).toHaveProperty('row');
  });
  it('OVER_SHIPPED across rows of the file', () => {
    const v = validator();
    for (const [i, imei] of [IMEI_A, IMEI_B, IMEI_C].entries()) expect(v.accept(record(phone(imei)), i + 1)).toHaveProperty('row');
    expect(v.accept(record(phone(IMEI_D)), 4)).toHaveProperty('rejection.code', 'OVER_SHIPPED');
    const w = validator();
    expect(w.accept(record({ ...BASE, quantity_shipped: '4' }), 1)).toHaveProperty('row');
    expect(w.accept(record({ ...BASE, quantity_shipped: '2', disposition: 'partial' }), 2)).toHaveProperty('rejection.code', 'OVER_SHIPPED');
    expect(w.accept(record({ ...BASE, quantity_shipped: '1' }), 3)).toHaveProperty('row');
  });
  it('COLUMN_COUNT for short and long rows', () => {
    const r = parseWarehouseResponseCsv(`${HEADER}\nWH1,ORD-1-WH1,2\n${csvLine(BASE)},extra\n`, lookup, 'WH1');
    expect(r.rejections.map((x) => [x.rowNumber, x.code])).toEqual([
      [1, 'COLUMN_COUNT'],
      [2, 'COLUMN_COUNT'],
    ]);
  });
  it('every documented code is exercised somewhere in this file', () => {
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8');
    for (const code of Object.keys(REJECTION_CODES)) expect(source).toContain(`'${code}'`);
  });
});

describe('parsing', () => {
  it('handles quoted fields with commas, quotes and surrounding spaces', () => {
    const row = csvLine({
      ...BASE,
      quantity_shipped: '0',
      disposition: 'error',
      ship_date: '',
      error_code: 'E1',
      error_message: '"Dock closed, try ""Monday"""',
    });
    const r = parseWarehouseResponseCsv(`${HEADER}\n${row}\n`, lookup, 'WH1');
    expect(r.rows[0].errorMessage).toBe('Dock closed, try "Monday"');
    const spaced = parseWarehouseResponseCsv(`${HEADER}\n${csvLine({ ...BASE, sku: ' "CABLE" ' })}\n`, lookup, 'WH1');
    expect(spaced.rows[0]?.sku).toBe('CABLE');
  });
  it('rejects a quoted line break as INVALID_CHARACTERS rather than splitting the row', () => {
    const row = csvLine({ ...BASE, quantity_shipped: '0', disposition: 'error', ship_date: '', error_code: 'E1', error_message: '"line one\nline two"' });
    const r = parseWarehouseResponseCsv(`${HEADER}\n${row}\n`, lookup, 'WH1');
    expect(r.rejections).toEqual([expect.objectContaining({ rowNumber: 1, code: 'INVALID_CHARACTERS' }) as object]);
  });
  it('handles a BOM, CRLF line ends, blank lines and a missing final newline', () => {
    const text = `\uFEFF${HEADER}\r\n${csvLine(BASE)}\r\n\r\n${csvLine({ ...BASE, quantity_shipped: '2' })}`;
    const r = parseWarehouseResponseCsv(text, lookup, 'WH1');
    expect(r.headerRejection).toBeNull();
    expect(r.rows.map((x) => [x.rowNumber, x.quantityShipped])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
  it('throws MalformedCsvError for an unclosed quote', () => {
    const text = `${HEADER}\n${csvLine({ ...BASE, carrier: '"DPD' })}\n`;
    let err: unknown;
    try {
      parseWarehouseResponseCsv(text, lookup, 'WH1');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedCsvError);
    expect((err as MalformedCsvError).code).toBe('MALFORMED_CSV');
    expect((err as MalformedCsvError).csvCode).toBe('CSV_QUOTE_NOT_CLOSED');
  });
  it('throws MalformedCsvError for a quote inside an unquoted field', () => {
    expect(() => parseWarehouseResponseCsv(`${HEADER}\n${csvLine({ ...BASE, carrier: 'D"PD' })}\n`, lookup)).toThrow(MalformedCsvError);
  });
  it('streams with csv-parse and the async validator, with the same result as the sync path', async () => {
    const text = readFileSync(EXAMPLE_CSV);
    const streamed = await validateWarehouseResponseRecordsAsync(
      Readable.from([text.subarray(0, 100), text.subarray(100)]).pipe(parse(csvParseOptions)),
      exampleLookup,
      EXAMPLE_WAREHOUSE_ID,
    );
    expect(streamed).toEqual(parseWarehouseResponseCsv(text.toString('utf8'), exampleLookup, EXAMPLE_WAREHOUSE_ID));
  });
  it('the async validator surfaces a stream parse error as MalformedCsvError', async () => {
    const stream = Readable.from([`${HEADER}\n${csvLine(BASE)}\n"unclosed`]).pipe(parse(csvParseOptions));
    await expect(validateWarehouseResponseRecordsAsync(stream, lookup)).rejects.toMatchObject({ code: 'MALFORMED_CSV', csvCode: 'CSV_QUOTE_NOT_CLOSED' });
  });
  it('the async validator stops reading after a bad header', async () => {
    let pulled = 0;
    function* records() {
      for (const r of [['bad'], ['1'], ['2']]) {
        pulled++;
        yield r;
      }
    }
    const r = await validateWarehouseResponseRecordsAsync(records(), lookup);
    expect(r.headerRejection?.code).toBe('HEADER_MISSING_COLUMNS');
    expect(pulled).toBe(1);
  });
});

describe('the example file', () => {
  const text = readFileSync(EXAMPLE_CSV, 'utf8');
  const result = parseWarehouseResponseCsv(text, exampleLookup, EXAMPLE_WAREHOUSE_ID);

  it('is valid: every row accepted', () => {
    expect(result.headerRejection).toBeNull();
    expect(result.rejections).toEqual([]);
    expect(result.unknownOrders).toEqual([]);
    expect(result.rows).toHaveLength(6);
    expect(result.rows.map((r) => r.disposition)).toEqual(['shipped', 'shipped', 'partial', 'outOfStock', 'shipped', 'error']);
    expect(result.rows[2].errorMessage).toBe('1 unit back-ordered, due 2025-03-21');
    expect(result.rows[3].errorCode).toBe('OUT_OF_STOCK');
  });
  it('makes a schema-valid DispatchBatch', () => {
    const batch: DispatchBatch = {
      schemaVersion: '1',
      batchId: 'a'.repeat(64),
      warehouseId: EXAMPLE_WAREHOUSE_ID,
      sourceFile: 'warehouse-response.example.csv',
      receivedAt: '2025-03-14T18:00:00.000Z',
      rows: result.rows,
    };
    expect(validateDispatchBatch(batch)).toEqual({ ok: true });
  });
  it('is the example in docs/warehouse-files.md', () => {
    expect(readFileSync(DOC, 'utf8')).toContain('```csv\n' + text + '```');
  });
  it("the documentation's rejection examples give the documented results", () => {
    const doc = readFileSync(DOC, 'utf8');
    const examples = [...doc.matchAll(/^\| `(WH-LON,[^`]+)` \| (?:`([A-Z_]+)`|(unknown order))/gm)];
    expect(examples.length).toBeGreaterThanOrEqual(5);
    for (const [, line, code, unknown] of examples) {
      const r = parseWarehouseResponseCsv(`${HEADER}\n${line}\n`, exampleLookup, EXAMPLE_WAREHOUSE_ID);
      if (unknown) expect(r.unknownOrders).toHaveLength(1);
      else expect(r.rejections.map((x) => x.code)).toEqual([code]);
    }
  });
  it('the documentation lists every rejection code', () => {
    const doc = readFileSync(DOC, 'utf8');
    for (const code of Object.keys(REJECTION_CODES)) expect(doc).toContain(`\`${code}\``);
    expect(doc).toContain('`MALFORMED_CSV`');
  });
});

describe('DispatchBatch schema', () => {
  const row: DispatchRow = {
    rowNumber: 1,
    warehouseId: 'WH1',
    subOrderNumber: 'S',
    lineNumber: 1,
    sku: 'X',
    quantityShipped: 1,
    shipDate: '2025-03-14',
    disposition: 'shipped',
  };
  const batch = (rows: unknown[], extra: Record<string, unknown> = {}) => ({
    schemaVersion: '1',
    batchId: '0'.repeat(64),
    warehouseId: 'WH1',
    sourceFile: 'in/f.csv',
    receivedAt: '2025-03-14T18:00:00Z',
    rows,
    ...extra,
  });
  it('accepts an empty batch and a minimal row', () => {
    expect(validateDispatchBatch(batch([]))).toEqual({ ok: true });
    expect(validateDispatchBatch(batch([row]))).toEqual({ ok: true });
  });
  it.each([
    ['an upper-case batch id', batch([], { batchId: 'A'.repeat(64) }), /batchId must match pattern/],
    ['a bad receivedAt', batch([], { receivedAt: 'yesterday' }), /receivedAt must match format "date-time"/],
    ['an extra property', batch([], { note: 1 }), /must NOT have additional properties: note/],
    ['an extra row property', batch([{ ...row, foo: 1 }]), /rows\/0 must NOT have additional properties: foo/],
    ['a shipped row with quantity 0', batch([{ ...row, quantityShipped: 0 }]), /quantityShipped must be >= 1/],
    ['a shipped row without ship date', batch([{ ...row, shipDate: undefined }]), /must have required property 'shipDate'/],
    ['a cancelled row with quantity', batch([{ ...row, disposition: 'cancelled' }]), /quantityShipped must be equal to constant/],
    ['an error row without code', batch([{ ...row, disposition: 'error', quantityShipped: 0 }]), /must have required property 'errorCode'/],
    ['an IMEI row with quantity 2', batch([{ ...row, quantityShipped: 2, imei: IMEI_A }]), /quantityShipped must be equal to constant/],
    ['a 14-digit IMEI', batch([{ ...row, imei: '12345678901234' }]), /imei must match pattern/],
    ['imei2 without imei', batch([{ ...row, imei2: IMEI_A }]), /must have required property 'imei'/],
    [
      'a serial on an outOfStock row',
      batch([{ ...row, disposition: 'outOfStock', quantityShipped: 0, errorCode: 'X', serialNumber: 'S' }]),
      /must NOT be valid/,
    ],
    ['an impossible ship date', batch([{ ...row, shipDate: '2025-02-30' }]), /shipDate must match format "date"/],
    ['an unknown disposition', batch([{ ...row, disposition: 'lost' }]), /disposition must be equal to one of the allowed values/],
  ])('rejects %s', (_n, b, message) => {
    const r = validateDispatchBatch(JSON.parse(JSON.stringify(b)));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toMatch(message);
  });
});

describe('helpers', () => {
  it('isValidIsoDate knows leap years', () => {
    expect(isValidIsoDate('2024-02-29')).toBe(true);
    expect(isValidIsoDate('2000-02-29')).toBe(true);
    expect(isValidIsoDate('1900-02-29')).toBe(false);
    expect(isValidIsoDate('2025-04-31')).toBe(false);
    expect(isValidIsoDate('2025-12-31')).toBe(true);
    expect(isValidIsoDate('2025-1-01')).toBe(false);
  });
  it('summariseRejections groups by code, most frequent first', () => {
    const s = summariseRejections([
      { rowNumber: 9, code: 'B', message: 'b9' },
      { rowNumber: 3, code: 'A', message: 'a3' },
      { rowNumber: 2, code: 'B', message: 'b2' },
      { rowNumber: 5, code: 'C', message: 'c5' },
    ]);
    expect(s).toEqual([
      { code: 'B', count: 2, sampleRows: [2, 9], example: 'b9' },
      { code: 'A', count: 1, sampleRows: [3], example: 'a3' },
      { code: 'C', count: 1, sampleRows: [5], example: 'c5' },
    ]);
  });
});
