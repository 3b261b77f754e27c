// Reference data read on every order (accounts, catalogue products; the fraud lists in
// infra/fraud-providers.ts) changes rarely:
// each process keeps what it read for a short time. On FerretDB a lookup by accountId or sku is a
// scan of the collection, so this also keeps a real customer base off the order path.
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
  return (key: string): Promise<V | null> => {
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
}

export type ReferenceData = ReturnType<typeof referenceData>;

export function referenceData(models: Models, ttlMs = REFERENCE_DATA_TTL_MS) {
  const { Account, Product } = models;
  return {
    account: cachedLookup((accountId) => Account.findOne({ accountId }, { _id: 0, nameLower: 0 }).lean<DomainAccount>().exec(), ttlMs),
    product: cachedLookup((sku) => Product.findOne({ sku }, { _id: 0 }).lean<DomainProduct>().exec(), ttlMs),
  };
}
