// Finding an order from any reference a customer reads out: order number, IMEI, serial, tracking
// number or invoice number, across accounts, by exact value. Every lookup is by `_id` (FerretDB
// pushes down nothing else): the order itself, the invoice, or the unit references the order view
// writer notes (infra/store/order-references.ts); then each order found is read by `_id`.
import { createRoute, z } from '@hono/zod-openapi';
import { orderIdOfChargeKey } from '../../domain/billing';
import { MAX_QUERY_LENGTH, searchProbes, type ReferenceProbe } from '../../domain/search';
import type { OrderStatus } from '../../domain/types';
import { MAX_ORDERS_PER_REFERENCE, orderReferences } from '../../infra/store/order-references';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { SearchResultSchema, answer, freeText, refusal } from '../schemas';

const search = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/search',
  tags: ['orders'],
  summary: 'Find orders by order number, IMEI, serial, tracking number or invoice number (exact value, any account)',
  request: {
    query: z.object({
      q: freeText(MAX_QUERY_LENGTH).openapi({
        description: 'the reference as the customer reads it: case, spaces and IMEI dashes do not matter',
        example: 'TRK-123',
      }),
    }),
  },
  responses: { 200: answer('Matches, empty when nothing matches', SearchResultSchema), 400: refusal('Empty or too long') },
});

export function searchRoutes({ config, db }: ApiDeps) {
  const { OrderView: Orders, Invoice: Invoices } = db.models;
  const references = orderReferences(db.models);
  const r = newRouter();

  /** The orders a probe names: one `_id` read, or a few for a shared reference. */
  async function ordersFor({ kind, value }: ReferenceProbe): Promise<string[]> {
    switch (kind) {
      case 'order':
        return [value];
      case 'invoice': {
        // An invoice names its charges, and a charge key starts with its order's id.
        const invoice = await Invoices.findOne({ _id: value }, { chargeKeys: 1 }).lean();
        return [...new Set((invoice?.chargeKeys ?? []).map(orderIdOfChargeKey))].slice(0, MAX_ORDERS_PER_REFERENCE);
      }
      default:
        return references.ordersWith({ kind, value });
    }
  }

  r.openapi(guarded(config, search), async (c) => {
    const { q } = c.req.valid('query');
    const probes = searchProbes(q);
    const found = await Promise.all(probes.map(async (p) => ({ probe: p, orderIds: await ordersFor(p) })));
    const orderIds = [...new Set(found.flatMap((f) => f.orderIds))];
    const views = await Promise.all(orderIds.map((id) => Orders.findOne({ _id: id }, { accountId: 1, status: 1 }).lean()));
    const byId = new Map(views.flatMap((v) => (v ? [[String(v._id), v] as const] : [])));
    const items = found.flatMap(({ probe, orderIds: ids }) =>
      ids.flatMap((orderId) => {
        const v = byId.get(orderId);
        return v ? [{ kind: probe.kind, value: probe.value, orderId, accountId: v.accountId, status: v.status as OrderStatus }] : [];
      }),
    );
    return c.json({ query: q, items }, 200);
  });
  return r;
}
