// The answers AgentView reads, as types only, inferred from the schemas the routes declare and
// the handlers are checked against (api/schemas.ts). esbuild drops these imports, so no server
// code reaches the bundle (scripts/agentview-bundle.ts refuses a bundle that includes any).
import type { z } from '@hono/zod-openapi';
import type { Account, Product } from '../../../domain/types';
import type { OrderView } from '../../../workflows/messages';
import type {
  AdaptorExceptionListSchema,
  AdaptorExceptionSchema,
  AuditListSchema,
  DispatchBatchListSchema,
  DispatchBatchSummarySchema,
  RejectedRowsSchema,
  ReturnSchema,
  CreditNotesSchema,
  CancellationRequestedSchema,
  ChargeSchema,
  EnrolmentIdsRecordedSchema,
  EnrolmentStartedSchema,
  InvoiceSchema,
  InvoiceSummarySchema,
  OrderDetailSchema,
  OrderEnrolmentSchema,
  OrderListSchema,
  SearchResultSchema,
  MeSchema,
  StockCheckSchema,
  UnenrolmentQueuedSchema,
  WorkQueueSchema,
} from '../../schemas';

export type { Account, OrderView, Product };

export interface List<T> {
  items: T[];
}

/** GET /orders/{id}: ops also get the link to the workflow. */
export type OrderPageView = z.infer<typeof OrderDetailSchema>;
export type OrderPage = z.infer<typeof OrderListSchema>;
/** POST /orders/{id}/cancel answers 202 with this when the warehouse must confirm. */
export type CancellationRequested = z.infer<typeof CancellationRequestedSchema>;
export type StockCheck = z.infer<typeof StockCheckSchema>;
export type InvoiceSummary = z.infer<typeof InvoiceSummarySchema>;
/** GET /invoices/{number}. */
export type Invoice = z.infer<typeof InvoiceSchema>;
export type AccountCharge = z.infer<typeof ChargeSchema>;
export type EnrolmentIdsRecorded = z.infer<typeof EnrolmentIdsRecordedSchema>;
export type OrderEnrolment = z.infer<typeof OrderEnrolmentSchema>;
export type EnrolmentDeviceProgress = OrderEnrolment['devices'][number];
/** POST /orders/{id}/enrolment past New: what it started. */
export type EnrolmentStarted = z.infer<typeof EnrolmentStartedSchema>;
/** POST /devices/{imeiOrSerial}/unenrolment. */
export type UnenrolmentQueued = z.infer<typeof UnenrolmentQueuedSchema>;
export type AdaptorException = z.infer<typeof AdaptorExceptionSchema>;
/** GET /me. */
export type Me = z.infer<typeof MeSchema>;
/** GET /search. */
export type SearchResult = z.infer<typeof SearchResultSchema>;
/** GET /work-queue. */
export type WorkQueue = z.infer<typeof WorkQueueSchema>;
export type WorkQueueItem = WorkQueue['items'][number];
export type AdaptorExceptionList = z.infer<typeof AdaptorExceptionListSchema>;
export type DispatchBatchSummary = z.infer<typeof DispatchBatchSummarySchema>;
export type DispatchBatchList = z.infer<typeof DispatchBatchListSchema>;
export type AuditList = z.infer<typeof AuditListSchema>;
export type RejectedRows = z.infer<typeof RejectedRowsSchema>;
/** GET /returns/{rmaId}, an item of GET /orders/{id}/returns. */
export type Return = z.infer<typeof ReturnSchema>;
/** GET /accounts/{id}/credit-notes: credit notes issued at once, and credit lines for the next cycle invoice. */
export type CreditNotes = z.infer<typeof CreditNotesSchema>;
