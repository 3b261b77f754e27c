import { ApplicationFailure } from '@temporalio/activity';
import { msToNumber, type Duration } from '@temporalio/common';
import { allocateLines, findShortages, type StockShortage, type WarehouseAllocation } from '../domain/allocation';
import type { Config } from '../infra/config';
import type { SalesOrderRequest, UnitCapture } from '../domain/types';
import { validateSalesOrderRequest } from '../infra/contracts';
import { WarehouseRejectedError } from '../infra/warehouse-transport';
import type { ActivityDeps } from './index';
import type { DispatchDeadlines } from '../domain/order-exceptions';
import { dispatchDeadlinesOf } from './orders';

export interface AllocationDecision {
  allocation: WarehouseAllocation[];
  /** False when this deployment has no stock interface: allocated by preference alone. */
  stockChecked: boolean;
  shortages: StockShortage[];
  policy: Config['allocation'] & { backorderRecheckMs: number; backorderMaxWaitMs: number };
  /** The dispatch deadlines the sales orders about to go out will run under (read here: no step of its own). */
  dispatchDeadlines: DispatchDeadlines;
}

export function warehouseActivities({ db, config, stock, transport }: ActivityDeps) {
  const { SalesOrder } = db.models;
  return {
    /**
     * Chooses the warehouse(s) for the order's lines from their current stock, and says what no
     * warehouse can fill and what the shortage policy is (the workflow holds or sends such lines).
     */
    async allocateWarehouses(input: { lines: { lineNumber: number; sku: string; quantity: number }[] }): Promise<AllocationDecision> {
      const order = config.warehouses.ids;
      const { allocation } = config;
      const policy = {
        ...allocation,
        backorderRecheckMs: msToNumber(allocation.backorderRecheck as Duration),
        backorderMaxWaitMs: msToNumber(allocation.backorderMaxWait as Duration),
      };
      const dispatchDeadlines = dispatchDeadlinesOf(config);
      if (!stock) return { allocation: allocateLines(input.lines, [], order), stockChecked: false, shortages: [], policy, dispatchDeadlines };
      const answers = await stock.check([...new Set(input.lines.map((l) => l.sku))]);
      if (answers.every((a) => a.error)) {
        // Retried with backoff by the workflow: allocating blind would send orders the warehouse cannot fill.
        throw new Error(`no warehouse answered the stock check: ${answers.map((a) => a.error!.message).join('; ')}`);
      }
      const levels = answers.flatMap((a) => (a.items ?? []).map((i) => ({ warehouseId: a.warehouseId, sku: i.sku, available: i.available })));
      return {
        allocation: allocateLines(input.lines, levels, order),
        stockChecked: true,
        shortages: findShortages(input.lines, levels, order),
        policy,
        dispatchDeadlines,
      };
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
