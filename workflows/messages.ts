// Signals, updates, queries, search attributes and ids shared by the workflows and their clients
// (API, adaptor, tests). Defined once so a name can never drift between sender and receiver.
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AddLineRequest, CancelOutcome, ChangeLineRequest, OrderState, AgentAction } from '../domain/order-state';
import type { AttentionFlag } from '../domain/order-exceptions';
import type { BillingMode, DeliveryContact, DispatchRow } from '../domain/types';
import type { EnrolmentCustomerIds, EnrolmentProgress, FinalInstructionStatus } from '../domain/enrolment';
import type { ConditionGrade, ReturnView } from '../domain/returns';

export const TASK_QUEUE_DEFAULT = 'hardware-orders';

export const orderWorkflowId = (orderId: string) => `order-${orderId}`;
export const dispatchWorkflowId = (batchId: string) => `dispatch-${batchId}`;

export interface OrderTotals {
  net: number;
  tax: number;
  gross: number;
}

/** What a reader sees of an order: its state plus what the state machine allows next. */
export interface OrderView extends OrderState {
  totals: OrderTotals;
  allowedActions: AgentAction[];
  /** Why ops should look at it (the `NeedsAttention` search attribute, the work queue). */
  needsAttention: AttentionFlag[];
}

export interface Actor {
  /** Who did it: an agent id, 'ops:<id>', 'warehouse:<id>' or 'system'. */
  by: string;
  /** The API request that asked (its x-request-id), kept in the history entry. */
  requestId?: string;
}

export const getOrderQuery = defineQuery<OrderView>('getOrder');

export const addLineUpdate = defineUpdate<OrderView, [AddLineRequest & Actor]>('addLine');
export const changeLineUpdate = defineUpdate<OrderView, [ChangeLineRequest & Actor]>('changeLine');
export const removeLineUpdate = defineUpdate<OrderView, [{ lineId: string } & Actor]>('removeLine');
export const setDeliveryUpdate = defineUpdate<OrderView, [{ delivery: DeliveryContact } & Actor]>('setDelivery');
export const setBillingModeUpdate = defineUpdate<OrderView, [{ billingMode: BillingMode } & Actor]>('setBillingMode');
export const generateUpdate = defineUpdate<OrderView, [Actor]>('generate');
export const cancelUpdate = defineUpdate<{ outcome: CancelOutcome; order: OrderView }, [{ reason: string } & Actor]>('cancel');
/** A note on the order (any status, while its workflow runs; a finished order's notes are kept beside it, infra/store/order-notes.ts). */
export const addNoteUpdate = defineUpdate<OrderView, [{ text: string } & Actor]>('addNote');
export const fraudReviewUpdate = defineUpdate<OrderView, [{ decision: 'approve' | 'reject'; reason: string } & Actor]>('fraudReview');

// Ops' exception actions (workflows/order/resolution.ts, stuck-orders.ts).
/** An order in Error: send what did not ship again, optionally to a corrected delivery. */
export const resubmitUpdate = defineUpdate<OrderView, [{ delivery?: DeliveryContact; reason: string } & Actor]>('resubmit');
/** An order in Error accepted as it is, or one whose cancellation the warehouse never answered. */
export const closeUpdate = defineUpdate<OrderView, [{ reason: string } & Actor]>('close');
/** The sales order of each open sub-order again (purpose `resend`, same sub-order numbers). */
export const resendUpdate = defineUpdate<OrderView, [{ reason: string } & Actor]>('resend');
export const resendCancellationUpdate = defineUpdate<OrderView, [{ reason: string } & Actor]>('resendCancellation');

export interface DispatchResultSignal {
  batchId: string;
  warehouseId: string;
  rows: DispatchRow[];
}
/** Sent by the Sales Order Dispatch job with this order's rows of one batch. */
export const dispatchResultSignal = defineSignal<[DispatchResultSignal]>('dispatchResult');

export const OrderStatusAttr = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const AccountIdAttr = defineSearchAttributeKey('AccountId', SearchAttributeType.KEYWORD);
export const BillingModeAttr = defineSearchAttributeKey('BillingMode', SearchAttributeType.KEYWORD);
export const WarehouseIdsAttr = defineSearchAttributeKey('WarehouseIds', SearchAttributeType.KEYWORD_LIST);
/** fraudReview, backordered, error, dispatchOverdue, cancellationUnanswered (domain/order-exceptions.ts). */
export const NeedsAttentionAttr = defineSearchAttributeKey('NeedsAttention', SearchAttributeType.KEYWORD_LIST);

/** A typed search-attribute value, for start options and upserts alike. */
export function attr(key: ReturnType<typeof defineSearchAttributeKey>, value: SearchAttributePair['value']): SearchAttributePair {
  return { key, value } as SearchAttributePair;
}

// ---- Device enrolment ----

export interface EnrolmentResultSignal {
  transactionId: string;
  results: { deviceId: string; status: FinalInstructionStatus; code?: string; message?: string }[];
}
/** Sent by the Device Enrolment Response job (and the Request job on a refused transaction) to the requesting workflow. */
export const enrolmentResultSignal = defineSignal<[EnrolmentResultSignal]>('enrolmentResult');
export const getEnrolmentProgressQuery = defineQuery<EnrolmentProgress>('getEnrolmentProgress');
/** The customer's programme ids on a New order; lines say which programme each device goes to. */
export const requestEnrolmentUpdate = defineUpdate<OrderView & { enrolmentCustomerIds: EnrolmentCustomerIds }, [{ customerIds: EnrolmentCustomerIds } & Actor]>(
  'requestEnrolment',
);

// ---- Returns (workflows/returns.ts) ----

export interface ReturnReceiptSignal {
  /** The dispatch batch the rows came in (`<batchId>:<rowNumber>` keys a row), or the ops request. */
  batchId: string;
  warehouseId: string;
  units: { unit: string; grade: ConditionGrade; rowNumber: number }[];
}
/** Sent by the Sales Order Dispatch job with the `returned` rows of one batch for this return. */
export const returnReceiptSignal = defineSignal<[ReturnReceiptSignal]>('returnReceipt');
/** Ops received the units themselves (or the warehouse told them another way): all of them, or those named. */
export const receiveReturnUpdate = defineUpdate<ReturnView, [{ units?: { unit: string; grade: ConditionGrade }[]; grade?: ConditionGrade } & Actor]>(
  'receiveReturn',
);
export const getReturnQuery = defineQuery<ReturnView>('getReturn');
