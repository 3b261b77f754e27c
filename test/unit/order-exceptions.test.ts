// The order's exception paths, pure: what a resubmission sends, when ops may act, the stuck-order
// deadlines, the NeedsAttention flags, and how a later shipment is billed once.
import { describe, expect, it } from 'vitest';
import { chargesForOrder, isOrderInvoiceKey, orderInvoiceKey } from '../../domain/billing';
import { DomainError, type ErrorCode } from '../../domain/errors';
import {
  applyCloseUnanswered,
  applyResend,
  applyResendCancellation,
  applyResubmit,
  checkClose,
  checkResend,
  checkResendCancellation,
  checkResubmit,
  deadlinesToStamp,
  flagPastDeadlines,
  needsAttention,
  nextDeadline,
  outstandingLines,
  resubmittedSubOrderNumber,
  stampDeadlines,
} from '../../domain/order-exceptions';
import { applyAddLine, applyDispatchRows, dispatchOutcome, newOrder, transition, type OrderState } from '../../domain/order-state';
import { buildSalesOrderRequest, salesOrderFileId } from '../../domain/sales-order';
import type { DeliveryContact, DispatchRow, Product, SubOrder } from '../../domain/types';
import { validateSalesOrderRequest } from '../../infra/contracts';
import { testProduct } from '../support/domain-fixtures';

const AT = '2026-01-01T00:00:00.000Z';
const HOUR = 3_600_000;
const delivery: DeliveryContact = { name: 'Alice', address: { lines: ['1 High St'], city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' } };
const moved: DeliveryContact = { name: 'Alice', address: { lines: ['9 Low Rd'], city: 'York', postcode: 'YO1 7HH', country: 'GB' } };
const product = (sku: string, kind: Product['kind'] = 'peripheral') => testProduct({ sku, name: sku, kind });

const sub = (n: string, lines: [number, string, number][], over: Partial<SubOrder> = {}): SubOrder => ({
  subOrderNumber: n,
  warehouseId: n.split('-').slice(2, 4).join('-'),
  lines: lines.map(([lineNumber, sku, quantity]) => ({ lineNumber, sku, quantity })),
  status: 'Sent',
  units: [],
  lineExceptions: [],
  ...over,
});

const row = (subOrderNumber: string, rowNumber: number, lineNumber: number, sku: string, over: Partial<DispatchRow>): DispatchRow => ({
  rowNumber,
  warehouseId: 'WH-NORTH',
  subOrderNumber,
  lineNumber,
  sku,
  quantityShipped: 0,
  disposition: 'shipped',
  ...over,
});

/** ORD-1: line 1 = 3 × A, line 2 = 1 × B; all sent to WH-NORTH. */
function sentOrder(): OrderState {
  const o = newOrder({ orderId: 'ORD-1', accountId: 'ACC-1', currency: 'GBP', createdBy: 'agent:a', delivery, billingMode: 'immediate' }, AT);
  applyAddLine(o, { product: product('A'), quantity: 3 });
  applyAddLine(o, { product: product('B'), quantity: 1 });
  o.status = 'AwaitingDispatch';
  o.sendStarted = true;
  o.subOrders = [
    sub('ORD-1-WH-NORTH', [
      [1, 'A', 3],
      [2, 'B', 1],
    ]),
  ];
  return o;
}

/** WH-NORTH shipped 1 of A, had no more A and no B: Error OUT_OF_STOCK, open for ops. */
function errored(): OrderState {
  const o = sentOrder();
  applyDispatchRows(o, 'b1', [
    row('ORD-1-WH-NORTH', 1, 1, 'A', { quantityShipped: 1 }),
    row('ORD-1-WH-NORTH', 2, 1, 'A', { disposition: 'outOfStock' }),
    row('ORD-1-WH-NORTH', 3, 2, 'B', { disposition: 'outOfStock' }),
  ]);
  transition(o, dispatchOutcome(o)!, AT, 'system', 'warehouse');
  o.error = { code: 'OUT_OF_STOCK', message: 'x' };
  o.errorResolution = { openUntil: AT, closed: null };
  return o;
}

function code(check: () => unknown): ErrorCode | 'ok' {
  try {
    check();
    return 'ok';
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
}

describe('resubmit', () => {
  it('sends again only what did not ship', () => {
    const o = errored();
    expect(o.status).toBe('Error');
    expect(outstandingLines(o)).toEqual([
      { lineNumber: 1, sku: 'A', quantity: 2 },
      { lineNumber: 2, sku: 'B', quantity: 1 },
    ]);
    expect(checkResubmit(o)).toEqual({ addressChanged: false, lines: outstandingLines(o) });
  });

  it('leaves out what a warehouse still holds, and licence lines', () => {
    const o = errored();
    applyAddLine(o, { product: product('LIC', 'softwareLicence'), quantity: 2 });
    o.licences = [{ lineNumber: 3, keys: ['K1', 'K2'] }];
    o.subOrders.push(sub('ORD-1-WH-SOUTH', [[1, 'A', 2]]));
    expect(outstandingLines(o)).toEqual([{ lineNumber: 2, sku: 'B', quantity: 1 }]);
  });

  it('is refused when the window is not open, after close, with nothing left, or after a cancellation request', () => {
    const o = errored();
    expect(code(() => checkResubmit({ ...o, errorResolution: null }))).toBe('INVALID_TRANSITION');
    expect(code(() => checkResubmit({ ...o, errorResolution: { openUntil: AT, closed: { by: 'ops:x', reason: 'r', at: AT } } }))).toBe('INVALID_TRANSITION');
    expect(code(() => checkResubmit({ ...o, cancellationRequested: true }))).toBe('INVALID_TRANSITION');
    expect(code(() => checkResubmit({ ...o, status: 'AwaitingDispatch' }))).toBe('INVALID_TRANSITION');
    const shipped = errored();
    shipped.subOrders[0].units.push({ rowKey: 'b2:1', batchId: 'b2', lineNumber: 1, sku: 'A', quantity: 2 });
    shipped.subOrders[0].units.push({ rowKey: 'b2:2', batchId: 'b2', lineNumber: 2, sku: 'B', quantity: 1 });
    expect(code(() => checkResubmit(shipped))).toBe('NOTHING_TO_RESUBMIT');
  });

  it('after a fraud rejection only with a changed, valid delivery (which runs the check again)', () => {
    const o = errored();
    o.error = { code: 'FRAUD_REJECTED', message: 'x' };
    expect(code(() => checkResubmit(o))).toBe('DELIVERY_CHANGE_REQUIRED');
    expect(code(() => checkResubmit(o, delivery))).toBe('DELIVERY_CHANGE_REQUIRED');
    expect(code(() => checkResubmit(o, { ...moved, address: { ...moved.address, city: '' } }))).toBe('DELIVERY_ADDRESS_INVALID');
    expect(checkResubmit(o, moved).addressChanged).toBe(true);
  });

  it('sets the resolved sub-orders aside: the new round alone decides the outcome', () => {
    const o = errored();
    const round = applyResubmit(o, moved);
    expect(round).toBe(1);
    expect(o).toMatchObject({ delivery: moved, error: null, errorResolution: null, resubmissions: 1, sendStarted: false });
    expect(o.subOrders[0].superseded).toBe(true);
    transition(o, 'resubmit', AT, 'ops:o1', 'retry');
    expect(o.status).toBe('AwaitingGeneration');
    expect(resubmittedSubOrderNumber('ORD-1', 'WH-SOUTH', round)).toBe('ORD-1-WH-SOUTH-R1');
    o.subOrders.push(
      sub(
        'ORD-1-WH-SOUTH-R1',
        [
          [1, 'A', 2],
          [2, 'B', 1],
        ],
        { resubmission: 1 },
      ),
    );
    transition(o, 'sentToWarehouse', AT, 'system', 'sent');
    expect(dispatchOutcome(o)).toBeUndefined();
    applyDispatchRows(o, 'b9', [row('ORD-1-WH-SOUTH-R1', 1, 1, 'A', { quantityShipped: 2 }), row('ORD-1-WH-SOUTH-R1', 2, 2, 'B', { quantityShipped: 1 })]);
    expect(dispatchOutcome(o)).toBe('dispatchComplete');
  });
});

describe('billing what a resubmission shipped', () => {
  it('gives its shipments charge keys of their own, so the first shipment is never charged twice', () => {
    const o = errored();
    const first = chargesForOrder(o);
    expect(first.map((c) => [c.chargeKey, c.quantity])).toEqual([['ORD-1:1:b1', 1]]);
    applyResubmit(o);
    o.subOrders.push(sub('ORD-1-WH-SOUTH-R1', [[1, 'A', 2]], { resubmission: 1 }));
    // The same response file (batch) may carry rows for both rounds.
    applyDispatchRows(o, 'b1', [row('ORD-1-WH-SOUTH-R1', 7, 1, 'A', { quantityShipped: 2 })]);
    const all = chargesForOrder(o);
    expect(all.map((c) => [c.chargeKey, c.quantity])).toEqual([
      ['ORD-1:1:b1', 1],
      ['ORD-1:1:b1:R1', 2],
    ]);
  });

  it('invoices an immediate order again under a key of its own', () => {
    expect(orderInvoiceKey('ORD-1', 0)).toBe('order:ORD-1');
    expect(orderInvoiceKey('ORD-1', 1)).toBe('order:ORD-1:2');
    expect(isOrderInvoiceKey('order:ORD-1', 'ORD-1')).toBe(true);
    expect(isOrderInvoiceKey('order:ORD-1:2', 'ORD-1')).toBe(true);
    expect(isOrderInvoiceKey('order:ORD-12', 'ORD-1')).toBe(false);
    expect(isOrderInvoiceKey('order:ORD-1:x', 'ORD-1')).toBe(false);
    expect(isOrderInvoiceKey('cycle:ACC-1:2026-01-01', 'ORD-1')).toBe(false);
  });
});

describe('close', () => {
  it('an order in Error while open; one Awaiting Dispatch only once its cancellation went unanswered', () => {
    expect(code(() => checkClose(errored()))).toBe('ok');
    const o = sentOrder();
    expect(code(() => checkClose(o))).toBe('INVALID_TRANSITION');
    o.cancellationRequested = true;
    o.cancellation = { sentAt: AT, unanswered: false, sends: 1 };
    expect(code(() => checkClose(o))).toBe('INVALID_TRANSITION');
    o.cancellation.unanswered = true;
    expect(code(() => checkClose(o))).toBe('ok');
    expect(applyCloseUnanswered(o)).toEqual(['ORD-1-WH-NORTH']);
    expect(dispatchOutcome(o)).toBe('cancellationConfirmed');
    expect(needsAttention(o)).toEqual([]);
  });
});

describe('stuck orders', () => {
  const policy = { dispatchSlaMs: (w: string) => (w === 'WH-SOUTH' ? 5 * HOUR : 2 * HOUR), cancelAnswerTimeoutMs: HOUR };
  const later = (ms: number) => new Date(Date.parse(AT) + ms).toISOString();

  it('flags a sub-order not dispatched within its warehouse SLA, once', () => {
    const o = sentOrder();
    o.subOrders[0].sentAt = AT;
    o.subOrders.push(sub('ORD-1-WH-SOUTH', [[1, 'A', 1]], { sentAt: AT }));
    expect(deadlinesToStamp(o)).toBe(true);
    expect(stampDeadlines(o, policy, AT)).toBe(true);
    expect(stampDeadlines(o, policy, later(HOUR))).toBe(false);
    expect(o.subOrders.map((s) => s.dispatchDueBy)).toEqual([later(2 * HOUR), later(5 * HOUR)]);
    expect(nextDeadline(o)).toBe(Date.parse(later(2 * HOUR)));
    expect(flagPastDeadlines(o, later(HOUR))).toEqual([]);
    expect(flagPastDeadlines(o, later(2 * HOUR))).toEqual([`dispatch overdue: WH-NORTH has not dispatched ORD-1-WH-NORTH (due by ${later(2 * HOUR)})`]);
    expect(flagPastDeadlines(o, later(3 * HOUR))).toEqual([]);
    expect(needsAttention(o)).toEqual(['dispatchOverdue']);
    expect(nextDeadline(o)).toBe(Date.parse(later(5 * HOUR)));
  });

  it('a resend starts the SLA again and clears the flag', () => {
    const o = sentOrder();
    o.subOrders[0].sentAt = AT;
    stampDeadlines(o, policy, AT);
    flagPastDeadlines(o, later(3 * HOUR));
    expect(code(() => checkResend(o))).toBe('ok');
    const subs = applyResend(o, later(3 * HOUR));
    expect(subs.map((s) => [s.subOrderNumber, s.resends])).toEqual([['ORD-1-WH-NORTH', 1]]);
    expect(needsAttention(o)).toEqual([]);
    expect(deadlinesToStamp(o)).toBe(true);
    stampDeadlines(o, policy, later(3 * HOUR));
    expect(o.subOrders[0].dispatchDueBy).toBe(later(5 * HOUR));
    expect(code(() => checkResend({ ...o, cancellationRequested: true }))).toBe('INVALID_TRANSITION');
  });

  it('flags a cancellation unanswered in time; a resend of it waits afresh', () => {
    const o = sentOrder();
    o.cancellationRequested = true;
    o.cancellation = { sentAt: AT, unanswered: false, sends: 1 };
    expect(code(() => checkResendCancellation(o))).toBe('INVALID_TRANSITION');
    stampDeadlines(o, policy, AT);
    expect(o.cancellation.answerDueBy).toBe(later(HOUR));
    expect(flagPastDeadlines(o, later(HOUR))).toEqual([`cancellation unanswered: no answer from the warehouse by ${later(HOUR)}`]);
    expect(needsAttention(o)).toEqual(['cancellationUnanswered']);
    expect(code(() => checkResendCancellation(o))).toBe('ok');
    expect(applyResendCancellation(o, later(2 * HOUR))).toBe(2);
    expect(needsAttention(o)).toEqual([]);
    stampDeadlines(o, policy, later(2 * HOUR));
    expect(o.cancellation.answerDueBy).toBe(later(3 * HOUR));
  });

  it('a resend is a file of its own with the same sub-order number, valid under the contract', () => {
    expect(salesOrderFileId('ORD-1-WH-NORTH', 'resend')).toBe('ORD-1-WH-NORTH-resend');
    expect(salesOrderFileId('ORD-1-WH-NORTH', 'resend', 2)).toBe('ORD-1-WH-NORTH-resend-2');
    expect(salesOrderFileId('ORD-1-WH-NORTH', 'cancel', 3)).toBe('ORD-1-WH-NORTH-cancel-3');
    const o = sentOrder();
    const request = buildSalesOrderRequest({
      orderId: 'ORD-1',
      accountId: 'ACC-1',
      subOrderNumber: 'ORD-1-WH-NORTH',
      warehouseId: 'WH-NORTH',
      purpose: 'resend',
      send: 2,
      generatedAt: AT,
      serviceLevel: 'standard',
      fraudCheck: { required: false, reasons: [], result: 'notRequired' },
      delivery,
      lines: [{ line: o.lines[0], quantity: 3 }],
    });
    expect(request).toMatchObject({ fileId: 'ORD-1-WH-NORTH-resend-2', purpose: 'resend', subOrderNumber: 'ORD-1-WH-NORTH' });
    expect(validateSalesOrderRequest(request)).toEqual({ ok: true });
  });
});

describe('needsAttention', () => {
  it('says why ops should look, from the state alone', () => {
    const o = sentOrder();
    expect(needsAttention(o)).toEqual([]);
    const gen = { ...o, status: 'AwaitingGeneration' as const };
    expect(needsAttention({ ...gen, fraud: { required: true, reasons: ['x'], awaitingReview: { since: AT, deadline: AT } } })).toEqual(['fraudReview']);
    expect(needsAttention({ ...gen, backorder: { since: AT, shortages: [], lastCheckedAt: AT, expiresAt: AT } })).toEqual(['backordered']);
    const e = errored();
    expect(needsAttention(e)).toEqual(['error']);
    e.errorResolution!.closed = { by: 'system', reason: 'window passed', at: AT };
    expect(needsAttention(e)).toEqual([]);
  });
});
