// Shortage at allocation: a line no warehouse can fill waits for stock (backordered) instead of
// going to a warehouse that will answer out of stock; it is sent when stock arrives, expires into
// Error after the maximum wait, and can be cancelled meanwhile. ALLOCATION_SHORTAGE=send keeps the
// old behaviour. Short durations come from configuration.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderWorkflowId } from '../../workflows/messages';
import { addLine, createOrder, generate, notes, outboxFiles, waitForOrder, waitForStatus } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';
import { replayAndRecord } from '../support/replay';

const filesOf = (sys: TestSystem, orderId: string) =>
  sys.config.warehouses.ids.flatMap((w) =>
    outboxFiles(sys, w)
      .filter((f) => f.startsWith(orderId))
      .map((f) => `${w}/${f}`),
  );

async function generatedOrder(sys: TestSystem, sku: string, quantity: number): Promise<string> {
  const { orderId } = await createOrder(sys, 'ACC-1001');
  await addLine(sys, orderId, sku, quantity);
  await generate(sys, orderId);
  return orderId;
}

describe('ALLOCATION_SHORTAGE=backorder (the default)', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ env: { BACKORDER_RECHECK: '1s', BACKORDER_MAX_WAIT: '8s' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('holds a line no warehouse can fill, flagged, and sends it to the warehouse that receives stock', async () => {
    for (const w of ['WH-NORTH', 'WH-SOUTH']) sys.simulator.setStock(w, 'PR-ROUTER-5G', 1);
    const orderId = await generatedOrder(sys, 'PR-ROUTER-5G', 3);
    const held = await waitForOrder(sys, orderId, (o) => !!o.backorder, 'backordered');
    expect(held.status).toBe('AwaitingGeneration');
    expect(held.backorder).toMatchObject({ shortages: [{ sku: 'PR-ROUTER-5G', lineNumbers: [1], requested: 3, available: 2 }] });
    expect(Date.parse(held.backorder.expiresAt) - Date.parse(held.backorder.since)).toBe(8_000);
    expect(notes(held).at(-1)).toMatch(/^backordered until stock arrives .*: PR-ROUTER-5G 2 of 3$/);
    expect(filesOf(sys, orderId)).toEqual([]);

    // A delivery at WH-SOUTH: the next check finds enough, split where the stock is.
    sys.simulator.receiveStock('WH-SOUTH', 'PR-ROUTER-5G', 4);
    const sent = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    expect(sent.backorder).toBeNull();
    expect(notes(sent)).toContain('backorder released: the warehouses now hold every line');
    expect(sent.subOrders.map((s: any) => [s.warehouseId, s.lines.map((l: any) => l.quantity)])).toEqual([['WH-SOUTH', [3]]]);
    expect(filesOf(sys, orderId)).toEqual([`WH-SOUTH/${orderId}-WH-SOUTH-new.json`]);
  });

  it('does not send a line to a warehouse short of it while another can fill it', async () => {
    sys.simulator.setStock('WH-NORTH', 'PR-SAM-BUDS3', 0);
    sys.simulator.setStock('WH-SOUTH', 'PR-SAM-BUDS3', 5);
    const orderId = await generatedOrder(sys, 'PR-SAM-BUDS3', 2);
    const sent = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    expect(sent.subOrders.map((s: any) => s.warehouseId)).toEqual(['WH-SOUTH']);
    expect(notes(sent).filter((n) => n.startsWith('backorder'))).toEqual([]);
  });

  it('expires into Error BACKORDER_EXPIRED when no stock comes within the maximum wait', async () => {
    for (const w of ['WH-NORTH', 'WH-SOUTH']) sys.simulator.setStock(w, 'PR-GEN-CASE-IP16', 0);
    const orderId = await generatedOrder(sys, 'PR-GEN-CASE-IP16', 1);
    const failed = await waitForStatus(sys, orderId, 'Error', 60_000);
    expect(failed.error).toMatchObject({ code: 'BACKORDER_EXPIRED', message: 'no stock within 8s: PR-GEN-CASE-IP16 0 of 1' });
    expect(failed.backorder).toBeNull();
    expect(filesOf(sys, orderId)).toEqual([]);
    expect(await sys.db.models.Charge.countDocuments({ orderId })).toBe(0);
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    await replayAndRecord(sys.temporal, orderWorkflowId(orderId), 'order-backorder-expired');
  });

  it('can be cancelled while backordered: the wait ends at once and nothing goes out', async () => {
    for (const w of ['WH-NORTH', 'WH-SOUTH']) sys.simulator.setStock(w, 'PR-APL-USBC-20W', 0);
    const orderId = await generatedOrder(sys, 'PR-APL-USBC-20W', 1);
    await waitForOrder(sys, orderId, (o) => !!o.backorder, 'backordered');
    const r = await sys.call('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: 'customer found it elsewhere' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const cancelled = await waitForStatus(sys, orderId, 'Cancelled');
    expect(cancelled.backorder).toBeNull();
    sys.simulator.receiveStock('WH-NORTH', 'PR-APL-USBC-20W', 10);
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();
    expect(filesOf(sys, orderId)).toEqual([]);
  });
});

describe('ALLOCATION_SHORTAGE=send', () => {
  let sys: TestSystem;
  beforeAll(async () => {
    sys = await startSystem({ env: { ALLOCATION_SHORTAGE: 'send' } });
  });
  afterAll(async () => {
    await sys?.stop();
  });

  it('sends a short line anyway, to the warehouse with the most, and says so in the history', async () => {
    sys.simulator.setStock('WH-NORTH', 'PR-ROUTER-5G', 0);
    sys.simulator.setStock('WH-SOUTH', 'PR-ROUTER-5G', 1);
    const orderId = await generatedOrder(sys, 'PR-ROUTER-5G', 2);
    const sent = await waitForStatus(sys, orderId, 'AwaitingDispatch');
    expect(sent.backorder).toBeNull();
    expect(sent.subOrders.map((s: any) => s.warehouseId)).toEqual(['WH-SOUTH']);
    expect(notes(sent)).toContain('sent short of stock (ALLOCATION_SHORTAGE=send): PR-ROUTER-5G 1 of 2');
  });
});
