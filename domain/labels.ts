// The names people read for the domain's codes: one place, so AgentView's pages, its browser code
// and anything else that shows a status or a kind say the same thing.
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
