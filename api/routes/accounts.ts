import { createRoute, z } from '@hono/zod-openapi';
import { randomBytes, createHash } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Account, BillingMode, DeliveryContact } from '../../domain/types';
import { AccountIdAttr, BillingModeAttr, OrderStatusAttr, attr, getOrderQuery, openedUpdate, orderWorkflowId, type OrderView } from '../../workflows/messages';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { decodeCursor, encodeCursor } from '../cursor';
import { apiError } from '../errors';
import { idempotent } from '../idempotency';
import { currentView } from '../order-view';
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

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** ORD- and 10 Crockford base-32 characters: from the seed (an idempotency key, an exchange's RMA) when given, else random. */
export function newOrderId(seed?: string): string {
  const bytes = seed ? createHash('sha256').update(seed).digest() : randomBytes(10);
  let out = '';
  for (let i = 0; i < 10; i++) out += CROCKFORD[bytes[i] % 32];
  return `ORD-${out}`;
}

export function accountRoutes({ config, db, temporal }: ApiDeps) {
  const { Account, OrderView } = db.models;
  const r = newRouter();
  const idem = idempotent(db, temporal);

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
    if (status) filter.status = status;
    if (cursor) {
      const [createdAt, orderId] = decodeCursor(cursor, ['string', 'string']);
      filter.$or = [{ createdAt: { $lt: createdAt } }, { createdAt, orderId: { $lt: orderId } }];
    }
    const docs = await OrderView.find(filter, { state: 1, createdAt: 1, orderId: 1 })
      .sort({ createdAt: -1, orderId: -1 })
      .limit(limit + 1)
      .lean();
    const page = docs.slice(0, limit);
    const nextCursor = docs.length > limit ? encodeCursor([page[page.length - 1].createdAt, page[page.length - 1].orderId]) : null;
    return c.json({ items: await Promise.all(page.map((d) => currentView(db, d.state as OrderView, temporal))), nextCursor }, 200);
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

/**
 * Starts an order's workflow (status New) and answers with its view once the read model has it.
 * A retried start whose order has since closed answers with that order and starts nothing.
 */
export async function openOrder(
  { config, db, temporal }: Pick<ApiDeps, 'config' | 'db' | 'temporal'>,
  o: { orderId: string; account: Account; createdBy: string; requestId?: string; delivery: DeliveryContact; billingMode: BillingMode },
): Promise<OrderView> {
  const { orderId, account } = o;
  const startOp = new WithStartWorkflowOperation('orderWorkflow', {
    workflowId: orderWorkflowId(orderId),
    taskQueue: config.temporal.taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    // An order id is never reused, even after its workflow closed.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    args: [
      {
        orderId,
        accountId: account.accountId,
        currency: account.currency,
        createdBy: o.createdBy,
        ...(o.requestId ? { requestId: o.requestId } : {}),
        delivery: o.delivery,
        billingMode: o.billingMode,
      },
    ],
    typedSearchAttributes: [attr(OrderStatusAttr, 'New'), attr(AccountIdAttr, account.accountId), attr(BillingModeAttr, o.billingMode)],
    staticSummary: `Hardware order ${orderId} on account ${account.accountId}`,
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(openedUpdate, { startWorkflowOperation: startOp });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    const existing = await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
    // Its read model not written (yet): the closed workflow answers for itself.
    return (existing?.state as OrderView | undefined) ?? (await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(getOrderQuery));
  }
}
