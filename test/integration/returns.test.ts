// Returns (RMA) against the real Temporal dev server and FerretDB: the return rules at the API, the
// Return Authorisation to the warehouse, receipt by ops, the credit (credit note at once or credit
// lines on the next cycle invoice), expiry, exchange, a return orphaned by an API crash, and the
// balance check after each.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startWorker, type RunningWorker } from '../../worker/worker';
import { billingActivities } from '../../activities/billing';
import { WorkflowNotFoundError } from '@temporalio/client';
import { authorisedReturn, checkReturn, returnWorkflowId, type ReturnView } from '../../domain/returns';
import { RETURNS_STARTED_HINT } from '../../activities/returns';
import { startReturn } from '../../infra/return-start';
import { orphanedReturnsScheduleId, scheduleDefinitions } from '../../infra/schedules';
import { returnsStore } from '../../infra/store/returns';
import type { OrphanedReturnsReport } from '../../workflows/orphaned-returns';
import { warehouseFolders } from '../../infra/config';
import type { ActivityDeps } from '../../activities';
import { deliver } from '../support/dispatch-fixtures';
import { daysAgo, expectBalanced, ownRmaNumbers, shippedOrder, unitsOf } from '../support/returns';
import { replayAndRecord } from '../support/replay';
import { killableWorker, type KillableWorker } from '../support/killable-worker';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false', RESTOCKING_FEE_PERCENT: '10' } });
  await ownRmaNumbers(sys);
});
afterAll(async () => {
  await sys?.stop();
});

const HANDSET = 'HS-SAM-A16-128'; // 18900 + 20% VAT, IMEI
const LICENCE = 'SW-MDM-1Y'; // 3600 + 20% VAT, a key per unit
const postReturn = (orderId: string, body: unknown) => sys.call('POST', `/api/v1/orders/${orderId}/returns`, { body });
const receive = (rmaId: string, body: unknown = { grade: 'A' }) => sys.call('POST', `/api/v1/returns/${rmaId}/receive`, { role: 'ops', body });

describe('returns on an account billed at once', () => {
  it('unwanted inside the window: Return Authorisation out, received by ops, a credit note minus the restocking fee; balance holds', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 2 }], daysAgo(3));
    const [imei] = unitsOf(order);
    const r = await postReturn(order.orderId, { units: [imei], reason: 'unwanted', note: 'changed their mind' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ rmaId: expect.stringMatching(/^RMA-\d{8,}$/), status: 'authorised', creditMode: 'immediate', reason: 'unwanted' });
    expect(r.body.units[0]).toMatchObject({ unitId: imei, credit: { amount: 17010, tax: 3402, restockingFee: 1890, invoiceNumber: order.invoiceNumber } });
    const rmaId = r.body.rmaId;

    // The Return Authorisation goes to the warehouse that shipped the unit.
    const sub = order.subOrders[0];
    const file = path.join(warehouseFolders(sys.config.dataDir, sub.warehouseId).outbox, `${rmaId}-${sub.warehouseId}-return.json`);
    const ra = await eventually(async () => fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')), 'return authorisation file');
    expect(ra).toMatchObject({
      purpose: 'return',
      rmaNumber: rmaId,
      depositorOrderNumber: order.orderId,
      units: [{ imei, subOrderNumber: sub.subOrderNumber }],
    });

    const got = await receive(rmaId, { grade: 'B' });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      status: 'credited',
      credit: { creditNoteNumber: expect.stringMatching(/^CN-\d{8}$/), corrects: [order.invoiceNumber], net: 17010, tax: 3402, gross: 20412 },
    });
    expect(got.body.units[0].received).toMatchObject({ grade: 'B', source: 'ops', by: expect.stringContaining('ops') });

    const notes = await sys.call('GET', '/api/v1/accounts/ACC-1001/credit-notes');
    expect(notes.status).toBe(200);
    expect(notes.body.items).toContainEqual(
      expect.objectContaining({ creditNoteNumber: got.body.credit.creditNoteNumber, rmaId, corrects: [order.invoiceNumber], gross: 20412 }),
    );
    expect((await sys.call('GET', `/api/v1/returns/${rmaId}`)).body.status).toBe('credited');
    expect((await sys.call('GET', `/api/v1/orders/${order.orderId}/returns`)).body.items.map((x: any) => x.rmaId)).toEqual([rmaId]);
    const check = await sys.call('GET', '/api/v1/accounts/ACC-1001/balance-check', { role: 'ops' });
    expect(check.status).toBe(200);
    expect(check.body).toMatchObject({ ok: true, problems: [] });

    // Replayed against the current workflow code (and recorded as a fixture with RECORD_HISTORIES=1).
    await sys.temporal.workflow.getHandle(returnWorkflowId(rmaId)).result();
    await replayAndRecord(sys.temporal, returnWorkflowId(rmaId), 'return-credited');

    // A unit returned twice is refused.
    const again = await postReturn(order.orderId, { units: [imei], reason: 'faulty' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'UNIT_ALREADY_RETURNED', details: { units: [imei] } });
    // Receipt of a settled return is refused.
    expect((await receive(rmaId)).body.error.code).toBe('RETURN_NOT_AWAITING_RECEIPT');
  });

  it('unwanted outside the window is refused with RETURN_WINDOW_CLOSED; faulty is still accepted', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 1 }], daysAgo(20));
    const [imei] = unitsOf(order);
    const late = await postReturn(order.orderId, { units: [imei], reason: 'unwanted' });
    expect(late.status).toBe(422);
    expect(late.body.error).toMatchObject({ code: 'RETURN_WINDOW_CLOSED', details: { units: [{ unitId: imei }] } });
    const faulty = await postReturn(order.orderId, { units: [imei], reason: 'faulty' });
    expect(faulty.status).toBe(201);
    const got = await receive(faulty.body.rmaId);
    expect(got.body.credit).toMatchObject({ net: 18900, tax: 3780 });
    await expectBalanced(sys, 'ACC-1001');
  });

  it('refuses units not on the order, and an exchange for an unwanted return', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 1 }]);
    const [imei] = unitsOf(order);
    expect((await postReturn(order.orderId, { units: ['356000000000000'], reason: 'faulty' })).body.error.code).toBe('UNIT_NOT_RETURNABLE');
    const ex = await postReturn(order.orderId, { units: [imei], reason: 'unwanted', exchange: true });
    expect(ex.status).toBe(422);
    expect(ex.body.error.code).toBe('EXCHANGE_NOT_ALLOWED');
    expect((await postReturn(order.orderId, { units: [imei], reason: 'bored' })).status).toBe(400);
  });
});

describe('a software licence returned by its key', () => {
  it('is revoked for the RMA and credited on a credit note at once: nothing goes to a warehouse; balance holds', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [
      { sku: HANDSET, quantity: 1 },
      { sku: LICENCE, quantity: 2 },
    ]);
    expect(order.status).toBe('Complete');
    const [key, kept] = order.licences[0].keys as string[];
    const charge = order.charges.find((c: any) => c.chargeKey === `${order.orderId}:2:licence`);
    expect(charge).toMatchObject({ quantity: 2, unitPrice: 3600, tax: 1440, invoiceNumber: order.invoiceNumber });

    const r = await postReturn(order.orderId, { units: [key], reason: 'faulty', note: 'never activated' });
    expect(r.status).toBe(201);
    const rmaId: string = r.body.rmaId;
    expect(r.body.units).toEqual([
      expect.objectContaining({ unitId: key, kind: 'licence', licenceKey: key, credit: expect.objectContaining({ amount: 3600, tax: 720, restockingFee: 0 }) }),
    ]);
    // No receipt to wait for: credited without ops or a warehouse, and no Return Authorisation sent.
    const ended = await sys.temporal.workflow.getHandle(returnWorkflowId(rmaId)).result();
    expect(ended).toMatchObject({
      status: 'credited',
      authorisations: [],
      units: [{ unitId: key, received: { source: 'licence', by: 'system' } }],
      credit: { creditNoteNumber: expect.stringMatching(/^CN-/), corrects: [order.invoiceNumber], net: 3600, tax: 720, gross: 4320 },
    });
    for (const w of sys.config.warehouses.ids) {
      const outbox = warehouseFolders(sys.config.dataDir, w).outbox;
      expect(fs.existsSync(outbox) ? fs.readdirSync(outbox).filter((f) => f.startsWith(rmaId)) : []).toEqual([]);
    }

    // The key is revoked for this return; the order's other key stays the customer's.
    const licences = await sys.db.models.Licence.find({ orderId: order.orderId }).lean();
    expect(licences.find((l: any) => l.licenceKey === key)).toMatchObject({
      revokedAt: expect.any(String),
      revokedFor: rmaId,
      revokedReason: expect.stringContaining(rmaId),
    });
    expect(licences.find((l: any) => l.licenceKey === kept)).toMatchObject({ revokedAt: null, revokedFor: null });

    // One credit note, for its price and tax.
    const notes = await sys.db.models.CreditNote.find({ rmaId }).lean();
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ creditNoteNumber: ended.credit!.creditNoteNumber, net: 3600, tax: 720, gross: 4320 });
    const listed = (await sys.call('GET', '/api/v1/accounts/ACC-1001/credit-notes')).body.items.filter((n: any) => n.rmaId === rmaId);
    expect(listed).toHaveLength(1);
    await expectBalanced(sys, 'ACC-1001');

    // The key cannot be returned again; ops have nothing to receive.
    const again = await postReturn(order.orderId, { units: [key], reason: 'faulty' });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'UNIT_ALREADY_RETURNED', details: { units: [key] } });
    expect((await receive(rmaId)).body.error.code).toBe('RETURN_NOT_AWAITING_RECEIPT');
    expect(await sys.db.models.CreditNote.countDocuments({ rmaId })).toBe(1);
  });
});

/** The first date from tomorrow on whose day of the month is `day`, `months` later. */
function cycleDate(day: number, months = 0): string {
  const d = new Date(Date.now() + 86_400_000);
  for (; d.getUTCDate() !== day; d.setUTCDate(d.getUTCDate() + 1));
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.toISOString().slice(0, 10);
}

describe('returns on an account billed on its cycle (ACC-1002, cycle day 15)', () => {
  // The bill run's own step, in process: a bill-run workflow id is per date across the namespace.
  const billRun = (date: string) => billingActivities({ db: sys.db } as ActivityDeps).invoiceAccountForBillRun({ accountId: 'ACC-1002', date });

  it('credits as lines of the next cycle invoice, before and after the charge was invoiced; the balance holds throughout', async () => {
    const order = await shippedOrder(sys, 'ACC-1002', [{ sku: HANDSET, quantity: 2 }], daysAgo(1));
    const [first, second] = unitsOf(order);
    expect(order.charges[0].invoiceNumber).toBeNull();

    // Not invoiced yet: a credit line that nets off on the same cycle invoice.
    const r1 = await postReturn(order.orderId, { units: [first], reason: 'faulty' });
    expect(r1.body.creditMode).toBe('nextInvoice');
    const got1 = await receive(r1.body.rmaId);
    expect(got1.body.credit).toMatchObject({ creditNoteNumber: null, creditChargeKeys: [`${order.orderId}:credit:${first}`], corrects: [], gross: 22680 });
    const pending = await expectBalanced(sys, 'ACC-1002');
    expect(pending.pending).toBeGreaterThanOrEqual(22680);

    const invoice = await billRun(cycleDate(15));
    expect(invoice).toMatchObject({ created: true });
    const stored = await sys.db.models.Invoice.findOne({ _id: invoice!.invoiceNumber }).lean();
    expect(stored!.chargeKeys).toEqual(expect.arrayContaining([order.charges[0].chargeKey, `${order.orderId}:credit:${first}`]));
    await expectBalanced(sys, 'ACC-1002');

    // Invoiced by now: the credit line says which invoice it corrects, and goes on the next one.
    const r2 = await postReturn(order.orderId, { units: [second], reason: 'wrongItem' });
    const got2 = await receive(r2.body.rmaId);
    expect(got2.body.credit).toMatchObject({ creditNoteNumber: null, corrects: [invoice!.invoiceNumber], gross: 22680 });
    const lines = (await sys.call('GET', '/api/v1/accounts/ACC-1002/credit-notes')).body.creditLines;
    expect(lines).toContainEqual(
      expect.objectContaining({
        chargeKey: `${order.orderId}:credit:${second}`,
        rmaId: r2.body.rmaId,
        unitId: second,
        amount: -18900,
        tax: -3780,
        invoiceNumber: null,
      }),
    );
    await expectBalanced(sys, 'ACC-1002');
    const next = await billRun(cycleDate(15, 1));
    expect(next).toMatchObject({ created: true });
    expect((await sys.db.models.Charge.findOne({ _id: `${order.orderId}:credit:${second}` }).lean())!.invoiceNumber).toBe(next!.invoiceNumber);
    await expectBalanced(sys, 'ACC-1002');
  });
});

describe('exchange', () => {
  it('a faulty return with exchange: a linked replacement order (New) with the same line at the captured price, generated like any other', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 1 }]);
    const [imei] = unitsOf(order);
    const r = await postReturn(order.orderId, { units: [imei], reason: 'faulty', exchange: true });
    expect(r.status).toBe(201);
    const replacementOrderId = r.body.replacementOrderId;
    expect(replacementOrderId).toMatch(/^ORD-/);
    const replacement = (await sys.call('GET', `/api/v1/orders/${replacementOrderId}`)).body;
    expect(replacement).toMatchObject({ status: 'New', accountId: 'ACC-1001', lines: [{ sku: HANDSET, quantity: 1, unitPrice: order.lines[0].unitPrice }] });
    expect((await sys.call('GET', `/api/v1/returns/${r.body.rmaId}`)).body.replacementOrderId).toBe(replacementOrderId);
    // Charged when it ships; the faulty unit is credited on receipt.
    expect((await sys.call('POST', `/api/v1/orders/${replacementOrderId}/generate`)).status).toBe(200);
    const got = await receive(r.body.rmaId, { grade: 'scrap' });
    expect(got.body).toMatchObject({ status: 'credited', credit: { gross: 22680 } });
  });
});

describe('a return whose units never arrive', () => {
  let short: TestSystem;
  beforeAll(async () => {
    short = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false', RETURN_RECEIPT_WAIT: '3s' } });
    await ownRmaNumbers(short);
  });
  afterAll(async () => {
    await short?.stop();
  });

  it('expires after RETURN_RECEIPT_WAIT, credits nothing and lets the unit be returned again', async () => {
    const order = await shippedOrder(short, 'ACC-1001', [{ sku: HANDSET, quantity: 1 }]);
    const [imei] = unitsOf(order);
    const r = await short.call('POST', `/api/v1/orders/${order.orderId}/returns`, { body: { units: [imei], reason: 'faulty' } });
    expect(r.status).toBe(201);
    const ended = await short.temporal.workflow.getHandle(returnWorkflowId(r.body.rmaId)).result();
    expect(ended).toMatchObject({ status: 'expired', units: [{ unitId: imei, released: true }] });
    expect(ended.credit).toBeUndefined();
    expect((await short.call('GET', `/api/v1/returns/${r.body.rmaId}`)).body.status).toBe('expired');
    const late = await short.call('POST', `/api/v1/returns/${r.body.rmaId}/receive`, { role: 'ops', body: { grade: 'A' } });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('RETURN_NOT_AWAITING_RECEIPT');
    expect(await short.db.models.CreditNote.countDocuments({ rmaId: r.body.rmaId })).toBe(0);
    await replayAndRecord(short.temporal, returnWorkflowId(r.body.rmaId), 'return-expired');
    await expectBalanced(short, 'ACC-1001');
    const again = await short.call('POST', `/api/v1/orders/${order.orderId}/returns`, { body: { units: [imei], reason: 'faulty' } });
    expect(again.status).toBe(201);
    expect(again.body.rmaId).not.toBe(r.body.rmaId);
  });
});

describe('receipt reported by the warehouse', () => {
  it('the returned row of its response file, through the adaptor and the Sales Order Dispatch job, credits the return', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 2 }]);
    const [imei, other] = unitsOf(order);
    const r = await postReturn(order.orderId, { units: [imei], reason: 'damagedInTransit' });
    expect(r.status).toBe(201);
    const rmaId: string = r.body.rmaId;
    await eventually(async () => (await sys.call('GET', `/api/v1/returns/${rmaId}`)).body.authorisations.length === 1, 'authorisation sent');
    // The simulated warehouse takes the authorisation and answers with the unit returned (grade B).
    const files = await sys.simulator.respond();
    expect(files.length).toBeGreaterThan(0);
    await sys.adaptor.sweep();
    const ended = await sys.temporal.workflow.getHandle(returnWorkflowId(rmaId)).result();
    expect(ended).toMatchObject({ status: 'credited', credit: { creditNoteNumber: expect.stringMatching(/^CN-/), gross: 22680 } });
    expect(ended.units[0].received).toMatchObject({ grade: 'B', source: 'warehouse', by: `warehouse:${order.subOrders[0].warehouseId}` });
    // The order never saw the returned row; its other unit is still the customer's.
    const after = (await sys.call('GET', `/api/v1/orders/${order.orderId}`)).body;
    expect(after.subOrders[0].units.map((u: any) => u.imei)).toEqual([imei, other]);
    expect(after.subOrders[0].lineExceptions).toEqual([]);

    // A returned row no open return expects is an exception for ops.
    const sub = order.subOrders[0];
    const batchId = await deliver(sys, sub.warehouseId, `returned-${order.orderId}.csv`, [
      {
        warehouse_id: sub.warehouseId,
        sub_order_number: sub.subOrderNumber,
        line_number: 1,
        sku: HANDSET,
        quantity_shipped: 0,
        imei: other,
        disposition: 'returned',
        error_code: 'A',
      },
    ]);
    const exception = await eventually(() => sys.db.models.AdaptorException.findOne({ _id: `${batchId}:1` }).lean(), 'the unexpected return as an exception');
    expect(exception).toMatchObject({ code: 'NO_OPEN_RETURN' });
    await expectBalanced(sys, 'ACC-1001');
  });
});

describe('a return orphaned by an API crash between numbering it and starting its workflow', () => {
  const windows = { unwantedMs: 14 * 86_400_000, faultyMs: 365 * 86_400_000 };
  /** The return's record as the API writes it before starting the workflow (units held or not yet). */
  async function numberedReturn(order: any, unit: string, hold: boolean) {
    const now = new Date();
    const units = checkReturn(order, { units: [unit], reason: 'faulty', exchange: false }, new Set(), now.toISOString(), windows);
    const base = authorisedReturn({
      order,
      units,
      reason: 'faulty',
      note: '',
      exchange: false,
      creditMode: 'immediate',
      feeBps: 0,
      receiptWaitMs: 86_400_000,
      by: 'csa-test',
      now,
    });
    const store = returnsStore(sys.db);
    const doc = await store.number((rmaId, sequence) => ({ _id: rmaId, rmaId, sequence, ...base }));
    if (hold) expect(await store.hold(order.orderId, doc.rmaId, [unit])).toEqual([]);
    return doc.rmaId as string;
  }
  let runs = 0;
  const runJob = async (graceMs: number) => {
    const workflowId = `${orphanedReturnsScheduleId(sys.config)}-test-${++runs}`;
    const report: OrphanedReturnsReport = await sys.temporal.workflow.execute('orphanedReturnsWorkflow', {
      workflowId,
      taskQueue: sys.config.temporal.taskQueue,
      args: [{ graceMs }],
    });
    return { workflowId, report };
  };
  const workflowRuns = (rmaId: string) => sys.temporal.workflow.count(`WorkflowId = "${returnWorkflowId(rmaId)}"`).then((c) => c.count);

  it('the job starts it once, after RETURN_START_GRACE; one whose unit a retry took meanwhile is refused', async () => {
    const def = scheduleDefinitions(sys.config).find((d) => d.scheduleId === orphanedReturnsScheduleId(sys.config))!;
    expect(def.action).toMatchObject({ workflowType: 'orphanedReturnsWorkflow', args: [{ graceMs: 120_000 }] });
    expect(def.spec.intervals).toEqual([{ every: sys.config.returns.startGrace }]);

    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 2 }]);
    const [imei, other] = unitsOf(order);
    // Crashed after holding the unit, before starting the workflow.
    const orphan = await numberedReturn(order, imei, true);
    // Crashed before holding the unit; the agent's retry then returned it again (a new number).
    const lost = await numberedReturn(order, other, false);
    const retry = await postReturn(order.orderId, { units: [other], reason: 'faulty' });
    expect(retry.status).toBe(201);
    expect(await workflowRuns(orphan)).toBe(0);

    // Within the grace the API may still be starting it: left alone, and so is everything after it.
    const early = await runJob(60_000);
    expect(early.report).toMatchObject({ started: 0, refused: 0, nextRmaId: orphan });
    await expect(sys.temporal.workflow.getHandle(returnWorkflowId(orphan)).describe()).rejects.toThrow(WorkflowNotFoundError);

    // Past it: the orphan is started, the other refused, the retry's own start found.
    const first = await runJob(0);
    expect(first.report).toMatchObject({ started: 1, startedRmaIds: [orphan], refused: 1, refusedRmaIds: [lost] });
    expect((await sys.call('GET', `/api/v1/returns/${lost}`)).body).toMatchObject({ status: 'refused', refusal: { code: 'UNIT_ALREADY_RETURNED' } });
    // The next run starts after them: nothing to do.
    const second = await runJob(0);
    expect(second.report).toMatchObject({ checked: 0, started: 0, refused: 0 });
    // Walked again from before them (a hint that lagged), it starts nothing twice.
    await sys.db.models.SequenceHint.updateOne({ _id: RETURNS_STARTED_HINT }, { $set: { last: Number(orphan.slice(4)) - 1 } });
    const third = await runJob(0);
    expect(third.report).toMatchObject({ checked: 3, started: 0, refused: 0 });
    // The API's own start, had it come late, finds the job's workflow: no error, nothing started.
    const stored = (await sys.db.models.Return.findOne({ _id: orphan }, { _id: 0 }).lean()) as unknown as ReturnView;
    expect((await startReturn({ config: sys.config, db: sys.db, temporal: sys.temporal }, stored)).outcome).toBe('alreadyStarted');
    await eventually(async () => (await workflowRuns(orphan)) > 0, 'the orphan in visibility');
    expect(await workflowRuns(orphan)).toBe(1);

    // The orphan proceeds as any return: its Return Authorisation goes out, ops receive it, it is credited.
    const sub = order.subOrders[0];
    const file = path.join(warehouseFolders(sys.config.dataDir, sub.warehouseId).outbox, `${orphan}-${sub.warehouseId}-return.json`);
    const ra = await eventually(async () => fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')), 'return authorisation file');
    expect(ra).toMatchObject({ purpose: 'return', rmaNumber: orphan, units: [{ imei }] });
    const got = await receive(orphan);
    expect(got.body).toMatchObject({ status: 'credited', credit: { creditNoteNumber: expect.stringMatching(/^CN-/), gross: 22680 } });
    await receive(retry.body.rmaId);
    expect(await sys.db.models.CreditNote.countDocuments({ rmaId: lost })).toBe(0);
    await expectBalanced(sys, 'ACC-1001');
    await replayAndRecord(sys.temporal, first.workflowId, 'orphaned-returns');
  });
});

describe('a worker killed between receipt and credit', () => {
  let child: KillableWorker | undefined;
  let fresh: RunningWorker | undefined;
  afterAll(async () => {
    await child?.kill();
    await fresh?.shutdown();
  });

  it('issues exactly one credit note and one unenrolment', { timeout: 6 * 60_000 }, async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 1 }]);
    const [imei] = unitsOf(order);
    // The device was enrolled with Samsung's programme earlier (as the enrolment jobs record it).
    const at = new Date().toISOString();
    await sys.db.models.EnrolmentInstruction.create({
      instructionId: `enrol-${order.orderId}-samsung:${imei}`,
      requestId: `enrol-${order.orderId}-samsung`,
      action: 'enrol',
      manufacturer: 'samsung',
      customerId: 'KNOX-CUST-1',
      orderId: order.orderId,
      orderNumber: order.orderId,
      deviceId: imei,
      device: { deviceId: imei, imei, lineNumber: 1, sku: HANDSET, deliveryNumber: order.subOrders[0].subOrderNumber },
      status: 'enrolled',
      requestedBy: 'csa-test',
      createdAt: at,
      updatedAt: at,
    });
    const r = await postReturn(order.orderId, { units: [imei], reason: 'faulty' });
    expect(r.status).toBe(201);
    const rmaId: string = r.body.rmaId;

    // Only the worker in the child process runs from here on; it holds once the credit is written.
    child = await killableWorker(sys, { HOLD_AFTER_CREDIT: '1' });
    // Ops' receipt: the update waits for the credit, which the held worker never reports.
    const receipt = receive(rmaId);
    await child.printed(`credited ${rmaId}`);
    await child.kill();
    expect(await sys.db.models.CreditNote.countDocuments({ rmaId })).toBe(1);
    expect((await sys.call('GET', `/api/v1/returns/${rmaId}`)).body.status).toBe('received');

    // A fresh worker retries the credit once the killed attempt times out: the same credit note.
    fresh = await startWorker({ config: sys.config, db: sys.db, workflowBundle: { codePath: inject('workflowBundlePath') } });
    const ended = await sys.temporal.workflow.getHandle(returnWorkflowId(rmaId)).result();
    expect(ended.status).toBe('credited');
    await receipt.catch(() => undefined); // the API's wait may have ended first: the result is what counts
    const notes = await sys.db.models.CreditNote.find({ rmaId }).lean();
    expect(notes).toHaveLength(1);
    expect(ended.credit!.creditNoteNumber).toBe(notes[0].creditNoteNumber);
    const unenrolments = await sys.db.models.EnrolmentInstruction.find({ deviceId: imei, action: 'unenrol' }).lean();
    expect(unenrolments).toHaveLength(1);
    expect(unenrolments[0]).toMatchObject({ manufacturer: 'samsung', customerId: 'KNOX-CUST-1', reason: expect.stringContaining(rmaId) });
    await expectBalanced(sys, 'ACC-1001');
  });
});
