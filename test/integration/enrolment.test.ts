// Device enrolment end to end, against the real Temporal dev server and FerretDB and the
// manufacturer simulator over HTTP: at order time (child workflow per manufacturer, left running
// when the order closes), later for a Complete order, mixed per-device outcomes, "still
// processing", batches split at a manufacturer's limit, a lost answer after the manufacturer took
// the transaction (no duplicate), unenrolment and its refusals, and the jobs' schedules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolmentWorkflowId } from '../../domain/enrolment';
import { freePort } from '../../infra/dev-stack';
import { enrolmentRequestScheduleId, enrolmentResponseScheduleId, ensureSchedules, scheduleDefinitions } from '../../infra/schedules';
import { ManufacturerSimulator } from '../../simulators/manufacturer';
import { orderWorkflowId } from '../../workflows/messages';
import { lastEnrolmentJobId, of, runEnrolmentRequestJob, runEnrolmentResponseJob } from '../support/enrolment-jobs';
import { replayAndRecord } from '../support/replay';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
let maker: ManufacturerSimulator;
const orders: Record<string, { orderId: string; devices: { imei: string; serialNumber: string }[] }> = {};

async function createOrder(lines: { sku: string; quantity: number; enrolment?: string }[]): Promise<string> {
  const created = await sys.call('POST', '/api/v1/accounts/ACC-1002/orders', { body: {} });
  expect(created.status).toBe(201);
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${created.body.orderId}/lines`, { body: l })).status).toBe(200);
  return created.body.orderId;
}

async function status(orderId: string): Promise<any> {
  return (await sys.call('GET', `/api/v1/orders/${orderId}`)).body;
}

/** Generates the orders, lets the warehouse ship them, waits for Complete; returns each order's devices. */
async function ship(orderIds: string[]) {
  for (const id of orderIds) expect((await sys.call('POST', `/api/v1/orders/${id}/generate`)).status).toBe(200);
  for (const id of orderIds) await eventually(async () => (await status(id)).status === 'AwaitingDispatch', `${id} Awaiting Dispatch`);
  await sys.simulator.respond();
  const out: Record<string, { imei: string; serialNumber: string }[]> = {};
  for (const id of orderIds) {
    const o = await eventually(async () => {
      const s = await status(id);
      return s.status === 'Complete' && s;
    }, `${id} Complete`);
    out[id] = o.subOrders.flatMap((s: any) => s.units.filter((u: any) => u.imei).map((u: any) => ({ imei: u.imei, serialNumber: u.serialNumber })));
  }
  return out;
}

const requestJob = () => runEnrolmentRequestJob(sys);
const responseJob = () => runEnrolmentResponseJob(sys);

async function enrolment(orderId: string): Promise<any> {
  const r = await sys.call('GET', `/api/v1/orders/${orderId}/enrolment`);
  expect(r.status).toBe(200);
  return r.body;
}
const deviceStatuses = async (orderId: string) => Object.fromEntries((await enrolment(orderId)).devices.map((d: any) => [d.deviceId, d.last.status]));

beforeAll(async () => {
  const port = await freePort();
  maker = new ManufacturerSimulator({ seed: 11, invalidIdRate: 0, otherCustomerRate: 0, processingPolls: 0, limits: { apple: 2, google: 10, samsung: 10 } });
  await maker.listen(port);
  sys = await startSystem({ env: { MANUFACTURER_API_URL: `http://127.0.0.1:${port}`, ENROLMENT_BATCH_LIMIT_APPLE: '2', FRAUD_POLICY_ENABLED: 'false' } });
  // Complete orders without enrolment, for the later requests (shipped together to save time).
  const specs = {
    later: [{ sku: 'HS-SAM-S25-256', quantity: 2 }],
    mixed: [{ sku: 'HS-GGL-PX9-128', quantity: 3 }],
    slow: [{ sku: 'HS-SAM-A16-128', quantity: 1 }],
    split: [{ sku: 'HS-APL-IP16P-256', quantity: 5 }],
    lost: [{ sku: 'HS-APL-IP16-128', quantity: 1 }],
  };
  const ids: Record<string, string> = {};
  for (const [k, lines] of Object.entries(specs)) ids[k] = await createOrder(lines);
  const shipped = await ship(Object.values(ids));
  for (const [k, id] of Object.entries(ids)) orders[k] = { orderId: id, devices: shipped[id] };
});
afterAll(async () => {
  await sys?.stop();
  await maker?.stop();
});

describe('device enrolment', () => {
  it('at order time: needs the customer id to generate; a child per manufacturer outlives the Complete order and ends enrolled', async () => {
    const orderId = await createOrder([
      { sku: 'HS-APL-IP16-128', quantity: 2, enrolment: 'apple' },
      { sku: 'PR-APL-USBC-20W', quantity: 1 },
    ]);
    const refused = await sys.call('POST', `/api/v1/orders/${orderId}/generate`);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 'VALIDATION_FAILED', details: { missingCustomerIds: ['apple'] } });

    expect((await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds: { apple: 'bad id' } } })).status).toBe(400);
    const requested = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds: { apple: 'ORG-APPLE-1' } } });
    expect(requested.status).toBe(200);
    expect(requested.body).toMatchObject({ when: 'orderTime', enrolmentCustomerIds: { apple: 'ORG-APPLE-1' }, lines: [{ lineNumber: 1, programme: 'apple' }] });

    const devices = (await ship([orderId]))[orderId];
    expect(devices).toHaveLength(2);
    // The order closes with its status from dispatch; the child it started keeps running (ABANDON).
    const outcome = await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(outcome.status).toBe('Complete');
    const child = sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'apple'));
    const desc = await child.describe();
    expect(desc.status.name).toBe('RUNNING');
    expect(desc.parentExecution?.workflowId).toBe(orderWorkflowId(orderId));
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 2, 'instructions queued by the child');
    expect(await deviceStatuses(orderId)).toEqual({ [devices[0].imei]: 'queued', [devices[1].imei]: 'queued' });
    orders.orderTime = { orderId, devices };

    const sent = await requestJob();
    expect(of(sent, 'apple')).toMatchObject({ transactions: 1, sent: 1, notSent: 0 });
    expect(Object.values(await deviceStatuses(orderId))).toEqual(['batched', 'batched']);
    const polled = await responseJob();
    expect(of(polled, 'apple')).toMatchObject({ open: 1, completed: 1 });

    const result = await child.result();
    expect(result.counts).toMatchObject({ enrolled: 2, failed: 0 });
    const view = await enrolment(orderId);
    expect(view.requests).toEqual([expect.objectContaining({ manufacturer: 'apple', customerId: 'ORG-APPLE-1', when: 'orderTime' })]);
    expect(view.devices.map((d: any) => [d.enrolment, d.last.status, d.customerId])).toEqual([
      ['enrolled', 'enrolled', 'ORG-APPLE-1'],
      ['enrolled', 'enrolled', 'ORG-APPLE-1'],
    ]);
    // Apple knows the devices by serial number, for this customer; one transaction, both devices.
    for (const d of devices) expect(maker.holder('apple', d.serialNumber)).toBe('ORG-APPLE-1');
    const txId = view.devices[0].last.transactionId;
    expect(
      maker
        .transactionsFor('apple')
        .filter((t) => t.transactionId === txId)
        .map((t) => t.deviceIds.length),
    ).toEqual([2]);
    // Every request and response is in the audit log.
    const audit = await sys.db.models.EnrolmentAudit.find({ transactionId: txId }).sort({ at: 1 }).lean();
    expect(audit.map((a) => [a.operation, a.httpStatus])).toEqual([
      ['bulk-enroll-devices', 200],
      ['check-transaction-status', 200],
    ]);
    expect(audit[0].request).toMatchObject({ transactionId: txId, orders: [{ orderNumber: orderId, orderType: 'OR', customerId: 'ORG-APPLE-1' }] });
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-complete-with-enrolment');
    await replayAndRecord(sys.temporal, enrolmentWorkflowId(orderId, 'apple'), 'device-enrolment');
    await replayAndRecord(sys.temporal, lastEnrolmentJobId('enrolmentRequestJob'), 'enrolment-request-job');
    await replayAndRecord(sys.temporal, lastEnrolmentJobId('enrolmentResponseJob'), 'enrolment-response-job');
  });

  it('later, for a Complete order: validated, one child per manufacturer, enrolled; asking twice is refused', async () => {
    const { orderId, devices } = orders.later;
    const notSupported = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
      body: { customerIds: { apple: 'ORG-1' }, lines: [{ lineNumber: 1, programme: 'apple' }] },
    });
    expect([notSupported.status, notSupported.body.error.code]).toEqual([422, 'ENROLMENT_NOT_SUPPORTED']);
    const noId = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
      body: { customerIds: { google: '1234' }, lines: [{ lineNumber: 1, programme: 'samsung' }] },
    });
    expect([noId.status, noId.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    const noLines = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds: { samsung: 'KNOX-7' } } });
    expect(noLines.status).toBe(400);

    const started = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
      body: { customerIds: { samsung: 'KNOX-7' }, lines: [{ lineNumber: 1, programme: 'samsung' }] },
    });
    expect(started.status).toBe(202);
    expect(started.body.started).toEqual([{ manufacturer: 'samsung', workflowId: enrolmentWorkflowId(orderId, 'samsung'), devices: 2 }]);
    const again = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
      body: { customerIds: { samsung: 'KNOX-7' }, lines: [{ lineNumber: 1, programme: 'samsung' }] },
    });
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_TRANSITION']);

    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 2, 'instructions queued');
    expect(of(await requestJob(), 'samsung')).toMatchObject({ transactions: 1, sent: 1 });
    expect(of(await responseJob(), 'samsung')).toMatchObject({ completed: 1 });
    const result = await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'samsung')).result();
    expect(result.counts.enrolled).toBe(2);
    for (const d of devices) expect(maker.holder('samsung', d.imei)).toBe('KNOX-7');
  });

  it('mixed outcomes: an invalid id fails and one enrolled elsewhere is marked so, without failing the others; ops list and requeue', async () => {
    const { orderId, devices } = orders.mixed;
    const [bad, other, good] = devices.map((d) => d.imei);
    maker.setDeviceFault(bad, 'invalidId');
    maker.setDeviceFault(other, 'otherCustomer');
    expect(
      (
        await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
          body: { customerIds: { google: '700100' }, lines: [{ lineNumber: 1, programme: 'google' }] },
        })
      ).status,
    ).toBe(202);
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 3, 'instructions queued');
    await requestJob();
    await responseJob();
    const result = await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'google')).result();
    expect(result.counts).toMatchObject({ enrolled: 1, failed: 1, enrolledElsewhere: 1 });
    const view = await enrolment(orderId);
    const byId = Object.fromEntries(view.devices.map((d: any) => [d.deviceId, d.last]));
    expect(byId[bad]).toMatchObject({
      status: 'failed',
      result: { code: 'INVALID_DEVICE_ID', manufacturerCode: 'SINGLE_DEVICE_STATUS_INVALID_DEVICE_IDENTIFIER' },
    });
    expect(byId[other]).toMatchObject({ status: 'enrolledElsewhere', result: { code: 'ASSIGNED_TO_ANOTHER_CUSTOMER' } });
    expect(byId[good].status).toBe('enrolled');

    expect((await sys.call('GET', '/api/v1/enrolment/failed', { role: 'agent' })).status).toBe(403);
    const failed = await sys.call('GET', `/api/v1/enrolment/failed?orderId=${orderId}`, { role: 'ops' });
    expect(failed.status).toBe(200);
    expect(failed.body.items.map((i: any) => i.deviceId).sort()).toEqual([bad, other].sort());

    // The device id was corrected at the manufacturer: ops requeue it and the next runs enrol it.
    maker.setDeviceFault(bad, null);
    const badInstruction = failed.body.items.find((i: any) => i.deviceId === bad).instructionId;
    const requeued = await sys.call('POST', '/api/v1/enrolment/requeue', { role: 'ops', body: { instructionIds: [badInstruction, byId[good].instructionId] } });
    expect(requeued.body).toEqual({ requeued: [badInstruction], skipped: [{ instructionId: byId[good].instructionId, reason: 'not failed' }] });
    await requestJob();
    await responseJob();
    expect((await deviceStatuses(orderId))[bad]).toBe('enrolled');
    const instruction = await sys.db.models.EnrolmentInstruction.findOne({ instructionId: badInstruction }).lean();
    expect(instruction!.attempts).toBe(2);
  });

  it('"still processing" several times, then done', async () => {
    const { orderId, devices } = orders.slow;
    maker.setProcessingPolls(3);
    try {
      expect(
        (
          await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
            body: { customerIds: { samsung: 'KNOX-9' }, lines: [{ lineNumber: 1, programme: 'samsung' }] },
          })
        ).status,
      ).toBe(202);
      await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 1, 'instruction queued');
      await requestJob();
    } finally {
      maker.setProcessingPolls(0);
    }
    for (let i = 0; i < 3; i++) {
      expect(of(await responseJob(), 'samsung')).toMatchObject({ open: 1, stillProcessing: 1, completed: 0 });
      expect((await deviceStatuses(orderId))[devices[0].imei]).toBe('batched');
    }
    expect(of(await responseJob(), 'samsung')).toMatchObject({ open: 1, stillProcessing: 0, completed: 1 });
    expect((await deviceStatuses(orderId))[devices[0].imei]).toBe('enrolled');
    const tx = await sys.db.models.EnrolmentTransaction.findOne({ instructionIds: `${enrolmentWorkflowId(orderId, 'samsung')}:${devices[0].imei}` }).lean();
    expect(tx).toMatchObject({ status: 'done', polls: 4 });
    const answers = await sys.db.models.EnrolmentAudit.find({ transactionId: tx!.transactionId, operation: 'transaction-status' }).sort({ at: 1 }).lean();
    expect(answers.map((a) => (a.response as any).status)).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'IN_PROGRESS', 'COMPLETED']);
  });

  it("splits a batch at the manufacturer's limit", async () => {
    const { orderId, devices } = orders.split;
    expect(devices).toHaveLength(5);
    expect(
      (
        await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
          body: { customerIds: { apple: 'ORG-APPLE-2' }, lines: [{ lineNumber: 1, programme: 'apple' }] },
        })
      ).status,
    ).toBe(202);
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 5, 'instructions queued');
    expect(of(await requestJob(), 'apple')).toMatchObject({ transactions: 3, sent: 3, notSent: 0 });
    const txs = await sys.db.models.EnrolmentTransaction.find({ manufacturer: 'apple', customerId: 'ORG-APPLE-2' }).lean();
    expect(txs.map((t) => t.instructionIds.length).sort()).toEqual([1, 2, 2]);
    const atApple = maker.transactionsFor('apple').filter((t) => t.customerId === 'ORG-APPLE-2');
    expect(atApple.map((t) => t.deviceIds.length).sort()).toEqual([1, 2, 2]);
    expect(new Set(atApple.flatMap((t) => t.deviceIds))).toEqual(new Set(devices.map((d) => d.serialNumber)));
    expect(of(await responseJob(), 'apple')).toMatchObject({ open: 3, completed: 3 });
    expect(Object.values(await deviceStatuses(orderId))).toEqual(Array(5).fill('enrolled'));
  });

  it('a lost answer after the manufacturer took the transaction: the retry resends the same transaction id, no duplicate', async () => {
    const { orderId, devices } = orders.lost;
    expect(
      (
        await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, {
          body: { customerIds: { apple: 'ORG-APPLE-3' }, lines: [{ lineNumber: 1, programme: 'apple' }] },
        })
      ).status,
    ).toBe(202);
    await eventually(async () => Object.keys(await deviceStatuses(orderId)).length === 1, 'instruction queued');
    maker.loseAnswerAfterAccepting('apple');
    expect(of(await requestJob(), 'apple')).toMatchObject({ transactions: 1, sent: 1 });
    const txs = await sys.db.models.EnrolmentTransaction.find({ customerId: 'ORG-APPLE-3' }).lean();
    expect(txs).toHaveLength(1);
    expect(txs[0]).toMatchObject({ status: 'open', sendAttempts: 2 });
    const transactionId = txs[0].transactionId;
    expect(maker.submissions.filter((s) => s.transactionId === transactionId).map((s) => s.duplicate)).toEqual([false, true]);
    expect(maker.transactionsFor('apple').filter((t) => t.customerId === 'ORG-APPLE-3')).toHaveLength(1);
    const audit = await sys.db.models.EnrolmentAudit.find({ transactionId, operation: 'bulk-enroll-devices' }).sort({ at: 1 }).lean();
    expect(audit.map((a) => a.httpStatus)).toEqual([503, 200]);
    await responseJob();
    expect(await deviceStatuses(orderId)).toEqual({ [devices[0].imei]: 'enrolled' });
  });

  it('unenrols an enrolled device in its own workflow (Apple return with a new order number)', async () => {
    const { orderId, devices } = orders.orderTime;
    const device = devices[0];
    expect((await sys.call('POST', `/api/v1/devices/${device.imei}/unenrolment`, { body: {} })).status).toBe(400);
    const res = await sys.call('POST', `/api/v1/devices/${device.serialNumber}/unenrolment`, { body: { reason: 'returned' } });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ deviceId: device.imei, manufacturer: 'apple', orderId, workflowId: `unenrol-${device.imei}-1` });
    const twice = await sys.call('POST', `/api/v1/devices/${device.imei}/unenrolment`, { body: { reason: 'returned' } });
    expect([twice.status, twice.body.error.code]).toEqual([409, 'INVALID_TRANSITION']);

    await eventually(
      async () => (await enrolment(orderId)).devices.find((d: any) => d.deviceId === device.imei).last.action === 'unenrol',
      'unenrolment queued',
    );
    await requestJob();
    await responseJob();
    const result = await sys.temporal.workflow.getHandle(res.body.workflowId).result();
    await replayAndRecord(sys.temporal, res.body.workflowId, 'device-unenrolment');
    expect(result).toMatchObject({ action: 'unenrol', done: true, counts: { unenrolled: 1 } });
    const d = (await enrolment(orderId)).devices.find((x: any) => x.deviceId === device.imei);
    expect(d).toMatchObject({ enrolment: 'notEnrolled', last: { action: 'unenrol', status: 'unenrolled' } });
    expect(maker.holder('apple', device.serialNumber)).toBeUndefined();
    expect(maker.holder('apple', devices[1].serialNumber)).toBe('ORG-APPLE-1');
    const ret = maker.transactionsFor('apple').find((t) => t.action === 'unenrol' && t.deviceIds.includes(device.serialNumber))!;
    expect(ret.appleLayout![0].orderNumber).toBe(`${orderId}-R1`);
  });

  it('refuses to unenrol a device that is not enrolled', async () => {
    const unknown = await sys.call('POST', '/api/v1/devices/359999999999999/unenrolment', { body: { reason: 'lost' } });
    expect(unknown.status).toBe(409);
    expect(unknown.body.error).toMatchObject({ code: 'INVALID_TRANSITION', details: { enrolmentState: 'notEnrolled' } });
    // Refused by the manufacturer (enrolled elsewhere), and already unenrolled.
    const [, other] = orders.mixed.devices;
    expect((await sys.call('POST', `/api/v1/devices/${other.imei}/unenrolment`, { body: { reason: 'sold' } })).body.error.details).toEqual({
      enrolmentState: 'notEnrolled',
    });
    const gone = orders.orderTime.devices[0];
    expect((await sys.call('POST', `/api/v1/devices/${gone.imei}/unenrolment`, { body: { reason: 'returned' } })).status).toBe(409);
    expect(
      await sys.temporal.workflow
        .getHandle(`unenrol-${gone.imei}-2`)
        .describe()
        .catch(() => null),
    ).toBeNull();
  });

  it('the jobs run on Temporal Schedules at the configured interval, and ops can run one now', async () => {
    const ids = [enrolmentRequestScheduleId(sys.config), enrolmentResponseScheduleId(sys.config)];
    try {
      const ensured = await ensureSchedules(sys.temporal, sys.config);
      expect(ensured.filter((e) => ids.includes(e.scheduleId))).toHaveLength(2);
      const desc = await sys.temporal.schedule.getHandle(ids[0]).describe();
      expect(desc.action).toMatchObject({ type: 'startWorkflow', workflowType: 'enrolmentRequestJob', taskQueue: sys.config.temporal.taskQueue });
      expect(desc.spec.intervals).toEqual([expect.objectContaining({ every: 60_000 })]);
      expect(desc.policies.overlap).toBe('SKIP');
      expect((await sys.call('POST', '/api/v1/enrolment/jobs/request/run', { role: 'agent' })).status).toBe(403);
      const run = await sys.call('POST', '/api/v1/enrolment/jobs/request/run', { role: 'ops' });
      expect(run.body).toEqual({ job: 'request', via: 'schedule', scheduleId: ids[0] });
      const action = await eventually(async () => (await sys.temporal.schedule.getHandle(ids[0]).describe()).info.recentActions[0], 'the triggered run');
      const result = await sys.temporal.workflow.getHandle(action.action.workflow.workflowId).result();
      expect(result.manufacturers).toHaveLength(3);
    } finally {
      for (const id of ids)
        await sys.temporal.schedule
          .getHandle(id)
          .delete()
          .catch(() => undefined);
      for (const def of scheduleDefinitions(sys.config))
        await sys.temporal.schedule
          .getHandle(def.scheduleId)
          .delete()
          .catch(() => undefined);
    }
    // Without a schedule the job is started directly.
    const direct = await sys.call('POST', '/api/v1/enrolment/jobs/response/run', { role: 'ops' });
    expect(direct.body).toMatchObject({ job: 'response', via: 'workflow' });
    const r = await sys.temporal.workflow.getHandle(direct.body.workflowId).result();
    expect(r.manufacturers.every((m: any) => m.open === 0)).toBe(true);
  });
});
