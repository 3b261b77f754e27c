// The order state machine: the transition table for every status × event, every agent action in
// every status, and dispatch rows applied to sub-orders (idempotently).
import { describe, expect, it } from 'vitest';
import { DomainError, type ErrorCode } from '../../domain/errors';
import { checkRequestEnrolment } from '../../domain/enrolment';
import {
  RESOLUTION_EVENTS,
  TERMINAL_STATUSES,
  TRANSITIONS,
  allowedActions,
  applyAddLine,
  applyChangeLine,
  applyDispatchRows,
  applyRemoveLine,
  applySetBillingMode,
  applySetDelivery,
  checkAddLine,
  checkCancel,
  checkChangeLine,
  checkGenerate,
  checkRemoveLine,
  checkSetBillingMode,
  checkSetDelivery,
  deliveryProblems,
  dispatchOutcome,
  isTerminal,
  newOrder,
  nextStatus,
  rowKey,
  shippedByLine,
  shippedQuantity,
  subOrderStatus,
  transition,
  MAX_EDITS_WHILE_NEW,
  type AgentAction,
  type OrderEvent,
  type OrderState,
} from '../../domain/order-state';
import { ORDER_STATUSES, type DeliveryContact, type DispatchRow, type OrderStatus, type Product, type SubOrder } from '../../domain/types';

const AT = '2025-03-01T10:00:00.000Z';
const EVENTS: OrderEvent[] = [
  'generate',
  'cancel',
  'sentToWarehouse',
  'fulfilledWithoutWarehouse',
  'rejected',
  'dispatchComplete',
  'dispatchError',
  'cancellationConfirmed',
  'resubmit',
  'close',
  'resolutionExpired',
];

/** The product's state machine, written out independently of the module under test. */
const EXPECTED: [OrderStatus, OrderEvent, OrderStatus][] = [
  ['New', 'generate', 'AwaitingGeneration'],
  ['New', 'cancel', 'Cancelled'],
  ['AwaitingGeneration', 'cancel', 'Cancelled'],
  ['AwaitingGeneration', 'sentToWarehouse', 'AwaitingDispatch'],
  ['AwaitingGeneration', 'fulfilledWithoutWarehouse', 'Complete'],
  ['AwaitingGeneration', 'rejected', 'Error'],
  ['AwaitingDispatch', 'dispatchComplete', 'Complete'],
  ['AwaitingDispatch', 'dispatchError', 'Error'],
  ['AwaitingDispatch', 'cancellationConfirmed', 'Cancelled'],
  // Error: ops resubmit what did not ship, or close it; the resolution window closes it otherwise.
  ['Error', 'resubmit', 'AwaitingGeneration'],
  ['Error', 'close', 'Error'],
  ['Error', 'resolutionExpired', 'Error'],
];
const expectedNext = (s: OrderStatus, e: OrderEvent) => EXPECTED.find(([from, ev]) => from === s && ev === e)?.[2];

const delivery: DeliveryContact = {
  name: 'Alice Johnson',
  phone: '+44 7700 900123',
  address: { lines: ['12 Market Street'], city: 'Leeds', postcode: 'LS1 6DT', country: 'GB' },
};

const product = (over: Partial<Product> = {}): Product => ({
  sku: 'HS-APL-IP16-128',
  name: 'iPhone 16 128GB Black',
  kind: 'handset',
  unitPrice: 79900,
  currency: 'GBP',
  taxRateBps: 2000,
  capture: 'imei',
  manufacturer: 'apple',
  enrolmentProgrammes: ['apple'],
  active: true,
  ...over,
});

function order(status: OrderStatus = 'New', over: Partial<OrderState> = {}): OrderState {
  const o = newOrder({ orderId: 'ORD-1', accountId: 'ACC-1', currency: 'GBP', createdBy: 'agent:a1', delivery, billingMode: 'immediate' }, AT);
  applyAddLine(o, { product: product(), quantity: 2 });
  o.status = status;
  if (status === 'AwaitingDispatch') o.sendStarted = true;
  return Object.assign(o, over);
}

/** Runs a check and returns the domain code it refused with, or 'ok'. */
function outcome(check: () => unknown): ErrorCode | 'ok' {
  try {
    check();
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

describe('transition table', () => {
  it('covers exactly the product statuses, and only terminal ones have no way out', () => {
    expect(Object.keys(TRANSITIONS).sort()).toEqual([...ORDER_STATUSES].sort());
    expect([...TERMINAL_STATUSES].sort()).toEqual(['Cancelled', 'Complete', 'Error']);
    // A terminal status has no way out but ops' resolution of an Error.
    for (const s of ORDER_STATUSES) {
      const out = Object.keys(TRANSITIONS[s]).filter((e) => !RESOLUTION_EVENTS.includes(e as OrderEvent));
      expect(isTerminal(s)).toBe(out.length === 0);
    }
    expect(Object.keys(TRANSITIONS.Error).sort()).toEqual([...RESOLUTION_EVENTS].sort());
  });

  for (const status of ORDER_STATUSES) {
    for (const event of EVENTS) {
      const to = expectedNext(status, event);
      it(`${status} + ${event} → ${to ?? 'refused'}`, () => {
        expect(nextStatus(status, event)).toBe(to);
        const o = order(status);
        const before = structuredClone(o);
        if (to) {
          transition(o, event, AT, 'agent:a1', 'because');
          expect(o.status).toBe(to);
          expect(o.history.at(-1)).toEqual({ from: status, to, at: AT, by: 'agent:a1', reason: 'because' });
          expect(o.revision).toBe(before.revision); // the workflow's commit moves it, once per change
        } else {
          expect(outcome(() => transition(o, event, AT, 'agent:a1', 'because'))).toBe('INVALID_TRANSITION');
          expect(o).toEqual(before); // a refusal leaves no trace
        }
      });
    }
  }

  it('a backorder ends with Awaiting Generation: cancelled, failed or sent', () => {
    for (const event of ['cancel', 'rejected', 'sentToWarehouse'] as const) {
      const o = order('AwaitingGeneration');
      o.backorder = { since: AT, shortages: [{ sku: 'A', lineNumbers: [1], requested: 2, available: 0 }], lastCheckedAt: AT, expiresAt: AT };
      transition(o, event, AT, 'system', 'because');
      expect(o.backorder).toBeNull();
    }
  });

  it('has no transition besides the expected ones', () => {
    const all = ORDER_STATUSES.flatMap((s) => Object.entries(TRANSITIONS[s]).map(([e, to]) => [s, e, to]));
    expect(all).toHaveLength(EXPECTED.length);
  });

  it('a new order starts New with one history entry', () => {
    const o = newOrder({ orderId: 'ORD-9', accountId: 'ACC-1', currency: 'GBP', createdBy: 'agent:a1', delivery: null, billingMode: 'nextInvoice' }, AT);
    expect(o).toMatchObject({ status: 'New', lines: [], nextLineNumber: 1, sendStarted: false, cancellationRequested: false, revision: 1 });
    expect(o.history).toEqual([{ from: null, to: 'New', at: AT, by: 'agent:a1', reason: 'order created' }]);
  });
});

describe('allowedActions', () => {
  const ALL: AgentAction[] = ['editLines', 'setDelivery', 'setBillingMode', 'requestEnrolment', 'generate', 'cancel'];
  const cases: [OrderStatus, Partial<OrderState>, AgentAction[]][] = [
    ['New', {}, ALL],
    ['AwaitingGeneration', {}, ['cancel']],
    ['AwaitingGeneration', { sendStarted: true }, ['cancel']],
    ['AwaitingGeneration', { sendStarted: true, cancellationRequested: true }, []],
    ['AwaitingDispatch', {}, ['cancel']],
    ['AwaitingDispatch', { cancellationRequested: true }, []],
    ['Complete', {}, []],
    ['Error', {}, []],
    ['Error', { errorResolution: { openUntil: AT, closed: null } }, ['resubmit', 'close']],
    ['Error', { errorResolution: { openUntil: AT, closed: null }, cancellationRequested: true }, ['close']],
    ['Error', { errorResolution: { openUntil: AT, closed: { by: 'ops:o1', reason: 'x', at: AT } } }, []],
    [
      'AwaitingDispatch',
      { subOrders: [{ subOrderNumber: 'S', warehouseId: 'W', lines: [], status: 'Sent', units: [], lineExceptions: [] }] },
      ['cancel', 'resend'],
    ],
    ['AwaitingDispatch', { cancellationRequested: true, cancellation: { sentAt: AT, unanswered: true, sends: 1 } }, ['resendCancellation', 'close']],
    ['Cancelled', {}, []],
  ];
  for (const [status, flags, expected] of cases) {
    it(`${status} ${JSON.stringify(flags)} → [${expected.join(', ')}]`, () => {
      expect(allowedActions(order(status, flags)).sort()).toEqual([...expected].sort());
    });
  }
});

describe('agent actions in every status', () => {
  type Action = { name: string; run: (o: OrderState) => unknown };
  const actions: Action[] = [
    {
      name: 'add line',
      run: (o) => checkAddLine(o, { product: product({ sku: 'PR-1', kind: 'peripheral', capture: 'none', enrolmentProgrammes: [] }), quantity: 1 }),
    },
    { name: 'change line', run: (o) => checkChangeLine(o, { lineId: 'L1', quantity: 3 }) },
    { name: 'remove line', run: (o) => checkRemoveLine(o, 'L1') },
    { name: 'set delivery', run: (o) => checkSetDelivery(o, delivery) },
    { name: 'set billing mode', run: (o) => checkSetBillingMode(o) },
    { name: 'generate', run: (o) => checkGenerate(o) },
    { name: 'cancel', run: (o) => checkCancel(o) },
  ];
  const editable = new Set(['New']);
  for (const status of ORDER_STATUSES) {
    for (const a of actions) {
      const allowed = a.name === 'cancel' ? !isTerminal(status) : editable.has(status);
      it(`${a.name} while ${status}: ${allowed ? 'allowed' : 'INVALID_TRANSITION'}`, () => {
        const o = order(status);
        const before = structuredClone(o);
        expect(outcome(() => a.run(o))).toBe(allowed ? 'ok' : 'INVALID_TRANSITION');
        expect(o).toEqual(before); // checks never change the order
      });
    }
  }

  it('the state is refused before the request is looked at (409 wins over 404/422)', () => {
    const o = order('AwaitingDispatch');
    expect(outcome(() => checkAddLine(o, { product: product({ active: false }), quantity: 0 }))).toBe('INVALID_TRANSITION');
    expect(outcome(() => checkChangeLine(o, { lineId: 'L99' }))).toBe('INVALID_TRANSITION');
    expect(outcome(() => checkRemoveLine(o, 'L99'))).toBe('INVALID_TRANSITION');
    expect(outcome(() => checkSetDelivery(o, { ...delivery, name: '' }))).toBe('INVALID_TRANSITION');
    expect(outcome(() => checkGenerate(order('Complete', { lines: [] })))).toBe('INVALID_TRANSITION');
  });

  it('cancel is immediate until a sales order starts going out, then a request to the warehouse', () => {
    expect(checkCancel(order('New'))).toBe('cancelled');
    expect(checkCancel(order('AwaitingGeneration'))).toBe('cancelled');
    expect(checkCancel(order('AwaitingGeneration', { sendStarted: true }))).toBe('cancellationRequested');
    expect(checkCancel(order('AwaitingDispatch'))).toBe('cancellationRequested');
    // Awaiting Dispatch always means a warehouse has it, whatever the flag says.
    expect(checkCancel(order('AwaitingDispatch', { sendStarted: false }))).toBe('cancellationRequested');
    expect(outcome(() => checkCancel(order('AwaitingDispatch', { cancellationRequested: true })))).toBe('INVALID_TRANSITION');
    expect(outcome(() => checkCancel(order('AwaitingGeneration', { sendStarted: true, cancellationRequested: true })))).toBe('INVALID_TRANSITION');
  });

  it('a refusal carries the current status', () => {
    try {
      checkGenerate(order('Error'));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DomainError);
      expect((err as DomainError).details).toEqual({ status: 'Error' });
    }
  });
});

describe('order editing while New', () => {
  it('adds a line with the price captured now and stable line numbers', () => {
    const o = order('New');
    const line = applyAddLine(o, {
      product: product({ sku: 'HS-SAM-S25-256', unitPrice: 85900, enrolmentProgrammes: ['samsung', 'google'], manufacturer: 'samsung' }),
      quantity: 3,
      enrolment: 'google',
    });
    expect(line).toMatchObject({
      lineId: 'L2',
      lineNumber: 2,
      sku: 'HS-SAM-S25-256',
      unitPrice: 85900,
      quantity: 3,
      enrolment: 'google',
      manufacturer: 'samsung',
      capture: 'imei',
    });
    applyRemoveLine(o, 'L1');
    const third = applyAddLine(o, { product: product(), quantity: 1 });
    expect(third.lineNumber).toBe(3); // a removed line's number is never reused
    expect(o.lines.map((l) => l.lineId)).toEqual(['L2', 'L3']);
  });

  it('refuses bad add-line requests with their own codes', () => {
    const o = order('New');
    expect(outcome(() => checkAddLine(o, { product: product({ active: false }), quantity: 1 }))).toBe('PRODUCT_INACTIVE');
    expect(outcome(() => checkAddLine(o, { product: product({ currency: 'EUR' }), quantity: 1 }))).toBe('CURRENCY_MISMATCH');
    for (const q of [0, -1, 1.5, 1000, Number.NaN]) expect(outcome(() => checkAddLine(o, { product: product(), quantity: q }))).toBe('VALIDATION_FAILED');
    expect(outcome(() => checkAddLine(o, { product: product(), quantity: 999 }))).toBe('ok');
    expect(outcome(() => checkAddLine(o, { product: product(), quantity: 1, enrolment: 'samsung' }))).toBe('ENROLMENT_NOT_SUPPORTED');
    expect(outcome(() => checkAddLine(o, { product: product(), quantity: 1, enrolment: 'apple' }))).toBe('ok');
    const full = order('New');
    for (let i = full.lines.length; i < 100; i++) applyAddLine(full, { product: product(), quantity: 1 });
    expect(outcome(() => checkAddLine(full, { product: product(), quantity: 1 }))).toBe('VALIDATION_FAILED');
  });

  it('changes and removes lines, refusing unknown ones', () => {
    const o = order('New');
    expect(outcome(() => checkChangeLine(o, { lineId: 'L9', quantity: 1 }))).toBe('LINE_NOT_FOUND');
    expect(outcome(() => checkRemoveLine(o, 'L9'))).toBe('LINE_NOT_FOUND');
    expect(outcome(() => checkChangeLine(o, { lineId: 'L1', quantity: 0 }))).toBe('VALIDATION_FAILED');
    expect(outcome(() => checkChangeLine(o, { lineId: 'L1', enrolment: 'google', enrolmentProgrammes: ['apple'] }))).toBe('ENROLMENT_NOT_SUPPORTED');
    expect(outcome(() => checkChangeLine(o, { lineId: 'L1', enrolment: 'apple', enrolmentProgrammes: ['apple'] }))).toBe('ok');
    const rev = o.revision;
    applyChangeLine(o, { lineId: 'L1', quantity: 5, enrolment: 'apple' });
    expect(o.lines[0]).toMatchObject({ quantity: 5, enrolment: 'apple' });
    applyChangeLine(o, { lineId: 'L1', enrolment: null });
    expect(o.lines[0].enrolment).toBeUndefined();
    applyRemoveLine(o, 'L1');
    expect(o.lines).toEqual([]);
    expect(o.revision).toBe(rev); // the workflow's commit moves it
  });

  it('validates the delivery and applies it and the billing mode', () => {
    const o = order('New');
    expect(deliveryProblems(null)).toEqual(['no delivery contact']);
    expect(deliveryProblems(delivery)).toEqual([]);
    const bad: DeliveryContact = { name: ' ', address: { lines: [''], city: '', postcode: '', country: 'gb' } };
    expect(deliveryProblems(bad)).toHaveLength(5);
    expect(outcome(() => checkSetDelivery(o, bad))).toBe('DELIVERY_ADDRESS_INVALID');
    const other = { ...delivery, name: 'Bob Smith' };
    applySetDelivery(o, other);
    expect(o.delivery).toEqual(other);
    applySetBillingMode(o, 'nextInvoice');
    expect(o.billingMode).toBe('nextInvoice');
  });

  it('generation needs a line and a valid delivery', () => {
    expect(outcome(() => checkGenerate(order('New', { lines: [] })))).toBe('ORDER_HAS_NO_LINES');
    expect(outcome(() => checkGenerate(order('New', { delivery: null })))).toBe('DELIVERY_ADDRESS_INVALID');
    expect(outcome(() => checkGenerate(order('New', { delivery: { ...delivery, address: { ...delivery.address, country: 'United Kingdom' } } })))).toBe(
      'DELIVERY_ADDRESS_INVALID',
    );
    expect(outcome(() => checkGenerate(order('New')))).toBe('ok');
  });
});

// ---- Dispatch ----

const sub = (over: Partial<SubOrder> = {}): SubOrder => ({
  subOrderNumber: 'ORD-1-WH-NORTH',
  warehouseId: 'WH-NORTH',
  lines: [
    { lineNumber: 1, sku: 'HS-APL-IP16-128', quantity: 2 },
    { lineNumber: 2, sku: 'PR-APL-USBC-20W', quantity: 3 },
  ],
  status: 'Sent',
  units: [],
  lineExceptions: [],
  ...over,
});

let rowNo = 0;
const row = (over: Partial<DispatchRow>): DispatchRow => ({
  rowNumber: ++rowNo,
  warehouseId: 'WH-NORTH',
  subOrderNumber: 'ORD-1-WH-NORTH',
  lineNumber: 1,
  sku: 'HS-APL-IP16-128',
  quantityShipped: 1,
  disposition: 'shipped',
  ...over,
});
describe('edit limit while New', () => {
  it(`refuses every edit past ${MAX_EDITS_WHILE_NEW} with ORDER_EDIT_LIMIT, and still lets the agent generate or cancel`, () => {
    const at = (revision: number) => order('New', { revision });
    const edits = (o: OrderState) => [
      outcome(() => checkAddLine(o, { product: product(), quantity: 1 })),
      outcome(() => checkChangeLine(o, { lineId: 'L1', quantity: 3 })),
      outcome(() => checkRemoveLine(o, 'L1')),
      outcome(() => checkSetDelivery(o, delivery)),
      outcome(() => checkSetBillingMode(o)),
      outcome(() => checkRequestEnrolment(o, { apple: '1234567' })),
    ];
    expect(edits(at(MAX_EDITS_WHILE_NEW))).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    expect(edits(at(MAX_EDITS_WHILE_NEW + 1))).toEqual(Array(6).fill('ORDER_EDIT_LIMIT'));
    expect(outcome(() => checkGenerate(at(MAX_EDITS_WHILE_NEW + 1)))).toBe('ok');
    expect(outcome(() => checkCancel(at(MAX_EDITS_WHILE_NEW + 1)))).toBe('ok');
  });
});

const IMEI_A = '353325110000016';
const IMEI_B = '353325110000024';

function dispatching(subs: SubOrder[] = [sub()]): OrderState {
  return order('AwaitingDispatch', { subOrders: subs });
}

describe('applyDispatchRows', () => {
  it('records shipped units per sub-order and resolves it once every line is shipped', () => {
    const o = dispatching();
    const rows = [
      row({ imei: IMEI_A, serialNumber: 'SN1', trackingNumber: 'T1', carrier: 'DPD', shipDate: '2025-03-02' }),
      row({ imei: IMEI_B, serialNumber: 'SN2' }),
      row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 3 }),
    ];
    const rev = o.revision;
    expect(applyDispatchRows(o, 'B1', rows)).toEqual({ applied: 3, ignored: 0 });
    const s = o.subOrders[0];
    expect(s.status).toBe('Shipped');
    expect(s.units[0]).toEqual({
      rowKey: rowKey('B1', rows[0]),
      batchId: 'B1',
      lineNumber: 1,
      sku: 'HS-APL-IP16-128',
      quantity: 1,
      serialNumber: 'SN1',
      imei: IMEI_A,
      carrier: 'DPD',
      trackingNumber: 'T1',
      shipDate: '2025-03-02',
    });
    expect(shippedQuantity(s, 1)).toBe(2);
    expect(shippedQuantity(s, 2)).toBe(3);
    expect(o.revision).toBe(rev); // the workflow commits when rows applied
    expect(dispatchOutcome(o)).toBe('dispatchComplete');
    expect([...shippedByLine(o)]).toEqual([
      [1, 2],
      [2, 3],
    ]);
  });

  it('is idempotent: the same batch again, or the same unit in another batch, changes nothing', () => {
    const o = dispatching();
    const rows = [row({ imei: IMEI_A, serialNumber: 'SN1' })];
    applyDispatchRows(o, 'B1', rows);
    const after = structuredClone(o);
    expect(applyDispatchRows(o, 'B1', rows)).toEqual({ applied: 0, ignored: 1 });
    expect(applyDispatchRows(o, 'B2', [{ ...rows[0], rowNumber: 7 }])).toEqual({ applied: 0, ignored: 1 });
    expect(applyDispatchRows(o, 'B3', [row({ serialNumber: 'SN9', imei: IMEI_A })])).toEqual({ applied: 0, ignored: 1 });
    expect(o).toEqual(after);
  });

  it('never records more units than the line ordered, and ignores rows that are not this order’s', () => {
    const o = dispatching();
    expect(applyDispatchRows(o, 'B1', [row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 4 })])).toEqual({ applied: 0, ignored: 1 });
    expect(applyDispatchRows(o, 'B1', [row({ subOrderNumber: 'ORD-2-WH-NORTH' }), row({ lineNumber: 9 })])).toEqual({ applied: 0, ignored: 2 });
    expect(
      applyDispatchRows(o, 'B1', [
        row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 2 }),
        row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 2 }),
      ]),
    ).toEqual({ applied: 1, ignored: 1 });
    expect(o.subOrders[0].status).toBe('Sent');
  });

  it('closes lines with exceptions: error and out of stock make the sub-order Error', () => {
    const o = dispatching();
    applyDispatchRows(o, 'B1', [row({ imei: IMEI_A }), row({ imei: IMEI_B })]);
    expect(o.subOrders[0].status).toBe('Sent'); // line 2 still open
    applyDispatchRows(o, 'B2', [row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 0, disposition: 'outOfStock' })]);
    const s = o.subOrders[0];
    expect(s.lineExceptions[0]).toMatchObject({ lineNumber: 2, disposition: 'outOfStock', code: 'OUT_OF_STOCK' });
    expect(s.status).toBe('Error');
    expect(s.error).toEqual({ code: 'OUT_OF_STOCK', message: s.lineExceptions[0].message });
    expect(dispatchOutcome(o)).toBe('dispatchError');
  });

  it('keeps the warehouse’s own error code and message', () => {
    const o = dispatching();
    applyDispatchRows(o, 'B1', [
      row({ quantityShipped: 0, disposition: 'error', errorCode: 'PICK_FAILED', errorMessage: 'damaged' }),
      row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 3 }),
    ]);
    expect(o.subOrders[0]).toMatchObject({ status: 'Error', error: { code: 'PICK_FAILED', message: 'damaged' } });
  });

  it('all lines cancelled → Cancelled; cancelled after some shipped → Shipped', () => {
    const cancelled = dispatching();
    applyDispatchRows(cancelled, 'B1', [
      row({ quantityShipped: 0, disposition: 'cancelled' }),
      row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 0, disposition: 'cancelled' }),
    ]);
    expect(cancelled.subOrders[0].status).toBe('Cancelled');
    expect(cancelled.subOrders[0].lineExceptions.map((e) => e.code)).toEqual(['CANCELLED', 'CANCELLED']);
    expect(dispatchOutcome(cancelled)).toBe('cancellationConfirmed');

    const mixed = dispatching();
    applyDispatchRows(mixed, 'B1', [
      row({ imei: IMEI_A }),
      row({ quantityShipped: 0, disposition: 'cancelled' }),
      row({ lineNumber: 2, sku: 'PR-APL-USBC-20W', quantityShipped: 0, disposition: 'cancelled' }),
    ]);
    expect(mixed.subOrders[0].status).toBe('Shipped');
    expect(dispatchOutcome(mixed)).toBe('dispatchComplete');
  });
});

describe('subOrderStatus and dispatchOutcome', () => {
  it('a Pending sub-order stays Pending whatever it holds', () => {
    expect(subOrderStatus(sub({ status: 'Pending' }))).toBe('Pending');
  });

  it('waits while any sub-order is Pending or Sent, and for an order without sub-orders', () => {
    expect(dispatchOutcome(dispatching([]))).toBeUndefined();
    expect(dispatchOutcome(dispatching([sub({ status: 'Shipped' }), sub({ status: 'Sent' })]))).toBeUndefined();
    expect(dispatchOutcome(dispatching([sub({ status: 'Shipped' }), sub({ status: 'Pending' })]))).toBeUndefined();
  });

  const combos: [SubOrder['status'][], OrderEvent][] = [
    [['Shipped'], 'dispatchComplete'],
    [['Shipped', 'Shipped'], 'dispatchComplete'],
    [['Shipped', 'Cancelled'], 'dispatchComplete'],
    [['Cancelled', 'Cancelled'], 'cancellationConfirmed'],
    [['Error'], 'dispatchError'],
    [['Shipped', 'Error'], 'dispatchError'],
    [['Cancelled', 'Error'], 'dispatchError'],
  ];
  for (const [statuses, expected] of combos) {
    it(`${statuses.join(' + ')} → ${expected}, which Awaiting Dispatch accepts`, () => {
      const o = dispatching(statuses.map((status, i) => sub({ status, subOrderNumber: `S${i}` })));
      expect(dispatchOutcome(o)).toBe(expected);
      expect(nextStatus('AwaitingDispatch', expected)).toBeDefined();
    });
  }
});
