// The audit trail: every person's actions across orders (`GET /api/v1/audit?actor=&from=&to=`),
// written from each order's history by the order view writer (order-views.ts) before the view, and
// by the API for a note on a finished order (order-notes.ts).
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}` (a `find({actor, at: {$gte, $lt}})` reads
// the whole collection, every person's every action) and an atomic counter.
// This store instead: keeps each person's actions of one UTC day in a slot chain (slot-chains.ts'
// rule: slot n is taken only after n-1 was seen taken), `auditEntries._id = <actor>|<day>#<n>`,
// n from 1; a listing reads a day's slots by `_id` until a free one, day after day (an empty day
// is one read). A chain's writes are queued in the process (per-key-queue.ts). Where a write's search starts: this process's memory of the chain, else its
// sequence hint (sequence-hints.ts, raised every HINT_EVERY slots). Writing an entry again is a
// no-op: `entryKey` (`<orderId>#<history index>`) has a unique index, so the insert of an entry
// already in the trail clashes there while its slot stays free.
// The plain MongoDB way: one document per entry with a unique `entryKey` and an index on
// `{actor, at}`, listed with `find({actor, at: {$gte: from, $lte: to}}).sort({at: 1})`.
import type { AuditEntry } from '../../domain/order-history';
import { auditDay, nextAuditDay } from '../../domain/order-history';
import { isDuplicateKey, type Models } from '../db';
import { oneAtATimePerKey } from './per-key-queue';
import { sequenceHints } from './sequence-hints';
import { slotMemory } from './slot-chains';

/** Empty days a page looks at before it answers with what it found and a cursor. */
export const AUDIT_DAYS_PER_PAGE = 31;
/** The persisted hint of a chain is raised every this many slots (best effort). */
const HINT_EVERY = 16;
const REMEMBERED_CHAINS = 20_000;

// The actor is a free string: percent-encoded, it holds no `|` or `#`.
const chainOf = (actor: string, day: string) => `${encodeURIComponent(actor)}|${day}`;
const slotId = (chain: string, n: number) => `${chain}#${n}`;

/** Where a page starts: the day and the last slot shown (0: none yet). */
export interface AuditPosition {
  day: string;
  slot: number;
}

export interface AuditTrail {
  /** Writes the entries not yet in the trail; an entry already there is left as it is. */
  record(entries: readonly AuditEntry[]): Promise<void>;
  /** One person's entries with `from` ≤ at ≤ `to`, day by day in the order recorded; `next` when there may be more. */
  list(q: { actor: string; from: string; to: string; after?: AuditPosition; limit: number }): Promise<{ items: AuditEntry[]; next: AuditPosition | null }>;
}

export function auditTrail(models: Pick<Models, 'AuditEntry' | 'SequenceHint'>): AuditTrail {
  const { AuditEntry: Entries } = models;
  const hints = sequenceHints(models);
  const memory = slotMemory(REMEMBERED_CHAINS);

  // A chain's writes in this process one at a time: writers racing for one slot would each lose
  // and read again (a busy person's many orders projected at once), quadratic in the writers.
  const inTurn = oneAtATimePerKey();

  /** Entries of one chain, in order. */
  function recordRun(chain: string, run: AuditEntry[]): Promise<void> {
    return inTurn(chain, async () => {
      const placed = run.length > 1 ? await claimNext(chain, run) : 0;
      for (const entry of run.slice(placed)) await claim(chain, entry);
    });
  }

  /**
   * The run in the chain's next slots in one command (ordered: slot n goes in after n-1), where this
   * process knows the chain's end (an order's entries projected together). Returns how many went
   * in; the first that clashed and those after it are claimed one by one.
   */
  async function claimNext(chain: string, run: AuditEntry[]): Promise<number> {
    const known = memory.last(chain);
    if (known === undefined) return 0;
    let placed = run.length;
    try {
      await Entries.insertMany(
        run.map((entry, i) => ({ _id: slotId(chain, known + 1 + i), ...entry })),
        { ordered: true },
      );
    } catch (err) {
      const writeErrors = (err as { writeErrors?: { index: number; code?: number } | { index: number; code?: number }[] }).writeErrors;
      const first = Array.isArray(writeErrors) ? writeErrors[0] : writeErrors;
      if (!first || !isDuplicateKey(first)) throw err;
      placed = first.index;
    }
    if (placed === 0) return 0;
    memory.taken(chain, known + placed);
    const hinted = known + placed - ((known + placed) % HINT_EVERY);
    if (hinted > known) await hints.raise(`audit:${chain}`, hinted);
    return placed;
  }

  async function claim(chain: string, entry: AuditEntry): Promise<void> {
    const known = memory.last(chain) ?? (await hints.last(`audit:${chain}`));
    for (let n = known + 1; ; n++) {
      try {
        await Entries.create({ _id: slotId(chain, n), ...entry });
        memory.taken(chain, n);
        if (n % HINT_EVERY === 0) await hints.raise(`audit:${chain}`, n);
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const taken = await Entries.findOne({ _id: slotId(chain, n) }, { entryKey: 1 }).lean();
      // The slot is free, so the clash was the entry's own key: it is in the trail already.
      if (!taken) return;
      memory.taken(chain, n);
      if (taken.entryKey === entry.entryKey) return;
    }
  }

  return {
    async record(entries) {
      // In turn: an order's entries of one person go to one chain, in history order.
      for (let i = 0; i < entries.length;) {
        const chain = chainOf(entries[i].actor, auditDay(entries[i].at));
        let end = i + 1;
        while (end < entries.length && chainOf(entries[end].actor, auditDay(entries[end].at)) === chain) end++;
        await recordRun(chain, entries.slice(i, end));
        i = end;
      }
    },

    async list({ actor, from, to, after, limit }) {
      const lastDay = auditDay(to);
      let day = after?.day ?? auditDay(from);
      let n = (after?.slot ?? 0) + 1;
      let daysWithoutEntry = 0;
      const items: AuditEntry[] = [];
      while (day <= lastDay) {
        const doc = await Entries.findOne({ _id: slotId(chainOf(actor, day), n) }, { _id: 0 }).lean<AuditEntry>();
        if (!doc) {
          day = nextAuditDay(day);
          n = 1;
          if (++daysWithoutEntry >= AUDIT_DAYS_PER_PAGE && day <= lastDay) return { items, next: { day, slot: 0 } };
          continue;
        }
        if (doc.at >= from && doc.at <= to) {
          items.push(doc);
          if (items.length === limit) return { items, next: { day, slot: n } };
        }
        daysWithoutEntry = 0;
        n++;
      }
      return { items, next: null };
    },
  };
}
