// Reference data read on every order (accounts, catalogue products; the fraud lists in
// infra/fraud-providers.ts) changes rarely:
// each process keeps what it read for a short time. On FerretDB a lookup by accountId or sku is a
// scan of the collection, so this also keeps a real customer base off the order path.
import { sameRecord, type BlocklistEntryWrite } from '../domain/reference-data';
import type { Account as DomainAccount, Product as DomainProduct } from '../domain/types';
import type { Models } from './db';

/** How long a process trusts reference data it read: an edit shows everywhere within this. */
export const REFERENCE_DATA_TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

/**
 * A lookup whose answers are kept for `ttlMs`; concurrent calls for one key share one read. A
 * missing entry (null) or a failed read is not kept: a new account or product is seen at once.
 */
export function cachedLookup<V>(load: (key: string) => PromiseLike<V | null>, ttlMs: number, now: () => number = Date.now) {
  const entries = new Map<string, { at: number; value: Promise<V | null> }>();
  const lookup = (key: string): Promise<V | null> => {
    const hit = entries.get(key);
    if (hit && now() - hit.at < ttlMs) return hit.value;
    // A real promise, read once: a mongoose query is a thenable that runs again on each await.
    const value = Promise.resolve().then(() => load(key));
    entries.delete(key);
    entries.set(key, { at: now(), value });
    if (entries.size > MAX_ENTRIES) entries.delete(entries.keys().next().value!);
    value.then(
      (v) => v === null && entries.get(key)?.value === value && entries.delete(key),
      () => entries.get(key)?.value === value && entries.delete(key),
    );
    return value;
  };
  /** Drops what this process read for `key` (after this process wrote it); other processes wait out the TTL. */
  const forget = (key: string) => void entries.delete(key);
  return Object.assign(lookup, { forget });
}

export type ReferenceData = ReturnType<typeof referenceData>;

export function referenceData(models: Models, ttlMs = REFERENCE_DATA_TTL_MS) {
  const { Account, Product } = models;
  return {
    account: cachedLookup((accountId) => Account.findOne({ accountId }, { _id: 0, nameLower: 0 }).lean<DomainAccount>().exec(), ttlMs),
    product: cachedLookup((sku) => Product.findOne({ sku }, { _id: 0 }).lean<DomainProduct>().exec(), ttlMs),
  };
}

// ---- Writing reference data (admin API, CSV imports, `npm run import`) ----

/** What a write did: `unchanged` when the stored record already said the same. */
export type WriteOutcome = 'created' | 'updated' | 'unchanged';

/**
 * Products, accounts and fraud blocklist entries written by business key. Each write reads the
 * stored record first and writes only a difference, so repeating a write (a retried request, the
 * same file imported twice) changes nothing. Products are never deleted: `active: false` retires one.
 * A price change touches only the catalogue: order lines keep the price captured when added.
 */
export function referenceDataWriter(models: Models, reference?: ReferenceData) {
  const { Account, Product, FraudListEntry } = models;

  /** Upsert with the unique index as the referee: a create that lost a race is retried as an update. */
  const upsert = async (write: () => Promise<unknown>) => {
    try {
      await write();
    } catch (e) {
      if ((e as { code?: number }).code !== 11000) throw e;
      await write();
    }
  };

  return {
    async product(p: DomainProduct): Promise<WriteOutcome> {
      const stored = await Product.findOne({ sku: p.sku }, { _id: 0 }).lean<DomainProduct>().exec();
      if (stored && sameRecord(stored, p)) return 'unchanged';
      const unset = p.manufacturer === undefined ? { $unset: { manufacturer: 1 } } : {};
      await upsert(() => Product.updateOne({ sku: p.sku }, { $set: p, ...unset }, { upsert: true }).exec());
      reference?.product.forget(p.sku);
      return stored ? 'updated' : 'created';
    },

    async account(a: DomainAccount): Promise<WriteOutcome> {
      const stored = await Account.findOne({ accountId: a.accountId }, { _id: 0, nameLower: 0 }).lean<DomainAccount>().exec();
      if (stored && sameRecord(stored, a)) return 'unchanged';
      await upsert(() => Account.updateOne({ accountId: a.accountId }, { $set: { ...a, nameLower: a.name.toLowerCase() } }, { upsert: true }).exec());
      reference?.account.forget(a.accountId);
      return stored ? 'updated' : 'created';
    },

    /** The fraud provider reads the lists through its own cache: a change shows within the TTL. */
    async blocklistEntry(e: BlocklistEntryWrite): Promise<WriteOutcome> {
      const stored = await FraudListEntry.findOne({ kind: e.kind, value: e.value }, { _id: 0 }).lean<BlocklistEntryWrite>().exec();
      if (stored && sameRecord(stored, e)) return 'unchanged';
      const unset = e.note === undefined ? { $unset: { note: 1 } } : {};
      await upsert(() => FraudListEntry.updateOne({ kind: e.kind, value: e.value }, { $set: e, ...unset }, { upsert: true }).exec());
      return stored ? 'updated' : 'created';
    },

    /** Removes a blocklist entry; false when there was none. */
    async removeBlocklistEntry(kind: string, value: string): Promise<boolean> {
      const r = await FraudListEntry.deleteOne({ kind, value }).exec();
      return r.deletedCount > 0;
    },
  };
}

export type ReferenceDataWriter = ReturnType<typeof referenceDataWriter>;
