// The small crash-and-restart run inside `npm test`: 50 orders and one SIGKILL of each kind
// (worker, Temporal, FerretDB, API, adaptor) on a Temporal dev server and FerretDB of its own (the
// shared pair of the test run is never touched). Nothing may be lost or done twice; see
// chaos/checks.ts for the invariants, and `npm run chaos` for the 500-order run.
// The histories it leaves (crashes, retries, restarts in them) are recorded as replay fixtures.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { formatReport } from '../../chaos/checks';
import { runChaos } from '../../chaos/harness';
import type { DrivenOrder } from '../../chaos/orders';
import type { Client } from '@temporalio/client';
import type { Db } from '../../infra/db';
import { orderWorkflowId } from '../../workflows/messages';
import { replayAndRecord } from '../support/replay';
import { eventually, TOKENS } from '../support/system';

const ORDERS = Number(process.env.CHAOS_ORDERS ?? 50);

/** Ops actions after the run, so that every workflow type has a history: a bill run and an unenrolment. */
async function opsActions(apiUrl: string, db: Db): Promise<void> {
  const ops = { authorization: `Bearer ${TOKENS.ops}`, 'content-type': 'application/json' };
  const today = new Date();
  const next15 = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + (today.getUTCDate() >= 15 ? 1 : 0), 15));
  const billRun = await fetch(`${apiUrl}/api/v1/bill-runs`, {
    method: 'POST',
    headers: ops,
    body: JSON.stringify({ date: next15.toISOString().slice(0, 10) }),
  });
  expect(billRun.status).toBeLessThan(300);
  const enrolled = await db.models.EnrolmentInstruction.findOne({ status: 'enrolled', action: 'enrol' }).lean();
  if (enrolled) {
    const res = await fetch(`${apiUrl}/api/v1/devices/${encodeURIComponent(enrolled.deviceId)}/unenrolment`, {
      method: 'POST',
      headers: ops,
      body: JSON.stringify({ reason: 'returned', manufacturer: enrolled.manufacturer }),
    });
    expect(res.status).toBe(202);
  }
}

/** One closed workflow of each kind the run produced, replayed now and kept as a fixture. */
async function recordHistories({ temporal, db, orders }: { temporal: Client; db: Db; orders: DrivenOrder[] }): Promise<string[]> {
  const recorded: string[] = [];
  const ids = orders.flatMap((o) => (o.orderId ? [o.orderId] : []));
  const views = await db.models.OrderView.find({ orderId: { $in: ids } }, { orderId: 1, status: 1, state: 1 }).lean();
  const pick = (name: string, ok: (s: any) => boolean) => {
    const v = views.find((d) => ok(d.state));
    return v ? [{ name, workflowId: orderWorkflowId(v.orderId) }] : [];
  };
  const wanted = [
    ...pick('order-cancelled-chaos', (s) => s.status === 'Cancelled'),
    ...pick('order-error-chaos', (s) => s.status === 'Error'),
    ...pick('order-complete-deferred-split-chaos', (s) => s.status === 'Complete' && s.billingMode === 'nextInvoice' && s.subOrders.length > 1),
    ...pick('order-complete-deferred-chaos', (s) => s.status === 'Complete' && s.billingMode === 'nextInvoice'),
    ...pick('order-fraud-reviewed-chaos', (s) => !!s.fraud?.review),
  ];
  for (const type of [
    'salesOrderDispatchWorkflow',
    'deviceEnrolmentWorkflow',
    'deviceUnenrolmentWorkflow',
    'enrolmentRequestJob',
    'enrolmentResponseJob',
    'billRunWorkflow',
  ]) {
    // The unenrolment waits for the next enrolment jobs: give it a little time.
    const workflowId = await eventually(
      async () => {
        for await (const w of temporal.workflow.list({ query: `WorkflowType="${type}" AND ExecutionStatus="Completed"`, pageSize: 1 })) return w.workflowId;
        return undefined;
      },
      `a completed ${type}`,
      120_000,
    ).catch(() => undefined);
    if (workflowId) wanted.push({ name: `${type.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}-chaos`, workflowId });
  }
  for (const w of wanted) {
    await replayAndRecord(temporal, w.workflowId, w.name);
    recorded.push(w.name);
  }
  return recorded;
}

/** The run's work folder goes with the test run: on a failure, what each process last said is printed. */
function printLogTails(workDir: string): void {
  const files = [path.join(workDir, 'chaos.log'), ...fs.readdirSync(path.join(workDir, 'logs')).map((f) => path.join(workDir, 'logs', f))];
  for (const f of files) {
    if (!fs.existsSync(f)) continue;
    const tail = fs.readFileSync(f, 'utf8').trimEnd().split('\n').slice(-30).join('\n');
    console.error(`--- ${path.relative(workDir, f)} (last 30 lines) ---\n${tail}`);
  }
}

describe('crash and restart', () => {
  it(`runs ${ORDERS} orders through one SIGKILL of each kind and loses nothing, doubles nothing`, { timeout: 1_200_000 }, async () => {
    const workDir = path.join(inject('tmpRoot'), `chaos-${process.pid}`);
    fs.mkdirSync(workDir, { recursive: true });
    let recorded: string[] = [];
    const report = await runChaos({
      orders: ORDERS,
      seed: 20_260_101,
      workDir,
      kills: { worker: 1, temporal: 1, ferretdb: 1, api: 1, adaptor: 1 },
      concurrency: 10,
      drainTimeoutMs: 8 * 60_000,
      log: (line) => fs.appendFileSync(path.join(workDir, 'chaos.log'), `${new Date().toISOString()} ${line}\n`),
      beforeStop: async (ctx) => {
        await opsActions(ctx.apiUrl, ctx.db);
        recorded = await recordHistories(ctx);
      },
    }).catch((err: unknown) => {
      printLogTails(workDir);
      throw err;
    });
    console.log(`${formatReport(report)}\nreplayed histories: ${recorded.join(', ')}`);
    expect(report.violations).toEqual([]);
    expect(report.ordersCreated).toBe(ORDERS);
    expect(report.killCounts).toEqual({ worker: 1, temporal: 1, ferretdb: 1, api: 1, adaptor: 1, postgres: 0 });
    expect(report.stuck).toEqual([]);
    expect(report.charges.duplicateKeys).toBe(0);
    expect(report.charges.recorded).toBeGreaterThan(0);
    expect(report.dispatch.appliedTwice).toEqual([]);
    expect(report.salesOrders.docsPerSubOrderAboveOne).toEqual([]);
    // The mix reached every ending.
    expect(Object.keys(report.statuses).sort()).toEqual(['Cancelled', 'Complete', 'Error']);
    // Every workflow type has a history replayed (and, with RECORD_HISTORIES=1, kept as a fixture).
    expect(recorded).toEqual(
      expect.arrayContaining([
        'order-error-chaos',
        'sales-order-dispatch-workflow-chaos',
        'device-enrolment-workflow-chaos',
        'device-unenrolment-workflow-chaos',
        'bill-run-workflow-chaos',
      ]),
    );
  });
});
