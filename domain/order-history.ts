// What an order's history says about each agent and ops action: before → after of what it changed
// (lines, delivery, billing mode, enrolment ids), and notes. Pure: the workflow's handlers take the
// before and after here and record the entry (workflows/order/record.ts); the audit listing and
// AgentView read the same entries.
import { DomainError } from './errors';
import type { EnrolmentCustomerIds } from './enrolment';
import type { BillingMode, DeliveryContact, HistoryEntry, LineSnapshot, OrderChange, OrderLine } from './types';

/** Notes an order keeps: each is an event in its workflow history, which has a hard limit. */
export const MAX_NOTES_PER_ORDER = 200;
export const MAX_NOTE_LENGTH = 1000;

/** Who acted on the order and through which API request. */
export interface ActingPerson {
  by: string;
  requestId?: string;
}

export function lineSnapshot(line: OrderLine): LineSnapshot {
  return { sku: line.sku, quantity: line.quantity, ...(line.enrolment ? { enrolment: line.enrolment } : {}) };
}

/** A line added (`before` absent), changed, or removed (`after` absent). */
export function lineChange(lineId: string, before: OrderLine | undefined, after: OrderLine | undefined): OrderChange {
  return { field: 'line', lineId, before: before ? lineSnapshot(before) : null, after: after ? lineSnapshot(after) : null };
}

export function deliveryChange(before: DeliveryContact | null, after: DeliveryContact | null): OrderChange {
  // Both are whole values the order replaces, never mutates in place.
  return { field: 'delivery', before, after };
}

export function billingModeChange(before: BillingMode, after: BillingMode): OrderChange {
  return { field: 'billingMode', before, after };
}

export function enrolmentIdsChange(before: EnrolmentCustomerIds, after: EnrolmentCustomerIds): OrderChange {
  const copy = (ids: EnrolmentCustomerIds) => (Object.keys(ids).length ? { ...ids } : null);
  return { field: 'enrolmentIds', before: copy(before), after: copy(after) };
}

/** True when the change leaves what it touched as it was (an agent setting the same value again). */
export function isUnchanged(change: OrderChange): boolean {
  return JSON.stringify(change.before) === JSON.stringify(change.after);
}

const lineText = (l: LineSnapshot) => `${l.quantity} × ${l.sku}${l.enrolment ? ` (${l.enrolment} enrolment)` : ''}`;

/**
 * The entry's one-line reason. Never the delivery contact itself (name, phone, e-mail, address):
 * the reason is the part of an entry people copy into tickets; the contact is in `changes` only.
 */
export function describeChange(change: OrderChange): string {
  if (isUnchanged(change)) {
    return change.field === 'line' ? `line ${change.lineId} saved unchanged` : `${fieldName(change)} saved unchanged`;
  }
  switch (change.field) {
    case 'line': {
      const { before, after } = change;
      if (!before) return `line ${change.lineId} added: ${lineText(after!)}`;
      if (!after) return `line ${change.lineId} removed (was ${lineText(before)})`;
      const parts: string[] = [];
      if (before.quantity !== after.quantity) parts.push(`quantity ${before.quantity} → ${after.quantity}`);
      if (before.enrolment !== after.enrolment) parts.push(`enrolment ${before.enrolment ?? 'none'} → ${after.enrolment ?? 'none'}`);
      return `line ${change.lineId} changed: ${parts.join('; ')}`;
    }
    case 'delivery':
      return change.before ? 'delivery contact changed' : 'delivery contact set';
    case 'billingMode':
      return `billing mode ${change.before} → ${change.after}`;
    case 'enrolmentIds': {
      const before = change.before ?? {};
      const after = change.after ?? {};
      const programmes = Object.keys({ ...before, ...after }).filter((m) => before[m as keyof EnrolmentCustomerIds] !== after[m as keyof EnrolmentCustomerIds]);
      return `enrolment customer ids set for ${programmes.join(', ')}`;
    }
  }
}

function fieldName(change: OrderChange): string {
  return { line: 'line', delivery: 'delivery contact', billingMode: 'billing mode', enrolmentIds: 'enrolment customer ids' }[change.field];
}

/** The entry for an edit: who, why (from the change), the change itself and the request. */
export function editEntry(who: ActingPerson, change: OrderChange): Pick<HistoryEntry, 'by' | 'reason' | 'changes' | 'requestId'> {
  return { by: who.by, reason: describeChange(change), changes: [change], ...(who.requestId ? { requestId: who.requestId } : {}) };
}

/** The request id, when there is one, for an entry's detail. */
export function requestOf(who: ActingPerson): Pick<HistoryEntry, 'requestId'> {
  return who.requestId ? { requestId: who.requestId } : {};
}

export function notesOf(history: readonly HistoryEntry[]): HistoryEntry[] {
  return history.filter((e) => e.note);
}

/** A note can be added to an order in any status, up to MAX_NOTES_PER_ORDER; it says something. */
export function checkAddNote(history: readonly HistoryEntry[], orderId: string, text: string): void {
  if (!text.trim() || text.length > MAX_NOTE_LENGTH) throw new DomainError('VALIDATION_FAILED', `a note is 1 to ${MAX_NOTE_LENGTH} characters`);
  if (notesOf(history).length >= MAX_NOTES_PER_ORDER) {
    throw new DomainError('ORDER_NOTE_LIMIT', `order ${orderId} has ${MAX_NOTES_PER_ORDER} notes: no more can be added`);
  }
}

export function noteEntry(order: { status: HistoryEntry['to'] }, who: ActingPerson, text: string, at: string): HistoryEntry {
  return { from: order.status, to: order.status, at, by: who.by, reason: text, note: true, ...requestOf(who) };
}

/** Person, not process: entries by 'system' or a warehouse are not anyone's action to audit. */
export function isPersonAction(entry: Pick<HistoryEntry, 'by'>): boolean {
  return entry.by !== 'system' && !entry.by.startsWith('warehouse:');
}

/** History and notes kept beside it (a finished order's, infra/store/order-notes.ts), in time order. */
export function withNotes(history: readonly HistoryEntry[], notes: readonly HistoryEntry[]): HistoryEntry[] {
  if (!notes.length) return [...history];
  // A stable sort: entries at the same instant keep history first, then notes in the order added.
  return [...history, ...notes]
    .map((e, i) => ({ e, i }))
    .sort((a, b) => (a.e.at < b.e.at ? -1 : a.e.at > b.e.at ? 1 : a.i - b.i))
    .map(({ e }) => e);
}

/** One person's action on one order, as the audit listing keeps it (`GET /api/v1/audit`). */
export interface AuditEntry extends Omit<HistoryEntry, 'by'> {
  actor: string;
  orderId: string;
  accountId: string;
  /** The entry's identity, so writing it again (a retried projection) changes nothing: `<orderId>#<history index>`, or `<orderId>:note:<key>` for a note kept beside a finished order. */
  entryKey: string;
}

/** The person actions among an order's history entries from `fromIndex` on, for the audit listing. */
export function auditEntriesOf(order: { orderId: string; accountId: string; history: readonly HistoryEntry[] }, fromIndex = 0): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (let i = fromIndex; i < order.history.length; i++) {
    const { by, ...entry } = order.history[i];
    if (isPersonAction({ by })) out.push({ ...entry, actor: by, orderId: order.orderId, accountId: order.accountId, entryKey: `${order.orderId}#${i}` });
  }
  return out;
}

/** The UTC day (YYYY-MM-DD) an entry's time falls on: the audit listing keeps each person's entries by day. */
export const auditDay = (at: string): string => new Date(at).toISOString().slice(0, 10);

/** The day after `day` (YYYY-MM-DD). */
export const nextAuditDay = (day: string): string => new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);

/** A real calendar day written YYYY-MM-DD (2026-02-30 is not). */
export function isAuditDay(day: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return false;
  const t = Date.parse(`${day}T00:00:00.000Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().startsWith(day);
}
