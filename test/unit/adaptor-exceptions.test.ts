// Pure rules of adaptor exceptions and dispatch batches: a batch's outcome, where an exception's row
// may be reapplied (and why not), and the API's opaque cursors.
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from '../../api/cursor';
import { ADAPTOR_EXCEPTION_ID, adaptorExceptionId, batchOutcome, holdsRow, reapplyTarget } from '../../domain/adaptor-exceptions';
import type { OrderState } from '../../domain/order-state';
import type { DispatchRow, SubOrder, SubOrderRef } from '../../domain/types';

describe('batch outcome', () => {
  it('is running until the dispatch job is done, then applied or partial by its counts', () => {
    expect(batchOutcome({ status: 'received', rejectedRows: 5, exceptionRows: 0 })).toBe('running');
    expect(batchOutcome({ status: 'done', rejectedRows: 0, exceptionRows: 0 })).toBe('applied');
    expect(batchOutcome({ status: 'done', rejectedRows: 1, exceptionRows: 0 })).toBe('partial');
    expect(batchOutcome({ status: 'done', rejectedRows: 0, exceptionRows: 3 })).toBe('partial');
  });
});

describe('exception ids', () => {
  it('are the row’s place in its batch', () => {
    const id = adaptorExceptionId('a'.repeat(64), 12);
    expect(id).toBe(`${'a'.repeat(64)}:12`);
    expect(ADAPTOR_EXCEPTION_ID.test(id)).toBe(true);
    for (const bad of ['a'.repeat(64), `${'a'.repeat(63)}:1`, `${'a'.repeat(64)}:0`, `${'A'.repeat(64)}:1`, `${'a'.repeat(64)}:1x`])
      expect(ADAPTOR_EXCEPTION_ID.test(bad)).toBe(false);
  });
});

const sub = (over: Partial<SubOrder> = {}): SubOrder => ({
  subOrderNumber: 'ORD-1-WH-NORTH',
  warehouseId: 'WH-NORTH',
  lines: [
    { lineNumber: 1, sku: 'HS-X', quantity: 2 },
    { lineNumber: 2, sku: 'PR-Y', quantity: 1 },
  ],
  status: 'Sent',
  units: [],
  lineExceptions: [],
  ...over,
});
const refOf = (s: SubOrder): SubOrderRef => ({
  orderId: 'ORD-1',
  subOrderNumber: s.subOrderNumber,
  warehouseId: s.warehouseId,
  lines: [
    { lineNumber: 1, sku: 'HS-X', quantity: 2, capture: 'imei' },
    { lineNumber: 2, sku: 'PR-Y', quantity: 1, capture: 'none' },
  ],
});
const order = (subs: SubOrder[], status: OrderState['status'] = 'AwaitingDispatch') =>
  ({ orderId: 'ORD-1', status, subOrders: subs }) as Pick<OrderState, 'orderId' | 'status' | 'subOrders'>;
const refs = (subs: SubOrder[]) => new Map(subs.map((s) => [s.subOrderNumber, refOf(s)]));
const row = (over: Partial<DispatchRow> = {}): DispatchRow => ({
  rowNumber: 4,
  warehouseId: 'WH-NORTH',
  subOrderNumber: 'ORD-TYPO-WH-NORTH',
  lineNumber: 2,
  sku: 'PR-Y',
  quantityShipped: 1,
  shipDate: '2025-03-14',
  disposition: 'shipped',
  ...over,
});

describe('reapplyTarget', () => {
  it("puts the row on the order's sub-order at its warehouse, with that sub-order's number", () => {
    const s = sub();
    expect(reapplyTarget(order([s]), row(), 'WH-NORTH', refs([s]))).toEqual({
      subOrderNumber: s.subOrderNumber,
      row: { ...row(), subOrderNumber: s.subOrderNumber },
    });
  });

  it('refuses an order that no longer waits for dispatch, or has nothing at the warehouse', () => {
    const s = sub();
    expect(reapplyTarget(order([s], 'Complete'), row(), 'WH-NORTH', refs([s]))).toMatchObject({ refused: { code: 'ORDER_NOT_AWAITING_DISPATCH' } });
    const south = sub({ warehouseId: 'WH-SOUTH', subOrderNumber: 'ORD-1-WH-SOUTH' });
    expect(reapplyTarget(order([south]), row(), 'WH-NORTH', refs([south]))).toMatchObject({ refused: { code: 'NO_SUB_ORDER_AT_WAREHOUSE' } });
  });

  it('refuses a row that does not fit: line, SKU, capture, quantity left, a unit already shipped, a sub-order already resolved', () => {
    const s = sub();
    const refusal = (r: DispatchRow, subs = [s]) => {
      const t = reapplyTarget(order(subs), r, 'WH-NORTH', refs(subs));
      return 'refused' in t ? t.refused.code + ': ' + t.refused.message : 'fits';
    };
    expect(refusal(row({ lineNumber: 3 }))).toMatch(/^ROW_DOES_NOT_FIT: .*no line 3/);
    expect(refusal(row({ sku: 'PR-Z' }))).toMatch(/^ROW_DOES_NOT_FIT: .*SKU PR-Y, not PR-Z/);
    expect(refusal(row({ lineNumber: 1, sku: 'HS-X' }))).toMatch(/^ROW_DOES_NOT_FIT: .*serial number/);
    expect(refusal(row({ quantityShipped: 2 }))).toMatch(/^ROW_DOES_NOT_FIT: .*ordered 1/);
    const shipped = sub({ units: [{ rowKey: 'b:1', batchId: 'b', lineNumber: 2, sku: 'PR-Y', quantity: 1 }] });
    expect(refusal(row(), [shipped])).toMatch(/^ROW_DOES_NOT_FIT: .*more than ordered/);
    const imeiUnit = { rowKey: 'b:1', batchId: 'b', lineNumber: 1, sku: 'HS-X', quantity: 1, serialNumber: 'S1', imei: '490154203237518' };
    const withImei = sub({ units: [imeiUnit] });
    expect(refusal(row({ lineNumber: 1, sku: 'HS-X', serialNumber: 'S2', imei: '490154203237518' }), [withImei])).toMatch(/a unit it already has/);
    expect(refusal(row({ lineNumber: 1, sku: 'HS-X', serialNumber: 'S2', imei: '356938035643809' }), [withImei])).toBe('fits');
    expect(refusal(row(), [sub({ status: 'Shipped' })])).toMatch(/^ROW_DOES_NOT_FIT: .*Shipped/);
  });

  it('tries each sub-order at the warehouse (a resubmitted one), or only the one named', () => {
    const first = sub({ status: 'Error' });
    const again = sub({ subOrderNumber: 'ORD-1-WH-NORTH-R1' });
    expect(reapplyTarget(order([first, again]), row(), 'WH-NORTH', refs([first, again]))).toMatchObject({ subOrderNumber: 'ORD-1-WH-NORTH-R1' });
    expect(reapplyTarget(order([first, again]), row(), 'WH-NORTH', refs([first, again]), 'ORD-1-WH-NORTH')).toMatchObject({
      refused: { code: 'ROW_DOES_NOT_FIT' },
    });
  });

  it('knows when the order holds the row already', () => {
    const s = sub({ lineExceptions: [{ rowKey: 'exception:x:4', lineNumber: 2, disposition: 'error', code: 'E', message: 'm' }] });
    expect(holdsRow(order([s]), 'exception:x:4')).toBe(true);
    expect(holdsRow(order([s]), 'exception:x:5')).toBe(false);
  });
});

describe('cursors', () => {
  it('hand back the key they were made from, and refuse anything else', () => {
    expect(decodeCursor(encodeCursor(['2025-03-14T10:00:00.000Z', 'abc']), ['string', 'string'])).toEqual(['2025-03-14T10:00:00.000Z', 'abc']);
    expect(decodeCursor(encodeCursor([2, 499]), ['number', 'number'])).toEqual([2, 499]);
    for (const bad of [
      '',
      'not-base64-json',
      encodeCursor([2, 499]),
      encodeCursor(['a']),
      encodeCursor([1.5, 2]),
      Buffer.from('{"a":1}').toString('base64url'),
    ])
      expect(() => decodeCursor(bad, ['string', 'string'])).toThrow(expect.objectContaining({ status: 400, code: 'VALIDATION_FAILED' }));
    expect(() => decodeCursor(encodeCursor([1.5, 2]), ['number', 'number'])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
