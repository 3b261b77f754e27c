import { createHash } from 'node:crypto';
import { normaliseAddressKey } from '../domain/fraud';
import type { OrderView } from '../workflows/messages';
import { isDuplicateKey } from '../infra/db';
import type { ActivityDeps } from './index';

export function orderActivities({ db }: ActivityDeps) {
  const { OrderView, Licence } = db.models;
  return {
    /** Writes the order's read model; an older revision never overwrites a newer one. */
    async projectOrder(view: OrderView): Promise<void> {
      const doc = {
        orderId: view.orderId,
        accountId: view.accountId,
        status: view.status,
        revision: view.revision,
        createdAt: view.createdAt,
        updatedAt: new Date().toISOString(),
        deliveryKey: view.delivery ? normaliseAddressKey(view.delivery.address) : undefined,
        state: view,
      };
      try {
        await OrderView.replaceOne({ orderId: view.orderId, revision: { $lt: view.revision } }, doc, { upsert: true });
      } catch (err) {
        // The upsert collided with a newer revision already stored: nothing to do.
        if (!isDuplicateKey(err)) throw err;
      }
    },

    /** Issues licence keys for software lines; the same order line and unit always get the same key. */
    async provisionLicences(input: { orderId: string; lines: { lineNumber: number; sku: string; quantity: number }[] }) {
      const issuedAt = new Date().toISOString();
      const out: { lineNumber: number; keys: string[] }[] = [];
      for (const line of input.lines) {
        const keys: string[] = [];
        for (let unit = 1; unit <= line.quantity; unit++) {
          const digest = createHash('sha256').update(`${input.orderId}:${line.lineNumber}:${unit}:${line.sku}`).digest('hex').toUpperCase();
          const key = `${line.sku}-${digest.slice(0, 5)}-${digest.slice(5, 10)}-${digest.slice(10, 15)}-${digest.slice(15, 20)}`;
          try {
            await Licence.create({ licenceKey: key, orderId: input.orderId, lineNumber: line.lineNumber, sku: line.sku, unit, issuedAt });
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
          keys.push(key);
        }
        out.push({ lineNumber: line.lineNumber, keys });
      }
      return out;
    },
  };
}
