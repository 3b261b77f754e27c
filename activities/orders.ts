import { ApplicationFailure, Context } from '@temporalio/activity';
import { msToNumber, type Duration } from '@temporalio/common';
import { createHash } from 'node:crypto';
import type { Config } from '../infra/config';
import type { OrderView } from '../workflows/messages';
import { isDuplicateKey } from '../infra/db';
import type { OrderViewWriter } from '../infra/store/order-views';
import { withBill } from '../domain/billing';
import type { DispatchDeadlines } from '../domain/order-exceptions';
import type { BilledOrder, BillingLedger, RecordChargesInput } from './billing';
import type { ActivityDeps } from './index';

export function dispatchDeadlinesOf(config: Config): DispatchDeadlines {
  const ms = (d: string) => msToNumber(d as Duration);
  return {
    defaultDispatchSlaMs: ms(config.exceptions.dispatchSla),
    dispatchSlaMs: Object.fromEntries(
      Object.entries(config.warehouses.exchanges).flatMap(([id, w]) => (w.dispatchSla ? [[id, ms(w.dispatchSla)] as const] : [])),
    ) as Record<string, number>,
    cancelAnswerTimeoutMs: ms(config.exceptions.cancelAnswerTimeout),
  };
}

export function orderActivities({ db, config }: ActivityDeps, writeOrderView: OrderViewWriter, ledger: BillingLedger) {
  const { Licence } = db.models;
  const ms = (d: string) => msToNumber(d as Duration);

  return {
    /** How long an order in Error stays open for ops (ERROR_RESOLUTION_WINDOW), read when it gets there. */
    errorResolutionPolicy: async () => ({
      errorResolutionWindow: config.exceptions.errorResolutionWindow,
      errorResolutionWindowMs: ms(config.exceptions.errorResolutionWindow),
    }),

    /** The dispatch deadlines in force now (`dispatchDeadlinesOf`), for an order that reached Awaiting Dispatch without an allocation of this worker's. */
    stuckOrderPolicy: async (): Promise<DispatchDeadlines> => dispatchDeadlinesOf(config),

    /**
     * The order's read model, as the workflow sees it now (a local activity once a workflow task has
     * changed it). `stored`: the revision the workflow knows the read model holds.
     */
    projectOrder: ({ view, stored }: { view: OrderView; stored: number }): Promise<void> =>
      writeOrderView(view, Context.current().cancellationSignal, { stored }),

    /**
     * Bills the order (`billOrder`) and writes its read model with the bill: `view` is the order as
     * it was before, so the view written is the next revision with the bill's outcome (`withBill`),
     * as the workflow records it. One step where there were two.
     */
    async billOrderAndShow(input: RecordChargesInput & { view: OrderView }): Promise<BilledOrder> {
      const { view, ...bill } = input;
      const billed = await ledger.billOrder(bill);
      await writeOrderView({ ...withBill(view, billed), revision: view.revision + 1 }, Context.current().cancellationSignal);
      return billed;
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
            await Licence.create({ _id: key, licenceKey: key, orderId: input.orderId, lineNumber: line.lineNumber, sku: line.sku, unit, issuedAt });
          } catch (err) {
            if (!isDuplicateKey(err)) throw err;
          }
          keys.push(key);
        }
        out.push({ lineNumber: line.lineNumber, keys });
      }
      return out;
    },

    /**
     * Revokes an order's licence keys: the order ended without delivering, or a return of them was
     * received (`rmaId`). Each key once: a key already revoked keeps its first revocation, so a
     * retry answers the same time. By `_id` only.
     */
    async revokeLicences(input: { orderId: string; keys: string[]; reason: string; rmaId?: string }): Promise<{ revokedAt: string }> {
      const now = new Date().toISOString();
      const times = await Promise.all(
        input.keys.map(async (key) => {
          type Held = { _id: unknown; orderId: string; revokedAt: string | null };
          // A key issued before licences were stored under their key has another _id: found by key (a scan on FerretDB, once).
          const held =
            (await Licence.findOne({ _id: key }, { orderId: 1, revokedAt: 1 }).lean<Held>()) ??
            (await Licence.findOne({ licenceKey: key }, { orderId: 1, revokedAt: 1 }).lean<Held>());
          if (!held || held.orderId !== input.orderId)
            throw ApplicationFailure.nonRetryable(`licence ${key} was not issued for order ${input.orderId}`, 'LICENCE_NOT_FOUND');
          if (held.revokedAt) return held.revokedAt;
          // Writers never race for a key: the order's workflow revokes only what never delivered, a return only what did.
          await Licence.updateOne(
            { _id: held._id as string },
            { $set: { revokedAt: now, revokedReason: input.reason, ...(input.rmaId ? { revokedFor: input.rmaId } : {}) } },
          );
          return now;
        }),
      );
      return { revokedAt: times.sort()[0] ?? now };
    },
  };
}
