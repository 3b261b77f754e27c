import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../app';
import { newRouter, reply } from '../app';
import { guarded, roles } from '../auth';
import { ErrorSchema, ProductSchema, freeText } from '../schemas';

const listCatalogue = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/catalogue',
  tags: ['catalogue'],
  summary: 'Browse the hardware catalogue',
  request: {
    query: z.object({
      kind: z.enum(['handset', 'peripheral', 'softwareLicence']).optional(),
      q: freeText(60, { min: 0 }).optional().openapi({ description: 'text in the SKU or name' }),
      includeInactive: z.enum(['true', 'false']).optional(),
    }),
  },
  responses: {
    200: { description: 'Products', content: { 'application/json': { schema: z.object({ items: z.array(ProductSchema) }) } } },
    400: { description: 'Bad query', content: { 'application/json': { schema: ErrorSchema } } },
  },
});

export function catalogueRoutes({ config, db }: ApiDeps) {
  const r = newRouter();
  r.openapi(guarded(config, listCatalogue), async (c) => {
    const { kind, q, includeInactive } = c.req.valid('query');
    const filter: Record<string, unknown> = {};
    if (kind) filter.kind = kind;
    if (includeInactive !== 'true') filter.active = true;
    if (q) {
      const re = new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i');
      filter.$or = [{ sku: re }, { name: re }];
    }
    const items = await db.models.Product.find(filter, { _id: 0 }).sort({ kind: 1, sku: 1 }).limit(500).lean();
    return reply(c, { items: items });
  });
  return r;
}
