// Order views: the read model of each order (`orders`, `_id` = orderId), stored as opened by the API
// (storeOpenedOrder) and then written by its workflow's projectOrder local activity; an older
// revision never overwrites a newer one.
//
// FerretDB v1 lacks: an atomic conditional replace (`replaceOne({_id, revision: {$lt: n}})` reads,
// filters, then writes, and a filter beyond `{_id}` reads the whole collection), and it holds a
// write behind SQLite's one writer lock for seconds, so an attempt Temporal abandoned can land
// after its retry and the next snapshot.
// This store instead: queues each order's writes in the worker process (oneAtATimePerKey),
// remembers the revision it last stored per order, or is told it by the workflow (each next
// revision one replace, no read), reads first only for an order neither knows, and guards
// the replace with guardedById (the remembered or just-read revision on FerretDB). What a process
// the workflow has left may still write late is repaired by the order view reconciliation
// (activities/reconciliation.ts).
// The plain MongoDB way: `replaceOne({_id: orderId, revision: {$lt: n}}, view, {upsert: true})`,
// one atomic command, no queue and no memory (a duplicate key error then means a newer view).
import { auditEntriesOf } from '../../domain/order-history';
import { unitReferences } from '../../domain/search';
import type { OrderView } from '../../workflows/messages';
import { isDuplicateKey, type Db } from '../db';
import { auditTrail } from './audit-trail';
import { oneAtATimePerKey } from './per-key-queue';
import { orderReferences } from './order-references';

export { oneAtATimePerKey };

/** At most this many orders' stored revisions are remembered per worker process (about 1 MB). */
const REMEMBERED_ORDER_VIEWS = 20_000;

/**
 * Writes order views (the read model); an older revision never overwrites a newer one. The
 * revision this process last stored for an order is remembered, so the usual write (the next
 * revision of an order projected here before) is a single replace, without reading first. A
 * repair (`verify`) reads what is stored instead: it mends what was written elsewhere.
 * Before the view, its history's person actions not yet in the audit trail (audit-trail.ts).
 * After the view, the order's unit references for the search (order-references.ts), when the
 * order has more than this process last noted (units are only ever added), and on every repair.
 */
export type OrderViewWriter = (view: OrderView, cancelled: AbortSignal, opts?: { verify?: boolean; stored?: number }) => Promise<void>;

function documentOf(view: OrderView) {
  return {
    orderId: view.orderId,
    accountId: view.accountId,
    status: view.status,
    needsAttention: view.needsAttention,
    revision: view.revision,
    createdAt: view.createdAt,
    updatedAt: new Date().toISOString(),
    state: view,
  };
}

/**
 * Keeps the view an update answered with (the API, before it answers): the workflow writes the read
 * model only once the order has left New and its first job rests, so this is what a read right after
 * an agent's change shows. One command by `_id`; in whatever order it and the workflow's replace
 * land, readers take the newer revision (`newestView`), and the replace drops it.
 */
export async function keepAnswer(db: Db, view: OrderView): Promise<void> {
  await db.models.OrderView.updateOne({ _id: view.orderId }, { $set: { answered: view } });
}

/** The order as the read model has it: the workflow's last write or an update's later answer, whichever is newer. */
export function newestView(doc: { state: unknown; answered?: unknown }): OrderView {
  const state = doc.state as OrderView;
  const answered = doc.answered as OrderView | null | undefined;
  return answered && answered.revision > state.revision ? answered : state;
}

/**
 * Stores a new order's read model as opened (the API, before it answers): one insert, a no-op when
 * it is there. Its history's first entry reaches the audit trail with the workflow's first write.
 */
export async function storeOpenedOrder(db: Db, view: OrderView): Promise<void> {
  try {
    await db.models.OrderView.create({ _id: view.orderId, ...documentOf(view) });
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

export function orderViewWriter(db: Db): OrderViewWriter {
  const { OrderView } = db.models;
  const references = orderReferences(db.models);
  const trail = auditTrail(db.models);
  const inOrder = oneAtATimePerKey();
  // Insertion order is recency: a write moves its order to the end, the oldest go first.
  const storedRevision = new Map<string, number>();
  const remember = (orderId: string, revision: number) => {
    storedRevision.delete(orderId);
    storedRevision.set(orderId, revision);
    if (storedRevision.size > REMEMBERED_ORDER_VIEWS) storedRevision.delete(storedRevision.keys().next().value!);
  };
  // How many unit references this process noted per order (same bound as the revisions).
  const notedReferences = new Map<string, number>();

  async function noteReferences(view: OrderView, verify: boolean): Promise<void> {
    const refs = unitReferences(view);
    const noted = verify ? undefined : notedReferences.get(view.orderId);
    if (noted !== undefined ? noted >= refs.length : refs.length === 0) return;
    await references.note(view.orderId, refs);
    notedReferences.delete(view.orderId);
    notedReferences.set(view.orderId, refs.length);
    if (notedReferences.size > REMEMBERED_ORDER_VIEWS) notedReferences.delete(notedReferences.keys().next().value!);
  }

  async function write(view: OrderView, cancelled: AbortSignal, verify: boolean, stored = 0): Promise<void> {
    const doc = documentOf(view);
    const remembered = storedRevision.get(view.orderId);
    // The workflow's word on what is stored counts as this process's memory (opened by the API, or
    // written by a worker process the workflow has since left).
    const known = verify ? undefined : stored > 0 ? Math.max(stored, remembered ?? 0) : remembered;
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

  // How many history entries this process put in the audit trail per order (same bound).
  const auditedEntries = new Map<string, number>();

  /**
   * The person actions among the history entries not yet in the audit trail, before the view: a
   * view stored means its entries are in the trail (a retry or the reconciliation writes them again,
   * which changes nothing).
   */
  async function audit(view: OrderView, verify: boolean): Promise<void> {
    const from = verify ? 0 : (auditedEntries.get(view.orderId) ?? 0);
    if (from >= view.history.length) return;
    await trail.record(auditEntriesOf(view, from));
    auditedEntries.delete(view.orderId);
    auditedEntries.set(view.orderId, view.history.length);
    if (auditedEntries.size > REMEMBERED_ORDER_VIEWS) auditedEntries.delete(auditedEntries.keys().next().value!);
  }

  return (view, cancelled, opts) =>
    inOrder(view.orderId, async () => {
      const verify = opts?.verify ?? false;
      await audit(view, verify);
      await write(view, cancelled, verify, opts?.stored);
      // A retry whose view write had landed still notes what the failed attempt did not.
      await noteReferences(view, verify);
    });
}
