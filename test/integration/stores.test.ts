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
import { invoiceNumberOf } from '../../infra/store/invoice-numbers';
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
  /** A worker's ledger: its memory of the invoice chains lives as long as it does. */
  const worker = () => new MongoLedger(db);
  const billOn = (ledger: MongoLedger, orderId: string, billingMode: 'immediate' | 'nextInvoice' = 'immediate', accountId = 'ACC-S') =>
    ledger.billOrder({ orderId, accountId, currency: 'GBP', billingMode, charges: [draft(orderId, 2), draft(orderId, 1)] });
  const bill = (orderId: string, billingMode: 'immediate' | 'nextInvoice' = 'immediate') => billOn(worker(), orderId, billingMode);

  it('invoices an immediate order with point reads and inserts, never reading back the charges it recorded; from then on without a read', async () => {
    const ledger = worker();
    const first = await commandsOf(() => billOn(ledger, 'ORD-S1'));
    expect(first.result).toEqual({
      invoiceNumber: 'INV-00000001',
      charges: [
        expect.objectContaining({ lineNumber: 1, invoiceNumber: 'INV-00000001' }),
        expect.objectContaining({ lineNumber: 2, invoiceNumber: 'INV-00000001' }),
      ],
    });
    expect(first.commands).toEqual({
      'insert charges': 1, // both in one command
      'find sequenceHints': 2, // the account's and the number's: this worker has not seen the chains yet
      'insert invoiceRequests': 1,
      'find accountInvoices': 1,
      'insert accountInvoices': 1,
      'find invoices': 1,
      'insert invoices': 1,
      'update charges': 1, // both in one command
      'update invoiceRequests': 1,
    });
    // The worker remembers where both chains end: the next invoice's places are inserted at once.
    const second = await commandsOf(() => billOn(ledger, 'ORD-S2'));
    expect(second.result.invoiceNumber).toBe('INV-00000002');
    expect(second.commands).toEqual({
      'insert charges': 1,
      'insert invoiceRequests': 1,
      'insert accountInvoices': 1,
      'insert invoices': 1,
      'update charges': 1,
      'update invoiceRequests': 1,
    });
  });

  it('a worker’s invoices at once on one account take their places in turn: no insert clashes, no read', async () => {
    const ledger = worker();
    await billOn(ledger, 'ORD-T0'); // the worker learns where the chains end
    const { result, commands } = await commandsOf(() => Promise.all(Array.from({ length: 8 }, (_, i) => billOn(ledger, `ORD-T${i + 1}`))));
    expect(new Set(result.map((r) => r.invoiceNumber)).size).toBe(8);
    expect(commands).toMatchObject({ 'insert accountInvoices': 8, 'insert invoices': 8 });
    expect(commands['find accountInvoices']).toBeUndefined();
    expect(commands['find invoices']).toBeUndefined();
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

describe('invoice numbers with several workers (MongoLedger, one memory each)', () => {
  // Its own accounts: the numbers are shared with the tests above, the account sequences are not.
  const draft = (orderId: string): ChargeDraft => ({
    chargeKey: `${orderId}:1:b`,
    lineNumber: 1,
    sku: 'PR-GEN-CASE-IP16',
    description: 'Clear Case',
    quantity: 1,
    unitPrice: 1000,
    taxRateBps: 2000,
    amount: 1000,
    tax: 200,
  });
  const billOn = (ledger: MongoLedger, orderId: string, accountId: string) =>
    ledger.billOrder({ orderId, accountId, currency: 'GBP', billingMode: 'immediate', charges: [draft(orderId)] });

  /** Numbers 1..N across all invoices, each account's places 1..k, one invoice per order, each charge marked with it. */
  async function expectGapFree() {
    const all = await db.models.Invoice.find({}).lean();
    const ascending = (xs: number[]) => [...xs].sort((a, b) => a - b);
    expect(ascending(all.map((i) => i.sequence))).toEqual(all.map((_, i) => i + 1));
    for (const accountId of new Set(all.map((i) => i.accountId))) {
      const places = ascending(all.filter((i) => i.accountId === accountId).map((i) => i.accountSequence));
      expect(places, accountId).toEqual(places.map((_, i) => i + 1));
    }
    expect(new Set(all.map((i) => i.idempotencyKey)).size).toBe(all.length);
    const charges = await db.models.Charge.find({ orderId: /^ORD-W/ }).lean();
    for (const c of charges) expect(c.invoiceNumber, c.chargeKey).toBe(all.find((i) => i.chargeKeys.includes(c.chargeKey))?.invoiceNumber);
    return all;
  }

  it('two workers issuing interleaved invoices, one after the other and at once, then a restarted one: numbers and places without gaps or duplicates', async () => {
    const a = new MongoLedger(db);
    const b = new MongoLedger(db);
    const accounts = ['ACC-W1', 'ACC-W2'];
    let n = 0;
    const next = (ledger: MongoLedger, account = accounts[n % 2]) => billOn(ledger, `ORD-W${n++}`, account);
    // In turn: each worker's memory lags behind what the other issued since.
    for (let round = 0; round < 4; round++) {
      await next(a);
      await next(a, 'ACC-W1');
      await next(b);
      await next(b, 'ACC-W1');
    }
    await expectGapFree();
    // At once: 24 orders on the two workers, each worker's claims one at a time, racing the other's.
    await Promise.all(Array.from({ length: 24 }, (_, i) => next(i % 2 ? a : b)));
    await expectGapFree();
    // A worker started afresh knows nothing of the chains: it starts from their hints, which lag.
    const restarted = new MongoLedger(db);
    await Promise.all([next(restarted), next(restarted), next(a), next(b, 'ACC-W1')]);
    const all = await expectGapFree();
    expect(all.filter((i) => i.idempotencyKey.startsWith('order:ORD-W'))).toHaveLength(n);
  });

  it('a retry on a worker whose memory is past the invoice’s places finds them below, and issues nothing new', async () => {
    const a = new MongoLedger(db);
    const b = new MongoLedger(db);
    await billOn(a, 'ORD-WR0', 'ACC-W3');
    const issued = await billOn(b, 'ORD-WR1', 'ACC-W3');
    // Its issuer stopped after numbering it, before recording it as issued.
    await db.models.InvoiceRequest.updateOne({ _id: 'order:ORD-WR1' }, { $unset: { invoiceNumber: 1 } });
    await billOn(a, 'ORD-WR2', 'ACC-W3'); // a's memory of both chains now ends above ORD-WR1's places
    const before = await db.models.Invoice.countDocuments({});
    expect(
      await a.issueInvoice({ accountId: 'ACC-W3', idempotencyKey: 'order:ORD-WR1', kind: 'offCycle', chargeKeys: [draft('ORD-WR1').chargeKey] }),
    ).toMatchObject({
      invoiceNumber: issued.invoiceNumber,
      created: false,
    });
    expect(await db.models.Invoice.countDocuments({})).toBe(before);
    expect((await db.models.InvoiceRequest.findOne({ _id: 'order:ORD-WR1' }).lean())?.invoiceNumber).toBe(issued.invoiceNumber);
    await expectGapFree();
    // a goes on from where it was.
    expect((await billOn(a, 'ORD-WR3', 'ACC-W3')).invoiceNumber).toBe(invoiceNumberOf(before + 1));
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

  it('notes a new address in one insert and counts it in two reads; another worker notes a busy one from its hint', async () => {
    const fresh = { ...address, lines: ['2 Test Street'] };
    const worker = addressVelocity(db.models);
    // Mid-bucket: the 7-day window reaches into the previous bucket.
    const now = new Date(Math.floor(Date.now() / (7 * 86_400_000)) * 7 * 86_400_000 + 3 * 86_400_000);
    expect((await commandsOf(() => worker.note(fresh, 'ORD-F1', now))).commands).toEqual({ 'insert deliveryAddressUses': 1 });
    // Its own use is known to this worker; the next slot and the previous bucket's first are read.
    const counted = await commandsOf(() => worker.countRecent(fresh, 'ORD-F1', window(now)));
    expect(counted).toEqual({ result: 0, commands: { 'find deliveryAddressUses': 2 } });
    // The next order to it: the slot after the remembered one, at once, and the hint raised.
    expect((await commandsOf(() => worker.note(fresh, 'ORD-F2', now))).commands).toEqual({ 'insert deliveryAddressUses': 1, 'update sequenceHints': 1 });
    // Another worker has not seen the address: slot 0 is taken, so it reads the hint and goes on from there.
    const other = addressVelocity(db.models);
    expect((await commandsOf(() => other.note(fresh, 'ORD-F3', now))).commands).toEqual({
      'insert deliveryAddressUses': 2,
      'find sequenceHints': 1,
      'find deliveryAddressUses': 2, // slot 1 (the hint's), slot 2 (free)
      'update sequenceHints': 1,
    });
    expect(await other.countRecent(fresh, 'ORD-F9', window(now))).toBe(3);
    expect(await worker.countRecent(fresh, 'ORD-F1', window(now))).toBe(2);
  });
});
