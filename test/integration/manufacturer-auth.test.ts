// Manufacturer authentication end to end (issue #22), on the real Temporal dev server and FerretDB:
// the manufacturer simulator enforces each programme's authentication (Apple over mutual TLS with
// a test CA, Google's JWT-bearer grant checked against the service account's public key, Knox's
// client credentials, bearer tokens that expire), the worker reads its credentials from secret
// files, and devices go through the Device Enrolment Request and Response jobs. Covered: each
// programme enrols with valid credentials; an expired token is refreshed once and the call goes
// through; revoked credentials fail the devices at once (no retries), with the reason in the
// failed-enrolment list, and a requeue after the fix enrols them; revoked while a transaction is
// open, it stays open and is polled after the fix; a worker with the wrong Apple client
// certificate fails its devices with a clear reason.
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enrolmentWorkflowId } from '../../domain/enrolment';
import { freePort } from '../../infra/dev-stack';
import { ManufacturerSimulator } from '../../simulators/manufacturer';
import { lastEnrolmentJobId, of, runEnrolmentRequestJob, runEnrolmentResponseJob } from '../support/enrolment-jobs';
import { createTestCa, type IssuedCertificate } from '../support/test-ca';
import { eventually, startSystem, type TestSystem } from '../support/system';

const SERVICE_ACCOUNT = 'enrolment@reseller-test.iam.gserviceaccount.com';
const KNOX_CLIENT = 'knox-reseller-client';

let sys: TestSystem;
let maker: ManufacturerSimulator;
let env: Record<string, string>;
let wrongAppleCert: IssuedCertificate;
const orders: Record<string, { orderId: string; devices: { sku: string; imei: string; serialNumber: string }[] }> = {};

async function createOrder(s: TestSystem, lines: { sku: string; quantity: number }[]): Promise<string> {
  const created = await s.call('POST', '/api/v1/accounts/ACC-1002/orders', { body: {} });
  expect(created.status).toBe(201);
  for (const l of lines) expect((await s.call('POST', `/api/v1/orders/${created.body.orderId}/lines`, { body: l })).status).toBe(200);
  return created.body.orderId;
}

/** Generates the orders, lets the warehouse ship them, waits for Complete; returns each order's devices. */
async function ship(orderIds: string[]) {
  for (const id of orderIds) expect((await sys.call('POST', `/api/v1/orders/${id}/generate`)).status).toBe(200);
  for (const id of orderIds)
    await eventually(async () => (await sys.call('GET', `/api/v1/orders/${id}`)).body.status === 'AwaitingDispatch', `${id} Awaiting Dispatch`);
  await sys.simulator.respond();
  const out: Record<string, { sku: string; imei: string; serialNumber: string }[]> = {};
  for (const id of orderIds) {
    const o = await eventually(async () => {
      const s = (await sys.call('GET', `/api/v1/orders/${id}`)).body;
      return s.status === 'Complete' && s;
    }, `${id} Complete`);
    out[id] = o.subOrders.flatMap((s: any) => s.units.filter((u: any) => u.imei).map((u: any) => ({ sku: u.sku, imei: u.imei, serialNumber: u.serialNumber })));
  }
  return out;
}

const requestJob = (s = sys) => runEnrolmentRequestJob(s);
const responseJob = (s = sys) => runEnrolmentResponseJob(s);

async function requestEnrolment(orderId: string, customerIds: Record<string, string>, lines: { lineNumber: number; programme: string }[]) {
  const r = await sys.call('POST', `/api/v1/orders/${orderId}/enrolment`, { body: { customerIds, lines } });
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  const n = lines.length;
  await eventually(async () => (await sys.call('GET', `/api/v1/orders/${orderId}/enrolment`)).body.devices.length >= n, 'instructions queued');
}
const deviceStatuses = async (orderId: string) =>
  Object.fromEntries((await sys.call('GET', `/api/v1/orders/${orderId}/enrolment`)).body.devices.map((d: any) => [d.deviceId, d.last.status]));

beforeAll(async () => {
  const dir = path.join(inject('tmpRoot'), `mfr-auth-${Date.now()}`);
  // The worker's secrets mount: files only, as in docker-compose.yml.
  const secrets = path.join(dir, 'secrets');
  fs.mkdirSync(secrets, { recursive: true });
  const ca = createTestCa(path.join(dir, 'apple-ca'), 'Apple test CA');
  const server = ca.issueServer('apple-api');
  const client = ca.issueClient('reseller-apple');
  wrongAppleCert = createTestCa(path.join(dir, 'another-ca'), 'Someone else').issueClient('reseller-apple');
  const google = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const [port, applePort] = [await freePort(), await freePort()];
  maker = new ManufacturerSimulator({
    seed: 3,
    invalidIdRate: 0,
    otherCustomerRate: 0,
    processingPolls: 0,
    auth: {
      apple: { serverCert: server.cert, serverKey: server.key, clientCa: ca.cert },
      google: { serviceAccounts: { [SERVICE_ACCOUNT]: google.publicKey } },
      samsung: { clients: { [KNOX_CLIENT]: 'knox-secret-value-1' } },
    },
  });
  await maker.listen(port);
  await maker.listenApple(applePort);
  fs.writeFileSync(
    path.join(secrets, 'google-service-account.json'),
    JSON.stringify({
      type: 'service_account',
      client_email: SERVICE_ACCOUNT,
      private_key: google.privateKey,
      token_uri: `http://127.0.0.1:${port}/google/oauth2/token`,
    }),
  );
  fs.writeFileSync(path.join(secrets, 'knox-client-secret'), 'knox-secret-value-1\n');
  env = {
    FRAUD_POLICY_ENABLED: 'false',
    MANUFACTURER_API_URL: `http://127.0.0.1:${port}`,
    APPLE_API_URL: `https://127.0.0.1:${applePort}/apple`,
    APPLE_CLIENT_CERT_FILE: client.certPath,
    APPLE_CLIENT_KEY_FILE: client.keyPath,
    APPLE_CA_FILE: ca.certPath,
    GOOGLE_SERVICE_ACCOUNT_FILE: path.join(secrets, 'google-service-account.json'),
    SAMSUNG_CLIENT_ID: KNOX_CLIENT,
    SAMSUNG_CLIENT_SECRET_FILE: path.join(secrets, 'knox-client-secret'),
  };
  sys = await startSystem({ env });
  const specs = {
    each: [
      { sku: 'HS-APL-IP16-128', quantity: 1 },
      { sku: 'HS-GGL-PX9-128', quantity: 1 },
      { sku: 'HS-SAM-S25-256', quantity: 1 },
    ],
    expired: [
      { sku: 'HS-GGL-PX9-128', quantity: 1 },
      { sku: 'HS-SAM-A16-128', quantity: 1 },
    ],
    revoked: [{ sku: 'HS-SAM-S25-256', quantity: 1 }],
  };
  const ids: Record<string, string> = {};
  for (const [k, lines] of Object.entries(specs)) ids[k] = await createOrder(sys, lines);
  const shipped = await ship(Object.values(ids));
  for (const [k, id] of Object.entries(ids)) orders[k] = { orderId: id, devices: shipped[id] };
}, 180_000);

afterAll(async () => {
  await sys?.stop();
  await maker?.stop();
});

describe('manufacturer authentication', () => {
  it('devices enrol through each programme with valid credentials: mutual TLS for Apple, one OAuth token each for Google and Knox', async () => {
    const { orderId, devices: shipped } = orders.each;
    const devices = ['HS-APL-IP16-128', 'HS-GGL-PX9-128', 'HS-SAM-S25-256'].map((sku) => shipped.find((d) => d.sku === sku)!);
    expect(devices.every(Boolean)).toBe(true);
    await requestEnrolment(orderId, { apple: 'ORG-APPLE-77', google: '700777', samsung: 'KNOX-77' }, [
      { lineNumber: 1, programme: 'apple' },
      { lineNumber: 2, programme: 'google' },
      { lineNumber: 3, programme: 'samsung' },
    ]);
    const sent = await requestJob();
    for (const m of ['apple', 'google', 'samsung']) expect(of(sent, m), m).toMatchObject({ transactions: 1, sent: 1, notSent: 0 });
    const polled = await responseJob();
    for (const m of ['apple', 'google', 'samsung']) expect(of(polled, m), m).toMatchObject({ completed: 1 });
    expect(Object.values(await deviceStatuses(orderId))).toEqual(['enrolled', 'enrolled', 'enrolled']);
    for (const m of ['apple', 'google', 'samsung'] as const) {
      const result = await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, m)).result();
      expect(result.counts.enrolled, m).toBe(1);
    }
    expect(maker.holder('apple', devices[0].serialNumber)).toBe('ORG-APPLE-77');
    expect(maker.holder('google', devices[1].imei)).toBe('700777');
    expect(maker.holder('samsung', devices[2].imei)).toBe('KNOX-77');
    // One token per OAuth programme served every call (submit and poll); nobody was refused.
    expect([...maker.tokensIssued].sort((a, b) => a.programme.localeCompare(b.programme))).toEqual([
      { programme: 'google', subject: SERVICE_ACCOUNT },
      { programme: 'samsung', subject: KNOX_CLIENT },
    ]);
    expect(maker.refusals).toEqual([]);
    // The audit log holds what was said, never how we proved who we are.
    const audit = JSON.stringify(await sys.db.models.EnrolmentAudit.find({}).lean());
    expect(audit).not.toMatch(/Bearer|access_token|assertion|knox-secret|PRIVATE KEY|eyJ/);
  });

  it('an expired token: refused once by the API, refreshed once at the token endpoint, the call retried and the devices enrolled', async () => {
    const { orderId, devices: shipped } = orders.expired;
    const devices = ['HS-GGL-PX9-128', 'HS-SAM-A16-128'].map((sku) => shipped.find((d) => d.sku === sku)!);
    await requestEnrolment(orderId, { google: '700888', samsung: 'KNOX-88' }, [
      { lineNumber: 1, programme: 'google' },
      { lineNumber: 2, programme: 'samsung' },
    ]);
    expect(maker.expireTokens('google')).toBe(1);
    expect(maker.expireTokens('samsung')).toBe(1);
    const issued = maker.tokensIssued.length;
    const sent = await requestJob();
    expect(of(sent, 'google')).toMatchObject({ sent: 1, notSent: 0 });
    expect(of(sent, 'samsung')).toMatchObject({ sent: 1, notSent: 0 });
    expect(
      maker.tokensIssued
        .slice(issued)
        .map((t) => t.programme)
        .sort(),
    ).toEqual(['google', 'samsung']);
    expect(maker.refusals.map((r) => `${r.programme}: ${r.reason}`).sort()).toEqual(['google: token expired', 'samsung: token expired']);
    for (const m of ['google', 'samsung']) {
      const tx = await sys.db.models.EnrolmentTransaction.findOne({ manufacturer: m, customerId: m === 'google' ? '700888' : 'KNOX-88' }).lean();
      expect(tx, m).toMatchObject({ status: 'open', sendAttempts: 1 });
      const audit = await sys.db.models.EnrolmentAudit.find({ transactionId: tx!.transactionId }).sort({ at: 1, _id: 1 }).lean();
      expect(
        audit.map((a) => a.httpStatus),
        m,
      ).toEqual([401, m === 'google' ? 200 : 202]);
    }
    await responseJob();
    expect(await deviceStatuses(orderId)).toEqual({ [devices[0].imei]: 'enrolled', [devices[1].imei]: 'enrolled' });
  });

  it('revoked credentials: a non-retryable failure, in the failed-enrolment list with the reason; requeued after the fix, enrolled', async () => {
    const { orderId, devices } = orders.revoked;
    await requestEnrolment(orderId, { samsung: 'KNOX-99' }, [{ lineNumber: 1, programme: 'samsung' }]);
    maker.revokeCredentials('samsung', KNOX_CLIENT);
    const refusalsBefore = maker.refusals.length;
    let failed: any;
    try {
      const sent = await requestJob();
      expect(of(sent, 'samsung')).toMatchObject({ transactions: 1, sent: 0, notSent: 1 });
      // Tried once, not five times: the API refused the token, the token endpoint refused the client, and that was that.
      expect(maker.refusals.slice(refusalsBefore)).toEqual([
        { programme: 'samsung', reason: 'unknown token' },
        { programme: 'samsung', reason: 'The client was revoked.' },
      ]);
      const tx = await sys.db.models.EnrolmentTransaction.findOne({ customerId: 'KNOX-99' }).lean();
      expect(tx).toMatchObject({ status: 'rejected', sendAttempts: 1, error: { code: 'CREDENTIALS_REFUSED', manufacturerCode: 'invalid_client' } });
      const history = await sys.temporal.workflow.getHandle(lastEnrolmentJobId('enrolmentRequestJob')).fetchHistory();
      const failure = history.events!.find((e) => e.activityTaskFailedEventAttributes)!.activityTaskFailedEventAttributes!.failure!;
      expect(failure.applicationFailureInfo).toMatchObject({ type: 'MANUFACTURER_CREDENTIALS_REFUSED', nonRetryable: true });
      expect(history.events!.filter((e) => e.activityTaskStartedEventAttributes?.attempt && e.activityTaskStartedEventAttributes.attempt > 1)).toEqual([]);

      failed = await sys.call('GET', `/api/v1/enrolment/failed?orderId=${orderId}`, { role: 'ops' });
      expect(failed.status).toBe(200);
      expect(failed.body.items).toHaveLength(1);
      expect(failed.body.items[0]).toMatchObject({
        deviceId: devices[0].imei,
        manufacturer: 'samsung',
        status: 'failed',
        result: {
          code: 'CREDENTIALS_REFUSED',
          manufacturerCode: 'invalid_client',
          message: expect.stringMatching(
            /^Samsung Knox refused our credentials at its token endpoint http:.*\/samsung\/oauth2\/token \(HTTP 401 invalid_client: The client was revoked\.\)$/,
          ),
        },
      });
      const child = await sys.temporal.workflow.getHandle(enrolmentWorkflowId(orderId, 'samsung')).result();
      expect(child.counts).toMatchObject({ failed: 1, enrolled: 0 });
    } finally {
      maker.reinstateCredentials('samsung', KNOX_CLIENT);
    }
    // Fixed at Knox: ops requeue the device and the next runs enrol it.
    const requeued = await sys.call('POST', '/api/v1/enrolment/requeue', { role: 'ops', body: { instructionIds: [failed.body.items[0].instructionId] } });
    expect(requeued.body.requeued).toHaveLength(1);
    expect(of(await requestJob(), 'samsung')).toMatchObject({ sent: 1, notSent: 0 });
    await responseJob();
    expect(maker.holder('samsung', devices[0].imei)).toBe('KNOX-99');
    const instruction = await sys.db.models.EnrolmentInstruction.findOne({ instructionId: failed.body.items[0].instructionId }).lean();
    expect(instruction).toMatchObject({ status: 'enrolled', attempts: 2 });
  });

  it('credentials revoked while the manufacturer holds the transaction: the poll fails at once, the transaction stays open and is polled after the fix', async () => {
    const orderId = `ORD-POLL-REVOKED-${Date.now()}`;
    const device = { deviceId: '356938035643817', imei: '356938035643817', lineNumber: 1, sku: 'HS-GGL-PX9-128', deliveryNumber: 'SO-2' };
    const handle = await sys.temporal.workflow.start('deviceEnrolmentWorkflow', {
      workflowId: enrolmentWorkflowId(orderId, 'google'),
      taskQueue: sys.config.temporal.taskQueue,
      args: [{ orderId, manufacturer: 'google', customerId: '700999', devices: [device], requestedBy: 'test' }],
    });
    await eventually(async () => (await sys.db.models.EnrolmentInstruction.countDocuments({ orderId })) === 1, 'instruction queued');
    expect(of(await requestJob(), 'google')).toMatchObject({ sent: 1, notSent: 0 });
    maker.revokeCredentials('google', SERVICE_ACCOUNT);
    try {
      expect(of(await responseJob(), 'google')).toMatchObject({ open: 1, completed: 0, notPolled: 1 });
      const tx = await sys.db.models.EnrolmentTransaction.findOne({ customerId: '700999' }).lean();
      expect(tx).toMatchObject({ status: 'open', lastError: { code: 'CREDENTIALS_REFUSED', manufacturerCode: 'invalid_client' } });
      expect((tx!.lastError as { message: string }).message).toMatch(/^Android zero-touch refused our credentials at its token endpoint/);
      expect(await sys.db.models.EnrolmentInstruction.findOne({ orderId }).lean()).toMatchObject({ status: 'batched' });
    } finally {
      maker.reinstateCredentials('google', SERVICE_ACCOUNT);
    }
    expect(of(await responseJob(), 'google')).toMatchObject({ open: 1, completed: 1 });
    expect((await handle.result()).counts).toMatchObject({ enrolled: 1 });
  });

  it('a worker with the wrong Apple client certificate: its devices fail with a clear reason, Apple takes nothing', async () => {
    // Another deployment's worker (own database and task queue), same Apple, a certificate Apple's CA never signed.
    const wrong = await startSystem({ env: { ...env, APPLE_CLIENT_CERT_FILE: wrongAppleCert.certPath, APPLE_CLIENT_KEY_FILE: wrongAppleCert.keyPath } });
    try {
      const orderId = `ORD-WRONG-CERT-${Date.now()}`;
      const device = {
        deviceId: '356938035643809',
        imei: '356938035643809',
        serialNumber: 'F2LXWRONG1',
        lineNumber: 1,
        sku: 'HS-APL-IP16-128',
        deliveryNumber: 'SO-1',
      };
      const handle = await wrong.temporal.workflow.start('deviceEnrolmentWorkflow', {
        workflowId: enrolmentWorkflowId(orderId, 'apple'),
        taskQueue: wrong.config.temporal.taskQueue,
        args: [{ orderId, manufacturer: 'apple', customerId: 'ORG-APPLE-5', devices: [device], requestedBy: 'test' }],
      });
      await eventually(async () => (await wrong.db.models.EnrolmentInstruction.countDocuments({ orderId })) === 1, 'instruction queued');
      const appleRefusals = maker.refusals.filter((r) => r.programme === 'apple').length;
      expect(of(await requestJob(wrong), 'apple')).toMatchObject({ transactions: 1, sent: 0, notSent: 1 });
      expect(maker.refusals.filter((r) => r.programme === 'apple').slice(appleRefusals)).toEqual([
        { programme: 'apple', reason: expect.stringMatching(/^client certificate not accepted/) },
      ]);
      const failed = await wrong.call('GET', `/api/v1/enrolment/failed?orderId=${orderId}`, { role: 'ops' });
      expect(failed.body.items).toEqual([
        expect.objectContaining({
          deviceId: device.deviceId,
          status: 'failed',
          result: expect.objectContaining({
            code: 'CREDENTIALS_REFUSED',
            manufacturerCode: 'DEP-ERR-1002',
            message: expect.stringMatching(/^Apple refused our credentials: bulk-enroll-devices: HTTP 403 client certificate not accepted/),
          }),
        }),
      ]);
      expect((await handle.result()).counts).toMatchObject({ failed: 1 });
      expect(maker.transactionsFor('apple').filter((t) => t.customerId === 'ORG-APPLE-5')).toEqual([]);
    } finally {
      await wrong.stop();
    }
  });
});
