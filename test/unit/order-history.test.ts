// The history entry rules: what each agent and ops action records (before → after, the request
// id), what a note is, what reaches the audit listing, and that the reason never carries the
// delivery contact.
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../domain/errors';
import {
  MAX_NOTES_PER_ORDER,
  MAX_NOTE_LENGTH,
  auditDay,
  auditEntriesOf,
  billingModeChange,
  checkAddNote,
  deliveryChange,
  describeChange,
  editEntry,
  enrolmentIdsChange,
  isAuditDay,
  isPersonAction,
  lineChange,
  nextAuditDay,
  noteEntry,
  withNotes,
} from '../../domain/order-history';
import { newOrder, transition } from '../../domain/order-state';
import type { DeliveryContact, HistoryEntry, OrderLine } from '../../domain/types';

const line = (over: Partial<OrderLine> = {}): OrderLine => ({
  lineId: 'L1',
  lineNumber: 1,
  sku: 'PHONE-1',
  description: 'Phone',
  kind: 'handset',
  quantity: 2,
  unitPrice: 50000,
  taxRateBps: 2000,
  capture: 'imei',
  ...over,
});
const contact = (name: string, street: string): DeliveryContact => ({
  name,
  phone: '+44 7700 900123',
  email: 'pat@example.com',
  address: { lines: [street], city: 'Leeds', postcode: 'LS1 1AA', country: 'GB' },
});
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as DomainError).code;
  }
  return 'none';
};

describe('edit entries: before → after', () => {
  it('a line added, changed and removed keeps sku, quantity and enrolment before and after', () => {
    const added = lineChange('L1', undefined, line());
    expect(added).toEqual({ field: 'line', lineId: 'L1', before: null, after: { sku: 'PHONE-1', quantity: 2 } });
    expect(describeChange(added)).toBe('line L1 added: 2 × PHONE-1');

    const changed = lineChange('L1', line(), line({ quantity: 3, enrolment: 'apple' }));
    expect(changed).toEqual({
      field: 'line',
      lineId: 'L1',
      before: { sku: 'PHONE-1', quantity: 2 },
      after: { sku: 'PHONE-1', quantity: 3, enrolment: 'apple' },
    });
    expect(describeChange(changed)).toBe('line L1 changed: quantity 2 → 3; enrolment none → apple');

    const removed = lineChange('L1', line({ enrolment: 'apple' }), undefined);
    expect(removed.before).toEqual({ sku: 'PHONE-1', quantity: 2, enrolment: 'apple' });
    expect(removed.after).toBeNull();
    expect(describeChange(removed)).toBe('line L1 removed (was 2 × PHONE-1 (apple enrolment))');
  });

  it('the delivery change carries both contacts, the reason neither', () => {
    const before = contact('Pat Doe', '1 Old Street');
    const after = contact('Sam Roe', '2 New Street');
    const change = deliveryChange(before, after);
    expect(change).toEqual({ field: 'delivery', before, after });
    const reason = describeChange(change);
    expect(reason).toBe('delivery contact changed');
    for (const personal of ['Pat', 'Sam', 'Street', 'Leeds', 'LS1', '7700', 'example.com']) expect(reason).not.toContain(personal);
    expect(describeChange(deliveryChange(null, after))).toBe('delivery contact set');
  });

  it('billing mode and enrolment ids', () => {
    expect(describeChange(billingModeChange('immediate', 'nextInvoice'))).toBe('billing mode immediate → nextInvoice');
    const ids = enrolmentIdsChange({ apple: 'A1' }, { apple: 'A1', samsung: 'S9' });
    expect(ids).toEqual({ field: 'enrolmentIds', before: { apple: 'A1' }, after: { apple: 'A1', samsung: 'S9' } });
    expect(describeChange(ids)).toBe('enrolment customer ids set for samsung');
    // None is null, not an empty object (the database drops those).
    expect(enrolmentIdsChange({}, { google: 'G1' })).toEqual({ field: 'enrolmentIds', before: null, after: { google: 'G1' } });
    expect(describeChange(enrolmentIdsChange({}, { google: 'G1' }))).toBe('enrolment customer ids set for google');
  });

  it('an edit that changed nothing is still recorded, and says so', () => {
    expect(describeChange(billingModeChange('immediate', 'immediate'))).toBe('billing mode saved unchanged');
    expect(describeChange(lineChange('L1', line(), line()))).toBe('line L1 saved unchanged');
  });

  it('the entry names the person and the request, when there is one', () => {
    const change = billingModeChange('immediate', 'nextInvoice');
    expect(editEntry({ by: 'agent:alice', requestId: 'req-1' }, change)).toEqual({
      by: 'agent:alice',
      reason: 'billing mode immediate → nextInvoice',
      changes: [change],
      requestId: 'req-1',
    });
    expect(editEntry({ by: 'agent:alice' }, change)).not.toHaveProperty('requestId');
  });

  it('a status move keeps the request id and changes given with it', () => {
    const order = newOrder(
      { orderId: 'O1', accountId: 'A1', currency: 'GBP', createdBy: 'agent:alice', delivery: null, billingMode: 'immediate', requestId: 'req-0' },
      't0',
    );
    expect(order.history[0]).toEqual({ from: null, to: 'New', at: 't0', by: 'agent:alice', reason: 'order created', requestId: 'req-0' });
    transition(order, 'generate', 't1', 'agent:alice', 'agent generated the order', { requestId: 'req-2' });
    expect(order.history[1]).toEqual({
      from: 'New',
      to: 'AwaitingGeneration',
      at: 't1',
      by: 'agent:alice',
      reason: 'agent generated the order',
      requestId: 'req-2',
    });
  });
});

describe('notes', () => {
  it('a note keeps the status, the author, the text and the request', () => {
    expect(noteEntry({ status: 'Complete' }, { by: 'agent:bob', requestId: 'r9' }, 'customer called about delivery', 't5')).toEqual({
      from: 'Complete',
      to: 'Complete',
      at: 't5',
      by: 'agent:bob',
      reason: 'customer called about delivery',
      note: true,
      requestId: 'r9',
    });
  });

  it('in any status, up to the limit, and never empty or longer than the limit', () => {
    const notes = (n: number): HistoryEntry[] => Array.from({ length: n }, (_, i) => noteEntry({ status: 'Complete' }, { by: 'a' }, `n${i}`, 't'));
    expect(code(() => checkAddNote(notes(MAX_NOTES_PER_ORDER - 1), 'O1', 'ok'))).toBe('none');
    expect(code(() => checkAddNote(notes(MAX_NOTES_PER_ORDER), 'O1', 'ok'))).toBe('ORDER_NOTE_LIMIT');
    expect(code(() => checkAddNote([], 'O1', '   '))).toBe('VALIDATION_FAILED');
    expect(code(() => checkAddNote([], 'O1', 'x'.repeat(MAX_NOTE_LENGTH + 1)))).toBe('VALIDATION_FAILED');
  });

  it("a finished order's notes kept beside it join its history in time order", () => {
    const h: HistoryEntry[] = [
      { from: null, to: 'New', at: '2026-01-01T10:00:00.000Z', by: 'a', reason: 'created' },
      { from: 'AwaitingDispatch', to: 'Complete', at: '2026-01-02T10:00:00.000Z', by: 'system', reason: 'done' },
    ];
    const n1 = noteEntry({ status: 'Complete' }, { by: 'b' }, 'first', '2026-01-03T10:00:00.000Z');
    const n0 = noteEntry({ status: 'New' }, { by: 'b' }, 'same instant as created', '2026-01-01T10:00:00.000Z');
    expect(withNotes(h, [n1, n0]).map((e) => e.reason)).toEqual(['created', 'same instant as created', 'done', 'first']);
    expect(withNotes(h, [])).toEqual(h);
  });
});

describe('the audit listing takes person actions only', () => {
  it('skips system and warehouse entries, keys each by order and history index', () => {
    const history: HistoryEntry[] = [
      { from: null, to: 'New', at: '2026-01-01T10:00:00.000Z', by: 'agent:alice', reason: 'order created', requestId: 'r0' },
      { from: 'New', to: 'New', at: '2026-01-01T10:01:00.000Z', by: 'system', reason: 'x' },
      { from: 'New', to: 'New', at: '2026-01-01T10:02:00.000Z', by: 'warehouse:WH1', reason: 'y' },
      { from: 'New', to: 'AwaitingGeneration', at: '2026-01-01T10:03:00.000Z', by: 'ops:olga', reason: 'generated' },
    ];
    expect(isPersonAction({ by: 'system' })).toBe(false);
    expect(isPersonAction({ by: 'warehouse:WH1' })).toBe(false);
    const entries = auditEntriesOf({ orderId: 'O1', accountId: 'ACC', history });
    expect(entries.map((e) => [e.actor, e.entryKey])).toEqual([
      ['agent:alice', 'O1#0'],
      ['ops:olga', 'O1#3'],
    ]);
    expect(entries[0]).toMatchObject({ orderId: 'O1', accountId: 'ACC', requestId: 'r0', reason: 'order created', from: null, to: 'New' });
    expect(entries[0]).not.toHaveProperty('by');
    expect(auditEntriesOf({ orderId: 'O1', accountId: 'ACC', history }, 2).map((e) => e.entryKey)).toEqual(['O1#3']);
  });

  it('days are UTC calendar days', () => {
    expect(auditDay('2026-03-01T23:59:59.999Z')).toBe('2026-03-01');
    expect(auditDay('2026-03-01T23:30:00.000-01:00')).toBe('2026-03-02');
    expect(nextAuditDay('2026-02-28')).toBe('2026-03-01');
    expect(nextAuditDay('2026-12-31')).toBe('2027-01-01');
    expect(['2026-02-28', '2024-02-29'].map(isAuditDay)).toEqual([true, true]);
    expect(['2026-02-29', '2026-13-01', '2026-1-01', 'x', '2026-02-28T00:00:00Z'].map(isAuditDay)).toEqual([false, false, false, false, false]);
  });
});
