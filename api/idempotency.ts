// Idempotency-Key on POSTs: a retried request gets the first answer and changes nothing. The key
// is scoped by role, method and path; the same key with a different body is refused.
import { createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { isDuplicateKey, type Db } from '../infra/db';
import type { AuthEnv } from './auth';
import { apiError } from './errors';

export type IdemEnv = AuthEnv & { Variables: AuthEnv['Variables'] & { idempotencyKey?: string } };

export function idempotent(db: Db): MiddlewareHandler<IdemEnv> {
  const { IdempotencyRecord } = db.models;
  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!/^[\w.:-]{1,128}$/.test(key)) throw apiError('VALIDATION_FAILED', "Idempotency-Key: 1 to 128 characters of letters, digits, '_', '.', ':' and '-'");
    const scope = `${c.get('role')}:${c.req.method}:${c.req.path}:${key}`;
    const fingerprint = createHash('sha256').update(await c.req.text()).digest('hex');
    const found = await IdempotencyRecord.findOne({ _id: scope }).lean();
    if (found) {
      if (found.fingerprint !== fingerprint) throw apiError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body');
      c.header('idempotent-replayed', 'true');
      return c.json(found.body as object, found.status as 200);
    }
    c.set('idempotencyKey', createHash('sha256').update(scope).digest('hex').slice(0, 32));
    await next();
    if (c.res.status < 500 && c.res.headers.get('content-type')?.includes('application/json')) {
      const body = await c.res.clone().json();
      try {
        await IdempotencyRecord.create({ _id: scope, key: scope, fingerprint, status: c.res.status, body, createdAt: new Date().toISOString() });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // a concurrent retry stored it first: same outcome
      }
    }
  };
}
