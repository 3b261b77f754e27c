// Devices and money agree (issue 17), against the real Temporal dev server and FerretDB, the
// warehouse simulator and the manufacturer simulator over HTTP: the devices an order in Error
// shipped are enrolled like a Complete order's; a later enrolment works on an Error order and
// never asks twice for a device; the software licences of an order cancelled, or closed in Error
// with nothing shipped, are revoked and never charged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { enrolmentWorkflowId } from '../../domain/enrolment';
import { freePort } from '../../infra/dev-stack';
import { ManufacturerSimulator } from '../../simulators/manufacturer';
import { orderWorkflowId } from '../../workflows/messages';
import { runEnrolmentRequestJob, runEnrolmentResponseJob } from '../support/enrolment-jobs';
import { addLine, createOrder, generate, notes, outboxFiles, waitForOrder, waitForStatus } from '../support/orders';
import { replayAndRecord } from '../support/replay';
import { eventually, startSystem, type TestSystem } from '../support/system';

const APPLE_HANDSET = 'HS-APL-IP16-128';
const SAMSUNG_HANDSET = 'HS-SAM-S25-256';
const CASE = 'PR-GEN-CASE-IP16';
const LICENCE = 'SW-MDM-1Y';

let sys: TestSystem;
let maker: ManufacturerSimulator;

beforeAll(async () => {
  const port = await freePort();
  maker = new ManufacturerSimulator({ seed: 17, invalidIdRate: 0, otherCustomerRate: 0, processingPolls: 0 });
  await maker.listen(port);
  sys = await startSystem({ env: { MANUFACTURER_API_URL: `http://127.0.0.1:${port}`, FRAUD_POLICY_ENABLED: 'false', ERROR_RESOLUTION_WINDOW: '1h' } });
  for (const w of ['WH-NORTH', 'WH-SOUTH']) {
    for (const sku of [APPLE_HANDSET, SAMSUNG_HANDSET, CASE]) sys.simulator.setStock(w, sku, w === 'WH-NORTH' ? 50 : 0);
  }
});
afterAll(async () => {
  await sys?.stop();
  await maker?.stop();
});

async function enrolment(orderId: string): Promise<any> {
  const r = await sys.call('GET', `/api/v1/orders/${orderId}/enrolment`);
  expect(r.status).toBe(200);
  return r.body;
}
const deviceStatuses = async (orderId: string) => Object.fromEntries((await enrolment(orderId)).devices.map((d: any) => [d.deviceId, d.last.status]));

/** Sends the manufacturers what is queued and brings their answers back. */
async function manufacturersAnswer(): Promise<void> {
  await runEnrolmentRequestJob(sys);
  await runEnrolmentResponseJob(sys);
}

/**
 * An order for `lines` that the warehouse answers with every line shipped but the case, out of
 * stock meanwhile: Error OUT_OF_STOCK, open for ops, with the other lines' devices shipped.
 */
async function errorAfterPartialShipment(lines: { sku: string; quantity: number; enrolment?: string }[], customerIds?: Record<string, string>) {
  const { orderId } = await createOrder(sys, 'ACC-1002');
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
  await addLine(sys, orderId, CASE, 1);
  if (customerIds) expect((await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds } })).status).toBe(200);
  await generate(sys, orderId);
  await waitForStatus(sys, orderId, 'AwaitingDispatch');
  sys.simulator.setStock('WH-NORTH', CASE, 0); // sold meanwhile
  await sys.simulator.respond();
  const order = await waitForOrder(sys, orderId, (o) => o.status === 'Error' && !!o.errorResolution, 'Error, open for ops');
  sys.simulator.setStock('WH-NORTH', CASE, 50);
  expect(order.error.code).toBe('OUT_OF_STOCK');
  const devices: string[] = order.subOrders.flatMap((s: any) => s.units.filter((u: any) => u.imei).map((u: any) => u.imei));
  return { orderId, order, devices };
}

describe('devices of an order that ends in Error', () => {
  it('are enrolled when their line asked for it, like a Complete order’s; asking again later enrols nothing twice', async () => {
    const { orderId, order, devices } = await errorAfterPartialShipment([{ sku: APPLE_HANDSET, quantity: 2, enrolment: 'apple' }], { apple: 'ORG-APPLE-17' });
    expect(devices).toHaveLength(2);
    // Billed for what shipped, as before.
    expect(order.charges.map((c: any) => [c.lineNumber, c.quantity])).toEqual([[1, 2]]);

    // The order's own enrolment child, started at Error; the order itself stays open for ops.
    const child = sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'apple'));
    expect((await child.describe()).parentExecution?.workflowId).toBe(orderWorkflowId(orderId));
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 2, 'instructions queued by the child');
    await manufacturersAnswer();
    expect((await child.result()).counts).toMatchObject({ enrolled: 2, failed: 0 });
    expect(await deviceStatuses(orderId)).toEqual(Object.fromEntries(devices.map((d) => [d, 'enrolled'])));
    const serials: string[] = order.subOrders.flatMap((s: any) => s.units.filter((u: any) => u.serialNumber).map((u: any) => u.serialNumber));
    for (const s of serials) expect(maker.holder('apple', s)).toBe('ORG-APPLE-17');

    // A later request for the same devices: already asked for, refused, nothing started.
    const again = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
      body: { customerIds: { apple: 'ORG-APPLE-17' }, lines: [{ lineNumber: 1, programme: 'apple' }] },
    });
    expect([again.status, again.body.error.code, again.body.error.details]).toEqual([409, 'INVALID_TRANSITION', { alreadyRequested: ['apple'] }]);
    expect(maker.transactionsFor('apple').filter((t) => t.deviceIds.some((d) => serials.includes(d)))).toHaveLength(1);
    expect((await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name).toBe('RUNNING');
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-error-with-enrolment');
  });

  it('later enrolment on an Error order: the devices that shipped, once', async () => {
    const { orderId, devices } = await errorAfterPartialShipment([{ sku: SAMSUNG_HANDSET, quantity: 2 }]);
    expect(devices).toHaveLength(2);
    const body = { customerIds: { samsung: 'KNOX-17' }, lines: [{ lineNumber: 1, programme: 'samsung' }] };
    const started = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body });
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(started.body).toMatchObject({
      when: 'later',
      started: [{ manufacturer: 'samsung', workflowId: enrolmentWorkflowId(orderId, 'samsung'), devices: 2 }],
    });
    // Asking twice: refused, not repeated (whether the first request's instructions are queued yet or not).
    const again = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body });
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_TRANSITION']);
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 2, 'instructions queued');
    await manufacturersAnswer();
    const result = await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'samsung')).result();
    expect(result.counts.enrolled).toBe(2);
    for (const d of devices) expect(maker.holder('samsung', d)).toBe('KNOX-17');
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body })).status).toBe(409);
    expect(await sys.db.models.EnrolmentInstruction.countDocuments({ orderId })).toBe(2);
  });
});

describe('devices a resubmission ships', () => {
  it("are enrolled when the order settles again, under the round's own id; the first shipment's are not asked for twice", async () => {
    const PRO = 'HS-APL-IP16P-256';
    sys.simulator.setStock('WH-NORTH', PRO, 50);
    const { orderId } = await createOrder(sys, 'ACC-1002');
    for (const l of [
      { sku: APPLE_HANDSET, quantity: 1, enrolment: 'apple' },
      { sku: PRO, quantity: 1, enrolment: 'apple' },
    ])
      expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds: { apple: 'ORG-APPLE-R' } } })).status).toBe(200);
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    sys.simulator.setStock('WH-NORTH', PRO, 0);
    await sys.simulator.respond();
    await waitForOrder(sys, orderId, (o) => o.status === 'Error' && !!o.errorResolution, 'Error, open for ops');
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 1, 'the first shipment queued');

    sys.simulator.setStock('WH-NORTH', PRO, 50);
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/resubmit`, { role: 'ops', body: { reason: 'back in stock' } })).status).toBe(200);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    await sys.simulator.respond();
    const done = await waitForStatus(sys, orderId, 'Complete');
    const devices: string[] = done.subOrders.flatMap((s: any) => s.units.filter((u: any) => u.imei).map((u: any) => u.imei));
    expect(devices).toHaveLength(2);
    const round = sys.temporal.workflow.getHandle(`${enrolmentWorkflowId(orderId, 'apple')}-R1`);
    // Started in the workflow task that settled the order: the read model may show Complete a moment before.
    const described = await eventually(() => round.describe().catch(() => undefined), "the round's enrolment started");
    expect(described.parentExecution?.workflowId).toBe(orderWorkflowId(orderId));
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 2, 'the resubmission queued');
    await manufacturersAnswer();
    expect((await round.result()).counts).toMatchObject({ enrolled: 1 });
    expect((await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'apple')).result()).counts).toMatchObject({ enrolled: 1 });
    expect(await deviceStatuses(orderId)).toEqual(Object.fromEntries(devices.map((d) => [d, 'enrolled'])));
    // One instruction per device: nothing asked for twice.
    expect(await sys.db.models.EnrolmentInstruction.countDocuments({ orderId })).toBe(2);
  });
});

describe('licences of an order that ends without delivering', () => {
  it('a cancelled order: its licences are revoked and never charged', async () => {
    const { orderId } = await createOrder(sys, 'ACC-1001');
    await addLine(sys, orderId, CASE, 1);
    await addLine(sys, orderId, LICENCE, 2);
    await generate(sys, orderId);
    const sent = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    // Issued at generation.
    expect(sent.licences).toEqual([{ lineNumber: 2, keys: [expect.stringMatching(/^SW-MDM-1Y-/), expect.stringMatching(/^SW-MDM-1Y-/)] }]);
    const keys: string[] = sent.licences[0].keys;
    await sys.simulator.cycle(); // the warehouse has taken the order in, and not shipped it yet
    expect((await sys.call('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: 'customer changed their mind' } })).status).toBe(202);
    await eventually(async () => outboxFiles(sys, 'WH-NORTH').includes(`${orderId}-WH-NORTH-cancel.json`), 'the cancel sales order');
    await sys.simulator.respond();
    const done = await waitForOrder(sys, orderId, (o) => o.status === 'Cancelled' && !!o.licences[0]?.revokedAt, 'Cancelled, licences revoked');
    expect(done.charges).toEqual([]);
    expect(done.invoiceNumber).toBeNull();
    expect(notes(done)).toContain('2 software licence key(s) revoked, not charged: order cancelled');
    const outcome = await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(outcome).toMatchObject({ status: 'Cancelled', invoiceNumber: null });
    expect(await sys.db.models.Charge.countDocuments({ orderId })).toBe(0);
    const stored = await sys.db.models.Licence.find({ orderId }).sort({ unit: 1 }).lean();
    expect(stored.map((l: any) => [l._id, l.revokedAt, l.revokedReason])).toEqual(keys.map((k) => [k, done.licences[0].revokedAt, 'order cancelled']));
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-cancelled-licences-revoked');
  });

  it('an order rejected by the warehouse with nothing shipped: licences held (not charged) while open for ops, revoked when closed', async () => {
    const { orderId } = await createOrder(sys, 'ACC-1001');
    await addLine(sys, orderId, CASE, 1);
    await addLine(sys, orderId, LICENCE, 1);
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    sys.simulator.setStock('WH-NORTH', CASE, 0);
    await sys.simulator.respond();
    const open = await waitForOrder(sys, orderId, (o) => o.status === 'Error' && !!o.errorResolution, 'Error, open for ops');
    sys.simulator.setStock('WH-NORTH', CASE, 50);
    // Open for ops to resubmit: not charged, not revoked yet.
    expect(open.charges).toEqual([]);
    expect(open.licences).toEqual([{ lineNumber: 2, keys: [expect.any(String)] }]);

    const closed = await sys.call('POST', `/api/v1/orders/${orderId}/close`, { role: 'ops', body: { reason: 'customer no longer wants it' } });
    expect(closed.status, JSON.stringify(closed.body)).toBe(200);
    const done = await waitForOrder(sys, orderId, (o) => !!o.licences[0]?.revokedAt, 'licences revoked');
    expect(done).toMatchObject({ status: 'Error', charges: [], invoiceNumber: null });
    expect(notes(done)).toContain('1 software licence key(s) revoked, not charged: order closed in Error with nothing shipped');
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(await sys.db.models.Charge.countDocuments({ orderId })).toBe(0);
    const stored = await sys.db.models.Licence.findOne({ _id: open.licences[0].keys[0] }).lean();
    expect(stored).toMatchObject({ orderId, revokedAt: done.licences[0].revokedAt });
  });

  it('revocation is idempotent under retries: a repeated step finds the first revocation and changes nothing', async () => {
    const acts = createActivities(sys.worker.deps);
    const orderId = 'ORD-RETRYREVOK';
    const [line] = await acts.provisionLicences({ orderId, lines: [{ lineNumber: 1, sku: LICENCE, quantity: 2 }] });
    const first = await acts.revokeLicences({ orderId, keys: line.keys, reason: 'order cancelled' });
    const stored = await sys.db.models.Licence.find({ orderId }).sort({ unit: 1 }).lean();
    expect(stored.map((l: any) => [l._id, l.revokedAt])).toEqual(line.keys.map((k) => [k, first.revokedAt]));
    await new Promise((r) => setTimeout(r, 5));
    // The retry (after a crash that lost the answer) answers the same time; nothing is written again.
    const again = await acts.revokeLicences({ orderId, keys: line.keys, reason: 'a later reason' });
    expect(again).toEqual(first);
    expect(await sys.db.models.Licence.find({ orderId }).sort({ unit: 1 }).lean()).toEqual(stored);
    // A key of another order is refused, not revoked.
    await expect(acts.revokeLicences({ orderId: 'ORD-OTHERORDER', keys: [line.keys[0]], reason: 'x' })).rejects.toMatchObject({ type: 'LICENCE_NOT_FOUND' });
  });

  it('an order that delivers keeps its licences and is charged for them once', async () => {
    const { orderId } = await createOrder(sys, 'ACC-1001');
    await addLine(sys, orderId, CASE, 1);
    await addLine(sys, orderId, LICENCE, 2);
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    await sys.simulator.respond();
    const done = await waitForStatus(sys, orderId, 'Complete');
    expect(done.charges.map((c: any) => [c.chargeKey.slice(orderId.length), c.quantity])).toEqual(expect.arrayContaining([[':2:licence', 2]]));
    expect(done.licences[0].revokedAt).toBeUndefined();
    expect(await sys.db.models.Licence.countDocuments({ orderId, revokedAt: null })).toBe(2);
  });
});
