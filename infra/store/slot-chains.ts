// Slot chains: numbers handed out exactly once, in order, without gaps.
//
// FerretDB v1 lacks: transactions and atomic read-modify-write (`findOneAndUpdate` with `$inc` reads,
// then writes, so two callers can get the same number).
// This store instead: numbers slots by a document per slot with a unique `_id` (`INV-<n>`,
// `<accountId>:<n>`, `<address>|w<week>|<n>`). A slot n is taken only by a caller that saw n-1 taken
// (or read n-1 from a sequence hint, which names only taken slots), so a chain has no n without n-1;
// a lost race only means looking at the next slot. Only `_id` point reads and inserts: FerretDB
// pushes down no other filter.
// The plain MongoDB way: a counter document advanced with `findOneAndUpdate({_id}, {$inc: {n: 1}})`,
// inside a transaction with the insert it numbers when the numbers must be gapless.
import { isDuplicateKey } from '../db';

export interface SlotChain<D> {
  /** The document in slot n, or null while it is free. */
  read(n: number): Promise<D | null>;
  /** Inserts into its slot; fails with a duplicate key error when the slot (or the caller's unique key) is taken. */
  insert(doc: D): Promise<unknown>;
  /** A taken slot that is the caller's own (same idempotency key, same order). */
  isOwn(doc: D): boolean;
  /** For errors: what slot n is. */
  name(n: number): string;
}

/** What to do at a free slot: insert this document, adopt a document of the caller's found elsewhere, or nothing (null). */
export type AtFreeSlot<D> = { insert: D } | { adopt: D } | null;

/**
 * The caller's slot: the first free one from `from` on, or the one the caller already holds.
 * `atFree(n)` runs at each free slot, once slot n-1 is known taken. `claimed` is true only for the
 * call whose insert took the slot. null when `atFree` found nothing to claim.
 *
 * `likelyFree` (≥ `from`): the slot after the chain's end as this process remembers it
 * (`SlotMemory`: its predecessor was seen taken). The insert there goes first, without a read, and
 * the search goes on upward from it; only when the caller's key turns out to be held below it (an
 * insert clashed on the key while its slot is free) is the search made again from `from`.
 */
export async function claimSlot<D>(
  chain: SlotChain<D>,
  from: number,
  atFree: (n: number) => Promise<AtFreeSlot<D>>,
  likelyFree?: number,
): Promise<{ doc: D; claimed: boolean } | null> {
  if (likelyFree !== undefined && likelyFree > from) {
    const found = await search(chain, likelyFree, atFree, true);
    if (!found || !('clashedAt' in found)) return found;
  }
  const found = await search(chain, from, atFree, likelyFree === from);
  if (found && 'clashedAt' in found)
    throw new Error(`${chain.name(found.clashedAt)}: the insert clashed, yet the slot is free (is the caller's key held in another slot?)`);
  return found;
}

async function search<D>(
  chain: SlotChain<D>,
  from: number,
  atFree: (n: number) => Promise<AtFreeSlot<D>>,
  insertFirst: boolean,
): Promise<{ doc: D; claimed: boolean } | null | { clashedAt: number }> {
  for (let n = from; ; n++) {
    let slot = insertFirst && n === from ? null : await chain.read(n);
    if (!slot) {
      const next = await atFree(n);
      if (next && 'adopt' in next) return { doc: next.adopt, claimed: false };
      if (!next) {
        // Nothing to claim: perhaps because a concurrent call of the caller's just took this very slot.
        slot = await chain.read(n);
        return slot && chain.isOwn(slot) ? { doc: slot, claimed: false } : null;
      }
      try {
        await chain.insert(next.insert);
        return { doc: next.insert, claimed: true };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // lost the race for this slot: see who took it
      }
      slot = await chain.read(n);
      // Free, so the clash was the caller's own key: it holds a slot below this search's start.
      if (!slot) return { clashedAt: n };
    }
    if (chain.isOwn(slot)) return { doc: slot, claimed: false };
  }
}

/**
 * The last slot this process saw taken, per chain (most recently used kept, at most `limit`
 * chains): where its next search starts without reading a sequence hint. It never runs ahead of
 * the chain (slots are never freed); another process's claims only make it lag.
 */
export function slotMemory(limit: number) {
  const lastTaken = new Map<string, number>();
  return {
    last: (chain: string): number | undefined => lastTaken.get(chain),
    /** Slot n of the chain was seen taken. */
    taken(chain: string, n: number): void {
      const known = lastTaken.get(chain);
      if (known !== undefined && known >= n) return;
      lastTaken.delete(chain);
      lastTaken.set(chain, n);
      if (lastTaken.size > limit) lastTaken.delete(lastTaken.keys().next().value!);
    },
  };
}

export type SlotMemory = ReturnType<typeof slotMemory>;
