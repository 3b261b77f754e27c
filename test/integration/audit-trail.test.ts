// The audit trail against the real Temporal dev server and FerretDB: every agent and ops edit kind
// is in the order's history with before → after and the request id; notes on an open order and on
// one whose workflow has finished; the ops listing of one person's actions across orders by date
// range, paged; writing the trail again changes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEntriesOf, type AuditEntry } from '../../domain/order-history';
import { auditTrail } from '../../infra/store/audit-trail';
import { orderWorkflowId } from '../../workflows/messages';
import { addLine, createOrder, deliveryElsewhere, readOrder } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const HANDSET = 'HS-APL-IP16-128';
const CHARGER = 'PR-APL-USBC-20W';
const withId = (requestId: string) => ({ 'x-request-id': requestId });
const entryOf = (order: any, requestId: string) => {
  const found = order.history.filter((h: any) => h.requestId === requestId);
  expect(found, `one history entry for ${requestId}`).toHaveLength(1);
  return found[0];
};

async function listAll(query: string, limit: number): Promise<{ items: AuditEntry[]; pages: number }> {
  const items: AuditEntry[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const r = await sys.call('GET', `/api/v1/audit?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, { role: 'ops' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.items.length).toBeLessThanOrEqual(limit);
    items.push(...r.body.items);
    cursor = r.body.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

describe('every agent and ops action is in the history: who, when, before → after, the request id', () => {
  let orderId: string;
  let agent: string;
  let ops: string;

  it('lines added, changed and removed; delivery; billing mode; enrolment ids; a note; generate; cancel', async () => {
    const created = (await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {}, headers: withId('rq-create') })).body;
    orderId = created.orderId;
    agent = created.createdBy;
    const startDelivery = created.delivery;
    const step = async (method: string, path: string, requestId: string, body?: unknown, role: 'agent' | 'ops' = 'agent') => {
      const r = await sys.call(method, `/api/v1/orders/${orderId}${path}`, { body, headers: withId(requestId), role });
      expect(r.status, `${requestId}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      return r.body;
    };
    await step('POST', '/lines', 'rq-add', { sku: HANDSET, quantity: 1 });
    await step('PATCH', '/lines/L1', 'rq-change', { quantity: 3, enrolment: 'apple' });
    await step('POST', '/lines', 'rq-add-2', { sku: CHARGER, quantity: 2 });
    await step('DELETE', '/lines/L2', 'rq-remove');
    const newDelivery = deliveryElsewhere({ name: 'Audit Person', email: 'audit.person@example.com' });
    await step('PUT', '/delivery', 'rq-delivery', newDelivery);
    await step('PUT', '/billing-mode', 'rq-billing', { billingMode: 'nextInvoice' });
    await step('POST', '/enrolment', 'rq-enrol', { customerIds: { apple: 'APPLE-CUST-1' } });
    await step('POST', '/notes', 'rq-note', { text: 'customer called about delivery' });
    await step('POST', '/notes', 'rq-ops-note', { text: 'checked the address with the courier' }, 'ops');

    const order = await readOrder(sys, orderId);
    expect(entryOf(order, 'rq-create')).toMatchObject({ from: null, to: 'New', by: agent, reason: 'order created' });
    expect(entryOf(order, 'rq-add')).toMatchObject({
      by: agent,
      from: 'New',
      to: 'New',
      changes: [{ field: 'line', lineId: 'L1', before: null, after: { sku: HANDSET, quantity: 1 } }],
    });
    expect(entryOf(order, 'rq-change')).toMatchObject({
      changes: [{ field: 'line', lineId: 'L1', before: { sku: HANDSET, quantity: 1 }, after: { sku: HANDSET, quantity: 3, enrolment: 'apple' } }],
      reason: 'line L1 changed: quantity 1 → 3; enrolment none → apple',
    });
    expect(entryOf(order, 'rq-remove').changes).toEqual([{ field: 'line', lineId: 'L2', before: { sku: CHARGER, quantity: 2 }, after: null }]);
    const delivery = entryOf(order, 'rq-delivery');
    expect(delivery.changes).toEqual([{ field: 'delivery', before: startDelivery, after: newDelivery }]);
    // The contact is in the change, never in the one-line reason.
    expect(delivery.reason).toBe('delivery contact changed');
    expect(entryOf(order, 'rq-billing').changes).toEqual([{ field: 'billingMode', before: 'immediate', after: 'nextInvoice' }]);
    expect(entryOf(order, 'rq-enrol').changes).toEqual([{ field: 'enrolmentIds', before: null, after: { apple: 'APPLE-CUST-1' } }]);
    expect(entryOf(order, 'rq-note')).toMatchObject({ by: agent, reason: 'customer called about delivery', note: true, from: 'New', to: 'New' });
    ops = entryOf(order, 'rq-ops-note').by;
    expect(ops).not.toBe(agent);
    for (const e of order.history) expect(Date.parse(e.at)).not.toBeNaN();

    await step('POST', '/generate', 'rq-generate');
    const generated = await readOrder(sys, orderId);
    expect(entryOf(generated, 'rq-generate')).toMatchObject({ from: 'New', to: 'AwaitingGeneration', by: agent });
  });

  it('a refused action leaves no entry', async () => {
    const r = await sys.call('PUT', `/api/v1/orders/${orderId}/billing-mode`, { body: { billingMode: 'immediate' }, headers: withId('rq-refused') });
    expect(r.status).toBe(409);
    expect((await readOrder(sys, orderId)).history.some((h: any) => h.requestId === 'rq-refused')).toBe(false);
  });

  it('the audit lists each person’s actions across orders, by date range, paged', async () => {
    // A second order by the same agent, cancelled by ops.
    const second = (await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {}, headers: withId('rq-create-2') })).body;
    await addLine(sys, second.orderId, HANDSET, 1);
    expect(
      (
        await sys.call('POST', `/api/v1/orders/${second.orderId}/cancel`, {
          role: 'ops',
          body: { reason: 'customer changed their mind' },
          headers: withId('rq-ops-cancel'),
        })
      ).status,
    ).toBe(200);

    const mine = (await readOrder(sys, orderId)).history.filter((h: any) => h.by === agent);
    const agentAll = await listAll(`actor=${encodeURIComponent(agent)}`, 200);
    const keys = agentAll.items.map((e) => e.entryKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect(agentAll.items.every((e) => e.actor === agent)).toBe(true);
    // Both orders, every one of the agent's entries of the first.
    expect(agentAll.items.filter((e) => e.orderId === orderId).map((e) => e.requestId)).toEqual(mine.map((h: any) => h.requestId));
    expect(agentAll.items.some((e) => e.orderId === second.orderId && e.requestId === 'rq-create-2')).toBe(true);
    const delivery = agentAll.items.find((e) => e.requestId === 'rq-delivery')!;
    expect(delivery.changes![0]).toMatchObject({ field: 'delivery', after: { name: 'Audit Person' } });

    // Paged two at a time: the same entries in the same order.
    const paged = await listAll(`actor=${encodeURIComponent(agent)}`, 2);
    expect(paged.items.map((e) => e.entryKey)).toEqual(keys);
    expect(paged.pages).toBeGreaterThanOrEqual(Math.ceil(keys.length / 2));

    const opsAll = await listAll(`actor=${encodeURIComponent(ops)}`, 50);
    expect(opsAll.items.map((e) => [e.orderId, e.requestId])).toEqual([
      [orderId, 'rq-ops-note'],
      [second.orderId, 'rq-ops-cancel'],
    ]);
    expect(opsAll.items[1]).toMatchObject({ from: 'New', to: 'Cancelled', reason: 'customer changed their mind' });

    // The date range: up to just before the ops cancellation, and from just after it.
    const cancelAt = opsAll.items[1].at;
    const justBefore = new Date(Date.parse(cancelAt) - 1).toISOString();
    const until = await listAll(`actor=${encodeURIComponent(ops)}&to=${justBefore}`, 50);
    expect(until.items.map((e) => e.requestId)).toEqual(['rq-ops-note']);
    const later = await listAll(`actor=${encodeURIComponent(ops)}&from=${new Date(Date.parse(cancelAt) + 1).toISOString()}`, 50);
    expect(later.items).toEqual([]);
    // A range of many empty days is paged too, and finds what lies at its end.
    const longAgo = new Date(Date.parse(cancelAt) - 100 * 86_400_000).toISOString();
    const long = await listAll(`actor=${encodeURIComponent(ops)}&from=${longAgo}`, 50);
    expect(long.items.map((e) => e.requestId)).toEqual(['rq-ops-note', 'rq-ops-cancel']);
    expect(long.pages).toBeGreaterThan(1);
  });

  it('refuses a bad query, and agents', async () => {
    expect((await sys.call('GET', '/api/v1/audit?actor=x&from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', { role: 'ops' })).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await sys.call('GET', '/api/v1/audit?actor=x&cursor=bm90LWEtY3Vyc29y', { role: 'ops' })).status).toBe(400);
    expect((await sys.call('GET', '/api/v1/audit?actor=x&from=yesterday', { role: 'ops' })).status).toBe(400);
    // A cursor of the right shape but not a calendar day.
    const forged = Buffer.from(JSON.stringify(['2026-13-45', 0])).toString('base64url');
    expect((await sys.call('GET', `/api/v1/audit?actor=x&cursor=${forged}`, { role: 'ops' })).status).toBe(400);
    expect((await sys.call('GET', '/api/v1/audit?actor=x', { role: 'agent' })).status).toBe(403);
  });

  it('writing the trail again (a retried or repaired projection, another process) changes nothing', async () => {
    const order = await readOrder(sys, orderId);
    const before = await listAll(`actor=${encodeURIComponent(agent)}`, 200);
    // A store with no memory, as a fresh worker process: every entry is found already there.
    await auditTrail(sys.db.models).record(auditEntriesOf(order));
    await auditTrail(sys.db.models).record(auditEntriesOf(order).reverse());
    const after = await listAll(`actor=${encodeURIComponent(agent)}`, 200);
    expect(after.items).toEqual(before.items);
  });
});

describe('notes', () => {
  it('on an order whose workflow has finished: kept beside it, in its history and the audit, once per Idempotency-Key', async () => {
    const o = await createOrder(sys);
    await addLine(sys, o.orderId, HANDSET, 1);
    expect((await sys.call('POST', `/api/v1/orders/${o.orderId}/cancel`, { body: { reason: 'not needed' } })).status).toBe(200);
    await sys.temporal.workflow.getHandle(orderWorkflowId(o.orderId)).result();

    const add = () =>
      sys.call('POST', `/api/v1/orders/${o.orderId}/notes`, {
        body: { text: '  customer asked for a refund receipt  ' },
        headers: { ...withId('rq-late-note'), 'idempotency-key': `note-${o.orderId}` },
      });
    const first = await add();
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const note = first.body.history.at(-1);
    expect(note).toMatchObject({
      from: 'Cancelled',
      to: 'Cancelled',
      by: o.createdBy,
      reason: 'customer asked for a refund receipt',
      note: true,
      requestId: 'rq-late-note',
    });
    expect((await add()).status).toBe(201);
    const read = await readOrder(sys, o.orderId);
    expect(read.history.filter((h: any) => h.note)).toEqual([note]);
    // Without a key, a second request is a second note.
    expect((await sys.call('POST', `/api/v1/orders/${o.orderId}/notes`, { role: 'ops', body: { text: 'refund receipt sent' } })).status).toBe(201);
    expect((await readOrder(sys, o.orderId)).history.filter((h: any) => h.note).map((h: any) => h.reason)).toEqual([
      'customer asked for a refund receipt',
      'refund receipt sent',
    ]);

    const audit = await listAll(`actor=${encodeURIComponent(o.createdBy)}`, 200);
    const noted = audit.items.filter((e) => e.orderId === o.orderId && e.note);
    expect(noted).toHaveLength(1);
    expect(noted[0]).toMatchObject({ reason: 'customer asked for a refund receipt', requestId: 'rq-late-note', to: 'Cancelled' });
    expect(noted[0].entryKey.startsWith(`${o.orderId}:note:`)).toBe(true);
  });

  it('refuses an empty note, an unknown order, and an adaptor', async () => {
    const o = await createOrder(sys);
    expect((await sys.call('POST', `/api/v1/orders/${o.orderId}/notes`, { body: { text: '   ' } })).status).toBe(400);
    expect((await sys.call('POST', `/api/v1/orders/ORD-NOSUCHORDER/notes`, { body: { text: 'hello' } })).status).toBe(404);
    expect((await sys.call('POST', `/api/v1/orders/${o.orderId}/notes`, { role: 'adaptor', body: { text: 'hello' } })).status).toBe(403);
  });
});
