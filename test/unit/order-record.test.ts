// The order's one way to record a change (workflows/order/record.ts): one revision per change,
// ops' attributes and summary only when they changed, and read-model writes coalesced per task.
import { describe, expect, it } from 'vitest';
import { applyAddLine, applySetBillingMode, newOrder } from '../../domain/order-state';
import type { DeliveryContact, Product } from '../../domain/types';
import { OrderRecord, summaryOf, type OrderAttributes } from '../../workflows/order/record';

const AT = '2025-03-01T10:00:00.000Z';
const delivery: DeliveryContact = {
  name: 'Alice Johnson',
  phone: '+44 7700 900123',
  address: { lines: ['12 Market Street'], city: 'Leeds', postcode: 'LS1 6DT', country: 'GB' },
};
const product: Product = {
  sku: 'HS-APL-IP16-128',
  name: 'iPhone 16',
  kind: 'handset',
  unitPrice: 79900,
  currency: 'GBP',
  taxRateBps: 2000,
  capture: 'imei',
  manufacturer: 'apple',
  enrolmentProgrammes: ['apple'],
  active: true,
};
const started: Partial<OrderAttributes> = { OrderStatus: 'New', AccountId: 'ACC-1', BillingMode: 'immediate' };

function open(startAttributes = started) {
  const upserts: Partial<OrderAttributes>[] = [];
  const details: string[] = [];
  const transitions: string[] = [];
  const order = newOrder({ orderId: 'ORD-1', accountId: 'ACC-1', currency: 'GBP', createdBy: 'agent:a1', delivery, billingMode: 'immediate' }, AT);
  const record = new OrderRecord(
    order,
    {
      publishAttributes: (c) => upserts.push(c),
      showDetails: (t) => details.push(t),
      now: () => AT,
      countTransition: (event, status) => transitions.push(`${event}→${status}`),
    },
    startAttributes,
  );
  return { record, order, upserts, details, transitions };
}

/** What the projector does at the end of a workflow task: take a snapshot and write it. */
function project(record: OrderRecord) {
  const snapshot = record.takeSnapshot();
  record.snapshotWritten(snapshot);
  return snapshot;
}

describe('OrderRecord', () => {
  it('moves the revision once per commit, with a history entry only when asked', () => {
    const { record, order } = open();
    expect(order.revision).toBe(1);
    applyAddLine(order, { product, quantity: 1 });
    record.commit();
    expect(order.revision).toBe(2);
    expect(order.history).toHaveLength(1);
    record.commit({ by: 'agent:a1', reason: 'cancellation requested: customer changed mind' });
    expect(order.revision).toBe(3);
    expect(order.history.at(-1)).toEqual({ from: 'New', to: 'New', at: AT, by: 'agent:a1', reason: 'cancellation requested: customer changed mind' });
    record.move('generate', 'agent:a1', 'agent generated the order');
    expect(order).toMatchObject({ status: 'AwaitingGeneration', revision: 4 });
    expect(order.history.at(-1)).toMatchObject({ from: 'New', to: 'AwaitingGeneration', by: 'agent:a1' });
  });

  it('records a failure as the rejected transition with its code, and counts each transition once', () => {
    const { record, order, transitions } = open();
    record.move('generate', 'agent:a1', 'generated');
    record.fail('FRAUD_REJECTED', 'fraud check rejected the delivery');
    record.commit({ by: 'ops:o1', reason: 'a note, not a transition' });
    expect(transitions).toEqual(['generate→AwaitingGeneration', 'rejected→Error']);
    expect(order).toMatchObject({ status: 'Error', error: { code: 'FRAUD_REJECTED', message: 'fraud check rejected the delivery' } });
    expect(order.history.at(-2)).toMatchObject({ to: 'Error', by: 'system', reason: 'FRAUD_REJECTED: fraud check rejected the delivery' });
  });

  it('upserts only the attributes that changed, once per snapshot however many changes came before', () => {
    const { record, order, upserts } = open();
    project(record);
    expect(upserts).toEqual([]); // the start options already carried them; no warehouses yet
    applySetBillingMode(order, 'nextInvoice');
    record.commit();
    record.move('generate', 'agent:a1', 'generated');
    order.subOrders = [{ subOrderNumber: 'ORD-1-WH-NORTH', warehouseId: 'WH-NORTH', lines: [], status: 'Pending', units: [], lineExceptions: [] }];
    record.commit();
    expect(upserts).toEqual([]); // nothing until the task's snapshot
    project(record);
    expect(upserts).toEqual([{ OrderStatus: 'AwaitingGeneration', BillingMode: 'nextInvoice', WarehouseIds: ['WH-NORTH'] }]);
    record.commit();
    project(record);
    expect(upserts).toHaveLength(1);
  });

  it('upserts every attribute the start did not carry', () => {
    const { record, upserts } = open({});
    project(record);
    expect(upserts).toEqual([{ OrderStatus: 'New', AccountId: 'ACC-1', BillingMode: 'immediate' }]);
  });

  it('shows the summary line when it changes, and only then', () => {
    const { record, order, details } = open();
    expect(details).toEqual([summaryOf(order)]);
    record.commit();
    project(record);
    expect(details).toHaveLength(1);
    applyAddLine(order, { product, quantity: 2 });
    record.commit();
    project(record);
    expect(details.at(-1)).toBe('**New** · 1 line · 191760 GBP minor units');
    order.fraud = { required: true, reasons: ['ADDRESS_MISMATCH'] };
    record.commit();
    project(record);
    expect(details.at(-1)).toContain('fraud check [ADDRESS_MISMATCH]: pending');
    expect(details).toHaveLength(3);
  });

  it('coalesces changes into one read-model write, one write at a time', () => {
    const { record, order } = open();
    expect(record.isProjected()).toBe(true); // the opener stored the order as opened
    expect(record.needsProjection()).toBe(false);
    expect(record.storedRevision()).toBe(1);

    record.move('generate', 'agent:a1', 'generated');
    record.commit();
    const first = record.takeSnapshot();
    expect(first.revision).toBe(3); // both changes in one write
    record.commit(); // made while the write is under way
    expect(record.needsProjection()).toBe(false); // never two writes in flight
    expect(record.isProjected()).toBe(false);
    record.snapshotWritten(first);
    expect(record.storedRevision()).toBe(3);
    expect(record.needsProjection()).toBe(true);
    expect(project(record).revision).toBe(order.revision);
    expect(record.isProjected()).toBe(true);
  });

  it('never writes a New order: its edits go with the generate that ends New', () => {
    const { record, order } = open();
    applyAddLine(order, { product, quantity: 1 });
    record.commit();
    applySetBillingMode(order, 'nextInvoice');
    record.commit();
    expect(record.needsProjection()).toBe(false); // read from the workflow's query meanwhile
    record.move('generate', 'agent:a1', 'generated');
    expect(record.needsProjection()).toBe(true);
    const written = project(record);
    expect(written).toMatchObject({ status: 'AwaitingGeneration', revision: 4, billingMode: 'nextInvoice' });
    expect(written.lines).toHaveLength(1);
  });

  it('holds the first write after New while an outside step runs, and only that one', async () => {
    const { record } = open();
    record.move('generate', 'agent:a1', 'generated');
    let answer!: (v: string) => void;
    const fraudCheck = record.inOutsideStep(new Promise<string>((r) => (answer = r)));
    expect(record.needsProjection()).toBe(false); // still stored as opened: the API asks the workflow
    answer('accept');
    expect(await fraudCheck).toBe('accept');
    expect(record.needsProjection()).toBe(true);

    const failing = record.inOutsideStep(Promise.reject(new Error('warehouse down')));
    expect(record.needsProjection()).toBe(false);
    await expect(failing).rejects.toThrow('warehouse down');
    expect(record.needsProjection()).toBe(true); // a failed step does not hold the write forever

    project(record); // stored beyond New: later outside steps do not hold the write
    record.commit();
    const resend = record.inOutsideStep(new Promise<string>(() => {}));
    expect(record.needsProjection()).toBe(true);
    void resend;
  });

  it('lets a step write the view itself with its outcome (billing), or give it back when it fails', () => {
    const { record, order } = open();
    record.move('generate', 'agent:a1', 'generated');
    expect(record.writeIdle()).toBe(true);
    const before = record.takeSnapshot();
    expect(record.writeIdle()).toBe(false);
    expect(record.needsProjection()).toBe(false); // the step writes it
    record.snapshotAbandoned();
    expect(record.needsProjection()).toBe(true); // the projector writes it after all

    const view = record.takeSnapshot();
    order.invoiceNumber = 'INV-00000001';
    record.commit();
    record.snapshotWritten({ revision: view.revision + 1, status: view.status });
    expect(view.revision).toBe(before.revision);
    expect(record.isProjected()).toBe(true);
  });

  it('holds the write back while a step whose outcome the order acts on is running', async () => {
    const { record } = open();
    record.move('generate', 'agent:a1', 'generated');
    let finish!: (v: string) => void;
    const step = record.inStep(new Promise<string>((r) => (finish = r)));
    expect(record.needsProjection()).toBe(false);
    finish('allocated');
    expect(await step).toBe('allocated');
    expect(record.needsProjection()).toBe(true);

    const failing = record.inStep(Promise.reject(new Error('stock check failed')));
    expect(record.needsProjection()).toBe(false);
    await expect(failing).rejects.toThrow('stock check failed');
    expect(record.needsProjection()).toBe(true); // a failed step does not hold the write forever
  });

  it('keeps the view totals and allowed actions with the state', () => {
    const { record, order } = open();
    applyAddLine(order, { product, quantity: 1 });
    record.commit();
    expect(record.view()).toMatchObject({ totals: { net: 79900, tax: 15980, gross: 95880 }, allowedActions: expect.arrayContaining(['generate', 'cancel']) });
  });
});
