// The ops work queue: everything waiting for ops in one list, oldest first, with counts per kind:
// orders flagged on their read model (`needsAttention`, domain/needs-attention.ts), unresolved
// adaptor exceptions and failed device enrolments. Each kind is read from its own collection by
// an index on MongoDB (on FerretDB, like every filter but `_id`, a scan: these are short lists).
import { createRoute, z } from '@hono/zod-openapi';
import { FAILED_STATUSES } from '../../domain/enrolment';
import {
  ATTENTION_FLAGS as ORDER_ATTENTION_KINDS,
  WORK_QUEUE_KINDS,
  type AttentionFlag as OrderAttention,
  type WorkQueueKind,
} from '../../domain/needs-attention';
import type { OrderStatus } from '../../domain/types';
import type { OrderView } from '../../workflows/messages';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { decodeCursor, encodeCursor } from '../cursor';
import { apiError } from '../errors';
import { WorkQueueKind as WorkQueueKindSchema, WorkQueueSchema, answer, freeText, refusal, type WorkQueueItemSchema } from '../schemas';

type Item = z.infer<typeof WorkQueueItemSchema>;
type Filter = Record<string, unknown>;

const workQueue = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/work-queue',
  tags: ['ops'],
  summary: 'Everything waiting for ops, oldest first: flagged orders, unresolved adaptor exceptions, failed enrolments; with counts per kind',
  request: {
    query: z.object({
      kind: WorkQueueKindSchema.optional().openapi({ description: 'one kind only; every kind when absent' }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: freeText(300).optional(),
    }),
  },
  responses: { 200: answer('A page of the queue', WorkQueueSchema), 400: refusal('Bad query') },
});

/** An adaptor exception nobody has resolved yet (reapplied or dismissed). */
export const UNRESOLVED_EXCEPTION = { resolved: false };

/** Where the page starts: after this item in the queue's order (at, then kind, then id). */
interface After {
  at: string;
  kind: number;
  id: string;
}

/** What a source needs of its mongoose model (each reads only its own documents, as its `item` expects them). */
interface Collection {
  find(filter: Filter, projection: Record<string, 1>): { sort(by: Record<string, 1>): { limit(n: number): { lean(): PromiseLike<unknown[]> } } };
  countDocuments(filter: Filter): PromiseLike<number>;
}

/** One kind's items from its collection, each read as `at` and `id` fields for the queue's order. */
interface Source {
  kind: WorkQueueKind;
  model: Collection;
  filter: Filter;
  at: string;
  id: string;
  projection: Record<string, 1>;
  item(doc: unknown): Item;
}

interface ExceptionDoc {
  _id: unknown;
  createdAt: string;
  warehouseId: string;
  rowNumber: number;
  code: string;
  message: string;
  row?: { subOrderNumber?: string };
}
interface InstructionDoc {
  instructionId: string;
  updatedAt: string;
  orderId: string;
  action: string;
  deviceId: string;
  manufacturer: string;
  status: string;
  result?: { code?: string; message?: string };
}

function orderSummary(kind: OrderAttention, o: OrderView): string {
  switch (kind) {
    case 'error':
      return o.error ? `${o.error.code}: ${o.error.message}` : 'in Error';
    case 'fraudReview':
      return `fraud check referred it: ${[...(o.fraud?.reasons ?? []), ...(o.fraud?.result?.reasons ?? [])].join('; ') || 'no reason given'}`;
    case 'backordered':
      return `waiting for stock: ${(o.backorder?.shortages ?? []).map((s) => `${s.sku} short by ${s.requested - s.available}`).join(', ') || 'short'}`;
    default:
      return `${kind} (${o.status})`;
  }
}

export function workQueueRoutes({ config, db }: ApiDeps) {
  const { OrderView: Orders, AdaptorException: Exceptions, EnrolmentInstruction: Instructions } = db.models;
  const r = newRouter();

  const sources: Source[] = [
    ...ORDER_ATTENTION_KINDS.map((kind): Source => ({
      kind,
      model: Orders,
      filter: { needsAttention: kind },
      at: 'createdAt',
      id: 'orderId',
      projection: { state: 1, createdAt: 1, orderId: 1 },
      item: (doc) => {
        const d = doc as { state: OrderView; createdAt: string; orderId: string };
        return {
          kind,
          id: d.orderId,
          at: d.createdAt,
          orderId: d.orderId,
          accountId: d.state.accountId,
          status: d.state.status as OrderStatus,
          summary: orderSummary(kind, d.state),
        };
      },
    })),
    {
      kind: 'adaptorException',
      model: Exceptions as unknown as Collection,
      filter: UNRESOLVED_EXCEPTION,
      at: 'createdAt',
      id: '_id',
      projection: { createdAt: 1, warehouseId: 1, code: 1, message: 1, row: 1, batchId: 1, rowNumber: 1 },
      item: (doc) => {
        const d = doc as ExceptionDoc;
        return {
          kind: 'adaptorException',
          id: String(d._id),
          at: d.createdAt,
          orderId: null,
          accountId: null,
          status: null,
          summary: `${d.warehouseId} row ${d.rowNumber}${d.row?.subOrderNumber ? ` (${d.row.subOrderNumber})` : ''}: ${d.code}: ${d.message}`,
        };
      },
    },
    {
      kind: 'enrolmentFailed',
      model: Instructions as unknown as Collection,
      filter: { status: { $in: FAILED_STATUSES } },
      at: 'updatedAt',
      id: 'instructionId',
      projection: { updatedAt: 1, instructionId: 1, orderId: 1, manufacturer: 1, deviceId: 1, action: 1, status: 1, reason: 1, result: 1 },
      item: (doc) => {
        const d = doc as InstructionDoc;
        return {
          kind: 'enrolmentFailed',
          id: d.instructionId,
          at: d.updatedAt,
          orderId: d.orderId,
          accountId: null,
          status: null,
          summary: `${d.action} ${d.deviceId} with ${d.manufacturer}: ${d.status}${d.result?.code ? ` (${d.result.code}${d.result.message ? `: ${d.result.message}` : ''})` : ''}`,
        };
      },
    },
  ];
  const kindIndex = (k: WorkQueueKind) => WORK_QUEUE_KINDS.indexOf(k);

  /** The source's items after the cursor, in the queue's order (at, kind, id): up to `limit`. */
  async function page(s: Source, after: After | null, limit: number): Promise<Item[]> {
    let filter: Filter = s.filter;
    if (after) {
      const k = kindIndex(s.kind);
      const later =
        k < after.kind
          ? { [s.at]: { $gt: after.at } }
          : k > after.kind
            ? { [s.at]: { $gte: after.at } }
            : { $or: [{ [s.at]: { $gt: after.at } }, { [s.at]: after.at, [s.id]: { $gt: after.id } }] };
      filter = { $and: [s.filter, later] };
    }
    const docs = await s.model
      .find(filter, s.projection)
      .sort({ [s.at]: 1, [s.id]: 1 })
      .limit(limit)
      .lean();
    return docs.map((d) => s.item(d));
  }

  const order = (a: Item, b: Item) => (a.at < b.at ? -1 : a.at > b.at ? 1 : kindIndex(a.kind) - kindIndex(b.kind) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  r.openapi(guarded(config, workQueue), async (c) => {
    const { kind, limit, cursor } = c.req.valid('query');
    let after: After | null = null;
    if (cursor) {
      const [at, k, id] = decodeCursor(cursor, ['string', 'string', 'string']);
      if (!WORK_QUEUE_KINDS.includes(k as WorkQueueKind) || (kind && k !== kind)) throw apiError('VALIDATION_FAILED', 'cursor is not one of this list');
      after = { at, kind: kindIndex(k as WorkQueueKind), id };
    }
    const listed = sources.filter((s) => !kind || s.kind === kind);
    const [countList, pages] = await Promise.all([
      Promise.all(sources.map((s) => s.model.countDocuments(s.filter))),
      Promise.all(listed.map((s) => page(s, after, limit + 1))),
    ]);
    const merged = pages.flat().sort(order);
    const items = merged.slice(0, limit);
    const last = items[items.length - 1];
    const nextCursor = merged.length > limit ? encodeCursor([last.at, last.kind, last.id]) : null;
    const counts = Object.fromEntries(sources.map((s, i) => [s.kind, countList[i]])) as Record<WorkQueueKind, number>;
    return c.json({ counts, items, nextCursor }, 200);
  });
  return r;
}
