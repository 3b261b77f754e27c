import { Context } from '@temporalio/activity';
import { createHash } from 'node:crypto';
import type { OrderView } from '../workflows/messages';
import { isDuplicateKey, type Db } from '../infra/db';
import type { ActivityDeps } from './index';

/**
 * Runs `fn` after every earlier call with the same key has settled. A local activity attempt that
 * timed out is abandoned by Temporal, not stopped: on FerretDB its write can sit behind SQLite's
 * lock for seconds and land after the retry and the next snapshot (seen in the 1,000-order test).
 * Queueing each order's writes behind the previous attempt keeps them in order in this process.
 */
export function oneAtATimePerKey() {
  const tails = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}

/** At most this many orders' stored revisions are remembered per worker process (about 1 MB). */
const REMEMBERED_ORDER_VIEWS = 20_000;

/**
 * Writes order views (the read model); an older revision never overwrites a newer one. The
 * revision this process last stored for an order is remembered, so the usual write (the next
 * revision of an order projected here before) is a single replace, without reading first. A
 * repair (`verify`) reads what is stored instead: it mends what was written elsewhere.
 */
export type OrderViewWriter = (view: OrderView, cancelled: AbortSignal, opts?: { verify?: boolean }) => Promise<void>;

export function orderViewWriter(db: Db): OrderViewWriter {
  const { OrderView } = db.models;
  const inOrder = oneAtATimePerKey();
  // Insertion order is recency: a write moves its order to the end, the oldest go first.
  const storedRevision = new Map<string, number>();
  const remember = (orderId: string, revision: number) => {
    storedRevision.delete(orderId);
    storedRevision.set(orderId, revision);
    if (storedRevision.size > REMEMBERED_ORDER_VIEWS) storedRevision.delete(storedRevision.keys().next().value!);
  };

  async function write(view: OrderView, cancelled: AbortSignal, verify: boolean): Promise<void> {
    const doc = {
      orderId: view.orderId,
      accountId: view.accountId,
      status: view.status,
      revision: view.revision,
      createdAt: view.createdAt,
      updatedAt: new Date().toISOString(),
      state: view,
    };
    const known = verify ? undefined : storedRevision.get(view.orderId);
    if (known !== undefined && known >= view.revision) return; // a retry of a write that landed
    if (known === undefined) {
      // Not written by this process yet: most often a new order, so try to create it first.
      try {
        await OrderView.create({ _id: view.orderId, ...doc });
        remember(view.orderId, view.revision);
        return;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      // Writes for one order are queued in this process (inOrder), so read-then-write by _id is
      // safe; the revision check drops a retried or replayed older snapshot.
      const stored = await OrderView.findOne({ _id: view.orderId }, { revision: 1 }).lean();
      if (stored && stored.revision >= view.revision) {
        remember(view.orderId, stored.revision);
        return;
      }
    }
    // An attempt Temporal gave up on while it waited its turn does not write at all. On MongoDB the
    // filter also guards atomically; on FerretDB the queue and the remembered revision do (a
    // workflow that moved to another worker process while this one still writes is left to the
    // order view reconciliation).
    cancelled.throwIfAborted();
    const { matchedCount } = await OrderView.replaceOne(db.guardedById(view.orderId, { revision: { $lt: view.revision } }), doc);
    if (matchedCount) remember(view.orderId, view.revision);
    // Nothing replaced: the view was deleted behind this process's back (or, on MongoDB, is newer).
    // Look again as a process that never wrote it: create it, or keep the newer one.
    else if (!verify) await write(view, cancelled, true);
  }

  return (view, cancelled, opts) => inOrder(view.orderId, () => write(view, cancelled, opts?.verify ?? false));
}

export function orderActivities({ db }: ActivityDeps, writeOrderView: OrderViewWriter) {
  const { Licence } = db.models;

  return {
    /** The order's read model, as the workflow sees it now (a local activity after each change). */
    projectOrder: (view: OrderView): Promise<void> => writeOrderView(view, Context.current().cancellationSignal),

    /** Issues licence keys for software lines; the same order line and unit always get the same key. */
    async provisionLicences(input: { orderId: string; lines: { lineNumber: number; sku: string; quantity: number }[] }) {
      const issuedAt = new Date().toISOString();
      const out: { lineNumber: number; keys: string[] }[] = [];
      for (const line of input.lines) {
        const keys: string[] = [];
        for (let unit = 1; unit <= line.quantity; unit++) {
          const digest = createHash('sha256').update(`${input.orderId}:${line.lineNumber}:${unit}:${line.sku}`).digest('hex').toUpperCase();
          const key = `${line.sku}-${digest.slice(0, 5)}-${digest.slice(5, 10)}-${digest.slice(10, 15)}-${digest.slice(15, 20)}`;
          try {
            await Licence.create({ licenceKey: key, orderId: input.orderId, lineNumber: line.lineNumber, sku: line.sku, unit, issuedAt });
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
          keys.push(key);
        }
        out.push({ lineNumber: line.lineNumber, keys });
      }
      return out;
    },
  };
}
