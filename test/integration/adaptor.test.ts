// The warehouse adaptor against the real Temporal dev server and FerretDB: response files through
// the inbox folder and the API (CSV and JSON), files that are truncated, malformed or about
// orders nobody knows, the exceptions list ops work from and the batch report. The 100,000-row
// file is adaptor-big-file.test.ts.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import type { DispatchBatch } from '../../domain/types';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { deliver, ordersAwaitingDispatch, readOrders, shippedRows, waitForStatus, type ResponseRow } from '../support/dispatch-fixtures';
import { eventually, startSystem, type TestSystem } from '../support/system';

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

let sys: TestSystem;
beforeAll(async () => {
  // The simulator answers with errors and out-of-stock lines as well as shipments.
  sys = await startSystem({ simulator: { errorRate: 0.4, outOfStockRate: 0.2 } });
});
afterAll(async () => {
  await sys?.stop();
});

const csvUpload = (csv: string, query = 'warehouseId=WH-NORTH', role: 'adaptor' | 'agent' | 'ops' | null = 'adaptor', contentType = 'text/csv') =>
  sys.call('POST', `/api/v1/adaptor/warehouse-files?${query}`, { role, body: csv, headers: { 'content-type': contentType } });

function filesIn(dir: string, suffix: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith(suffix)) : [];
}

describe('inbox files', () => {
  it("applies the simulator's mixed file: each order ends as its rows say", async () => {
    const orders = await ordersAwaitingDispatch(sys, 16, { lines: [{ sku: 'HS-GGL-PX9-128', quantity: 1 }] });
    const [file] = await sys.simulator.respond();
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').slice(1);
    const expected = new Map(
      lines.map((l) => {
        const c = l.split(',');
        return [c[1], { disposition: c[11], code: c[12] }];
      }),
    );
    expect(expected.size).toBe(16);
    await sys.adaptor.sweep();

    const dispositions = [...expected.values()].map((e) => e.disposition);
    expect(dispositions).toContain('shipped');
    expect(dispositions.some((d) => d === 'error' || d === 'outOfStock')).toBe(true);
    for (const o of orders) {
      const want = expected.get(o.subOrders[0].subOrderNumber)!;
      const [done] = await waitForStatus(sys, [o.orderId], want.disposition === 'shipped' ? 'Complete' : 'Error');
      if (want.disposition === 'shipped') expect(done.subOrders[0].units).toHaveLength(1);
      else expect(done.error?.code).toBe(want.code);
    }
  });

  it('applies the valid rows of a file cut off mid-row and reports the broken row', async () => {
    const [a, b] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-ROUTER-5G', quantity: 1 }] });
    const full = formatWarehouseResponseCsv([...shippedRows(a), ...shippedRows(b)]);
    const cut = full.slice(0, full.lastIndexOf(',DPD,')); // the last row loses its last cells
    const batchId = await deliver(sys, 'WH-NORTH', 'cut.csv', cut);

    await waitForStatus(sys, [a.orderId], 'Complete');
    const batch = await eventually(async () => (await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'ops' })).body, 'the batch');
    expect(batch).toMatchObject({ rowCount: 2, validRows: 1, rejectedRows: 1 });
    expect(batch.rejections).toEqual([{ rowNumber: 2, code: 'COLUMN_COUNT', message: expect.stringContaining('Row 2') }]);
    const archive = warehouseFolders(sys.config.dataDir, 'WH-NORTH').archive;
    const report = JSON.parse(fs.readFileSync(path.join(archive, filesIn(archive, '-cut.csv.report.json')[0]), 'utf8'));
    expect(report).toMatchObject({
      outcome: 'accepted',
      batchId,
      rowCount: 2,
      validRows: 1,
      rejectedRows: 1,
      rejections: [{ rowNumber: 2, code: 'COLUMN_COUNT' }],
    });
    const [stillWaiting] = await readOrders(sys, [b.orderId]);
    expect(stillWaiting).toMatchObject({ status: 'AwaitingDispatch', subOrders: [{ units: [] }] });
  });

  it('quarantines a file with an unclosed quote, with a report beside it, and applies none of it', async () => {
    const [a, b] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-APL-USBC-20W', quantity: 1 }] });
    const good = formatWarehouseResponseCsv(shippedRows(a)).trimEnd().split('\n');
    const broken = formatWarehouseResponseCsv([{ ...shippedRows(b)[0], error_message: 'x' }])
      .trimEnd()
      .split('\n')[1]
      .replace(/,x$/, ',"note never closed');
    const csv = [...good, broken, ''].join('\n');
    const batchId = await deliver(sys, 'WH-NORTH', 'unclosed.csv', csv);

    const quarantine = warehouseFolders(sys.config.dataDir, 'WH-NORTH').quarantine;
    expect(filesIn(quarantine, '-unclosed.csv')).toHaveLength(1);
    const report = JSON.parse(fs.readFileSync(path.join(quarantine, filesIn(quarantine, '-unclosed.csv.report.json')[0]), 'utf8'));
    expect(report).toMatchObject({ file: 'unclosed.csv', batchId, outcome: 'unreadable', reason: expect.stringContaining('not valid CSV') });
    expect(report.rejections).toEqual([expect.objectContaining({ code: 'MALFORMED_CSV', rowNumber: 2 })]);
    expect(await sys.db.models.DispatchBatch.countDocuments({ batchId })).toBe(0);
    expect(await sys.db.models.DispatchRowChunk.countDocuments({ batchId })).toBe(0);
    const orders = await readOrders(sys, [a.orderId, b.orderId]);
    expect(orders.map((o) => [o.status, o.subOrders[0].units.length])).toEqual([
      ['AwaitingDispatch', 0],
      ['AwaitingDispatch', 0],
    ]);
  });

  it('lists rows for unknown orders as exceptions for ops, and still applies the rest', async () => {
    const [known] = await ordersAwaitingDispatch(sys, 1, { lines: [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }] });
    const stranger: ResponseRow = { ...shippedRows(known)[0], sub_order_number: 'ORD-0000000000-WH-NORTH' };
    const batchId = await deliver(sys, 'WH-NORTH', 'unknown.csv', formatWarehouseResponseCsv([stranger, ...shippedRows(known)]));
    await waitForStatus(sys, [known.orderId], 'Complete');

    const list = await sys.call('GET', `/api/v1/adaptor/exceptions?batchId=${batchId}`, { role: 'ops' });
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        batchId,
        rowNumber: 1,
        warehouseId: 'WH-NORTH',
        code: 'UNKNOWN_ORDER',
        row: expect.objectContaining({ subOrderNumber: 'ORD-0000000000-WH-NORTH', rowNumber: 1 }),
      }),
    ]);
    const byWarehouse = await sys.call('GET', '/api/v1/adaptor/exceptions?warehouseId=WH-NORTH&limit=500', { role: 'ops' });
    expect(byWarehouse.body.items.some((e: { batchId: string }) => e.batchId === batchId)).toBe(true);
    for (const role of ['agent', 'adaptor'] as const) {
      const refused = await sys.call('GET', '/api/v1/adaptor/exceptions', { role });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBeTypeOf('string');
    }
    expect((await sys.call('GET', '/api/v1/adaptor/exceptions', { role: null })).status).toBe(401);

    const batch = await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'ops' });
    expect(batch.body).toMatchObject({ rowCount: 2, validRows: 1, exceptionRows: 1, rejectedRows: 0, orderIds: [known.orderId] });
    expect(batch.body.report).toMatchObject({ orders: 1, completed: 1, exceptions: 1 });
  });
});

describe('API', () => {
  it('takes a CSV upload from the adaptor role only', async () => {
    const [order] = await ordersAwaitingDispatch(sys, 1, { lines: [{ sku: 'HS-SAM-A16-128', quantity: 1 }] });
    const csv = formatWarehouseResponseCsv(shippedRows(order));
    for (const role of ['agent', 'ops'] as const) expect((await csvUpload(csv, 'warehouseId=WH-NORTH', role)).status).toBe(403);
    expect((await csvUpload(csv, 'warehouseId=WH-NORTH', null)).status).toBe(401);
    expect((await csvUpload(csv, 'warehouseId=WH-NOWHERE')).body.error.code).toBe('VALIDATION_FAILED');
    expect((await csvUpload(csv, 'warehouseId=WH-NORTH', 'adaptor', 'application/json')).status).toBe(415);

    const posted = await csvUpload(csv, 'warehouseId=WH-NORTH&fileName=from-api.csv');
    expect(posted).toMatchObject({
      status: 202,
      body: { outcome: 'accepted', batchId: sha256(csv), rowCount: 1, validRows: 1, rejectedRows: 0, exceptionRows: 0 },
    });
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    expect(done.subOrders[0].units[0]).toMatchObject({ batchId: sha256(csv), imei: expect.stringMatching(/^\d{15}$/) });
    const f = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    expect(filesIn(f.archive, '-from-api.csv')).toHaveLength(1);
    expect(fs.readdirSync(f.processing)).toEqual([]);
    const stored = await sys.db.models.DispatchBatch.findOne({ batchId: sha256(csv) }).lean();
    expect(stored).toMatchObject({ source: 'api-csv', sourceFile: expect.stringMatching(/-from-api\.csv$/) });

    const unreadable = await csvUpload(`${WAREHOUSE_RESPONSE_COLUMNS.join(',')}\nWH-NORTH,"open`, 'warehouseId=WH-NORTH&fileName=bad-api.csv');
    expect(unreadable).toMatchObject({ status: 422, body: { outcome: 'unreadable', rejections: [expect.objectContaining({ code: 'MALFORMED_CSV' })] } });
    expect(filesIn(f.quarantine, '-bad-api.csv.report.json')).toHaveLength(1);
  });

  it('takes an already converted JSON batch under an id of its own, keeping the declared id and its row numbers', async () => {
    const [order] = await ordersAwaitingDispatch(sys, 1, { lines: [{ sku: 'PR-SAM-BUDS3', quantity: 2 }] });
    const [u1, u2] = shippedRows(order);
    const toRow = (r: ResponseRow, rowNumber: number) => ({
      rowNumber,
      warehouseId: String(r.warehouse_id),
      subOrderNumber: String(r.sub_order_number),
      lineNumber: Number(r.line_number),
      sku: String(r.sku),
      quantityShipped: 1,
      serialNumber: String(r.serial_number),
      carrier: 'DPD',
      trackingNumber: String(r.tracking_number),
      shipDate: String(r.ship_date),
      disposition: 'shipped' as const,
    });
    // Rows 3 and 7 of the warehouse's file: the converter left out rows that were not ours.
    const batch: DispatchBatch = {
      schemaVersion: '1',
      batchId: sha256(`converted-${order.orderId}`),
      warehouseId: 'WH-NORTH',
      sourceFile: 'wh-945-0007.csv',
      receivedAt: '2025-03-14T10:00:00.000Z',
      rows: [toRow(u2, 7), toRow(u1, 3)],
    };

    expect((await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { role: 'agent', body: batch })).status).toBe(403);
    const broken = await sys.call('POST', '/api/v1/adaptor/dispatch-batches', {
      role: 'adaptor',
      body: { ...batch, rows: [{ ...batch.rows[0], quantityShipped: 0 }] },
    });
    expect(broken).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });

    const posted = await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { role: 'adaptor', body: batch });
    expect(posted).toMatchObject({ status: 202, body: { outcome: 'accepted', rowCount: 2, validRows: 2 } });
    const batchId = posted.body.batchId as string;
    expect(batchId).toMatch(/^[0-9a-f]{64}$/);
    expect(batchId).not.toBe(batch.batchId);
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    expect(done.subOrders[0].units.map((u) => u.rowKey).sort()).toEqual([`${batchId}:3`, `${batchId}:7`]);

    const again = await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { role: 'adaptor', body: { ...batch, receivedAt: '2025-03-14T11:00:00.000Z' } });
    expect(again).toMatchObject({ status: 202, body: { outcome: 'duplicate', batchId } });
    const report = await sys.call('GET', `/api/v1/adaptor/batches/${batchId}`, { role: 'adaptor' });
    expect(report).toMatchObject({ status: 200, body: { batchId, declaredBatchId: batch.batchId, source: 'api-json', report: { orders: 1, completed: 1 } } });
  });

  it('shows a batch to ops and the adaptor only', async () => {
    expect((await sys.call('GET', `/api/v1/adaptor/batches/${'0'.repeat(64)}`, { role: 'ops' })).status).toBe(404);
    expect((await sys.call('GET', '/api/v1/adaptor/batches/not-a-hash', { role: 'ops' })).status).toBe(400);
    expect((await sys.call('GET', `/api/v1/adaptor/batches/${'0'.repeat(64)}`, { role: 'agent' })).status).toBe(403);
  });
});
