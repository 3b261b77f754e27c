// Finding an order by any reference a customer reads out, against the real Temporal dev server and
// FerretDB: the order number, an IMEI, a serial, a tracking number (shared by two orders), the
// order's own invoice and a bill run's cycle invoice; across accounts, by exact value only; and the
// backfill for orders that shipped before their references were noted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MongoLedger } from '../../activities/billing';
import { createApp } from '../../api/app';
import { billCutOff } from '../../domain/billing';
import { connectDb } from '../../infra/db';
import { backfillOrderReferences } from '../../infra/store/order-references';
import type { OrderView } from '../../workflows/messages';
import { deliver, ordersAwaitingDispatch, shippedRows, waitForStatus } from '../support/dispatch-fixtures';
import { eventually, startSystem, TOKENS, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem({ env: { FRAUD_POLICY_ENABLED: 'false' } });
});
afterAll(async () => {
  await sys?.stop();
});

const HANDSET = 'HS-APL-IP16-128'; // captures an IMEI and a serial
const CASE = 'PR-GEN-CASE-IP16'; // captures nothing

async function search(q: string, role: 'agent' | 'ops' = 'agent') {
  const r = await sys.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`, { role });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body.items as { kind: string; value: string; orderId: string; accountId: string; status: string }[];
}

/** Ships every unit of the orders (one file), optionally all under one tracking number; answers the Complete orders. */
async function ship(orders: OrderView[], name: string, trackingNumber?: string): Promise<OrderView[]> {
  const rows = orders.flatMap((o) => shippedRows(o)).map((r) => (trackingNumber ? { ...r, tracking_number: trackingNumber } : r));
  await deliver(sys, orders[0].subOrders[0].warehouseId, name, rows);
  const done = await waitForStatus(
    sys,
    orders.map((o) => o.orderId),
    'Complete',
  );
  // The view writer notes an order's unit references just after its view: wait for those too.
  await eventually(async () => {
    for (const o of done) {
      const tracking = o.subOrders.flatMap((s) => s.units)[0]?.trackingNumber;
      if (tracking && !(await search(tracking)).some((m) => m.orderId === o.orderId)) return false;
    }
    return true;
  }, 'the shipped units in the search');
  return done;
}

describe('search', () => {
  let order: OrderView; // ACC-1001, billed at once: its own invoice
  beforeAll(async () => {
    [order] = await ship(await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1001', lines: [{ sku: HANDSET, quantity: 2 }] }), 'one.csv');
  });

  it('finds an order by its order number, as typed in any case or spelt out without ORD-', async () => {
    for (const q of [order.orderId, order.orderId.toLowerCase(), ` ${order.orderId.slice(4)} `]) {
      expect(await search(q)).toEqual([{ kind: 'order', value: order.orderId, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' }]);
    }
  });

  it('finds it by each IMEI (read out in groups), each serial (any case) and its tracking number', async () => {
    const units = order.subOrders.flatMap((s) => s.units);
    expect(units).toHaveLength(2);
    for (const u of units) {
      const grouped = `${u.imei!.slice(0, 2)}-${u.imei!.slice(2, 8)}-${u.imei!.slice(8, 14)}-${u.imei!.slice(14)}`;
      expect(await search(grouped)).toEqual([{ kind: 'imei', value: u.imei, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' }]);
      expect(await search(u.serialNumber!.toLowerCase())).toEqual([
        { kind: 'serial', value: u.serialNumber, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' },
      ]);
    }
    expect(await search(units[0].trackingNumber!)).toEqual([
      { kind: 'tracking', value: units[0].trackingNumber, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' },
    ]);
  });

  it('finds it by its invoice number, with or without the leading zeros', async () => {
    expect(order.invoiceNumber).toMatch(/^INV-\d{8}$/);
    const short = `inv-${Number(order.invoiceNumber!.slice(4))}`;
    for (const q of [order.invoiceNumber!, short]) {
      expect(await search(q)).toEqual([{ kind: 'invoice', value: order.invoiceNumber, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' }]);
    }
  });

  it('lists every order that shipped under one tracking number, on any account, for agents and ops alike', async () => {
    const a = await ordersAwaitingDispatch(sys, 2, { accountId: 'ACC-1002', lines: [{ sku: CASE, quantity: 1 }] });
    const tracking = `TRK-SHARED-${Date.now()}`;
    const shipped = await ship(a, 'shared.csv', tracking);
    for (const role of ['agent', 'ops'] as const) {
      const found = await search(tracking.toLowerCase(), role);
      expect(found.map((m) => m.orderId).sort()).toEqual(shipped.map((o) => o.orderId).sort());
      expect(found.every((m) => m.kind === 'tracking' && m.accountId === 'ACC-1002' && m.status === 'Complete')).toBe(true);
    }
  });

  it("finds the orders on a bill run's cycle invoice", async () => {
    const [deferred] = await ship(await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1003', lines: [{ sku: CASE, quantity: 1 }] }), 'cycle.csv');
    expect(deferred.invoiceNumber).toBeNull();
    const date = '2099-01-28'; // ACC-1003's cycle day
    const issued = await new MongoLedger(sys.db).issueCycleInvoice({ accountId: 'ACC-1003', date, cutOff: billCutOff(date) });
    expect(issued).not.toBeNull();
    const found = await search(issued!.invoiceNumber);
    expect(found).toContainEqual({ kind: 'invoice', value: issued!.invoiceNumber, orderId: deferred.orderId, accountId: 'ACC-1003', status: 'Complete' });
    expect(found.every((m) => m.accountId === 'ACC-1003')).toBe(true);
  });

  it('matches exact values only, and answers an empty list when nothing matches', async () => {
    const serial = order.subOrders[0].units[0].serialNumber!;
    expect(await search(serial.slice(0, -1))).toEqual([]); // a prefix is not the serial
    expect(await search('ORD-0000000000')).toEqual([]);
    expect(await search('INV-99999999')).toEqual([]);
    expect(await search('490154203237518')).toEqual([]); // a valid IMEI nobody shipped
  });

  it('refuses an empty, blank or too long query (400) and callers without the agent or ops role', async () => {
    for (const q of ['', '   ', 'X'.repeat(65)]) {
      const r = await sys.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe('VALIDATION_FAILED');
    }
    expect((await sys.call('GET', '/api/v1/search')).status).toBe(400);
    expect((await sys.call('GET', '/api/v1/search?q=x', { role: 'adaptor' })).status).toBe(403);
    expect((await sys.call('GET', '/api/v1/search?q=x', { role: null })).status).toBe(401);
  });

  it('reads by _id only (FerretDB pushes down nothing else): one find per kind probed, then one per order found', async () => {
    // The same API on a connection that reports every command it sends.
    const db = await connectDb(`${sys.config.mongodbUri}?monitorCommands=true`);
    try {
      const finds: { collection: string; filter: unknown }[] = [];
      db.conn.getClient().on('commandStarted', (e) => {
        if (e.commandName === 'find') finds.push({ collection: String(e.command.find), filter: e.command.filter });
      });
      const app = createApp({ config: sys.config, db, temporal: sys.temporal, stock: null });
      const u = order.subOrders[0].units[0];
      const res = await app.request(`/api/v1/search?q=${u.imei}`, { headers: { authorization: `Bearer ${TOKENS.agent}` } });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(1);
      // IMEI, serial and tracking probed (the IMEI's slot 0 holds this order, slot 1 is free), then the order.
      expect(finds.map((f) => `${f.collection} ${JSON.stringify(f.filter)}`).sort()).toEqual(
        [
          `orderReferences {"_id":"imei:${u.imei}#0"}`,
          `orderReferences {"_id":"imei:${u.imei}#1"}`,
          `orderReferences {"_id":"serial:${u.imei}#0"}`,
          `orderReferences {"_id":"tracking:${u.imei}#0"}`,
          `orders {"_id":"${order.orderId}"}`,
        ].sort(),
      );
    } finally {
      await db.close();
    }
  });

  it('notes references by keyed documents, and the backfill restores those of orders shipped before the search existed', async () => {
    const { OrderReference } = sys.db.models;
    const u = order.subOrders[0].units[0];
    // One document per reference and order, found by _id alone.
    expect(await OrderReference.findOne({ _id: `imei:${u.imei}#0` }).lean()).toMatchObject({ kind: 'imei', value: u.imei, orderId: order.orderId });
    // As before this change: no references at all.
    await OrderReference.deleteMany({});
    expect(await search(u.serialNumber!)).toEqual([]);
    const first = await backfillOrderReferences(sys.db.models);
    expect(first.orders).toBe(4); // every order of this file
    expect(await search(u.serialNumber!)).toEqual([
      { kind: 'serial', value: u.serialNumber, orderId: order.orderId, accountId: 'ACC-1001', status: 'Complete' },
    ]);
    const stored = await OrderReference.countDocuments();
    // Again: nothing doubles.
    expect((await backfillOrderReferences(sys.db.models)).references).toBe(first.references);
    expect(await OrderReference.countDocuments()).toBe(stored);
  });
});
