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
      // One workflow writes its order's projection, one write at a time, so read-then-write by _id
      // is safe; the revision check drops a retried or replayed older snapshot.
      const stored = await OrderView.findOne({ _id: view.orderId }, { revision: 1 }).lean();
      if (stored) {
        // The guard goes in the write itself too: a timed-out earlier attempt may still be in flight
        // with an older snapshot, and must not land over a newer one (seen in the chaos run).
        if (stored.revision < view.revision) await OrderView.replaceOne({ _id: view.orderId, revision: { $lt: view.revision } }, doc);
        return;
      }
      try {
        await OrderView.create({ _id: view.orderId, ...doc });
      } catch (err) {
        // Created meanwhile by an earlier attempt: write over it only if ours is newer.
        if (!isDuplicateKey(err)) throw err;
        await OrderView.replaceOne({ _id: view.orderId, revision: { $lt: view.revision } }, doc);
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
