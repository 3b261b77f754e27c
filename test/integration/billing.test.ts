// Billing against the real Temporal dev server and FerretDB: immediate (off-cycle) invoices, deferred
// charges and the bill run, exactly-once under retries and reruns, and charging exactly what the
// warehouse shipped. Warehouse answers come from the simulator (everything ships) or are written
// by the test as dispatch batches through the adaptor API (partial shipments, errors).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { billingActivities, MongoLedger } from '../../activities/billing';
import { batchToCsv } from '../../api/routes/adaptor';
import { replayAndRecord } from '../support/replay';
import { billCutOff, billRunWorkflowId, cycleInvoiceKey, type ChargeDraft } from '../../domain/billing';
import type { DispatchRow } from '../../domain/types';
import { warehouseFolders } from '../../infra/config';
import type { Models } from '../../infra/db';
import { invoiceNumberOf } from '../../infra/store/invoice-numbers';
import { billRunScheduleId, ensureSchedules, scheduleDefinitions } from '../../infra/schedules';
import { orderWorkflowId } from '../../workflows/messages';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  // Fraud checks are another issue's subject: keep them out of the way of many small orders.
  sys = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false' } });
});
afterAll(async () => {
  await sys?.stop();
});

// ---- helpers --------------------------------------------------------------------------------

const CASE = { sku: 'PR-GEN-CASE-IP16', price: 1499 };
const CHARGER = { sku: 'PR-APL-USBC-20W', price: 1900 };
const HANDSET = { sku: 'HS-SAM-A16-128', price: 18900 };

async function getOrder(orderId: string) {
  const r = await sys.call('GET', `/api/v1/orders/${orderId}`);
  expect(r.status).toBe(200);
  return r.body;
}

/** Creates, fills and generates an order; returns its view once it is Awaiting Dispatch. */
async function placeOrder(accountId: string, lines: { sku: string; quantity: number }[]) {
  const created = await sys.call('POST', `/api/v1/accounts/${accountId}/orders`, { body: {} });
  expect(created.status).toBe(201);
  const orderId: string = created.body.orderId;
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
  expect((await sys.call('POST', `/api/v1/orders/${orderId}/generate`)).status).toBe(200);
  return eventually(async () => {
    const o = await getOrder(orderId);
    return o.status === 'AwaitingDispatch' && o;
  }, `${orderId} Awaiting Dispatch`);
}

/** The test plays the warehouse for this order: its sales orders leave the outbox, so the simulator never answers them. */
function takeSalesOrders(order: { subOrders: { subOrderNumber: string; warehouseId: string }[] }) {
  for (const s of order.subOrders)
    fs.rmSync(path.join(warehouseFolders(sys.config.dataDir, s.warehouseId).outbox, `${s.subOrderNumber}-new.json`), { force: true });
}

type Outcome = { lineNumber: number; disposition: DispatchRow['disposition']; quantity?: number; errorCode?: string };

/**
 * Writes the warehouse's answer for some lines into its inbox as a response CSV (one file per
 * warehouse), as a warehouse would, and waits until the adaptor has taken every row.
 */
async function dispatch(
  order: { lines: { lineNumber: number; sku: string }[]; subOrders: { subOrderNumber: string; warehouseId: string; lines: { lineNumber: number }[] }[] },
  outcomes: Outcome[],
) {
  const byWarehouse = new Map<string, DispatchRow[]>();
  for (const o of outcomes) {
    const sub = order.subOrders.find((s) => s.lines.some((l) => l.lineNumber === o.lineNumber))!;
    const rows = byWarehouse.get(sub.warehouseId) ?? [];
    const shipping = o.disposition === 'shipped' || o.disposition === 'partial';
    rows.push({
      rowNumber: rows.length + 1,
      warehouseId: sub.warehouseId,
      subOrderNumber: sub.subOrderNumber,
      lineNumber: o.lineNumber,
      sku: order.lines.find((l) => l.lineNumber === o.lineNumber)!.sku,
      quantityShipped: shipping ? (o.quantity ?? 1) : 0,
      disposition: o.disposition,
      ...(shipping ? { shipDate: new Date().toISOString().slice(0, 10), carrier: 'DPD' } : {}),
      ...(o.errorCode ? { errorCode: o.errorCode } : {}),
    });
    byWarehouse.set(sub.warehouseId, rows);
  }
  for (const [warehouseId, rows] of byWarehouse) {
    const name = `test-${randomBytes(4).toString('hex')}.csv`;
    const csv = batchToCsv({ schemaVersion: '1', batchId: '', warehouseId, sourceFile: name, receivedAt: '', rows });
    const inbox = warehouseFolders(sys.config.dataDir, warehouseId).inbox;
    fs.mkdirSync(inbox, { recursive: true });
    fs.writeFileSync(path.join(inbox, `.${name}.tmp`), csv);
    fs.renameSync(path.join(inbox, `.${name}.tmp`), path.join(inbox, name));
    await sys.adaptor.sweep();
    const batchId = createHash('sha256').update(csv).digest('hex');
    const batch = await eventually(async () => sys.db.models.DispatchBatch.findOne({ batchId }).lean(), `batch ${name} ingested`);
    expect(batch).toMatchObject({ rejectedRows: 0, validRows: rows.length });
  }
}

/** The order workflow's own outcome: billing has finished once it returns. */
async function finalOutcome(orderId: string) {
  return (await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result()) as { status: string; invoiceNumber: string | null };
}

const todayUtc = () => new Date().toISOString().slice(0, 10);
const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
/** The first date after (step 1) or before (step -1) today whose day of the month is `day`: its cut-off is never near now. */
function dateWithDay(day: number, step: 1 | -1): string {
  for (let d = addDays(todayUtc(), step); ; d = addDays(d, step)) if (Number(d.slice(8)) === day) return d;
}

async function billRun(date: string, waitSeconds?: number) {
  return sys.call('POST', '/api/v1/bill-runs', { role: 'ops', body: { date, ...(waitSeconds === undefined ? {} : { waitSeconds }) } });
}

const chargesOf = (orderId: string) => sys.db.models.Charge.find({ orderId }).sort({ lineNumber: 1, chargeKey: 1 }).lean();

/** A ledger whose `models[model][method]` throws once, as if its process died just before that step. */
function crashingLedger(model: keyof Models, method: string) {
  let crashed = false;
  const real = sys.db.models[model] as object;
  const dying = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== method || crashed) return Reflect.get(target, prop, receiver);
      return () => {
        crashed = true;
        throw new Error(`simulated crash before ${model}.${method}`);
      };
    },
  });
  return { ledger: new MongoLedger({ models: { ...sys.db.models, [model]: dying } as Models, guardedById: sys.db.guardedById }), crashed: () => crashed };
}

/**
 * Every invoice so far: numbers exactly 1..N, each INV-<sequence>; no charge on two invoices; and,
 * once no issuer is left unfinished, each account's sequences 1..k.
 */
async function expectGapFree({ issuersFinished = true } = {}) {
  const all = await sys.db.models.Invoice.find({}).lean();
  const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);
  expect(ascending(all.map((i) => i.sequence))).toEqual(all.map((_, i) => i + 1));
  for (const i of all) expect([i._id, i.invoiceNumber]).toEqual([invoiceNumberOf(i.sequence), invoiceNumberOf(i.sequence)]);
  for (const accountId of issuersFinished ? new Set(all.map((i) => i.accountId)) : []) {
    const sequences = ascending(all.filter((i) => i.accountId === accountId).map((i) => i.accountSequence));
    expect(sequences, accountId).toEqual(sequences.map((_, i) => i + 1));
  }
  const held = all.flatMap((i) => i.chargeKeys);
  expect(new Set(held).size).toBe(held.length);
  return all;
}

// ---- tests ----------------------------------------------------------------------------------

describe('immediate billing', () => {
  it('invoices a completed order at once, off-cycle, with its charges, tax and totals', async () => {
    const placed = await placeOrder('ACC-1001', [
      { sku: HANDSET.sku, quantity: 1 },
      { sku: CHARGER.sku, quantity: 2 },
    ]);
    await sys.simulator.respond();
    const done = await eventually(async () => {
      const o = await getOrder(placed.orderId);
      return o.status === 'Complete' && o.invoiceNumber && o;
    }, 'Complete with an invoice');

    // The order shows its charges and invoice number.
    expect(done.charges.map((c: any) => [c.lineNumber, c.quantity, c.amount, c.tax, c.invoiceNumber])).toEqual([
      [1, 1, 18900, 3780, done.invoiceNumber],
      [2, 2, 3800, 760, done.invoiceNumber],
    ]);

    const invoiced = await sys.call('GET', '/api/v1/accounts/ACC-1001/charges?status=invoiced');
    expect(invoiced.status).toBe(200);
    expect(invoiced.body.items.filter((c: any) => c.orderId === placed.orderId)).toHaveLength(2);
    const pending = await sys.call('GET', '/api/v1/accounts/ACC-1001/charges?status=pending', { role: 'ops' });
    expect(pending.body.items.filter((c: any) => c.orderId === placed.orderId)).toEqual([]);

    const list = await sys.call('GET', '/api/v1/accounts/ACC-1001/invoices');
    expect(list.body.items.find((i: any) => i.invoiceNumber === done.invoiceNumber)).toMatchObject({
      kind: 'offCycle',
      chargeCount: 2,
      totals: { net: 22700, tax: 4540, gross: 27240 },
    });

    const invoice = await sys.call('GET', `/api/v1/invoices/${done.invoiceNumber}`);
    expect(invoice.status).toBe(200);
    expect(invoice.body).toMatchObject({
      invoiceNumber: done.invoiceNumber,
      accountId: 'ACC-1001',
      kind: 'offCycle',
      currency: 'GBP',
      taxByRate: [{ taxRateBps: 2000, net: 22700, tax: 4540, gross: 27240 }],
      totals: { net: 22700, tax: 4540, gross: 27240 },
    });
    expect(invoice.body.lines.map((l: any) => [l.orderId, l.sku, l.quantity, l.unitPrice, l.amount, l.tax])).toEqual([
      [placed.orderId, HANDSET.sku, 1, 18900, 18900, 3780],
      [placed.orderId, CHARGER.sku, 2, 1900, 3800, 760],
    ]);
    expect(await sys.db.models.Invoice.countDocuments({ idempotencyKey: `order:${placed.orderId}` })).toBe(1);
  });

  it('the billing activity retried after it wrote the charge records one charge and issues the same invoice', async () => {
    const acts = billingActivities(sys.worker.deps);
    const draft: ChargeDraft = {
      chargeKey: 'ORD-RETRY:1:batch-x',
      lineNumber: 1,
      sku: CASE.sku,
      description: 'Clear Case',
      quantity: 2,
      unitPrice: 1499,
      taxRateBps: 2000,
      amount: 2998,
      tax: 600,
    };
    const input = { orderId: 'ORD-RETRY', accountId: 'ACC-1001', currency: 'GBP', billingMode: 'immediate' as const, charges: [draft] };
    const first = await acts.recordCharges(input);
    const again = await acts.recordCharges(input); // the attempt whose answer was lost, retried
    expect(again).toEqual(first);
    expect(await sys.db.models.Charge.countDocuments({ orderId: 'ORD-RETRY' })).toBe(1);

    const invoiceInput = { accountId: 'ACC-1001', idempotencyKey: 'order:ORD-RETRY', kind: 'offCycle' as const, chargeKeys: [draft.chargeKey] };
    const [a, b] = await Promise.all([acts.issueInvoice(invoiceInput), acts.issueInvoice(invoiceInput)]); // even concurrently
    const c = await acts.issueInvoice(invoiceInput);
    expect(b.invoiceNumber).toBe(a.invoiceNumber);
    expect(c).toEqual({ invoiceNumber: a.invoiceNumber, currency: 'GBP', gross: 3598, chargeCount: 1, created: false });
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(await sys.db.models.Invoice.countDocuments({ idempotencyKey: 'order:ORD-RETRY' })).toBe(1);
    expect((await sys.db.models.Charge.findOne({ orderId: 'ORD-RETRY' }).lean())!.invoiceNumber).toBe(a.invoiceNumber);
  });
});

describe('charging what shipped', () => {
  it('a partially shipped then completed order is charged only for what shipped', async () => {
    const placed = await placeOrder('ACC-1001', [
      { sku: CASE.sku, quantity: 3 },
      { sku: CHARGER.sku, quantity: 1 },
    ]);
    takeSalesOrders(placed);
    await dispatch(placed, [{ lineNumber: 1, disposition: 'partial', quantity: 1, errorCode: 'BACKORDER' }]);
    const partly = await eventually(async () => {
      const o = await getOrder(placed.orderId);
      return o.subOrders.some((s: any) => s.units.length === 1) && o;
    }, 'the partial shipment applied');
    expect(partly.status).toBe('AwaitingDispatch');
    expect(partly.charges).toEqual([]);
    expect(await chargesOf(placed.orderId)).toEqual([]);

    // The rest: one more case ships, the third is cancelled; the charger ships.
    await dispatch(placed, [
      { lineNumber: 1, disposition: 'shipped', quantity: 1 },
      { lineNumber: 1, disposition: 'cancelled' },
      { lineNumber: 2, disposition: 'shipped', quantity: 1 },
    ]);
    const outcome = await finalOutcome(placed.orderId);
    expect(outcome.status).toBe('Complete');
    const charges = await chargesOf(placed.orderId);
    expect(charges.map((c) => [c.lineNumber, c.quantity, c.amount, c.tax])).toEqual([
      [1, 1, 1499, 300],
      [1, 1, 1499, 300],
      [2, 1, 1900, 380],
    ]);
    expect(new Set(charges.map((c) => c.chargeKey)).size).toBe(3);
    const invoice = await sys.call('GET', `/api/v1/invoices/${outcome.invoiceNumber}`);
    expect(invoice.body.totals).toEqual({ net: 4898, tax: 980, gross: 5878 });
    expect(invoice.body.lines).toHaveLength(3);
    expect((await getOrder(placed.orderId)).charges).toHaveLength(3);
  });

  it('an order that errors with nothing shipped is never charged', async () => {
    const placed = await placeOrder('ACC-1001', [{ sku: CHARGER.sku, quantity: 2 }]);
    takeSalesOrders(placed);
    await dispatch(placed, [{ lineNumber: 1, disposition: 'error', errorCode: 'PICK_FAILED' }]);
    expect(await finalOutcome(placed.orderId)).toMatchObject({ status: 'Error', invoiceNumber: null });
    expect(await chargesOf(placed.orderId)).toEqual([]);
    const view = await getOrder(placed.orderId);
    expect(view).toMatchObject({ status: 'Error', charges: [], invoiceNumber: null });
    expect(await sys.db.models.Invoice.countDocuments({ idempotencyKey: `order:${placed.orderId}` })).toBe(0);
  });

  it('one line shipped and one errored: only the shipped line is charged, and the agent sees it on the order', async () => {
    const placed = await placeOrder('ACC-1001', [
      { sku: CASE.sku, quantity: 1 },
      { sku: CHARGER.sku, quantity: 1 },
    ]);
    takeSalesOrders(placed);
    await dispatch(placed, [
      { lineNumber: 1, disposition: 'shipped', quantity: 1 },
      { lineNumber: 2, disposition: 'error', errorCode: 'PICK_FAILED' },
    ]);
    const outcome = await finalOutcome(placed.orderId);
    expect(outcome.status).toBe('Error');
    expect(outcome.invoiceNumber).toMatch(/^INV-\d{8}$/);
    expect((await chargesOf(placed.orderId)).map((c) => [c.lineNumber, c.sku, c.quantity, c.amount])).toEqual([[1, CASE.sku, 1, 1499]]);
    const view = await getOrder(placed.orderId);
    expect(view.charges.map((c: any) => c.lineNumber)).toEqual([1]);
    expect(view.invoiceNumber).toBe(outcome.invoiceNumber);
    const invoice = await sys.call('GET', `/api/v1/invoices/${outcome.invoiceNumber}`);
    expect(invoice.body.totals).toEqual({ net: 1499, tax: 300, gross: 1799 });
  });
});

describe('deferred billing and the bill run', () => {
  it('keeps the charge pending until the bill run on the cycle day; other days and earlier cut-offs leave it', async () => {
    const placed = await placeOrder('ACC-1002', [{ sku: CASE.sku, quantity: 2 }]);
    expect(placed.billingMode).toBe('nextInvoice');
    await sys.simulator.respond();
    expect(await finalOutcome(placed.orderId)).toMatchObject({ status: 'Complete', invoiceNumber: null });
    const view = await getOrder(placed.orderId);
    expect(view.charges).toEqual([expect.objectContaining({ quantity: 2, amount: 2998, tax: 600, invoiceNumber: null })]);
    const pending = await sys.call('GET', '/api/v1/accounts/ACC-1002/charges?status=pending');
    expect(pending.body.items.map((c: any) => c.orderId)).toContain(placed.orderId);

    // Not ACC-1002's cycle day: it is not due.
    const otherDay = dateWithDay(16, 1);
    const other = await billRun(otherDay);
    expect(other.status).toBe(200);
    expect(other.body).toMatchObject({
      workflowId: billRunWorkflowId(otherDay),
      status: 'completed',
      result: { date: otherDay, accountsDue: 0, invoices: [], failed: [] },
    });

    // Its cycle day, but before the charge existed: the cut-off leaves it for a later cycle.
    const earlier = dateWithDay(15, -1);
    const before = await billRun(earlier);
    expect(before.body.result).toMatchObject({ date: earlier, cutOff: `${earlier}T23:59:59.999Z`, accountsDue: 1, invoices: [], nothingToBill: ['ACC-1002'] });
    expect((await chargesOf(placed.orderId))[0].invoiceNumber).toBeNull();

    // The cycle day: one cycle invoice with the charge.
    const cycleDay = dateWithDay(15, 1);
    const run = await billRun(cycleDay);
    expect(run.status).toBe(200);
    expect(run.body.result).toMatchObject({ date: cycleDay, accountsDue: 1, nothingToBill: [], failed: [] });
    expect(run.body.result.invoices).toEqual([expect.objectContaining({ accountId: 'ACC-1002', created: true, currency: 'GBP' })]);
    const invoiceNumber: string = run.body.result.invoices[0].invoiceNumber;

    const charges = await sys.call('GET', '/api/v1/accounts/ACC-1002/charges?status=invoiced');
    expect(charges.body.items.find((c: any) => c.orderId === placed.orderId)).toMatchObject({ invoiceNumber, billingMode: 'nextInvoice' });
    const invoice = await sys.call('GET', `/api/v1/invoices/${invoiceNumber}`);
    expect(invoice.body).toMatchObject({ kind: 'cycle', accountId: 'ACC-1002', billDate: cycleDay, cutOff: `${cycleDay}T23:59:59.999Z` });
    expect(invoice.body.lines.map((l: any) => l.orderId)).toContain(placed.orderId);
    expect(invoice.body.totals.gross).toBe(run.body.result.invoices[0].gross);
    const invoices = await sys.call('GET', '/api/v1/accounts/ACC-1002/invoices');
    expect(invoices.body.items.map((i: any) => i.invoiceNumber)).toEqual([invoiceNumber]);
  });

  it('a bill run executed twice for the same date issues one invoice, whether the runs overlap or follow', async () => {
    const placed = await placeOrder('ACC-1003', [{ sku: CHARGER.sku, quantity: 1 }]);
    await sys.simulator.respond();
    expect(await finalOutcome(placed.orderId)).toMatchObject({ status: 'Complete', invoiceNumber: null });
    const date = dateWithDay(28, 1);

    // Triggered twice at once: the second joins the first.
    const [a, b] = await Promise.all([billRun(date), billRun(date)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.body.runId).toBe(a.body.runId);
    const invoiceNumber: string = a.body.result.invoices[0].invoiceNumber;
    expect(a.body.result.invoices).toEqual([expect.objectContaining({ accountId: 'ACC-1003', created: true, chargeCount: 1, gross: 2280 })]);

    // Run again after it finished, without waiting: a new run that finds the invoice already issued.
    const rerun = await billRun(date, 0);
    expect([200, 202]).toContain(rerun.status);
    expect(rerun.body.runId).not.toBe(a.body.runId);
    const finished = await eventually(async () => {
      const r = await sys.call('GET', `/api/v1/bill-runs/${date}`, { role: 'ops' });
      return r.body.runId === rerun.body.runId && r.body.status === 'completed' && r.body;
    }, 'the rerun to finish');
    expect(finished.result.invoices).toEqual([{ accountId: 'ACC-1003', invoiceNumber, currency: 'GBP', gross: 2280, chargeCount: 1, created: false }]);

    expect(await sys.db.models.Invoice.countDocuments({ accountId: 'ACC-1003' })).toBe(1);
    expect(await sys.db.models.Invoice.countDocuments({ idempotencyKey: cycleInvoiceKey('ACC-1003', date) })).toBe(1);
    expect((await chargesOf(placed.orderId)).map((c) => c.invoiceNumber)).toEqual([invoiceNumber]);
    await replayAndRecord(sys.temporal, billRunWorkflowId(date), 'bill-run');
    await replayAndRecord(sys.temporal, orderWorkflowId(placed.orderId), 'order-complete-deferred');
  });

  it('overlapping cycle invoices for different dates never put one charge on two invoices', async () => {
    const ledger = new MongoLedger(sys.db);
    const drafts: ChargeDraft[] = [1, 2, 3].map((n) => ({
      chargeKey: `ORD-OVERLAP:${n}:b`,
      lineNumber: n,
      sku: CASE.sku,
      description: 'Clear Case',
      quantity: 1,
      unitPrice: 1499,
      taxRateBps: 2000,
      amount: 1499,
      tax: 300,
    }));
    await ledger.recordCharges({ orderId: 'ORD-OVERLAP', accountId: 'ACC-1002', currency: 'GBP', billingMode: 'nextInvoice', charges: drafts });
    // Four dates whose cut-offs all cover the charges, each issued three times at once.
    const runs = ['2099-01-15', '2099-02-15', '2099-03-15', '2099-04-15'].flatMap((date) =>
      [1, 2, 3].map(() => ledger.issueCycleInvoice({ accountId: 'ACC-1002', date, cutOff: `${date}T23:59:59.999Z` })),
    );
    const results = await Promise.all(runs);
    const invoices = await sys.db.models.Invoice.find({ chargeKeys: { $in: drafts.map((d) => d.chargeKey) } }).lean();
    for (const d of drafts) expect(invoices.filter((i) => i.chargeKeys.includes(d.chargeKey))).toHaveLength(1);
    const charges = await chargesOf('ORD-OVERLAP');
    for (const c of charges) expect(invoices.find((i) => i.chargeKeys.includes(c.chargeKey))!.invoiceNumber).toBe(c.invoiceNumber);
    expect(results.filter((r) => r?.created)).toHaveLength(invoices.length);
    // Invoice numbers stay gap-free.
    const sequences = (await sys.db.models.Invoice.find({}, { sequence: 1 }).sort({ sequence: 1 }).lean()).map((i) => i.sequence);
    expect(sequences).toEqual(sequences.map((_, i) => i + 1));
  });

  it('a charge on an invoice whose issuer stopped before marking it stays on that invoice alone', async () => {
    const ledger = new MongoLedger(sys.db);
    const { Invoice } = sys.db.models;
    const draft: ChargeDraft = {
      chargeKey: 'ORD-CRASH:1:b',
      lineNumber: 1,
      sku: CASE.sku,
      description: 'Clear Case',
      quantity: 1,
      unitPrice: 1499,
      taxRateBps: 2000,
      amount: 1499,
      tax: 300,
    };
    await ledger.recordCharges({ orderId: 'ORD-CRASH', accountId: 'ACC-1003', currency: 'GBP', billingMode: 'nextInvoice', charges: [draft] });
    // The issuer inserted its invoice, then died before marking the charge.
    const stopped = crashingLedger('Charge', 'bulkWrite');
    await expect(stopped.ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-01-28', cutOff: billCutOff('2098-01-28') })).rejects.toThrow(
      /simulated crash/,
    );
    const issued = (await Invoice.findOne({ idempotencyKey: cycleInvoiceKey('ACC-1003', '2098-01-28') }).lean())!;
    expect(issued.chargeKeys).toEqual([draft.chargeKey]);
    expect((await chargesOf('ORD-CRASH'))[0].invoiceNumber).toBeNull();

    // A later cycle finds nothing else to bill, and finishes the marking on the stopped issuer's behalf.
    expect(await ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-02-28', cutOff: billCutOff('2098-02-28') })).toBeNull();
    expect((await chargesOf('ORD-CRASH'))[0].invoiceNumber).toBe(issued.invoiceNumber);
    expect(await Invoice.countDocuments({ chargeKeys: draft.chargeKey })).toBe(1);
    // The stopped issuer, retried, answers with its invoice.
    expect(await ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-01-28', cutOff: billCutOff('2098-01-28') })).toMatchObject({
      invoiceNumber: issued.invoiceNumber,
      chargeCount: 1,
      created: false,
    });
  });

  it('a charge claimed by a cycle invoice whose issuer stopped before numbering it is invoiced once, numbered by the next cycle', async () => {
    const ledger = new MongoLedger(sys.db);
    const { Invoice, AccountInvoice } = sys.db.models;
    const draft: ChargeDraft = {
      chargeKey: 'ORD-CRASH2:1:b',
      lineNumber: 1,
      sku: CHARGER.sku,
      description: 'Charger',
      quantity: 1,
      unitPrice: 1900,
      taxRateBps: 2000,
      amount: 1900,
      tax: 380,
    };
    await ledger.recordCharges({ orderId: 'ORD-CRASH2', accountId: 'ACC-1003', currency: 'GBP', billingMode: 'nextInvoice', charges: [draft] });
    const key = cycleInvoiceKey('ACC-1003', '2098-03-28');
    // The issuer claimed the account's next invoice with the charge, then died before numbering it.
    const stopped = crashingLedger('Invoice', 'create');
    await expect(stopped.ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-03-28', cutOff: billCutOff('2098-03-28') })).rejects.toThrow(
      /simulated crash/,
    );
    expect(await AccountInvoice.findOne({ idempotencyKey: key }).lean()).toMatchObject({ chargeKeys: [draft.chargeKey] });
    expect(await Invoice.countDocuments({ idempotencyKey: key })).toBe(0);

    // The next cycle leaves the charge to that invoice and numbers it on the stopped issuer's behalf.
    expect(await ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-04-28', cutOff: billCutOff('2098-04-28') })).toBeNull();
    const issued = (await Invoice.findOne({ idempotencyKey: key }).lean())!;
    expect(issued).toMatchObject({ chargeKeys: [draft.chargeKey], gross: 2280, kind: 'cycle', billDate: '2098-03-28' });
    expect((await chargesOf('ORD-CRASH2'))[0].invoiceNumber).toBe(issued.invoiceNumber);
    expect(await ledger.issueCycleInvoice({ accountId: 'ACC-1003', date: '2098-03-28', cutOff: billCutOff('2098-03-28') })).toMatchObject({
      invoiceNumber: issued.invoiceNumber,
      created: false,
    });
    await expectGapFree();
  });

  it('guards the bill-run API: ops only, real dates only', async () => {
    expect((await sys.call('POST', '/api/v1/bill-runs', { role: 'agent', body: { date: '2025-03-15' } })).status).toBe(403);
    const bad = await billRun('2025-02-30');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect((await sys.call('GET', '/api/v1/bill-runs/2001-01-01', { role: 'ops' })).status).toBe(404);
    expect((await sys.call('GET', '/api/v1/accounts/ACC-1001/charges', { role: null })).status).toBe(401);
    expect((await sys.call('GET', '/api/v1/accounts/ACC-9999/invoices')).body.error.code).toBe('ACCOUNT_NOT_FOUND');
    expect((await sys.call('GET', '/api/v1/invoices/INV-99999999')).status).toBe(404);
    const doc = await sys.call('GET', '/openapi.json', { role: null });
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/bill-runs', '/api/v1/invoices/{invoiceNumber}', '/api/v1/accounts/{accountId}/charges']),
    );
    expect(Object.keys(doc.body.components.schemas)).toEqual(expect.arrayContaining(['Charge', 'Invoice', 'BillRun']));
  });
});

describe('invoice numbering under load (point reads only)', () => {
  const ACCOUNTS = ['ACC-1001', 'ACC-1002', 'ACC-1003'];
  const draftsOf = (orderId: string, lines: number): ChargeDraft[] =>
    Array.from({ length: lines }, (_, i) => ({
      chargeKey: `${orderId}:${i + 1}:b1`,
      lineNumber: i + 1,
      sku: CASE.sku,
      description: 'Clear Case',
      quantity: 1,
      unitPrice: 1499,
      taxRateBps: 2000,
      amount: 1499,
      tax: 300,
    }));
  type TestOrder = { orderId: string; accountId: string; lines: number };
  const record = (o: TestOrder, billingMode: 'immediate' | 'nextInvoice') =>
    new MongoLedger(sys.db).recordCharges({ orderId: o.orderId, accountId: o.accountId, currency: 'GBP', billingMode, charges: draftsOf(o.orderId, o.lines) });
  const immediate = (o: TestOrder) => ({
    accountId: o.accountId,
    idempotencyKey: `order:${o.orderId}`,
    kind: 'offCycle' as const,
    chargeKeys: draftsOf(o.orderId, o.lines).map((d) => d.chargeKey),
  });

  it('40 immediate invoices across 3 accounts at once, some retried, some interrupted at each step: one invoice per order, numbers 1..N, no shared charge', async () => {
    const ledger = new MongoLedger(sys.db);
    const orders: TestOrder[] = Array.from({ length: 40 }, (_, i) => ({ orderId: `ORD-LOAD-${i}`, accountId: ACCOUNTS[i % 3], lines: 1 + (i % 2) }));
    await Promise.all(orders.map((o) => record(o, 'immediate')));

    // Issuers that die at each step, before the crowd arrives. `claimed`: the invoice's place and charges were claimed before the crash.
    const steps: { model: keyof Models; method: string; claimed: boolean }[] = [
      { model: 'InvoiceRequest', method: 'create', claimed: false },
      { model: 'AccountInvoice', method: 'create', claimed: false },
      { model: 'Invoice', method: 'create', claimed: true }, // between claiming the account's place and numbering
      { model: 'Charge', method: 'bulkWrite', claimed: true }, // numbered, its charges not yet marked
      { model: 'InvoiceRequest', method: 'updateOne', claimed: true },
    ];
    const interrupted = orders.slice(0, steps.length);
    for (const [i, step] of steps.entries()) {
      const dying = crashingLedger(step.model, step.method);
      await expect(dying.ledger.issueInvoice(immediate(interrupted[i]))).rejects.toThrow(/simulated crash/);
      expect(dying.crashed()).toBe(true);
    }

    // The crowd: every other order at once, every fourth issued three times at once (two retries).
    const crowd = orders.slice(steps.length);
    const issue = (o: TestOrder) => ledger.issueInvoice(immediate(o)).then((r) => ({ orderId: o.orderId, ...r }));
    const answers = await Promise.all(crowd.flatMap((o, i) => (i % 4 === 0 ? [o, o, o] : [o]).map(issue)));
    // The interrupted issuers left no hole in the numbers, even before they are retried (an account
    // place claimed but not yet numbered is a hole in that account's sequence until the retry).
    await expectGapFree({ issuersFinished: false });

    // Their retries, now that numbers and places have moved on.
    answers.push(...(await Promise.all(interrupted.map(issue))));
    const all = await expectGapFree();
    for (const o of orders) {
      const mine = all.filter((i) => i.idempotencyKey === `order:${o.orderId}`);
      expect(mine, o.orderId).toHaveLength(1);
      expect(mine[0]).toMatchObject({ accountId: o.accountId, kind: 'offCycle', chargeKeys: immediate(o).chargeKeys, gross: 1799 * o.lines });
      const got = answers.filter((a) => a.orderId === o.orderId);
      for (const a of got) expect(a).toMatchObject({ invoiceNumber: mine[0].invoiceNumber, gross: 1799 * o.lines, chargeCount: o.lines });
      const step = steps[interrupted.indexOf(o)];
      // Exactly one call claimed each invoice: the interrupted one, if it got that far.
      expect(
        got.filter((a) => a.created),
        o.orderId,
      ).toHaveLength(step?.claimed ? 0 : 1);
    }
    const charges = await sys.db.models.Charge.find({ orderId: /^ORD-LOAD-/ }).lean();
    expect(charges).toHaveLength(orders.reduce((n, o) => n + o.lines, 0));
    for (const c of charges) expect(c.invoiceNumber).toBe(all.find((i) => i.chargeKeys.includes(c.chargeKey))?.invoiceNumber);

    // Asked again later: the same answer, nothing new.
    expect(await ledger.issueInvoice(immediate(orders[7]))).toMatchObject({
      invoiceNumber: all.find((i) => i.idempotencyKey === 'order:ORD-LOAD-7')!.invoiceNumber,
      created: false,
    });
    expect(await sys.db.models.Invoice.countDocuments({})).toBe(all.length);
  });

  it('a cycle invoice and immediate invoices racing on one account never share a charge', async () => {
    const ledger = new MongoLedger(sys.db);
    const deferred: TestOrder = { orderId: 'ORD-RACE-D', accountId: 'ACC-1003', lines: 4 };
    const immediates: TestOrder[] = Array.from({ length: 8 }, (_, i) => ({ orderId: `ORD-RACE-I${i}`, accountId: 'ACC-1003', lines: 1 + (i % 2) }));
    await record(deferred, 'nextInvoice');
    await Promise.all(immediates.map((o) => record(o, 'immediate')));
    const deferredKeys = draftsOf(deferred.orderId, deferred.lines).map((d) => d.chargeKey);

    // An immediate invoice takes only its own order's immediate charges.
    await expect(ledger.issueInvoice({ ...immediate(deferred) })).rejects.toMatchObject({
      type: 'VALIDATION_FAILED',
      message: expect.stringMatching(/waits for the cycle invoice/),
    });
    await expect(ledger.issueInvoice({ ...immediate(immediates[0]), chargeKeys: immediate(immediates[1]).chargeKeys })).rejects.toMatchObject({
      type: 'VALIDATION_FAILED',
    });

    // Two bill dates whose cut-offs both cover the deferred charges, each run twice, racing the immediate invoices.
    const cycles = ['2097-01-28', '2097-02-28']
      .flatMap((date) => [date, date])
      .map((date) => ledger.issueCycleInvoice({ accountId: 'ACC-1003', date, cutOff: billCutOff(date) }));
    const [cycleResults] = await Promise.all([Promise.all(cycles), Promise.all(immediates.map((o) => ledger.issueInvoice(immediate(o))))]);

    const all = await expectGapFree();
    const holders = (chargeKey: string) => all.filter((i) => i.chargeKeys.includes(chargeKey));
    for (const k of deferredKeys) {
      expect(holders(k), k).toHaveLength(1);
      expect(holders(k)[0].kind).toBe('cycle');
    }
    for (const o of immediates) for (const k of immediate(o).chargeKeys) expect(holders(k).map((i) => i.idempotencyKey)).toEqual([`order:${o.orderId}`]);
    // Each date's two runs agree; at most one of them created it.
    for (const date of ['2097-01-28', '2097-02-28']) {
      const issued = all.filter((i) => i.idempotencyKey === cycleInvoiceKey('ACC-1003', date));
      expect(issued.length).toBeLessThanOrEqual(1);
    }
    expect(cycleResults.filter((r) => r?.created)).toHaveLength(all.filter((i) => i.idempotencyKey.startsWith('cycle:ACC-1003:2097-')).length);
    const charges = await sys.db.models.Charge.find({ orderId: /^ORD-RACE-/ }).lean();
    for (const c of charges) expect(c.invoiceNumber).toBe(holders(c.chargeKey)[0].invoiceNumber);
  });
});

describe('the bill-run schedule', () => {
  it('ensureSchedules creates the daily schedule, is idempotent, and a scheduled run bills the day before its time', async () => {
    const scheduleId = billRunScheduleId(sys.config);
    const handle = sys.temporal.schedule.getHandle(scheduleId);
    // The worker ensures every definition; here only the bill run's, so other jobs stay out of this test.
    const definitions = scheduleDefinitions(sys.config).filter((d) => d.scheduleId === scheduleId);
    expect(definitions).toHaveLength(1);
    try {
      expect(await ensureSchedules(sys.temporal, sys.config, definitions)).toEqual([{ scheduleId, outcome: 'created' }]);
      const desc = await handle.describe();
      expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'billRunWorkflow', taskQueue: sys.config.temporal.taskQueue, args: [{}] });
      expect(desc.policies.overlap).toBe('BUFFER_ALL');
      expect(desc.spec.timezone).toBe('UTC');
      expect(desc.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 2, end: 2, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] })]);

      // Drifted (someone edited it by hand): a second call brings it back and creates nothing.
      await handle.update((prev) => ({ ...prev, spec: { calendars: [{ hour: 5 }], timezone: 'UTC' } }));
      expect(await ensureSchedules(sys.temporal, sys.config, definitions)).toEqual([{ scheduleId, outcome: 'updated' }]);
      expect((await handle.describe()).spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 2, end: 2, step: 1 }] })]);
      const listed = [];
      for await (const s of sys.temporal.schedule.list({ query: `ScheduleId = '${scheduleId}'` })) listed.push(s.scheduleId);
      expect(listed.length).toBeLessThanOrEqual(1); // visibility may lag; never two

      // The 02:00 run of 16 January 2024, taken now: the workflow derives 15 January from the scheduled time.
      await handle.backfill({ start: new Date('2024-01-16T01:59:00Z'), end: new Date('2024-01-16T02:01:00Z'), overlap: 'ALLOW_ALL' });
      const action = await eventually(
        async () => (await handle.describe()).info.recentActions.find((a) => a.scheduledAt.toISOString() === '2024-01-16T02:00:00.000Z'),
        'the backfilled run',
      );
      const result = await sys.temporal.workflow.getHandle(action.action.workflow.workflowId).result();
      expect(result).toMatchObject({
        date: '2024-01-15',
        cutOff: '2024-01-15T23:59:59.999Z',
        accountsDue: 1,
        invoices: [],
        nothingToBill: ['ACC-1002'],
        failed: [],
      });
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });
});
