// Billing: an account's charges and invoices (agents and ops), one invoice with its tax analysis,
// and bill runs started by hand for an explicit date (ops).
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { billRunWorkflowId, invoiceSummary, isBillDate, type BillRunResult } from '../../domain/billing';
import type { billRunWorkflow } from '../../workflows/bill-run';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { AccountIdParam, BillRunSchema, ChargeSchema, InvoiceSchema, InvoiceSummarySchema, answer, itemsOf, refusal } from '../schemas';

const BillDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a date, YYYY-MM-DD')
  .refine(isBillDate, 'not a calendar date')
  .openapi({ example: '2025-03-15', description: 'bills the accounts whose cycle day is this day, with charges up to its end (UTC)' });

export const StartBillRunBody = z
  .object({
    date: BillDate,
    waitSeconds: z.number().int().min(0).max(25).default(20).openapi({ description: 'how long to wait for the result before answering 202' }),
  })
  .strict()
  .openapi('StartBillRun');

const listCharges = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts/{accountId}/charges',
  tags: ['billing'],
  summary: "The account's charges, oldest first: pending ones wait for the next cycle invoice",
  request: {
    params: AccountIdParam,
    query: z.object({ status: z.enum(['pending', 'invoiced']).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) }),
  },
  responses: { 200: answer('Charges', itemsOf(ChargeSchema)), 400: refusal('Bad query'), 404: refusal('No such account') },
});

const listInvoices = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts/{accountId}/invoices',
  tags: ['billing'],
  summary: "The account's invoices, newest first",
  request: { params: AccountIdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: { 200: answer('Invoices', itemsOf(InvoiceSummarySchema)), 400: refusal('Bad query'), 404: refusal('No such account') },
});

const getInvoice = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/invoices/{invoiceNumber}',
  tags: ['billing'],
  summary: 'An invoice: its charges, tax by rate and totals',
  request: {
    params: z.object({
      invoiceNumber: z
        .string()
        .regex(/^INV-\d{1,20}$/)
        .openapi({ param: { name: 'invoiceNumber', in: 'path' }, example: 'INV-00000042' }),
    }),
  },
  responses: { 200: answer('The invoice', InvoiceSchema), 400: refusal('Bad invoice number'), 404: refusal('No such invoice') },
});

const startBillRun = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/bill-runs',
  tags: ['billing'],
  summary: 'Run the bill run for a date now (or join the one already running); a rerun of a finished date issues nothing twice',
  request: { body: { required: true, content: { 'application/json': { schema: StartBillRunBody } } } },
  responses: { 200: answer('Finished', BillRunSchema), 202: answer('Still running: poll GET /bill-runs/{date}', BillRunSchema), 400: refusal('Invalid date') },
});

const getBillRun = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/bill-runs/{date}',
  tags: ['billing'],
  summary: 'The latest bill run for a date',
  request: { params: z.object({ date: BillDate.openapi({ param: { name: 'date', in: 'path' } }) }) },
  responses: { 200: answer('The bill run', BillRunSchema), 400: refusal('Invalid date'), 404: refusal('No bill run for that date') },
});

type Lean<T> = T & { _id?: unknown };
const withoutId = <T extends object>({ _id, ...rest }: Lean<T>) => rest;

export function billingRoutes({ config, db, temporal }: ApiDeps) {
  const { Account, Charge, Invoice } = db.models;
  const r = newRouter();

  const requireAccount = async (accountId: string) => {
    if (!(await Account.exists({ accountId }))) throw apiError('ACCOUNT_NOT_FOUND', `no account ${accountId}`);
  };

  r.openapi(guarded(config, listCharges), async (c) => {
    const { accountId } = c.req.valid('param');
    const { status, limit } = c.req.valid('query');
    await requireAccount(accountId);
    const filter: Record<string, unknown> = { accountId };
    if (status === 'pending') filter.invoiceNumber = null;
    if (status === 'invoiced') filter.invoiceNumber = { $ne: null };
    const charges = await Charge.find(filter, { _id: 0 }).sort({ createdAt: 1, chargeKey: 1 }).limit(limit).lean();
    // A pending charge may have no invoiceNumber field at all: it answers null.
    return c.json({ items: charges.map((ch) => ({ ...ch, invoiceNumber: ch.invoiceNumber ?? null })) }, 200);
  });

  r.openapi(guarded(config, listInvoices), async (c) => {
    const { accountId } = c.req.valid('param');
    const { limit } = c.req.valid('query');
    await requireAccount(accountId);
    const docs = await Invoice.find({ accountId }).sort({ accountSequence: -1 }).limit(limit).lean();
    const items = docs.map((d) => ({
      ...invoiceFields(d),
      chargeCount: d.chargeKeys.length,
      totals: { net: d.net ?? 0, tax: d.tax ?? 0, gross: d.gross ?? 0 },
    }));
    return c.json({ items }, 200);
  });

  r.openapi(guarded(config, getInvoice), async (c) => {
    const { invoiceNumber } = c.req.valid('param');
    // Invoices and charges are keyed by their number and key: point reads (an $in scans on FerretDB).
    const invoice = await Invoice.findOne({ _id: invoiceNumber }).lean();
    if (!invoice) throw apiError('NOT_FOUND', `no invoice ${invoiceNumber}`);
    // The invoice's own list of charges, not their back-references, which may lag after a crash.
    const charges = await Promise.all(invoice.chargeKeys.map((chargeKey) => Charge.findOne({ _id: chargeKey }).lean()));
    const lines = charges
      .filter((l) => l !== null)
      .map((l) => withoutId({ ...l, invoiceNumber }))
      .sort((a, b) => a.orderId.localeCompare(b.orderId) || a.lineNumber - b.lineNumber || a.chargeKey.localeCompare(b.chargeKey));
    return c.json({ ...invoiceFields(invoice), lines, ...invoiceSummary(lines) }, 200);
  });

  r.openapi(guarded(config, startBillRun), async (c) => {
    const { date, waitSeconds } = c.req.valid('json');
    // A date has one bill run at a time (a second trigger joins it); once it has finished, a rerun
    // starts afresh: it retries any account that failed and is a no-op for the ones invoiced.
    const handle = await temporal.workflow.start<typeof billRunWorkflow>('billRunWorkflow', {
      workflowId: billRunWorkflowId(date),
      taskQueue: config.temporal.taskQueue,
      args: [{ date }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Bill run for ${date}`,
    });
    const finished = waitSeconds > 0 && (await settledWithin(handle, waitSeconds * 1000));
    const view = await billRunView(handle);
    return finished || view.status !== 'running' ? c.json(view, 200) : c.json(view, 202);
  });

  r.openapi(guarded(config, getBillRun), async (c) => {
    const { date } = c.req.valid('param');
    try {
      return c.json(await billRunView(temporal.workflow.getHandle(billRunWorkflowId(date))), 200);
    } catch (e) {
      if (e instanceof WorkflowNotFoundError) throw apiError('NOT_FOUND', `no bill run for ${date}`);
      throw e;
    }
  });

  /** Waits for the run to close, for at most `ms`; true if it did. */
  async function settledWithin(handle: WorkflowHandle, ms: number): Promise<boolean> {
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), ms);
    try {
      await temporal.withAbortSignal(ctrl.signal, () => handle.result());
      return true;
    } catch {
      // Aborted: still running. Otherwise it closed without a result (failed, terminated): the view says how.
      return !ctrl.signal.aborted;
    } finally {
      clearTimeout(timer);
    }
  }

  return r;
}

/** The run's status, and its result once completed. */
async function billRunView(handle: WorkflowHandle) {
  const d = await handle.describe();
  const status = d.status.name.toLowerCase();
  const result = status === 'completed' ? ((await handle.result()) as BillRunResult) : undefined;
  return { workflowId: d.workflowId, runId: d.runId, status, ...(result ? { result } : {}) };
}

function invoiceFields(d: {
  invoiceNumber: string;
  accountId: string;
  kind: 'offCycle' | 'cycle';
  issuedAt: string;
  currency: string;
  billDate?: string | null;
  cutOff?: string | null;
}) {
  return {
    invoiceNumber: d.invoiceNumber,
    accountId: d.accountId,
    kind: d.kind,
    issuedAt: d.issuedAt,
    currency: d.currency,
    ...(d.billDate ? { billDate: d.billDate } : {}),
    ...(d.cutOff ? { cutOff: d.cutOff } : {}),
  };
}
