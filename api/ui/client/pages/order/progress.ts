// How the order got where it is: its history (status moves, every agent and ops action with what
// it changed, notes, the warehouses' news) and the fraud check; a note can be added in any status.
import type { DeliveryContact, HistoryEntry, LineSnapshot, OrderChange } from '../../../../../domain/types';
import type { OrderView } from '../../api-types';
import { $, h, submitter, type Child } from '../../dom';
import { badge, timeEl } from '../../format';
import { session } from '../../session';
import type { OrderContext } from './context';

const lineText = (l: LineSnapshot | null) => (l ? `${l.quantity} × ${l.sku}${l.enrolment ? ` (${l.enrolment})` : ''}` : '—');
const contactText = (d: DeliveryContact | null) =>
  d ? [d.name, d.phone, d.email, ...d.address.lines, d.address.city, d.address.postcode, d.address.country].filter((x) => x?.trim()).join(', ') : '—';
const idsText = (ids: Partial<Record<string, string>> | null) =>
  ids && Object.keys(ids).length
    ? Object.entries(ids)
        .map(([m, id]) => `${m}: ${id}`)
        .join(', ')
    : '—';

/** One change as "what: before → after". */
function changeItem(c: OrderChange): HTMLElement {
  const [what, before, after] =
    c.field === 'line'
      ? [`Line ${c.lineId}`, lineText(c.before), lineText(c.after)]
      : c.field === 'delivery'
        ? ['Delivery', contactText(c.before), contactText(c.after)]
        : c.field === 'billingMode'
          ? ['Billing mode', c.before, c.after]
          : ['Enrolment ids', idsText(c.before), idsText(c.after)];
  return h('li', null, h('strong', null, what), ': ', h('span', { class: 'before' }, before), ' → ', h('span', { class: 'after' }, after));
}

function headOf(e: HistoryEntry): Child {
  if (e.note) return h('span', { class: 'note-tag' }, 'Note');
  if (e.changes) return h('span', { class: 'note-tag' }, 'Edit');
  return e.from === e.to ? h('span', { class: 'note-tag' }, 'Event') : badge(e.to);
}

export function renderTimeline(order: OrderView): void {
  $('#timeline').replaceChildren(
    ...order.history.map((e) => {
      const moved = e.from !== e.to;
      return h(
        'li',
        { class: moved ? null : e.note ? 'tl-note tl-user-note' : 'tl-note' },
        h('div', { class: 'tl-head' }, headOf(e), ' ', timeEl(e.at)),
        h('div', { class: 'tl-body' }, h('span', { class: 'who-did' }, e.by), ' — ', e.note ? h('q', { class: 'note-text' }, e.reason) : e.reason),
        e.changes?.length ? h('ul', { class: 'tl-changes' }, ...e.changes.map(changeItem)) : null,
        e.requestId ? h('div', { class: 'tl-request muted' }, h('small', null, 'request ', h('code', null, e.requestId))) : null,
      );
    }),
  );
  const err = $('#order-error');
  err.hidden = !order.error;
  if (order.error) err.textContent = `${order.error.message} (${order.error.code})`;
}

/** The note form under the timeline: agents and ops, any status. */
export function notes(ctx: OrderContext): void {
  const form = $('#note-form', HTMLFormElement);
  const text = $('#note-text', HTMLTextAreaElement);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await ctx.change(submitter(ev), 'Adding the note', 'POST', '/notes', { text: text.value.trim() });
    if (r) text.value = '';
  });
}

export function renderFraud(order: OrderView): void {
  const f = order.fraud;
  const box = $('#fraud');
  if (!f) {
    box.replaceChildren(h('p', { class: 'muted' }, 'Runs when the order is generated.'));
    return;
  }
  const parts = [h('p', null, f.required ? 'Check required' : 'No check required', f.reasons.length ? `: ${f.reasons.join('; ')}` : '.')];
  if (f.result) {
    parts.push(
      h(
        'p',
        null,
        'Decision: ',
        h('strong', { class: `fraud-${f.result.decision}` }, f.result.decision),
        ` by ${f.result.provider} (ref ${f.result.providerReference}) at `,
        timeEl(f.result.checkedAt),
        f.result.reasons.length ? ` — ${f.result.reasons.join('; ')}` : '',
      ),
    );
  }
  if (f.awaitingReview) {
    parts.push(h('p', { class: 'warn' }, 'Waiting for an ops decision; deadline ', timeEl(f.awaitingReview.deadline), '.'));
    if (session.role === 'ops') parts.push(h('p', null, h('a', { href: '/ops/fraud-reviews' }, 'Decide in the fraud review queue')));
  }
  if (f.review) parts.push(h('p', null, `Reviewed: ${f.review.decision} by ${f.review.by} at `, timeEl(f.review.at), ` — ${f.review.reason}`));
  box.replaceChildren(...parts);
}
