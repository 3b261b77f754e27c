// The business vocabulary shared by workflows, activities, the API and the adaptor.
// Pure types only: no I/O, safe to import from workflow code (Address comes as a type from its
// zod schema, so no zod code reaches a workflow bundle).
import type { Address } from './address';

/** Money is always integer minor units (pence, cents) with an ISO 4217 currency. */
export type Currency = string;

export type ProductKind = 'handset' | 'peripheral' | 'softwareLicence';

/** What a unit must carry when the warehouse dispatches it. */
export type UnitCapture = 'none' | 'serial' | 'imei';

export type Manufacturer = 'apple' | 'google' | 'samsung';

export interface Product {
  sku: string;
  name: string;
  kind: ProductKind;
  /** Unit price excluding tax, minor units. */
  unitPrice: number;
  currency: Currency;
  /** Tax rate in basis points (2000 = 20%). */
  taxRateBps: number;
  capture: UnitCapture;
  manufacturer?: Manufacturer;
  /** Enrolment programmes this device supports (by manufacturer). */
  enrolmentProgrammes: Manufacturer[];
  active: boolean;
}

/** Inferred from its zod schema (domain/address.ts), the one definition of its fields. */
export type { Address };

export interface DeliveryContact {
  name: string;
  phone?: string;
  email?: string;
  address: Address;
}

export type BillingMode = 'immediate' | 'nextInvoice';

export interface Account {
  accountId: string;
  name: string;
  billingAddress: Address;
  defaultDelivery: DeliveryContact;
  /** Day of month (1-28) on which the account's regular invoice is produced. */
  billingCycleDay: number;
  defaultBillingMode: BillingMode;
  currency: Currency;
}

export const ORDER_STATUSES = ['New', 'AwaitingGeneration', 'AwaitingDispatch', 'Complete', 'Error', 'Cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderLine {
  lineId: string;
  /** 1-based, stable once assigned; the warehouse line number. */
  lineNumber: number;
  sku: string;
  description: string;
  kind: ProductKind;
  quantity: number;
  /** Captured from the catalogue when the line was added. */
  unitPrice: number;
  taxRateBps: number;
  capture: UnitCapture;
  manufacturer?: Manufacturer;
  /** Enrolment programme requested for this line's devices, if any. */
  enrolment?: Manufacturer;
}

/**
 * One entry of an order's history: a status move (`from` ≠ `to`), or an action or event that kept
 * the status (`from` = `to`): an agent's or ops' edit with what it changed, a note, a warehouse's news.
 */
export interface HistoryEntry {
  from: OrderStatus | null;
  to: OrderStatus;
  /** Workflow time, ISO 8601. */
  at: string;
  by: string;
  reason: string;
  /** What an agent's or ops' action changed, before → after. May hold the delivery contact: never log it. */
  changes?: OrderChange[];
  /** The API request that did it (its x-request-id): the correlation id to find it in the logs. */
  requestId?: string;
  /** A note someone added: `reason` is its text. */
  note?: true;
}

/** A line as the history shows it before or after a change. */
export interface LineSnapshot {
  sku: string;
  quantity: number;
  enrolment?: Manufacturer;
}

/** One thing an action changed. `before` null: added; `after` null: removed. */
export type OrderChange =
  | { field: 'line'; lineId: string; before: LineSnapshot | null; after: LineSnapshot | null }
  | { field: 'delivery'; before: DeliveryContact | null; after: DeliveryContact | null }
  | { field: 'billingMode'; before: BillingMode; after: BillingMode }
  // null: none (an empty object would not survive the database: its documents drop empty objects).
  | { field: 'enrolmentIds'; before: Partial<Record<Manufacturer, string>> | null; after: Partial<Record<Manufacturer, string>> | null };

export type FraudDecision = 'accept' | 'refer' | 'reject';

export interface FraudCheckResult {
  decision: FraudDecision;
  reasons: string[];
  provider: string;
  providerReference: string;
  checkedAt: string;
}

/** Units and outcome recorded per warehouse sub-order from dispatch rows. */
export interface DispatchedUnit {
  rowKey: string;
  lineNumber: number;
  sku: string;
  quantity: number;
  serialNumber?: string;
  imei?: string;
  imei2?: string;
  carrier?: string;
  trackingNumber?: string;
  shipDate?: string;
  batchId: string;
}

export type SubOrderStatus = 'Pending' | 'Sent' | 'Shipped' | 'Error' | 'Cancelled';

export interface SubOrderLine {
  lineNumber: number;
  sku: string;
  quantity: number;
}

export interface SubOrder {
  /** `<orderId>-<warehouseId>`: deterministic, so a retried send is the same sub-order. */
  subOrderNumber: string;
  warehouseId: string;
  lines: SubOrderLine[];
  status: SubOrderStatus;
  units: DispatchedUnit[];
  error?: { code: string; message: string };
  /** Rows that closed a line without shipping it: error, out of stock, cancelled. */
  lineExceptions: LineException[];
  /** Set on the sub-orders of the n-th resubmission (`<orderId>-<warehouseId>-R<n>`). */
  resubmission?: number;
  /** Its unshipped quantity went out again in a resubmission: it no longer decides the order's outcome. */
  superseded?: boolean;
  /** When its sales order last went out (first send or resend): the dispatch SLA runs from here. */
  sentAt?: string;
  /** Past this while still Sent, the sub-order is overdue (DISPATCH_SLA, per warehouse). */
  dispatchDueBy?: string;
  overdue?: boolean;
  /** How many times ops resent its sales order (purpose `resend`). */
  resends?: number;
}

export interface LineException {
  rowKey: string;
  lineNumber: number;
  disposition: 'error' | 'outOfStock' | 'cancelled';
  code: string;
  message: string;
}

export interface OrderError {
  code: string;
  message: string;
}

export interface Charge {
  chargeKey: string;
  lineNumber: number;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: number;
  taxRateBps: number;
  /** Net amount, minor units. */
  amount: number;
  tax: number;
  invoiceNumber: string | null;
}

// ---- Outbound: the sales order sent to a warehouse (EDI 940 mapped to JSON) ----

/** `resend`: the same sales order again (same sub-order number); a warehouse that already has it ignores it. */
export type SalesOrderPurpose = 'new' | 'cancel' | 'resend';

export interface SalesOrderRequestLine {
  lineNumber: number;
  sku: string;
  description: string;
  quantity: number;
  unitOfMeasure: 'EA';
  captureSerialNumbers: boolean;
  captureImei: boolean;
  enrolmentProgramme?: Manufacturer;
}

export interface SalesOrderRequest {
  schemaVersion: '1';
  /** `<subOrderNumber>-<purpose>` (`-<n>` added for the n-th send of a purpose): one file per send, whatever the retries. */
  fileId: string;
  warehouseId: string;
  generatedAt: string;
  purpose: SalesOrderPurpose;
  /** Our order id (EDI 940 W05-02, depositor order number). */
  depositorOrderNumber: string;
  /** The warehouse sub-order (EDI 940 W05-03, purchase order number). */
  subOrderNumber: string;
  accountId: string;
  serviceLevel: 'standard' | 'nextDay';
  fraudCheck: {
    required: boolean;
    reasons: string[];
    result: FraudDecision | 'notRequired';
    providerReference?: string;
  };
  shipTo: {
    name: string;
    phone?: string;
    email?: string;
    addressLines: string[];
    city: string;
    region?: string;
    postcode: string;
    country: string;
  };
  lines: SalesOrderRequestLine[];
}

// ---- Inbound: the warehouse's response file (EDI 945 shipping advice, CSV) as JSON ----

/** `returned`: a unit back from the customer under a return (RMA); `error_code` carries its condition grade (A, B, C, scrap). */
export const DISPOSITIONS = ['shipped', 'partial', 'outOfStock', 'cancelled', 'error', 'returned'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

export interface DispatchRow {
  /** 1-based data row number in the source file (header excluded). */
  rowNumber: number;
  warehouseId: string;
  subOrderNumber: string;
  lineNumber: number;
  sku: string;
  /** Units shipped by this row; 0 for outOfStock / cancelled / error rows. */
  quantityShipped: number;
  serialNumber?: string;
  imei?: string;
  imei2?: string;
  carrier?: string;
  trackingNumber?: string;
  /** YYYY-MM-DD */
  shipDate?: string;
  disposition: Disposition;
  errorCode?: string;
  errorMessage?: string;
}

export interface DispatchBatch {
  schemaVersion: '1';
  /** sha256 of the source file's bytes, hex: the same file is the same batch. */
  batchId: string;
  warehouseId: string;
  sourceFile: string;
  receivedAt: string;
  rows: DispatchRow[];
}

/** What the adaptor knows about a sub-order when it validates rows (from the salesOrders collection). */
export interface SubOrderRef {
  orderId: string;
  subOrderNumber: string;
  warehouseId: string;
  lines: { lineNumber: number; sku: string; quantity: number; capture: UnitCapture }[];
}

export interface RowRejection {
  rowNumber: number;
  code: string;
  message: string;
}
