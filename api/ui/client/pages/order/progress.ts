// How the order got where it is: its status history and the fraud check.
import type { OrderView } from '../../api-types';
import { $, h } from '../../dom';
import { badge, timeEl } from '../../format';
import { session } from '../../session';

export function renderTimeline(order: OrderView): void {
  $('#timeline').replaceChildren(
    ...order.history.map((c) => {
      // Entries without a status change are notes (fraud decisions, reviews, warehouse news).
      const note = c.from === c.to;
      return h(
        'li',
        { class: note ? 'tl-note' : null },
        h('div', { class: 'tl-head' }, note ? h('span', { class: 'note-tag' }, 'Note') : badge(c.to), ' ', timeEl(c.at)),
        h('div', { class: 'tl-body' }, h('span', { class: 'who-did' }, c.by), ' — ', c.reason),
      );
    }),
  );
  const err = $('#order-error');
  err.hidden = !order.error;
  if (order.error) err.textContent = `${order.error.message} (${order.error.code})`;
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
