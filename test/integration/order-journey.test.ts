// The walking skeleton, through HTTP against the real Temporal dev server and FerretDB: an agent
// creates an order, adds a handset, generates it; the fraud check runs, the sales order file is
// written to the warehouse outbox; the warehouse answers; the adaptor and the Sales Order
// Dispatch job complete the order, and exactly one immediate charge and invoice are recorded.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { validateSalesOrderRequest } from '../../infra/contracts';
import { orderWorkflowId } from '../../workflows/messages';
import { replayAndRecord } from '../support/replay';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

describe('one order end to end', () => {
  it('goes New → Awaiting Generation → Awaiting Dispatch → Complete and is charged once', async () => {
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {} });
    expect(created.status).toBe(201);
    expect(created.body.status).toBe('New');
    const orderId: string = created.body.orderId;
    expect(orderId).toMatch(/^ORD-[0-9A-Z]{10}$/);
    expect(created.body.delivery.name).toBe('Alice Johnson');

    const added = await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: { sku: 'HS-APL-IP16-128', quantity: 1 } });
    expect(added.status).toBe(200);
    expect(added.body.lines).toHaveLength(1);
    expect(added.body.lines[0]).toMatchObject({ sku: 'HS-APL-IP16-128', unitPrice: 79900, quantity: 1 });
    expect(added.body.totals).toEqual({ net: 79900, tax: 15980, gross: 95880 });

    const generated = await sys.call('POST', `/api/v1/orders/${orderId}/generate`);
    expect(generated.status).toBe(200);
    expect(generated.body.status).toBe('AwaitingGeneration');

    // The sales order lands in the warehouse outbox, then the order is Awaiting Dispatch.
    const outbox = warehouseFolders(sys.config.dataDir, 'WH-NORTH').outbox;
    const file = await eventually(
      async () => fs.existsSync(path.join(outbox, `${orderId}-WH-NORTH-new.json`)) && path.join(outbox, `${orderId}-WH-NORTH-new.json`),
      'the sales order file',
    );
    const salesOrder = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(validateSalesOrderRequest(salesOrder)).toEqual({ ok: true });
    expect(salesOrder).toMatchObject({
      purpose: 'new',
      depositorOrderNumber: orderId,
      subOrderNumber: `${orderId}-WH-NORTH`,
      accountId: 'ACC-1001',
      shipTo: { name: 'Alice Johnson', postcode: 'LS1 6DT', country: 'GB' },
      lines: [{ lineNumber: 1, sku: 'HS-APL-IP16-128', quantity: 1, captureImei: true, captureSerialNumbers: true }],
    });
    const awaiting = await eventually(async () => {
      const r = await sys.call('GET', `/api/v1/orders/${orderId}`);
      return r.body.status === 'AwaitingDispatch' && r.body;
    }, 'Awaiting Dispatch');
    expect(awaiting.fraud).toMatchObject({ required: expect.any(Boolean) });

    // The warehouse answers; the adaptor picks the file up; the dispatch job signals the order.
    const [responseFile] = await sys.simulator.respond();
    expect(fs.readFileSync(responseFile, 'utf8')).toContain(`${orderId}-WH-NORTH,1,HS-APL-IP16-128,1,SN`);
    const complete = await eventually(async () => {
      const r = await sys.call('GET', `/api/v1/orders/${orderId}`);
      return r.body.status === 'Complete' && r.body.invoiceNumber && r.body;
    }, 'Complete with an invoice');
    expect(complete.subOrders[0].units).toHaveLength(1);
    expect(complete.subOrders[0].units[0].imei).toMatch(/^\d{15}$/);
    expect(complete.history.filter((h: { from: string | null; to: string }) => h.from !== h.to).map((h: { to: string }) => h.to)).toEqual([
      'New',
      'AwaitingGeneration',
      'AwaitingDispatch',
      'Complete',
    ]);

    const charges = await sys.db.models.Charge.find({ orderId }).lean();
    expect(charges).toHaveLength(1);
    expect(charges[0]).toMatchObject({ amount: 79900, tax: 15980, quantity: 1, invoiceNumber: complete.invoiceNumber });
    expect(await sys.db.models.Invoice.countDocuments({ accountId: 'ACC-1001', chargeKeys: charges[0].chargeKey })).toBe(1);

    // Ops find it in Temporal by status; the workflow answers a query with the same state.
    const handle = sys.temporal.workflow.getHandle(orderWorkflowId(orderId));
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'Complete', invoiceNumber: complete.invoiceNumber });
    const desc = await handle.describe();
    expect(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'OrderStatus')?.value).toBe('Complete');

    // The recorded history replays on today's code; the dispatch job's too.
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-complete-immediate');
    const batch = await sys.db.models.DispatchBatch.findOne({ orderIds: orderId }).lean();
    await sys.temporal.workflow.getHandle(`dispatch-${batch!.batchId}`).result();
    await replayAndRecord(sys.temporal, `dispatch-${batch!.batchId}`, 'sales-order-dispatch');

    // The response file was archived with its report.
    const archived = fs.readdirSync(warehouseFolders(sys.config.dataDir, 'WH-NORTH').archive);
    expect(archived.some((n) => n.endsWith('.csv'))).toBe(true);
    expect(archived.some((n) => n.endsWith('.report.json'))).toBe(true);
  });
});
