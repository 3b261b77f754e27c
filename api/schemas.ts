// Request and response shapes at the edge. The same schemas validate requests, type the handlers'
// answers (`c.json(body, status)` must match a response the route declares) and produce the
// OpenAPI document.
import { z } from '@hono/zod-openapi';
import { AddressSchema as DomainAddressSchema } from '../domain/address';
import { AccountWriteSchema, BLOCKLIST_KINDS, DeliveryContactSchema, ProductWriteSchema } from '../domain/reference-data';
import { BATCH_OUTCOMES } from '../domain/adaptor-exceptions';
import { freeText } from '../domain/free-text';
import { INSTRUCTION_STATUSES, type EnrolmentDevice } from '../domain/enrolment';
import { ATTENTION_FLAGS } from '../domain/order-exceptions';
import { MAX_NOTE_LENGTH, type AuditEntry } from '../domain/order-history';
import { ORDER_REFERENCE_KINDS } from '../domain/search';
import { WORK_QUEUE_KINDS, type WorkQueueKind as WorkQueueKindName } from '../domain/needs-attention';
import { CONDITION_GRADES, RETURN_REASONS, RETURN_STATUSES, type ReturnView } from '../domain/returns';
import { DISPOSITIONS, ORDER_STATUSES, type Account, type DispatchRow, type Product } from '../domain/types';
import type { OrderView } from '../workflows/messages';
import type { ImportReport } from '../infra/reference-import';

export { freeText };

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_TRANSITION' }),
      message: z.string(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error');

const id = (name: string, example: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, `${name} has only letters, digits, '.', '_' and '-'`)
    .openapi({ example });

export const OrderIdParam = z.object({ orderId: id('orderId', 'ORD-7KQ2M9XD4A').openapi({ param: { name: 'orderId', in: 'path' } }) });
export const AccountIdParam = z.object({ accountId: id('accountId', 'ACC-1001').openapi({ param: { name: 'accountId', in: 'path' } }) });
export const LineParams = OrderIdParam.extend({ lineId: id('lineId', 'L1').openapi({ param: { name: 'lineId', in: 'path' } }) });

export const Manufacturer = z.enum(['apple', 'google', 'samsung']);
export const BillingMode = z.enum(['immediate', 'nextInvoice']);
const ProductKind = z.enum(['handset', 'peripheral', 'softwareLicence']);
const UnitCapture = z.enum(['none', 'serial', 'imei']);
export const minor = (description: string) =>
  z
    .number()
    .int()
    .openapi({ description: `${description}, minor units` });
const TaxRateBps = z.number().int().openapi({ description: 'basis points: 2000 = 20%' });
const CodeMessage = z.object({ code: z.string(), message: z.string() });
export const OrderStatus = z.enum(ORDER_STATUSES);

const text = freeText;

/**
 * The domain's address (domain/address.ts) with its OpenAPI name. A copy (`extend`), because zod
 * gives a schema `.openapi()` only if it was made after @hono/zod-openapi loaded.
 */
export const AddressSchema = DomainAddressSchema.extend({}).openapi('Address');

/** The domain's delivery contact (domain/reference-data.ts) with its OpenAPI name. */
export const DeliverySchema = DeliveryContactSchema.extend({ address: AddressSchema }).openapi('DeliveryContact');

export const ProductSchema = z
  .object({
    sku: z.string(),
    name: z.string(),
    kind: ProductKind,
    unitPrice: z.number().int().openapi({ description: 'minor units, excluding tax' }),
    currency: z.string(),
    taxRateBps: TaxRateBps,
    capture: UnitCapture,
    manufacturer: Manufacturer.optional(),
    enrolmentProgrammes: z.array(Manufacturer),
    active: z.boolean(),
  })
  .openapi('Product');

export const AccountSchema = z
  .object({
    accountId: z.string(),
    name: z.string(),
    billingAddress: AddressSchema,
    defaultDelivery: DeliverySchema,
    billingCycleDay: z.number().int(),
    defaultBillingMode: BillingMode,
    currency: z.string(),
  })
  .openapi('Account');

export const CreateOrderBody = z
  .object({
    delivery: DeliverySchema.optional().openapi({ description: "defaults to the account's delivery contact" }),
    billingMode: BillingMode.optional().openapi({ description: "defaults to the account's billing mode" }),
  })
  .strict()
  .openapi('CreateOrder');

export const AddLineBody = z
  .object({
    sku: text(40),
    quantity: z.number().int().min(1).max(999),
    enrolment: Manufacturer.optional(),
  })
  .strict()
  .openapi('AddLine');

export const ChangeLineBody = z
  .object({
    quantity: z.number().int().min(1).max(999).optional(),
    enrolment: Manufacturer.nullable().optional(),
  })
  .strict()
  .refine((b) => b.quantity !== undefined || b.enrolment !== undefined, 'give quantity and/or enrolment')
  .openapi('ChangeLine');

export const SetBillingModeBody = z.object({ billingMode: BillingMode }).strict().openapi('SetBillingMode');
export const CancelBody = z
  .object({ reason: text(200, { multiline: true }).default('cancelled by agent') })
  .strict()
  .openapi('Cancel');
export const ResubmitBody = z
  .object({
    delivery: DeliverySchema.optional().openapi({ description: 'a corrected delivery; a changed address runs the fraud check again' }),
    reason: text(500, { multiline: true }),
  })
  .strict()
  .openapi('Resubmit');
export const AddNoteBody = z
  .object({ text: text(MAX_NOTE_LENGTH, { multiline: true }).openapi({ example: 'customer called about delivery' }) })
  .strict()
  .openapi('AddNote');
export const OpsReasonBody = z
  .object({ reason: text(500, { multiline: true }) })
  .strict()
  .openapi('OpsReason');
export const FraudReviewBody = z
  .object({ decision: z.enum(['approve', 'reject']), reason: text(500, { multiline: true }) })
  .strict()
  .openapi('FraudReview');

// ---- Orders: the workflow's view (workflows/messages.ts OrderView), field for field ----

export const TotalsSchema = z.object({ net: minor('net'), tax: minor('tax'), gross: minor('gross') }).openapi('Totals');

export const OrderLineSchema = z
  .object({
    lineId: z.string(),
    lineNumber: z.number().int().openapi({ description: '1-based, stable once assigned; the warehouse line number' }),
    sku: z.string(),
    description: z.string(),
    kind: ProductKind,
    quantity: z.number().int(),
    unitPrice: minor('captured from the catalogue when the line was added, excluding tax'),
    taxRateBps: TaxRateBps,
    capture: UnitCapture,
    manufacturer: Manufacturer.optional(),
    enrolment: Manufacturer.optional().openapi({ description: "the enrolment programme asked for this line's devices" }),
  })
  .openapi('OrderLine');

const LineSnapshotSchema = z.object({ sku: z.string(), quantity: z.number().int(), enrolment: Manufacturer.optional() }).openapi('LineSnapshot');
const EnrolmentIdsSchema = z.object({ apple: z.string().optional(), google: z.string().optional(), samsung: z.string().optional() });

const OrderChangeSchema = z
  .discriminatedUnion('field', [
    z.object({ field: z.literal('line'), lineId: z.string(), before: LineSnapshotSchema.nullable(), after: LineSnapshotSchema.nullable() }),
    z.object({ field: z.literal('delivery'), before: DeliverySchema.nullable(), after: DeliverySchema.nullable() }),
    z.object({ field: z.literal('billingMode'), before: BillingMode, after: BillingMode }),
    z.object({ field: z.literal('enrolmentIds'), before: EnrolmentIdsSchema.nullable(), after: EnrolmentIdsSchema.nullable() }),
  ])
  .openapi('OrderChange', { description: 'what an action changed: before → after (a line: before null = added, after null = removed)' });

const HistoryEntrySchema = z
  .object({
    from: OrderStatus.nullable(),
    to: OrderStatus,
    at: z.string(),
    by: z.string().openapi({ description: 'who: the person (the actor of the request), a warehouse or `system`' }),
    reason: z.string().openapi({ description: 'what happened; for a note, its text' }),
    changes: z.array(OrderChangeSchema).optional(),
    requestId: z.string().optional().openapi({ description: 'the x-request-id of the API request that did it' }),
    note: z.literal(true).optional().openapi({ description: 'a note someone added' }),
  })
  .openapi('HistoryEntry', { description: 'a status move (from ≠ to), or an action, note or event that kept the status (from = to)' });

const FraudStateSchema = z
  .object({
    required: z.boolean(),
    reasons: z.array(z.string()),
    result: z
      .object({
        decision: z.enum(['accept', 'refer', 'reject']),
        reasons: z.array(z.string()),
        provider: z.string(),
        providerReference: z.string(),
        checkedAt: z.string(),
      })
      .optional(),
    awaitingReview: z.object({ since: z.string(), deadline: z.string() }).optional().openapi({ description: 'while a referred order waits for ops' }),
    review: z.object({ decision: z.enum(['approve', 'reject']), by: z.string(), reason: z.string(), at: z.string() }).optional(),
  })
  .openapi('FraudState');

/** What a warehouse reports of a shipped unit: a dispatch row's and a dispatched unit's. */
const shipmentFields = {
  serialNumber: z.string().optional(),
  imei: z.string().optional(),
  imei2: z.string().optional(),
  carrier: z.string().optional(),
  trackingNumber: z.string().optional(),
  shipDate: z.string().optional().openapi({ description: 'YYYY-MM-DD' }),
};

const DispatchedUnitSchema = z
  .object({
    rowKey: z.string(),
    lineNumber: z.number().int(),
    sku: z.string(),
    quantity: z.number().int(),
    ...shipmentFields,
    batchId: z.string(),
  })
  .openapi('DispatchedUnit');

const LineExceptionSchema = z
  .object({
    rowKey: z.string(),
    lineNumber: z.number().int(),
    disposition: z.enum(['error', 'outOfStock', 'cancelled']),
    code: z.string(),
    message: z.string(),
  })
  .openapi('LineException');

const SubOrderSchema = z
  .object({
    subOrderNumber: z.string(),
    warehouseId: z.string(),
    lines: z.array(z.object({ lineNumber: z.number().int(), sku: z.string(), quantity: z.number().int() })),
    status: z.enum(['Pending', 'Sent', 'Shipped', 'Error', 'Cancelled']),
    units: z.array(DispatchedUnitSchema),
    error: CodeMessage.optional(),
    lineExceptions: z.array(LineExceptionSchema).openapi({ description: 'rows that closed a line without shipping it' }),
    resubmission: z.number().int().optional().openapi({ description: 'set on the sub-orders of the n-th resubmission (`<orderId>-<warehouseId>-R<n>`)' }),
    superseded: z.boolean().optional().openapi({ description: "its unshipped quantity was resubmitted: it no longer decides the order's outcome" }),
    sentAt: z.string().optional().openapi({ description: 'when its sales order last went out (first send or resend)' }),
    dispatchDueBy: z.string().optional().openapi({ description: 'still Sent after this, it is overdue (DISPATCH_SLA)' }),
    overdue: z.boolean().optional(),
    resends: z.number().int().optional().openapi({ description: 'times ops resent its sales order' }),
  })
  .openapi('SubOrder');

const chargeFields = {
  chargeKey: z.string().openapi({ description: 'order id, line number and dispatch batch (or `licence`): the idempotency key' }),
  lineNumber: z.number().int(),
  sku: z.string(),
  description: z.string(),
  quantity: z.number().int().openapi({ description: 'units shipped (or licences provisioned) in this charge' }),
  unitPrice: minor('unit price excluding tax'),
  taxRateBps: TaxRateBps,
  amount: minor('net amount'),
  tax: minor('tax, rounded on the line'),
  invoiceNumber: z.string().nullable().openapi({ description: 'null while the charge waits for the next cycle invoice' }),
};

export const OrderSchema = z
  .object({
    orderId: z.string(),
    accountId: z.string(),
    currency: z.string(),
    status: OrderStatus,
    createdAt: z.string(),
    createdBy: z.string(),
    lines: z.array(OrderLineSchema),
    nextLineNumber: z.number().int(),
    delivery: DeliverySchema.nullable(),
    billingMode: BillingMode,
    fraud: FraudStateSchema.nullable(),
    subOrders: z.array(SubOrderSchema),
    sendStarted: z.boolean().openapi({ description: 'a sales order has started going to a warehouse: cancelling now needs the warehouse' }),
    cancellationRequested: z.boolean(),
    error: CodeMessage.nullable(),
    history: z.array(HistoryEntrySchema),
    charges: z.array(z.object(chargeFields).openapi('OrderCharge')),
    invoiceNumber: z.string().nullable(),
    licences: z.array(
      z.object({
        lineNumber: z.number().int(),
        keys: z.array(z.string()),
        revokedAt: z.string().optional().openapi({
          description:
            'when the keys were revoked because the order ended without delivering (Cancelled, or closed in Error with nothing shipped); never charged then',
        }),
      }),
    ),
    backorder: z
      .object({
        since: z.string(),
        shortages: z.array(z.object({ sku: z.string(), lineNumbers: z.array(z.number().int()), requested: z.number().int(), available: z.number().int() })),
        lastCheckedAt: z.string(),
        expiresAt: z.string().openapi({ description: 'after this the order goes to Error BACKORDER_EXPIRED' }),
      })
      .nullable()
      .openapi('Backorder', { description: 'waiting in Awaiting Generation for stock no warehouse has yet' }),
    errorResolution: z
      .object({
        openUntil: z.string().openapi({ description: 'the end of ERROR_RESOLUTION_WINDOW: with no ops action by then the order closes as Error' }),
        closed: z.object({ by: z.string(), reason: z.string(), at: z.string() }).nullable(),
      })
      .nullable()
      .openapi('ErrorResolution', { description: 'in Error: open for ops to resubmit or close until openUntil' }),
    resubmissions: z.number().int().openapi({ description: 'resubmissions so far' }),
    cancellation: z
      .object({
        sentAt: z.string(),
        answerDueBy: z.string().optional().openapi({ description: 'unanswered past this (CANCEL_ANSWER_TIMEOUT), the order is flagged' }),
        unanswered: z.boolean(),
        sends: z.number().int(),
      })
      .nullable()
      .openapi('CancellationSent', { description: 'the cancellation sent to the warehouses, waiting for their answer' }),
    revision: z.number().int().openapi({ description: 'bumped once per committed change' }),
    totals: TotalsSchema,
    allowedActions: z
      .array(
        z.enum(['editLines', 'setDelivery', 'setBillingMode', 'requestEnrolment', 'generate', 'cancel', 'resubmit', 'close', 'resend', 'resendCancellation']),
      )
      .openapi({ description: 'resubmit, close, resend and resendCancellation are for ops' }),
    needsAttention: z
      .array(z.enum(ATTENTION_FLAGS))
      .openapi({ description: 'why ops should look at it: the NeedsAttention search attribute and the work queue' }),
  })
  .openapi('Order');

/** GET /orders/{orderId}: ops also get the link to the order's workflow. */
export const OrderDetailSchema = OrderSchema.extend({
  temporalUrl: z.string().optional().openapi({ description: "ops only: the order's workflow in the Temporal Web UI" }),
}).openapi('OrderDetail');

export const CancellationRequestedSchema = z.object({ outcome: z.literal('cancellationRequested'), order: OrderSchema }).openapi('CancellationRequested');

export const AuditEntrySchema = HistoryEntrySchema.omit({ by: true })
  .extend({
    actor: z.string().openapi({ description: 'the person who did it' }),
    orderId: z.string(),
    accountId: z.string(),
    entryKey: z
      .string()
      .openapi({ description: 'the entry in the order history: `<orderId>#<index>`, or `<orderId>:note:<key>` for a note on a finished order' }),
  })
  .openapi('AuditEntry');
export const AuditListSchema = z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }).openapi('AuditList');

export const OrderListSchema = z.object({ items: z.array(OrderSchema), nextCursor: z.string().nullable() }).openapi('OrderList');

const StockStatus = z.enum(['available', 'partial', 'notAvailable']);
export const StockItemSchema = z
  .object({
    sku: z.string(),
    requested: z.number().int(),
    askedWarehouseId: z.string(),
    status: StockStatus.openapi({ description: 'at the asked warehouse' }),
    overallStatus: StockStatus.openapi({ description: 'if the quantity were split across every warehouse that answered' }),
    totalAvailable: z.number().int(),
    alternativeWarehouse: z.string().optional(),
    warehouses: z.array(z.object({ warehouseId: z.string(), available: z.number().int(), status: StockStatus })),
  })
  .openapi('StockItem');

export const StockCheckSchema = z
  .object({
    checkedAt: z.string(),
    items: z.array(StockItemSchema),
    unavailableWarehouses: z.array(z.object({ warehouseId: z.string(), code: z.string(), message: z.string() })),
  })
  .openapi('StockCheck');

// ---- Billing ----

export const ChargeSchema = z
  .object({
    ...chargeFields,
    accountId: z.string(),
    orderId: z.string(),
    currency: z.string(),
    billingMode: BillingMode,
    createdAt: z.string(),
  })
  .openapi('Charge');

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
    taxByRate: z.array(z.object({ taxRateBps: TaxRateBps, net: minor('net'), tax: minor('tax'), gross: minor('gross') })),
    totals: TotalsSchema,
  })
  .openapi('Invoice');

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

// ---- Device enrolment ----

const CustomerIds = z
  .object({ apple: z.string().optional(), google: z.string().optional(), samsung: z.string().optional() })
  .openapi('EnrolmentCustomerIds', { description: "the customer's id in each programme" });
const InstructionStatus = z.enum(INSTRUCTION_STATUSES);
const EnrolmentAction = z.enum(['enrol', 'unenrol']);

export const EnrolmentIdsRecordedSchema = z
  .object({
    orderId: z.string(),
    when: z.literal('orderTime'),
    enrolmentCustomerIds: CustomerIds,
    lines: z.array(z.object({ lineNumber: z.number().int(), sku: z.string(), programme: Manufacturer })),
  })
  .openapi('EnrolmentIdsRecorded');

export const EnrolmentStartedSchema = z
  .object({
    orderId: z.string(),
    when: z.literal('later'),
    started: z.array(z.object({ manufacturer: Manufacturer, workflowId: z.string(), devices: z.number().int() })),
    alreadyRequested: z
      .array(Manufacturer)
      .openapi({ description: 'manufacturers already asked for every picked device of this order (or a request racing this one): not asked again' }),
  })
  .openapi('EnrolmentStarted');

const DeviceResultSchema = z
  .object({
    status: InstructionStatus,
    code: z.string().optional().openapi({ description: 'our code for a refusal: INVALID_DEVICE_ID, ASSIGNED_TO_ANOTHER_CUSTOMER, ...' }),
    manufacturerCode: z.string().optional(),
    message: z.string().optional(),
    transactionId: z.string(),
    at: z.string(),
  })
  .openapi('DeviceResult');

const EnrolmentDeviceSchema = z
  .object({
    deviceId: z.string().openapi({ description: 'its IMEI, else its serial number' }),
    imei: z.string().optional(),
    serialNumber: z.string().optional(),
    lineNumber: z.number().int(),
    sku: z.string(),
    deliveryNumber: z.string().openapi({ description: 'the warehouse sub-order that shipped it' }),
    shipDate: z.string().optional(),
  })
  .openapi('EnrolmentDevice');

export const OrderEnrolmentSchema = z
  .object({
    orderId: z.string(),
    orderStatus: OrderStatus,
    requests: z.array(
      z.object({
        orderId: z.string(),
        manufacturer: Manufacturer,
        customerId: z.string(),
        when: z.enum(['orderTime', 'later']),
        lineNumbers: z.array(z.number().int()),
        requestedBy: z.string(),
        requestedAt: z.string(),
      }),
    ),
    devices: z.array(
      z.object({
        deviceId: z.string(),
        imei: z.string().optional(),
        serialNumber: z.string().optional(),
        lineNumber: z.number().int(),
        sku: z.string(),
        manufacturer: Manufacturer,
        customerId: z.string(),
        enrolment: z.enum(['notEnrolled', 'enrolling', 'enrolled', 'unenrolling']),
        last: z.object({
          instructionId: z.string(),
          action: EnrolmentAction,
          status: InstructionStatus,
          transactionId: z.string().nullable(),
          result: DeviceResultSchema.nullable(),
          updatedAt: z.string(),
        }),
      }),
    ),
    counts: z.record(InstructionStatus, z.number().int()).openapi({ description: 'devices per status of their latest instruction' }),
  })
  .openapi('OrderEnrolment');

export const EnrolmentInstructionSchema = z
  .object({
    instructionId: z.string(),
    requestId: z.string(),
    action: EnrolmentAction,
    manufacturer: Manufacturer,
    customerId: z.string(),
    orderId: z.string(),
    orderNumber: z.string(),
    deviceId: z.string(),
    device: EnrolmentDeviceSchema,
    status: InstructionStatus,
    transactionId: z.string().nullable().optional(),
    attempts: z.number().int(),
    result: DeviceResultSchema.optional(),
    reason: z.string().optional(),
    requestedBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('EnrolmentInstruction');

export const UnenrolmentQueuedSchema = z
  .object({ deviceId: z.string(), manufacturer: Manufacturer, orderId: z.string(), workflowId: z.string(), status: z.literal('queued') })
  .openapi('UnenrolmentQueued');

export const RequeuedSchema = z
  .object({
    requeued: z.array(z.string()),
    skipped: z.array(z.object({ instructionId: z.string(), reason: z.enum(['not failed', 'not found']) })),
  })
  .openapi('EnrolmentRequeued');

const EnrolmentJob = z.enum(['request', 'response']);
export const EnrolmentJobRunSchema = z
  .discriminatedUnion('via', [
    z.object({ job: EnrolmentJob, via: z.literal('schedule'), scheduleId: z.string() }),
    z.object({ job: EnrolmentJob, via: z.literal('workflow'), workflowId: z.string() }),
  ])
  .openapi('EnrolmentJobRun');

// ---- Reference data (admin) ----

export const SkuParam = z.object({ sku: id('sku', 'HS-APL-IP16-128').openapi({ param: { name: 'sku', in: 'path' } }) });
export const BlocklistParams = z.object({
  kind: z.enum(BLOCKLIST_KINDS).openapi({ param: { name: 'kind', in: 'path' } }),
  value: z
    .string()
    .min(1)
    .max(300)
    .openapi({ param: { name: 'value', in: 'path' }, example: 'ZZ99 9ZZ', description: 'an address is COUNTRY|POSTCODE|CITY|LINES' }),
});

/** A product as an administrator writes it: the whole record, the sku from the path. */
export const ProductWriteBody = ProductWriteSchema.omit({ sku: true }).openapi('ProductWrite');
/** An account as an administrator writes it: the whole record, the account id from the path. */
export const AccountWriteBody = AccountWriteSchema.omit({ accountId: true })
  .extend({ billingAddress: AddressSchema, defaultDelivery: DeliverySchema })
  .openapi('AccountWrite');
export const BlocklistNoteBody = z
  .object({ note: text(200).optional() })
  .strict()
  .openapi('BlocklistNote');

export const BlocklistEntrySchema = z.object({ kind: z.enum(BLOCKLIST_KINDS), value: z.string(), note: z.string().optional() }).openapi('BlocklistEntry');

export const ImportReportSchema = z
  .object({
    kind: z.enum(['products', 'accounts', 'blocklist']),
    error: z.string().optional(),
    counts: z.object({
      rows: z.number().int(),
      created: z.number().int(),
      updated: z.number().int(),
      unchanged: z.number().int(),
      rejected: z.number().int(),
    }),
    accepted: z.array(z.object({ line: z.number().int(), key: z.string(), change: z.enum(['created', 'updated']) })),
    unchanged: z.array(z.object({ line: z.number().int(), key: z.string() })),
    rejected: z.array(z.object({ line: z.number().int(), key: z.string().nullable(), reason: z.string() })),
    truncated: z.boolean().openapi({ description: 'a list was cut at 1000 rows; the counts are complete' }),
  })
  .openapi('ImportReport');

// ---- Warehouse adaptor ----

const RowRejectionSchema = z.object({ rowNumber: z.number().int(), code: z.string(), message: z.string() }).openapi('RowRejection');

export const IngestResultSchema = z
  .object({
    outcome: z.enum(['accepted', 'duplicate', 'unreadable']),
    batchId: z.string().nullable(),
    rowCount: z.number().int().optional(),
    validRows: z.number().int().optional(),
    rejectedRows: z.number().int().optional(),
    exceptionRows: z.number().int().optional(),
    rejections: z.array(RowRejectionSchema).optional(),
    reason: z.string().optional(),
  })
  .openapi('IngestResult');

/** One row of a warehouse response file, as the adaptor read it (domain/types.ts DispatchRow). */
export const DispatchRowSchema = z
  .object({
    rowNumber: z.number().int().openapi({ description: '1-based data row in the source file' }),
    warehouseId: z.string(),
    subOrderNumber: z.string(),
    lineNumber: z.number().int(),
    sku: z.string(),
    quantityShipped: z.number().int(),
    ...shipmentFields,
    disposition: z.enum(DISPOSITIONS),
    errorCode: z.string().optional(),
    errorMessage: z.string().optional(),
  })
  .openapi('DispatchRow');

export const AdaptorExceptionResolutionSchema = z
  .object({
    action: z.enum(['reapply', 'dismiss']),
    orderId: z.string().optional().openapi({ description: 'reapply: the order the row was applied to' }),
    subOrderNumber: z.string().optional().openapi({ description: 'reapply: its sub-order that took the row' }),
    reason: z.string().optional().openapi({ description: 'dismiss: why' }),
    by: z.string().openapi({ description: 'who resolved it (the signed-in actor)' }),
    at: z.string(),
  })
  .openapi('AdaptorExceptionResolution');

export const AdaptorExceptionSchema = z
  .object({
    id: z.string().openapi({ description: '`<batchId>:<rowNumber>`', example: `${'ab'.repeat(32)}:7` }),
    batchId: z.string(),
    rowNumber: z.number().int(),
    warehouseId: z.string(),
    code: z.enum(['UNKNOWN_ORDER', 'ORDER_CLOSED', 'NO_OPEN_RETURN']),
    message: z.string(),
    row: DispatchRowSchema.optional(),
    createdAt: z.string(),
    resolved: z.boolean(),
    resolution: AdaptorExceptionResolutionSchema.nullable().openapi({ description: 'who resolved it, when, how and why; null while open' }),
  })
  .openapi('AdaptorException');

export const AdaptorExceptionListSchema = z
  .object({ items: z.array(AdaptorExceptionSchema), nextCursor: z.string().nullable() })
  .openapi('AdaptorExceptionList');

export const ResolveExceptionBody = z
  .discriminatedUnion('action', [
    z.object({
      action: z.literal('reapply'),
      orderId: id('orderId', 'ORD-7KQ2M9XD4A').optional().openapi({
        description: "the order the row belongs to, when the warehouse got the order's number wrong; the row goes to its sub-order at the row's warehouse",
      }),
    }),
    z.object({ action: z.literal('dismiss'), reason: freeText(500, { multiline: true }).openapi({ description: 'why the row is not applied' }) }),
  ])
  .openapi('ResolveException');

export const DispatchBatchSummarySchema = z
  .object({
    batchId: z.string(),
    warehouseId: z.string(),
    sourceFile: z.string(),
    source: z.enum(['inbox', 'api-csv', 'api-json']),
    receivedAt: z.string(),
    outcome: z.enum(BATCH_OUTCOMES).openapi({
      description:
        'running: the Sales Order Dispatch job has not finished; applied: every row valid and for a known order; partial: some rows rejected or exceptions',
    }),
    counts: z.object({
      rows: z.number().int(),
      valid: z.number().int(),
      rejected: z.number().int(),
      exceptions: z.number().int().openapi({ description: 'rows for orders nobody knew when the file came in' }),
      orders: z.number().int(),
    }),
  })
  .openapi('DispatchBatchSummary');

export const DispatchBatchListSchema = z.object({ items: z.array(DispatchBatchSummarySchema), nextCursor: z.string().nullable() }).openapi('DispatchBatchList');

export const RejectedRowSchema = z
  .object({
    rowNumber: z.number().int(),
    code: z.string(),
    message: z.string(),
    cells: z.array(z.string()).openapi({ description: 'the cells as read (at most 14, each at most 256 characters)' }),
  })
  .openapi('RejectedRow');

export const RejectedRowsSchema = z
  .object({
    batchId: z.string(),
    rejectedRows: z.number().int().openapi({ description: 'how many rows of the batch were rejected in all' }),
    items: z.array(RejectedRowSchema),
    nextCursor: z.string().nullable(),
  })
  .openapi('RejectedRows');

export const DispatchBatchSchema = z
  .object({
    batchId: z.string().openapi({ description: "sha256 of the file's bytes" }),
    warehouseId: z.string(),
    sourceFile: z.string(),
    source: z.enum(['inbox', 'api-csv', 'api-json']),
    declaredBatchId: z.string().nullish().openapi({ description: 'api-json: the batch id the sender declared' }),
    receivedAt: z.string(),
    status: z.enum(['received', 'signalling', 'done']),
    signalled: z.number().int().openapi({ description: 'orders signalled so far' }),
    rowCount: z.number().int(),
    validRows: z.number().int(),
    rejectedRows: z.number().int(),
    exceptionRows: z.number().int(),
    rejections: z.array(RowRejectionSchema).openapi({ description: 'the first 1,000 rejected rows; every one: GET /adaptor/batches/{batchId}/rejected-rows' }),
    orderIds: z.array(z.string()),
    orderCount: z.number().int(),
    outcome: z.enum(BATCH_OUTCOMES),
    rowChunks: z.number().int().openapi({ description: 'how many stored chunks hold its valid rows' }),
    rejectionChunks: z.number().int().openapi({ description: 'how many stored chunks hold its rejected rows' }),
    report: z.object({
      orders: z.number().int(),
      completed: z.number().int(),
      errored: z.number().int(),
      cancelled: z.number().int(),
      stillAwaitingDispatch: z.number().int(),
      rowsRejected: z.number().int(),
      exceptions: z.number().int(),
    }),
  })
  .openapi('DispatchBatch');

// ---- Finding an order, and the ops work queue ----

export const SearchMatchSchema = z
  .object({
    kind: z.enum(ORDER_REFERENCE_KINDS).openapi({ description: 'what the query matched: order number, IMEI, serial, tracking number or invoice number' }),
    value: z.string().openapi({ description: 'the reference as stored (normalised)', example: '353325110000012' }),
    orderId: z.string(),
    accountId: z.string(),
    status: OrderStatus,
  })
  .openapi('SearchMatch');
export const SearchResultSchema = z.object({ query: z.string(), items: z.array(SearchMatchSchema) }).openapi('SearchResult');

export const WorkQueueKind = z.enum(WORK_QUEUE_KINDS);
const count = z.number().int().min(0);
export const WorkQueueItemSchema = z
  .object({
    kind: WorkQueueKind,
    id: z.string().openapi({ description: 'the order id, the adaptor exception id or the enrolment instruction id' }),
    at: z.string().openapi({ description: 'orders: when created; adaptor exceptions: when raised; enrolments: when they failed. The queue is oldest first' }),
    orderId: z.string().nullable(),
    accountId: z.string().nullable(),
    status: OrderStatus.nullable().openapi({ description: "the order's status (order kinds)" }),
    summary: z.string().openapi({ description: 'what needs doing, in a line' }),
  })
  .openapi('WorkQueueItem');
export const WorkQueueSchema = z
  .object({
    counts: z
      .object({
        fraudReview: count,
        backordered: count,
        error: count,
        dispatchOverdue: count,
        cancellationUnanswered: count,
        adaptorException: count,
        enrolmentFailed: count,
      })
      .openapi({ description: 'items of each kind waiting' }),
    items: z.array(WorkQueueItemSchema),
    nextCursor: z.string().nullable(),
  })
  .openapi('WorkQueue');

// ---- Declaring a route's answers ----

/** A JSON answer of a route: `c.json(body, status)` in its handler is checked against `schema`. */
export const answer = <T extends z.ZodType>(description: string, schema: T) => ({ description, content: { 'application/json': { schema } } });
/** A refusal, in the error handler's shape (api/errors.ts). */
export const refusal = (description: string) => answer(description, ErrorSchema);
/** A required JSON request body. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { 'application/json': { schema } }, required: true } });
/** `{ items: [...] }`: the lists' shape. */
export const itemsOf = <T extends z.ZodType>(schema: T) => z.object({ items: z.array(schema) });

// ---- Returns and credit notes ----

export const RmaParam = z.object({
  rmaId: z
    .string()
    .regex(/^RMA-[0-9]{8,}$/, 'an RMA number such as RMA-00000001')
    .openapi({ param: { name: 'rmaId', in: 'path' }, example: 'RMA-00000001' }),
});
const ReturnReason = z.enum(RETURN_REASONS);
const ConditionGrade = z.enum(CONDITION_GRADES);

export const CreateReturnBody = z
  .object({
    units: z
      .array(z.string().trim().min(1).max(100))
      .min(1)
      .max(500)
      .openapi({ description: 'the units coming back, each by IMEI, serial number or licence key' }),
    reason: ReturnReason,
    note: text(1000).optional(),
    exchange: z
      .boolean()
      .default(false)
      .openapi({ description: 'faulty or wrongItem only: a linked replacement order (New) with the same lines at the captured prices' }),
  })
  .strict()
  .openapi('CreateReturn');

export const ReceiveReturnBody = z
  .object({
    grade: ConditionGrade.openapi({ description: 'the condition grade of every unit not named in `units`' }),
    units: z
      .array(z.object({ unit: z.string().trim().min(1).max(100), grade: ConditionGrade }).strict())
      .max(500)
      .optional()
      .openapi({ description: 'only these units (by IMEI, serial or licence key), each with its grade; absent: every unit still expected' }),
  })
  .strict()
  .openapi('ReceiveReturn');

const CreditLineSchema = z
  .object({
    unitId: z.string(),
    kind: z.enum(['device', 'licence']),
    lineNumber: z.number().int(),
    sku: z.string(),
    description: z.string(),
    chargeKey: z.string().openapi({ description: 'the charge the unit was billed on' }),
    invoiceNumber: z.string().nullable().openapi({ description: 'the invoice corrected (null: the charge was not invoiced yet)' }),
    amount: minor('credited excluding tax'),
    tax: minor("credited tax: the unit's share of its charge's rounded tax"),
    restockingFee: minor('kept for an unwanted unit (RESTOCKING_FEE_PERCENT), excluding tax'),
    taxRateBps: TaxRateBps,
  })
  .openapi('CreditLine');

const ReturnUnitSchema = z
  .object({
    unitId: z.string().openapi({ description: 'IMEI, else serial number, else licence key' }),
    kind: z.enum(['device', 'licence']),
    imei: z.string().optional(),
    imei2: z.string().optional(),
    serialNumber: z.string().optional(),
    licenceKey: z.string().optional(),
    lineNumber: z.number().int(),
    sku: z.string(),
    description: z.string(),
    unitPrice: minor('captured unit price excluding tax'),
    taxRateBps: TaxRateBps,
    chargeKey: z.string(),
    place: z.number().int(),
    chargeQuantity: z.number().int(),
    chargeTax: minor("the charge's tax"),
    invoiceNumber: z.string().nullable(),
    warehouseId: z.string().optional(),
    subOrderNumber: z.string().optional(),
    shipDate: z.string(),
    credit: CreditLineSchema,
    received: z
      .object({ grade: ConditionGrade, at: z.string(), by: z.string(), source: z.enum(['warehouse', 'ops', 'licence']) })
      .optional()
      .openapi({ description: 'set once the unit is back' }),
    released: z.boolean().optional().openapi({ description: 'never came back before the return expired: it can be returned again' }),
  })
  .openapi('ReturnUnit');

const ReturnCreditSchema = z
  .object({
    creditNoteNumber: z.string().nullable().openapi({ example: 'CN-00000001', description: 'null when every unit went on the next cycle invoice' }),
    creditChargeKeys: z.array(z.string()).openapi({ description: 'credit lines waiting for the next cycle invoice (negative charges)' }),
    corrects: z.array(z.string()).openapi({ description: 'the invoices it corrects' }),
    net: minor('net'),
    tax: minor('tax'),
    gross: minor('gross'),
    issuedAt: z.string(),
  })
  .openapi('ReturnCredit');

export const ReturnSchema = z
  .object({
    rmaId: z.string().openapi({ example: 'RMA-00000001' }),
    sequence: z.number().int(),
    orderId: z.string(),
    accountId: z.string(),
    currency: z.string(),
    reason: ReturnReason,
    note: z.string(),
    exchange: z.boolean(),
    replacementOrderId: z.string().optional(),
    status: z.enum(RETURN_STATUSES),
    creditMode: BillingMode.openapi({ description: "the account's billing mode: a credit note at once, or credit lines on the next cycle invoice" }),
    units: z.array(ReturnUnitSchema),
    authorisations: z.array(z.object({ warehouseId: z.string(), fileId: z.string(), sentAt: z.string(), location: z.string() })),
    credit: ReturnCreditSchema.optional(),
    refusal: CodeMessage.optional(),
    expiresAt: z.string(),
    requestedBy: z.string(),
    requestedAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Return');

export const CreditNoteSchema = z
  .object({
    creditNoteNumber: z.string().openapi({ example: 'CN-00000001' }),
    accountId: z.string(),
    orderId: z.string(),
    rmaId: z.string(),
    currency: z.string(),
    reason: z.string(),
    corrects: z.array(z.string()).openapi({ description: 'the invoices it corrects' }),
    lines: z.array(CreditLineSchema),
    net: minor('net credited'),
    tax: minor('tax credited'),
    gross: minor('gross credited'),
    issuedAt: z.string(),
  })
  .openapi('CreditNote');

/** A credit line: a negative charge for one returned unit, put on the account's next cycle invoice. */
export const CreditLineChargeSchema = ChargeSchema.extend({
  rmaId: z.string().openapi({ example: 'RMA-00000001' }),
  unitId: z.string().openapi({ description: 'IMEI, serial number or licence key of the returned unit' }),
  corrects: z.string().nullable().optional().openapi({ description: 'the invoice its charge was on, when it had been invoiced' }),
}).openapi('CreditLineCharge');

export const CreditNotesSchema = z
  .object({
    items: z.array(CreditNoteSchema),
    creditLines: z.array(CreditLineChargeSchema).openapi({ description: 'credits that go (or went) on a cycle invoice as negative charges' }),
  })
  .openapi('CreditNotes');

export const BalanceCheckSchema = z
  .object({
    accountId: z.string(),
    ok: z.boolean(),
    charged: minor('gross charged'),
    credited: minor('gross credited (credit notes and credit lines)'),
    invoiced: minor('gross of all invoices'),
    creditNotes: minor('gross of all credit notes'),
    pending: minor('gross of charges and credit lines waiting for a cycle invoice'),
    problems: z.array(CodeMessage),
  })
  .openapi('BalanceCheck');

// ---- The documented shapes are the domain's (checked by the compiler, not at run time) ----

/** true when A and B are the same type, field for field (optional and nullable included). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const sameAsDomain = <_ extends true>() => undefined;
sameAsDomain<Same<z.infer<typeof OrderSchema>, OrderView>>();
sameAsDomain<Same<z.infer<typeof DispatchRowSchema>, DispatchRow>>();
sameAsDomain<Same<z.infer<typeof AuditEntrySchema>, AuditEntry>>();
sameAsDomain<Same<z.infer<typeof ProductSchema>, Product>>();
sameAsDomain<Same<z.infer<typeof AccountSchema>, Account>>();
sameAsDomain<Same<z.infer<typeof ProductWriteSchema>, Product>>();
sameAsDomain<Same<z.infer<typeof AccountWriteSchema>, Account>>();
sameAsDomain<Same<z.infer<typeof ImportReportSchema>, ImportReport>>();
sameAsDomain<Same<z.infer<typeof EnrolmentDeviceSchema>, EnrolmentDevice>>();
sameAsDomain<Same<keyof z.infer<typeof WorkQueueSchema>['counts'], WorkQueueKindName>>();
sameAsDomain<Same<z.infer<typeof ReturnSchema>, ReturnView>>();

/** GET /me: the caller as the API sees it. */
export const MeSchema = z
  .object({
    subject: z.string().openapi({ description: "the token's subject: who the histories name", example: 'dev-agent' }),
    name: z.string().nullable().openapi({ description: 'display name from the token, when it has one', example: 'Dev Agent' }),
    roles: z.array(z.enum(['agent', 'adaptor', 'ops', 'admin'])),
  })
  .openapi('Me');
