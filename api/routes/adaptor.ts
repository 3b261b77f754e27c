import { createRoute, z } from '@hono/zod-openapi';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { WarehouseResponseColumn } from '../../domain/warehouse-response';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import type { DispatchBatch } from '../../domain/types';
import { warehouseFolders } from '../../infra/config';
import { validateDispatchBatch } from '../../infra/contracts';
import type { Db } from '../../infra/db';
import { readRejectedRows } from '../../infra/store/dispatch-rows';
import { ADAPTOR_EXCEPTION_ID, BATCH_OUTCOMES, batchOutcome, batchOutcomeFilter } from '../../domain/adaptor-exceptions';
import { processInboxFile } from '../../adaptor/watcher';
import { resolveAdaptorException, type Resolution } from '../../adaptor/exceptions';
import { MAX_FILE_BYTES, type IngestOutcome } from '../../adaptor/ingest';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, requireWarehouse, roles } from '../auth';
import { ApiError, apiError } from '../errors';
import { decodeCursor, encodeCursor } from '../cursor';
import {
  AdaptorExceptionListSchema,
  AdaptorExceptionSchema,
  DispatchBatchListSchema,
  DispatchBatchSchema,
  IngestResultSchema,
  RejectedRowsSchema,
  ResolveExceptionBody,
  answer,
  freeText,
  jsonBody,
  refusal,
} from '../schemas';

const WarehouseQuery = z.object({
  warehouseId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,40}$/)
    .openapi({ example: 'WH-NORTH' }),
});

const postFile = createRoute({
  ...roles('adaptor'),
  method: 'post',
  path: '/adaptor/warehouse-files',
  tags: ['adaptor'],
  summary: 'A warehouse response file (CSV, EDI 945 shape), as the inbox folder would receive it',
  request: {
    query: WarehouseQuery.extend({
      fileName: z
        .string()
        .regex(/^[\w.-]{1,100}$/)
        .optional(),
    }),
    body: { content: { 'text/csv': { schema: z.string() } }, required: true },
  },
  responses: {
    202: answer('Accepted (or recognised as a duplicate)', IngestResultSchema),
    400: refusal('Invalid request'),
    403: refusal('This token does not act for that warehouse'),
    413: refusal('Too large'),
    415: refusal('Not CSV'),
    422: answer('Unreadable file: quarantined with a report', IngestResultSchema),
  },
});
const postBatch = createRoute({
  ...roles('adaptor'),
  method: 'post',
  path: '/adaptor/dispatch-batches',
  tags: ['adaptor'],
  summary: 'An already converted dispatch batch (contracts/dispatch-batch.v1.schema.json)',
  request: { body: { content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } }, required: true } },
  responses: {
    202: answer('Accepted (or recognised as a duplicate)', IngestResultSchema),
    400: refusal('Breaks the contract'),
    403: refusal('This token does not act for that warehouse'),
    422: answer('Unreadable: quarantined with a report', IngestResultSchema),
  },
});
const listExceptions = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/adaptor/exceptions',
  tags: ['adaptor'],
  summary: 'Rows that could not be applied to an order (unknown or closed orders)',
  request: {
    query: z.object({
      warehouseId: freeText(40).optional(),
      batchId: freeText(64).optional(),
      state: z.enum(['unresolved', 'resolved', 'all']).default('unresolved'),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      cursor: freeText(300).optional(),
    }),
  },
  responses: {
    200: answer('Exceptions, newest first', AdaptorExceptionListSchema),
    400: refusal('Bad query'),
  },
});
const resolveException = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/adaptor/exceptions/{id}/resolve',
  tags: ['adaptor'],
  summary: "Apply an exception's row to its order (reapply, optionally to a corrected order id) or set it aside (dismiss, with a reason)",
  request: {
    params: z.object({
      id: z
        .string()
        .regex(ADAPTOR_EXCEPTION_ID)
        .openapi({ param: { name: 'id', in: 'path' }, example: `${'ab'.repeat(32)}:7` }),
    }),
    ...jsonBody(ResolveExceptionBody),
  },
  responses: {
    200: answer('Resolved (or already resolved the same way): who, when, how and why', AdaptorExceptionSchema),
    400: refusal('Invalid request'),
    404: refusal('No such exception, or no such order'),
    409: refusal('Resolved otherwise already, or the row cannot go to that order (closed, no sub-order at the warehouse, does not fit)'),
    503: refusal('The order has not shown the row yet: resolve it the same way again'),
  },
});
const listBatches = createRoute({
  ...roles('ops', 'adaptor'),
  method: 'get',
  path: '/adaptor/batches',
  tags: ['adaptor'],
  summary: 'Dispatch batches, newest first, with their counts',
  request: {
    query: z.object({
      warehouseId: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,40}$/)
        .optional(),
      from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'received at or after' }),
      to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'received before' }),
      outcome: z.enum(BATCH_OUTCOMES).optional(),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: freeText(300).optional(),
    }),
  },
  responses: {
    200: answer('A page of batches', DispatchBatchListSchema),
    400: refusal('Bad query'),
    403: refusal('This token does not act for that warehouse'),
  },
});
const getRejectedRows = createRoute({
  ...roles('ops', 'adaptor'),
  method: 'get',
  path: '/adaptor/batches/{batchId}/rejected-rows',
  tags: ['adaptor'],
  summary: 'Every rejected row of a batch, in file order, a page at a time',
  request: {
    params: z.object({ batchId: z.string().regex(/^[a-f0-9]{64}$/) }),
    query: z.object({ limit: z.coerce.number().int().min(1).max(1000).default(200), cursor: freeText(300).optional() }),
  },
  responses: { 200: answer('A page of rejected rows', RejectedRowsSchema), 400: refusal('Bad query'), 404: refusal('No such batch') },
});
const getBatch = createRoute({
  ...roles('ops', 'adaptor'),
  method: 'get',
  path: '/adaptor/batches/{batchId}',
  tags: ['adaptor'],
  summary: 'A dispatch batch and its report',
  request: { params: z.object({ batchId: z.string().regex(/^[a-f0-9]{64}$/) }) },
  responses: { 200: answer('The batch, what the job has done with it and its orders now', DispatchBatchSchema), 404: refusal('No such batch') },
});

/** What the job has done with a batch: `received`, `signalling` (with progress so far) or `done`. */
async function dispatchBatchState(db: Db, batch: { batchId: string; status: string; signalled?: number | null }) {
  if (batch.status === 'done') return { status: 'done' as const, signalled: batch.signalled ?? 0 };
  const progress = await db.models.DispatchProgress.findOne({ _id: batch.batchId }).lean();
  return progress ? { status: 'signalling' as const, signalled: progress.signalled } : { status: 'received' as const, signalled: 0 };
}

/** An exception as the API shows it: its id, and its resolution (null while open). */
function exceptionItem(e: { _id: string; resolved?: boolean | null; resolution?: unknown } & Record<string, unknown>) {
  const { _id, resolved, resolution, ...rest } = e;
  return {
    id: _id,
    ...(rest as unknown as Omit<z.infer<typeof AdaptorExceptionSchema>, 'id' | 'resolved' | 'resolution'>),
    resolved: !!resolved,
    resolution: (resolution as Resolution | undefined) ?? null,
  };
}

function toResult(o: IngestOutcome) {
  const { kind, ...rest } = o;
  return { outcome: kind, ...rest };
}

/**
 * Streams the body into the warehouse's processing folder (size-capped), then runs the inbox path.
 * The upload has a hidden name there, so the inbox watcher never takes a file still being written.
 */
async function receiveFile(
  deps: ApiDeps,
  warehouseId: string,
  fileName: string,
  body: Readable,
  opts: { source: 'api-csv' | 'api-json'; declared?: { batchId: string; rowNumbers: number[] }; rendered?: () => Readable },
): Promise<IngestOutcome> {
  const f = warehouseFolders(deps.config.dataDir, warehouseId);
  await fsp.mkdir(f.processing, { recursive: true });
  const name = `${Date.now()}-${process.pid}-${fileName}`;
  const target = path.join(f.processing, `.${name}.${randomBytes(4).toString('hex')}.upload`);
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > MAX_FILE_BYTES) cb(apiError('PAYLOAD_TOO_LARGE', `files are limited to ${MAX_FILE_BYTES} bytes`));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(body, cap, fs.createWriteStream(target));
  } catch (e) {
    await fsp.rm(target, { force: true });
    throw e instanceof ApiError ? e : apiError('VALIDATION_FAILED', 'the upload was interrupted');
  }
  return processInboxFile(deps, warehouseId, target, { name, ...opts });
}

/** A JSON batch goes through the same validation as a file: rendered as the CSV it stands for. */
export function batchToCsv(batch: DispatchBatch): string {
  const rows = [...batch.rows].sort((a, b) => a.rowNumber - b.rowNumber);
  return formatWarehouseResponseCsv(
    rows.map(
      (r) =>
        ({
          warehouse_id: r.warehouseId,
          sub_order_number: r.subOrderNumber,
          line_number: r.lineNumber,
          sku: r.sku,
          quantity_shipped: r.quantityShipped,
          serial_number: r.serialNumber,
          imei: r.imei,
          imei2: r.imei2,
          carrier: r.carrier,
          tracking_number: r.trackingNumber,
          ship_date: r.shipDate,
          disposition: r.disposition,
          error_code: r.errorCode,
          error_message: r.errorMessage,
        }) satisfies Record<WarehouseResponseColumn, unknown>,
    ),
  );
}

export function adaptorRoutes(deps: ApiDeps) {
  const { config, db } = deps;
  const r = newRouter();

  r.openapi(guarded(config, postFile), async (c) => {
    const { warehouseId, fileName } = c.req.valid('query');
    if (!config.warehouses.ids.includes(warehouseId)) throw apiError('VALIDATION_FAILED', `unknown warehouse ${warehouseId}`);
    requireWarehouse(c, warehouseId);
    if (!/^(text\/csv|text\/plain|application\/octet-stream)\b/i.test(c.req.header('content-type') ?? ''))
      throw apiError('UNSUPPORTED_MEDIA_TYPE', 'send the file as text/csv');
    if (Number(c.req.header('content-length') ?? 0) > MAX_FILE_BYTES)
      throw apiError('PAYLOAD_TOO_LARGE', `files are limited to ${MAX_FILE_BYTES} bytes over HTTP`);
    const raw = c.req.raw.body;
    if (!raw) throw apiError('VALIDATION_FAILED', 'the body is empty');
    const outcome = await receiveFile(deps, warehouseId, fileName ?? 'upload.csv', Readable.fromWeb(raw as unknown as WebReadableStream), {
      source: 'api-csv',
    });
    return outcome.kind === 'unreadable' ? c.json(toResult(outcome), 422) : c.json(toResult(outcome), 202);
  });

  r.openapi(guarded(config, postBatch), async (c) => {
    const batch = c.req.valid('json');
    const valid = validateDispatchBatch(batch);
    if (!valid.ok)
      throw apiError('VALIDATION_FAILED', `the batch breaks contracts/dispatch-batch.v1.schema.json: ${valid.errors.slice(0, 10).join('; ')}`, {
        errors: valid.errors.slice(0, 100),
      });
    const b = batch as unknown as DispatchBatch;
    if (!config.warehouses.ids.includes(b.warehouseId)) throw apiError('VALIDATION_FAILED', `unknown warehouse ${b.warehouseId}`);
    requireWarehouse(c, b.warehouseId);
    const rowNumbers = [...b.rows].sort((x, y) => x.rowNumber - y.rowNumber).map((r) => r.rowNumber);
    if (new Set(rowNumbers).size !== rowNumbers.length) throw apiError('VALIDATION_FAILED', 'row numbers must be unique within a batch');
    // Archived as received (JSON); the CSV it stands for is only read, never written where people
    // open it, so no spreadsheet ever evaluates a cell of it.
    const csv = batchToCsv(b);
    const outcome = await receiveFile(
      deps,
      b.warehouseId,
      `${b.sourceFile.replace(/[^\w.-]/g, '_').slice(0, 80) || 'batch'}.json`,
      Readable.from([JSON.stringify(batch, null, 2) + '\n']),
      {
        source: 'api-json',
        rendered: () => Readable.from([csv]),
        declared: { batchId: b.batchId, rowNumbers },
      },
    );
    return outcome.kind === 'unreadable' ? c.json(toResult(outcome), 422) : c.json(toResult(outcome), 202);
  });

  r.openapi(guarded(config, listExceptions), async (c) => {
    const { warehouseId, batchId, state, limit, cursor } = c.req.valid('query');
    const filter: Record<string, unknown> = {};
    if (state !== 'all') filter.resolved = state === 'resolved';
    if (warehouseId) filter.warehouseId = warehouseId;
    if (batchId) filter.batchId = batchId;
    if (cursor) {
      const [createdAt, id] = decodeCursor(cursor, ['string', 'string']);
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, _id: { $lt: id } }];
    }
    const docs = await db.models.AdaptorException.find(filter)
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit + 1)
      .lean();
    const page = docs.slice(0, limit);
    const last = page[page.length - 1];
    return c.json({ items: page.map(exceptionItem), nextCursor: docs.length > limit ? encodeCursor([last.createdAt, last._id]) : null }, 200);
  });

  r.openapi(guarded(config, resolveException), async (c) => {
    const { id } = c.req.valid('param');
    const resolved = await resolveAdaptorException(deps, id, c.req.valid('json'), c.get('actor'));
    return c.json(exceptionItem(resolved), 200);
  });

  r.openapi(guarded(config, listBatches), async (c) => {
    const { warehouseId, from, to, outcome, limit, cursor } = c.req.valid('query');
    const allowed = c.get('warehouses');
    if (warehouseId) requireWarehouse(c, warehouseId);
    const and: Record<string, unknown>[] = [];
    if (warehouseId) and.push({ warehouseId });
    else if (allowed) and.push({ warehouseId: { $in: allowed } });
    // receivedAt is stored as ISO 8601 in UTC, so the strings compare as the instants do.
    if (from) and.push({ receivedAt: { $gte: new Date(from).toISOString() } });
    if (to) and.push({ receivedAt: { $lt: new Date(to).toISOString() } });
    if (outcome) and.push(batchOutcomeFilter(outcome));
    if (cursor) {
      const [receivedAt, batchId] = decodeCursor(cursor, ['string', 'string']);
      and.push({ $or: [{ receivedAt: { $lt: receivedAt } }, { receivedAt, _id: { $lt: batchId } }] });
    }
    // The list never reads a batch's order ids or rejections (a large file's are large).
    const docs = await db.models.DispatchBatch.find(and.length ? { $and: and } : {}, { orderIds: 0, rejections: 0 })
      .sort({ receivedAt: -1, _id: -1 })
      .limit(limit + 1)
      .lean();
    const page = docs.slice(0, limit);
    const last = page[page.length - 1];
    const items = page.map((b) => ({
      batchId: b.batchId,
      warehouseId: b.warehouseId,
      sourceFile: b.sourceFile,
      source: b.source as 'inbox' | 'api-csv' | 'api-json',
      receivedAt: b.receivedAt,
      outcome: batchOutcome(b),
      counts: { rows: b.rowCount, valid: b.validRows, rejected: b.rejectedRows, exceptions: b.exceptionRows, orders: b.orderCount ?? 0 },
    }));
    return c.json({ items, nextCursor: docs.length > limit ? encodeCursor([last.receivedAt, last.batchId]) : null }, 200);
  });

  r.openapi(guarded(config, getRejectedRows), async (c) => {
    const { batchId } = c.req.valid('param');
    const { limit, cursor } = c.req.valid('query');
    const batch = await db.models.DispatchBatch.findOne({ _id: batchId }, { warehouseId: 1, rejectedRows: 1, rejectionChunks: 1 }).lean();
    const allowed = c.get('warehouses');
    if (!batch || (allowed && !allowed.includes(batch.warehouseId))) throw apiError('NOT_FOUND', `no dispatch batch ${batchId}`);
    const [chunk, index] = cursor ? decodeCursor(cursor, ['number', 'number']) : [0, 0];
    const { rows, next } = await readRejectedRows(db.models, batchId, batch.rejectionChunks ?? 0, { chunk, index }, limit);
    return c.json({ batchId, rejectedRows: batch.rejectedRows, items: rows, nextCursor: next ? encodeCursor([next.chunk, next.index]) : null }, 200);
  });

  r.openapi(guarded(config, getBatch), async (c) => {
    const { batchId } = c.req.valid('param');
    const stored = await db.models.DispatchBatch.findOne({ _id: batchId }, { _id: 0 }).lean();
    // Another warehouse's batch is not this adaptor's to know of.
    const allowed = c.get('warehouses');
    if (!stored || (allowed && !allowed.includes(stored.warehouseId))) throw apiError('NOT_FOUND', `no dispatch batch ${batchId}`);
    const batch = {
      ...stored,
      orderCount: stored.orderCount ?? stored.orderIds.length,
      rejectionChunks: stored.rejectionChunks ?? 0,
      outcome: batchOutcome(stored),
      ...(await dispatchBatchState(db, stored)),
    };
    const orders = await db.models.OrderView.find({ orderId: { $in: batch.orderIds } }, { orderId: 1, status: 1, _id: 0 }).lean();
    const count = (s: string) => orders.filter((o) => o.status === s).length;
    const exceptions = await db.models.AdaptorException.countDocuments({ batchId });
    return c.json(
      {
        ...batch,
        report: {
          orders: orders.length,
          completed: count('Complete'),
          errored: count('Error'),
          cancelled: count('Cancelled'),
          stillAwaitingDispatch: count('AwaitingDispatch'),
          rowsRejected: batch.rejectedRows,
          exceptions,
        },
      },
      200,
    );
  });
  return r;
}
