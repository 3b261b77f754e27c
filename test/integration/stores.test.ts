// The FerretDB workarounds' stores (infra/store/) against the real FerretDB: slot chains hand out
// every slot once and without gaps under concurrent claimers; the invoice-number store issues an
// order's immediate invoice with point reads and inserts only, and without reading back the charges
// it was given; sequence hints never go back for one writer; address velocity counts each order once.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { MongoLedger } from '../../activities/billing';
import { CommandCounter, subtractCounts } from '../../bench/metrics';
import type { ChargeDraft } from '../../domain/billing';
import { connectDb, type Db } from '../../infra/db';
import { addressVelocity } from '../../infra/store/address-velocity';
import { sequenceHints } from '../../infra/store/sequence-hints';
import { claimSlot, type SlotChain } from '../../infra/store/slot-chains';

let db: Db;
const counter = new CommandCounter();
beforeAll(async () => {
  db = await connectDb(`mongodb://${inject('mongoHost')}/t_stores_${randomBytes(4).toString('hex')}?monitorCommands=true`);
  counter.attach(db.conn.getClient());
});
afterAll(async () => {
  await db?.close();
});

/** The commands one call sends, by `<command> <collection>`. */
async function commandsOf<T>(fn: () => Promise<T>): Promise<{ result: T; commands: Record<string, number> }> {
  const before = counter.snapshot();
  const result = await fn();
  return { result, commands: subtractCounts(counter.snapshot(), before).byCollection };
}

describe('slot chains', () => {
  type Slot = { _id: string; owner: string };
  const chainOf = (name: string, owner: string): SlotChain<Slot> => {
    const slots = db.conn.collection<Slot>(`slots_${name}`);
    return {
      read: (n) => slots.findOne({ _id: `${name}:${n}` }),
      insert: (doc) => slots.insertOne(doc),
      isOwn: (doc) => doc.owner === owner,
      name: (n) => `${name}:${n}`,
    };
  };
  const claim = (name: string, owner: string, from = 1) => claimSlot(chainOf(name, owner), from, async (n) => ({ insert: { _id: `${name}:${n}`, owner } }));

  it('gives 12 concurrent claimers, three of them twice at once, slots 1..9 once each; a later retry finds its own slot', async () => {
    const owners = Array.from({ length: 9 }, (_, i) => `owner-${i}`);
    const results = await Promise.all([...owners, ...owners.slice(0, 3)].map((o) => claim('race', o).then((r) => ({ o, r }))));
    const slotOf = new Map<string, string>();
    for (const { o, r } of results) {
      expect(r!.doc.owner).toBe(o);
      if (slotOf.has(o)) expect(r!.doc._id).toBe(slotOf.get(o));
      slotOf.set(o, r!.doc._id);
    }
    expect([...slotOf.values()].sort()).toEqual(owners.map((_, i) => `race:${i + 1}`).sort());
    expect(results.filter((x) => x.r!.claimed)).toHaveLength(9);
    expect(await claim('race', 'owner-4')).toEqual({ doc: { _id: slotOf.get('owner-4'), owner: 'owner-4' }, claimed: false });
  });

  it('claims nothing when there is nothing to claim, and adopts what the caller found elsewhere', async () => {
    expect(await claimSlot(chainOf('empty', 'a'), 1, async () => null)).toBeNull();
    const found = { _id: 'elsewhere:7', owner: 'a' };
    expect(await claimSlot(chainOf('empty', 'a'), 1, async () => ({ adopt: found }))).toEqual({ doc: found, claimed: false });
  });
});

describe('sequence hints', () => {
  it('start at 0, rise, and a lower raise leaves them', async () => {
    const hints = sequenceHints(db.models);
    expect(await hints.last('test:h')).toBe(0);
    await hints.raise('test:h', 5);
    await hints.raise('test:h', 3);
    expect(await hints.last('test:h')).toBe(5);
  });
});

describe('invoice numbers (MongoLedger.billOrder)', () => {
  const draft = (orderId: string, line: number): ChargeDraft => ({
    chargeKey: `${orderId}:${line}:b`,
    lineNumber: line,
    sku: 'PR-GEN-CASE-IP16',
    description: 'Clear Case',
    quantity: 1,
    unitPrice: 1499,
    taxRateBps: 2000,
    amount: 1499,
    tax: 300,
  });
  const bill = (orderId: string, billingMode: 'immediate' | 'nextInvoice' = 'immediate') =>
    new MongoLedger(db).billOrder({ orderId, accountId: 'ACC-S', currency: 'GBP', billingMode, charges: [draft(orderId, 2), draft(orderId, 1)] });

  it('invoices an immediate order with point reads and inserts, never reading back the charges it recorded', async () => {
    const first = await commandsOf(() => bill('ORD-S1'));
    expect(first.result).toEqual({
      invoiceNumber: 'INV-00000001',
      charges: [
        expect.objectContaining({ lineNumber: 1, invoiceNumber: 'INV-00000001' }),
        expect.objectContaining({ lineNumber: 2, invoiceNumber: 'INV-00000001' }),
      ],
    });
    expect(first.commands).toEqual({
      'insert charges': 1, // both in one command
      'find sequenceHints': 2, // the account's and the number's
      'insert invoiceRequests': 1,
      'find accountInvoices': 1,
      'insert accountInvoices': 1,
      'find invoices': 1,
      'insert invoices': 1,
      'update sequenceHints': 2,
      'update charges': 2,
      'update invoiceRequests': 1,
    });
    // The next order starts from the hints: one read of each chain.
    const second = await commandsOf(() => bill('ORD-S2'));
    expect(second.result.invoiceNumber).toBe('INV-00000002');
    expect(second.commands['find accountInvoices']).toBe(1);
    expect(second.commands['find invoices']).toBe(1);
  });

  it('retried, and concurrently, answers with the same invoice and issues nothing new', async () => {
    const [a, b] = await Promise.all([bill('ORD-S3'), bill('ORD-S3')]);
    const again = await bill('ORD-S3');
    expect(b).toEqual(a);
    expect(again).toEqual(a);
    expect(await db.models.Invoice.countDocuments({ idempotencyKey: 'order:ORD-S3' })).toBe(1);
    expect((await db.models.Charge.find({ orderId: 'ORD-S3' }).lean()).map((c) => c.invoiceNumber)).toEqual([a.invoiceNumber, a.invoiceNumber]);
  });

  it('records a deferred order’s charges and issues no invoice', async () => {
    const { result, commands } = await commandsOf(() => bill('ORD-S4', 'nextInvoice'));
    expect(result).toEqual({
      invoiceNumber: null,
      charges: [expect.objectContaining({ invoiceNumber: null }), expect.objectContaining({ invoiceNumber: null })],
    });
    expect(commands).toEqual({ 'insert charges': 1 });
  });
});

describe('address velocity', () => {
  const address = { lines: ['1 Test Street'], city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' };
  const window = (now: Date) => ({ now, windowHours: 24 * 7, limit: 10 });

  it('counts an order once however often it is noted, and only the other orders in the window', async () => {
    const uses = addressVelocity(db.models);
    const now = new Date();
    // Notes of one order at once, or a retry that starts above its slot, may take two slots: orders are counted, not slots.
    await Promise.all([uses.note(address, 'ORD-A', now), uses.note(address, 'ORD-A', now), uses.note(address, 'ORD-B', now)]);
    await uses.note(address, 'ORD-A', now);
    expect(await db.models.DeliveryAddressUse.countDocuments({})).toBeGreaterThanOrEqual(2);
    expect(await uses.countRecent(address, 'ORD-C', window(now))).toBe(2);
    expect(await uses.countRecent(address, 'ORD-A', window(now))).toBe(1);
    expect(await uses.countRecent(address, 'ORD-C', window(new Date(now.getTime() + 8 * 86_400_000)))).toBe(0);
  });
});
