// The order's read model writer (projectOrder) against the real FerretDB: a new order is created
// with one insert, each next revision is one replace without a read, and no path lets an older
// revision overwrite a newer one: retries, replays, another worker process that has not written
// the order, concurrent snapshots, and an attempt Temporal gave up on.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { orderViewWriter } from '../../infra/store/order-views';
import { CommandCounter, subtractCounts } from '../../bench/metrics';
import { connectDb, type Db } from '../../infra/db';
import type { OrderView } from '../../workflows/messages';

let db: Db;
const counter = new CommandCounter();
beforeAll(async () => {
  db = await connectDb(`mongodb://${inject('mongoHost')}/t_views_${randomBytes(4).toString('hex')}?monitorCommands=true`);
  counter.attach(db.conn.getClient());
});
afterAll(async () => {
  await db?.close();
});

const live = () => new AbortController().signal;
let n = 0;
const newOrderId = () => `ORD-VIEW-${Date.now()}-${++n}`;
const view = (orderId: string, revision: number): OrderView =>
  ({
    orderId,
    accountId: 'ACC-1001',
    status: revision >= 3 ? 'AwaitingGeneration' : 'New',
    revision,
    createdAt: '2026-11-26T10:00:00.000Z',
    lines: [],
    subOrders: [],
    history: [],
  }) as unknown as OrderView;
const stored = async (orderId: string) =>
  (await db.models.OrderView.findOne({ _id: orderId }).lean()) as { revision: number; status: string; state: { revision: number } } | null;

/** The commands one call sends, by `<command> <collection>`. */
async function commandsOf(fn: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = counter.snapshot();
  await fn();
  return subtractCounts(counter.snapshot(), before).byCollection;
}

describe('order view writer', () => {
  it('creates a new order with one insert, then writes each next revision with one replace', async () => {
    const write = orderViewWriter(db);
    const id = newOrderId();
    expect(await commandsOf(() => write(view(id, 1), live()))).toEqual({ 'insert orders': 1 });
    expect(await commandsOf(() => write(view(id, 2), live()))).toEqual({ 'update orders': 1 });
    expect(await commandsOf(() => write(view(id, 3), live()))).toEqual({ 'update orders': 1 });
    const doc = await stored(id);
    expect(doc?.revision).toBe(3);
    expect(doc?.state.revision).toBe(3);
    expect(doc?.status).toBe('AwaitingGeneration');
  });

  it("notes the units' search references once, when they ship, not again on each later revision", async () => {
    const write = orderViewWriter(db);
    const id = newOrderId();
    await write(view(id, 1), live());
    const unit = {
      rowKey: 'b:1',
      lineNumber: 1,
      sku: 'HS',
      quantity: 1,
      batchId: 'b',
      imei: '490154203237518',
      serialNumber: `SN-${id}`,
      trackingNumber: `TRK-${id}`,
    };
    const shipped = (revision: number) =>
      ({
        ...view(id, revision),
        subOrders: [{ subOrderNumber: `${id}-WH-NORTH`, warehouseId: 'WH-NORTH', lines: [], status: 'Shipped', units: [unit], lineExceptions: [] }],
      }) as OrderView;
    // The IMEI, the serial and the tracking number, each new: their first slots in one insert.
    expect(await commandsOf(() => write(shipped(2), live()))).toEqual({ 'update orders': 1, 'insert orderReferences': 1 });
    expect(await commandsOf(() => write(shipped(3), live()))).toEqual({ 'update orders': 1 });
    // A repair notes them again: the one insert clashes on each, and each read finds its own.
    expect(await commandsOf(() => write(shipped(4), live(), { verify: true }))).toEqual({
      'insert orders': 1,
      'find orders': 1,
      'update orders': 1,
      'insert orderReferences': 1,
      'find orderReferences': 3,
    });
    expect(await db.models.OrderReference.findOne({ _id: `serial:SN-${id}#0` }).lean()).toMatchObject({ orderId: id });
  });

  it('never writes an older or the same revision again (a retried or replayed snapshot)', async () => {
    const write = orderViewWriter(db);
    const id = newOrderId();
    await write(view(id, 1), live());
    await write(view(id, 4), live());
    expect(await commandsOf(() => write(view(id, 4), live()))).toEqual({});
    expect(await commandsOf(() => write(view(id, 2), live()))).toEqual({});
    expect((await stored(id))?.revision).toBe(4);
  });

  it('reads first in a process that has not written the order, and keeps the newer revision', async () => {
    const id = newOrderId();
    await orderViewWriter(db)(view(id, 5), live());
    // Another worker process (or this one after a restart): nothing remembered.
    const other = orderViewWriter(db);
    expect(await commandsOf(() => other(view(id, 3), live()))).toEqual({ 'insert orders': 1, 'find orders': 1 });
    expect((await stored(id))?.revision).toBe(5);
    // Having read revision 5, it skips anything up to 5 without a round trip, and replaces with 6.
    expect(await commandsOf(() => other(view(id, 4), live()))).toEqual({});
    expect(await commandsOf(() => other(view(id, 6), live()))).toEqual({ 'update orders': 1 });
    expect((await stored(id))?.revision).toBe(6);
  });

  it('lands the newest of concurrent snapshots whatever order they arrive in', async () => {
    const write = orderViewWriter(db);
    const id = newOrderId();
    await Promise.all([7, 2, 9, 1, 8, 3].map((r) => write(view(id, r), live())));
    expect((await stored(id))?.revision).toBe(9);
  });

  it('repairs a view changed elsewhere only when asked to verify (the reconciliation), whatever this process remembers', async () => {
    const write = orderViewWriter(db);
    const stale = newOrderId();
    const deleted = newOrderId();
    for (const id of [stale, deleted]) await write(view(id, 6), live());
    // Another process's stale attempt lands over revision 6; a view is deleted by hand.
    await db.models.OrderView.replaceOne(
      { _id: stale },
      { orderId: stale, accountId: 'ACC-1001', status: 'New', revision: 2, createdAt: 'x', updatedAt: 'x', state: view(stale, 2) },
    );
    await db.models.OrderView.deleteOne({ _id: deleted });
    // The workflow's own retry of revision 6 trusts what this process wrote: no round trip.
    expect(await commandsOf(() => write(view(stale, 6), live()))).toEqual({});
    await write(view(stale, 6), live(), { verify: true });
    await write(view(deleted, 6), live(), { verify: true });
    expect((await stored(stale))?.revision).toBe(6);
    expect((await stored(stale))?.status).toBe('AwaitingGeneration');
    expect((await stored(deleted))?.revision).toBe(6);
    // Verifying never goes back: an older snapshot is still refused.
    await write(view(stale, 5), live(), { verify: true });
    expect((await stored(stale))?.revision).toBe(6);
  });

  it('writes the next revision of a view deleted behind its back instead of replacing nothing', async () => {
    const write = orderViewWriter(db);
    const id = newOrderId();
    await write(view(id, 1), live());
    await db.models.OrderView.deleteOne({ _id: id });
    await write(view(id, 2), live());
    expect((await stored(id))?.revision).toBe(2);
    // And it is remembered again: the next revision is one replace.
    expect(await commandsOf(() => write(view(id, 3), live()))).toEqual({ 'update orders': 1 });
  });

  it('does not write at all for an attempt Temporal gave up on', async () => {
    const id = newOrderId();
    await orderViewWriter(db)(view(id, 1), live());
    const gaveUp = new AbortController();
    gaveUp.abort(new Error('local activity timed out'));
    await expect(orderViewWriter(db)(view(id, 2), gaveUp.signal)).rejects.toThrow('local activity timed out');
    expect((await stored(id))?.revision).toBe(1);
  });
});
