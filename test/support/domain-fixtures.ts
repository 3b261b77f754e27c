// Building blocks for the pure domain tests (no servers): a product and an order sent whole to
// one warehouse, each with defaults a test overrides where it matters.
import { applyAddLine, newOrder, type OrderState } from '../../domain/order-state';
import type { Product } from '../../domain/types';

/** A GBP peripheral at £10.00 and 20 % VAT, no serials captured, unless told otherwise. */
export const testProduct = (over: Partial<Product> & { sku: string }): Product => ({
  name: `${over.sku} name`,
  kind: 'peripheral',
  unitPrice: 1000,
  currency: 'GBP',
  taxRateBps: 2000,
  capture: 'none',
  enrolmentProgrammes: [],
  active: true,
  ...over,
});

/** A new order with the lines, then sent to one warehouse as one sub-order `<orderId>-<warehouseId>` (licence lines stay off it). */
export function orderSentToOneWarehouse(
  lines: { p: Product; quantity: number }[],
  o: { orderId: string; createdAt: string; warehouseId?: string },
): OrderState {
  const warehouseId = o.warehouseId ?? 'WH-A';
  const order = newOrder(
    { orderId: o.orderId, accountId: 'ACC-1', currency: 'GBP', createdBy: 'agent:t', delivery: null, billingMode: 'immediate' },
    o.createdAt,
  );
  for (const l of lines) applyAddLine(order, { product: l.p, quantity: l.quantity });
  order.subOrders = [
    {
      subOrderNumber: `${o.orderId}-${warehouseId}`,
      warehouseId,
      lines: order.lines.filter((l) => l.kind !== 'softwareLicence').map((l) => ({ lineNumber: l.lineNumber, sku: l.sku, quantity: l.quantity })),
      status: 'Sent',
      units: [],
      lineExceptions: [],
    },
  ];
  return order;
}
