import { ApplicationFailure } from '@temporalio/activity';
import { allocateLines } from '../domain/allocation';
import type { SalesOrderRequest, UnitCapture } from '../domain/types';
import { validateSalesOrderRequest } from '../infra/contracts';
import { WarehouseRejectedError } from '../infra/warehouse-transport';
import type { ActivityDeps } from './index';

export function warehouseActivities({ db, config, stock, transport }: ActivityDeps) {
  const { SalesOrder } = db.models;
  return {
    /** Chooses the warehouse(s) for the order's lines from their current stock. */
    async allocateWarehouses(input: { lines: { lineNumber: number; sku: string; quantity: number }[] }) {
      const order = config.warehouses.ids;
      if (!stock) return allocateLines(input.lines, [], order);
      const answers = await stock.check([...new Set(input.lines.map((l) => l.sku))]);
      if (answers.every((a) => a.error)) {
        // Retried with backoff by the workflow: allocating blind would send orders the warehouse cannot fill.
        throw new Error(`no warehouse answered the stock check: ${answers.map((a) => a.error!.message).join('; ')}`);
      }
      const levels = answers.flatMap((a) => (a.items ?? []).map((i) => ({ warehouseId: a.warehouseId, sku: i.sku, available: i.available })));
      return allocateLines(input.lines, levels, order);
    },

    /**
     * Sends one sales order. Validated against the published contract first; recorded under its
     * file id (unique), and the transport writes the same file name / idempotency key on a retry.
     */
    async sendSalesOrder(input: { request: SalesOrderRequest; lines: { lineNumber: number; sku: string; quantity: number; capture: UnitCapture }[] }) {
      const { request } = input;
      const valid = validateSalesOrderRequest(request);
      if (!valid.ok)
        throw ApplicationFailure.nonRetryable(`sales order ${request.fileId} breaks the contract: ${valid.errors.join('; ')}`, 'CONTRACT_VIOLATION');
      await SalesOrder.updateOne(
        { _id: request.fileId },
        {
          $setOnInsert: {
            fileId: request.fileId,
            subOrderNumber: request.subOrderNumber,
            purpose: request.purpose,
            orderId: request.depositorOrderNumber,
            warehouseId: request.warehouseId,
            lines: input.lines,
            request,
            transport: transport.nameFor?.(request.warehouseId) ?? transport.name,
          },
        },
        { upsert: true },
      );
      try {
        const { location } = await transport.send(request);
        // The first send's time: a retry that sent again later keeps it ($min, one write, no read).
        await SalesOrder.updateOne({ _id: request.fileId }, { $min: { sentAt: new Date().toISOString() } });
        return { fileId: request.fileId, location };
      } catch (err) {
        if (err instanceof WarehouseRejectedError) throw ApplicationFailure.nonRetryable(err.message, 'WAREHOUSE_REJECTED');
        throw err;
      }
    },
  };
}
