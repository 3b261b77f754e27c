// Awaiting Dispatch: the Sales Order Dispatch job signals each order with its rows of a warehouse
// response file, until every sub-order is resolved (Complete, Error or Cancelled).
import { condition, log, setHandler } from '@temporalio/workflow';
import * as rules from '../../domain/order-state';
import { dispatchResultSignal } from '../messages';
import { SYSTEM, type OrderRecord } from './record';
import { sendSalesOrders } from './sales-order-request';

export function handleDispatchResults(record: OrderRecord): void {
  setHandler(dispatchResultSignal, ({ batchId, rows }) => {
    const { applied, ignored } = rules.applyDispatchRows(record.order, batchId, rows);
    if (applied) record.commit();
    if (ignored) log.info('dispatch rows ignored as already applied or not ours', { batchId, applied, ignored });
  });
}

/** Waits for the warehouses' results; an agent's cancellation request is passed on to them. */
export async function awaitDispatch(record: OrderRecord): Promise<void> {
  const { order } = record;
  let cancellationSent = false;
  const cancellationToSend = () => order.cancellationRequested && !cancellationSent;
  for (;;) {
    await condition(() => rules.dispatchOutcome(order) !== undefined || cancellationToSend());
    if (cancellationToSend()) {
      cancellationSent = true;
      await sendSalesOrders(record, 'cancel');
      continue;
    }
    const outcome = rules.dispatchOutcome(order)!;
    const errored = order.subOrders.find((s) => s.status === 'Error');
    if (errored?.error) order.error = errored.error;
    record.move(
      outcome,
      SYSTEM,
      outcome === 'dispatchError' ? `warehouse ${errored!.warehouseId}: ${errored!.error?.code}` : 'warehouse dispatch results applied',
    );
    return;
  }
}
