// Idempotency-Key on POSTs: a retried request gets the first answer and changes nothing. The key
// is scoped by the person (the token's subject), method and path: two agents who happen to pick
// the same key each get their own answer. The same key with a different body is refused. Records
// expire after IDEMPOTENCY_TTL_MS and hold only what a replay needs: an order in the answer is
// kept as its id and read again from the read model, so no customer details are copied here.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { isDuplicateKey, type Db } from '../infra/db';
import { readOrderView } from './order-view';
import type { OrderView } from '../workflows/messages';
import type { ApiEnv } from './env';
import { apiError } from './errors';
import { errorFields, log } from '../infra/log';

/** Long enough for any client retry (an agent's browser, a crashed integration); then forgotten. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How often the API removes expired records (MongoDB's TTL index does it too; FerretDB has none). */
export const IDEMPOTENCY_SWEEP_MS = 60 * 60 * 1000;

type Json = Record<string, unknown>;
export const isOrderView = (v: unknown): v is OrderView =>
  typeof v === 'object' && v !== null && typeof (v as Json).orderId === 'string' && Array.isArray((v as Json).lines) && typeof (v as Json).status === 'string';

/** The answer as stored: an order (the whole body, or its `order` field) becomes a reference. */
export function toReplay(body: unknown): { orderId?: string; orderAt?: 'body' | 'order'; body?: unknown } {
  if (isOrderView(body)) return { orderId: body.orderId, orderAt: 'body' };
  if (typeof body === 'object' && body !== null && isOrderView((body as Json).order)) {
    const { order, ...rest } = body as Json;
    return { orderId: (order as { orderId: string }).orderId, orderAt: 'order', body: rest };
  }
  return { body };
}

/** A replayed answer's order is read as it is now (order-view.ts). */
export function idempotent(db: Db): MiddlewareHandler<ApiEnv> {
  const { IdempotencyRecord } = db.models;
  /** The stored answer rebuilt, or null when its order can no longer be read (then the request runs again: updates are idempotent by key too). */
  const replay = async (found: { orderId?: string | null; orderAt?: string | null; body?: unknown }): Promise<unknown> => {
    if (!found.orderId) return found.body ?? null;
    const order = await readOrderView(db, found.orderId).catch(() => null);
    if (!order) return null;
    return found.orderAt === 'order' ? { ...(found.body as Json), order } : order;
  };
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!/^[\w.:-]{1,128}$/.test(key)) throw apiError('VALIDATION_FAILED', "Idempotency-Key: 1 to 128 characters of letters, digits, '_', '.', ':' and '-'");
    const scope = `${c.get('actor')}:${c.req.method}:${c.req.path}:${key}`;
    const fingerprint = createHash('sha256')
      .update(await c.req.text())
      .digest('hex');
    let found = await IdempotencyRecord.findOne({ _id: scope }).lean();
    if (found && !(found.expiresAt?.getTime() > Date.now())) {
      // Expired and not yet swept (or stored before records expired): as if it were gone.
      await IdempotencyRecord.deleteOne({ _id: scope });
      found = null;
    }
    if (found) {
      if (found.fingerprint !== fingerprint) throw apiError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body');
      const body = await replay(found);
      if (body !== null) {
        c.header('idempotent-replayed', 'true');
        return c.json(body as object, found.status as 200);
      }
    }
    c.set('idempotencyKey', createHash('sha256').update(scope).digest('hex').slice(0, 32));
    await next();
    if (c.res.status < 500 && c.res.headers.get('content-type')?.includes('application/json')) {
      const now = Date.now();
      const record = {
        _id: scope,
        key: scope,
        fingerprint,
        status: c.res.status,
        ...toReplay(await c.res.clone().json()),
        createdAt: new Date(now).toISOString(),
        expiresAt: new Date(now + IDEMPOTENCY_TTL_MS),
      };
      try {
        if (found) await IdempotencyRecord.replaceOne({ _id: scope }, record);
        else await IdempotencyRecord.create(record);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // a concurrent retry stored it first: same outcome
      }
    }
  };
}

/** Removes expired records now; returns how many. */
export async function sweepIdempotencyRecords(db: Db, now = new Date()): Promise<number> {
  // Records from before expiry existed have no expiresAt: they go too.
  return (await db.models.IdempotencyRecord.deleteMany({ $or: [{ expiresAt: { $lte: now } }, { expiresAt: { $exists: false } }] })).deletedCount;
}

/**
 * Sweeps expired records every IDEMPOTENCY_SWEEP_MS in the API process: one mechanism for MongoDB
 * and FerretDB. (A Temporal Schedule would do as well; a timer keeps it where the records are used.)
 */
export function startIdempotencySweep(db: Db, everyMs = IDEMPOTENCY_SWEEP_MS): () => void {
  const timer = setInterval(() => {
    sweepIdempotencyRecords(db).catch((err) => log.warn({ component: 'api', ...errorFields(err) }, 'idempotency sweep failed; will retry'));
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
