// MongoDB collections (mongoose models). Documents looked up on a hot path are keyed by their
// business key as _id: FerretDB v1 on SQLite uses only _id equality to find a document and scans
// the collection for any other filter (also on MongoDB, _id is the cheapest unique key). Designed for FerretDB v1 as well as MongoDB: no
// transactions, no reliance on atomic read-modify-write; one writer per document, and unique
// indexes on business keys wherever something must happen exactly once.
import mongoose, { Schema, type Connection } from 'mongoose';
import { z } from 'zod';
import { AddressSchema as DomainAddressSchema } from '../domain/address';
import { referenceData, type ReferenceData } from './reference-data';
import { guardedById, isIdOnlyPushdown, type GuardedById } from './store/guarded-writes';

const opts = { versionKey: false, strict: true } as const;
const anyObj = Schema.Types.Mixed;

const ProductSchema = new Schema(
  {
    sku: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    kind: { type: String, required: true, enum: ['handset', 'peripheral', 'softwareLicence'] },
    unitPrice: { type: Number, required: true },
    currency: { type: String, required: true },
    taxRateBps: { type: Number, required: true },
    capture: { type: String, required: true, enum: ['none', 'serial', 'imei'] },
    manufacturer: { type: String },
    enrolmentProgrammes: { type: [String], default: [] },
    active: { type: Boolean, default: true },
  },
  opts,
);
ProductSchema.index({ kind: 1, sku: 1 });

/**
 * A sub-document with a zod object's fields (strings, numbers, booleans and arrays of them;
 * required unless optional or an array), so the database keeps the one field list of the domain.
 */
export function subdocumentOf(schema: z.ZodObject): Schema {
  const typeOf = (t: z.core.$ZodType): unknown => {
    if (t instanceof z.ZodArray) return [typeOf(t.element)];
    if (t instanceof z.ZodString) return String;
    if (t instanceof z.ZodNumber) return Number;
    if (t instanceof z.ZodBoolean) return Boolean;
    throw new Error(`no mongoose type for a zod ${t._zod.def.type}`);
  };
  const fields = Object.entries(schema.shape).map(([name, t]) => {
    const optional = t instanceof z.ZodOptional;
    const type = typeOf(optional ? t.unwrap() : t);
    return [name, optional || Array.isArray(type) ? { type } : { type, required: true }];
  });
  return new Schema(Object.fromEntries(fields), { _id: false });
}

const AddressSchema = subdocumentOf(DomainAddressSchema);

const AccountSchema = new Schema(
  {
    accountId: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    nameLower: { type: String, required: true, index: true },
    billingAddress: { type: AddressSchema, required: true },
    defaultDelivery: { type: anyObj, required: true },
    billingCycleDay: { type: Number, required: true, min: 1, max: 28 },
    defaultBillingMode: { type: String, required: true, enum: ['immediate', 'nextInvoice'] },
    currency: { type: String, required: true },
  },
  opts,
);
AccountSchema.index({ billingCycleDay: 1 });

/** Read model of each order, written only by its own workflow (revision-guarded). */
const OrderViewSchema = new Schema(
  {
    /** = orderId: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    orderId: { type: String, required: true, unique: true },
    accountId: { type: String, required: true },
    status: { type: String, required: true },
    /** Why ops should look at it (domain/order-exceptions.ts): the work queue lists orders by it. */
    needsAttention: { type: [String], default: [] },
    revision: { type: Number, required: true },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
    state: { type: anyObj, required: true },
    /**
     * The view an agent's or ops' update last answered with, kept by the API (keepAnswer) until the
     * workflow's next write replaces the document: readers take the newer of the two.
     */
    answered: { type: anyObj },
  },
  opts,
);
OrderViewSchema.index({ accountId: 1, createdAt: -1, orderId: -1 });
OrderViewSchema.index({ needsAttention: 1, createdAt: 1, orderId: 1 });
OrderViewSchema.index({ accountId: 1, status: 1, createdAt: -1, orderId: -1 });

/**
 * A unit reference (IMEI, serial, tracking number) to the order that shipped it, for the search: one
 * document per reference and order, `_id` = `<kind>:<value>#<n>`, slots taken in turn
 * (infra/store/order-references.ts), so a lookup is a few `_id` reads.
 */
const OrderReferenceSchema = new Schema(
  {
    _id: { type: String, required: true },
    kind: { type: String, required: true },
    value: { type: String, required: true },
    orderId: { type: String, required: true },
  },
  opts,
);

/**
 * One person's action on one order, for the audit listing by person (infra/store/audit-trail.ts):
 * `_id` = `<actor>|<UTC day>#<n>`, slots taken in turn, so a day of one person's actions is read
 * by `_id`; the unique `entryKey` (`<orderId>#<history index>`) makes writing it again a no-op.
 * May hold the delivery contact before → after (like the read model): never logged.
 */
const AuditEntrySchema = new Schema(
  {
    _id: { type: String, required: true },
    entryKey: { type: String, required: true, unique: true },
    actor: { type: String, required: true },
    at: { type: String, required: true },
    orderId: { type: String, required: true },
    accountId: { type: String, required: true },
    from: { type: String, default: null },
    to: { type: String, required: true },
    reason: { type: String, required: true },
    changes: { type: [anyObj], default: undefined },
    requestId: { type: String },
    note: { type: Boolean },
  },
  opts,
);

/**
 * A note on an order whose workflow has finished (infra/store/order-notes.ts): `_id` =
 * `<orderId>#<n>`, slots taken in turn; `noteKey` (the request's Idempotency-Key, else its id) makes
 * a retried request find its note instead of adding another.
 */
const OrderNoteSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    noteKey: { type: String, required: true },
    entry: { type: anyObj, required: true },
  },
  opts,
);

/**
 * A person signed in to AgentView (api/agentview-session.ts): `_id` = SHA-256 of the session id in
 * their cookie, so the database alone signs nobody in; the access token is used only to act for them.
 * FerretDB has no TTL index: `expiresAt` is checked on every read.
 */
const AgentViewSessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    accessToken: { type: String, required: true },
    /** The ID token, for the provider's sign-out (id_token_hint). */
    idToken: { type: String },
    subject: { type: String, required: true },
    expiresAt: { type: Date, required: true },
  },
  opts,
);

/** One document per sales order file sent to a warehouse: the outbound record. */
const SalesOrderSchema = new Schema(
  {
    /** = fileId: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    fileId: { type: String, required: true, unique: true },
    subOrderNumber: { type: String, required: true },
    purpose: { type: String, required: true, enum: ['new', 'cancel', 'resend'] },
    orderId: { type: String, required: true, index: true },
    warehouseId: { type: String, required: true },
    lines: { type: anyObj, required: true },
    request: { type: anyObj, required: true },
    transport: { type: String, required: true },
    sentAt: { type: String },
  },
  opts,
);
SalesOrderSchema.index({ subOrderNumber: 1, purpose: 1 });

const FraudDecisionSchema = new Schema(
  {
    /** = checkId: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    checkId: { type: String, required: true, unique: true },
    orderId: { type: String, required: true, index: true },
    decision: { type: String, required: true },
    reasons: [String],
    provider: String,
    providerReference: String,
    checkedAt: String,
  },
  opts,
);

const FraudListEntrySchema = new Schema({ kind: { type: String, required: true }, value: { type: String, required: true }, note: String }, opts);
FraudListEntrySchema.index({ kind: 1, value: 1 }, { unique: true });

/**
 * One order generated to one delivery address, for the fraud velocity rule. `_id` is
 * `<address hash>|w<first day of its 7-day bucket>|<n>`: slots claimed in turn per address and
 * bucket (infra/store/address-velocity.ts).
 */
const DeliveryAddressUseSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    generatedAt: { type: String, required: true },
  },
  opts,
);

const DispatchBatchSchema = new Schema(
  {
    /** = batchId: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    batchId: { type: String, required: true, unique: true },
    warehouseId: { type: String, required: true },
    sourceFile: { type: String, required: true },
    source: { type: String, required: true, enum: ['inbox', 'api-csv', 'api-json'] },
    /** api-json: the batch id the sender declared (its file's hash, unchecked); batchId is our own. */
    declaredBatchId: { type: String },
    receivedAt: { type: String, required: true },
    /**
     * Written twice only: `received` when stored, `done` (with the final `signalled`) when the job
     * ends. FerretDB's update rewrites the whole document from a read made before it waits for the
     * write lock, so a second writer (a timed-out attempt still running) would undo the other's
     * change; progress while signalling therefore lives in dispatchProgress.
     */
    status: { type: String, required: true, enum: ['received', 'done'] },
    rowCount: { type: Number, required: true },
    validRows: { type: Number, required: true },
    rejectedRows: { type: Number, required: true },
    exceptionRows: { type: Number, required: true },
    /** The first 1,000 rejections, for the report; every one is in dispatchRejectionChunks. */
    rejections: { type: anyObj, default: [] },
    orderIds: { type: [String], default: [] },
    /** orderIds.length, so a list of batches need not read the ids. */
    orderCount: { type: Number, default: 0 },
    /** How many documents of dispatchRowChunks hold its valid rows. */
    rowChunks: { type: Number, required: true },
    /** How many documents of dispatchRejectionChunks hold its rejected rows. */
    rejectionChunks: { type: Number, default: 0 },
    signalled: { type: Number, default: 0 },
    report: { type: anyObj },
  },
  opts,
);

// The batches list (GET /adaptor/batches): newest first, by warehouse or not.
DispatchBatchSchema.index({ receivedAt: -1, _id: -1 });
DispatchBatchSchema.index({ warehouseId: 1, receivedAt: -1, _id: -1 });

/** How far the Sales Order Dispatch job has signalled a batch: shown while it runs. */
const DispatchProgressSchema = new Schema(
  {
    /** = batchId */
    _id: { type: String, required: true },
    signalled: { type: Number, required: true },
    updatedAt: { type: String, required: true },
  },
  opts,
);

/** Valid rows of a batch, kept here rather than in workflow history: one document per parsed chunk (infra/store/dispatch-rows.ts). */
const DispatchRowChunkSchema = new Schema(
  {
    /** = `<batchId>:<chunk>` */
    _id: { type: String, required: true },
    batchId: { type: String, required: true },
    chunk: { type: Number, required: true },
    /** { rowNumber, orderId, row } in file order. */
    rows: { type: anyObj, required: true },
  },
  opts,
);

/** Rejected rows of a batch, every one of them, in the chunks they were parsed in (infra/store/dispatch-rows.ts). */
const DispatchRejectionChunkSchema = new Schema(
  {
    /** = `<batchId>:<n>`, n counting only chunks that had a rejected row. */
    _id: { type: String, required: true },
    batchId: { type: String, required: true },
    chunk: { type: Number, required: true },
    /** { rowNumber, code, message, cells } in file order; cells as read, shortened. */
    rows: { type: anyObj, required: true },
  },
  opts,
);

const AdaptorExceptionSchema = new Schema(
  {
    /** = `<batchId>:<rowNumber>` (domain/adaptor-exceptions.ts): the id ops resolve it by. */
    _id: { type: String, required: true },
    batchId: { type: String, required: true },
    rowNumber: { type: Number, required: true },
    warehouseId: { type: String, required: true },
    /** UNKNOWN_ORDER: no such sales order was sent there; ORDER_CLOSED: its order no longer waits for dispatch; NO_OPEN_RETURN: a returned unit no open return expects. */
    code: { type: String, required: true, enum: ['UNKNOWN_ORDER', 'ORDER_CLOSED', 'NO_OPEN_RETURN'] },
    message: { type: String, required: true },
    /** The DispatchRow as read. */
    row: { type: anyObj },
    createdAt: { type: String, required: true },
    /** Set once, by whoever won its resolution's claim (adaptorExceptionResolutions). */
    resolved: { type: Boolean, default: false },
    resolution: { type: anyObj },
  },
  opts,
);
AdaptorExceptionSchema.index({ batchId: 1, rowNumber: 1 }, { unique: true });
AdaptorExceptionSchema.index({ createdAt: -1 });
// The open (or resolved) list, newest first; one index more only: every row of a file for unknown orders is inserted through all of them.
AdaptorExceptionSchema.index({ resolved: 1, createdAt: -1, _id: -1 });

/**
 * How an exception is resolved: inserted once (its unique _id, the exception's, is the claim), so
 * two ops resolving it at once cannot both apply it; then copied onto the exception.
 */
const AdaptorExceptionResolutionSchema = new Schema(
  {
    _id: { type: String, required: true },
    action: { type: String, required: true, enum: ['reapply', 'dismiss'] },
    /** reapply: the order and sub-order the row was applied to. */
    orderId: { type: String },
    subOrderNumber: { type: String },
    reason: { type: String },
    by: { type: String, required: true },
    at: { type: String, required: true },
  },
  opts,
);

const ChargeSchema = new Schema(
  {
    /** = chargeKey: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    chargeKey: { type: String, required: true, unique: true },
    accountId: { type: String, required: true },
    orderId: { type: String, required: true, index: true },
    lineNumber: { type: Number, required: true },
    sku: { type: String, required: true },
    description: { type: String, required: true },
    quantity: { type: Number, required: true },
    unitPrice: { type: Number, required: true },
    amount: { type: Number, required: true },
    taxRateBps: { type: Number, required: true },
    tax: { type: Number, required: true },
    currency: { type: String, required: true },
    billingMode: { type: String, required: true, enum: ['immediate', 'nextInvoice'] },
    createdAt: { type: String, required: true },
    invoiceNumber: { type: String, default: null },
    /** A credit line (negative amounts, key `<orderId>:credit:<unitId>`): the return, the unit and the invoice it corrects. */
    rmaId: { type: String },
    unitId: { type: String },
    corrects: { type: String },
  },
  opts,
);
ChargeSchema.index({ accountId: 1, invoiceNumber: 1, createdAt: 1 });

/**
 * An issued invoice, complete from its insert on: its number is claimed by inserting it, so a
 * number exists only if its invoice does. Issued by infra/store/invoice-numbers.ts.
 */
const InvoiceSchema = new Schema(
  {
    /** = invoiceNumber: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    invoiceNumber: { type: String, required: true, unique: true },
    sequence: { type: Number, required: true, unique: true },
    idempotencyKey: { type: String, required: true, unique: true },
    accountId: { type: String, required: true, index: true },
    kind: { type: String, required: true, enum: ['offCycle', 'cycle'] },
    issuedAt: { type: String, required: true },
    currency: { type: String, required: true },
    chargeKeys: { type: [String], required: true },
    net: Number,
    tax: Number,
    gross: Number,
    /** The account's own invoice count: its unique index makes one invoice at a time per account. */
    accountSequence: { type: Number, required: true },
    /** Cycle invoices: the bill date and the cut-off their charges were selected by. */
    billDate: { type: String },
    cutOff: { type: String },
  },
  opts,
);
InvoiceSchema.index({ accountId: 1, accountSequence: 1 }, { unique: true });

/**
 * The account's n-th invoice, claimed with its charges and totals before it takes a global number.
 * Inserted once, never changed: its unique _id makes one invoice at a time per account.
 */
const AccountInvoiceSchema = new Schema(
  {
    /** = `<accountId>:<accountSequence>`: FerretDB on SQLite pushes down only _id equality. */
    _id: { type: String, required: true },
    accountId: { type: String, required: true },
    accountSequence: { type: Number, required: true },
    idempotencyKey: { type: String, required: true, unique: true },
    /** The invoice number's search starts here (the global hint when this was claimed). */
    numberFrom: { type: Number, required: true },
    kind: { type: String, required: true, enum: ['offCycle', 'cycle'] },
    billDate: { type: String },
    cutOff: { type: String },
    currency: { type: String, required: true },
    chargeKeys: { type: [String], required: true },
    net: { type: Number, required: true },
    tax: { type: Number, required: true },
    gross: { type: Number, required: true },
    claimedAt: { type: String, required: true },
  },
  opts,
);
AccountInvoiceSchema.index({ accountId: 1, chargeKeys: 1 });

/** An invoice asked for under an idempotency key: where its issuers search, and what was issued. */
const InvoiceRequestSchema = new Schema(
  {
    /** = idempotencyKey: FerretDB on SQLite pushes down only _id equality. */
    _id: { type: String, required: true },
    /** Immediate invoices: the account sequence their search starts at, fixed before any claim. */
    accountFrom: { type: Number },
    /** Set once the invoice is issued and its charges point at it. */
    invoiceNumber: { type: String, default: null },
  },
  opts,
);

/** The last invoice number (`invoice`) or account sequence (`account:<id>`) known to be taken: a hint that may lag, never run ahead. */
const SequenceHintSchema = new Schema(
  {
    _id: { type: String, required: true },
    last: { type: Number, required: true },
  },
  opts,
);

/** A software licence key, `_id` = the key (read and revoked by `_id`). */
const LicenceSchema = new Schema(
  {
    _id: { type: String, required: true },
    licenceKey: { type: String, required: true, unique: true },
    orderId: { type: String, required: true, index: true },
    lineNumber: { type: Number, required: true },
    sku: { type: String, required: true },
    unit: { type: Number, required: true },
    issuedAt: { type: String, required: true },
    /** Set once, when the order ended without delivering or a return of the key was received: the key no longer activates. */
    revokedAt: { type: String, default: null },
    revokedReason: { type: String, default: null },
    /** The return (RMA) that took the key back, when a return did. */
    revokedFor: { type: String, default: null },
  },
  opts,
);
LicenceSchema.index({ orderId: 1, lineNumber: 1, unit: 1 }, { unique: true });

// ---- Returns and credit notes ----

/** A return (RMA), `_id` = its number `RMA-<n>` (gapless slots, infra/store/returns.ts); written by the API at authorisation, then by its workflow. */
const ReturnSchema = new Schema(
  {
    _id: { type: String, required: true },
    rmaId: { type: String, required: true },
    sequence: { type: Number, required: true },
    orderId: { type: String, required: true, index: true },
    accountId: { type: String, required: true, index: true },
    currency: { type: String, required: true },
    reason: { type: String, required: true, enum: ['faulty', 'unwanted', 'wrongItem', 'damagedInTransit'] },
    note: { type: String, default: '' },
    exchange: { type: Boolean, default: false },
    /** The replacement order of an exchange. */
    replacementOrderId: { type: String },
    status: { type: String, required: true, enum: ['authorised', 'received', 'credited', 'expired', 'refused'] },
    /** How the account is credited: a credit note at once, or credit lines on the next cycle invoice. */
    creditMode: { type: String, required: true, enum: ['immediate', 'nextInvoice'] },
    units: { type: [anyObj], default: [] },
    /** Per warehouse, the Return Authorisation file sent. */
    authorisations: { type: [anyObj], default: [] },
    receipt: { type: anyObj },
    credit: { type: anyObj },
    refusal: { type: anyObj },
    expiresAt: { type: String },
    requestedBy: { type: String, required: true },
    requestedAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
  },
  opts,
);

/** A unit held by a return, `_id` = `<orderId>:<unitId>`: the unique id makes "returned once" hold under races. */
const ReturnedUnitSchema = new Schema(
  {
    _id: { type: String, required: true },
    orderId: { type: String, required: true },
    unitId: { type: String, required: true },
    rmaId: { type: String, required: true },
    heldAt: { type: String, required: true },
  },
  opts,
);

/** An issued credit note, complete from its insert on (`_id` = `CN-<n>`, gapless). */
const CreditNoteSchema = new Schema(
  {
    _id: { type: String, required: true },
    creditNoteNumber: { type: String, required: true },
    sequence: { type: Number, required: true },
    idempotencyKey: { type: String, required: true, unique: true },
    accountId: { type: String, required: true, index: true },
    orderId: { type: String, required: true },
    rmaId: { type: String, required: true },
    currency: { type: String, required: true },
    reason: { type: String, required: true },
    /** The invoices it corrects. */
    corrects: { type: [String], default: [] },
    lines: { type: [anyObj], default: [] },
    net: { type: Number, required: true },
    tax: { type: Number, required: true },
    gross: { type: Number, required: true },
    issuedAt: { type: String, required: true },
  },
  opts,
);

/** Fixes where a credit note's number search starts before its first claim (like invoiceRequests), then records what was issued. */
const CreditNoteRequestSchema = new Schema(
  {
    _id: { type: String, required: true },
    numberFrom: { type: Number, required: true },
    creditNoteNumber: { type: String, default: null },
  },
  opts,
);

/**
 * Answers remembered for the API's Idempotency-Key header, until `expiresAt`: only what a replay
 * needs (api/idempotency.ts keeps an order as its id, never its customer details).
 */
const IdempotencyRecordSchema = new Schema(
  {
    /** = key: FerretDB on SQLite pushes down only _id equality; any other filter scans. */
    _id: { type: String, required: true },
    key: { type: String, required: true, unique: true },
    fingerprint: { type: String, required: true },
    status: { type: Number, required: true },
    /** The order the answer was (or held, under `orderAt`), read again on a replay. */
    orderId: { type: String },
    orderAt: { type: String, enum: ['body', 'order'] },
    /** The rest of the answer (an error, an outcome), without any order in it. */
    body: { type: anyObj },
    createdAt: { type: String, required: true },
    /** MongoDB's TTL index removes it after this; FerretDB has none, so the API also sweeps (both). */
    expiresAt: { type: Date, required: true },
  },
  opts,
);

// ---- Device enrolment (manufacturers' zero-touch programmes) ----

/** One device to enrol or unenrol for one request; the unique id makes queueing exactly-once. */
const EnrolmentInstructionSchema = new Schema(
  {
    instructionId: { type: String, required: true, unique: true },
    requestId: { type: String, required: true },
    action: { type: String, required: true, enum: ['enrol', 'unenrol'] },
    manufacturer: { type: String, required: true, enum: ['apple', 'google', 'samsung'] },
    customerId: { type: String, required: true },
    orderId: { type: String, required: true },
    orderNumber: { type: String, required: true },
    deviceId: { type: String, required: true },
    device: { type: anyObj, required: true },
    status: { type: String, required: true, enum: ['queued', 'batched', 'enrolled', 'unenrolled', 'failed', 'enrolledElsewhere'] },
    transactionId: { type: String, default: null },
    attempts: { type: Number, default: 0 },
    result: { type: anyObj },
    reason: { type: String },
    requestedBy: { type: String, required: true },
    createdAt: { type: String, required: true },
    updatedAt: { type: String, required: true },
  },
  opts,
);
EnrolmentInstructionSchema.index({ manufacturer: 1, status: 1, instructionId: 1 });
EnrolmentInstructionSchema.index({ transactionId: 1 });
EnrolmentInstructionSchema.index({ orderId: 1, manufacturer: 1 });
EnrolmentInstructionSchema.index({ deviceId: 1, createdAt: 1 });
EnrolmentInstructionSchema.index({ status: 1, updatedAt: -1 });

/** One batch sent to a manufacturer; recorded before it is sent, so a retried send reuses the id. */
const EnrolmentTransactionSchema = new Schema(
  {
    transactionId: { type: String, required: true, unique: true },
    manufacturer: { type: String, required: true },
    action: { type: String, required: true, enum: ['enrol', 'unenrol'] },
    customerId: { type: String, required: true },
    instructionIds: { type: [String], required: true },
    status: { type: String, required: true, enum: ['prepared', 'open', 'done', 'rejected', 'empty'] },
    /** The manufacturer's own id for it (Apple's enrolment transaction id, Google's operation name). */
    reference: { type: String },
    sendAttempts: { type: Number, default: 0 },
    polls: { type: Number, default: 0 },
    createdAt: { type: String, required: true },
    sentAt: { type: String },
    lastPolledAt: { type: String },
    completedAt: { type: String },
    error: { type: anyObj },
    /** Why the last poll could not be made (the manufacturer refused our credentials); the transaction stays open. */
    lastError: { type: anyObj },
    summary: { type: anyObj },
  },
  opts,
);
EnrolmentTransactionSchema.index({ manufacturer: 1, status: 1, transactionId: 1 });

/** Every request to and response from a manufacturer, as sent and received. */
const EnrolmentAuditSchema = new Schema(
  {
    manufacturer: { type: String, required: true },
    transactionId: { type: String, required: true },
    operation: { type: String, required: true },
    method: { type: String, required: true },
    url: { type: String, required: true },
    request: { type: anyObj },
    httpStatus: { type: Number },
    response: { type: anyObj },
    error: { type: String },
    at: { type: String, required: true },
  },
  opts,
);
EnrolmentAuditSchema.index({ transactionId: 1, at: 1 });
EnrolmentAuditSchema.index({ manufacturer: 1, at: -1 });

/** A customer's request to enrol an order's devices with one manufacturer, and who asked. */
const EnrolmentRequestSchema = new Schema(
  {
    orderId: { type: String, required: true },
    manufacturer: { type: String, required: true, enum: ['apple', 'google', 'samsung'] },
    customerId: { type: String, required: true },
    when: { type: String, required: true, enum: ['orderTime', 'later'] },
    lineNumbers: { type: [Number], default: [] },
    requestedBy: { type: String, required: true },
    requestedAt: { type: String, required: true },
  },
  opts,
);
EnrolmentRequestSchema.index({ orderId: 1, manufacturer: 1 }, { unique: true });

export function defineModels(conn: Connection) {
  return {
    Product: conn.model('Product', ProductSchema, 'products'),
    Account: conn.model('Account', AccountSchema, 'accounts'),
    OrderView: conn.model('OrderView', OrderViewSchema, 'orders'),
    OrderReference: conn.model('OrderReference', OrderReferenceSchema, 'orderReferences'),
    AuditEntry: conn.model('AuditEntry', AuditEntrySchema, 'auditEntries'),
    OrderNote: conn.model('OrderNote', OrderNoteSchema, 'orderNotes'),
    AgentViewSession: conn.model('AgentViewSession', AgentViewSessionSchema, 'agentViewSessions'),
    SalesOrder: conn.model('SalesOrder', SalesOrderSchema, 'salesOrders'),
    FraudDecision: conn.model('FraudDecision', FraudDecisionSchema, 'fraudDecisions'),
    FraudListEntry: conn.model('FraudListEntry', FraudListEntrySchema, 'fraudLists'),
    DeliveryAddressUse: conn.model('DeliveryAddressUse', DeliveryAddressUseSchema, 'deliveryAddressUses'),
    DispatchBatch: conn.model('DispatchBatch', DispatchBatchSchema, 'dispatchBatches'),
    DispatchRowChunk: conn.model('DispatchRowChunk', DispatchRowChunkSchema, 'dispatchRowChunks'),
    DispatchProgress: conn.model('DispatchProgress', DispatchProgressSchema, 'dispatchProgress'),
    DispatchRejectionChunk: conn.model('DispatchRejectionChunk', DispatchRejectionChunkSchema, 'dispatchRejectionChunks'),
    AdaptorException: conn.model('AdaptorException', AdaptorExceptionSchema, 'adaptorExceptions'),
    AdaptorExceptionResolution: conn.model('AdaptorExceptionResolution', AdaptorExceptionResolutionSchema, 'adaptorExceptionResolutions'),
    Charge: conn.model('Charge', ChargeSchema, 'charges'),
    Invoice: conn.model('Invoice', InvoiceSchema, 'invoices'),
    AccountInvoice: conn.model('AccountInvoice', AccountInvoiceSchema, 'accountInvoices'),
    InvoiceRequest: conn.model('InvoiceRequest', InvoiceRequestSchema, 'invoiceRequests'),
    SequenceHint: conn.model('SequenceHint', SequenceHintSchema, 'sequenceHints'),
    Licence: conn.model('Licence', LicenceSchema, 'licences'),
    Return: conn.model('Return', ReturnSchema, 'returns'),
    ReturnedUnit: conn.model('ReturnedUnit', ReturnedUnitSchema, 'returnedUnits'),
    CreditNote: conn.model('CreditNote', CreditNoteSchema, 'creditNotes'),
    CreditNoteRequest: conn.model('CreditNoteRequest', CreditNoteRequestSchema, 'creditNoteRequests'),
    IdempotencyRecord: conn.model('IdempotencyRecord', IdempotencyRecordSchema, 'idempotencyRecords'),
    EnrolmentInstruction: conn.model('EnrolmentInstruction', EnrolmentInstructionSchema, 'enrolmentInstructions'),
    EnrolmentTransaction: conn.model('EnrolmentTransaction', EnrolmentTransactionSchema, 'enrolmentTransactions'),
    EnrolmentAudit: conn.model('EnrolmentAudit', EnrolmentAuditSchema, 'enrolmentAudit'),
    EnrolmentRequest: conn.model('EnrolmentRequest', EnrolmentRequestSchema, 'enrolmentRequests'),
  };
}

export type Models = ReturnType<typeof defineModels>;

export interface Db {
  conn: Connection;
  models: Models;
  /** The filter for a write by _id that must only land while a guard holds (infra/store/guarded-writes.ts). */
  guardedById: GuardedById;
  /** Accounts and products as this process last read them (kept briefly). */
  reference: ReferenceData;
  close(): Promise<void>;
}

/** Connects and makes sure every index exists (unique indexes carry the exactly-once guarantees). */
export async function connectDb(uri: string): Promise<Db> {
  const conn = mongoose.createConnection(uri, { autoIndex: false, serverSelectionTimeoutMS: 10_000 });
  await conn.asPromise();
  const models = defineModels(conn);
  for (const m of Object.values(models)) await m.createIndexes();
  const idOnlyPushdown = await isIdOnlyPushdown(conn);
  // FerretDB v1 has no TTL indexes; there the API's periodic sweep alone removes expired records.
  if (!idOnlyPushdown) await models.IdempotencyRecord.collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'expiresAt_ttl' });
  return {
    conn,
    models,
    guardedById: guardedById(idOnlyPushdown),
    reference: referenceData(models),
    close: () => conn.close(),
  };
}

export function isDuplicateKey(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

/**
 * Inserts the documents (unordered, one command); returns the indexes of those whose key (`_id`
 * or another unique key) was
 * taken already: they went in before. Any other failure is thrown.
 */
export async function keysTaken<D>(docs: D[], insertMany: (docs: D[]) => Promise<unknown>): Promise<number[]> {
  if (!docs.length) return [];
  try {
    await insertMany(docs);
    return [];
  } catch (err) {
    const writeErrors = (err as { writeErrors?: { index: number; code?: number } | { index: number; code?: number }[] }).writeErrors;
    if (!writeErrors) throw err;
    const failed = Array.isArray(writeErrors) ? writeErrors : [writeErrors];
    if (!failed.length || failed.some((e) => !isDuplicateKey(e))) throw err;
    return failed.map((e) => e.index);
  }
}

/** The database cannot be reached now: worth trying again later, and not the input's fault. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const name = (err as Error | undefined)?.name ?? '';
  return name === 'MongoServerSelectionError' || name === 'MongoNetworkError' || name === 'MongoNotConnectedError';
}

/** Server codes for values it cannot take: BadValue, FailedToParse, an invalid regular expression. */
const INVALID_VALUE_CODES = new Set([2, 9, 51091]);

/**
 * The driver or server refused the values it was given (a NUL byte in a regex or key, a value of
 * the wrong type): the request's input, so a 400 rather than a 500.
 */
export function isInvalidInput(err: unknown): boolean {
  const e = err as { name?: string; code?: unknown } | undefined;
  if (e?.name === 'BSONError' || e?.name === 'CastError') return true;
  return e?.name === 'MongoServerError' && typeof e.code === 'number' && INVALID_VALUE_CODES.has(e.code);
}

/** Two upserts of a missing document race to insert it: the loser's write is not needed. */
export function ignoreDuplicate(err: unknown): void {
  if (!isDuplicateKey(err)) throw err;
}
