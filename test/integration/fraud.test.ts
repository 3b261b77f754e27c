// The fraud check in the Sales Order Request job, against the real Temporal dev server and
// FerretDB with the built-in rules provider: accept, reject, refer then an ops decision, refer
// then the review deadline, and a provider that is down for a while. The decision and its reasons
// show in the order's history, on the outbound sales order and in the Temporal UI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RulesFraudProvider, type FraudCheckRequest, type FraudProvider, type FraudProviderAnswer } from '../../infra/fraud-providers';
import type { DeliveryContact } from '../../domain/types';
import { getOrderQuery, orderWorkflowId } from '../../workflows/messages';
import {
  addLine,
  createOrder,
  deliveryElsewhere,
  generate,
  notes,
  outboxFiles,
  readOrder,
  readOutboxFile,
  waitForOrder,
  waitForStatus,
} from '../support/orders';
import { openedFailureMessage } from '../support/replay';
import { DEV_ACTORS, eventually, startSystem, type TestSystem } from '../support/system';

/** The built-in rules provider behind a switch that makes it unreachable. */
class SwitchableProvider implements FraudProvider {
  readonly name = 'builtin-rules';
  inner?: FraudProvider;
  down = false;
  readonly calls = new Map<string, number>();
  readonly failures = new Map<string, number>();

  async check(req: FraudCheckRequest): Promise<FraudProviderAnswer> {
    this.calls.set(req.orderId, (this.calls.get(req.orderId) ?? 0) + 1);
    if (this.down) {
      this.failures.set(req.orderId, (this.failures.get(req.orderId) ?? 0) + 1);
      throw new Error('fraud provider unreachable: connection refused');
    }
    return this.inner!.check(req);
  }

  async noteGeneratedOrder(order: { orderId: string; delivery: DeliveryContact; at: Date }): Promise<void> {
    await this.inner!.noteGeneratedOrder?.(order);
  }
}

// Every order needs a check (value above 0); many orders go to one address here on purpose.
const ENV = { FRAUD_VALUE_THRESHOLD: '0', FRAUD_VELOCITY_LIMIT: '1000' };
const HANDSET = 'HS-APL-IP16-128';

async function startWith(provider: SwitchableProvider, env: Record<string, string> = {}): Promise<TestSystem> {
  const s = await startSystem({ env: { ...ENV, ...env }, overrides: { fraudProvider: provider } });
  provider.inner = new RulesFraudProvider(s.db.models, { limit: s.config.fraud.velocityLimit, windowHours: 24 * 7 });
  return s;
}

/** A generated order with one handset, delivered as given (default: the account's own address). */
async function generated(s: TestSystem, delivery?: object): Promise<string> {
  const o = await createOrder(s, 'ACC-1001', delivery ? { delivery } : {});
  await addLine(s, o.orderId, HANDSET, 1);
  await generate(s, o.orderId);
  return o.orderId;
}

const details = async (s: TestSystem, orderId: string): Promise<string> =>
  (await s.temporal.workflow.getHandle(orderWorkflowId(orderId)).query<{ currentDetails?: string }>('__temporal_workflow_metadata')).currentDetails ?? '';

const provider = new SwitchableProvider();
let sys: TestSystem;
beforeAll(async () => {
  sys = await startWith(provider);
});
afterAll(async () => {
  await sys?.stop();
});

describe('fraud check', () => {
  it('accept: the order is sent, with the flag, reasons and result in the sales order and the history', async () => {
    const id = await generated(sys);
    const sent = await waitForStatus(sys, id, 'AwaitingDispatch');
    expect(sent.fraud).toMatchObject({
      required: true,
      reasons: ['ORDER_VALUE_ABOVE_THRESHOLD'],
      result: { decision: 'accept', reasons: [], provider: 'builtin-rules', providerReference: `rules:${id}:fraud` },
    });
    expect(notes(sent)).toEqual([`fraud check accept (reference rules:${id}:fraud)`]);
    expect(sent.history.find((h: any) => h.reason.startsWith('fraud check')).by).toBe('fraud:builtin-rules');

    expect(outboxFiles(sys, 'WH-NORTH')).toContain(`${id}-WH-NORTH-new.json`);
    const file = readOutboxFile(sys, 'WH-NORTH', `${id}-WH-NORTH-new.json`);
    expect(file.fraudCheck).toEqual({ required: true, reasons: ['ORDER_VALUE_ABOVE_THRESHOLD'], result: 'accept', providerReference: `rules:${id}:fraud` });
    expect(await sys.db.models.FraudDecision.countDocuments({ orderId: id })).toBe(1);
    expect(provider.calls.get(id)).toBe(1);
    expect(await details(sys, id)).toContain('fraud check [ORDER_VALUE_ABOVE_THRESHOLD]: accept');

    // Nothing to review: an ops decision is refused.
    const review = await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'ops', body: { decision: 'approve', reason: 'late' } });
    expect(review.status).toBe(409);
  });

  it('a decision already recorded under the check id when its first attempt runs (as after a workflow reset) wins over the provider’s new answer', async () => {
    // The first attempt asks without reading first: check ids are scheduled once, so a recorded decision is the exception.
    const o = await createOrder(sys, 'ACC-1001');
    const checkId = `${o.orderId}:fraud`;
    await sys.db.models.FraudDecision.create({
      _id: checkId,
      checkId,
      orderId: o.orderId,
      decision: 'reject',
      reasons: ['BLOCKLISTED_NAME'],
      provider: 'builtin-rules',
      providerReference: `rules:${checkId}`,
      checkedAt: new Date().toISOString(),
    });
    await addLine(sys, o.orderId, HANDSET, 1);
    await generate(sys, o.orderId);
    const failed = await waitForStatus(sys, o.orderId, 'Error');
    expect(failed.fraud.result).toMatchObject({ decision: 'reject', reasons: ['BLOCKLISTED_NAME'] });
    expect(provider.calls.get(o.orderId)).toBe(1); // it answered accept: the account's own address
    expect(await sys.db.models.FraudDecision.countDocuments({ orderId: o.orderId })).toBe(1);
    expect(await sys.db.models.SalesOrder.countDocuments({ orderId: o.orderId })).toBe(0);
  });

  it('reject: the order goes to Error with FRAUD_REJECTED and the reasons, and nothing is sent', async () => {
    const id = await generated(sys, deliveryElsewhere({ postcode: 'ZZ99 9ZZ' }));
    const failed = await waitForStatus(sys, id, 'Error');
    expect(failed.fraud).toMatchObject({
      required: true,
      reasons: ['DELIVERY_ADDRESS_DIFFERS', 'ORDER_VALUE_ABOVE_THRESHOLD'],
      result: { decision: 'reject' },
    });
    expect(failed.fraud.result.reasons).toEqual(expect.arrayContaining(['BLOCKLISTED_POSTCODE']));
    expect(failed.error.code).toBe('FRAUD_REJECTED');
    expect(failed.error.message).toContain('BLOCKLISTED_POSTCODE');
    expect(notes(failed)[0]).toMatch(/^fraud check reject: .*BLOCKLISTED_POSTCODE/);
    expect(failed.history.at(-1)).toMatchObject({ from: 'AwaitingGeneration', to: 'Error', by: 'system', reason: expect.stringContaining('FRAUD_REJECTED') });
    expect(failed.subOrders).toEqual([]);
    expect(await sys.db.models.SalesOrder.countDocuments({ orderId: id })).toBe(0);
    for (const w of sys.config.warehouses.ids) expect(outboxFiles(sys, w).filter((f) => f.startsWith(id))).toEqual([]);
    const outcome = await sys.temporal.workflow.getHandle(orderWorkflowId(id)).result();
    expect(outcome).toMatchObject({ status: 'Error', invoiceNumber: null });
    expect(await sys.db.models.Charge.countDocuments({ orderId: id })).toBe(0);
  });

  it('refer then approve: the order waits flagged FRAUD_REVIEW until ops approve it, audited, then it is sent', async () => {
    const id = await generated(sys, deliveryElsewhere({ name: 'asdf qwerty' }));
    const waiting = await waitForOrder(sys, id, (o) => !!o.fraud?.awaitingReview, 'waiting for a fraud review');
    expect(waiting.status).toBe('AwaitingGeneration');
    expect(waiting.fraud.result).toMatchObject({ decision: 'refer', reasons: ['NAME_IMPLAUSIBLE'] });
    expect(notes(waiting)).toEqual([`fraud check refer: NAME_IMPLAUSIBLE (reference rules:${id}:fraud)`]);
    expect(Date.parse(waiting.fraud.awaitingReview.deadline) - Date.parse(waiting.fraud.awaitingReview.since)).toBe(48 * 3_600_000);
    expect(await details(sys, id)).toMatch(/refer \(NAME_IMPLAUSIBLE\) · FRAUD_REVIEW until/);

    const queue = await sys.call('GET', '/api/v1/fraud-reviews', { role: 'ops' });
    expect(queue.body.items.map((o: any) => o.orderId)).toContain(id);
    // Agents cannot decide; a decision needs a reason.
    expect((await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'agent', body: { decision: 'approve', reason: 'x' } })).status).toBe(403);
    expect((await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'ops', body: { decision: 'approve' } })).status).toBe(400);
    expect((await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'ops', body: { decision: 'maybe', reason: 'x' } })).status).toBe(400);
    expect(outboxFiles(sys, 'WH-NORTH').filter((f) => f.startsWith(id))).toEqual([]);

    const approved = await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, {
      role: 'ops',
      body: { decision: 'approve', reason: 'customer confirmed by phone' },
    });
    expect(approved.status).toBe(200);
    expect(approved.body.fraud.review).toMatchObject({ decision: 'approve', by: DEV_ACTORS.ops, reason: 'customer confirmed by phone' });
    expect(approved.body.history.at(-1)).toMatchObject({ by: DEV_ACTORS.ops, reason: 'fraud review approved: customer confirmed by phone' });
    // Decided once: a second decision is refused.
    expect((await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'ops', body: { decision: 'reject', reason: 'changed my mind' } })).status).toBe(
      409,
    );

    const sent = await waitForStatus(sys, id, 'AwaitingDispatch');
    expect(sent.fraud.awaitingReview).toBeUndefined();
    const file = readOutboxFile(sys, 'WH-NORTH', `${id}-WH-NORTH-new.json`);
    // The warehouse gets the final decision: a referral that ops approved is accepted.
    expect(file.fraudCheck).toEqual({
      required: true,
      reasons: ['DELIVERY_ADDRESS_DIFFERS', 'ORDER_VALUE_ABOVE_THRESHOLD'],
      result: 'accept',
      providerReference: `rules:${id}:fraud`,
    });
    expect((await sys.call('GET', '/api/v1/fraud-reviews', { role: 'ops' })).body.items.map((o: any) => o.orderId)).not.toContain(id);
    expect(provider.calls.get(id)).toBe(1);
  });

  it('refer then ops reject: Error with FRAUD_REJECTED, who and why; nothing sent', async () => {
    const id = await generated(sys, deliveryElsewhere({ name: 'asdf qwerty' }));
    await waitForOrder(sys, id, (o) => !!o.fraud?.awaitingReview, 'waiting for a fraud review');
    const r = await sys.call('POST', `/api/v1/orders/${id}/fraud-review`, {
      role: 'ops',
      body: { decision: 'reject', reason: 'name does not match the account holder' },
    });
    expect(r.status).toBe(200);
    const failed = await waitForStatus(sys, id, 'Error');
    expect(failed.error).toEqual({ code: 'FRAUD_REJECTED', message: `fraud review rejected by ${DEV_ACTORS.ops}: name does not match the account holder` });
    expect(notes(failed)).toContain('fraud review rejected: name does not match the account holder');
    expect(await sys.db.models.SalesOrder.countDocuments({ orderId: id })).toBe(0);
  });

  it('provider down for a while: the order neither errors nor sends, ops see it retrying; then it proceeds', async () => {
    provider.down = true;
    let id = '';
    try {
      id = await generated(sys);
      await eventually(async () => (provider.failures.get(id) ?? 0) >= 2, 'two failed attempts');
      const handle = sys.temporal.workflow.getHandle(orderWorkflowId(id));
      const pending = await eventually(async () => {
        const d = await handle.describe();
        const a = d.raw.pendingActivities?.find((p) => p.activityType?.name === 'runFraudCheck');
        return a && (a.attempt ?? 0) >= 2 ? a : undefined;
      }, 'the retrying fraud check in the workflow description');
      // Failure messages are sealed like every payload; through the codec ops read why it retries.
      expect(pending.lastFailure?.message).toBe('Encoded failure');
      expect(await openedFailureMessage(pending.lastFailure)).toContain('fraud provider unreachable');
      // Agents see the generated order waiting; its read model is written once the job rests (the
      // policy's verdict with it), so the verdict and the retries are ops' to see in Temporal.
      const meanwhile = await readOrder(sys, id);
      expect(meanwhile.status).toBe('AwaitingGeneration');
      expect(meanwhile.error).toBeNull();
      expect((await handle.query(getOrderQuery)).fraud).toEqual({ required: true, reasons: ['ORDER_VALUE_ABOVE_THRESHOLD'] });
      expect(await sys.db.models.SalesOrder.countDocuments({ orderId: id })).toBe(0);
      expect(await sys.db.models.FraudDecision.countDocuments({ orderId: id })).toBe(0);
      expect(await details(sys, id)).toContain('pending');
    } finally {
      provider.down = false;
    }
    const sent = await waitForStatus(sys, id, 'AwaitingDispatch');
    expect(sent.fraud.result.decision).toBe('accept');
    expect(await sys.db.models.FraudDecision.countDocuments({ orderId: id })).toBe(1);
    expect(outboxFiles(sys, 'WH-NORTH')).toContain(`${id}-WH-NORTH-new.json`);
  });

  it('cancelled while the provider is down: the check stops, the order stays Cancelled and the workflow ends', async () => {
    provider.down = true;
    let id = '';
    try {
      id = await generated(sys, deliveryElsewhere({ postcode: 'ZZ99 9ZZ' }));
      await eventually(async () => (provider.failures.get(id) ?? 0) >= 1, 'a failed attempt');
      const c = await sys.call('POST', `/api/v1/orders/${id}/cancel`, { body: { reason: 'customer withdrew' } });
      expect(c.status).toBe(200);
      expect(c.body.status).toBe('Cancelled');
      // The workflow does not wait for the provider to come back: cancelling stops the check.
      const outcome = await sys.temporal.workflow.getHandle(orderWorkflowId(id)).result();
      expect(outcome.status).toBe('Cancelled');
    } finally {
      provider.down = false;
    }
    const done = await readOrder(sys, id);
    expect(done).toMatchObject({ status: 'Cancelled', error: null });
    expect(done.fraud.result).toBeUndefined();
    expect(await sys.db.models.SalesOrder.countDocuments({ orderId: id })).toBe(0);
  });
});

describe('fraud review deadline', () => {
  const quick = new SwitchableProvider();
  let fast: TestSystem;
  beforeAll(async () => {
    fast = await startWith(quick, { FRAUD_REVIEW_DEADLINE: '3s' });
  });
  afterAll(async () => {
    await fast?.stop();
  });

  it('a referral nobody decides is rejected when the deadline passes', async () => {
    const id = await generated(fast, deliveryElsewhere({ name: 'asdf qwerty' }));
    const waiting = await waitForOrder(fast, id, (o) => !!o.fraud?.awaitingReview, 'waiting for a fraud review');
    expect(Date.parse(waiting.fraud.awaitingReview.deadline) - Date.parse(waiting.fraud.awaitingReview.since)).toBe(3000);
    const failed = await waitForStatus(fast, id, 'Error');
    expect(failed.error).toEqual({ code: 'FRAUD_REJECTED', message: 'fraud review not decided within 3s' });
    expect(failed.fraud.awaitingReview).toBeUndefined();
    expect(failed.fraud.review).toBeUndefined();
    expect(await fast.db.models.SalesOrder.countDocuments({ orderId: id })).toBe(0);
    // Too late for a decision now.
    expect((await fast.call('POST', `/api/v1/orders/${id}/fraud-review`, { role: 'ops', body: { decision: 'approve', reason: 'late' } })).status).toBe(409);
  });
});

describe('first order on an account', () => {
  const rules = new SwitchableProvider();
  let first: TestSystem;
  beforeAll(async () => {
    // Only the first-order rule can ask for a check here.
    first = await startWith(rules, { FRAUD_CHECK_FIRST_ORDER: 'true', FRAUD_VALUE_THRESHOLD: '100000000' });
  });
  afterAll(async () => {
    await first?.stop();
  });

  it('checks the account first order; once one has reached the warehouse, the next needs no check', async () => {
    const one = await generated(first);
    const sent = await waitForStatus(first, one, 'AwaitingDispatch');
    expect(sent.fraud).toMatchObject({ required: true, reasons: ['FIRST_ORDER_ON_ACCOUNT'], result: { decision: 'accept' } });
    const two = await generated(first);
    const next = await waitForStatus(first, two, 'AwaitingDispatch');
    expect(next.fraud).toEqual({ required: false, reasons: [] });
    expect(rules.calls.has(two)).toBe(false);
  });
});

describe('delivery address velocity', () => {
  const rules = new SwitchableProvider();
  let busy: TestSystem;
  beforeAll(async () => {
    busy = await startWith(rules, { FRAUD_VELOCITY_LIMIT: '2' });
  });
  afterAll(async () => {
    await busy?.stop();
  });
  const to = (line: string): DeliveryContact => ({ ...deliveryElsewhere(), address: { lines: [line], city: 'York', postcode: 'YO1 7HH', country: 'GB' } });

  it('the order that reaches the limit of orders to one address is referred with VELOCITY_EXCEEDED; other addresses are not', async () => {
    const address = to('1 Velocity Lane');
    const first = await waitForStatus(busy, await generated(busy, address), 'AwaitingDispatch');
    expect(first.fraud.result).toMatchObject({ decision: 'accept', reasons: [] });
    const second = await waitForStatus(busy, await generated(busy, address), 'AwaitingDispatch');
    expect(second.fraud.result).toMatchObject({ decision: 'accept', reasons: [] });
    // Spelled differently, the same address: two other orders went there within the window.
    const third = await generated(busy, { ...address, address: { ...address.address, lines: ['1  velocity lane'], postcode: 'yo17hh' } });
    const referred = await waitForOrder(busy, third, (o) => !!o.fraud?.awaitingReview, 'referred for velocity');
    expect(referred.fraud.result).toMatchObject({ decision: 'refer', reasons: ['VELOCITY_EXCEEDED'] });
    const elsewhere = await waitForStatus(busy, await generated(busy, to('2 Velocity Lane')), 'AwaitingDispatch');
    expect(elsewhere.fraud.result.decision).toBe('accept');
  });

  it('counts each order once, however often or concurrently it is told, and only orders inside the window', async () => {
    const limitOne = new RulesFraudProvider(busy.db.models, { limit: 1, windowHours: 24 * 7 });
    const address = to('3 Velocity Lane');
    const ask = (orderId: string) => limitOne.check({ checkId: `${orderId}:fraud`, orderId, accountId: 'ACC-1001', delivery: address });

    // Eight days ago: outside the 7-day window.
    await limitOne.noteGeneratedOrder({ orderId: 'ORD-OLD', delivery: address, at: new Date(Date.now() - 8 * 86_400_000) });
    expect((await ask('ORD-NEW')).reasons).toEqual([]);
    // Its own record never counts against an order.
    await limitOne.noteGeneratedOrder({ orderId: 'ORD-NEW', delivery: address, at: new Date() });
    expect((await ask('ORD-NEW')).reasons).toEqual([]);
    expect((await ask('ORD-OTHER')).reasons).toEqual(['VELOCITY_EXCEEDED']);

    // Twelve orders at once, each told three times: all recorded, in slots without gaps, each
    // counted once however many slots a retry took.
    const many = Array.from({ length: 12 }, (_, i) => `ORD-MANY-${i}`);
    const manyTo = to('4 Velocity Lane');
    const at = new Date(); // one bucket's slots, even at its edge
    await Promise.all([...many, ...many, ...many].map((orderId) => limitOne.noteGeneratedOrder({ orderId, delivery: manyTo, at })));
    const uses = await busy.db.models.DeliveryAddressUse.find({ orderId: { $in: many } }).lean();
    expect([...new Set(uses.map((u) => u.orderId))].sort()).toEqual([...many].sort());
    expect(uses.map((u) => Number(String(u._id).split('|')[2])).sort((a, b) => a - b)).toEqual(uses.map((_, i) => i));
    const limitTwelve = new RulesFraudProvider(busy.db.models, { limit: 12, windowHours: 24 * 7 });
    const askTwelve = (orderId: string) => limitTwelve.check({ checkId: `${orderId}:fraud`, orderId, accountId: 'ACC-1001', delivery: manyTo });
    expect((await askTwelve('ORD-MANY-0')).reasons).toEqual([]); // eleven others
    expect((await askTwelve('ORD-MANY-12')).reasons).toEqual(['VELOCITY_EXCEEDED']); // twelve others
  });

  it('counts exactly the orders inside the window across its two buckets, with or without the hint', async () => {
    const DAY = 86_400_000;
    const WEEK = 7 * DAY;
    const thisBucket = Date.parse('2026-11-26T00:00:00.000Z') - (Date.parse('2026-11-26T00:00:00.000Z') % WEEK);
    const lastBucket = thisBucket - WEEK;
    const address = to('5 Velocity Lane');
    const uses: [string, number][] = [
      ['ORD-W-1', lastBucket + 1 * DAY],
      ['ORD-W-2', lastBucket + 2 * DAY],
      ['ORD-W-3', lastBucket + 3.5 * DAY],
      ['ORD-W-4', lastBucket + 5 * DAY],
      ['ORD-W-5', thisBucket + 1 * DAY],
      ['ORD-W-SELF', thisBucket + 2 * DAY],
    ];
    const noter = new RulesFraudProvider(busy.db.models, { limit: 1, windowHours: 24 * 7 });
    for (const [orderId, at] of uses) await noter.noteGeneratedOrder({ orderId, delivery: address, at: new Date(at) });
    /** Whether the order is referred with this limit when the window ends at `now`. */
    const referred = async (limit: number, now: number) =>
      (
        await new RulesFraudProvider(busy.db.models, { limit, windowHours: 24 * 7 }, () => new Date(now)).check({
          checkId: 'ORD-W-SELF:fraud',
          orderId: 'ORD-W-SELF',
          accountId: 'ACC-1001',
          delivery: address,
        })
      ).reasons.includes('VELOCITY_EXCEEDED');
    const others = async (now: number) => {
      let n = 0;
      while (await referred(n + 1, now)) n++;
      return n;
    };
    // The window from lastBucket + 3 days: W-3, W-4 and W-5; W-1 and W-2 are older, W-SELF is its own.
    const now = thisBucket + 3 * DAY;
    expect(await others(now)).toBe(3);
    // A day and three quarters later the window starts after W-3.
    expect(await others(now + 1.75 * DAY)).toBe(2);
    // Past the last bucket altogether: only this bucket's W-5.
    expect(await others(thisBucket + 8 * DAY)).toBe(1);
    // The last bucket's hint lost (it may lag): the slots are read from the first, with the same count.
    const lastPrefix = (await busy.db.models.DeliveryAddressUse.findOne({ orderId: 'ORD-W-1' }).lean())!._id.split('|').slice(0, 2).join('|');
    expect((await busy.db.models.SequenceHint.deleteOne({ _id: `address:${lastPrefix}|` })).deletedCount).toBe(1);
    expect(await others(now)).toBe(3);
    expect(await others(now + 1.75 * DAY)).toBe(2);
  });
});
