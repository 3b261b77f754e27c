// What a chaos run checks once every order has settled: nothing lost, nothing done twice (orders,
// charges and invoices, sales-order files, dispatch rows, inbound files, enrolment, workflows), and
// the report that says so.
import type { Client } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { chargesForOrder } from '../domain/billing';
import { isTerminal, type OrderState } from '../domain/order-state';
import { warehouseFolders } from '../infra/config';
import type { Db } from '../infra/db';
import { readDispatchRows } from '../infra/store/dispatch-rows';
import { orderWorkflowId } from '../workflows/messages';
import type { KillRecord, KillTarget } from './crashes';
import { EXPECTED_REFUSALS, type ApiDriver, type DrivenOrder } from './orders';

export interface ChaosReport {
  seed: number;
  ordersRequested: number;
  ordersCreated: number;
  kills: KillRecord[];
  killCounts: Record<KillTarget, number>;
  unplannedExits: Record<string, number>;
  statuses: Record<string, number>;
  stuck: string[];
  apiRetries: number;
  refusals: Record<string, number>;
  charges: {
    recorded: number;
    expected: number;
    duplicateKeys: number;
    missing: string[];
    unexpected: string[];
    quantityMismatches: string[];
    invoiceMismatches: string[];
  };
  salesOrders: {
    docs: number;
    files: number;
    subOrders: number;
    missingFiles: string[];
    filesWithoutDoc: string[];
    subOrdersWithoutDoc: string[];
    docsPerSubOrderAboveOne: string[];
  };
  dispatch: { rows: number; appliedOnce: number; appliedTwice: string[]; notApplied: string[]; unitsWithoutRow: string[]; overShipped: string[] };
  inbound: { archived: number; quarantined: number; withoutReport: string[]; leftInInboxOrProcessing: string[]; batches: number; batchesNotDone: string[] };
  enrolment: { instructions: number; duplicates: string[]; mismatched: string[] };
  workflows: { running: number; failed: number };
  durations: { startupMs: number; loadMs: number; drainMs: number; totalMs: number };
  /** Every invariant that failed, in words; empty when the run is clean. */
  violations: string[];
}

/** Workflows started by Schedules (bill run, enrolment jobs) come and go; the others must all finish. */
const SCHEDULED = new Set(['billRunWorkflow', 'enrolmentRequestJob', 'enrolmentResponseJob']);
async function runningBusinessWorkflows(temporal: Client, taskQueue: string): Promise<number> {
  let n = 0;
  for await (const w of temporal.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) if (!SCHEDULED.has(w.type)) n++;
  return n;
}

/** What Temporal says of a stuck order's workflow: its status and history length, or why it cannot say. */
async function workflowState(temporal: Client, orderId: string): Promise<string> {
  try {
    const d = await temporal.workflow.getHandle(orderWorkflowId(orderId)).describe();
    return `${d.status.name}, ${d.historyLength} events, closed ${d.closeTime?.toISOString() ?? 'no'}`;
  } catch (err) {
    return `not described: ${(err as Error).name}: ${(err as Error).message}`;
  }
}

/** No workflow running, no file waiting, every dispatch batch done. */
export async function quiescent(db: Db, temporal: Client, dataDir: string, taskQueue: string): Promise<boolean> {
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const f = warehouseFolders(dataDir, wh);
    for (const dir of [f.inbox, f.processing, f.outbox]) if (fs.existsSync(dir) && fs.readdirSync(dir).some((n) => !n.startsWith('.'))) return false;
  }
  if (await db.models.DispatchBatch.exists({ status: { $ne: 'done' } })) return false;
  return (await runningBusinessWorkflows(temporal, taskQueue)) === 0;
}

interface CheckInput {
  db: Db;
  temporal: Client;
  dataDir: string;
  taskQueue: string;
  orders: DrivenOrder[];
  kills: KillRecord[];
  counts: Record<KillTarget, number>;
  /** Exits nobody planned, by process. */
  unplannedExits: Record<string, number>;
  api: ApiDriver;
  seed: number;
}

export async function check({ db, temporal, dataDir, taskQueue, orders, kills, counts, unplannedExits, api, seed }: CheckInput): Promise<ChaosReport> {
  const m = db.models;
  const v: string[] = [];
  const views = new Map((await m.OrderView.find({}, { orderId: 1, status: 1, state: 1 }).lean()).map((d) => [d.orderId, d.state as OrderState]));
  const created = orders.filter((o) => o.orderId);

  // Orders: all terminal.
  const statuses: Record<string, number> = {};
  const stuck: string[] = [];
  for (const o of created) {
    const s = views.get(o.orderId!)?.status ?? 'missing';
    statuses[s] = (statuses[s] ?? 0) + 1;
    if (!isTerminal(s as OrderState['status'])) {
      const st = views.get(o.orderId!);
      const detail = st
        ? `; sub-orders ${st.subOrders.map((so) => `${so.warehouseId}:${so.status}`).join(',') || 'none'}${st.fraud?.awaitingReview ? '; awaiting fraud review' : ''}${st.cancellationRequested ? '; cancellation requested' : ''}`
        : '';
      stuck.push(`${o.orderId} (${s}${detail}; refusals ${o.refusals.join(',') || 'none'}; workflow ${await workflowState(temporal, o.orderId!)})`);
    }
  }
  if (created.length !== orders.length) v.push(`${orders.length - created.length} orders were never created`);
  if (stuck.length) v.push(`${stuck.length} orders are not terminal: ${stuck.slice(0, 10).join(', ')}`);

  // Charges: exactly the ones the shipped units call for, each once.
  const charges = await m.Charge.find({}).lean();
  const byKey = new Map<string, (typeof charges)[number][]>();
  for (const c of charges) byKey.set(c.chargeKey, [...(byKey.get(c.chargeKey) ?? []), c]);
  const duplicateKeys = [...byKey.values()].filter((l) => l.length > 1).length;
  const expected = new Map<string, { orderId: string; quantity: number }>();
  for (const [orderId, state] of views)
    if (isTerminal(state.status)) for (const c of chargesForOrder(state)) expected.set(c.chargeKey, { orderId, quantity: c.quantity });
  const missing = [...expected.keys()].filter((k) => !byKey.has(k));
  const unexpected = [...byKey.keys()].filter((k) => !expected.has(k));
  const quantityMismatches = [...expected].filter(([k, e]) => byKey.has(k) && byKey.get(k)![0].quantity !== e.quantity).map(([k]) => k);
  const invoiceMismatches: string[] = [];
  const invoices = await m.Invoice.find({}).lean();
  const invoiceByKey = new Map(invoices.map((i) => [i.idempotencyKey, i]));
  for (const [orderId, state] of views) {
    if (state.status !== 'Complete' || state.billingMode !== 'immediate') continue;
    const keys = charges
      .filter((c) => c.orderId === orderId)
      .map((c) => c.chargeKey)
      .sort();
    if (!keys.length) continue;
    const inv = invoiceByKey.get(`order:${orderId}`);
    if (!inv || inv.invoiceNumber !== state.invoiceNumber || [...inv.chargeKeys].sort().join() !== keys.join()) invoiceMismatches.push(orderId);
  }
  if (duplicateKeys) v.push(`${duplicateKeys} charge keys recorded more than once`);
  if (missing.length) v.push(`${missing.length} shipped lines not charged: ${missing.slice(0, 5).join(', ')}`);
  if (unexpected.length) v.push(`${unexpected.length} charges without a shipped line: ${unexpected.slice(0, 5).join(', ')}`);
  if (quantityMismatches.length) v.push(`${quantityMismatches.length} charges with the wrong quantity`);
  if (invoiceMismatches.length)
    v.push(`${invoiceMismatches.length} immediate orders without exactly their invoice: ${invoiceMismatches.slice(0, 5).join(', ')}`);

  // Sales orders: one document and one file per sub-order and purpose.
  const docs = await m.SalesOrder.find({}, { fileId: 1, subOrderNumber: 1, purpose: 1, warehouseId: 1 }).lean();
  const files = new Set<string>();
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const root = warehouseFolders(dataDir, wh).root;
    for (const dir of ['outbox', 'received']) {
      const d = path.join(root, dir);
      if (fs.existsSync(d)) for (const n of fs.readdirSync(d)) if (n.endsWith('.json') && !n.startsWith('.')) files.add(`${wh}/${n}`);
    }
  }
  const docFiles = new Set(docs.map((d) => `${d.warehouseId}/${d.fileId}.json`));
  const missingFiles = [...docFiles].filter((f) => !files.has(f));
  const filesWithoutDoc = [...files].filter((f) => !docFiles.has(f));
  const perSub = new Map<string, number>();
  for (const d of docs) perSub.set(`${d.subOrderNumber}:${d.purpose}`, (perSub.get(`${d.subOrderNumber}:${d.purpose}`) ?? 0) + 1);
  const docsPerSubOrderAboveOne = [...perSub].filter(([, n]) => n > 1).map(([k]) => k);
  const sentSubOrders = [...views.values()].flatMap((s) => s.subOrders.filter((so) => so.status !== 'Pending').map((so) => so.subOrderNumber));
  const subOrdersWithoutDoc = sentSubOrders.filter((s) => !perSub.has(`${s}:new`));
  if (missingFiles.length) v.push(`${missingFiles.length} sales orders recorded but no file: ${missingFiles.slice(0, 5).join(', ')}`);
  if (filesWithoutDoc.length) v.push(`${filesWithoutDoc.length} sales order files without a record: ${filesWithoutDoc.slice(0, 5).join(', ')}`);
  if (docsPerSubOrderAboveOne.length) v.push(`${docsPerSubOrderAboveOne.length} sub-orders sent more than once`);
  if (subOrdersWithoutDoc.length) v.push(`${subOrdersWithoutDoc.length} sent sub-orders without a sales order record`);

  // Dispatch rows: each applied to its order exactly once (or recorded as an exception).
  const rows: { batchId: string; rowNumber: number; orderId: string }[] = [];
  for (const b of await m.DispatchBatch.find({}, { batchId: 1, rowChunks: 1 }).lean()) {
    for (const r of await readDispatchRows(m, b.batchId, b.rowChunks)) rows.push({ batchId: b.batchId, rowNumber: r.rowNumber, orderId: r.orderId });
  }
  const exceptions = new Set((await m.AdaptorException.find({}, { batchId: 1, rowNumber: 1 }).lean()).map((e) => `${e.batchId}:${e.rowNumber}`));
  const rowKeys = new Set(rows.map((r) => `${r.batchId}:${r.rowNumber}`));
  const appliedTwice: string[] = [];
  const notApplied: string[] = [];
  const unitsWithoutRow: string[] = [];
  const overShipped: string[] = [];
  const appliedKeys = new Map<string, number>();
  for (const [orderId, state] of views) {
    for (const so of state.subOrders) {
      for (const u of [...so.units, ...so.lineExceptions]) {
        appliedKeys.set(u.rowKey, (appliedKeys.get(u.rowKey) ?? 0) + 1);
        if (!rowKeys.has(u.rowKey)) unitsWithoutRow.push(`${orderId}:${u.rowKey}`);
      }
      for (const l of so.lines) {
        const shipped = so.units.filter((u) => u.lineNumber === l.lineNumber).reduce((n, u) => n + u.quantity, 0);
        if (shipped > l.quantity) overShipped.push(`${so.subOrderNumber}:${l.lineNumber}`);
      }
    }
  }
  for (const [k, n] of appliedKeys) if (n > 1) appliedTwice.push(k);
  for (const r of rows) {
    const k = `${r.batchId}:${r.rowNumber}`;
    if (!appliedKeys.has(k) && !exceptions.has(k)) notApplied.push(`${r.orderId}:${k}`);
  }
  if (appliedTwice.length) v.push(`${appliedTwice.length} dispatch rows applied twice`);
  if (notApplied.length) v.push(`${notApplied.length} dispatch rows neither applied nor recorded as exceptions: ${notApplied.slice(0, 5).join(', ')}`);
  if (unitsWithoutRow.length) v.push(`${unitsWithoutRow.length} applied units with no dispatch row behind them`);
  if (overShipped.length) v.push(`${overShipped.length} lines with more units than ordered`);

  // Inbound files: archived or quarantined, each with its report; nothing left behind.
  let archived = 0;
  let quarantined = 0;
  const withoutReport: string[] = [];
  const left: string[] = [];
  const archivedNames: string[] = [];
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const f = warehouseFolders(dataDir, wh);
    for (const [dir, kind] of [
      [f.archive, 'archive'],
      [f.quarantine, 'quarantine'],
    ] as const) {
      if (!fs.existsSync(dir)) continue;
      const names = fs.readdirSync(dir);
      for (const n of names.filter((x) => x.endsWith('.csv'))) {
        if (kind === 'archive') {
          archived++;
          archivedNames.push(n);
        } else quarantined++;
        if (!names.includes(`${n}.report.json`)) withoutReport.push(`${wh}/${kind}/${n}`);
      }
    }
    for (const dir of [f.inbox, f.processing])
      if (fs.existsSync(dir))
        left.push(
          ...fs
            .readdirSync(dir)
            .filter((n) => !n.startsWith('.'))
            .map((n) => `${wh}/${path.basename(dir)}/${n}`),
        );
  }
  const batches = await m.DispatchBatch.find({}, { batchId: 1, status: 1, sourceFile: 1 }).lean();
  const batchesNotDone = batches.filter((b) => b.status !== 'done').map((b) => b.batchId);
  if (withoutReport.length) v.push(`${withoutReport.length} inbound files without a report`);
  if (left.length) v.push(`${left.length} inbound files left unprocessed: ${left.slice(0, 5).join(', ')}`);
  if (batchesNotDone.length) v.push(`${batchesNotDone.length} dispatch batches not done`);
  if (quarantined) v.push(`${quarantined} simulator files were quarantined (the simulator writes valid files)`);

  // Enrolment: one instruction per device per request (when the feature is there).
  const instructions = await m.EnrolmentInstruction.find({}, { requestId: 1, deviceId: 1, action: 1 }).lean();
  const seen = new Map<string, number>();
  for (const i of instructions) seen.set(`${i.requestId}|${i.action}|${i.deviceId}`, (seen.get(`${i.requestId}|${i.action}|${i.deviceId}`) ?? 0) + 1);
  const enrolDup = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  if (enrolDup.length) v.push(`${enrolDup.length} devices with more than one enrolment instruction per request`);
  const enrolMissing: string[] = [];
  const perOrder = new Map<string, number>();
  for (const i of await m.EnrolmentInstruction.find({ action: 'enrol' }, { orderId: 1, manufacturer: 1 }).lean())
    perOrder.set(`${i.orderId}:${i.manufacturer}`, (perOrder.get(`${i.orderId}:${i.manufacturer}`) ?? 0) + 1);
  for (const [orderId, state] of views) {
    if (state.status !== 'Complete') continue;
    // Devices shipped per programme (several lines may ask for the same one).
    const devices = new Map<string, number>();
    for (const l of state.lines) {
      const programme = (l as { enrolment?: string }).enrolment;
      if (!programme) continue;
      const shipped = state.subOrders.flatMap((so) => so.units.filter((u) => u.lineNumber === l.lineNumber)).length;
      devices.set(programme, (devices.get(programme) ?? 0) + shipped);
    }
    for (const [programme, n] of devices) {
      const got = perOrder.get(`${orderId}:${programme}`) ?? 0;
      if (got !== n) enrolMissing.push(`${orderId}:${programme} ${got}/${n}`);
    }
  }
  if (enrolMissing.length) v.push(`${enrolMissing.length} order programmes without one instruction per shipped device: ${enrolMissing.slice(0, 5).join(', ')}`);

  // Temporal: nothing running, nothing failed.
  let failed = 0;
  const running = await runningBusinessWorkflows(temporal, taskQueue);
  for await (const _ of temporal.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus!="Running" AND ExecutionStatus!="Completed"` })) failed++;
  if (running) v.push(`${running} workflows still running`);
  if (failed) v.push(`${failed} workflows failed, timed out or were terminated`);

  const refusals: Record<string, number> = {};
  for (const o of orders) for (const x of o.refusals) refusals[x] = (refusals[x] ?? 0) + 1;
  const unexpectedRefusals = Object.entries(refusals).filter(([k]) => !EXPECTED_REFUSALS.has(k));
  if (unexpectedRefusals.length) v.push(`the API refused calls a retry should have repeated: ${unexpectedRefusals.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const killCounts = Object.fromEntries((Object.keys(counts) as KillTarget[]).map((t) => [t, kills.filter((k) => k.target === t).length])) as Record<
    KillTarget,
    number
  >;
  for (const t of Object.keys(counts) as KillTarget[]) if (killCounts[t] !== counts[t]) v.push(`planned ${counts[t]} kills of ${t}, did ${killCounts[t]}`);

  return {
    seed,
    ordersRequested: orders.length,
    ordersCreated: created.length,
    kills,
    killCounts,
    unplannedExits,
    statuses,
    stuck,
    apiRetries: api.retries,
    refusals,
    charges: { recorded: charges.length, expected: expected.size, duplicateKeys, missing, unexpected, quantityMismatches, invoiceMismatches },
    salesOrders: {
      docs: docs.length,
      files: files.size,
      subOrders: sentSubOrders.length,
      missingFiles,
      filesWithoutDoc,
      subOrdersWithoutDoc,
      docsPerSubOrderAboveOne,
    },
    dispatch: {
      rows: rows.length,
      appliedOnce: [...appliedKeys.values()].filter((n) => n === 1).length,
      appliedTwice,
      notApplied,
      unitsWithoutRow,
      overShipped,
    },
    inbound: { archived, quarantined, withoutReport, leftInInboxOrProcessing: left, batches: batches.length, batchesNotDone },
    enrolment: { instructions: instructions.length, duplicates: enrolDup, mismatched: enrolMissing },
    workflows: { running, failed },
    durations: { startupMs: 0, loadMs: 0, drainMs: 0, totalMs: 0 },
    violations: v,
  };
}

/** The closing note's numbers, one screen. */
export function formatReport(r: ChaosReport): string {
  const kv = (o: Record<string, number>) =>
    Object.entries(o)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none';
  return [
    `chaos run, seed ${r.seed}: ${r.ordersCreated}/${r.ordersRequested} orders created`,
    `kills: ${kv(r.killCounts)}; unplanned exits: ${kv(r.unplannedExits)}`,
    `terminal: ${kv(r.statuses)}; stuck: ${r.stuck.length}`,
    `API calls retried through outages: ${r.apiRetries}; refusals: ${kv(r.refusals)}`,
    `charges: ${r.charges.recorded} recorded, ${r.charges.expected} expected from shipped units; duplicates ${r.charges.duplicateKeys}, missing ${r.charges.missing.length}, unexpected ${r.charges.unexpected.length}, invoice mismatches ${r.charges.invoiceMismatches.length}`,
    `sales orders: ${r.salesOrders.docs} records, ${r.salesOrders.files} files, ${r.salesOrders.subOrders} sent sub-orders; sent twice ${r.salesOrders.docsPerSubOrderAboveOne.length}, missing files ${r.salesOrders.missingFiles.length}, stray files ${r.salesOrders.filesWithoutDoc.length}`,
    `dispatch rows: ${r.dispatch.rows} stored, ${r.dispatch.appliedOnce} applied once, applied twice ${r.dispatch.appliedTwice.length}, not applied ${r.dispatch.notApplied.length}, over-shipped ${r.dispatch.overShipped.length}`,
    `inbound files: ${r.inbound.archived} archived, ${r.inbound.quarantined} quarantined, without report ${r.inbound.withoutReport.length}, left behind ${r.inbound.leftInInboxOrProcessing.length}; batches ${r.inbound.batches}, not done ${r.inbound.batchesNotDone.length}`,
    `enrolment instructions: ${r.enrolment.instructions}, duplicates ${r.enrolment.duplicates.length}, not one per shipped device ${r.enrolment.mismatched.length}`,
    `workflows still running ${r.workflows.running}, failed ${r.workflows.failed}`,
    `durations: startup ${(r.durations.startupMs / 1000).toFixed(1)} s, load ${(r.durations.loadMs / 1000).toFixed(1)} s, drain ${(r.durations.drainMs / 1000).toFixed(1)} s, total ${(r.durations.totalMs / 1000).toFixed(1)} s`,
    r.violations.length ? `VIOLATIONS:\n  - ${r.violations.join('\n  - ')}` : 'no violations',
  ].join('\n');
}
