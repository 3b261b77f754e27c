// Resolving an adaptor exception: a row no order took, either applied to its order now (reapply)
// or set aside with a reason (dismiss). A reapplied row reaches the order the way every row does,
// the dispatchResult signal, under a batch id of the exception's own: the order keeps each row
// key once, so a second signal (a retry, a double click) applies nothing.
//
// Exactly once without transactions: the resolution is claimed by inserting it under the
// exception's id (unique), so two ops cannot apply one row to two orders; the claim is then copied
// onto the exception. A repeat of the same resolution finishes what the first left undone.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { holdsRow, reapplyBatchId, reapplyTarget } from '../domain/adaptor-exceptions';
import { DomainError } from '../domain/errors';
import { rowKey, type OrderState } from '../domain/order-state';
import { salesOrderFileId } from '../domain/sales-order';
import type { DispatchRow, SubOrderRef } from '../domain/types';
import { isDuplicateKey, type Db } from '../infra/db';
import { dispatchResultSignal, orderWorkflowId } from '../workflows/messages';

export type ResolveRequest = { action: 'reapply'; orderId?: string } | { action: 'dismiss'; reason: string };

export interface Resolution {
  action: 'reapply' | 'dismiss';
  orderId?: string;
  subOrderNumber?: string;
  reason?: string;
  by: string;
  at: string;
}

/** How long a reapply waits for the order to show the row (its read model is written with the signal's workflow task). */
const APPLIED_WAIT_MS = 15_000;

export async function resolveAdaptorException(deps: { db: Db; temporal: Client }, id: string, req: ResolveRequest, by: string) {
  const { AdaptorException, AdaptorExceptionResolution } = deps.db.models;
  const exc = await AdaptorException.findOne({ _id: id }).lean();
  if (!exc) throw new DomainError('EXCEPTION_NOT_FOUND', `no adaptor exception ${id}`);
  const claimed = await AdaptorExceptionResolution.findOne({ _id: id }, { _id: 0 }).lean<Resolution>();
  if (claimed) sameOrRefuse(claimed, req);

  const finish = async (resolution: Resolution) => {
    const r = stripUndefined(resolution);
    // One writer: only a caller holding the claim (the first, or a repeat of it) gets here.
    await AdaptorException.updateOne({ _id: id }, { $set: { resolved: true, resolution: r } });
    return { ...exc, resolved: true, resolution: r };
  };
  if (exc.resolved && claimed) return { ...exc, resolution: exc.resolution as Resolution };

  if (req.action === 'dismiss') return finish(claimed ?? (await claim(deps.db, id, { action: 'dismiss', reason: req.reason, by, at: now() }, req)));

  const row = exc.row as DispatchRow | undefined;
  if (!row) throw new DomainError('ROW_DOES_NOT_FIT', `exception ${id} has no row to apply`);
  const key = rowKey(reapplyBatchId(id), row);
  let resolution = claimed;
  let target: { order: OrderState; subOrderNumber: string; row: DispatchRow };
  if (resolution) {
    // A repeat: the row may be in the order already (the first call ended before recording it).
    const order = await readOrder(deps.db, resolution.orderId!);
    if (order && holdsRow(order, key)) return finish(resolution);
    try {
      target = await findTarget(deps.db, exc.warehouseId, row, resolution.orderId!, resolution.subOrderNumber);
    } catch (err) {
      // The order will never take it (it moved on, or it closed): the claim held nothing; free it.
      if (err instanceof DomainError) await AdaptorExceptionResolution.deleteOne({ _id: id });
      throw err;
    }
  } else {
    const { orderId, onlySubOrder } = req.orderId ? { orderId: req.orderId, onlySubOrder: undefined } : await ownOrder(deps.db, row);
    target = await findTarget(deps.db, exc.warehouseId, row, orderId, onlySubOrder);
    resolution = await claim(deps.db, id, { action: 'reapply', orderId, subOrderNumber: target.subOrderNumber, by, at: now() }, req);
    if (resolution.subOrderNumber !== target.subOrderNumber) return resolveAdaptorException(deps, id, req, by);
  }

  try {
    await deps.temporal.workflow
      .getHandle(orderWorkflowId(resolution.orderId!))
      .signal(dispatchResultSignal, { batchId: reapplyBatchId(id), warehouseId: exc.warehouseId, rows: [target.row] });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await AdaptorExceptionResolution.deleteOne({ _id: id });
    throw new DomainError('ORDER_NOT_AWAITING_DISPATCH', `order ${resolution.orderId} has closed`);
  }
  const deadline = Date.now() + APPLIED_WAIT_MS;
  for (;;) {
    const order = await readOrder(deps.db, resolution.orderId!);
    if (order && holdsRow(order, key)) return finish(resolution);
    if (Date.now() > deadline)
      throw new DomainError('DEPENDENCY_UNAVAILABLE', `order ${resolution.orderId} has not shown the row yet; resolve it the same way again to check`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A resolution already claimed answers a repeat of itself; anything else is refused. */
function sameOrRefuse(claimed: Resolution, req: ResolveRequest): void {
  const same = claimed.action === req.action && (req.action === 'dismiss' || req.orderId === undefined || req.orderId === claimed.orderId);
  if (same) return;
  const how = claimed.action === 'reapply' ? `reapplied to order ${claimed.orderId}` : `dismissed (${claimed.reason})`;
  throw new DomainError('EXCEPTION_RESOLVED_OTHERWISE', `this exception was ${how} by ${claimed.by} at ${claimed.at}`, { resolution: claimed });
}

/** Inserts the claim; if another caller's got there first, that one stands (when it is the same). */
async function claim(db: Db, id: string, resolution: Resolution, req: ResolveRequest): Promise<Resolution> {
  try {
    await db.models.AdaptorExceptionResolution.create({ _id: id, ...stripUndefined(resolution) });
    return resolution;
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    const other = await db.models.AdaptorExceptionResolution.findOne({ _id: id }, { _id: 0 }).lean<Resolution>();
    if (!other) throw err;
    sameOrRefuse(other, req);
    return other;
  }
}

/** The row's own order: its sub-order number, if a sales order by that number has been sent since. */
async function ownOrder(db: Db, row: DispatchRow): Promise<{ orderId: string; onlySubOrder: string }> {
  const sent = await db.models.SalesOrder.findOne({ _id: salesOrderFileId(row.subOrderNumber, 'new') }, { orderId: 1 }).lean();
  if (!sent)
    throw new DomainError('SUB_ORDER_UNKNOWN', `no sales order ${row.subOrderNumber} has been sent; reapply with the id of the order the row belongs to`);
  return { orderId: sent.orderId, onlySubOrder: row.subOrderNumber };
}

async function readOrder(db: Db, orderId: string): Promise<OrderState | null> {
  const doc = await db.models.OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
  return (doc?.state as OrderState | undefined) ?? null;
}

async function findTarget(db: Db, warehouseId: string, row: DispatchRow, orderId: string, onlySubOrder?: string) {
  const order = await readOrder(db, orderId);
  if (!order) throw new DomainError('ORDER_NOT_FOUND', `no order ${orderId}`);
  const refs = new Map<string, SubOrderRef>();
  for (const s of order.subOrders.filter((x) => x.warehouseId === warehouseId)) {
    // The sales order as sent: it has each line's capture (serial, IMEI), which the order view does not.
    const sent = await db.models.SalesOrder.findOne(
      { _id: salesOrderFileId(s.subOrderNumber, 'new') },
      { subOrderNumber: 1, orderId: 1, warehouseId: 1, lines: 1 },
    ).lean();
    if (sent)
      refs.set(s.subOrderNumber, {
        subOrderNumber: sent.subOrderNumber,
        orderId: sent.orderId,
        warehouseId: sent.warehouseId,
        lines: sent.lines as SubOrderRef['lines'],
      });
  }
  const t = reapplyTarget(order, row, warehouseId, refs, onlySubOrder);
  if ('refused' in t) throw new DomainError(t.refused.code, t.refused.message);
  return { order, ...t };
}

const now = () => new Date().toISOString();
const stripUndefined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
