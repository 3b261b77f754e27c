// Warehouse allocation and stock summaries. Pure and deterministic: safe for workflow code.

import type { SubOrderLine } from './types';

export interface AllocationLine {
  lineNumber: number;
  sku: string;
  quantity: number;
}

export interface StockLevel {
  warehouseId: string;
  sku: string;
  available: number;
}

export interface WarehouseAllocation {
  warehouseId: string;
  lines: SubOrderLine[];
}

/** TMF687-style availability of one sku at one warehouse (or overall). */
export type StockStatus = 'available' | 'partial' | 'notAvailable';

export interface WarehouseStock {
  warehouseId: string;
  available: number;
  status: StockStatus;
}

export interface SkuStockSummary {
  sku: string;
  /** Total quantity asked for this sku (repeated skus are summed). */
  requested: number;
  /** The warehouse the question was about. */
  askedWarehouseId: string;
  /** Status at the asked warehouse. */
  status: StockStatus;
  /** Sum over all warehouses in warehouseOrder. */
  totalAvailable: number;
  /** Status if the quantity could be split across every warehouse. */
  overallStatus: StockStatus;
  /** One entry per warehouse, in warehouseOrder. */
  warehouses: WarehouseStock[];
  /**
   * First warehouse in warehouseOrder (other than the asked one) holding the full quantity,
   * present only when the asked warehouse cannot supply it in full.
   */
  alternativeWarehouse?: string;
}

export interface StockRequest {
  sku: string;
  quantity: number;
}

function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${what} must be a non-negative integer, got ${String(value)}`);
  }
}

/** Stock per warehouse per sku, summing duplicate rows; only warehouses in `warehouseOrder`. */
function stockTable(stock: readonly StockLevel[], warehouseOrder: readonly string[]): Map<string, Map<string, number>> {
  const table = new Map<string, Map<string, number>>();
  for (const w of warehouseOrder) table.set(w, new Map());
  for (const s of stock) {
    assertCount(s.available, `available (${s.warehouseId}/${s.sku})`);
    const bySku = table.get(s.warehouseId);
    if (bySku === undefined) continue; // not a warehouse we may use
    bySku.set(s.sku, (bySku.get(s.sku) ?? 0) + s.available);
  }
  return table;
}

function availableAt(table: Map<string, Map<string, number>>, warehouseId: string, sku: string): number {
  return table.get(warehouseId)?.get(sku) ?? 0;
}

function take(table: Map<string, Map<string, number>>, warehouseId: string, sku: string, quantity: number): void {
  const bySku = table.get(warehouseId);
  if (bySku === undefined) return;
  bySku.set(sku, Math.max(0, (bySku.get(sku) ?? 0) - quantity));
}

/**
 * The lines (from `pending`) that `warehouseId` can supply in full at the same time, given the
 * remaining stock. Lines of the same sku compete for stock: the smallest quantities are taken
 * first (ties by line number) so that the count is as large as possible.
 */
function coverableLines(table: Map<string, Map<string, number>>, warehouseId: string, pending: readonly AllocationLine[]): AllocationLine[] {
  const ordered = [...pending].sort((a, b) => a.quantity - b.quantity || a.lineNumber - b.lineNumber);
  const used = new Map<string, number>();
  const chosen: AllocationLine[] = [];
  for (const line of ordered) {
    const already = used.get(line.sku) ?? 0;
    if (already + line.quantity <= availableAt(table, warehouseId, line.sku)) {
      used.set(line.sku, already + line.quantity);
      chosen.push(line);
    }
  }
  return chosen;
}

/**
 * Splits the lines of an order between warehouses.
 *
 * 1. If one warehouse can supply every line in full, the first such one in `warehouseOrder`
 *    gets everything.
 * 2. Otherwise, greedy set cover: repeatedly pick the warehouse that can supply the most of the
 *    remaining lines in full (ties by `warehouseOrder`) and give it those lines.
 * 3. A line that no single warehouse can then supply in full, but whose sku the warehouses hold
 *    enough of together, is split: the warehouse with the most remaining stock first (ties by
 *    `warehouseOrder`), until the line is covered.
 * 4. A line whose sku is short everywhere is NOT split: it goes whole to the warehouse with the
 *    most remaining stock of the sku (then most stock before this order's earlier lines took
 *    theirs, then `warehouseOrder`), i.e. `warehouseOrder[0]` when nobody has any. The
 *    warehouse answers out of stock / back-order for the shortfall.
 *
 * Only warehouses named in `warehouseOrder` are used; stock rows for others are ignored, and
 * duplicate stock rows for one warehouse and sku are summed. Lines with quantity 0 are dropped.
 * Output: warehouses in `warehouseOrder`, lines by line number, every quantity > 0, and the
 * quantities of each ordered line add up to exactly its ordered quantity.
 *
 * Throws a RangeError for negative / non-integer quantities, duplicate line numbers, or a
 * non-empty order with no warehouses.
 */
export function allocateLines(lines: readonly AllocationLine[], stock: readonly StockLevel[], warehouseOrder: readonly string[]): WarehouseAllocation[] {
  const seen = new Set<number>();
  for (const line of lines) {
    assertCount(line.quantity, `quantity (line ${line.lineNumber})`);
    if (!Number.isSafeInteger(line.lineNumber)) throw new RangeError(`lineNumber must be an integer, got ${line.lineNumber}`);
    if (seen.has(line.lineNumber)) throw new RangeError(`duplicate lineNumber ${line.lineNumber}`);
    seen.add(line.lineNumber);
  }
  const warehouses = [...new Set(warehouseOrder)];
  const wanted = lines.filter((l) => l.quantity > 0).sort((a, b) => a.lineNumber - b.lineNumber);
  if (wanted.length === 0) return [];
  if (warehouses.length === 0) throw new RangeError('no warehouses to allocate to');

  const table = stockTable(stock, warehouses);
  const original = stockTable(stock, warehouses);
  const result = new Map<string, SubOrderLine[]>();
  const give = (warehouseId: string, line: AllocationLine, quantity: number): void => {
    const list = result.get(warehouseId) ?? [];
    list.push({ lineNumber: line.lineNumber, sku: line.sku, quantity });
    result.set(warehouseId, list);
  };

  // 1 + 2: whole lines, fewest warehouses (a warehouse covering everything wins outright).
  let pending = wanted;
  for (;;) {
    let best: { warehouseId: string; lines: AllocationLine[] } | undefined;
    for (const w of warehouses) {
      const covered = coverableLines(table, w, pending);
      if (covered.length > 0 && (best === undefined || covered.length > best.lines.length)) best = { warehouseId: w, lines: covered };
    }
    if (best === undefined) break;
    for (const line of best.lines) {
      give(best.warehouseId, line, line.quantity);
      take(table, best.warehouseId, line.sku, line.quantity);
    }
    const done = new Set(best.lines.map((l) => l.lineNumber));
    pending = pending.filter((l) => !done.has(l.lineNumber));
    if (pending.length === 0) break;
  }

  // 3 + 4: lines no single warehouse can supply in full.
  for (const line of pending) {
    const ranked = warehouses
      .map((w, index) => ({ w, index, left: availableAt(table, w, line.sku), before: availableAt(original, w, line.sku) }))
      .sort((a, b) => b.left - a.left || b.before - a.before || a.index - b.index);
    const total = ranked.reduce((sum, r) => sum + r.left, 0);
    if (total >= line.quantity) {
      let remaining = line.quantity;
      for (const r of ranked) {
        if (remaining === 0) break;
        const part = Math.min(r.left, remaining);
        if (part === 0) continue;
        give(r.w, line, part);
        take(table, r.w, line.sku, part);
        remaining -= part;
      }
    } else {
      const target = ranked[0].w;
      give(target, line, line.quantity);
      take(table, target, line.sku, line.quantity);
    }
  }

  return warehouses
    .filter((w) => result.has(w))
    .map((w) => ({
      warehouseId: w,
      lines: [...(result.get(w) ?? [])].sort((a, b) => a.lineNumber - b.lineNumber),
    }));
}

/**
 * TMF687-style status: 'available' when the whole quantity is there (including a request for
 * 0), 'partial' when some but not all of it is, 'notAvailable' when none is.
 */
export function stockStatus(requested: number, available: number): StockStatus {
  assertCount(requested, 'requested');
  assertCount(available, 'available');
  if (available >= requested) return 'available';
  return available > 0 ? 'partial' : 'notAvailable';
}

/**
 * Per sku (repeated skus summed, in first-seen order), the stock at every warehouse in
 * `warehouseOrder` and the status there, the status at the asked warehouse (default
 * `warehouseOrder[0]`), and an alternative warehouse holding the full quantity when the asked
 * one cannot supply it. Stock rows for warehouses not in `warehouseOrder` are ignored.
 */
export function summariseStock(
  items: readonly StockRequest[],
  stock: readonly StockLevel[],
  warehouseOrder: readonly string[],
  askedWarehouseId: string | undefined = warehouseOrder[0],
): SkuStockSummary[] {
  const warehouses = [...new Set(warehouseOrder)];
  if (askedWarehouseId === undefined) throw new RangeError('no warehouse to ask about');
  const table = stockTable(stock, warehouses);
  const requested = new Map<string, number>();
  for (const item of items) {
    assertCount(item.quantity, `quantity (${item.sku})`);
    requested.set(item.sku, (requested.get(item.sku) ?? 0) + item.quantity);
  }
  return [...requested.entries()].map(([sku, quantity]) => {
    const perWarehouse = warehouses.map((warehouseId) => {
      const available = availableAt(table, warehouseId, sku);
      return { warehouseId, available, status: stockStatus(quantity, available) };
    });
    const totalAvailable = perWarehouse.reduce((sum, w) => sum + w.available, 0);
    const status = stockStatus(quantity, availableAt(table, askedWarehouseId, sku));
    const summary: SkuStockSummary = {
      sku,
      requested: quantity,
      askedWarehouseId,
      status,
      totalAvailable,
      overallStatus: stockStatus(quantity, totalAvailable),
      warehouses: perWarehouse,
    };
    if (status !== 'available') {
      const alternative = perWarehouse.find((w) => w.warehouseId !== askedWarehouseId && w.status === 'available');
      if (alternative !== undefined) summary.alternativeWarehouse = alternative.warehouseId;
    }
    return summary;
  });
}

/** A sku an order wants more of than every warehouse together holds. */
export interface StockShortage {
  sku: string;
  lineNumbers: number[];
  requested: number;
  available: number;
}

/**
 * The skus no allocation can fill: the order's lines of the sku (summed) against the stock of
 * every warehouse in `warehouseOrder` together. Empty when `allocateLines` can place every unit
 * where it is in stock.
 */
export function findShortages(lines: readonly AllocationLine[], stock: readonly StockLevel[], warehouseOrder: readonly string[]): StockShortage[] {
  const table = stockTable(stock, [...new Set(warehouseOrder)]);
  const bySku = new Map<string, { lineNumbers: number[]; requested: number }>();
  for (const line of lines) {
    assertCount(line.quantity, `quantity (line ${line.lineNumber})`);
    if (line.quantity === 0) continue;
    const entry = bySku.get(line.sku) ?? { lineNumbers: [], requested: 0 };
    entry.lineNumbers.push(line.lineNumber);
    entry.requested += line.quantity;
    bySku.set(line.sku, entry);
  }
  const shortages: StockShortage[] = [];
  for (const [sku, { lineNumbers, requested }] of bySku) {
    const available = [...table.keys()].reduce((sum, w) => sum + availableAt(table, w, sku), 0);
    if (available < requested) shortages.push({ sku, lineNumbers: lineNumbers.sort((a, b) => a - b), requested, available });
  }
  return shortages;
}
