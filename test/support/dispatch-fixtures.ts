// Orders waiting for dispatch, and warehouse response files written by hand, for the adaptor and
// Sales Order Dispatch tests. Orders are started with the Temporal client directly (cheaper than
// three HTTP calls each when a test needs hundreds of them); everything after that is the real
// order workflow: fraud policy, stock check, allocation, sales order file.
import type { WorkflowHandle } from '@temporalio/client';
import { createHash, randomBytes } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { luhnCheckDigit } from '../../domain/imei';
import type { OrderView } from '../../workflows/messages';
import type { Account, BillingMode, DeliveryContact, Product } from '../../domain/types';
import { openOrder as openAccountOrder } from '../../infra/open-order';
import { type WarehouseResponseColumn } from '../../domain/warehouse-response';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { warehouseFolders } from '../../infra/config';
import { addLineUpdate, generateUpdate, orderWorkflowId } from '../../workflows/messages';
import { eventually, type TestSystem } from './system';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newTestOrderId(): string {
  const bytes = randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += CROCKFORD[bytes[i] % 32];
  return `ORD-${out}`;
}

export interface OrderSpec {
  accountId?: string;
  lines: { sku: string; quantity: number }[];
}

/** Runs `fn` over `items` with at most `limit` at a time. */
export async function inParallel<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

/** Opens an order on the account the way the API does (infra/open-order.ts). */
export async function openOrder(
  sys: TestSystem,
  orderId: string,
  account: { accountId: string; currency: string; defaultDelivery: unknown; defaultBillingMode: BillingMode },
): Promise<WorkflowHandle> {
  await openAccountOrder(sys, {
    orderId,
    account: account as Account,
    createdBy: 'csa-test',
    delivery: account.defaultDelivery as DeliveryContact,
    billingMode: account.defaultBillingMode,
  });
  return sys.temporal.workflow.getHandle(orderWorkflowId(orderId));
}

/** Starts `count` orders, adds their lines and generates them; returns the order ids (not waiting for dispatch). */
export async function startGeneratedOrders(sys: TestSystem, count: number, spec: OrderSpec, concurrency = 40): Promise<string[]> {
  const accountId = spec.accountId ?? 'ACC-1002';
  const account = await sys.db.models.Account.findOne({ accountId }).lean();
  if (!account) throw new Error(`no account ${accountId}`);
  const products = new Map<string, Product>();
  for (const l of spec.lines) {
    const p = await sys.db.models.Product.findOne({ sku: l.sku }, { _id: 0 }).lean<Product>();
    if (!p) throw new Error(`no product ${l.sku}`);
    products.set(l.sku, p);
  }
  const ids = Array.from({ length: count }, newTestOrderId);
  // The API's sequence: open (start, store as opened), then one update per line, then generate.
  await inParallel(ids, concurrency, async (orderId) => {
    const handle = await openOrder(sys, orderId, account);
    for (const l of spec.lines) await handle.executeUpdate(addLineUpdate, { args: [{ product: products.get(l.sku)!, quantity: l.quantity, by: 'csa-test' }] });
    await handle.executeUpdate(generateUpdate, { args: [{ by: 'csa-test' }] });
  });
  return ids;
}

/** Orders Awaiting Dispatch (their sales orders sent to the warehouse), read from the read model. */
export async function ordersAwaitingDispatch(sys: TestSystem, count: number, spec: OrderSpec, concurrency = 40): Promise<OrderView[]> {
  const ids = await startGeneratedOrders(sys, count, spec, concurrency);
  return waitForStatus(sys, ids, 'AwaitingDispatch', Math.max(60_000, count * 3000));
}

/**
 * Waits until every order has reached the status, then reads them all. Looks orders up one by one
 * by _id, in order, and starts each round where the last stopped: FerretDB (SQLite) reads and
 * decodes the whole collection for an $in or a count, which on hundreds of orders slows down the
 * very system under test.
 */
export async function waitForStatus(sys: TestSystem, orderIds: string[], status: string, timeoutMs = 60_000): Promise<OrderView[]> {
  let reached = 0;
  await eventually(
    async () => {
      while (reached < orderIds.length) {
        const doc = await sys.db.models.OrderView.findOne({ _id: orderIds[reached] }, { status: 1 }).lean();
        if (doc?.status !== status) return false;
        reached++;
      }
      return true;
    },
    `${orderIds.length} order(s) ${status}`,
    timeoutMs,
  );
  return readOrders(sys, orderIds);
}

export async function readOrders(sys: TestSystem, orderIds: string[]): Promise<OrderView[]> {
  const docs = await sys.db.models.OrderView.find({ orderId: { $in: orderIds } }, { state: 1 }).lean();
  const byId = new Map(docs.map((d) => [(d.state as OrderView).orderId, d.state as OrderView]));
  return orderIds.map((id) => byId.get(id)!);
}

export type ResponseRow = Partial<Record<WarehouseResponseColumn, string | number>>;

/** A valid IMEI derived from a number (TAC 35288711, then six digits, then the Luhn digit). */
export function imeiFor(n: number): string {
  const body = `35288711${String(n % 1_000_000).padStart(6, '0')}`;
  return body + luhnCheckDigit(body);
}

let unitSeq = 0;

/** One `shipped` row per unit of every line of every sub-order of the order (IMEIs and serials where the line captures them). */
export function shippedRows(order: OrderView, opts: { only?: { lineNumber: number; units: number }; shipDate?: string } = {}): ResponseRow[] {
  const rows: ResponseRow[] = [];
  for (const sub of order.subOrders) {
    for (const sl of sub.lines) {
      if (opts.only && opts.only.lineNumber !== sl.lineNumber) continue;
      const line = order.lines.find((l) => l.lineNumber === sl.lineNumber)!;
      const units = opts.only ? opts.only.units : sl.quantity;
      const base = {
        warehouse_id: sub.warehouseId,
        sub_order_number: sub.subOrderNumber,
        line_number: sl.lineNumber,
        sku: sl.sku,
        carrier: 'DPD',
        tracking_number: `TRK-${sub.subOrderNumber}`,
        ship_date: opts.shipDate ?? '2025-03-14',
        disposition: 'shipped',
      };
      if (line.capture === 'none') {
        rows.push({ ...base, quantity_shipped: units });
        continue;
      }
      for (let u = 0; u < units; u++) {
        const n = ++unitSeq + Math.floor(Math.random() * 1000) * 1000;
        rows.push({
          ...base,
          quantity_shipped: 1,
          serial_number: `SN-${sub.subOrderNumber}-${sl.lineNumber}-${n}`,
          ...(line.capture === 'imei' ? { imei: imeiFor(n) } : {}),
        });
      }
    }
  }
  return rows;
}

export function errorRow(order: OrderView, lineNumber: number, code: string, message: string, disposition: 'error' | 'outOfStock' = 'error'): ResponseRow {
  const sub = order.subOrders.find((s) => s.lines.some((l) => l.lineNumber === lineNumber))!;
  const sl = sub.lines.find((l) => l.lineNumber === lineNumber)!;
  return {
    warehouse_id: sub.warehouseId,
    sub_order_number: sub.subOrderNumber,
    line_number: lineNumber,
    sku: sl.sku,
    quantity_shipped: 0,
    disposition,
    error_code: code,
    error_message: message,
  };
}

/** Drops a response file in the inbox, lets the adaptor take it, and returns its batch id (the content hash). */
export async function deliver(sys: TestSystem, warehouseId: string, name: string, rows: ResponseRow[] | string): Promise<string> {
  const csv = typeof rows === 'string' ? rows : formatWarehouseResponseCsv(rows);
  await dropInInbox(sys, warehouseId, name, csv);
  await sys.adaptor.sweep();
  return createHash('sha256').update(csv).digest('hex');
}

/** Drops a response file into the warehouse's inbox the way a warehouse does (temp name, then rename). */
export async function dropInInbox(sys: TestSystem, warehouseId: string, name: string, content: string | Buffer): Promise<string> {
  const { inbox } = warehouseFolders(sys.config.dataDir, warehouseId);
  await fsp.mkdir(inbox, { recursive: true });
  await fsp.writeFile(path.join(inbox, `.${name}.tmp`), content);
  await fsp.rename(path.join(inbox, `.${name}.tmp`), path.join(inbox, name));
  return path.join(inbox, name);
}
