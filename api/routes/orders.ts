import { createRoute } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import type { Context } from 'hono';
import { auditEntriesOf, checkAddNote, noteEntry, withNotes } from '../../domain/order-history';
import { isTerminal } from '../../domain/order-state';
import { auditTrail } from '../../infra/store/audit-trail';
import { orderNotes } from '../../infra/store/order-notes';
import { keepAnswer } from '../../infra/store/order-views';
import type { Product } from '../../domain/types';
import {
  addLineUpdate,
  addNoteUpdate,
  cancelUpdate,
  changeLineUpdate,
  closeUpdate,
  fraudReviewUpdate,
  generateUpdate,
  orderWorkflowId,
  removeLineUpdate,
  resendCancellationUpdate,
  resendUpdate,
  resubmitUpdate,
  setBillingModeUpdate,
  setDeliveryUpdate,
  type Actor,
  type OrderView,
} from '../../workflows/messages';
import type { ApiDeps } from '../app';
import type { ApiEnv } from '../env';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { readOrderView } from '../order-view';
import { idempotent, isOrderView } from '../idempotency';
import {
  AddLineBody,
  AddNoteBody,
  CancelBody,
  CancellationRequestedSchema,
  ChangeLineBody,
  DeliverySchema,
  FraudReviewBody,
  LineParams,
  OrderDetailSchema,
  OrderIdParam,
  OrderSchema,
  OpsReasonBody,
  ResubmitBody,
  SetBillingModeBody,
  StockCheckSchema,
  answer,
  itemsOf,
  jsonBody,
  refusal,
} from '../schemas';
import { runStockCheck } from './stock';

const orderOk = (description: string) => answer(description, OrderSchema);
const refusals = {
  400: refusal('Invalid request'),
  404: refusal('No such order or line'),
  409: refusal('Not allowed in the order’s current status'),
  422: refusal('Business rule refused it'),
};

const getOrder = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/orders/{orderId}',
  summary: 'Read an order: state, lines, totals, history, allocation, charges',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam } },
  responses: { ...refusals, ...{ 200: answer('The order', OrderDetailSchema) } },
});
const addLine = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/lines',
  summary: 'Add a catalogue product (price captured now); New orders only',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(AddLineBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order with the line') } },
});
const changeLine = createRoute({
  ...roles('agent', 'ops'),
  method: 'patch',
  path: '/orders/{orderId}/lines/{lineId}',
  summary: 'Change quantity or enrolment of a line; New orders only',
  tags: ['orders'],
  ...{ request: { params: LineParams, ...jsonBody(ChangeLineBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const removeLine = createRoute({
  ...roles('agent', 'ops'),
  method: 'delete',
  path: '/orders/{orderId}/lines/{lineId}',
  summary: 'Remove a line; New orders only',
  tags: ['orders'],
  ...{ request: { params: LineParams } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const setDelivery = createRoute({
  ...roles('agent', 'ops'),
  method: 'put',
  path: '/orders/{orderId}/delivery',
  summary: 'Set the delivery contact and address; New orders only',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(DeliverySchema) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const setBillingMode = createRoute({
  ...roles('agent', 'ops'),
  method: 'put',
  path: '/orders/{orderId}/billing-mode',
  summary: 'Bill immediately on completion, or on the next invoice',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(SetBillingModeBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const stockCheck = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/orders/{orderId}/stock-check',
  summary: "Check stock for the order's lines",
  tags: ['orders'],
  ...{ request: { params: OrderIdParam } },
  responses: {
    ...refusals,
    ...{
      200: answer('Stock per line SKU', StockCheckSchema),
      503: refusal('Not connected to a warehouse, or none answered'),
    },
  },
});
const generate = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/generate',
  summary: 'Generate the order (Awaiting Generation): fraud check and Sales Order Request follow',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam } },
  responses: { ...refusals, ...{ 200: orderOk('The generated order') } },
});
const cancel = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/cancel',
  summary: 'Cancel: at once before a warehouse has it (200), else a request to the warehouse (202)',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, body: { content: { 'application/json': { schema: CancelBody } }, required: false } } },
  responses: {
    ...refusals,
    ...{
      200: orderOk('Cancelled'),
      202: answer('Cancellation requested from the warehouse', CancellationRequestedSchema),
    },
  },
});
const fraudReview = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/orders/{orderId}/fraud-review',
  summary: 'Ops decision on an order referred by the fraud check',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(FraudReviewBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
// Ops' exception actions: an order in Error resolved, an order stuck Awaiting Dispatch unstuck.
const resubmit = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/orders/{orderId}/resubmit',
  summary: 'Error: send what did not ship again (new sub-orders …-R<n>), optionally to a corrected delivery (the fraud check runs again)',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(ResubmitBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order, resubmitted (Awaiting Generation until the sales orders are sent)') } },
});
const close = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/orders/{orderId}/close',
  summary: 'Error: accept the order as it is; or end an order whose cancellation the warehouse never answered',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(OpsReasonBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order, closed') } },
});
const resend = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/orders/{orderId}/resend',
  summary: 'Awaiting Dispatch: the same sales order again to each warehouse that has not dispatched (purpose resend, same sub-order numbers)',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(OpsReasonBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const resendCancellation = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/orders/{orderId}/resend-cancellation',
  summary: 'Awaiting Dispatch with the cancellation unanswered: send the cancellation again',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(OpsReasonBody) } },
  responses: { ...refusals, ...{ 200: orderOk('The order') } },
});
const addNote = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/notes',
  summary: 'Add a note to the order (any status, closed ones too), kept in its history with the author',
  tags: ['orders'],
  ...{ request: { params: OrderIdParam, ...jsonBody(AddNoteBody) } },
  responses: { ...refusals, ...{ 201: answer('The order, the note in its history', OrderSchema) } },
});
const fraudQueue = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/fraud-reviews',
  tags: ['fraud'],
  summary: 'Orders waiting for a fraud review decision',
  responses: { 200: answer('The queue', itemsOf(OrderSchema)) },
});

export function orderRoutes({ config, db, temporal, stock }: ApiDeps) {
  const { OrderView: Orders } = db.models;
  const r = newRouter();
  const idem = idempotent(db);

  const notes = orderNotes(db.models);
  const trail = auditTrail(db.models);

  const readOrder = (orderId: string) => readOrderView(db, orderId);

  /** The order with the notes kept beside it once its workflow finished (only a finished order has any). */
  const withKeptNotes = async (order: OrderView): Promise<OrderView> => {
    if (!isTerminal(order.status)) return order;
    const kept = await notes.of(order.orderId);
    return kept.length ? { ...order, history: withNotes(order.history, kept) } : order;
  };

  /**
   * Runs an agent action as a workflow update; refusals come back as the domain's error codes. The
   * request id goes with it into the order's history (the correlation id of the audit trail).
   */
  async function act<Ret, Arg extends Actor>(
    c: Context<ApiEnv>,
    orderId: string,
    def: UpdateDefinition<Ret, [Arg]>,
    arg: Omit<Arg, 'requestId'>,
  ): Promise<Ret> {
    const handle: WorkflowHandle = temporal.workflow.getHandle(orderWorkflowId(orderId));
    const key = c.get('idempotencyKey');
    try {
      const answer = await handle.executeUpdate(def, { args: [{ ...arg, requestId: c.get('requestId') } as Arg], ...(key ? { updateId: key } : {}) });
      if (isOrderView(answer)) await keepAnswer(db, answer);
      return answer;
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
      const order = await readOrder(orderId); // 404 when there is no such order at all
      if (isTerminal(order.status)) throw apiError('INVALID_TRANSITION', `order ${orderId} is ${order.status}`, { status: order.status });
      throw e;
    }
  }

  r.openapi(guarded(config, getOrder), async (c) => {
    const order = await withKeptNotes(await readOrder(c.req.valid('param').orderId));
    const ops = c.get('role') === 'ops';
    const temporalUrl = `${config.temporal.uiUrl}/namespaces/${config.temporal.namespace}/workflows/${orderWorkflowId(order.orderId)}`;
    return c.json({ ...order, ...(ops ? { temporalUrl } : {}) }, 200);
  });

  r.openapi(guarded(config, addLine, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const body = c.req.valid('json');
    const product = await db.reference.product(body.sku);
    if (!product) throw apiError('PRODUCT_NOT_FOUND', `no product ${body.sku} in the catalogue`);
    const view = await act(c, orderId, addLineUpdate, {
      product,
      quantity: body.quantity,
      ...(body.enrolment ? { enrolment: body.enrolment } : {}),
      by: c.get('actor'),
    });
    return c.json(view, 200);
  });

  r.openapi(guarded(config, changeLine), async (c) => {
    const { orderId, lineId } = c.req.valid('param');
    const body = c.req.valid('json');
    let enrolmentProgrammes: Product['enrolmentProgrammes'] | undefined;
    if (body.enrolment) {
      const order = await readOrder(orderId);
      const line = order.lines.find((l) => l.lineId === lineId);
      if (line) enrolmentProgrammes = (await db.reference.product(line.sku))?.enrolmentProgrammes ?? [];
    }
    const view = await act(c, orderId, changeLineUpdate, { lineId, ...body, ...(enrolmentProgrammes ? { enrolmentProgrammes } : {}), by: c.get('actor') });
    return c.json(view, 200);
  });

  r.openapi(guarded(config, removeLine), async (c) => {
    const { orderId, lineId } = c.req.valid('param');
    return c.json(await act(c, orderId, removeLineUpdate, { lineId, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, setDelivery), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, setDeliveryUpdate, { delivery: c.req.valid('json'), by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, setBillingMode), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, setBillingModeUpdate, { billingMode: c.req.valid('json').billingMode, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, stockCheck), async (c) => {
    const order = await readOrder(c.req.valid('param').orderId);
    const items = order.lines.filter((l) => l.kind !== 'softwareLicence').map((l) => ({ sku: l.sku, quantity: l.quantity }));
    if (!items.length) throw apiError('VALIDATION_FAILED', 'the order has no warehouse lines to check');
    return c.json(await runStockCheck(stock, items), 200);
  });

  r.openapi(guarded(config, generate, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, generateUpdate, { by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, cancel, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const text = await c.req.text();
    let raw: unknown = {};
    try {
      if (text.trim()) raw = JSON.parse(text);
    } catch {
      throw apiError('VALIDATION_FAILED', 'the body is not valid JSON');
    }
    const parsed = CancelBody.safeParse(raw);
    if (!parsed.success) throw apiError('VALIDATION_FAILED', parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const res = await act(c, orderId, cancelUpdate, { reason: parsed.data.reason, by: c.get('actor') });
    return res.outcome === 'cancelled' ? c.json(res.order, 200) : c.json({ outcome: 'cancellationRequested' as const, order: res.order }, 202);
  });

  r.openapi(guarded(config, fraudReview, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const { decision, reason } = c.req.valid('json');
    return c.json(await act(c, orderId, fraudReviewUpdate, { decision, reason, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, resubmit, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const { delivery, reason } = c.req.valid('json');
    return c.json(await act(c, orderId, resubmitUpdate, { ...(delivery ? { delivery } : {}), reason, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, close, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, closeUpdate, { reason: c.req.valid('json').reason, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, resend, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, resendUpdate, { reason: c.req.valid('json').reason, by: c.get('actor') }), 200);
  });

  r.openapi(guarded(config, resendCancellation, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    return c.json(await act(c, orderId, resendCancellationUpdate, { reason: c.req.valid('json').reason, by: c.get('actor') }), 200);
  });

  // A running workflow takes the note as an update (its history, the read model, the audit trail
  // through the projection); a finished one cannot, so the note is kept beside the order and put in
  // the audit trail here. A retried request with the same Idempotency-Key adds nothing.
  r.openapi(guarded(config, addNote, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const text = c.req.valid('json').text;
    const order = await readOrder(orderId);
    const who = { by: c.get('actor'), requestId: c.get('requestId') };
    const key = c.get('idempotencyKey');
    try {
      const view = await temporal.workflow
        .getHandle(orderWorkflowId(orderId))
        .executeUpdate(addNoteUpdate, { args: [{ text, ...who }], ...(key ? { updateId: key } : {}) });
      await keepAnswer(db, view);
      return c.json(view, 201);
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
    const kept = await notes.of(orderId);
    const noteKey = key ?? who.requestId;
    checkAddNote([...order.history, ...kept], orderId, text);
    // A retry whose note was kept finds it (same key) and answers with it.
    const { entry } = await notes.add(orderId, noteKey, noteEntry(order, who, text.trim(), new Date().toISOString()));
    // Again on a retry: whatever a crash left unwritten (an entry already there is left as it is).
    await trail.record(auditEntriesOf({ ...order, history: [entry] }).map((a) => ({ ...a, entryKey: `${orderId}:note:${noteKey}` })));
    return c.json(await withKeptNotes(order), 201);
  });

  r.openapi(guarded(config, fraudQueue), async (c) => {
    const docs = await Orders.find(
      { status: 'AwaitingGeneration', 'state.fraud.awaitingReview': { $exists: true }, 'state.fraud.review': { $exists: false } },
      { state: 1 },
    )
      .sort({ createdAt: 1 })
      .limit(200)
      .lean();
    return c.json({ items: docs.map((d) => d.state as OrderView) }, 200);
  });
  return r;
}
