// The Sales Order Request job against the real Temporal dev server and FerretDB: one contract-valid
// file per warehouse sub-order, a split order, a send retried after the file was written, the HTTP
// transport (a warehouse that refuses, one that fails once), and a worker that dies between the
// fraud check and the send.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SalesOrderRequest } from '../../domain/types';
import { validateSalesOrderRequest } from '../../infra/contracts';
import { freePort } from '../../infra/dev-stack';
import { RulesFraudProvider, type FraudCheckRequest, type FraudProvider, type FraudProviderAnswer } from '../../infra/fraud-providers';
import { HttpWarehouseTransport, OutboxFolderTransport, type WarehouseTransport } from '../../infra/warehouse-transport';
import { orderWorkflowId, WarehouseIdsAttr } from '../../workflows/messages';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { addLine, createOrder, generate, notes, outboxFiles, readOutboxFile, waitForOrder, waitForStatus } from '../support/orders';
import { eventually, startSystem, type TestSystem } from '../support/system';

/** The outbox transport, counting sends per file; optionally failing right after writing the file. */
class CountingTransport implements WarehouseTransport {
  readonly name = 'outbox-folder';
  inner?: WarehouseTransport;
  readonly sends = new Map<string, number>();
  /** File ids whose next send writes the file and then fails, as if the connection dropped. */
  readonly failAfterWrite = new Set<string>();

  /** While set, sends wait for it (a slow warehouse connection). */
  hold?: Promise<void>;

  async send(request: SalesOrderRequest): Promise<{ location: string }> {
    this.sends.set(request.fileId, (this.sends.get(request.fileId) ?? 0) + 1);
    await this.hold;
    const result = await this.inner!.send(request);
    if (this.failAfterWrite.delete(request.fileId)) throw new Error('connection reset after the file was written');
    return result;
  }
}

const orderFiles = (s: TestSystem, orderId: string) =>
  s.config.warehouses.ids.flatMap((w) =>
    outboxFiles(s, w)
      .filter((f) => f.startsWith(`${orderId}-`))
      .map((f) => ({ warehouseId: w, name: f, json: readOutboxFile(s, w, f) as SalesOrderRequest })),
  );

function expectValid(files: { json: unknown }[]): void {
  for (const f of files) expect(validateSalesOrderRequest(f.json)).toEqual({ ok: true });
}

describe('sending to the outbox folder', () => {
  const transport = new CountingTransport();
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ env: { FRAUD_VELOCITY_LIMIT: '1000' }, overrides: { transport } });
    transport.inner = new OutboxFolderTransport(sys.config.dataDir);
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('one contract-valid file for a one-warehouse order, fraud flag notRequired, then Awaiting Dispatch', async () => {
    const o = await createOrder(sys, 'ACC-1003');
    await addLine(sys, o.orderId, 'HS-GGL-PX9-128', 1); // below the fraud value threshold
    await generate(sys, o.orderId);
    const sent = await waitForStatus(sys, o.orderId, 'AwaitingDispatch');
    expect(sent.fraud).toEqual({ required: false, reasons: [] });
    expect(notes(sent)).toEqual([]); // no check ran, so no decision to show
    const files = orderFiles(sys, o.orderId);
    expect(files.map((f) => f.name)).toEqual([`${o.orderId}-WH-NORTH-new.json`]);
    expectValid(files);
    expect(files[0].json).toMatchObject({
      schemaVersion: '1',
      fileId: `${o.orderId}-WH-NORTH-new`,
      purpose: 'new',
      warehouseId: 'WH-NORTH',
      depositorOrderNumber: o.orderId,
      subOrderNumber: `${o.orderId}-WH-NORTH`,
      accountId: 'ACC-1003',
      serviceLevel: 'standard',
      fraudCheck: { required: false, reasons: [], result: 'notRequired' },
      shipTo: { name: 'Callum MacLeod', addressLines: ['3 Harbour View'], city: 'Inverness', region: 'Highland', postcode: 'IV1 1AA', country: 'GB' },
      lines: [{ lineNumber: 1, sku: 'HS-GGL-PX9-128', quantity: 1, unitOfMeasure: 'EA', captureSerialNumbers: true, captureImei: true }],
    });
    expect(files[0].json.fraudCheck.providerReference).toBeUndefined();
    expect(files[0].json.lines[0].enrolmentProgramme).toBeUndefined();
    const record = await sys.db.models.SalesOrder.findOne({ fileId: `${o.orderId}-WH-NORTH-new` }).lean();
    expect(record).toMatchObject({ orderId: o.orderId, warehouseId: 'WH-NORTH', purpose: 'new', transport: 'outbox-folder', sentAt: expect.any(String) });
    expect(record!.request).toEqual(files[0].json);
    expect(sent.subOrders).toEqual([
      expect.objectContaining({ subOrderNumber: `${o.orderId}-WH-NORTH`, status: 'Sent', lines: [{ lineNumber: 1, sku: 'HS-GGL-PX9-128', quantity: 1 }] }),
    ]);
    expect(sent.history.at(-1)).toMatchObject({ from: 'AwaitingGeneration', to: 'AwaitingDispatch', reason: 'sales order sent to WH-NORTH' });
  });

  it('an order split across two warehouses sends two files, and the ops view lists both warehouses', async () => {
    // Neither warehouse has 3 routers; together they have. The other line fits the first warehouse.
    sys.simulator.setStock('WH-NORTH', 'PR-ROUTER-5G', 1);
    sys.simulator.setStock('WH-SOUTH', 'PR-ROUTER-5G', 2);
    const o = await createOrder(sys, 'ACC-1001');
    await addLine(sys, o.orderId, 'PR-ROUTER-5G', 3);
    await addLine(sys, o.orderId, 'HS-SAM-A16-128', 1);
    const check = await sys.call('GET', `/api/v1/orders/${o.orderId}/stock-check`);
    expect(check.body.items[0]).toMatchObject({ sku: 'PR-ROUTER-5G', status: 'partial', overallStatus: 'available' });
    await generate(sys, o.orderId);
    const sent = await waitForStatus(sys, o.orderId, 'AwaitingDispatch');
    expect(sent.subOrders.map((s: any) => [s.subOrderNumber, s.lines])).toEqual([
      [
        `${o.orderId}-WH-NORTH`,
        [
          { lineNumber: 1, sku: 'PR-ROUTER-5G', quantity: 1 },
          { lineNumber: 2, sku: 'HS-SAM-A16-128', quantity: 1 },
        ],
      ],
      [`${o.orderId}-WH-SOUTH`, [{ lineNumber: 1, sku: 'PR-ROUTER-5G', quantity: 2 }]],
    ]);
    const files = orderFiles(sys, o.orderId);
    expect(files.map((f) => f.name)).toEqual([`${o.orderId}-WH-NORTH-new.json`, `${o.orderId}-WH-SOUTH-new.json`]);
    expectValid(files);
    expect(files[1].json.lines).toEqual([
      expect.objectContaining({ lineNumber: 1, sku: 'PR-ROUTER-5G', quantity: 2, captureSerialNumbers: true, captureImei: false }),
    ]);
    expect(sent.history.at(-1).reason).toBe('sales order sent to WH-NORTH, WH-SOUTH');
    const desc = await sys.temporal.workflow.getHandle(orderWorkflowId(o.orderId)).describe();
    expect(desc.typedSearchAttributes.get(WarehouseIdsAttr)).toEqual(['WH-NORTH', 'WH-SOUTH']);

    // Both warehouses ship their part: the order completes with every unit.
    await sys.simulator.respond();
    const done = await waitForStatus(sys, o.orderId, 'Complete');
    expect(done.subOrders.map((s: any) => s.status)).toEqual(['Shipped', 'Shipped']);
    expect(done.subOrders.flatMap((s: any) => s.units).filter((u: any) => u.lineNumber === 1)).toHaveLength(3);
  });

  it('cancelled while the sales order is going out: a request to the warehouse (202), and a cancel file follows the new one', async () => {
    const o = await createOrder(sys, 'ACC-1002');
    await addLine(sys, o.orderId, 'PR-GEN-CASE-IP16', 2);
    let release!: () => void;
    transport.hold = new Promise((r) => (release = r));
    try {
      await generate(sys, o.orderId);
      await eventually(async () => transport.sends.get(`${o.orderId}-WH-NORTH-new`) === 1, 'the send under way');
      const r = await sys.call('POST', `/api/v1/orders/${o.orderId}/cancel`, { body: { reason: 'customer called back' } });
      expect(r.status).toBe(202);
      expect(r.body.order).toMatchObject({ status: 'AwaitingGeneration', sendStarted: true, cancellationRequested: true });
    } finally {
      transport.hold = undefined;
      release();
    }
    const sent = await waitForOrder(
      sys,
      o.orderId,
      (x) => x.status === 'AwaitingDispatch' && outboxFiles(sys, 'WH-NORTH').includes(`${x.orderId}-WH-NORTH-cancel.json`),
      'Awaiting Dispatch with the cancel sent',
    );
    expect(sent.cancellationRequested).toBe(true);
    const files = orderFiles(sys, o.orderId);
    expect(files.map((f) => [f.name, f.json.purpose])).toEqual([
      [`${o.orderId}-WH-NORTH-cancel.json`, 'cancel'],
      [`${o.orderId}-WH-NORTH-new.json`, 'new'],
    ]);
    expectValid(files);
    expect(files[0].json.lines).toEqual(files[1].json.lines);
  });

  it('a send retried after the file was written leaves exactly one file and one sales order record', async () => {
    const o = await createOrder(sys, 'ACC-1002');
    await addLine(sys, o.orderId, 'PR-APL-USBC-20W', 4);
    const fileId = `${o.orderId}-WH-NORTH-new`;
    transport.failAfterWrite.add(fileId);
    await generate(sys, o.orderId);
    const sent = await waitForStatus(sys, o.orderId, 'AwaitingDispatch');
    expect(transport.sends.get(fileId)).toBe(2);
    const files = orderFiles(sys, o.orderId);
    expect(files.map((f) => f.name)).toEqual([`${fileId}.json`]);
    expectValid(files);
    const records = await sys.db.models.SalesOrder.find({ orderId: o.orderId }).lean();
    expect(records).toHaveLength(1);
    expect(records[0].request).toEqual(files[0].json); // the retry wrote the same bytes
    expect(sent.subOrders[0].status).toBe('Sent');
    const history = await sys.temporal.workflow.getHandle(orderWorkflowId(o.orderId)).fetchHistory();
    // Temporal retried the activity: its recorded (final) attempt is the second.
    const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendSalesOrder')!;
    const started = history.events!.find((e) => String(e.activityTaskStartedEventAttributes?.scheduledEventId) === String(scheduled.eventId));
    expect(started?.activityTaskStartedEventAttributes?.attempt).toBe(2);
  });
});

describe('sending over HTTP', () => {
  type Mode = 'accept' | 'refuse' | 'failOnce';
  const modes = new Map<string, Mode>();
  const received: { warehouseId: string; key: string; body: SalesOrderRequest; status: number }[] = [];
  let server: ServerType;
  let sys: TestSystem;

  beforeAll(async () => {
    const warehouse = new Hono();
    warehouse.post('/warehouses/:id/sales-orders', async (c) => {
      const id = c.req.param('id');
      const key = c.req.header('idempotency-key') ?? '';
      const body = (await c.req.json()) as SalesOrderRequest;
      const mode = modes.get(id) ?? 'accept';
      const status = mode === 'refuse' ? 422 : mode === 'failOnce' && !received.some((r) => r.key === key) ? 503 : 201;
      received.push({ warehouseId: id, key, body, status });
      if (status === 422) return c.json({ error: `SKU ${body.lines[0].sku} is not stocked at ${id}` }, 422);
      if (status === 503) return c.json({ error: 'busy' }, 503);
      return c.json({ accepted: body.fileId }, 201);
    });
    const port = await freePort();
    server = await new Promise((resolve) => {
      const s = serve({ fetch: warehouse.fetch, port, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const transport = new HttpWarehouseTransport((id) => ({ url: `http://127.0.0.1:${port}/warehouses/${id}/sales-orders`, timeoutMs: 5000 }));
    sys = await startSystem({ env: { FRAUD_VELOCITY_LIMIT: '1000' }, overrides: { transport } });
  });
  afterAll(async () => {
    await sys?.stop();
    (server as Server | undefined)?.closeAllConnections();
    await new Promise((r) => (server ? server.close(() => r(null)) : r(null)));
  });

  it('a warehouse that refuses the request (HTTP 4xx) puts the order in Error with its message', async () => {
    modes.set('WH-NORTH', 'refuse');
    const o = await createOrder(sys, 'ACC-1001');
    await addLine(sys, o.orderId, 'HS-APL-IP16P-256', 1);
    await generate(sys, o.orderId);
    const failed = await waitForStatus(sys, o.orderId, 'Error');
    expect(failed.error.code).toBe('WAREHOUSE_REJECTED');
    expect(failed.error.message).toContain('HTTP 422');
    expect(failed.error.message).toContain('SKU HS-APL-IP16P-256 is not stocked at WH-NORTH');
    expect(failed.history.at(-1)).toMatchObject({ from: 'AwaitingGeneration', to: 'Error', reason: expect.stringContaining('not stocked') });
    expect(failed.subOrders[0].status).toBe('Pending');
    const mine = received.filter((r) => r.body.depositorOrderNumber === o.orderId);
    expect(mine.map((r) => [r.warehouseId, r.key, r.status])).toEqual([['WH-NORTH', `${o.orderId}-WH-NORTH-new`, 422]]); // refused once, not retried
    expect(validateSalesOrderRequest(mine[0].body)).toEqual({ ok: true });
    expect(await sys.temporal.workflow.getHandle(orderWorkflowId(o.orderId)).result()).toMatchObject({ status: 'Error' });
  });

  it('a warehouse that fails once (HTTP 5xx) gets the same request again, under the same idempotency key', async () => {
    modes.set('WH-NORTH', 'failOnce');
    const o = await createOrder(sys, 'ACC-1001');
    await addLine(sys, o.orderId, 'HS-APL-IP16P-256', 1);
    await generate(sys, o.orderId);
    await waitForStatus(sys, o.orderId, 'AwaitingDispatch');
    const mine = received.filter((r) => r.body.depositorOrderNumber === o.orderId);
    expect(mine.map((r) => [r.key, r.status])).toEqual([
      [`${o.orderId}-WH-NORTH-new`, 503],
      [`${o.orderId}-WH-NORTH-new`, 201],
    ]);
    expect(mine[1].body).toEqual(mine[0].body);
    const record = await sys.db.models.SalesOrder.findOne({ fileId: `${o.orderId}-WH-NORTH-new` }).lean();
    expect(record).toMatchObject({ transport: 'http', sentAt: expect.any(String) });
  });

  it('when one warehouse of a split order refuses, the order is in Error and the other warehouse is told to cancel', async () => {
    modes.set('WH-NORTH', 'refuse');
    modes.set('WH-SOUTH', 'accept');
    sys.simulator.setStock('WH-NORTH', 'PR-SAM-BUDS3', 1);
    sys.simulator.setStock('WH-SOUTH', 'PR-SAM-BUDS3', 1);
    const o = await createOrder(sys, 'ACC-1001');
    await addLine(sys, o.orderId, 'PR-SAM-BUDS3', 2);
    await generate(sys, o.orderId);
    const failed = await waitForStatus(sys, o.orderId, 'Error');
    expect(failed.error.code).toBe('WAREHOUSE_REJECTED');
    const south = await eventually(async () => {
      const r = received.filter((x) => x.body.depositorOrderNumber === o.orderId && x.warehouseId === 'WH-SOUTH');
      return r.length === 2 && r;
    }, 'the new and cancel requests at WH-SOUTH');
    expect(south.map((r) => [r.key, r.body.purpose])).toEqual([
      [`${o.orderId}-WH-SOUTH-new`, 'new'],
      [`${o.orderId}-WH-SOUTH-cancel`, 'cancel'],
    ]);
    for (const r of south) expect(validateSalesOrderRequest(r.body)).toEqual({ ok: true });
  });
});

describe('a worker that dies between the fraud check and the send', () => {
  /** The rules provider, held at its first call until the test lets it answer. */
  class HeldProvider implements FraudProvider {
    readonly name = 'builtin-rules';
    inner?: FraudProvider;
    calls = 0;
    private release!: () => void;
    readonly released = new Promise<void>((r) => (this.release = r));
    let(): void {
      this.release();
    }
    async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
      this.calls++;
      await this.released;
      return this.inner!.check(req);
    }
  }

  const first = { provider: new HeldProvider(), transport: new CountingTransport() };
  const second = { provider: new HeldProvider(), transport: new CountingTransport() };
  let sys: TestSystem;
  let replacement: RunningWorker | undefined;
  beforeAll(async () => {
    sys = await startSystem({
      env: { FRAUD_VALUE_THRESHOLD: '0', FRAUD_VELOCITY_LIMIT: '1000' },
      overrides: { fraudProvider: first.provider, transport: first.transport },
    });
    for (const w of [first, second]) {
      w.provider.inner = new RulesFraudProvider(sys.db.models, { limit: 1000, windowHours: 24 * 7 });
      w.transport.inner = new OutboxFolderTransport(sys.config.dataDir);
    }
    second.provider.let();
  });
  afterAll(async () => {
    first.provider.let();
    await replacement?.shutdown();
    await sys?.stop();
  });

  it('a new worker sends exactly one file, and the fraud decision is neither asked for nor recorded twice', async () => {
    const o = await createOrder(sys, 'ACC-1001');
    await addLine(sys, o.orderId, 'HS-APL-IP16-128', 1);
    await generate(sys, o.orderId);
    await eventually(async () => first.provider.calls === 1, 'the fraud check under way on the first worker');

    // The first worker stops taking work; its fraud check answers and is recorded; it is gone.
    const stopped = sys.worker.shutdown();
    await eventually(async () => sys.worker.worker.getState() !== 'RUNNING', 'the first worker stopping');
    first.provider.let();
    await stopped;
    expect(await sys.db.models.FraudDecision.countDocuments({ orderId: o.orderId })).toBe(1);
    expect(first.transport.sends.size).toBe(0);

    replacement = await startWorker({
      config: sys.config,
      db: sys.db,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      overrides: { fraudProvider: second.provider, transport: second.transport },
    });
    const sent = await waitForStatus(sys, o.orderId, 'AwaitingDispatch');
    expect(sent.fraud.result).toMatchObject({ decision: 'accept', providerReference: `rules:${o.orderId}:fraud` });
    expect(notes(sent).filter((n: string) => n.startsWith('fraud check'))).toHaveLength(1);

    expect(first.provider.calls + second.provider.calls).toBe(1);
    expect(await sys.db.models.FraudDecision.countDocuments({ orderId: o.orderId })).toBe(1);
    expect(second.transport.sends.get(`${o.orderId}-WH-NORTH-new`)).toBe(1);
    const files = orderFiles(sys, o.orderId);
    expect(files.map((f) => f.name)).toEqual([`${o.orderId}-WH-NORTH-new.json`]);
    expectValid(files);
    expect(files[0].json.fraudCheck).toMatchObject({ required: true, result: 'accept' });
    expect(await sys.db.models.SalesOrder.countDocuments({ orderId: o.orderId })).toBe(1);

    const history = await sys.temporal.workflow.getHandle(orderWorkflowId(o.orderId)).fetchHistory();
    const scheduled = history.events!.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(scheduled.filter((n) => n === 'runFraudCheck')).toHaveLength(1);
    expect(scheduled.filter((n) => n === 'sendSalesOrder')).toHaveLength(1);
  });

  it('a retried fraud check whose decision was already recorded returns it without asking the provider', async () => {
    // As when a worker dies after recording the decision but before Temporal heard of it.
    const { createActivities } = await import('../../activities');
    const counting = new HeldProvider();
    counting.let();
    counting.inner = new RulesFraudProvider(sys.db.models, { limit: 1000, windowHours: 24 * 7 });
    const acts = createActivities({ ...replacement!.deps, fraudProvider: counting });
    const req = {
      checkId: 'ORD-RETRYCHECK:fraud',
      orderId: 'ORD-RETRYCHECK',
      accountId: 'ACC-1001',
      delivery: (await sys.db.models.Account.findOne({ accountId: 'ACC-1001' }).lean())!.defaultDelivery as never,
    };
    const a = await acts.runFraudCheck(req);
    const b = await acts.runFraudCheck(req);
    expect(b).toEqual(a);
    expect(counting.calls).toBe(1);
    expect(await sys.db.models.FraudDecision.countDocuments({ checkId: req.checkId })).toBe(1);
  });
});
