// Order references: which orders shipped a unit with an IMEI, a serial or a tracking number, for
// the search (`GET /api/v1/search`). Order numbers and invoice numbers need none: they are the
// `_id`s of `orders` and `invoices`.
//
// FerretDB v1 lacks: pushdown of any filter but `{_id}` (a `find({kind, value})` reads the whole
// collection) and an atomic `$addToSet` upsert (two orders sharing a tracking number, written at
// once, would each rewrite the document from its own read and drop the other).
// This store instead: gives each reference a slot chain (slot-chains.ts), `orderReferences._id =
// <kind>:<value>#<n>`, one document per order that carries it, inserted once and never changed; a
// lookup reads slots 0, 1, … until a free one (almost always one or two reads).
// The plain MongoDB way: one document per reference and order with a unique index on
// `{kind, value, orderId}`, found with `find({kind, value})`.
import { unitReferences, type OrderReferenceKind, type ReferenceProbe } from '../../domain/search';
import type { OrderView } from '../../workflows/messages';
import { keysTaken, type Models } from '../db';
import { claimSlot } from './slot-chains';

/** A shared tracking number (one consignment for several orders) lists at most this many orders. */
export const MAX_ORDERS_PER_REFERENCE = 50;
/** References of one order written at once. */
const WRITES_IN_FLIGHT = 8;

const slotId = (kind: OrderReferenceKind, value: string, n: number) => `${kind}:${value}#${n}`;

export interface OrderReferences {
  /** The order carries these references. Idempotent: a reference it already holds is left as it is. */
  note(orderId: string, references: ReferenceProbe[]): Promise<void>;
  /** The orders that carry the reference, in the order they were noted. */
  ordersWith(reference: ReferenceProbe): Promise<string[]>;
}

export function orderReferences(models: Pick<Models, 'OrderReference'>): OrderReferences {
  const { OrderReference } = models;
  const read = (kind: OrderReferenceKind, value: string, n: number) => OrderReference.findOne({ _id: slotId(kind, value, n) }, { orderId: 1 }).lean();

  async function noteOne(orderId: string, { kind, value }: ReferenceProbe): Promise<void> {
    await claimSlot(
      {
        read: (n) => read(kind, value, n),
        insert: (doc) => OrderReference.create(doc),
        isOwn: (doc) => doc.orderId === orderId,
        name: (n) => `order reference ${slotId(kind, value, n)}`,
      },
      0,
      async (n) => ({ insert: { _id: slotId(kind, value, n), kind, value, orderId } }),
    );
  }

  return {
    async note(orderId, references) {
      // Almost every reference is new (a device's IMEI and serial, a consignment's tracking
      // number): each takes its chain's first slot, all in one command. Those whose first slot is
      // taken (a shared tracking number, or ours on a retry) go along their chains one by one.
      const clashed = await keysTaken(
        references.map((r) => ({ _id: slotId(r.kind, r.value, 0), kind: r.kind, value: r.value, orderId })),
        (docs) => OrderReference.insertMany(docs, { ordered: false }),
      );
      const rest = clashed.map((i) => references[i]);
      for (let i = 0; i < rest.length; i += WRITES_IN_FLIGHT) {
        await Promise.all(rest.slice(i, i + WRITES_IN_FLIGHT).map((r) => noteOne(orderId, r)));
      }
    },

    async ordersWith({ kind, value }) {
      const orderIds: string[] = [];
      for (let n = 0; n < MAX_ORDERS_PER_REFERENCE; n++) {
        const doc = await read(kind, value, n);
        if (!doc) break;
        orderIds.push(doc.orderId);
      }
      return orderIds;
    },
  };
}

/**
 * Notes the unit references of every stored order: for orders whose units shipped before the
 * search existed (`npm run backfill:references`). One pass over the read model (a scan, once);
 * idempotent, so it can run again or while the workers run.
 */
export async function backfillOrderReferences(
  models: Pick<Models, 'OrderReference' | 'OrderView'>,
  progress: (orders: number) => void = () => {},
): Promise<{ orders: number; references: number }> {
  const references = orderReferences(models);
  let orders = 0;
  let noted = 0;
  for await (const doc of models.OrderView.find({}, { state: 1 }).lean().cursor()) {
    const refs = unitReferences(doc.state as OrderView);
    await references.note(String(doc._id), refs);
    noted += refs.length;
    if (++orders % 1000 === 0) progress(orders);
  }
  return { orders, references: noted };
}
