// The names people read for the domain's codes: one place, so AgentView's pages, its browser code
// and anything else that shows a status or a kind say the same thing.
import type { ReturnReason, ReturnStatus } from './returns';
import type { WorkQueueKind } from './needs-attention';
import type { OrderReferenceKind } from './search';
import type { BillingMode, Manufacturer, OrderStatus, ProductKind } from './types';

export const STATUS_LABELS: Readonly<Record<OrderStatus, string>> = {
  New: 'New',
  AwaitingGeneration: 'Awaiting Generation',
  AwaitingDispatch: 'Awaiting Dispatch',
  Complete: 'Complete',
  Error: 'Error',
  Cancelled: 'Cancelled',
};

export const KIND_LABELS: Readonly<Record<ProductKind, string>> = { handset: 'Handset', peripheral: 'Peripheral', softwareLicence: 'Software licence' };

export const BILLING_MODE_LABELS: Readonly<Record<BillingMode, string>> = { immediate: 'Bill immediately', nextInvoice: 'Next regular invoice' };

/** Enrolment programmes, named by the manufacturer that runs each. */
export const PROGRAMME_LABELS: Readonly<Record<Manufacturer, string>> = { apple: 'Apple', google: 'Android zero-touch', samsung: 'Samsung Knox' };

/** The ops work queue's kinds, as its tabs and an order's flags read. */
export const WORK_QUEUE_LABELS: Readonly<Record<WorkQueueKind, string>> = {
  fraudReview: 'Fraud review',
  backordered: 'Backordered',
  error: 'Error',
  dispatchOverdue: 'Dispatch overdue',
  cancellationUnanswered: 'Cancellation unanswered',
  adaptorException: 'Adaptor exception',
  enrolmentFailed: 'Enrolment failed',
};

/** What a search matched an order by. */
export const REFERENCE_LABELS: Readonly<Record<OrderReferenceKind, string>> = {
  order: 'order number',
  imei: 'IMEI',
  serial: 'serial number',
  tracking: 'tracking number',
  invoice: 'invoice number',
};

export const RETURN_REASON_LABELS: Readonly<Record<ReturnReason, string>> = {
  unwanted: 'Unwanted',
  faulty: 'Faulty',
  wrongItem: 'Wrong item',
  damagedInTransit: 'Damaged in transit',
};

export const RETURN_STATUS_LABELS: Readonly<Record<ReturnStatus, string>> = {
  authorised: 'Authorised, waiting for the units',
  received: 'Received',
  credited: 'Credited',
  expired: 'Expired (not received)',
  refused: 'Refused',
};
