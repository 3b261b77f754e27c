// Error is resolvable: once what shipped is billed, an order in Error stays open for ops for
// ERROR_RESOLUTION_WINDOW. They resubmit what did not ship (new sub-orders `…-R<n>` after a fresh
// allocation, and a fresh fraud check when the delivery changed) or close it as it is; with no
// action the window closes it as Error. Close also ends an order whose cancellation went unanswered.
import { condition, setHandler } from '@temporalio/workflow';
import * as history from '../../domain/order-history';
import * as exceptions from '../../domain/order-exceptions';
import { closeUpdate, resubmitUpdate } from '../messages';
import { localSteps } from './activities';
import { validate } from './agent-actions';
import { SYSTEM, type OrderRecord } from './record';
import type { StuckOrders } from './stuck-orders';

/** A resubmission ops asked for: the next round of the Sales Order Request job. */
export interface Resubmission {
  round: number;
  fraudCheck: boolean;
}

export class ErrorResolution {
  requested: Resubmission | null = null;
}

export function handleResolutionActions(record: OrderRecord, resolution: ErrorResolution, stuck: StuckOrders): void {
  const { order } = record;
  setHandler(
    resubmitUpdate,
    (req) => {
      const { delivery, by, reason } = req;
      const plan = exceptions.checkResubmit(order, delivery);
      const before = order.delivery;
      const round = exceptions.applyResubmit(order, plan.addressChanged ? delivery : undefined);
      resolution.requested = { round, fraudCheck: plan.addressChanged };
      record.move('resubmit', by, `resubmitted (R${round})${plan.addressChanged ? ' to a corrected delivery address' : ''}: ${reason}`, {
        ...history.requestOf(req),
        ...(plan.addressChanged ? { changes: [history.deliveryChange(before, order.delivery)] } : {}),
      });
      return record.view();
    },
    { validator: ({ delivery }) => validate(() => exceptions.checkResubmit(order, delivery)) },
  );
  setHandler(
    closeUpdate,
    (req) => {
      const { by, reason } = req;
      if (order.status === 'Error') {
        order.errorResolution!.closed = { by, reason, at: record.now() };
        record.move('close', by, `closed as Error: ${reason}`, history.requestOf(req));
      } else {
        const subs = exceptions.applyCloseUnanswered(order);
        stuck.closedBy = { by, reason };
        record.commit({ by, reason: `closed with the cancellation unanswered (${subs.join(', ')} taken as cancelled): ${reason}`, ...history.requestOf(req) });
      }
      return record.view();
    },
    { validator: (_req) => validate(() => exceptions.checkClose(order)) },
  );
}

/**
 * An order in Error waits for ops within the resolution window. Returns the resubmission they
 * asked for, or null once the order is closed (by them or by the window passing).
 */
export async function awaitResolution(record: OrderRecord, resolution: ErrorResolution): Promise<Resubmission | null> {
  const { order } = record;
  if (order.status !== 'Error') return null;
  const { errorResolutionWindow, errorResolutionWindowMs } = await localSteps.errorResolutionPolicy();
  order.errorResolution = { openUntil: new Date(Date.parse(record.now()) + errorResolutionWindowMs).toISOString(), closed: null };
  record.commit();
  const acted = await condition(() => order.status !== 'Error' || !!order.errorResolution?.closed, errorResolutionWindowMs);
  if (!acted) {
    const reason = `no ops action within ${errorResolutionWindow} (ERROR_RESOLUTION_WINDOW)`;
    order.errorResolution.closed = { by: SYSTEM, reason, at: record.now() };
    record.move('resolutionExpired', SYSTEM, reason);
    return null;
  }
  const requested = resolution.requested;
  resolution.requested = null;
  return order.status === 'Error' ? null : requested;
}
