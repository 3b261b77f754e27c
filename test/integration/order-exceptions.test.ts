// The order's exception paths against the real Temporal dev server and FerretDB, with short
// durations from configuration: an order in Error resubmitted (to another warehouse, to a
// corrected address), closed, or left until its resolution window closes it; an order overdue
// for dispatch resent; a cancellation unanswered; and a worker killed during a resubmission.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { NeedsAttentionAttr, orderWorkflowId } from '../../workflows/messages';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { addLine, createOrder, deliveryElsewhere, generate, notes, outboxFiles, readOutboxFile, waitForOrder, waitForStatus } from '../support/orders';
import { replayAndRecord } from '../support/replay';
import { killableWorker, type KillableWorker } from '../support/killable-worker';
import { DEV_ACTORS, eventually, startSystem, type TestSystem } from '../support/system';

const A = 'PR-APL-USBC-20W'; // no serials: one row per line
const B = 'PR-GEN-CASE-IP16';

const filesOf = (sys: TestSystem, orderId: string) =>
  sys.config.warehouses.ids.flatMap((w) =>
    outboxFiles(sys, w)
      .filter((f) => f.startsWith(orderId))
      .map((f) => `${w}/${f}`),
  );

/** Every file the warehouses took or still have for the order: outbox and received. */
const sentFiles = (sys: TestSystem, orderId: string) =>
  sys.config.warehouses.ids
    .flatMap((w) =>
      ['outbox', 'received'].flatMap((dir) => {
        const folder = `${warehouseFolders(sys.config.dataDir, w).root}/${dir}`;
        return fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.startsWith(orderId) && f.endsWith('.json')) : [];
      }),
    )
    .sort();

async function answered(sys: TestSystem): Promise<void> {
  await sys.simulator.respond();
  await sys.adaptor.sweep();
}

const ops = (sys: TestSystem, orderId: string, action: string, body: unknown) => sys.call('POST', `/api/v1/orders/${orderId}/${action}`, { role: 'ops', body });

async function attributes(sys: TestSystem, orderId: string): Promise<string[] | undefined> {
  const d = await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe();
  return d.typedSearchAttributes.get(NeedsAttentionAttr);
}

/** An order sent to WH-NORTH (line 1: 1 × A, line 2: 2 × B) that the warehouse answers with A shipped and B out of stock. */
async function outOfStockError(sys: TestSystem, account = 'ACC-1001', body: Record<string, unknown> = {}): Promise<string> {
  for (const [w, n] of [
    ['WH-NORTH', 50],
    ['WH-SOUTH', 0],
  ] as const) {
    sys.simulator.setStock(w, A, n);
    sys.simulator.setStock(w, B, n);
  }
  const { orderId } = await createOrder(sys, account, body);
  await addLine(sys, orderId, A, 1);
  await addLine(sys, orderId, B, 2);
  await generate(sys, orderId);
  await waitForStatus(sys, orderId, 'AwaitingDispatch');
  sys.simulator.setStock('WH-NORTH', B, 0); // sold meanwhile
  await answered(sys);
  const failed = await waitForOrder(sys, orderId, (o) => o.status === 'Error' && !!o.errorResolution, 'Error, open for ops');
  expect(failed.error.code).toBe('OUT_OF_STOCK');
  return orderId;
}

describe('order exceptions', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ env: { ERROR_RESOLUTION_WINDOW: '10 minutes', DISPATCH_SLA: '3s', CANCEL_ANSWER_TIMEOUT: '3s' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('an out-of-stock Error resubmitted to another warehouse completes and bills only the new shipment, once', async () => {
    const orderId = await outOfStockError(sys);
    let order = await waitForOrder(sys, orderId, (o) => o.charges.length === 1, 'what shipped billed');
    expect(order.charges).toMatchObject([{ lineNumber: 1, quantity: 1 }]);
    const firstInvoice = order.invoiceNumber;
    expect(firstInvoice).toMatch(/^INV-/);
    expect(order.needsAttention).toEqual(['error']);
    expect(order.allowedActions).toEqual(['resubmit', 'close']);
    expect(await attributes(sys, orderId)).toEqual(['error']);
    const stored = await sys.db.models.OrderView.findOne({ _id: orderId }, { needsAttention: 1 }).lean();
    expect(stored?.needsAttention).toEqual(['error']);

    // Agents cannot; a reason is required.
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/resubmit`, { body: { reason: 'x' } })).status).toBe(403);
    expect((await ops(sys, orderId, 'resubmit', {})).status).toBe(400);

    sys.simulator.setStock('WH-SOUTH', B, 10);
    const r = await ops(sys, orderId, 'resubmit', { reason: 'WH-SOUTH has it' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    order = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    expect(order.subOrders.map((s: any) => [s.subOrderNumber, s.status, !!s.superseded, s.lines.map((l: any) => [l.lineNumber, l.quantity])])).toEqual([
      [
        `${orderId}-WH-NORTH`,
        'Error',
        true,
        [
          [1, 1],
          [2, 2],
        ],
      ],
      [`${orderId}-WH-SOUTH-R1`, 'Sent', false, [[2, 2]]],
    ]);
    expect(order.history.find((h: any) => h.to === 'AwaitingGeneration' && h.from === 'Error')).toMatchObject({
      by: expect.stringMatching(/ops/),
      reason: 'resubmitted (R1): WH-SOUTH has it',
    });
    expect(filesOf(sys, orderId)).toEqual([`WH-SOUTH/${orderId}-WH-SOUTH-R1-new.json`]);
    expect(order.needsAttention).toEqual([]);

    await answered(sys);
    order = await waitForOrder(sys, orderId, (o) => o.status === 'Complete' && o.charges.length === 2, 'Complete and billed');
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    const charges = await sys.db.models.Charge.find({ orderId }).lean();
    expect(charges.map((c) => [c.lineNumber, c.quantity]).sort()).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(charges.find((c) => c.lineNumber === 2)!.chargeKey).toMatch(/:R1$/);
    expect(order.invoiceNumber).not.toBe(firstInvoice);
    const invoices = await sys.db.models.Invoice.find({ accountId: 'ACC-1001', idempotencyKey: { $regex: `^order:${orderId}` } }).lean();
    expect(invoices.map((i) => [i.idempotencyKey, i.chargeKeys.length]).sort()).toEqual([
      [`order:${orderId}`, 1],
      [`order:${orderId}:2`, 1],
    ]);
    expect((await attributes(sys, orderId)) ?? []).toEqual([]); // cleared
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-resubmitted');
  });

  it('a resubmission to a corrected address runs the fraud check again', async () => {
    const orderId = await outOfStockError(sys);
    expect((await waitForOrder(sys, orderId, () => true, 'read')).fraud.required).toBe(false);
    sys.simulator.setStock('WH-NORTH', B, 10);
    const invalid = await ops(sys, orderId, 'resubmit', {
      reason: 'moved',
      delivery: { ...deliveryElsewhere(), address: { ...deliveryElsewhere().address, city: '' } },
    });
    expect([invalid.status, invalid.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const r = await ops(sys, orderId, 'resubmit', { reason: 'customer moved', delivery: deliveryElsewhere() });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const order = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    expect(order.fraud).toMatchObject({ required: true, result: { decision: 'accept' } });
    expect(await sys.db.models.FraudDecision.findOne({ _id: `${orderId}:fraud:R1` }).lean()).toBeTruthy();
    const request = readOutboxFile(sys, 'WH-NORTH', `${orderId}-WH-NORTH-R1-new.json`);
    expect(request.shipTo).toMatchObject({ city: 'Leeds', postcode: 'LS2 7AB', addressLines: ['5 Park Road'] });
    expect(request.lines).toEqual([expect.objectContaining({ lineNumber: 2, quantity: 2 })]);
    expect(notes(order).some((n) => /^fraud check accept/.test(n))).toBe(true);
  });

  it('close: ops accept an order in Error as it is (a reason required), and nothing more can be done to it', async () => {
    const orderId = await outOfStockError(sys);
    expect((await ops(sys, orderId, 'close', {})).status).toBe(400);
    const r = await ops(sys, orderId, 'close', { reason: 'customer takes what shipped' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.errorResolution.closed).toMatchObject({ reason: 'customer takes what shipped' });
    expect(await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result()).toMatchObject({ status: 'Error' });
    const order = await waitForOrder(sys, orderId, (o) => o.needsAttention.length === 0, 'no longer needs attention');
    expect(order.history.at(-1)).toMatchObject({ from: 'Error', to: 'Error', reason: 'closed as Error: customer takes what shipped' });
    const again = await ops(sys, orderId, 'resubmit', { reason: 'too late' });
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_TRANSITION']);
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-error-closed');
  });

  it('dispatch overdue: flagged past DISPATCH_SLA, resent with the same sub-order number, shipped once', async () => {
    sys.simulator.setStock('WH-NORTH', A, 50);
    const { orderId } = await createOrder(sys, 'ACC-1002');
    await addLine(sys, orderId, A, 2);
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    await sys.simulator.cycle(); // the warehouse takes it, and then does nothing
    let order = await waitForOrder(sys, orderId, (o) => o.needsAttention.includes('dispatchOverdue'), 'dispatch overdue', 30_000);
    expect(order.subOrders[0].overdue).toBe(true);
    expect(notes(order).some((n) => n.startsWith(`dispatch overdue: WH-NORTH has not dispatched ${orderId}-WH-NORTH`))).toBe(true);
    await eventually(async () => (await attributes(sys, orderId))?.includes('dispatchOverdue'), 'NeedsAttention dispatchOverdue');
    expect(order.allowedActions).toEqual(['cancel', 'resend']);

    const r = await ops(sys, orderId, 'resend', { reason: 'warehouse says it never got it' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    order = await waitForOrder(sys, orderId, (o) => o.subOrders[0].resends === 1 && o.needsAttention.length === 0, 'resent');
    await eventually(async () => outboxFiles(sys, 'WH-NORTH').includes(`${orderId}-WH-NORTH-resend.json`), 'the resend file');
    const resend = readOutboxFile(sys, 'WH-NORTH', `${orderId}-WH-NORTH-resend.json`);
    expect(resend).toMatchObject({ purpose: 'resend', subOrderNumber: `${orderId}-WH-NORTH`, fileId: `${orderId}-WH-NORTH-resend` });

    const files = await sys.simulator.respond();
    const rows = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n')).filter((l) => l.includes(`${orderId}-WH-NORTH`));
    expect(rows).toHaveLength(1); // the duplicate was ignored
    await sys.adaptor.sweep();
    order = await waitForStatus(sys, orderId, 'Complete');
    expect(order.subOrders[0].units.reduce((n: number, u: any) => n + u.quantity, 0)).toBe(2);
    expect(await sys.db.models.SalesOrder.find({ orderId }, { _id: 1 }).lean()).toHaveLength(2);
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-dispatch-overdue-resent');
  });

  it('cancellation unanswered: flagged past CANCEL_ANSWER_TIMEOUT, resent, then closed by ops', async () => {
    sys.simulator.setStock('WH-NORTH', A, 50);
    const { orderId } = await createOrder(sys, 'ACC-1002');
    await addLine(sys, orderId, A, 1);
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    await sys.simulator.cycle();
    const c = await sys.call('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: 'customer changed their mind' } });
    expect(c.status, JSON.stringify(c.body)).toBe(202);
    let order = await waitForOrder(sys, orderId, (o) => o.needsAttention.includes('cancellationUnanswered'), 'cancellation unanswered', 30_000);
    expect(order.needsAttention).toEqual(['cancellationUnanswered']); // not also dispatchOverdue: a cancellation is what it waits for
    expect(order.allowedActions).toEqual(['resendCancellation', 'close']);
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/resend-cancellation`, { body: { reason: 'x' } })).status).toBe(403);

    const r = await ops(sys, orderId, 'resend-cancellation', { reason: 'chasing the warehouse' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.needsAttention).toEqual([]);
    await eventually(async () => outboxFiles(sys, 'WH-NORTH').includes(`${orderId}-WH-NORTH-cancel-2.json`), 'the second cancellation file');
    order = await waitForOrder(sys, orderId, (o) => o.needsAttention.includes('cancellationUnanswered'), 'unanswered again', 30_000);

    const closed = await ops(sys, orderId, 'close', { reason: 'warehouse confirmed by phone' });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    order = await waitForStatus(sys, orderId, 'Cancelled');
    expect(order.history.at(-1)).toMatchObject({
      from: 'AwaitingDispatch',
      to: 'Cancelled',
      reason: 'closed with the cancellation unanswered: warehouse confirmed by phone',
    });
    expect(order.history.at(-1).by).toBe(DEV_ACTORS.ops);
    expect(order.needsAttention).toEqual([]);
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-cancellation-unanswered');
  });
});

describe('the resolution window', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ env: { ERROR_RESOLUTION_WINDOW: '3s' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('closes an order in Error that ops did not act on', async () => {
    const orderId = await outOfStockError(sys);
    expect(await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result()).toMatchObject({ status: 'Error' });
    const order = await waitForOrder(sys, orderId, (o) => !!o.errorResolution?.closed, 'closed by the window');
    expect(order.errorResolution.closed).toMatchObject({ by: 'system', reason: 'no ops action within 3s (ERROR_RESOLUTION_WINDOW)' });
    expect(order.history.at(-1)).toMatchObject({ from: 'Error', to: 'Error', by: 'system' });
    expect(order.needsAttention).toEqual([]);
    expect(order.charges).toMatchObject([{ lineNumber: 1, quantity: 1 }]);
    expect((await ops(sys, orderId, 'close', { reason: 'late' })).status).toBe(409);
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-error-expired');
  });
});

describe('a worker killed during a resubmission', () => {
  let sys: TestSystem;
  let child: KillableWorker | undefined;
  let fresh: RunningWorker | undefined;
  beforeAll(async () => {
    sys = await startSystem({ env: { ERROR_RESOLUTION_WINDOW: '10 minutes' } });
  });
  afterAll(async () => {
    await child?.kill();
    await fresh?.shutdown();
    await sys?.stop();
  });

  it('loses and duplicates nothing', async () => {
    const orderId = await outOfStockError(sys, 'ACC-1002');
    child = await killableWorker(sys);
    const { proc, exited } = child;

    sys.simulator.setStock('WH-SOUTH', B, 10);
    const r = await ops(sys, orderId, 'resubmit', { reason: 'WH-SOUTH has it' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    // Killed as the resubmission's job starts: allocation and the send still to run (or running).
    proc.kill('SIGKILL');
    await exited;
    fresh = await startWorker({ config: sys.config, db: sys.db, workflowBundle: { codePath: inject('workflowBundlePath') } });

    let order = await waitForStatus(sys, orderId, 'AwaitingDispatch', 90_000);
    expect(order.subOrders.map((s: any) => s.subOrderNumber)).toEqual([`${orderId}-WH-NORTH`, `${orderId}-WH-SOUTH-R1`]);
    expect(order.history.filter((h: any) => h.to === 'AwaitingGeneration' && h.from === 'Error')).toHaveLength(1);
    expect(sentFiles(sys, orderId)).toEqual([`${orderId}-WH-NORTH-new.json`, `${orderId}-WH-SOUTH-R1-new.json`]);
    expect(await sys.db.models.SalesOrder.find({ orderId }, { _id: 1 }).lean()).toHaveLength(2);

    await answered(sys);
    order = await waitForOrder(sys, orderId, (o) => o.status === 'Complete' && o.charges.length === 2, 'Complete and billed');
    const charges = await sys.db.models.Charge.find({ orderId }).lean();
    expect(charges.map((c) => [c.lineNumber, c.quantity]).sort()).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });
});
