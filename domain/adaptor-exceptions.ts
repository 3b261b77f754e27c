// Adaptor exceptions and dispatch batches as ops see them: a batch's outcome, an exception's id,
// and whether an exception's row fits the order it is to be applied to. Pure: no I/O, no clock.
import { applyDispatchRows } from './order-state';
import type { OrderState } from './order-state';
import type { DispatchRow, SubOrder, SubOrderRef } from './types';
import { DispatchRowValidator, WAREHOUSE_RESPONSE_COLUMNS } from './warehouse-response';

/** An exception's id: its row's place in its batch, the same as the row's key in an order. */
export const adaptorExceptionId = (batchId: string, rowNumber: number): string => `${batchId}:${rowNumber}`;
export const ADAPTOR_EXCEPTION_ID = /^[a-f0-9]{64}:[1-9]\d{0,8}$/;

/**
 * The batch id a reapplied row is signalled under: the exception's own, so the order keys the row
 * (`<this>:<rowNumber>`) apart from the file's rows, a second signal of it is ignored as already
 * applied, and its charge (keyed by line and batch) is one of its own.
 */
export const reapplyBatchId = (exceptionId: string): string => `exception:${exceptionId}`;

/** True once the order holds the row (shipped unit or line exception) under this batch id. */
export const holdsRow = (order: Pick<OrderState, 'subOrders'>, key: string): boolean =>
  order.subOrders.some((s) => s.units.some((u) => u.rowKey === key) || s.lineExceptions.some((e) => e.rowKey === key));

export const BATCH_OUTCOMES = ['running', 'applied', 'partial'] as const;
export type BatchOutcome = (typeof BATCH_OUTCOMES)[number];

/**
 * `running` while the Sales Order Dispatch job has not finished; then `applied` when every row was
 * valid and for a known order, `partial` when some were rejected or listed as exceptions. (A file
 * that cannot be read is quarantined whole and never becomes a batch.)
 */
export function batchOutcome(b: { status: string; rejectedRows: number; exceptionRows: number }): BatchOutcome {
  if (b.status !== 'done') return 'running';
  return b.rejectedRows > 0 || b.exceptionRows > 0 ? 'partial' : 'applied';
}

/** The same rule as a MongoDB filter on the batch's fields (indexed: status, counts). */
export function batchOutcomeFilter(outcome: BatchOutcome): Record<string, unknown> {
  if (outcome === 'running') return { status: { $ne: 'done' } };
  if (outcome === 'applied') return { status: 'done', rejectedRows: 0, exceptionRows: 0 };
  return { status: 'done', $or: [{ rejectedRows: { $gt: 0 } }, { exceptionRows: { $gt: 0 } }] };
}

export type ReapplyRefusal = { code: 'ORDER_NOT_AWAITING_DISPATCH' | 'NO_SUB_ORDER_AT_WAREHOUSE' | 'ROW_DOES_NOT_FIT'; message: string };
export type ReapplyTarget = { subOrderNumber: string; row: DispatchRow } | { refused: ReapplyRefusal };

/**
 * Where an exception's row goes in an order, or why it cannot: the order must still wait for
 * dispatch; the row goes to the order's sub-order at the row's warehouse that still waits and whose
 * line it fits (line, SKU, the product's serial/IMEI capture, quantity left, a unit not shipped
 * already), checked the way the adaptor checks a file's rows and the order applies them.
 * `refs` are the sales orders as sent (for the lines' capture), by sub-order number; `onlySubOrder`
 * limits the choice to one (the row's own, when it names one that exists now).
 */
export function reapplyTarget(
  order: Pick<OrderState, 'status' | 'orderId' | 'subOrders'>,
  row: DispatchRow,
  warehouseId: string,
  refs: ReadonlyMap<string, SubOrderRef>,
  onlySubOrder?: string,
): ReapplyTarget {
  if (order.status !== 'AwaitingDispatch')
    return { refused: { code: 'ORDER_NOT_AWAITING_DISPATCH', message: `order ${order.orderId} is ${order.status}, not waiting for dispatch results` } };
  const subs = order.subOrders.filter((s) => s.warehouseId === warehouseId && (onlySubOrder === undefined || s.subOrderNumber === onlySubOrder));
  if (!subs.length) return { refused: { code: 'NO_SUB_ORDER_AT_WAREHOUSE', message: `order ${order.orderId} has no sub-order at ${warehouseId}` } };
  let firstRefusal: ReapplyRefusal | undefined;
  for (const sub of subs) {
    const fit = fits(order.subOrders, sub, refs.get(sub.subOrderNumber), { ...row, subOrderNumber: sub.subOrderNumber, warehouseId });
    if ('row' in fit) return { subOrderNumber: sub.subOrderNumber, row: fit.row };
    firstRefusal ??= fit.refused;
  }
  return { refused: firstRefusal! };
}

function fits(
  subOrders: readonly SubOrder[],
  sub: SubOrder,
  ref: SubOrderRef | undefined,
  row: DispatchRow,
): { row: DispatchRow } | { refused: ReapplyRefusal } {
  const refuse = (message: string) => ({ refused: { code: 'ROW_DOES_NOT_FIT' as const, message } });
  if (sub.status !== 'Sent') return refuse(`sub-order ${sub.subOrderNumber} is ${sub.status}: it takes no more rows`);
  if (!ref) return refuse(`sub-order ${sub.subOrderNumber} has no sales order on record`);
  // The file's own rules for one row (line, SKU, capture), with the sub-order as sent.
  const validator = new DispatchRowValidator((n) => (n === ref.subOrderNumber ? ref : undefined), row.warehouseId);
  validator.checkHeader(WAREHOUSE_RESPONSE_COLUMNS);
  const checked = validator.accept(rowToRecord(row), row.rowNumber);
  if ('rejection' in checked) return refuse(checked.rejection.message);
  if ('unknownOrder' in checked) return refuse(`sub-order ${sub.subOrderNumber} is not known`);
  // Then as the order applies it, on a copy of its sub-orders: quantity left, units not shipped yet.
  const trial = { subOrders: structuredClone(subOrders) } as OrderState;
  const { applied } = applyDispatchRows(trial, 'trial', [checked.row]);
  if (!applied) return refuse(`line ${row.lineNumber} of sub-order ${sub.subOrderNumber} cannot take this row: more than ordered, or a unit it already has`);
  return { row: checked.row };
}

/** A DispatchRow as the CSV record it was read from (the validator's input). */
function rowToRecord(r: DispatchRow): Record<string, string> {
  const s = (v: string | number | undefined) => (v === undefined ? '' : String(v));
  return {
    warehouse_id: r.warehouseId,
    sub_order_number: r.subOrderNumber,
    line_number: s(r.lineNumber),
    sku: r.sku,
    quantity_shipped: s(r.quantityShipped),
    serial_number: s(r.serialNumber),
    imei: s(r.imei),
    imei2: s(r.imei2),
    carrier: s(r.carrier),
    tracking_number: s(r.trackingNumber),
    ship_date: s(r.shipDate),
    disposition: r.disposition,
    error_code: s(r.errorCode),
    error_message: s(r.errorMessage),
  };
}
