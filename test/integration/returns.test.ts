// Returns (RMA) against the real Temporal dev server and FerretDB: the return rules at the API, the
// Return Authorisation to the warehouse, receipt by ops, the credit (credit note at once or credit
// lines on the next cycle invoice), expiry, exchange, and the balance check after each.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { daysAgo, expectBalanced, shippedOrder, unitsOf } from '../support/returns';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false', RESTOCKING_FEE_PERCENT: '10' } });
});
afterAll(async () => {
  await sys?.stop();
});

const HANDSET = 'HS-SAM-A16-128'; // 18900 + 20% VAT, IMEI
const postReturn = (orderId: string, body: unknown) => sys.call('POST', `/api/v1/orders/${orderId}/returns`, { body });
const receive = (rmaId: string, body: unknown = { grade: 'A' }) => sys.call('POST', `/api/v1/returns/${rmaId}/receive`, { role: 'ops', body });

describe('returns on an account billed at once', () => {
  it('unwanted inside the window: Return Authorisation out, received by ops, a credit note minus the restocking fee; balance holds', async () => {
    const order = await shippedOrder(sys, 'ACC-1001', [{ sku: HANDSET, quantity: 2 }], daysAgo(3));
    const [imei] = unitsOf(order);
    const r = await postReturn(order.orderId, { units: [imei], reason: 'unwanted', note: 'changed their mind' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ rmaId: expect.stringMatching(/^RMA-\d{8}$/), status: 'authorised', creditMode: 'immediate', reason: 'unwanted' });
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

    // A unit returned twice is refused; the other unit of the order still can be.
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
