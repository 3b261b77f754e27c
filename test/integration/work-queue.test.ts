// The ops work queue against the real Temporal dev server and FerretDB: every kind of item appears
// with its count (an order referred for fraud review, one backordered, one in Error, an adaptor
// exception, a failed enrolment), pages with a cursor without losing or repeating an item, filters
// by kind, and empties as ops resolve items; ops only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrderView } from '../../workflows/messages';
import { deliver, errorRow, ordersAwaitingDispatch, waitForStatus } from '../support/dispatch-fixtures';
import { waitForOrder } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  // Error orders stay open for ops while the test looks at them (the tests' default window is 2 s).
  sys = await startSystem({ env: { ERROR_RESOLUTION_WINDOW: '1h' } });
});
afterAll(async () => {
  await sys?.stop();
});

interface Queue {
  counts: Record<string, number>;
  items: { kind: string; id: string; at: string; orderId: string | null; accountId: string | null; status: string | null; summary: string }[];
  nextCursor: string | null;
}

async function queue(query = ''): Promise<Queue> {
  const r = await sys.call('GET', `/api/v1/work-queue${query}`, { role: 'ops' });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

async function newOrder(body: Record<string, unknown>, lines: { sku: string; quantity: number }[]): Promise<string> {
  const created = await sys.call('POST', '/api/v1/accounts/ACC-1003/orders', { body });
  expect(created.status).toBe(201);
  const orderId: string = created.body.orderId;
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
  expect((await sys.call('POST', `/api/v1/orders/${orderId}/generate`)).status).toBe(200);
  return orderId;
}

describe('ops work queue', () => {
  let referred: string;
  let backordered: string;
  let errored: OrderView;
  const instructionId = 'enrol-test-1';

  beforeAll(async () => {
    // A name the built-in fraud rules refer, delivered away from the billing address.
    const delivery = { name: 'Qwerty Smith', address: { lines: ['5 Castle Street'], city: 'Inverness', postcode: 'IV1 1AA', country: 'GB' } };
    referred = await newOrder({ delivery }, [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }]);
    // More handsets than every warehouse holds together.
    backordered = await newOrder({}, [{ sku: 'HS-APL-IP16-128', quantity: 900 }]);
    // The warehouse answers an error for the only line.
    const [sent] = await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1002', lines: [{ sku: 'PR-GEN-CASE-IP16', quantity: 1 }] });
    await deliver(sys, sent.subOrders[0].warehouseId, 'error.csv', [errorRow(sent, 1, 'DAMAGED', 'stock damaged in the warehouse')]);
    [errored] = await waitForStatus(sys, [sent.orderId], 'Error');
    // A response row for a sub-order nobody sent: an adaptor exception.
    await deliver(sys, 'WH-NORTH', 'stray.csv', [
      {
        warehouse_id: 'WH-NORTH',
        sub_order_number: 'ORD-UNKNOWN0000-WH-NORTH',
        line_number: 1,
        sku: 'PR-GEN-CASE-IP16',
        quantity_shipped: 1,
        carrier: 'DPD',
        tracking_number: 'TRK-STRAY',
        ship_date: '2025-03-14',
        disposition: 'shipped',
      },
    ]);
    // A device the manufacturer refused, as the Device Enrolment Response job records it.
    const at = new Date().toISOString();
    await sys.db.models.EnrolmentInstruction.create({
      instructionId,
      requestId: 'req-1',
      action: 'enrol',
      manufacturer: 'apple',
      customerId: 'ORG-1',
      orderId: errored.orderId,
      orderNumber: errored.orderId,
      deviceId: '353325110000012',
      device: { imei: '353325110000012', lineNumber: 1, sku: 'HS-APL-IP16-128' },
      status: 'failed',
      result: { code: 'DEVICE_NOT_FOUND', message: 'not sold through this reseller' },
      requestedBy: 'csa-test',
      createdAt: at,
      updatedAt: at,
    });
    await waitForOrder(sys, referred, (o) => !!o.fraud?.awaitingReview, 'referred for review');
    await waitForOrder(sys, backordered, (o) => !!o.backorder, 'backordered');
  });

  it('lists each kind with its count, oldest first, each item saying what needs doing', async () => {
    const q = await queue();
    expect(q.counts).toEqual({
      fraudReview: 1,
      backordered: 1,
      error: 1,
      dispatchOverdue: 0,
      cancellationUnanswered: 0,
      adaptorException: 1,
      enrolmentFailed: 1,
    });
    expect(q.items.map((i) => i.kind).sort()).toEqual(['adaptorException', 'backordered', 'enrolmentFailed', 'error', 'fraudReview']);
    expect(q.items.map((i) => i.at)).toEqual(q.items.map((i) => i.at).sort());
    expect(q.nextCursor).toBeNull();
    const byKind = Object.fromEntries(q.items.map((i) => [i.kind, i]));
    expect(byKind.fraudReview).toMatchObject({ id: referred, orderId: referred, accountId: 'ACC-1003', status: 'AwaitingGeneration' });
    expect(byKind.fraudReview.summary).toContain('NAME_IMPLAUSIBLE');
    expect(byKind.backordered).toMatchObject({ id: backordered, orderId: backordered, status: 'AwaitingGeneration' });
    expect(byKind.backordered.summary).toContain('HS-APL-IP16-128 short by');
    expect(byKind.error).toMatchObject({ id: errored.orderId, accountId: 'ACC-1002', status: 'Error' });
    expect(byKind.adaptorException).toMatchObject({ orderId: null, status: null });
    expect(byKind.adaptorException.summary).toContain('ORD-UNKNOWN0000-WH-NORTH');
    expect(byKind.enrolmentFailed).toMatchObject({ id: instructionId, orderId: errored.orderId });
    expect(byKind.enrolmentFailed.summary).toContain('DEVICE_NOT_FOUND');
  });

  it('pages with a cursor, every item once, and filters by kind', async () => {
    const all = (await queue()).items.map((i) => `${i.kind}:${i.id}`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Queue = await queue(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => `${i.kind}:${i.id}`));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all);

    const errors = await queue('?kind=error');
    expect(errors.items.map((i) => i.id)).toEqual([errored.orderId]);
    expect(errors.counts.fraudReview).toBe(1); // counts stay those of every kind
    expect((await queue('?kind=dispatchOverdue')).items).toEqual([]);
  });

  it('refuses a cursor it did not hand out, an unknown kind and any role but ops', async () => {
    expect((await sys.call('GET', '/api/v1/work-queue?cursor=bm9wZQ', { role: 'ops' })).status).toBe(400);
    const first = await queue('?limit=1');
    expect((await sys.call('GET', `/api/v1/work-queue?kind=error&cursor=${first.nextCursor}`, { role: 'ops' })).status).toBe(
      first.items[0].kind === 'error' ? 200 : 400,
    );
    expect((await sys.call('GET', '/api/v1/work-queue?kind=everything', { role: 'ops' })).status).toBe(400);
    for (const role of ['agent', 'adaptor', 'admin'] as const) expect((await sys.call('GET', '/api/v1/work-queue', { role })).status).toBe(403);
  });

  it('empties as items are dealt with: fraud approved, backorder cancelled, enrolment requeued, exception resolved', async () => {
    const approved = await sys.call('POST', `/api/v1/orders/${referred}/fraud-review`, {
      role: 'ops',
      body: { decision: 'approve', reason: 'called the customer' },
    });
    expect(approved.status).toBe(200);
    expect((await sys.call('POST', `/api/v1/orders/${backordered}/cancel`, { body: { reason: 'customer gave up waiting' } })).status).toBe(200);
    expect((await sys.call('POST', '/api/v1/enrolment/requeue', { role: 'ops', body: { instructionIds: [instructionId] } })).status).toBe(200);
    const open = await sys.call('GET', '/api/v1/adaptor/exceptions', { role: 'ops' });
    for (const e of open.body.items as { id: string }[]) {
      const dismissed = await sys.call('POST', `/api/v1/adaptor/exceptions/${encodeURIComponent(e.id)}/resolve`, {
        role: 'ops',
        body: { action: 'dismiss', reason: 'a test row' },
      });
      expect(dismissed.status).toBe(200);
    }
    const left = await (async () => {
      for (const deadline = Date.now() + 30_000; ;) {
        const q = await queue();
        if (q.counts.fraudReview === 0 && q.counts.backordered === 0) return q;
        if (Date.now() > deadline) throw new Error(`the queue did not empty: ${JSON.stringify(q.counts)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    expect(left.counts).toEqual({
      fraudReview: 0,
      backordered: 0,
      error: 1,
      dispatchOverdue: 0,
      cancellationUnanswered: 0,
      adaptorException: 0,
      enrolmentFailed: 0,
    });
    expect(left.items.map((i) => i.id)).toEqual([errored.orderId]);
  });
});
