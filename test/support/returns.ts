// Orders shipped to a customer, for the return tests: placed through the API, their sales orders
// taken from the outbox (the test plays the warehouse), shipped by a response file with the ship
// date the test chooses, and billed. Plus the balance check as a test helper.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { RETURNS_STARTED_HINT } from '../../activities/returns';
import { accountBalanceCheck } from '../../infra/balance-check';
import { warehouseFolders } from '../../infra/config';
import { orderWorkflowId } from '../../workflows/messages';
import { deliver, shippedRows, type ResponseRow } from './dispatch-fixtures';
import { eventually, type TestSystem } from './system';

export const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

/** Places, generates and ships an order (every unit, IMEIs/serials made up), then waits until it is billed. */
export async function shippedOrder(sys: TestSystem, accountId: string, lines: { sku: string; quantity: number }[], shipDate = daysAgo(0)): Promise<any> {
  const created = await sys.call('POST', `/api/v1/accounts/${accountId}/orders`, { body: {} });
  expect(created.status).toBe(201);
  const orderId: string = created.body.orderId;
  for (const l of lines) expect((await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body: l })).status).toBe(200);
  expect((await sys.call('POST', `/api/v1/orders/${orderId}/generate`)).status).toBe(200);
  const order = await eventually(async () => {
    const o = (await sys.call('GET', `/api/v1/orders/${orderId}`)).body;
    return (o.status === 'AwaitingDispatch' || o.status === 'Complete') && o;
  }, `${orderId} sent`);
  for (const s of order.subOrders)
    fs.rmSync(path.join(warehouseFolders(sys.config.dataDir, s.warehouseId).outbox, `${s.subOrderNumber}-new.json`), { force: true });
  const byWarehouse = new Map<string, ResponseRow[]>();
  for (const row of shippedRows(order, { shipDate })) {
    const w = String(row.warehouse_id);
    byWarehouse.set(w, [...(byWarehouse.get(w) ?? []), row]);
  }
  for (const [warehouseId, rows] of byWarehouse) await deliver(sys, warehouseId, `ship-${orderId}-${warehouseId}.csv`, rows);
  await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
  return (await sys.call('GET', `/api/v1/orders/${orderId}`)).body;
}

/** The order's devices' IMEIs (or serials), in line order. */
export const unitsOf = (order: any): string[] => order.subOrders.flatMap((s: any) => s.units.map((u: any) => u.imei ?? u.serialNumber).filter(Boolean));

/** The balance check holds for the account (the ops endpoint's check, read straight from the database). */
export async function expectBalanced(sys: TestSystem, accountId: string) {
  const check = await accountBalanceCheck(sys.db, accountId);
  expect(check.problems).toEqual([]);
  expect(check.ok).toBe(true);
  return check;
}

/**
 * Test systems share one Temporal namespace but each has its own database, whose RMA numbers all
 * start at 1: each system starts its numbers at an offset of its own so `return-<rmaId>` workflow
 * ids never meet (the hint only says where the number search starts).
 */
export async function ownRmaNumbers(sys: TestSystem): Promise<void> {
  const offset = (1 + Math.floor(Math.random() * 9_000)) * 10_000;
  await sys.db.models.SequenceHint.updateOne({ _id: 'rma' }, { $max: { last: offset } }, { upsert: true });
  // The orphaned returns job walks the chain from here (numbers below the offset never exist).
  await sys.db.models.SequenceHint.updateOne({ _id: RETURNS_STARTED_HINT }, { $max: { last: offset } }, { upsert: true });
}
