// The audit listing for ops: one person's actions across orders (edits, generations, cancellations,
// fraud reviews, resubmits, closes, resends, notes) in a time range, from the audit trail the order
// view writer keeps (infra/store/audit-trail.ts): `_id` reads only, cheap on FerretDB too.
import { createRoute, z } from '@hono/zod-openapi';
import { isAuditDay } from '../../domain/order-history';
import { auditTrail } from '../../infra/store/audit-trail';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { decodeCursor, encodeCursor } from '../cursor';
import { apiError } from '../errors';
import { AuditListSchema, answer, freeText, refusal } from '../schemas';

/** Without `from`, a listing goes this far back from `to`. */
const DEFAULT_RANGE_MS = 7 * 24 * 60 * 60 * 1000;
const instant = z.string().datetime({ offset: true }).openapi({ description: 'ISO 8601 date-time' });

const listAudit = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/audit',
  tags: ['ops'],
  summary: "One person's actions on orders in a time range (default: the last 7 days), oldest day first; follow nextCursor (a page may be short)",
  request: {
    query: z.object({
      actor: freeText(200).openapi({ description: 'who, as orders record it (the `by` of their history entries)' }),
      from: instant.optional(),
      to: instant.optional().openapi({ description: 'ISO 8601 date-time; default now' }),
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: freeText(300).optional(),
    }),
  },
  responses: { 200: answer('A page of the actions', AuditListSchema), 400: refusal('Bad query') },
});

export function auditRoutes({ config, db }: ApiDeps) {
  const r = newRouter();
  const trail = auditTrail(db.models);
  r.openapi(guarded(config, listAudit), async (c) => {
    const q = c.req.valid('query');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DEFAULT_RANGE_MS);
    if (from > to) throw apiError('VALIDATION_FAILED', 'from must not be after to');
    const after = q.cursor ? decodeCursor(q.cursor, ['string', 'number']) : undefined;
    if (after && !isAuditDay(after[0])) throw apiError('VALIDATION_FAILED', 'cursor is not one this API handed out');
    const page = await trail.list({
      actor: q.actor,
      from: from.toISOString(),
      to: to.toISOString(),
      ...(after ? { after: { day: after[0], slot: after[1] } } : {}),
      limit: q.limit,
    });
    return c.json({ items: page.items, nextCursor: page.next ? encodeCursor([page.next.day, page.next.slot]) : null }, 200);
  });
  return r;
}
