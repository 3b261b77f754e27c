// Address velocity: how many orders went to one delivery address lately (the fraud velocity rule).
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}`: counting an address's recent orders with
// `countDocuments({addressKey, generatedAt: {$gte}})` would read and decode the whole collection.
// This store instead: gives each address a slot chain (slot-chains.ts) per 7-day bucket (from the
// epoch, so every process agrees), `deliveryAddressUses._id = <address hash>|w<bucket's first
// day>|<n>`, taken in time order; a count is a few `_id` probes. A note inserts at once into the
// slot after the address's end as this process remembers it, or slot 0 (most addresses see one
// order a week); only when that slot is taken does it read the bucket's hint. A use never changes,
// so the uses this process wrote or read are kept (bounded) and not read again. The 7-day window
// spans at most two buckets, so an address with no recent orders costs two reads (the first slot
// of each bucket).
// The plain MongoDB way: one document per use with an index on `{addressKey, generatedAt}` and a
// `countDocuments` with a `limit`.
import { createHash } from 'node:crypto';
import { normaliseAddressKey } from '../../domain/fraud';
import type { Address } from '../../domain/types';
import { isDuplicateKey, type Models } from '../db';
import { sequenceHints } from './sequence-hints';
import { claimSlot, slotMemory } from './slot-chains';

export interface AddressVelocity {
  /** The order was generated to the address at `at`. Idempotent. */
  note(address: Address, orderId: string, at: Date): Promise<void>;
  /** Other orders generated to the address within `windowHours` before `now`, counted up to `limit` (the rule asks only whether it is reached). */
  countRecent(address: Address, orderId: string, window: { now: Date; windowHours: number; limit: number }): Promise<number>;
}

const BUCKET_MS = 7 * 86_400_000;
const bucketOf = (t: number) => t - (t % BUCKET_MS);

/** The address is hashed: slot ids stay short, and no separator inside an address can clash. */
function slotPrefix(address: Address, bucket: number): string {
  const hash = createHash('sha256').update(normaliseAddressKey(address)).digest('hex').slice(0, 32);
  return `${hash}|w${new Date(bucket).toISOString().slice(0, 10)}|`;
}

const hintId = (prefix: string) => `address:${prefix}`;
const REMEMBERED_ADDRESSES = 20_000;
const REMEMBERED_USES = 20_000;

type Use = { orderId: string; generatedAt: string };

export function addressVelocity(models: Pick<Models, 'DeliveryAddressUse' | 'SequenceHint'>): AddressVelocity {
  const { DeliveryAddressUse } = models;
  const hints = sequenceHints(models);
  // Per address and bucket (slot prefix): the last slot this process saw taken.
  const memory = slotMemory(REMEMBERED_ADDRESSES);
  const uses = new Map<string, Use>();
  const keep = (id: string, use: Use) => {
    uses.set(id, use);
    if (uses.size > REMEMBERED_USES) uses.delete(uses.keys().next().value!);
  };
  /** The use in a slot, or null while it is free; a taken slot is read once per process. */
  const useIn = async (id: string): Promise<Use | null> => {
    const kept = uses.get(id);
    if (kept) return kept;
    const use = await DeliveryAddressUse.findOne({ _id: id }, { _id: 0, orderId: 1, generatedAt: 1 }).lean<Use>();
    if (use) keep(id, { orderId: use.orderId, generatedAt: use.generatedAt });
    return use;
  };

  return {
    /**
     * Takes the address's next free slot in the bucket, searching from the bucket's hint (an
     * address may take hundreds of orders a week: a business's head office). A retry finds its own
     * slot at or above where it starts; one left below is counted once anyway (orders are counted,
     * not slots).
     */
    async note(address, orderId, at) {
      const prefix = slotPrefix(address, bucketOf(at.getTime()));
      const slot = (n: number) => `${prefix}${n}`;
      const use = { orderId, generatedAt: at.toISOString() };
      const took = async (n: number) => {
        keep(slot(n), use);
        memory.taken(prefix, n);
        // A hint of 0 says as much as slot 0 taken: no write for the usual address, seen once a week.
        if (n > 0) await hints.raise(hintId(prefix), n);
      };
      // The usual free slot (its predecessor is taken, or it is the first): insert at once, no read.
      const known = memory.last(prefix);
      const first = known === undefined ? 0 : known + 1;
      try {
        await DeliveryAddressUse.create({ _id: slot(first), ...use });
        return await took(first);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      memory.taken(prefix, first);
      const taken = await claimSlot(
        {
          read: async (n) => {
            const taken = await useIn(slot(n));
            return taken && { _id: slot(n), ...taken };
          },
          insert: (doc) => DeliveryAddressUse.create(doc),
          isOwn: (u) => u.orderId === orderId,
          name: (n) => `delivery address use ${slot(n)}`,
        },
        // From the slot that clashed (perhaps this order's own), or higher when the hint says so.
        Math.max(first, await hints.last(hintId(prefix))),
        async (n) => ({ insert: { _id: slot(n), ...use } }),
      );
      if (taken?.claimed) await took(Number(taken.doc._id.slice(prefix.length)));
    },

    /**
     * Newest bucket first. A bucket wholly inside the window is read from its first slot to the
     * first free one. One that starts before the window is empty when its first slot is free;
     * otherwise it is read up from its hint (or this process's memory) to the first free slot (either
     * may lag), then down until a use is older than the window: a busy address's older uses are
     * never read.
     */
    async countRecent(address, orderId, { now, windowHours, limit }) {
      const since = now.getTime() - windowHours * 3_600_000;
      const sinceIso = new Date(since).toISOString();
      const others = new Set<string>();
      for (let bucket = bucketOf(now.getTime()); bucket + BUCKET_MS > since && others.size < limit; bucket -= BUCKET_MS) {
        const prefix = slotPrefix(address, bucket);
        const read = (n: number) => useIn(`${prefix}${n}`);
        let start = 0;
        if (bucket < since) {
          if (!(await read(0))) continue;
          start = memory.last(prefix) ?? (await hints.last(hintId(prefix)));
        }
        for (let n = start; others.size < limit; n++) {
          const use = await read(n);
          if (!use) break;
          if (use.orderId !== orderId && use.generatedAt >= sinceIso) others.add(use.orderId);
        }
        for (let n = start - 1; n >= 0 && others.size < limit; n--) {
          const use = await read(n);
          if (!use || use.generatedAt < sinceIso) break;
          if (use.orderId !== orderId) others.add(use.orderId);
        }
      }
      return others.size;
    },
  };
}
