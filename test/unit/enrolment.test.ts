// Device enrolment rules (batching, result mapping, which devices, device state) and the three
// manufacturer adapters against the manufacturer simulator over real HTTP on localhost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkEnrolmentCustomerIds,
  checkLaterEnrolment,
  checkPickedDevices,
  checkRequestEnrolment,
  checkUnenrol,
  deviceEnrolmentState,
  devicesToEnrol,
  laterEnrolmentWorkflowId,
  onlyDevices,
  ordersOwnEnrolmentDue,
  programmeDeviceKey,
  resubmissionEnrolmentWorkflowId,
  orderTimePicks,
  planBatches,
  resultFor,
} from '../../domain/enrolment';
import type { OrderState } from '../../domain/order-state';
import type { Manufacturer, SubOrder } from '../../domain/types';
import { loadConfig } from '../../infra/config';
import { freePort } from '../../infra/dev-stack';
import { createManufacturerGateways, type AuditEntry, type GatewayTransaction, type ManufacturerGateways } from '../../infra/manufacturer-gateways';
import { ManufacturerSimulator } from '../../simulators/manufacturer';

const instr = (id: string, manufacturer: Manufacturer = 'apple', customerId = 'C1', action: 'enrol' | 'unenrol' = 'enrol') => ({
  instructionId: id,
  manufacturer,
  customerId,
  action,
});

describe('planBatches', () => {
  it('splits at the limit, per manufacturer, action and customer, in id order', () => {
    const plans = planBatches([instr('e'), instr('a'), instr('c'), instr('b'), instr('d'), instr('x', 'apple', 'C2'), instr('y', 'apple', 'C1', 'unenrol')], 2);
    expect(plans).toEqual([
      { manufacturer: 'apple', action: 'enrol', customerId: 'C1', instructionIds: ['a', 'b'] },
      { manufacturer: 'apple', action: 'enrol', customerId: 'C1', instructionIds: ['c', 'd'] },
      { manufacturer: 'apple', action: 'enrol', customerId: 'C1', instructionIds: ['e'] },
      { manufacturer: 'apple', action: 'enrol', customerId: 'C2', instructionIds: ['x'] },
      { manufacturer: 'apple', action: 'unenrol', customerId: 'C1', instructionIds: ['y'] },
    ]);
  });
  it('never exceeds the limit and loses nothing', () => {
    const many = Array.from({ length: 1001 }, (_, i) => instr(`i${String(i).padStart(4, '0')}`));
    const plans = planBatches(many, 250);
    expect(plans.map((p) => p.instructionIds.length)).toEqual([250, 250, 250, 250, 1]);
    expect(new Set(plans.flatMap((p) => p.instructionIds)).size).toBe(1001);
  });
  it('refuses a limit below one', () => {
    expect(() => planBatches([instr('a')], 0)).toThrow(/positive integer/);
  });
});

describe('resultFor', () => {
  it('maps each outcome to the device status for the action', () => {
    expect(resultFor('enrol', { deviceId: 'd', outcome: 'succeeded' }, 'T', 'now')).toMatchObject({ status: 'enrolled', transactionId: 'T' });
    expect(resultFor('unenrol', { deviceId: 'd', outcome: 'succeeded' }, 'T', 'now').status).toBe('unenrolled');
    expect(resultFor('enrol', { deviceId: 'd', outcome: 'enrolledElsewhere', code: 'ASSIGNED_TO_ANOTHER_CUSTOMER' }, 'T', 'now')).toMatchObject({
      status: 'enrolledElsewhere',
      code: 'ASSIGNED_TO_ANOTHER_CUSTOMER',
    });
    expect(resultFor('unenrol', { deviceId: 'd', outcome: 'enrolledElsewhere', code: 'ASSIGNED_TO_ANOTHER_CUSTOMER' }, 'T', 'now').status).toBe('failed');
    expect(resultFor('enrol', { deviceId: 'd', outcome: 'failed', code: 'INVALID_DEVICE_ID', message: 'bad' }, 'T', 'now')).toMatchObject({
      status: 'failed',
      code: 'INVALID_DEVICE_ID',
      message: 'bad',
    });
    expect(resultFor('enrol', undefined, 'T', 'now')).toMatchObject({ status: 'failed', code: 'NO_RESULT' });
  });
});

const unit = (lineNumber: number, imei: string | undefined, serialNumber?: string) => ({
  rowKey: `b:${imei ?? serialNumber}`,
  batchId: 'b',
  lineNumber,
  sku: `SKU${lineNumber}`,
  quantity: 1,
  ...(imei ? { imei } : {}),
  ...(serialNumber ? { serialNumber } : {}),
  shipDate: '2025-03-01',
});
const sub = (units: ReturnType<typeof unit>[]): SubOrder => ({
  subOrderNumber: 'O1-WH-NORTH',
  warehouseId: 'WH-NORTH',
  lines: [],
  status: 'Shipped',
  units,
  lineExceptions: [],
});

describe('which devices are enrolled', () => {
  const lines = [
    { lineNumber: 1, enrolment: 'apple' as const, sku: 'SKU1' },
    { lineNumber: 2, sku: 'SKU2' },
    { lineNumber: 3, enrolment: 'google' as const, sku: 'SKU3' },
  ];
  const order = { subOrders: [sub([unit(1, '111'), unit(1, '112'), unit(2, undefined, 'S-2'), unit(3, undefined, 'S-3'), unit(3, undefined)])] };

  it('groups the shipped devices of the picked lines per manufacturer; units without an id are left out', () => {
    const plan = devicesToEnrol(order, orderTimePicks(lines), { apple: 'ORG-1', google: '9001' });
    expect(plan).toEqual([
      {
        manufacturer: 'apple',
        customerId: 'ORG-1',
        devices: [
          expect.objectContaining({ deviceId: '111', imei: '111', lineNumber: 1, deliveryNumber: 'O1-WH-NORTH', shipDate: '2025-03-01' }),
          expect.objectContaining({ deviceId: '112' }),
        ],
      },
      { manufacturer: 'google', customerId: '9001', devices: [expect.objectContaining({ deviceId: 'S-3', serialNumber: 'S-3' })] },
    ]);
  });
  it('leaves out devices already requested with that manufacturer, so asking again enrols only what shipped since', () => {
    const plan = devicesToEnrol(
      order,
      orderTimePicks(lines),
      { apple: 'ORG-1', google: '9001' },
      new Set([programmeDeviceKey('apple', '111'), programmeDeviceKey('google', 'S-3')]),
    );
    expect(plan).toEqual([{ manufacturer: 'apple', customerId: 'ORG-1', devices: [expect.objectContaining({ deviceId: '112' })] }]);
    // The same device in another programme is another request.
    expect(
      devicesToEnrol(order, [{ lineNumber: 1, manufacturer: 'apple' }], { apple: 'ORG-1' }, new Set([programmeDeviceKey('google', '111')]))[0].devices,
    ).toHaveLength(2);
  });
  it('a later request may name some of the devices (IMEI or serial) its lines shipped, and no other', () => {
    const picks = [
      { lineNumber: 1, manufacturer: 'apple' as const },
      { lineNumber: 3, manufacturer: 'google' as const },
    ];
    const plan = devicesToEnrol(order, picks, { apple: 'ORG-1', google: '9001' });
    expect(onlyDevices(plan, [])).toBe(plan);
    expect(onlyDevices(plan, ['112']).map((e) => [e.manufacturer, e.devices.map((d) => d.deviceId)])).toEqual([['apple', ['112']]]);
    expect(onlyDevices(plan, ['S-3', '111']).map((e) => [e.manufacturer, e.devices.map((d) => d.deviceId)])).toEqual([
      ['apple', ['111']],
      ['google', ['S-3']],
    ]);
    const o = { ...order, orderId: 'O1' };
    expect(() => checkPickedDevices(o, picks, ['111', 'S-3'])).not.toThrow();
    // S-2 shipped, but on line 2, which is not picked; 999 never shipped.
    expect(() => checkPickedDevices(o, picks, ['S-2', '999'])).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', details: { unknownDevices: ['S-2', '999'] } }),
    );
  });
  it("numbers a later request's workflow after the requests made before it; the order's resubmission rounds have ids of their own", () => {
    expect(laterEnrolmentWorkflowId('O1', 'apple', [])).toBe('enrol-O1-apple');
    expect(laterEnrolmentWorkflowId('O1', 'apple', ['enrol-O1-apple'])).toBe('enrol-O1-apple-2');
    expect(laterEnrolmentWorkflowId('O1', 'apple', ['enrol-O1-apple', 'enrol-O1-apple-2', 'enrol-O1-apple-R1', 'enrol-O1-apple'])).toBe('enrol-O1-apple-3');
    // Only the order's resubmission round so far: the first id is still free.
    expect(laterEnrolmentWorkflowId('O1', 'apple', ['enrol-O1-apple-R1'])).toBe('enrol-O1-apple');
    expect(resubmissionEnrolmentWorkflowId('O1', 'apple', 2)).toBe('enrol-O1-apple-R2');
  });
  it('the order enrols its own devices once its shipments settle: Complete or Error', () => {
    expect(
      ['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete', 'Error', 'Cancelled'].filter((s) => ordersOwnEnrolmentDue(s as OrderState['status'])),
    ).toEqual(['Complete', 'Error']);
  });
  it('needs the customer id of every programme a line asks for', () => {
    expect(() => checkEnrolmentCustomerIds(lines, { apple: 'ORG-1' })).toThrow(/google/);
    expect(() => checkEnrolmentCustomerIds(lines, { apple: 'ORG-1', google: '9001' })).not.toThrow();
    expect(() => checkEnrolmentCustomerIds([{ lineNumber: 1 }], {})).not.toThrow();
  });
  it('takes programme ids only on a New order, well formed', () => {
    const base = { orderId: 'O1', cancellationRequested: false, sendStarted: false, revision: 1, errorResolution: null, cancellation: null, subOrders: [] };
    expect(() => checkRequestEnrolment({ ...base, status: 'New' }, { apple: 'ORG-1' })).not.toThrow();
    expect(() => checkRequestEnrolment({ ...base, status: 'AwaitingDispatch' }, { apple: 'ORG-1' })).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
    expect(() => checkRequestEnrolment({ ...base, status: 'New' }, {})).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => checkRequestEnrolment({ ...base, status: 'New' }, { apple: 'has spaces' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
  it('checks a later request: any order with shipped devices, supported programme, customer id, devices shipped', () => {
    const complete = { ...order, orderId: 'O1', status: 'Complete', lines } as unknown as Pick<OrderState, 'orderId' | 'status' | 'lines' | 'subOrders'>;
    const programmes = { SKU1: ['apple'], SKU2: ['samsung', 'google'], SKU3: ['google'] } as Record<string, Manufacturer[]>;
    expect(() => checkLaterEnrolment(complete, [{ lineNumber: 2, manufacturer: 'google' }], { google: '9001' }, programmes)).not.toThrow();
    // Error, Cancelled after a partial shipment, or still going with part shipped: the devices that shipped can be enrolled.
    for (const status of ['Error', 'Cancelled', 'AwaitingDispatch'] as const) {
      expect(() => checkLaterEnrolment({ ...complete, status }, [{ lineNumber: 2, manufacturer: 'samsung' }], { samsung: 'K-1' }, programmes)).not.toThrow();
    }
    // Still going: a programme its lines asked for at order time is the order's own, once its shipments settle.
    expect(() =>
      checkLaterEnrolment({ ...complete, status: 'AwaitingDispatch' }, [{ lineNumber: 2, manufacturer: 'google' }], { google: '9001' }, programmes),
    ).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION', details: expect.objectContaining({ orderEnrols: ['google'] }) }));
    expect(() =>
      checkLaterEnrolment({ ...complete, status: 'Error' }, [{ lineNumber: 2, manufacturer: 'google' }], { google: '9001' }, programmes),
    ).not.toThrow();
    // Nothing shipped yet, or a New order: nothing to enrol later.
    expect(() =>
      checkLaterEnrolment({ ...complete, status: 'Cancelled', subOrders: [] }, [{ lineNumber: 2, manufacturer: 'samsung' }], { samsung: 'K-1' }, programmes),
    ).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
    expect(() => checkLaterEnrolment({ ...complete, status: 'New' }, [{ lineNumber: 2, manufacturer: 'samsung' }], { samsung: 'K-1' }, programmes)).toThrow(
      expect.objectContaining({ code: 'INVALID_TRANSITION' }),
    );
    expect(() => checkLaterEnrolment(complete, [{ lineNumber: 2, manufacturer: 'apple' }], { apple: 'ORG-1' }, programmes)).toThrow(
      expect.objectContaining({ code: 'ENROLMENT_NOT_SUPPORTED' }),
    );
    expect(() => checkLaterEnrolment(complete, [{ lineNumber: 2, manufacturer: 'google' }], { apple: 'ORG-1' }, programmes)).toThrow(/programme id is missing/);
    expect(() => checkLaterEnrolment(complete, [{ lineNumber: 9, manufacturer: 'google' }], { google: '9001' }, programmes)).toThrow(
      expect.objectContaining({ code: 'LINE_NOT_FOUND' }),
    );
    expect(() => checkLaterEnrolment(complete, [], { google: '9001' }, programmes)).toThrow(/name the lines/);
  });
});

describe('deviceEnrolmentState', () => {
  const i = (action: 'enrol' | 'unenrol', status: string) => ({ action, status }) as Parameters<typeof deviceEnrolmentState>[0][number];
  it('follows enrolments and unenrolments over time', () => {
    expect(deviceEnrolmentState([])).toBe('notEnrolled');
    expect(deviceEnrolmentState([i('enrol', 'queued')])).toBe('enrolling');
    expect(deviceEnrolmentState([i('enrol', 'batched')])).toBe('enrolling');
    expect(deviceEnrolmentState([i('enrol', 'enrolled')])).toBe('enrolled');
    expect(deviceEnrolmentState([i('enrol', 'failed')])).toBe('notEnrolled');
    expect(deviceEnrolmentState([i('enrol', 'enrolledElsewhere')])).toBe('notEnrolled');
    expect(deviceEnrolmentState([i('enrol', 'enrolled'), i('unenrol', 'queued')])).toBe('unenrolling');
    expect(deviceEnrolmentState([i('enrol', 'enrolled'), i('unenrol', 'failed')])).toBe('enrolled');
    expect(deviceEnrolmentState([i('enrol', 'enrolled'), i('unenrol', 'unenrolled')])).toBe('notEnrolled');
  });
  it('allows unenrolment only of an enrolled device', () => {
    expect(() => checkUnenrol('d', 'enrolled')).not.toThrow();
    for (const s of ['notEnrolled', 'enrolling', 'unenrolling'] as const)
      expect(() => checkUnenrol('d', s)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });
});

describe('manufacturer adapters against the simulator', () => {
  let sim: ManufacturerSimulator;
  let gateways: ManufacturerGateways;
  const audit: AuditEntry[] = [];
  beforeAll(async () => {
    const port = await freePort();
    sim = new ManufacturerSimulator({ seed: 1, invalidIdRate: 0, otherCustomerRate: 0, processingPolls: 2, limits: { apple: 3, google: 3, samsung: 3 } });
    await sim.listen(port);
    const config = loadConfig({ NODE_ENV: 'test', MANUFACTURER_API_URL: `http://127.0.0.1:${port}`, ENROLMENT_BATCH_LIMIT_APPLE: '3' });
    gateways = createManufacturerGateways(config, async (e) => void audit.push(e));
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('follows a zero-touch operation name only as an operation, never as a path elsewhere', async () => {
    for (const reference of ['../apple/enroll-devices?x=1', 'operations/1/../../../samsung/kdp/v1/devices/upload', 'operations/1?x#y', '/partners/1']) {
      const before = audit.length;
      await expect(gateways.google.status({ ...tx('google', `ref-${reference}`, ['353325110000016']), reference }), reference).rejects.toThrow(
        /not an operation name/,
      );
      expect(audit.slice(before), reference).toEqual([]); // nothing was requested
    }
  });

  const tx = (m: Manufacturer, id: string, ids: string[], action: 'enrol' | 'unenrol' = 'enrol', customerId = 'CUST-1'): GatewayTransaction => ({
    transactionId: `${m}-${id}`,
    action,
    customerId,
    createdAt: '2025-03-02T10:00:00.000Z',
    devices: ids.map((d, n) => ({
      deviceId: d,
      imei: d,
      serialNumber: `SN${d}`,
      lineNumber: 1,
      sku: 'SKU',
      deliveryNumber: `DEL-${n % 2}`,
      orderNumber: 'ORD-1',
      shipDate: '2025-03-01',
    })),
  });

  for (const m of ['apple', 'google', 'samsung'] as const) {
    it(`${m}: processes asynchronously, maps per-device errors, recognises a resend, refuses the unenrolment of a device it does not hold`, async () => {
      const gw = gateways[m];
      expect(gw.batchLimit).toBe(m === 'apple' ? 3 : m === 'google' ? 500 : 1000);
      sim.setDeviceFault(`${m}-bad`, 'invalidId');
      sim.setDeviceFault(`${m}-other`, 'otherCustomer');
      const t = tx(m, 'T1', [`${m}-ok`, `${m}-bad`, `${m}-other`]);
      const sent = await gw.submit(t);
      expect(sent.accepted).toBe(true);
      const again = await gw.submit(t);
      expect(again).toEqual(sent);
      expect(sim.transactionsFor(m)).toHaveLength(1);
      const reference = (sent as { reference: string }).reference;
      expect(await gw.status({ ...t, reference })).toMatchObject({ state: 'processing' });
      expect(await gw.status({ ...t, reference })).toMatchObject({ state: 'processing' });
      const done = await gw.status({ ...t, reference });
      expect(done.state).toBe('complete');
      const devices = done.state === 'complete' ? done.devices : [];
      expect(devices.find((d) => d.deviceId === `${m}-ok`)).toEqual({ deviceId: `${m}-ok`, outcome: 'succeeded' });
      expect(devices.find((d) => d.deviceId === `${m}-bad`)).toMatchObject({ outcome: 'failed', code: 'INVALID_DEVICE_ID' });
      expect(devices.find((d) => d.deviceId === `${m}-other`)).toMatchObject({ outcome: 'enrolledElsewhere', code: 'ASSIGNED_TO_ANOTHER_CUSTOMER' });
      expect(sim.holder(m, m === 'apple' ? `SN${m}-ok` : `${m}-ok`)).toBe('CUST-1');

      // Unenrol the one it holds and one it never enrolled.
      sim.setProcessingPolls(0);
      const u = tx(m, 'U1', [`${m}-ok`, `${m}-never`], 'unenrol');
      const us = await gw.submit(u);
      expect(us.accepted).toBe(true);
      const ur = await gw.status({ ...u, reference: (us as { reference: string }).reference });
      expect(ur.state === 'complete' && ur.devices).toEqual([
        { deviceId: `${m}-ok`, outcome: 'succeeded' },
        expect.objectContaining({ deviceId: `${m}-never`, outcome: 'failed', code: 'NOT_ENROLLED' }),
      ]);
      sim.setProcessingPolls(2);
    });

    it(`${m}: a transaction over the manufacturer's limit or for an unknown customer is refused as a whole`, async () => {
      const gw = gateways[m];
      expect(await gw.submit(tx(m, 'BIG', ['1', '2', '3', '4']))).toMatchObject({ accepted: false, code: 'TRANSACTION_REJECTED' });
      expect(await gw.submit(tx(m, 'BADC', ['5'], 'enrol', 'INVALID-9'))).toMatchObject({ accepted: false, code: 'INVALID_CUSTOMER_ID' });
    });
  }

  it('a lost answer is a transient error and every exchange is audited', async () => {
    sim.loseAnswerAfterAccepting('samsung');
    const t = tx('samsung', 'LOST', ['s-lost']);
    await expect(gateways.samsung.submit(t)).rejects.toThrow(/HTTP 503/);
    expect(await gateways.samsung.submit(t)).toEqual({ accepted: true, reference: 'samsung-LOST' });
    expect(sim.submissions.filter((s) => s.transactionId === 'samsung-LOST').map((s) => s.duplicate)).toEqual([false, true]);
    expect(sim.transactionsFor('samsung').filter((x) => x.transactionId === 'samsung-LOST')).toHaveLength(1);
    const entries = audit.filter((e) => e.transactionId === 'samsung-LOST');
    expect(entries.map((e) => e.httpStatus)).toEqual([503, 409]);
    expect(entries[0].request).toMatchObject({ transactionId: 'samsung-LOST', devices: [{ deviceUid: 's-lost' }] });
  });

  it('the same seed gives the same per-device faults', async () => {
    const a = new ManufacturerSimulator({ seed: 5, invalidIdRate: 0.3, otherCustomerRate: 0.3, processingPolls: 0 });
    const b = new ManufacturerSimulator({ seed: 5, invalidIdRate: 0.3, otherCustomerRate: 0.3, processingPolls: 0 });
    const ids = Array.from({ length: 40 }, (_, i) => `35000000000${String(i).padStart(4, '0')}`);
    const run = async (s: ManufacturerSimulator) => {
      const res = await s.app().request('/samsung/kdp/v1/devices/upload', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ transactionId: 'T', customerId: 'C', devices: ids.map((deviceUid) => ({ deviceUid })) }),
      });
      expect(res.status).toBe(202);
      return (await (await s.app().request('/samsung/kdp/v1/transactions/T')).json()) as { devices: { result: string; errorCode?: string }[] };
    };
    const [ra, rb] = [await run(a), await run(b)];
    expect(ra).toEqual(rb);
    const codes = new Set(ra.devices.map((d) => d.errorCode ?? d.result));
    expect(codes).toEqual(new Set(['SUCCESS', 'KDP_INVALID_DEVICE', 'KDP_DEVICE_OWNED_BY_OTHER']));
  });
});
