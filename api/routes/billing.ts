// Billing: an account's charges and invoices (agents and ops), one invoice with its tax analysis,
// and bill runs started by hand for an explicit date (ops).
import { createRoute, z } from '@hono/zod-openapi';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { billRunWorkflowId, invoiceSummary, isBillDate, type BillRunResult } from '../../domain/billing';
import type { billRunWorkflow } from '../../workflows/bill-run';
import type { ApiDeps } from '../app';
import { newRouter, reply } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { AccountIdParam, BillingMode, ErrorSchema } from '../schemas';

const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });
const json = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });

const minor = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description}, minor units` });

export const ChargeSchema = z
  .object({
    chargeKey: z.string().openapi({ description: 'order id, line number and dispatch batch (or `licence`): the idempotency key' }),
    accountId: z.string(),
    orderId: z.string(),
    lineNumber: z.number().int(),
    sku: z.string(),
    description: z.string(),
    quantity: z.number().int().openapi({ description: 'units shipped (or licences provisioned) in this charge' }),
    unitPrice: minor('unit price excluding tax'),
    taxRateBps: z.number().int().openapi({ description: 'basis points: 2000 = 20%' }),
    amount: minor('net amount'),
    tax: minor('tax, rounded on the line'),
    currency: z.string(),
    billingMode: BillingMode,
    createdAt: z.string(),
    invoiceNumber: z.string().nullable().openapi({ description: 'null while the charge waits for the next cycle invoice' }),
  })
  .openapi('Charge');

const TotalsSchema = z.object({ net: minor('net'), tax: minor('tax'), gross: minor('gross') }).openapi('InvoiceTotals');

const InvoiceFields = {
  invoiceNumber: z.string().openapi({ example: 'INV-00000042' }),
  accountId: z.string(),
  kind: z.enum(['offCycle', 'cycle']).openapi({ description: 'offCycle: issued at once for one order; cycle: the bill run' }),
  issuedAt: z.string(),
  currency: z.string(),
  billDate: z.string().optional().openapi({ description: 'cycle invoices: the bill date' }),
  cutOff: z.string().optional().openapi({ description: 'cycle invoices: charges created up to this instant' }),
};

export const InvoiceSummarySchema = z.object({ ...InvoiceFields, chargeCount: z.number().int(), totals: TotalsSchema }).openapi('InvoiceSummary');

export const InvoiceSchema = z
  .object({
    ...InvoiceFields,
    lines: z.array(ChargeSchema),
    taxByRate: z.array(z.object({ taxRateBps: z.number().int(), net: minor('net'), tax: minor('tax'), gross: minor('gross') })),
    totals: TotalsSchema,
  })
  .openapi('Invoice');

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

export const BillRunSchema = z
  .object({
    workflowId: z.string(),
    runId: z.string(),
    status: z.string().openapi({ description: 'running, completed, failed, terminated, ...' }),
    result: z
      .object({
        date: z.string(),
        cutOff: z.string(),
        accountsDue: z.number().int(),
        invoices: z.array(
          z.object({
            accountId: z.string(),
            invoiceNumber: z.string(),
            currency: z.string(),
            gross: z.number().int(),
            chargeCount: z.number().int(),
            created: z.boolean(),
          }),
        ),
        nothingToBill: z.array(z.string()),
        failed: z.array(z.object({ accountId: z.string(), message: z.string() })),
      })
      .optional()
      .openapi({ description: 'once completed' }),
  })
  .openapi('BillRun');

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
  responses: { 200: json('Charges', z.object({ items: z.array(ChargeSchema) })), 400: err('Bad query'), 404: err('No such account') },
});

const listInvoices = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/accounts/{accountId}/invoices',
  tags: ['billing'],
  summary: "The account's invoices, newest first",
  request: { params: AccountIdParam, query: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20) }) },
  responses: { 200: json('Invoices', z.object({ items: z.array(InvoiceSummarySchema) })), 400: err('Bad query'), 404: err('No such account') },
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
  responses: { 200: json('The invoice', InvoiceSchema), 400: err('Bad invoice number'), 404: err('No such invoice') },
});

const startBillRun = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/bill-runs',
  tags: ['billing'],
  summary: 'Run the bill run for a date now (or join the one already running); a rerun of a finished date issues nothing twice',
  request: { body: { required: true, content: { 'application/json': { schema: StartBillRunBody } } } },
  responses: { 200: json('Finished', BillRunSchema), 202: json('Still running: poll GET /bill-runs/{date}', BillRunSchema), 400: err('Invalid date') },
});

const getBillRun = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/bill-runs/{date}',
  tags: ['billing'],
  summary: 'The latest bill run for a date',
  request: { params: z.object({ date: BillDate.openapi({ param: { name: 'date', in: 'path' } }) }) },
  responses: { 200: json('The bill run', BillRunSchema), 400: err('Invalid date'), 404: err('No bill run for that date') },
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
    const items = await Charge.find(filter, { _id: 0 }).sort({ createdAt: 1, chargeKey: 1 }).limit(limit).lean();
    return reply(c, { items });
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
    return reply(c, { items });
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
    return reply(c, { ...invoiceFields(invoice), lines, ...invoiceSummary(lines) });
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
    return reply(c, view, finished || view.status !== 'running' ? 200 : 202);
  });

  r.openapi(guarded(config, getBillRun), async (c) => {
    const { date } = c.req.valid('param');
    try {
      return reply(c, await billRunView(temporal.workflow.getHandle(billRunWorkflowId(date))));
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
  kind: string;
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
