// What a customer is charged for: exactly the units they received. One charge per order line per
// dispatch batch that shipped it (a partial then final shipment gives two), and one per licence
// line. The charge key is the business idempotency key: retries and replays find the same key.
import { lineAmounts } from './money';
import type { OrderState } from './order-state';

export interface ChargeDraft {
  chargeKey: string;
  lineNumber: number;
  sku: string;
  description: string;
  quantity: number;
  unitPrice: number;
  taxRateBps: number;
  amount: number;
  tax: number;
}

export function chargesForOrder(order: OrderState): ChargeDraft[] {
  const shipped = new Map<string, { lineNumber: number; batchId: string; quantity: number }>();
  for (const sub of order.subOrders) {
    for (const u of sub.units) {
      const k = `${u.lineNumber}:${u.batchId}`;
      const cur = shipped.get(k) ?? { lineNumber: u.lineNumber, batchId: u.batchId, quantity: 0 };
      cur.quantity += u.quantity;
      shipped.set(k, cur);
    }
  }
  const drafts: ChargeDraft[] = [];
  const draft = (key: string, lineNumber: number, quantity: number): void => {
    const line = order.lines.find((l) => l.lineNumber === lineNumber);
    if (!line || quantity <= 0) return;
    const { net, tax } = lineAmounts(line.unitPrice, quantity, line.taxRateBps);
    drafts.push({
      chargeKey: key,
      lineNumber,
      sku: line.sku,
      description: line.description,
      quantity,
      unitPrice: line.unitPrice,
      taxRateBps: line.taxRateBps,
      amount: net,
      tax,
    });
  };
  for (const s of shipped.values()) draft(`${order.orderId}:${s.lineNumber}:${s.batchId}`, s.lineNumber, s.quantity);
  for (const l of order.licences) draft(`${order.orderId}:${l.lineNumber}:licence`, l.lineNumber, l.keys.length);
  return drafts.sort((a, b) => a.lineNumber - b.lineNumber || a.chargeKey.localeCompare(b.chargeKey));
}
