import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { adaptorExceptionId } from '../domain/adaptor-exceptions';
import { rowKey, type OrderState } from '../domain/order-state';
import type { DispatchRow } from '../domain/types';
import { readDispatchRows } from '../infra/store/dispatch-rows';
import { dispatchResultSignal, orderWorkflowId, returnReceiptSignal } from '../workflows/messages';
import { findUnit, returnWorkflowId, unitClaimId, type ConditionGrade, type ReturnUnit, type ReturnView } from '../domain/returns';
import type { ActivityDeps } from './index';

/** Orders signalled at once: enough to keep the server busy, few enough not to swamp it. */
const SIGNAL_WINDOW = 32;

/** Heartbeat details: the last order of the last finished window, and the orders signalled by then. */
interface ResumePoint {
  after: string;
  signalled: number;
}

function resumePoint(details: unknown): ResumePoint | undefined {
  const d = details as Partial<ResumePoint> | undefined;
  return typeof d?.after === 'string' && typeof d.signalled === 'number' ? { after: d.after, signalled: d.signalled } : undefined;
}

export function dispatchActivities({ db, temporal }: ActivityDeps) {
  const { DispatchBatch, DispatchProgress, AdaptorException, OrderView, ReturnedUnit, Return } = db.models;
  return {
    /**
     * Hands every order in the batch its rows. Orders are visited in id order and the last order
     * of each finished window is heartbeated, so a retry after a crash resumes there; orders apply
     * rows idempotently, so the few re-sent after a crash change nothing. Heartbeats reach the
     * server at most every 0.8 x heartbeatTimeout, which bounds how much is re-sent.
     */
    async signalOrdersInBatch({ batchId }: { batchId: string }): Promise<{ ordersSignalled: number }> {
      const ctx = Context.current();
      const resume = resumePoint(ctx.info.heartbeatDetails);
      const batch = await DispatchBatch.findOne({ _id: batchId }).lean();
      if (!batch) throw new Error(`dispatch batch ${batchId} not found`);

      // The batch's rows by order, orders in id order (the resume point is an order id).
      const byOrder = new Map<string, DispatchRow[]>();
      for (const r of await readDispatchRows(db.models, batchId, batch.rowChunks)) {
        if (resume && r.orderId <= resume.after) continue;
        const rows = byOrder.get(r.orderId) ?? [];
        rows.push(r.row);
        byOrder.set(r.orderId, rows);
      }
      // The count travels with the resume point: the batch document may be ahead of the last
      // heartbeat the server kept (heartbeats are throttled), and orders re-sent must not count twice.
      let signalled = resume?.signalled ?? 0;
      let window: { orderId: string; rows: DispatchRow[] }[] = [];

      const flush = async () => {
        await Promise.all(window.map((g) => signalOrder(g.orderId, g.rows)));
        signalled += window.length;
        const last = window[window.length - 1]?.orderId;
        window = [];
        if (last) {
          ctx.heartbeat({ after: last, signalled } satisfies ResumePoint);
          // Progress for ops, never the batch itself: a timed-out attempt still running here could
          // otherwise write an old copy of the batch over `done` (seen in the chaos run).
          await DispatchProgress.replaceOne({ _id: batchId }, { signalled, updatedAt: new Date().toISOString() }, { upsert: true });
        }
      };
      /** Rows no order or return took must not vanish: ops see them as adaptor exceptions. */
      const toExceptions = async (rows: DispatchRow[], code: string, message: string) => {
        if (!rows.length) return;
        const createdAt = new Date().toISOString();
        await AdaptorException.bulkWrite(
          rows.map((row) => ({
            updateOne: {
              filter: { _id: adaptorExceptionId(batchId, row.rowNumber) },
              update: { $setOnInsert: { batchId, rowNumber: row.rowNumber, warehouseId: batch.warehouseId, code, message, row, createdAt, resolved: false } },
              upsert: true,
            },
          })),
        );
      };
      /** Returned units go to the return that holds them (`return-<rmaId>`), never to the order. */
      const signalReturns = async (orderId: string, rows: DispatchRow[]) => {
        const byReturn = new Map<string, DispatchRow[]>();
        const nobody: DispatchRow[] = [];
        for (const row of rows) {
          const ids = [row.imei, row.serialNumber].filter((x): x is string => !!x);
          const held = (await Promise.all(ids.map((u) => ReturnedUnit.findOne({ _id: unitClaimId(orderId, u) }, { rmaId: 1 }).lean()))).find(Boolean);
          if (!held) nobody.push(row);
          else byReturn.set(held.rmaId, [...(byReturn.get(held.rmaId) ?? []), row]);
        }
        for (const [rmaId, mine] of byReturn) {
          const units = mine.map((r) => ({ unit: (r.imei ?? r.serialNumber)!, grade: r.errorCode as ConditionGrade, rowNumber: r.rowNumber }));
          try {
            await temporal.workflow.getHandle(returnWorkflowId(rmaId)).signal(returnReceiptSignal, { batchId, warehouseId: batch.warehouseId, units });
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
            // Settled already: units it received (a re-sent batch) are done; the others are for ops.
            const ret = await Return.findOne({ _id: rmaId }, { units: 1 }).lean<Pick<ReturnView, 'units'>>();
            const late = mine.filter((r) => !(findUnit(ret?.units ?? [], (r.imei ?? r.serialNumber)!) as ReturnUnit | undefined)?.received);
            await toExceptions(late, 'NO_OPEN_RETURN', `return ${rmaId} is no longer waiting for its units`);
          }
        }
        await toExceptions(nobody, 'NO_OPEN_RETURN', `no open return of order ${orderId} expects this unit`);
      };
      const signalOrder = async (orderId: string, all: DispatchRow[]) => {
        all.sort((a, b) => a.rowNumber - b.rowNumber);
        const returned = all.filter((r) => r.disposition === 'returned');
        const rows = all.filter((r) => r.disposition !== 'returned');
        await signalReturns(orderId, returned);
        if (!rows.length) return;
        try {
          await temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(dispatchResultSignal, { batchId, warehouseId: batch.warehouseId, rows });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          // The order is closed (or never existed). Rows it applied before closing (an order
          // re-sent its rows after a crash) are done; the others must not vanish: ops see them.
          const view = await OrderView.findOne({ _id: orderId }, { state: 1 }).lean();
          const applied = new Set(
            ((view?.state as OrderState | undefined)?.subOrders ?? []).flatMap((s) => [...s.units, ...s.lineExceptions].map((u) => u.rowKey)),
          );
          const unapplied = rows.filter((row) => !applied.has(rowKey(batchId, row)));
          await toExceptions(unapplied, 'ORDER_CLOSED', `order ${orderId} is no longer waiting for dispatch results`);
        }
      };

      for (const orderId of [...byOrder.keys()].sort()) {
        window.push({ orderId, rows: byOrder.get(orderId)! });
        if (window.length >= SIGNAL_WINDOW) await flush();
      }
      await flush();
      return { ordersSignalled: signalled };
    },

    async finishDispatchBatch({ batchId, ordersSignalled }: { batchId: string; ordersSignalled?: number }): Promise<void> {
      // Histories from before ordersSignalled was passed finish without the count.
      await DispatchBatch.updateOne({ _id: batchId }, { $set: { status: 'done', ...(ordersSignalled === undefined ? {} : { signalled: ordersSignalled }) } });
    },
  };
}
