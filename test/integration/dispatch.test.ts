// The Sales Order Dispatch job against the real Temporal dev server and FerretDB: warehouse
// response files land in the inbox, the adaptor turns them into dispatch batches, the job signals
// every order, and each order ends Complete, Error or still Awaiting Dispatch exactly as its rows
// say, with every row applied once, even when the same file comes twice or the worker dies in
// the middle of a 1,000-order batch.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { dispatchWorkflowId, type OrderView } from '../../workflows/messages';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { deliver, errorRow, ordersAwaitingDispatch, readOrders, shippedRows, waitForStatus, type ResponseRow } from '../support/dispatch-fixtures';
import { killableWorker, type KillableWorker } from '../support/killable-worker';
import { eventually, startSystem, type TestSystem } from '../support/system';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
// The status moves (edits and news keep the status: entries of their own).
const statuses = (o: OrderView) => o.history.filter((h) => h.from !== h.to).map((h) => h.to);

let sys: TestSystem;
let freshWorker: RunningWorker | undefined;
let child: KillableWorker | undefined;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await child?.kill();
  await freshWorker?.shutdown();
  await sys?.stop();
});

async function batchDone(batchId: string) {
  return eventually(
    async () => {
      const b = await sys.db.models.DispatchBatch.findOne({ _id: batchId }).lean();
      return b?.status === 'done' && b;
    },
    `batch ${batchId.slice(0, 8)} done`,
  );
}

describe('Sales Order Dispatch job', () => {
  it('completes 30 orders answered in one simulator response file, and reports the batch', async () => {
    const orders = await ordersAwaitingDispatch(sys, 30, {
      accountId: 'ACC-1002',
      lines: [
        { sku: 'HS-SAM-A16-128', quantity: 1 },
        { sku: 'PR-GEN-CASE-IP16', quantity: 2 },
      ],
    });
    expect(new Set(orders.map((o) => o.subOrders[0].warehouseId))).toEqual(new Set(['WH-NORTH']));

    const files = await sys.simulator.respond();
    expect(files).toHaveLength(1);
    const csv = fs.readFileSync(files[0], 'utf8');
    for (const o of orders) expect(csv).toContain(`${o.orderId}-WH-NORTH,1,HS-SAM-A16-128,1,SN`);
    await sys.adaptor.sweep();
    const batchId = sha256(csv);

    const done = await waitForStatus(
      sys,
      orders.map((o) => o.orderId),
      'Complete',
    );
    for (const o of done) {
      expect(statuses(o)).toEqual(['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete']);
      const units = o.subOrders[0].units;
      expect(units.filter((u) => u.lineNumber === 1)).toHaveLength(1);
      expect(units.find((u) => u.lineNumber === 1)!.imei).toMatch(/^\d{15}$/);
      expect(units.filter((u) => u.lineNumber === 2).reduce((n, u) => n + u.quantity, 0)).toBe(2);
      expect(units.every((u) => u.batchId === batchId)).toBe(true);
    }
    // Billed on the next invoice: one charge per line, for what shipped.
    const charges = await sys.db.models.Charge.find({ orderId: { $in: orders.map((o) => o.orderId) } }).lean();
    expect(charges).toHaveLength(60);
    expect(charges.every((c) => c.invoiceNumber === null)).toBe(true);

    await batchDone(batchId);
    const report = await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'ops' });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      batchId,
      warehouseId: 'WH-NORTH',
      status: 'done',
      rowCount: 60,
      validRows: 60,
      rejectedRows: 0,
      exceptionRows: 0,
      signalled: 30,
    });
    expect(report.body.report).toEqual({ orders: 30, completed: 30, errored: 0, cancelled: 0, stillAwaitingDispatch: 0, rowsRejected: 0, exceptions: 0 });
  });

  it('applies a mixed file: shipped orders complete, error and out-of-stock rows put theirs in Error, an invalid row is reported', async () => {
    const [shipped, failed, missing, invalid] = await ordersAwaitingDispatch(sys, 4, { lines: [{ sku: 'HS-GGL-PX9-128', quantity: 1 }] });
    const bad = shippedRows(invalid)[0];
    const rows: ResponseRow[] = [
      ...shippedRows(shipped),
      errorRow(failed, 1, 'PICK_FAILED', 'picking failed: item damaged in store'),
      errorRow(missing, 1, 'OUT_OF_STOCK', 'no Pixel 9 left', 'outOfStock'),
      { ...bad, imei: String(bad.imei).slice(0, 14) + ((Number(String(bad.imei)[14]) + 1) % 10) }, // wrong check digit
    ];
    const batchId = await deliver(sys, 'WH-NORTH', 'mixed.csv', rows);
    await batchDone(batchId);

    const [okOrder] = await waitForStatus(sys, [shipped.orderId], 'Complete');
    const [f, m] = await waitForStatus(sys, [failed.orderId, missing.orderId], 'Error');
    expect(okOrder.subOrders[0].units).toHaveLength(1);
    expect(f.error).toEqual({ code: 'PICK_FAILED', message: 'picking failed: item damaged in store' });
    expect(f.subOrders[0]).toMatchObject({ status: 'Error', units: [] });
    expect(m.error).toEqual({ code: 'OUT_OF_STOCK', message: 'no Pixel 9 left' });
    expect(statuses(m)).toEqual(['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Error']);
    // Errored orders are not charged; the rejected row leaves its order waiting.
    expect(await sys.db.models.Charge.countDocuments({ orderId: { $in: [failed.orderId, missing.orderId] } })).toBe(0);
    expect(await sys.db.models.Charge.countDocuments({ orderId: shipped.orderId })).toBe(1);
    const [still] = await readOrders(sys, [invalid.orderId]);
    expect(still.status).toBe('AwaitingDispatch');
    expect(still.subOrders[0].units).toEqual([]);

    const report = await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'adaptor' });
    expect(report.body).toMatchObject({ rowCount: 4, validRows: 3, rejectedRows: 1, exceptionRows: 0 });
    expect(report.body.rejections).toEqual([{ rowNumber: 4, code: 'INVALID_IMEI', message: expect.stringContaining('Row 4') }]);
    expect(report.body.report).toMatchObject({ orders: 3, completed: 1, errored: 2, stillAwaitingDispatch: 0, rowsRejected: 1 });
  });

  it('keeps a part-shipped order Awaiting Dispatch until the rest ships, and ignores a unit reported again', async () => {
    const [order] = await ordersAwaitingDispatch(sys, 1, {
      lines: [
        { sku: 'PR-APL-USBC-20W', quantity: 2 },
        { sku: 'PR-ROUTER-5G', quantity: 2 },
      ],
    });
    const [router1, router2] = shippedRows(order, { only: { lineNumber: 2, units: 2 } });
    const first = await deliver(sys, 'WH-NORTH', 'part-1.csv', [
      { ...shippedRows(order, { only: { lineNumber: 1, units: 1 } })[0], disposition: 'partial' },
      router1,
    ]);
    await batchDone(first);
    const [part] = await waitForStatus(sys, [order.orderId], 'AwaitingDispatch');
    await eventually(async () => (await readOrders(sys, [order.orderId]))[0].subOrders[0].units.length === 2, 'first shipment applied');
    const afterFirst = (await readOrders(sys, [order.orderId]))[0];
    expect(afterFirst.status).toBe('AwaitingDispatch');
    expect(afterFirst.subOrders[0].status).toBe('Sent');
    expect(statuses(part)).toEqual(['New', 'AwaitingGeneration', 'AwaitingDispatch']);

    // The second file repeats router 1 (same serial) and ships the rest.
    const second = await deliver(sys, 'WH-NORTH', 'part-2.csv', [router1, ...shippedRows(order, { only: { lineNumber: 1, units: 1 } }), router2]);
    await batchDone(second);
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    const units = done.subOrders[0].units;
    expect(units.filter((u) => u.lineNumber === 1).map((u) => [u.quantity, u.batchId])).toEqual([
      [1, first],
      [1, second],
    ]);
    expect(units.filter((u) => u.lineNumber === 2).map((u) => u.serialNumber)).toEqual([router1.serial_number, router2.serial_number]);
    expect(statuses(done)).toEqual(['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete']);
    // One charge per line per shipment that carried it.
    const charges = await sys.db.models.Charge.find({ orderId: order.orderId }).sort({ chargeKey: 1 }).lean();
    expect(charges.map((c) => [c.lineNumber, c.quantity]).sort()).toEqual([
      [1, 1],
      [1, 1],
      [2, 1],
      [2, 1],
    ]);
  });

  it('recognises the same file twice and applies it once', async () => {
    const [order] = await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1001', lines: [{ sku: 'PR-SAM-BUDS3', quantity: 1 }] });
    const csv = formatWarehouseResponseCsv(shippedRows(order));
    const batchId = await deliver(sys, 'WH-NORTH', 'first.csv', csv);
    await batchDone(batchId);
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    await eventually(async () => (await readOrders(sys, [order.orderId]))[0].invoiceNumber, 'invoiced');
    const before = (await readOrders(sys, [order.orderId]))[0];
    const job = sys.temporal.workflow.getHandle(dispatchWorkflowId(batchId));
    await job.result();
    const firstRun = (await job.describe()).runId;

    // Same bytes under another name: recognised by content hash.
    await deliver(sys, 'WH-NORTH', 'again.csv', csv);
    const archive = warehouseFolders(sys.config.dataDir, 'WH-NORTH').archive;
    const reportName = fs.readdirSync(archive).find((n) => n.endsWith('-again.csv.report.json'));
    expect(reportName).toBeDefined();
    expect(JSON.parse(fs.readFileSync(path.join(archive, reportName!), 'utf8'))).toMatchObject({ file: 'again.csv', batchId, outcome: 'duplicate' });
    // ... and over the API.
    const posted = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-NORTH&fileName=again-api.csv', {
      role: 'adaptor',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(posted).toMatchObject({ status: 202, body: { outcome: 'duplicate', batchId } });

    // One Sales Order Dispatch job ran, for the first file: the duplicates started no other run.
    expect((await job.describe()).runId).toBe(firstRun);
    expect(await sys.db.models.AdaptorException.countDocuments({ batchId })).toBe(0);
    const after = (await readOrders(sys, [order.orderId]))[0];
    expect(after.revision).toBe(before.revision);
    expect(after.history).toEqual(done.history);
    expect(after.subOrders[0].units).toHaveLength(1);
    expect(await sys.db.models.Charge.countDocuments({ orderId: order.orderId })).toBe(1);
    expect(await sys.db.models.Invoice.countDocuments({ idempotencyKey: `order:${order.orderId}` })).toBe(1);
    expect(await sys.db.models.DispatchBatch.countDocuments({ batchId })).toBe(1);
  });
});

/**
 * Orders in the crash test: the 1,000 (about 5 to 8 minutes on two shared cores, most of
 * it creating the orders); `DISPATCH_CRASH_ORDERS=100` for a quick local run.
 */
const CRASH_ORDERS = Number(process.env.DISPATCH_CRASH_ORDERS ?? 1000);
/** Orders created at once: FerretDB (SQLite) answers SQLITE_BUSY when pushed much harder. */
const CREATE_CONCURRENCY = Number(process.env.DISPATCH_CRASH_CONCURRENCY ?? 10);

describe('a worker killed while signalling a large batch', () => {
  it(`updates every one of ${CRASH_ORDERS} orders exactly once after a fresh worker takes over`, { timeout: 60 * 60_000 }, async () => {
    const t0 = Date.now();
    const orders = await ordersAwaitingDispatch(
      sys,
      CRASH_ORDERS,
      { accountId: 'ACC-1002', lines: [{ sku: 'HS-SAM-A16-128', quantity: 1 }] },
      CREATE_CONCURRENCY,
    );
    const tOrders = Date.now();

    // Only the worker in the child process runs from here on.
    child = await killableWorker(sys);
    const { proc, exited } = child;

    const rows = orders.flatMap((o) => shippedRows(o));
    const imeiOf = new Map(rows.map((r) => [String(r.sub_order_number), String(r.imei)]));
    const batchId = await deliver(sys, 'WH-NORTH', 'big.csv', rows);
    const tIngested = Date.now();

    // Kill it mid-signalling: some orders signalled, not all.
    let signalledAtKill = 0;
    const progress = async () => (await sys.db.models.DispatchProgress.findOne({ _id: batchId }).lean())?.signalled ?? 0;
    for (;;) {
      const b = await sys.db.models.DispatchBatch.findOne({ _id: batchId }, { status: 1 }).lean();
      const signalled = await progress();
      if (proc.exitCode !== null) throw new Error('the worker process died by itself');
      if (b?.status === 'done' || signalled >= CRASH_ORDERS) throw new Error('the batch finished before the worker could be killed');
      if (signalled > 0) {
        proc.kill('SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await exited;
    signalledAtKill = await progress();
    expect(signalledAtKill).toBeGreaterThan(0);
    expect(signalledAtKill).toBeLessThan(CRASH_ORDERS);
    const atKill = await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'ops' });
    expect(atKill.body).toMatchObject({ status: 'signalling', signalled: signalledAtKill });
    const tKilled = Date.now();

    freshWorker = await startWorker({ config: sys.config, db: sys.db, workflowBundle: { codePath: inject('workflowBundlePath') } });
    const ids = orders.map((o) => o.orderId);
    const done = await waitForStatus(sys, ids, 'Complete', Math.max(120_000, CRASH_ORDERS * 3000));
    const finished = await batchDone(batchId);
    const tDone = Date.now();

    // Every order: one unit, the one its row shipped; one Complete; one charge.
    for (const o of done) {
      expect(o.subOrders).toHaveLength(1);
      expect(o.subOrders[0].units).toHaveLength(1);
      expect(o.subOrders[0].units[0]).toMatchObject({ lineNumber: 1, quantity: 1, batchId, imei: imeiOf.get(o.subOrders[0].subOrderNumber) });
      expect(statuses(o)).toEqual(['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete']);
    }
    const charges = await sys.db.models.Charge.find({ orderId: { $in: ids } }, { orderId: 1, quantity: 1 }).lean();
    expect(charges).toHaveLength(CRASH_ORDERS);
    expect(new Set(charges.map((c) => c.orderId)).size).toBe(CRASH_ORDERS);
    expect(charges.every((c) => c.quantity === 1)).toBe(true);
    // Orders re-signalled after the restart had applied their rows already: no false exceptions.
    expect(await sys.db.models.AdaptorException.countDocuments({ batchId })).toBe(0);
    expect(finished.signalled).toBe(CRASH_ORDERS);

    // The activity really was retried after the crash.
    const handle = sys.temporal.workflow.getHandle(dispatchWorkflowId(batchId));
    expect(await handle.result()).toEqual({ ordersSignalled: CRASH_ORDERS });
    const history = await handle.fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!.attempt);
    expect(started[0]).toBeGreaterThanOrEqual(2);

    console.info(
      `[dispatch crash test] ${CRASH_ORDERS} orders: created and sent in ${tOrders - t0} ms; ingest ${tIngested - tOrders} ms (incl. worker process start); ` +
        `killed at ${signalledAtKill} signalled; recovered and completed in ${tDone - tKilled} ms; total ${tDone - t0} ms`,
    );
  });
});
