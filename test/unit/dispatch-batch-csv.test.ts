// Writing warehouse response CSV. A JSON dispatch batch posted to the adaptor is rendered as the CSV
// it stands for and goes through the same validation as a file: the rendering must give back
// exactly the rows it was given.
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchToCsv } from '../../api/routes/adaptor';
import type { DispatchBatch, DispatchRow } from '../../domain/types';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { formatWarehouseResponseCsv, parseWarehouseResponseCsv } from '../../domain/warehouse-response-csv';

const printable = (max: number) =>
  fc
    .string({ minLength: 1, maxLength: max, unit: fc.constantFrom(...'abcXYZ019 ,;"\'-_/:é'.split('')) })
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
const ident = fc.stringMatching(/^[A-Z0-9][A-Z0-9-]{0,20}$/);

const shippedRow = fc.record({
  warehouseId: fc.constant('WH-NORTH'),
  subOrderNumber: ident,
  lineNumber: fc.integer({ min: 1, max: 99 }),
  sku: ident,
  quantityShipped: fc.integer({ min: 1, max: 9 }),
  carrier: printable(20),
  trackingNumber: printable(20),
  shipDate: fc.constant('2025-03-14'),
  disposition: fc.constant('shipped' as const),
});
const errorRow = fc.record({
  warehouseId: fc.constant('WH-NORTH'),
  subOrderNumber: ident,
  lineNumber: fc.integer({ min: 1, max: 99 }),
  sku: ident,
  quantityShipped: fc.constant(0),
  disposition: fc.constantFrom('error' as const, 'outOfStock' as const),
  errorCode: ident,
  errorMessage: printable(120),
});

describe('batchToCsv', () => {
  it('renders rows that parse back to the same rows, in row-number order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(shippedRow, errorRow), { minLength: 1, maxLength: 20 }), (drafts) => {
        const rows: DispatchRow[] = drafts.map((d, i) => ({ ...d, rowNumber: (drafts.length - i) * 3 }) as DispatchRow);
        const batch: DispatchBatch = {
          schemaVersion: '1',
          batchId: 'a'.repeat(64),
          warehouseId: 'WH-NORTH',
          sourceFile: 'x.csv',
          receivedAt: '2025-03-14T10:00:00.000Z',
          rows,
        };
        // Unknown sub-orders: every row comes back untouched as an exception row.
        const parsed = parseWarehouseResponseCsv(batchToCsv(batch), () => undefined, 'WH-NORTH');
        expect(parsed.headerRejection).toBeNull();
        expect(parsed.rejections).toEqual([]);
        const sorted = [...rows].sort((a, b) => a.rowNumber - b.rowNumber);
        expect(parsed.unknownOrders).toEqual(sorted.map((r, i) => ({ ...r, rowNumber: i + 1 })));
      }),
      { numRuns: 200 },
    );
  });
});

describe('formatWarehouseResponseCsv', () => {
  it('writes the header, then each row in column order, so that any cells parse back unchanged', () => {
    const cell = fc.string({ unit: fc.constantFrom(...'aZ9 ,;"\'\r\n\t-é'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.constantFrom(...WAREHOUSE_RESPONSE_COLUMNS), cell), { maxLength: 8 }), (rows) => {
        const records = parse(formatWarehouseResponseCsv(rows), { bom: true }) as string[][];
        expect(records[0]).toEqual([...WAREHOUSE_RESPONSE_COLUMNS]);
        expect(records.slice(1)).toEqual(rows.map((r) => WAREHOUSE_RESPONSE_COLUMNS.map((c) => r[c] ?? '')));
      }),
      { numRuns: 300 },
    );
  });

  it('writes numbers as digits and absent cells as empty', () => {
    const text = formatWarehouseResponseCsv([{ warehouse_id: 'WH-NORTH', line_number: 2, quantity_shipped: 0, imei: undefined, imei2: null }]);
    expect(text.split('\n')[1]).toBe(`WH-NORTH,,2,,0${','.repeat(WAREHOUSE_RESPONSE_COLUMNS.length - 5)}`);
    expect(text.endsWith('\n')).toBe(true);
  });
});
