// Returns (RMA) and credit notes: an agent returns units of an order (the return rules in
// domain/returns.ts), ops report units received, everyone reads returns and an account's credit
// notes; ops check an account's balance. Each return is its own workflow, `return-<rmaId>`.
import { createRoute, type z } from '@hono/zod-openapi';
import { WorkflowNotFoundError } from '@temporalio/client';
import { msToNumber, type Duration } from '@temporalio/common';
import { checkReturn, authorisedReturn, findUnit, restockingFeeBps, returnableUnits, returnWorkflowId, type ReturnView } from '../../domain/returns';
import { accountBalanceCheck } from '../../infra/balance-check';
import { startReturn } from '../../infra/return-start';
import { returnsStore } from '../../infra/store/returns';
import { receiveReturnUpdate } from '../../workflows/messages';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { readOrderView } from '../order-view';
import { idempotent } from '../idempotency';
import {
  AccountIdParam,
  BalanceCheckSchema,
  CreditLineChargeSchema,
  CreditNoteSchema,
  CreateReturnBody,
  CreditNotesSchema,
  OrderIdParam,
  ReceiveReturnBody,
  ReturnSchema,
  RmaParam,
  answer,
  itemsOf,
  jsonBody,
  refusal,
} from '../schemas';

const createReturn = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/returns',
  tags: ['returns'],
  summary: 'Return units of an order (RMA): faulty, unwanted, wrongItem or damagedInTransit; optionally an exchange',
  request: { params: OrderIdParam, ...jsonBody(CreateReturnBody) },
  responses: {
    201: answer('Authorised: the Return Authorisation goes to the warehouse', ReturnSchema),
    400: refusal('Invalid request'),
    404: refusal('No such order'),
    409: refusal('A unit is already returned (UNIT_ALREADY_RETURNED)'),
    422: refusal('Refused by the return rules (UNIT_NOT_RETURNABLE, RETURN_WINDOW_CLOSED, EXCHANGE_NOT_ALLOWED)'),
  },
});

const listOrderReturns = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/orders/{orderId}/returns',
  tags: ['returns'],
  summary: "The order's returns, oldest first",
  request: { params: OrderIdParam },
  responses: { 200: answer('Its returns', itemsOf(ReturnSchema)), 404: refusal('No such order') },
});

const getReturn = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/returns/{rmaId}',
  tags: ['returns'],
  request: { params: RmaParam },
  responses: { 200: answer('The return', ReturnSchema), 400: refusal('Not an RMA number'), 404: refusal('No such return') },
});

const receiveReturn = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/returns/{rmaId}/receive',
  tags: ['returns'],
  summary: "Ops report the return's units received (each with its condition grade); answers once they are credited",
  request: { params: RmaParam, ...jsonBody(ReceiveReturnBody) },
  responses: {
    200: answer('Received (credited once every unit is in)', ReturnSchema),
    400: refusal('Invalid request'),
    404: refusal('No such return'),
    409: refusal('The return is not waiting for its units (RETURN_NOT_AWAITING_RECEIPT)'),
    422: refusal('A named unit is not in the return'),
  },
});

const listCreditNotes = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts/{accountId}/credit-notes',
  tags: ['returns'],
  summary: "The account's credit notes, and its credit lines for cycle invoices",
  request: { params: AccountIdParam },
  responses: { 200: answer('Credit notes and credit lines', CreditNotesSchema), 404: refusal('No such account') },
});

const balanceCheck = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/accounts/{accountId}/balance-check',
  tags: ['returns'],
  summary: 'Charges − credits = invoiced amounts, and every shipped, unreturned unit charged exactly once',
  request: { params: AccountIdParam },
  responses: { 200: answer('The check and any problems found', BalanceCheckSchema), 404: refusal('No such account') },
});

const ms = (d: string) => msToNumber(d as Duration);

export function returnRoutes({ config, db, temporal }: ApiDeps) {
  const { Return, CreditNote, Charge } = db.models;
  const store = returnsStore(db);
  const r = newRouter();
  const idem = idempotent(db);

  const readOrder = (orderId: string) => readOrderView(db, orderId);
  const readReturn = async (rmaId: string): Promise<ReturnView> => {
    const doc = await Return.findOne({ _id: rmaId }, { _id: 0 }).lean<ReturnView>();
    if (!doc) throw apiError('RETURN_NOT_FOUND', `no return ${rmaId}`);
    return doc;
  };
  const loadAccount = async (accountId: string) => {
    const account = await db.reference.account(accountId);
    if (!account) throw apiError('ACCOUNT_NOT_FOUND', `no account ${accountId}`);
    return account;
  };

  r.openapi(guarded(config, createReturn, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const body = c.req.valid('json');
    const order = await readOrder(orderId);
    const request = { units: body.units, reason: body.reason, exchange: body.exchange };
    const all = returnableUnits(order);
    const named = body.units.flatMap((ref) => findUnit(all, ref)?.unitId ?? []);
    const held = await store.held(orderId, named);
    const now = new Date();
    const units = checkReturn(order, request, held, now.toISOString(), {
      unwantedMs: ms(config.returns.windowUnwanted),
      faultyMs: ms(config.returns.windowFaulty),
    });
    const account = await loadAccount(order.accountId);
    const base = authorisedReturn({
      order,
      units,
      reason: body.reason,
      note: body.note ?? '',
      exchange: body.exchange,
      creditMode: account.defaultBillingMode,
      feeBps: restockingFeeBps(config.returns.restockingFeePercent),
      receiptWaitMs: ms(config.returns.receiptWait),
      by: c.get('actor'),
      now,
    });
    const doc = await store.number((rmaId, sequence) => ({ _id: rmaId, rmaId, sequence, ...base }));
    // Units held, an exchange's order opened, the workflow started: after a crash here the orphaned
    // returns job finishes it (RETURN_START_GRACE later), and either finds the other's work done.
    const { ret } = await startReturn({ config, db, temporal }, { rmaId: doc.rmaId, sequence: doc.sequence, ...base });
    return c.json(ret, 201);
  });

  r.openapi(guarded(config, listOrderReturns), async (c) => {
    const { orderId } = c.req.valid('param');
    await readOrder(orderId);
    const items = await Return.find({ orderId }, { _id: 0 }).sort({ sequence: 1 }).lean<ReturnView[]>();
    return c.json({ items }, 200);
  });

  r.openapi(guarded(config, getReturn), async (c) => c.json(await readReturn(c.req.valid('param').rmaId), 200));

  r.openapi(guarded(config, receiveReturn), async (c) => {
    const { rmaId } = c.req.valid('param');
    const body = c.req.valid('json');
    const ret = await readReturn(rmaId);
    try {
      const view = await temporal.workflow
        .getHandle(returnWorkflowId(rmaId))
        .executeUpdate(receiveReturnUpdate, { args: [{ grade: body.grade, ...(body.units ? { units: body.units } : {}), by: c.get('actor') }] });
      return c.json(view, 200);
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
      throw apiError('RETURN_NOT_AWAITING_RECEIPT', `return ${rmaId} is ${ret.status}`, { status: ret.status });
    }
  });

  r.openapi(guarded(config, listCreditNotes), async (c) => {
    const { accountId } = c.req.valid('param');
    await loadAccount(accountId);
    const [items, creditLines] = await Promise.all([
      CreditNote.find({ accountId }, { _id: 0, sequence: 0, idempotencyKey: 0 }).sort({ sequence: 1 }).lean<z.infer<typeof CreditNoteSchema>[]>(),
      Charge.find({ accountId, rmaId: { $exists: true } }, { _id: 0 })
        .sort({ createdAt: 1, chargeKey: 1 })
        .lean<z.infer<typeof CreditLineChargeSchema>[]>(),
    ]);
    return c.json({ items, creditLines }, 200);
  });

  r.openapi(guarded(config, balanceCheck), async (c) => {
    const { accountId } = c.req.valid('param');
    await loadAccount(accountId);
    return c.json(await accountBalanceCheck(db, accountId), 200);
  });

  return r;
}
