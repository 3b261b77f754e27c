import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { DispatchRow } from '../domain/types';
import { dispatchResultSignal, orderWorkflowId } from '../workflows/messages';
import type { ActivityDeps } from './index';

/** Orders signalled at once: enough to keep the server busy, few enough not to swamp it. */
const SIGNAL_WINDOW = 32;

export function dispatchActivities({ db, temporal }: ActivityDeps) {
  const { DispatchBatch, DispatchRow: Rows, AdaptorException } = db.models;
  return {
    /**
     * Hands every order in the batch its rows. Orders are visited in id order and the last order
     * of each finished window is heartbeated, so a retry after a crash resumes there; orders apply
     * rows idempotently, so the few re-sent after a crash change nothing.
     */
    async signalOrdersInBatch({ batchId }: { batchId: string }): Promise<{ ordersSignalled: number }> {
      const ctx = Context.current();
      const resumeAfter = ctx.info.heartbeatDetails as string | undefined;
      const batch = await DispatchBatch.findOne({ batchId }).lean();
      if (!batch) throw new Error(`dispatch batch ${batchId} not found`);
      await DispatchBatch.updateOne({ batchId, status: 'received' }, { $set: { status: 'signalling' } });

      const filter = resumeAfter ? { batchId, orderId: { $gt: resumeAfter } } : { batchId };
      const cursor = Rows.find(filter, { orderId: 1, row: 1, _id: 0 }).sort({ orderId: 1 }).lean().cursor();
      let signalled = resumeAfter ? (batch.signalled ?? 0) : 0;
      let window: { orderId: string; rows: DispatchRow[] }[] = [];
      let current: { orderId: string; rows: DispatchRow[] } | null = null;

      const flush = async () => {
        await Promise.all(window.map((g) => signalOrder(g.orderId, g.rows)));
        signalled += window.length;
        const last = window[window.length - 1]?.orderId;
        window = [];
        if (last) {
          ctx.heartbeat(last);
          await DispatchBatch.updateOne({ batchId }, { $set: { signalled } });
        }
      };
      const signalOrder = async (orderId: string, rows: DispatchRow[]) => {
        rows.sort((a, b) => a.rowNumber - b.rowNumber);
        try {
          await temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(dispatchResultSignal, { batchId, warehouseId: batch.warehouseId, rows });
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
          // The order is closed (or never existed): the rows must not vanish, ops see them.
          const createdAt = new Date().toISOString();
          await AdaptorException.bulkWrite(
            rows.map((row) => ({
              updateOne: {
                filter: { batchId, rowNumber: row.rowNumber },
                update: { $setOnInsert: { batchId, rowNumber: row.rowNumber, warehouseId: batch.warehouseId, code: 'ORDER_CLOSED', message: `order ${orderId} is no longer waiting for dispatch results`, row, createdAt } },
                upsert: true,
              },
            })),
          );
        }
      };

      for await (const doc of cursor) {
        if (current && current.orderId !== doc.orderId) {
          window.push(current);
          current = null;
          if (window.length >= SIGNAL_WINDOW) await flush();
        }
        current ??= { orderId: doc.orderId, rows: [] };
        current.rows.push(doc.row as DispatchRow);
      }
      if (current) window.push(current);
      await flush();
      return { ordersSignalled: signalled };
    },

    async finishDispatchBatch({ batchId }: { batchId: string }): Promise<void> {
      await DispatchBatch.updateOne({ batchId }, { $set: { status: 'done' } });
    },
  };
}
