import { createRoute, z } from '@hono/zod-openapi';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import type { Product } from '../../domain/types';
import { ProductSchema, answer, freeText, itemsOf, refusal } from '../schemas';

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
    200: answer('Products', itemsOf(ProductSchema)),
    400: refusal('Bad query'),
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
    const items = await db.models.Product.find(filter, { _id: 0 }).sort({ kind: 1, sku: 1 }).limit(500).lean<Product[]>();
    return c.json({ items }, 200);
  });
  return r;
}
