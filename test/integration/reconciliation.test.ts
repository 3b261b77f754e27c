// The order view reconciliation job against the real Temporal dev server and FerretDB: orders are
// driven to a terminal state (software licences complete without a warehouse, a New order is
// cancelled), then their read models are damaged the way a stale projection write would leave
// them, or deleted; the job brings each back to exactly the closed workflow's final view, leaves
// the others untouched, and a second run finds nothing to do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Product } from '../../domain/types';
import { closedOrdersQuery } from '../../activities/reconciliation';
import { ensureSchedules, orderViewReconciliationScheduleId, scheduleDefinitions } from '../../infra/schedules';
import { addLineUpdate, cancelUpdate, generateUpdate, getOrderQuery, orderWorkflowId, OrderStatusAttr, type OrderView } from '../../workflows/messages';
import type { OrderViewReconciliationInput, OrderViewReconciliationReport } from '../../workflows/order-view-reconciliation';
import { inParallel, newTestOrderId, openOrder, startGeneratedOrders } from '../support/dispatch-fixtures';
import { replayAndRecord } from '../support/replay';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

type ReadModelDoc = { _id: string; status: string; revision: number; updatedAt: string; state: OrderView } & Record<string, unknown>;

const readModel = async (orderId: string) => (await sys.db.models.OrderView.findOne({ _id: orderId }).lean()) as ReadModelDoc | null;
const finalView = (orderId: string) => sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery);

let runs = 0;
async function reconcile(
  input: OrderViewReconciliationInput = {},
): Promise<{ report: OrderViewReconciliationReport; workflowId: string; firstRunId: string; ms: number }> {
  const workflowId = `${sys.config.temporal.taskQueue}:order-view-reconciliation-now-${++runs}`;
  const started = Date.now();
  const handle = await sys.temporal.workflow.start('orderViewReconciliationWorkflow', { taskQueue: sys.config.temporal.taskQueue, workflowId, args: [input] });
  const report = (await handle.result()) as OrderViewReconciliationReport;
  return { report, workflowId, firstRunId: handle.firstExecutionRunId, ms: Date.now() - started };
}

/**
 * Opens an order with one software licence line (the API's sequence of updates) and returns the
 * read model as it stood while New: the snapshot a stale projection attempt would carry.
 */
async function openLicenceOrder(accountId = 'ACC-1001'): Promise<{ orderId: string; whileNew: ReadModelDoc }> {
  const account = (await sys.db.models.Account.findOne({ accountId }).lean())!;
  const product = (await sys.db.models.Product.findOne({ sku: 'SW-MDM-1Y' }, { _id: 0 }).lean<Product>())!;
  const orderId = newTestOrderId();
  const handle = await openOrder(sys, orderId, account);
  await handle.executeUpdate(addLineUpdate, { args: [{ product, quantity: 2, by: 'csa-test' }] });
  return { orderId, whileNew: (await readModel(orderId))! };
}

/** Waits until visibility lists every one of the orders as closed with its final status. */
async function visibleAsClosed(orderIds: string[]): Promise<void> {
  const query = closedOrdersQuery(sys.config.temporal.taskQueue, { closedAfter: '2000-01-01T00:00:00.000Z', closedBefore: '2100-01-01T00:00:00.000Z' });
  await eventually(async () => {
    const seen = new Set<string>();
    for await (const w of sys.temporal.workflow.list({ query })) if (w.typedSearchAttributes.get(OrderStatusAttr)) seen.add(w.workflowId);
    return orderIds.every((id) => seen.has(orderWorkflowId(id)));
  }, 'the closed orders in visibility');
}

describe('order view reconciliation', () => {
  const ids = { staleStatus: '', staleRevision: '', deleted: '', untouchedComplete: '', untouchedCancelled: '' };
  let untouched: Record<string, ReadModelDoc> = {};
  const repairedDocs: Record<string, ReadModelDoc> = {};

  it('repairs a read model left behind by a stale write and one that is missing, and touches nothing else', async () => {
    // ---- Five orders to a terminal state: four licence orders Complete and billed, one cancelled while New.
    const opened = await inParallel([0, 1, 2, 3], 4, () => openLicenceOrder());
    [ids.staleStatus, ids.staleRevision, ids.deleted, ids.untouchedComplete] = opened.map((o) => o.orderId);
    await inParallel(opened, 4, ({ orderId }) =>
      sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).executeUpdate(generateUpdate, { args: [{ by: 'csa-test' }] }),
    );
    const cancelled = await openLicenceOrder();
    ids.untouchedCancelled = cancelled.orderId;
    await sys.temporal.workflow
      .getHandle(orderWorkflowId(cancelled.orderId))
      .executeUpdate(cancelUpdate, { args: [{ by: 'csa-test', reason: 'customer changed their mind' }] });
    // One order stays open (New): its workflow still owns its read model, so the job leaves it out.
    const stillOpen = await openLicenceOrder();
    const all = Object.values(ids);
    const outcomes = await Promise.all(all.map((id) => sys.temporal.workflow.getHandle(orderWorkflowId(id)).result()));
    expect(outcomes.map((o) => o.status)).toEqual(['Complete', 'Complete', 'Complete', 'Complete', 'Cancelled']);
    for (const id of all) expect((await readModel(id))!.revision).toBe((await finalView(id)).revision);
    await visibleAsClosed(all);

    // ---- Damage, as stale projection writes landing after the close would leave it.
    // A snapshot from while the order was New, over its Complete view: the status tells.
    const stale = opened[0].whileNew;
    expect(stale.status).toBe('New');
    await sys.db.models.OrderView.replaceOne({ _id: ids.staleStatus }, stale);
    // The Complete view from before billing (no charges, no invoice): same status, older revision,
    // built at least one projection timeout (10 s) before the write that superseded it.
    const billed = (await readModel(ids.staleRevision))!;
    expect(billed.state.invoiceNumber).toMatch(/.+/);
    const closedAt = (await sys.temporal.workflow.getHandle(orderWorkflowId(ids.staleRevision)).describe()).closeTime!;
    const unbilled: OrderView = { ...billed.state, revision: billed.revision - 2, charges: [], invoiceNumber: null };
    await sys.db.models.OrderView.replaceOne(
      { _id: ids.staleRevision },
      { ...billed, revision: unbilled.revision, updatedAt: new Date(closedAt.getTime() - 11_000).toISOString(), state: unbilled },
    );
    await sys.db.models.OrderView.deleteOne({ _id: ids.deleted });
    untouched = { [ids.untouchedComplete]: (await readModel(ids.untouchedComplete))!, [ids.untouchedCancelled]: (await readModel(ids.untouchedCancelled))! };

    // ---- One run of the job.
    const first = await reconcile();
    expect(first.report).toMatchObject({ checked: 5, repaired: 2, missing: 1, unreconciled: 0, missingOrderIds: [ids.deleted], unreconciledOrders: [] });
    expect([...first.report.repairedOrderIds].sort()).toEqual([ids.staleStatus, ids.staleRevision].sort());
    // The three it had to ask; the untouched ones were judged from their visibility row alone
    // unless the machine was slow enough to leave their final write > 5 s before the close.
    expect(first.report.queried).toBeGreaterThanOrEqual(3);
    expect(first.report.queried).toBeLessThanOrEqual(5);

    // Each repaired read model is exactly the closed workflow's final view, through the projection.
    for (const id of [ids.staleStatus, ids.staleRevision, ids.deleted]) {
      const view = await finalView(id);
      const doc = (await readModel(id))!;
      expect(doc.state).toEqual(view);
      expect({ status: doc.status, revision: doc.revision, orderId: doc.orderId, accountId: doc.accountId }).toEqual({
        status: view.status,
        revision: view.revision,
        orderId: id,
        accountId: view.accountId,
      });
      repairedDocs[id] = doc;
    }
    expect(repairedDocs[ids.staleRevision].state.invoiceNumber).toBe(billed.state.invoiceNumber);
    // The others: not a byte changed (same revision, same updatedAt).
    for (const [id, before] of Object.entries(untouched)) expect(await readModel(id)).toEqual(before);

    expect(await readModel(stillOpen.orderId)).toEqual(stillOpen.whileNew);

    // ---- A second run: nothing to repair, nothing written, and no workflow needs asking.
    const second = await reconcile();
    expect(second.report).toMatchObject({ checked: 5, repaired: 0, missing: 0, unreconciled: 0, queried: expect.any(Number) });
    expect(second.report.queried).toBeLessThanOrEqual(Object.keys(untouched).length);
    for (const [id, before] of Object.entries({ ...untouched, ...repairedDocs })) expect(await readModel(id)).toEqual(before);
    console.info(
      `reconciliation: run 1 ${first.report.checked} orders, ${first.report.queried} queried, ${first.ms} ms; run 2 ${second.report.checked} orders, ${second.report.queried} queried, ${second.ms} ms`,
    );

    // The recorded history replays on today's code.
    await replayAndRecord(sys.temporal, first.workflowId, 'order-view-reconciliation');
  });

  it('pages through the closed orders, continuing as new, and still repairs what is behind', async () => {
    const id = ids.untouchedComplete;
    const doc = (await readModel(id))!;
    await sys.db.models.OrderView.replaceOne(
      { _id: id },
      { ...doc, status: 'AwaitingGeneration', revision: doc.revision - 3, state: { ...doc.state, status: 'AwaitingGeneration', revision: doc.revision - 3 } },
    );

    const paged = await reconcile({ pageSize: 2, pagesPerRun: 1 });
    expect(paged.report).toMatchObject({ checked: 5, repaired: 1, repairedOrderIds: [id], missing: 0, unreconciled: 0 });
    expect((await readModel(id))!.state).toEqual(await finalView(id));
    // Three pages of two, one page per run: two continue-as-new.
    const firstRun = await sys.temporal.workflow.getHandle(paged.workflowId, paged.firstRunId).fetchHistory();
    expect(firstRun.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
  });

  it('runs on a Temporal Schedule that skips overlaps, each run starting where the previous one ended', async () => {
    const scheduleId = orderViewReconciliationScheduleId(sys.config);
    const handle = sys.temporal.schedule.getHandle(scheduleId);
    try {
      const definitions = scheduleDefinitions(sys.config).filter((d) => d.scheduleId === scheduleId);
      expect(await ensureSchedules(sys.temporal, sys.config, definitions)).toEqual([{ scheduleId, outcome: 'created' }]);
      const desc = await handle.describe();
      expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'orderViewReconciliationWorkflow', taskQueue: sys.config.temporal.taskQueue });
      expect(desc.spec.intervals).toEqual([expect.objectContaining({ every: 5 * 60_000 })]);
      expect(desc.policies.overlap).toBe('SKIP');

      const runReport = async (n: number) => {
        // SKIP, not the client's default ALLOW_ALL: only runs under the schedule's overlap policy pass results on.
        await handle.trigger('SKIP');
        const action = await eventually(async () => {
          const recent = (await handle.describe()).info.recentActions;
          return recent.length >= n && recent[recent.length - 1];
        }, `scheduled run ${n}`);
        const report = (await sys.temporal.workflow.getHandle(action.action.workflow.workflowId).result()) as OrderViewReconciliationReport;
        // The schedule hands the result to the next run once it has seen this one finish.
        await eventually(async () => (await handle.describe()).info.runningActions.length === 0, `scheduled run ${n} seen finished`);
        return report;
      };
      const first = await runReport(1);
      expect(first).toMatchObject({ checked: 5, repaired: 0, missing: 0 });
      // The next run gets the previous result from the schedule and re-checks the last 15 minutes.
      const second = await runReport(2);
      expect(Date.parse(second.closedAfter)).toBe(Date.parse(first.closedBefore) - 15 * 60_000);
      expect(Date.parse(second.closedBefore)).toBeGreaterThan(Date.parse(first.closedBefore));
    } finally {
      await handle.delete().catch(() => undefined);
    }
  });
});

// Opt-in measurement (RECONCILIATION_MEASURE=<orders>): throughput of the three paths on this machine.
describe.runIf(Number(process.env.RECONCILIATION_MEASURE) > 0)('order view reconciliation throughput', () => {
  it('checks orders from their visibility row, asks the workflow only when it must, and repairs through the projection', async () => {
    const n = Number(process.env.RECONCILIATION_MEASURE);
    const before = (await reconcile()).report.checked;
    const orderIds = await startGeneratedOrders(sys, n, { accountId: 'ACC-1001', lines: [{ sku: 'SW-MDM-1Y', quantity: 1 }] }, 8);
    await inParallel(orderIds, 16, (id) => sys.temporal.workflow.getHandle(orderWorkflowId(id)).result());
    await visibleAsClosed(orderIds);
    const total = before + n;
    const rate = (r: { report: OrderViewReconciliationReport; ms: number }) =>
      `${r.report.checked} checked, ${r.report.queried} queried in ${r.ms} ms = ${Math.round((r.report.checked * 1000) / r.ms)} orders/s`;

    const cheap = await reconcile();
    expect(cheap.report).toMatchObject({ checked: total, repaired: 0, missing: 0, unreconciled: 0 });
    // Every read model now looks as if it could be an older snapshot: each order is asked, none is behind.
    for (const id of orderIds) await sys.db.models.OrderView.updateOne({ _id: id }, { $set: { updatedAt: '2000-01-01T00:00:00.000Z' } });
    const asked = await reconcile();
    expect(asked.report).toMatchObject({ checked: total, repaired: 0, missing: 0, unreconciled: 0 });
    expect(asked.report.queried).toBeGreaterThanOrEqual(n);
    // Every read model gone: each order is asked and written again.
    for (const id of orderIds) await sys.db.models.OrderView.deleteOne({ _id: id });
    const rebuilt = await reconcile();
    expect(rebuilt.report).toMatchObject({ checked: total, missing: n, unreconciled: 0 });
    console.info(`reconciliation throughput: visibility row only: ${rate(cheap)}; all asked: ${rate(asked)}; all rebuilt: ${rate(rebuilt)}`);
  }, 1_800_000);
});
