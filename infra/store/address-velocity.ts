// Address velocity: how many orders went to one delivery address lately (the fraud velocity rule).
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}`: counting an address's recent orders with
// `countDocuments({addressKey, generatedAt: {$gte}})` would read and decode the whole collection.
// This store instead: gives each address a slot chain (slot-chains.ts) per 7-day bucket (from the
// epoch, so every process agrees), `deliveryAddressUses._id = <address hash>|w<bucket's first
// day>|<n>`, taken in time order; a count is a few `_id` probes. The 7-day window spans at most two
// buckets, so an address with no recent orders costs three reads (the current bucket's first slot,
// the previous bucket's hint and first slot).
// The plain MongoDB way: one document per use with an index on `{addressKey, generatedAt}` and a
// `countDocuments` with a `limit`.
import { createHash } from 'node:crypto';
import { normaliseAddressKey } from '../../domain/fraud';
import type { Address } from '../../domain/types';
import { isDuplicateKey, type Models } from '../db';
import { sequenceHints } from './sequence-hints';
import { claimSlot } from './slot-chains';

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

export function addressVelocity(models: Pick<Models, 'DeliveryAddressUse' | 'SequenceHint'>): AddressVelocity {
  const { DeliveryAddressUse } = models;
  const hints = sequenceHints(models);

  return {
    /**
     * Takes the address's next free slot in the bucket, searching from the bucket's hint (an
     * address may take hundreds of orders a week: a business's head office). A retry finds its own
     * slot at or above the hint; one left below it is counted once anyway (orders are counted, not
     * slots).
     */
    async note(address, orderId, at) {
      const prefix = slotPrefix(address, bucketOf(at.getTime()));
      const slot = (n: number) => `${prefix}${n}`;
      const hint = await hints.last(hintId(prefix));
      // The slot after the hint (slot 0 when there is none) is the usual free one: insert at once,
      // no read first (its predecessor is taken: that is what a hint says). Taken: search as below.
      const first = hint === 0 ? 0 : hint + 1;
      try {
        await DeliveryAddressUse.create({ _id: slot(first), orderId, generatedAt: at.toISOString() });
        // A hint of 0 says as much as slot 0 taken: no write for the usual address, seen once a week.
        if (first > 0) await hints.raise(hintId(prefix), first);
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const taken = await claimSlot(
        {
          read: (n) => DeliveryAddressUse.findOne({ _id: slot(n) }, { orderId: 1 }).lean(),
          insert: (doc) => DeliveryAddressUse.create(doc),
          isOwn: (use) => use.orderId === orderId,
          name: (n) => `delivery address use ${slot(n)}`,
        },
        hint,
        async (n) => ({ insert: { _id: slot(n), orderId, generatedAt: at.toISOString() } }),
      );
      if (taken?.claimed) await hints.raise(hintId(prefix), Number(taken.doc._id.slice(prefix.length)));
    },

    /**
     * Newest bucket first. A bucket wholly inside the window is read from its first slot to the
     * first free one. One that starts before the window is read up from its hint to the first free
     * slot (a hint may lag), then down from the hint until a use is older than the window: a busy
     * address's older uses are never read.
     */
    async countRecent(address, orderId, { now, windowHours, limit }) {
      const since = now.getTime() - windowHours * 3_600_000;
      const sinceIso = new Date(since).toISOString();
      const others = new Set<string>();
      for (let bucket = bucketOf(now.getTime()); bucket + BUCKET_MS > since && others.size < limit; bucket -= BUCKET_MS) {
        const prefix = slotPrefix(address, bucket);
        const read = (n: number) => DeliveryAddressUse.findOne({ _id: `${prefix}${n}` }, { orderId: 1, generatedAt: 1 }).lean();
        const start = bucket >= since ? 0 : await hints.last(hintId(prefix));
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
