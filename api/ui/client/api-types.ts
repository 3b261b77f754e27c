// The answers AgentView reads, as types only: esbuild drops these imports, so no server code
// reaches the bundle (scripts/agentview-bundle.ts refuses a bundle that includes any).
import type { z } from '@hono/zod-openapi';
import type { EnrolmentCustomerIds, DeviceEnrolmentState, EnrolmentAction, InstructionStatus } from '../../../domain/enrolment';
import type { InvoiceTotals } from '../../../domain/money';
import type { Account, Manufacturer, Product } from '../../../domain/types';
import type { OrderView } from '../../../workflows/messages';
import type { StockCheckSchema } from '../../schemas';

export type { Account, OrderView, Product };

export interface List<T> {
  items: T[];
}

/** GET /orders/{id}: ops also get the link to the workflow. */
export type OrderPageView = OrderView & { temporalUrl?: string };

export interface OrderPage extends List<OrderView> {
  nextCursor: string | null;
}

/** POST /orders/{id}/cancel answers 202 with this when the warehouse must confirm. */
export interface CancellationRequested {
  outcome: 'cancellationRequested';
  order: OrderView;
}

export type StockCheck = z.infer<typeof StockCheckSchema>;

// The billing, enrolment and adaptor routes do not declare their answers yet: these are the fields
// AgentView reads of them.

export interface InvoiceSummary {
  invoiceNumber: string;
  kind: 'offCycle' | 'cycle';
  issuedAt: string;
  currency: string;
  chargeCount: number;
  totals: InvoiceTotals;
}

/** GET /invoices/{number}. */
export interface Invoice {
  issuedAt: string;
  currency: string;
  totals: InvoiceTotals;
}

export interface AccountCharge {
  createdAt: string;
  orderId: string;
  description: string;
  quantity: number;
  amount: number;
  tax: number;
  currency: string;
  invoiceNumber: string | null;
}

export interface EnrolmentIdsRecorded {
  enrolmentCustomerIds: EnrolmentCustomerIds;
}

export interface EnrolmentDeviceProgress {
  deviceId: string;
  lineNumber: number;
  sku: string;
  manufacturer: Manufacturer;
  enrolment: DeviceEnrolmentState;
  last: { action: EnrolmentAction; status: InstructionStatus; result: { message?: string } | null };
}

export interface OrderEnrolment {
  requests: { manufacturer: Manufacturer; customerId: string }[];
  devices: EnrolmentDeviceProgress[];
}

export interface AdaptorException {
  createdAt: string;
  warehouseId: string;
  batchId: string;
  rowNumber: number;
  row?: { subOrderNumber?: string; sku?: string };
  code: string;
  message: string;
}
