import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocateLines,
  findShortages,
  stockStatus,
  summariseStock,
  type AllocationLine,
  type StockLevel,
  type WarehouseAllocation,
} from '../../domain/allocation';

const line = (lineNumber: number, sku: string, quantity: number): AllocationLine => ({ lineNumber, sku, quantity });
const st = (warehouseId: string, sku: string, available: number): StockLevel => ({ warehouseId, sku, available });

/** Total allocated per line number. */
function perLine(result: WarehouseAllocation[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const w of result) for (const l of w.lines) m.set(l.lineNumber, (m.get(l.lineNumber) ?? 0) + l.quantity);
  return m;
}

/** Warehouses each line number went to. */
function placements(result: WarehouseAllocation[]): Map<number, string[]> {
  const m = new Map<number, string[]>();
  for (const w of result) for (const l of w.lines) m.set(l.lineNumber, [...(m.get(l.lineNumber) ?? []), w.warehouseId]);
  return m;
}

function stockOf(stock: StockLevel[], warehouseId: string, sku: string): number {
  return stock.filter((s) => s.warehouseId === warehouseId && s.sku === sku).reduce((a, s) => a + s.available, 0);
}

describe('allocateLines', () => {
  it('returns nothing for an empty order', () => {
    expect(allocateLines([], [st('W1', 'A', 5)], ['W1'])).toEqual([]);
    expect(allocateLines([], [], [])).toEqual([]);
  });

  it('puts everything on one warehouse when it can supply every line', () => {
    const result = allocateLines([line(1, 'A', 2), line(2, 'B', 1)], [st('W1', 'A', 5), st('W2', 'A', 5), st('W2', 'B', 5)], ['W1', 'W2']);
    expect(result).toEqual([{ warehouseId: 'W2', lines: [line(1, 'A', 2), line(2, 'B', 1)] }]);
  });

  it('picks the first complete warehouse in warehouseOrder', () => {
    const stock = [st('W1', 'A', 5), st('W1', 'B', 5), st('W2', 'A', 5), st('W2', 'B', 5)];
    const lines = [line(1, 'A', 5), line(2, 'B', 5)];
    expect(allocateLines(lines, stock, ['W1', 'W2'])[0].warehouseId).toBe('W1');
    expect(allocateLines(lines, stock, ['W2', 'W1'])[0].warehouseId).toBe('W2');
  });

  it('counts demand per sku when several lines share it (one warehouse must hold the sum)', () => {
    const lines = [line(1, 'A', 3), line(2, 'A', 3)];
    // W1 has 5 (not enough for both), W2 has 6.
    expect(allocateLines(lines, [st('W1', 'A', 5), st('W2', 'A', 6)], ['W1', 'W2'])).toEqual([{ warehouseId: 'W2', lines }]);
  });

  it('minimises warehouses greedily: the one covering most remaining lines first', () => {
    const lines = [line(1, 'A', 1), line(2, 'B', 1), line(3, 'C', 1)];
    const stock = [st('W1', 'A', 1), st('W2', 'B', 1), st('W2', 'C', 1), st('W3', 'A', 1), st('W3', 'B', 1)];
    expect(allocateLines(lines, stock, ['W1', 'W2', 'W3'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'A', 1)] },
      { warehouseId: 'W2', lines: [line(2, 'B', 1), line(3, 'C', 1)] },
    ]);
  });

  it('breaks greedy ties by warehouseOrder and sorts the output by warehouseOrder', () => {
    const lines = [line(1, 'A', 1), line(2, 'B', 1), line(3, 'C', 1)];
    const stock = [st('W1', 'A', 1), st('W1', 'B', 1), st('W2', 'B', 1), st('W2', 'C', 1)];
    expect(allocateLines(lines, stock, ['W2', 'W1'])).toEqual([
      { warehouseId: 'W2', lines: [line(2, 'B', 1), line(3, 'C', 1)] },
      { warehouseId: 'W1', lines: [line(1, 'A', 1)] },
    ]);
    expect(allocateLines(lines, stock, ['W1', 'W2'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'A', 1), line(2, 'B', 1)] },
      { warehouseId: 'W2', lines: [line(3, 'C', 1)] },
    ]);
  });

  it('gives lines of one sku to different warehouses whole before splitting any', () => {
    const lines = [line(1, 'A', 5), line(2, 'A', 5)];
    expect(allocateLines(lines, [st('W1', 'A', 7), st('W2', 'A', 5)], ['W1', 'W2'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'A', 5)] },
      { warehouseId: 'W2', lines: [line(2, 'A', 5)] },
    ]);
  });

  it('splits a line only when no single warehouse holds it but the sum does (largest stock first)', () => {
    expect(allocateLines([line(1, 'A', 10)], [st('W1', 'A', 6), st('W2', 'A', 5)], ['W1', 'W2'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'A', 6)] },
      { warehouseId: 'W2', lines: [line(1, 'A', 4)] },
    ]);
    expect(allocateLines([line(1, 'A', 12)], [st('W1', 'A', 3), st('W2', 'A', 8), st('W3', 'A', 5)], ['W1', 'W2', 'W3'])).toEqual([
      { warehouseId: 'W2', lines: [line(1, 'A', 8)] },
      { warehouseId: 'W3', lines: [line(1, 'A', 4)] },
    ]);
  });

  it('does not split when one warehouse holds the full line even if others hold some', () => {
    expect(allocateLines([line(1, 'A', 5)], [st('W1', 'A', 3), st('W2', 'A', 5)], ['W1', 'W2'])).toEqual([{ warehouseId: 'W2', lines: [line(1, 'A', 5)] }]);
  });

  it('puts a short line whole on the warehouse with the most stock (it answers out of stock / back-order)', () => {
    expect(allocateLines([line(1, 'A', 10)], [st('W1', 'A', 3), st('W2', 'A', 4)], ['W1', 'W2'])).toEqual([{ warehouseId: 'W2', lines: [line(1, 'A', 10)] }]);
  });

  it('puts a line nobody stocks on warehouseOrder[0]', () => {
    expect(allocateLines([line(1, 'A', 2)], [st('W2', 'B', 4)], ['W3', 'W2'])).toEqual([{ warehouseId: 'W3', lines: [line(1, 'A', 2)] }]);
    expect(allocateLines([line(1, 'A', 2)], [], ['W1'])).toEqual([{ warehouseId: 'W1', lines: [line(1, 'A', 2)] }]);
  });

  it('mixes whole lines, a split line and a short line in one order', () => {
    const lines = [line(1, 'PHONE', 1), line(2, 'CASE', 10), line(3, 'CHARGER', 5), line(4, 'WATCH', 2)];
    const stock = [st('W1', 'PHONE', 4), st('W1', 'CASE', 6), st('W2', 'CASE', 6), st('W2', 'CHARGER', 9), st('W2', 'WATCH', 1)];
    expect(allocateLines(lines, stock, ['W1', 'W2'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'PHONE', 1), line(2, 'CASE', 6)] },
      { warehouseId: 'W2', lines: [line(2, 'CASE', 4), line(3, 'CHARGER', 5), line(4, 'WATCH', 2)] },
    ]);
  });

  it('drops zero-quantity lines and sorts lines by line number', () => {
    const result = allocateLines([line(3, 'C', 1), line(1, 'A', 1), line(2, 'B', 0)], [st('W1', 'A', 1), st('W1', 'C', 1)], ['W1']);
    expect(result).toEqual([{ warehouseId: 'W1', lines: [line(1, 'A', 1), line(3, 'C', 1)] }]);
    expect(allocateLines([line(1, 'A', 0)], [], [])).toEqual([]);
  });

  it('sums duplicate stock rows and ignores warehouses not in warehouseOrder', () => {
    expect(allocateLines([line(1, 'A', 4)], [st('W1', 'A', 2), st('W1', 'A', 2), st('WX', 'A', 100)], ['W1'])).toEqual([
      { warehouseId: 'W1', lines: [line(1, 'A', 4)] },
    ]);
  });

  it('ignores duplicate warehouse ids in warehouseOrder', () => {
    expect(allocateLines([line(1, 'A', 1)], [st('W1', 'A', 1)], ['W1', 'W1'])).toEqual([{ warehouseId: 'W1', lines: [line(1, 'A', 1)] }]);
  });

  it('does not mutate its inputs', () => {
    const lines = [line(2, 'A', 10), line(1, 'B', 1)];
    const stock = [st('W1', 'A', 6), st('W2', 'A', 5)];
    const snapshot = JSON.stringify({ lines, stock });
    allocateLines(lines, stock, ['W1', 'W2']);
    expect(JSON.stringify({ lines, stock })).toBe(snapshot);
  });

  it.each([
    ['a negative quantity', [line(1, 'A', -1)], ['W1']],
    ['a fractional quantity', [line(1, 'A', 1.5)], ['W1']],
    ['duplicate line numbers', [line(1, 'A', 1), line(1, 'B', 1)], ['W1']],
    ['no warehouses', [line(1, 'A', 1)], []],
  ])('throws a RangeError for %s', (_name, lines, order) => {
    expect(() => allocateLines(lines, [], order)).toThrow(RangeError);
  });

  it('throws a RangeError for negative stock', () => {
    expect(() => allocateLines([line(1, 'A', 1)], [st('W1', 'A', -3)], ['W1'])).toThrow(RangeError);
  });
});

// ---- properties ----

const WAREHOUSES = ['W1', 'W2', 'W3', 'W4'];
const SKUS = ['A', 'B', 'C', 'D', 'E'];

const arbOrder = fc.shuffledSubarray(WAREHOUSES, { minLength: 1 });
const arbStock = fc.array(
  fc.record({ warehouseId: fc.constantFrom(...WAREHOUSES, 'WX'), sku: fc.constantFrom(...SKUS), available: fc.integer({ min: 0, max: 12 }) }),
  { maxLength: 25 },
);
const arbLines = fc
  .array(fc.record({ sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 0, max: 10 }) }), { maxLength: 8 })
  .map((ls) => ls.map((l, i) => ({ lineNumber: i + 1, ...l })));
/** Orders where every sku appears on at most one line. */
const arbDistinctLines = fc
  .uniqueArray(fc.record({ sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 1, max: 10 }) }), { selector: (l) => l.sku, maxLength: 5 })
  .map((ls) => ls.map((l, i) => ({ lineNumber: i + 1, ...l })));

describe('allocateLines properties', () => {
  it('conserves every line quantity, emits only positive quantities, and sorts its output', () => {
    fc.assert(
      fc.property(arbLines, arbStock, arbOrder, (lines, stock, order) => {
        const result = allocateLines(lines, stock, order);
        const totals = perLine(result);
        for (const l of lines) expect(totals.get(l.lineNumber) ?? 0).toBe(l.quantity);
        expect([...totals.keys()].every((n) => lines.some((l) => l.lineNumber === n))).toBe(true);
        for (const w of result) {
          expect(w.lines.length).toBeGreaterThan(0);
          for (const l of w.lines) {
            expect(l.quantity).toBeGreaterThan(0);
            expect(l.sku).toBe(lines.find((x) => x.lineNumber === l.lineNumber)?.sku);
          }
          const nums = w.lines.map((l) => l.lineNumber);
          expect(nums).toEqual([...nums].sort((a, b) => a - b));
          expect(new Set(nums).size).toBe(nums.length);
        }
        const ids = result.map((w) => w.warehouseId);
        expect(ids.every((id) => order.includes(id))).toBe(true);
        expect(ids).toEqual(order.filter((w) => ids.includes(w)));
      }),
    );
  });

  it('uses a single warehouse — the first able to — whenever one can supply the whole order', () => {
    fc.assert(
      fc.property(arbLines, arbStock, arbOrder, (lines, stock, order) => {
        const demand = new Map<string, number>();
        for (const l of lines) demand.set(l.sku, (demand.get(l.sku) ?? 0) + l.quantity);
        const complete = order.find((w) => [...demand].every(([sku, q]) => stockOf(stock, w, sku) >= q));
        const result = allocateLines(lines, stock, order);
        if (complete !== undefined && lines.some((l) => l.quantity > 0)) {
          expect(result.map((w) => w.warehouseId)).toEqual([complete]);
        }
      }),
    );
  });

  it('never allocates more than a warehouse holds when the warehouses together hold enough', () => {
    fc.assert(
      fc.property(arbLines, arbStock, arbOrder, (lines, stock, order) => {
        const demand = new Map<string, number>();
        for (const l of lines) demand.set(l.sku, (demand.get(l.sku) ?? 0) + l.quantity);
        const enough = [...demand].every(([sku, q]) => order.reduce((s, w) => s + stockOf(stock, w, sku), 0) >= q);
        fc.pre(enough);
        for (const w of allocateLines(lines, stock, order)) {
          const used = new Map<string, number>();
          for (const l of w.lines) used.set(l.sku, (used.get(l.sku) ?? 0) + l.quantity);
          for (const [sku, q] of used) expect(q).toBeLessThanOrEqual(stockOf(stock, w.warehouseId, sku));
        }
      }),
    );
  });

  it('never uses more warehouses than lines unless a line had to be split', () => {
    fc.assert(
      fc.property(arbLines, arbStock, arbOrder, (lines, stock, order) => {
        const result = allocateLines(lines, stock, order);
        const split = [...placements(result).values()].some((ws) => ws.length > 1);
        if (!split) expect(result.length).toBeLessThanOrEqual(lines.filter((l) => l.quantity > 0).length);
        expect(result.length).toBeLessThanOrEqual(order.length);
      }),
    );
  });

  it('with one line per sku: splits exactly the lines no warehouse holds in full but all together do', () => {
    fc.assert(
      fc.property(arbDistinctLines, arbStock, arbOrder, (lines, stock, order) => {
        const where = placements(allocateLines(lines, stock, order));
        for (const l of lines) {
          const single = order.some((w) => stockOf(stock, w, l.sku) >= l.quantity);
          const total = order.reduce((s, w) => s + stockOf(stock, w, l.sku), 0);
          const shouldSplit = !single && total >= l.quantity;
          expect((where.get(l.lineNumber) ?? []).length > 1).toBe(shouldSplit);
        }
      }),
    );
  });

  it('with one line per sku: a short line goes whole to the warehouse with the most stock (first in order on ties)', () => {
    fc.assert(
      fc.property(arbDistinctLines, arbStock, arbOrder, (lines, stock, order) => {
        const where = placements(allocateLines(lines, stock, order));
        for (const l of lines) {
          const levels = order.map((w) => stockOf(stock, w, l.sku));
          if (levels.reduce((a, b) => a + b, 0) >= l.quantity) continue;
          const best = order[levels.indexOf(Math.max(...levels))];
          expect(where.get(l.lineNumber)).toEqual([best]);
        }
      }),
    );
  });

  it('with one line per sku that every line can come whole from somewhere: no more warehouses than lines', () => {
    fc.assert(
      fc.property(arbDistinctLines, arbStock, arbOrder, (lines, stock, order) => {
        fc.pre(lines.every((l) => order.some((w) => stockOf(stock, w, l.sku) >= l.quantity)));
        const result = allocateLines(lines, stock, order);
        expect(result.length).toBeLessThanOrEqual(lines.length);
        expect([...placements(result).values()].every((ws) => ws.length === 1)).toBe(true);
      }),
    );
  });

  it('is deterministic: the order of input lines and stock rows does not matter', () => {
    fc.assert(
      fc.property(arbLines, arbStock, arbOrder, fc.integer(), (lines, stock, order, seed) => {
        const shuffle = <T>(xs: T[]): T[] => {
          const out = [...xs];
          let s = seed;
          for (let i = out.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) & 0x7fffffff;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j], out[i]];
          }
          return out;
        };
        expect(allocateLines(shuffle(lines), shuffle(stock), order)).toEqual(allocateLines(lines, stock, order));
      }),
    );
  });
});

describe('stockStatus', () => {
  it.each([
    [5, 5, 'available'],
    [5, 9, 'available'],
    [0, 0, 'available'],
    [5, 4, 'partial'],
    [5, 1, 'partial'],
    [5, 0, 'notAvailable'],
  ] as const)('requested %d with %d available is %s', (requested, available, expected) => {
    expect(stockStatus(requested, available)).toBe(expected);
  });

  it('rejects negative or fractional numbers', () => {
    expect(() => stockStatus(-1, 0)).toThrow(RangeError);
    expect(() => stockStatus(1, 0.5)).toThrow(RangeError);
  });
});

describe('summariseStock', () => {
  const stock = [st('W1', 'A', 2), st('W2', 'A', 10), st('W1', 'B', 5), st('W3', 'B', 1), st('WX', 'A', 99)];

  it('reports per sku, per warehouse, with an alternative when the asked warehouse falls short', () => {
    const summary = summariseStock(
      [
        { sku: 'A', quantity: 3 },
        { sku: 'B', quantity: 4 },
      ],
      stock,
      ['W1', 'W2', 'W3'],
    );
    expect(summary).toEqual([
      {
        sku: 'A',
        requested: 3,
        askedWarehouseId: 'W1',
        status: 'partial',
        totalAvailable: 12,
        overallStatus: 'available',
        warehouses: [
          { warehouseId: 'W1', available: 2, status: 'partial' },
          { warehouseId: 'W2', available: 10, status: 'available' },
          { warehouseId: 'W3', available: 0, status: 'notAvailable' },
        ],
        alternativeWarehouse: 'W2',
      },
      {
        sku: 'B',
        requested: 4,
        askedWarehouseId: 'W1',
        status: 'available',
        totalAvailable: 6,
        overallStatus: 'available',
        warehouses: [
          { warehouseId: 'W1', available: 5, status: 'available' },
          { warehouseId: 'W2', available: 0, status: 'notAvailable' },
          { warehouseId: 'W3', available: 1, status: 'partial' },
        ],
      },
    ]);
  });

  it('sums repeated skus and honours an explicit asked warehouse', () => {
    const [a] = summariseStock(
      [
        { sku: 'A', quantity: 1 },
        { sku: 'A', quantity: 2 },
      ],
      stock,
      ['W1', 'W2'],
      'W2',
    );
    expect(a).toMatchObject({ requested: 3, askedWarehouseId: 'W2', status: 'available' });
    expect(a.alternativeWarehouse).toBeUndefined();
  });

  it('has no alternative when no single warehouse holds the full quantity', () => {
    const [b] = summariseStock([{ sku: 'B', quantity: 6 }], stock, ['W1', 'W2', 'W3']);
    expect(b).toMatchObject({ status: 'partial', overallStatus: 'available', totalAvailable: 6 });
    expect(b.alternativeWarehouse).toBeUndefined();
    const [z] = summariseStock([{ sku: 'Z', quantity: 1 }], stock, ['W1', 'W2']);
    expect(z).toMatchObject({ status: 'notAvailable', overallStatus: 'notAvailable', totalAvailable: 0 });
  });

  it('rejects bad input', () => {
    expect(() => summariseStock([{ sku: 'A', quantity: -1 }], stock, ['W1'])).toThrow(RangeError);
    expect(() => summariseStock([{ sku: 'A', quantity: 1 }], stock, [])).toThrow(RangeError);
  });

  it('property: the alternative, when given, holds the full quantity and the asked warehouse does not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sku: fc.constantFrom(...SKUS), quantity: fc.integer({ min: 0, max: 10 }) }), { maxLength: 6 }),
        arbStock,
        arbOrder,
        (items, stockRows, order) => {
          for (const s of summariseStock(items, stockRows, order)) {
            expect(s.status).toBe(stockStatus(s.requested, stockOf(stockRows, order[0], s.sku)));
            expect(s.totalAvailable).toBe(s.warehouses.reduce((a, w) => a + w.available, 0));
            if (s.alternativeWarehouse !== undefined) {
              expect(s.status).not.toBe('available');
              expect(stockOf(stockRows, s.alternativeWarehouse, s.sku)).toBeGreaterThanOrEqual(s.requested);
            } else if (s.status !== 'available') {
              expect(s.warehouses.every((w) => w.available < s.requested)).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('findShortages', () => {
  const W = ['WH-NORTH', 'WH-SOUTH'];

  it('is empty when the warehouses together hold every sku, even split between them', () => {
    expect(findShortages([line(1, 'A', 5)], [st('WH-NORTH', 'A', 3), st('WH-SOUTH', 'A', 2)], W)).toEqual([]);
  });

  it('sums the lines of one sku against the stock of every warehouse', () => {
    const stock = [st('WH-NORTH', 'A', 3), st('WH-SOUTH', 'A', 2), st('WH-NORTH', 'B', 9)];
    expect(findShortages([line(2, 'A', 4), line(1, 'A', 2), line(3, 'B', 1)], stock, W)).toEqual([
      { sku: 'A', lineNumbers: [1, 2], requested: 6, available: 5 },
    ]);
  });

  it('counts only the warehouses allocation may use, and none for a sku nobody reported', () => {
    const stock = [st('WH-EAST', 'A', 100)];
    expect(findShortages([line(1, 'A', 1)], stock, W)).toEqual([{ sku: 'A', lineNumbers: [1], requested: 1, available: 0 }]);
    expect(findShortages([line(1, 'A', 0)], [], W)).toEqual([]);
  });

  it('agrees with allocateLines: without shortages every unit goes where it is in stock', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sku: fc.constantFrom('A', 'B', 'C'), quantity: fc.integer({ min: 0, max: 6 }) }), { maxLength: 6 }),
        fc.array(fc.record({ w: fc.constantFrom(...W), sku: fc.constantFrom('A', 'B', 'C'), available: fc.integer({ min: 0, max: 8 }) }), { maxLength: 8 }),
        (specs, levels) => {
          const lines = specs.map((s, i) => line(i + 1, s.sku, s.quantity));
          const stock = levels.map((l) => st(l.w, l.sku, l.available));
          if (findShortages(lines, stock, W).length) return;
          const used = new Map<string, number>();
          for (const w of allocateLines(lines, stock, W))
            for (const l of w.lines) used.set(`${w.warehouseId}|${l.sku}`, (used.get(`${w.warehouseId}|${l.sku}`) ?? 0) + l.quantity);
          for (const [key, quantity] of used) {
            const [w, sku] = key.split('|');
            expect(quantity).toBeLessThanOrEqual(stockOf(stock, w, sku));
          }
        },
      ),
    );
  });
});
