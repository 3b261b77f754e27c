// Adaptor exceptions as ops work them, against the real Temporal dev server and FerretDB: the list
// of dispatch batches (filters, paging), every rejected row of a large file, and exceptions
// resolved: reapplied to the right order (once, however often) or dismissed, and the refusals.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { reapplyBatchId } from '../../domain/adaptor-exceptions';
import type { Product } from '../../domain/types';
import { addLineUpdate, dispatchResultSignal, generateUpdate, orderWorkflowId, type OrderView } from '../../workflows/messages';
import {
  deliver,
  newTestOrderId,
  openOrder,
  ordersAwaitingDispatch,
  readOrders,
  shippedRows,
  waitForStatus,
  type ResponseRow,
} from '../support/dispatch-fixtures';
import { settledHistoryLength } from '../support/orders';
import { DEV_ACTORS, eventually, startSystem, type TestSystem } from '../support/system';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const ops = (method: string, url: string, body?: unknown) => sys.call(method, `/api/v1${url}`, { role: 'ops', body });

/** Waits until the batch's Sales Order Dispatch job has finished. */
const batchDone = (batchId: string) =>
  eventually(
    async () => {
      const r = await ops('GET', `/adaptor/batches/${batchId}`);
      return r.status === 200 && r.body.status === 'done' && r.body;
    },
    `batch ${batchId.slice(0, 8)} done`,
  );

const exceptionsOf = async (batchId: string, state = 'all') => (await ops('GET', `/adaptor/exceptions?batchId=${batchId}&state=${state}`)).body.items as any[];

describe('dispatch batches', () => {
  it('lists batches newest first with their counts, filtered by warehouse, date and outcome, a page at a time', async () => {
    const [a, b] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-ROUTER-5G', quantity: 1 }] });
    const t0 = new Date().toISOString();
    const clean = await deliver(sys, a.subOrders[0].warehouseId, 'clean.csv', shippedRows(a));
    // b's row, and one a warehouse typed wrong (no line 0): partial.
    const bad: ResponseRow = { ...shippedRows(b)[0], line_number: 0 };
    const partial = await deliver(sys, b.subOrders[0].warehouseId, 'partial.csv', [...shippedRows(b), bad]);
    const south = await deliver(sys, 'WH-SOUTH', 'south.csv', [
      { ...shippedRows(a)[0], warehouse_id: 'WH-SOUTH', sub_order_number: 'ORD-NOBODY0000-WH-SOUTH' },
    ]);
    await Promise.all([clean, partial, south].map(batchDone));

    const all = await ops('GET', `/adaptor/batches?from=${encodeURIComponent(t0)}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((i: any) => i.batchId)).toEqual([south, partial, clean]);
    expect(all.body.items).toEqual([
      expect.objectContaining({ warehouseId: 'WH-SOUTH', outcome: 'partial', counts: { rows: 1, valid: 0, rejected: 0, exceptions: 1, orders: 0 } }),
      expect.objectContaining({
        outcome: 'partial',
        sourceFile: expect.stringMatching(/partial\.csv$/),
        counts: { rows: 2, valid: 1, rejected: 1, exceptions: 0, orders: 1 },
      }),
      expect.objectContaining({ outcome: 'applied', source: 'inbox', counts: { rows: 1, valid: 1, rejected: 0, exceptions: 0, orders: 1 } }),
    ]);
    expect(all.body.nextCursor).toBeNull();

    const ids = async (qs: string) => ((await ops('GET', `/adaptor/batches?from=${encodeURIComponent(t0)}&${qs}`)).body.items as any[]).map((i) => i.batchId);
    expect(await ids('warehouseId=WH-SOUTH')).toEqual([south]);
    expect(await ids('outcome=applied')).toEqual([clean]);
    expect(await ids('outcome=partial')).toEqual([south, partial]);
    expect(await ids('outcome=running')).toEqual([]);
    expect(await ids(`to=${encodeURIComponent(t0)}`)).toEqual([]);

    // One at a time: every batch once, in order, then no cursor.
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: any } = await ops(
        'GET',
        `/adaptor/batches?from=${encodeURIComponent(t0)}&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(page.body.items).toHaveLength(1);
      paged.push(page.body.items[0].batchId);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(paged).toEqual([south, partial, clean]);

    expect((await ops('GET', '/adaptor/batches?cursor=not-ours')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await ops('GET', '/adaptor/batches?outcome=exploded')).status).toBe(400);
    expect((await ops('GET', '/adaptor/batches?from=yesterday')).status).toBe(400);
    expect((await sys.call('GET', '/api/v1/adaptor/batches', { role: 'agent' })).status).toBe(403);
    expect((await sys.call('GET', `/api/v1/adaptor/batches?from=${encodeURIComponent(t0)}`, { role: 'adaptor' })).body.items).toHaveLength(3);
  });

  it('keeps every rejected row of a file with more than 1,000 of them, a page at a time; a quarantined file keeps none', async () => {
    const ROWS = 1_500;
    const header = WAREHOUSE_RESPONSE_COLUMNS.join(',');
    // Quantity "lots": INVALID_QUANTITY on every row.
    const row = (i: number) => `WH-NORTH,ORD-${String(i).padStart(10, '0')}-WH-NORTH,1,PR-ROUTER-5G,lots,,,,DPD,TRK-${i},2025-03-14,shipped,,`;
    const csv = [header, ...Array.from({ length: ROWS }, (_, i) => row(i + 1)), ''].join('\n');
    const batchId = await deliver(sys, 'WH-NORTH', 'many-rejected.csv', csv);
    const batch = await batchDone(batchId);
    expect(batch).toMatchObject({ rowCount: ROWS, rejectedRows: ROWS, rejectionChunks: 3, outcome: 'partial' });
    expect(batch.rejections).toHaveLength(1_000);

    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; body: any } = await ops('GET', `/adaptor/batches/${batchId}/rejected-rows?limit=400${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.rejectedRows).toBe(ROWS);
      seen.push(...page.body.items.map((r: any) => r.rowNumber));
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(seen).toEqual(Array.from({ length: ROWS }, (_, i) => i + 1));
    const last = await ops('GET', `/adaptor/batches/${batchId}/rejected-rows?limit=1&cursor=${Buffer.from(JSON.stringify([2, 499])).toString('base64url')}`);
    expect(last.body.items).toEqual([{ rowNumber: ROWS, code: 'INVALID_QUANTITY', message: expect.stringContaining('lots'), cells: row(ROWS).split(',') }]);
    expect(last.body.nextCursor).toBeNull();
    expect((await ops('GET', `/adaptor/batches/${'0'.repeat(64)}/rejected-rows`)).status).toBe(404);

    // 600 rejected rows (a chunk stored), then a quote never closed: the whole file is refused.
    const broken = [header, ...Array.from({ length: 600 }, (_, i) => row(i + 1)), 'WH-NORTH,"never closed', ''].join('\n');
    const brokenId = await deliver(sys, 'WH-NORTH', 'broken.csv', broken);
    expect(brokenId).toBe(sha256(broken));
    expect(await sys.db.models.DispatchBatch.countDocuments({ _id: brokenId })).toBe(0);
    expect(await sys.db.models.DispatchRejectionChunk.countDocuments({ batchId: brokenId })).toBe(0);
  });
});

/** An order opened under an id of our choosing (so a file can name it before it exists), generated. */
async function generateOrderWithId(orderId: string, sku: string): Promise<OrderView> {
  const account = await sys.db.models.Account.findOne({ accountId: 'ACC-1002' }).lean();
  const product = await sys.db.models.Product.findOne({ sku }, { _id: 0 }).lean<Product>();
  const handle = await openOrder(sys, orderId, account!);
  await handle.executeUpdate(addLineUpdate, { args: [{ product: product!, quantity: 1, by: 'csa-test' }] });
  await handle.executeUpdate(generateUpdate, { args: [{ by: 'csa-test' }] });
  const [order] = await waitForStatus(sys, [orderId], 'AwaitingDispatch');
  return order;
}

describe('resolving exceptions', () => {
  it('reapplies a row whose order number the warehouse got wrong to the right order: applied once, even signalled twice, and billed once', async () => {
    // Two units: the reapplied row ships one, so the order is still open when the row comes again.
    const [order] = await ordersAwaitingDispatch(sys, 1, { lines: [{ sku: 'PR-APL-USBC-20W', quantity: 2 }] });
    const sub = order.subOrders[0];
    const typo: ResponseRow = { ...shippedRows(order)[0], quantity_shipped: 1, sub_order_number: `ORD-TYPO${order.orderId.slice(8)}-${sub.warehouseId}` };
    const batchId = await deliver(sys, sub.warehouseId, 'typo.csv', [typo]);
    await batchDone(batchId);
    const [exc] = await exceptionsOf(batchId, 'unresolved');
    expect(exc).toMatchObject({ id: `${batchId}:1`, code: 'UNKNOWN_ORDER', resolved: false, resolution: null });

    // Without an order id the row's own sub-order is looked for: there is none.
    const own = await ops('POST', `/adaptor/exceptions/${exc.id}/resolve`, { action: 'reapply' });
    expect(own).toMatchObject({ status: 409, body: { error: { code: 'SUB_ORDER_UNKNOWN' } } });

    const first = await ops('POST', `/adaptor/exceptions/${exc.id}/resolve`, { action: 'reapply', orderId: order.orderId });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id: exc.id,
      resolved: true,
      resolution: { action: 'reapply', orderId: order.orderId, subOrderNumber: sub.subOrderNumber, by: DEV_ACTORS.ops, at: expect.any(String) },
    });
    // Answered once the order holds it.
    const key = `${reapplyBatchId(exc.id)}:1`;
    const [held] = await readOrders(sys, [order.orderId]);
    expect(held).toMatchObject({ status: 'AwaitingDispatch', subOrders: [{ units: [expect.objectContaining({ rowKey: key, quantity: 1 })] }] });

    // The same again answers the same; the row signalled again changes nothing.
    const again = await ops('POST', `/adaptor/exceptions/${exc.id}/resolve`, { action: 'reapply', orderId: order.orderId });
    expect(again).toMatchObject({ status: 200, body: { resolution: first.body.resolution } });
    await sys.temporal.workflow.getHandle(orderWorkflowId(order.orderId)).signal(dispatchResultSignal, {
      batchId: reapplyBatchId(exc.id),
      warehouseId: sub.warehouseId,
      rows: [{ ...exc.row, subOrderNumber: sub.subOrderNumber }],
    });
    await settledHistoryLength(sys, order.orderId);
    const [after] = await readOrders(sys, [order.orderId]);
    expect(after).toMatchObject({ status: 'AwaitingDispatch', subOrders: [{ units: [expect.objectContaining({ rowKey: key })] }] });

    // The second unit in the warehouse's next file completes it: two units, each charged once.
    await deliver(sys, sub.warehouseId, 'second-unit.csv', [{ ...shippedRows(order)[0], quantity_shipped: 1 }]);
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    expect(done.subOrders[0].units.map((u) => u.quantity)).toEqual([1, 1]);
    const charges = await eventually(async () => {
      const found = await sys.db.models.Charge.find({ orderId: order.orderId }).lean();
      return found.length > 0 && found;
    }, 'the charges');
    expect(charges.map((c) => c.quantity).reduce((a, b) => a + b, 0)).toBe(2);

    // Resolved: off the open list, on the resolved one; and not dismissible now.
    expect(await exceptionsOf(batchId, 'unresolved')).toEqual([]);
    expect((await exceptionsOf(batchId, 'resolved')).map((e) => e.id)).toEqual([exc.id]);
    const dismiss = await ops('POST', `/adaptor/exceptions/${exc.id}/resolve`, { action: 'dismiss', reason: 'changed my mind' });
    expect(dismiss).toMatchObject({ status: 409, body: { error: { code: 'EXCEPTION_RESOLVED_OTHERWISE' } } });
  });

  it("reapplies a row to its own sub-order once that exists (the file came before the sales order's record)", async () => {
    const orderId = newTestOrderId();
    const early: ResponseRow = {
      warehouse_id: 'WH-NORTH',
      sub_order_number: `${orderId}-WH-NORTH`,
      line_number: 1,
      sku: 'PR-APL-USBC-20W',
      quantity_shipped: 1,
      carrier: 'DPD',
      tracking_number: `TRK-${orderId}`,
      ship_date: '2025-03-14',
      disposition: 'shipped',
    };
    const batchId = await deliver(sys, 'WH-NORTH', 'early.csv', [early]);
    await batchDone(batchId);
    const [exc] = await exceptionsOf(batchId);
    const order = await generateOrderWithId(orderId, 'PR-APL-USBC-20W');
    // The first warehouse by preference, with stock to spare.
    expect(order.subOrders.map((s) => s.warehouseId)).toEqual(['WH-NORTH']);
    const r = await ops('POST', `/adaptor/exceptions/${exc.id}/resolve`, { action: 'reapply' });
    expect(r).toMatchObject({ status: 200, body: { resolution: { action: 'reapply', orderId, subOrderNumber: `${orderId}-WH-NORTH` } } });
    await waitForStatus(sys, [orderId], 'Complete');
  });

  it('dismisses an exception with a reason, keeping who and when; refuses what cannot be done', async () => {
    // A product without serials: a row of two units is well-formed, but too many for the line.
    const [order, other] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-APL-USBC-20W', quantity: 1 }] });
    const wh = order.subOrders[0].warehouseId;
    const elsewhere = wh === 'WH-NORTH' ? 'WH-SOUTH' : 'WH-NORTH';
    const stranger = (n: string, over: ResponseRow = {}): ResponseRow => ({ ...shippedRows(order)[0], sub_order_number: `ORD-${n}-${wh}`, ...over });
    const batchId = await deliver(sys, wh, 'strangers.csv', [
      stranger('DISMISS000'),
      stranger('WRONGSKU00', { sku: 'PR-GEN-CASE-IP16' }),
      stranger('TWOUNITS00', { quantity_shipped: 2 }),
    ]);
    const south = await deliver(sys, elsewhere, 'elsewhere.csv', [
      { ...shippedRows(order)[0], warehouse_id: elsewhere, sub_order_number: `ORD-ELSEWHERE0-${elsewhere}` },
    ]);
    await Promise.all([batchDone(batchId), batchDone(south)]);
    const [dismissMe, wrongSku, twoUnits] = (await exceptionsOf(batchId)).sort((a, b) => a.rowNumber - b.rowNumber);
    const [otherWarehouse] = await exceptionsOf(south);
    const resolve = (id: string, body: unknown) => ops('POST', `/adaptor/exceptions/${id}/resolve`, body);

    expect((await resolve(dismissMe.id, { action: 'dismiss', reason: '   ' })).status).toBe(400);
    expect((await resolve(dismissMe.id, { action: 'explode' })).status).toBe(400);
    const dismissed = await resolve(dismissMe.id, { action: 'dismiss', reason: 'a test order the warehouse invented' });
    expect(dismissed).toMatchObject({
      status: 200,
      body: { resolved: true, resolution: { action: 'dismiss', reason: 'a test order the warehouse invented', by: DEV_ACTORS.ops, at: expect.any(String) } },
    });
    const again = await resolve(dismissMe.id, { action: 'dismiss', reason: 'twice' });
    expect(again).toMatchObject({ status: 200, body: { resolution: dismissed.body.resolution } });
    expect(await resolve(dismissMe.id, { action: 'reapply', orderId: order.orderId })).toMatchObject({
      status: 409,
      body: { error: { code: 'EXCEPTION_RESOLVED_OTHERWISE' } },
    });

    const refused = async (id: string, orderId: string, code: string) => {
      const r = await resolve(id, { action: 'reapply', orderId });
      expect(r.status, JSON.stringify(r.body)).toBe(code === 'ORDER_NOT_FOUND' ? 404 : 409);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toBeTypeOf('string');
    };
    await refused(wrongSku.id, order.orderId, 'ROW_DOES_NOT_FIT');
    await refused(twoUnits.id, order.orderId, 'ROW_DOES_NOT_FIT');
    await refused(otherWarehouse.id, order.orderId, 'NO_SUB_ORDER_AT_WAREHOUSE');
    await refused(wrongSku.id, 'ORD-NOSUCHORDER', 'ORDER_NOT_FOUND');
    // An order that no longer waits for dispatch.
    await deliver(sys, wh, 'other-ships.csv', shippedRows(other));
    await waitForStatus(sys, [other.orderId], 'Complete');
    await refused(twoUnits.id, other.orderId, 'ORDER_NOT_AWAITING_DISPATCH');
    // A row for an order whose workflow has closed is an ORDER_CLOSED exception; reapplying it to its own order is refused.
    await sys.temporal.workflow.getHandle(orderWorkflowId(other.orderId)).result();
    const late = await deliver(sys, wh, 'late.csv', [{ ...shippedRows(other)[0], tracking_number: 'TRK-LATE' }]);
    await batchDone(late);
    const [closed] = await exceptionsOf(late);
    expect(closed).toMatchObject({ id: `${late}:1`, code: 'ORDER_CLOSED', resolved: false });
    expect(await resolve(closed.id, { action: 'reapply' })).toMatchObject({ status: 409, body: { error: { code: 'ORDER_NOT_AWAITING_DISPATCH' } } });
    // Refused attempts leave the exceptions open, for another try.
    expect((await exceptionsOf(batchId, 'unresolved')).map((e) => e.id).sort()).toEqual([wrongSku.id, twoUnits.id].sort());

    expect((await resolve(`${'0'.repeat(64)}:1`, { action: 'dismiss', reason: 'x' })).body.error.code).toBe('EXCEPTION_NOT_FOUND');
    expect((await resolve('not-an-id', { action: 'dismiss', reason: 'x' })).status).toBe(400);
    for (const role of ['agent', 'adaptor'] as const) {
      const r = await sys.call('POST', `/api/v1/adaptor/exceptions/${wrongSku.id}/resolve`, { role, body: { action: 'dismiss', reason: 'x' } });
      expect(r.status).toBe(403);
    }
  });
});
