import { createRoute, z } from '@hono/zod-openapi';
import type { Account } from '../../domain/types';
import { newOrderId, openOrder } from '../../infra/open-order';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { decodeCursor, encodeCursor } from '../cursor';
import { apiError } from '../errors';
import { idempotent } from '../idempotency';
import { newestView } from '../../infra/store/order-views';
import { freeText, AccountIdParam, AccountSchema, CreateOrderBody, OrderListSchema, OrderSchema, OrderStatus, answer, itemsOf, refusal } from '../schemas';

const findAccounts = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts',
  tags: ['accounts'],
  summary: 'Find accounts by id or name',
  request: { query: z.object({ query: freeText(60).openapi({ description: 'account id, or the start of the name' }) }) },
  responses: {
    200: answer('Matching accounts', itemsOf(AccountSchema)),
    400: refusal('Bad query'),
  },
});

const getAccount = createRoute({
  ...roles('agent', 'ops', 'admin'),
  method: 'get',
  path: '/accounts/{accountId}',
  tags: ['accounts'],
  request: { params: AccountIdParam },
  responses: { 200: answer('The account', AccountSchema), 404: refusal('No such account') },
});

const listOrders = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts/{accountId}/orders',
  tags: ['orders'],
  summary: "The account's orders, newest first",
  request: {
    params: AccountIdParam,
    query: z.object({
      status: OrderStatus.optional(),
      limit: z.coerce.number().int().min(1).max(100).default(20),
      cursor: freeText(200).optional(),
    }),
  },
  responses: {
    200: answer('A page of orders', OrderListSchema),
    400: refusal('Bad query'),
    404: refusal('No such account'),
  },
});

const createOrder = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/accounts/{accountId}/orders',
  tags: ['orders'],
  summary: 'Start a new order on the account (status New)',
  request: {
    params: AccountIdParam,
    headers: z.object({ 'idempotency-key': z.string().optional() }),
    body: { required: false, content: { 'application/json': { schema: CreateOrderBody } } },
  },
  responses: {
    201: answer('Created', OrderSchema),
    400: refusal('Invalid body'),
    404: refusal('No such account'),
  },
});

export function accountRoutes({ config, db, temporal }: ApiDeps) {
  const { Account, OrderView } = db.models;
  const r = newRouter();
  const idem = idempotent(db);

  const loadAccount = async (accountId: string) => {
    const account = await db.reference.account(accountId);
    if (!account) throw apiError('ACCOUNT_NOT_FOUND', `no account ${accountId}`);
    return account;
  };

  r.openapi(guarded(config, findAccounts), async (c) => {
    const { query } = c.req.valid('query');
    const prefix = new RegExp('^' + query.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const items = await Account.find({ $or: [{ accountId: query }, { nameLower: prefix }] }, { _id: 0, nameLower: 0 })
      .sort({ name: 1 })
      .limit(20)
      .lean<Account[]>();
    return c.json({ items }, 200);
  });

  r.openapi(guarded(config, getAccount), async (c) => c.json(await loadAccount(c.req.valid('param').accountId), 200));

  r.openapi(guarded(config, listOrders), async (c) => {
    const { accountId } = c.req.valid('param');
    const { status, limit, cursor } = c.req.valid('query');
    await loadAccount(accountId);
    const filter: Record<string, unknown> = { accountId };
    // The stored status is the workflow's last write, which waits while an order is New and while
    // the generate's job runs; a kept update answer may be newer (newestView). So a status filter
    // also reads stored New orders, and keeps those whose newest view has the status.
    if (status) filter.status = status === 'New' ? status : { $in: [status, 'New'] };
    if (cursor) {
      const [createdAt, orderId] = decodeCursor(cursor, ['string', 'string']);
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, orderId: { $lt: orderId } }];
    }
    const docs = await OrderView.find(filter, { state: 1, answered: 1, createdAt: 1, orderId: 1 })
      .sort({ createdAt: -1, orderId: -1 })
      .limit(limit + 1)
      .lean();
    const page = docs.slice(0, limit);
    const nextCursor = docs.length > limit ? encodeCursor([page[page.length - 1].createdAt, page[page.length - 1].orderId]) : null;
    const views = page.map(newestView);
    const items = status ? views.filter((v) => v.status === status) : views;
    return c.json({ items, nextCursor }, 200);
  });

  r.openapi(guarded(config, createOrder, idem), async (c) => {
    const { accountId } = c.req.valid('param');
    const body = (c.req.header('content-length') === '0' ? {} : ((await c.req.json().catch(() => ({}))) ?? {})) as z.infer<typeof CreateOrderBody>;
    const parsed = CreateOrderBody.safeParse(body);
    if (!parsed.success) throw apiError('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const account = await loadAccount(accountId);
    const orderId = newOrderId(c.get('idempotencyKey'));
    const billingMode = parsed.data.billingMode ?? account.defaultBillingMode;
    const view = await openOrder(
      { config, db, temporal },
      { orderId, account, createdBy: c.get('actor'), requestId: c.get('requestId'), delivery: parsed.data.delivery ?? account.defaultDelivery, billingMode },
    );
    return c.json(view, 201);
  });
  return r;
}
