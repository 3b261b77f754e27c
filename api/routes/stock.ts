import { createRoute, z } from '@hono/zod-openapi';
import { summariseStock, type StockRequest } from '../../domain/allocation';
import type { StockClient } from '../../infra/stock-client';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { StockCheckSchema, answer, freeText, refusal } from '../schemas';

/** Asks every (or one) warehouse about the items; a warehouse that fails is reported, not fatal. */
export async function runStockCheck(stock: StockClient | null, items: StockRequest[], warehouseId?: string) {
  if (!stock) throw apiError('STOCK_CHECK_UNAVAILABLE', 'this deployment is not connected to a warehouse, so stock cannot be checked');
  if (warehouseId && !stock.warehouseIds.includes(warehouseId))
    throw apiError('VALIDATION_FAILED', `unknown warehouse ${warehouseId}; known: ${stock.warehouseIds.join(', ')}`);
  const answers = await stock.check([...new Set(items.map((i) => i.sku))]);
  const answered = answers.filter((a) => a.items);
  const unavailableWarehouses = answers.filter((a) => a.error).map((a) => ({ warehouseId: a.warehouseId, ...a.error! }));
  if (!answered.length)
    throw apiError('STOCK_CHECK_UNAVAILABLE', `no warehouse answered: ${unavailableWarehouses.map((u) => u.message).join('; ')}`, { unavailableWarehouses });
  const levels = answered.flatMap((a) => a.items!.map((i) => ({ warehouseId: a.warehouseId, sku: i.sku, available: i.available })));
  const order = answered.map((a) => a.warehouseId);
  const asked = warehouseId && order.includes(warehouseId) ? warehouseId : order[0];
  return { checkedAt: new Date().toISOString(), items: summariseStock(items, levels, order, asked), unavailableWarehouses };
}

const SkuQuery = z
  .union([z.string(), z.array(z.string())])
  .openapi({ description: 'SKU, or SKU:QUANTITY (quantity defaults to 1); repeat for many', example: 'HS-APL-IP16-128' });

const stockRoute = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/stock',
  tags: ['stock'],
  summary: 'Stand-alone stock check for one or more SKUs, independent of any order',
  request: { query: z.object({ sku: SkuQuery, warehouse: freeText(40).optional() }) },
  responses: {
    200: answer('Stock per SKU and warehouse', StockCheckSchema),
    400: refusal('Bad query'),
    503: refusal('Not connected to a warehouse, or none answered'),
  },
});

export function parseSkuQuery(raw: string | string[]): StockRequest[] {
  const list = (Array.isArray(raw) ? raw : [raw])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  if (!list.length || list.length > 50) throw apiError('VALIDATION_FAILED', 'give 1 to 50 SKUs');
  return list.map((s) => {
    const m = /^([A-Za-z0-9._-]{1,40})(?::(\d{1,3}))?$/.exec(s);
    if (!m) throw apiError('VALIDATION_FAILED', `"${s.slice(0, 50)}" is not SKU or SKU:QUANTITY`);
    const quantity = m[2] === undefined ? 1 : Number(m[2]);
    if (quantity < 1) throw apiError('VALIDATION_FAILED', `quantity for ${m[1]} must be at least 1`);
    return { sku: m[1], quantity };
  });
}

export function stockRoutes({ config, stock }: ApiDeps) {
  const r = newRouter();
  r.openapi(guarded(config, stockRoute), async (c) => {
    const { sku, warehouse } = c.req.valid('query');
    return c.json(await runStockCheck(stock, parseSkuQuery(sku), warehouse), 200);
  });
  return r;
}
