// Ops: orders the fraud check referred, each with a reason box and approve / reject.
import { api } from '../api';
import type { List, OrderView } from '../api-types';
import { $, h } from '../dom';
import { formatAddress, money, orderLink, timeEl } from '../format';
import { busy, run, showNotice } from '../notice';
import { POLL_IDLE_MS } from '../poll';

type Decision = 'approve' | 'reject';

export function initFraudReviews(): void {
  const box = $('#fraud-queue');
  const load = async () => {
    const r = await run(null, 'Loading the queue', () => api<List<OrderView>>('GET', '/fraud-reviews'));
    if (!r) return;
    // An order just decided may still be listed until its workflow moves on.
    const items = r.body.items.filter((o) => !o.fraud?.review);
    if (!items.length) {
      box.replaceChildren(h('p', { class: 'muted card' }, 'No orders are waiting for a fraud decision.'));
      return;
    }
    box.replaceChildren(...items.map(reviewCard));
  };
  // New referrals appear on their own, unless ops are in the middle of writing a reason.
  setInterval(() => {
    const writing = [...box.querySelectorAll('textarea')].some((t) => t.value.trim() || t === document.activeElement);
    if (!document.hidden && !busy() && !writing) void load();
  }, POLL_IDLE_MS);

  function reviewCard(o: OrderView) {
    const id = `reason-${o.orderId}`;
    const reason = h('textarea', { id, rows: 2, maxlength: 500, required: true });
    const decide = async (decision: Decision, btn: HTMLButtonElement) => {
      if (!reason.value.trim()) {
        showNotice('Give a reason for the decision: it is kept in the order history.');
        reason.focus();
        return;
      }
      const done = await run(btn, decision === 'approve' ? 'Approving' : 'Rejecting', () =>
        api('POST', `/orders/${encodeURIComponent(o.orderId)}/fraud-review`, { decision, reason: reason.value.trim() }),
      );
      if (done) {
        await load();
        showNotice(`${o.orderId}: ${decision === 'approve' ? 'approved and released to the warehouse' : 'rejected'}.`, 'info');
      }
    };
    const approve = h('button', { type: 'button' }, 'Approve');
    const reject = h('button', { type: 'button', class: 'danger' }, 'Reject');
    approve.addEventListener('click', () => void decide('approve', approve));
    reject.addEventListener('click', () => void decide('reject', reject));
    const f = o.fraud;
    const d = o.delivery;
    return h(
      'section',
      { class: 'card review', 'aria-label': `Fraud review of ${o.orderId}` },
      h('h2', null, orderLink(o.orderId), ' ', h('small', { class: 'muted' }, `account ${o.accountId} · ${money(o.totals.gross, o.currency)}`)),
      h('p', null, 'Deliver to ', h('strong', null, d ? d.name : '—'), d ? `, ${formatAddress(d.address)}` : ''),
      h('p', null, 'Why referred: ', [...(f?.reasons ?? []), ...(f?.result?.reasons ?? [])].join('; ') || '—'),
      f?.awaitingReview
        ? h('p', { class: 'muted' }, 'Waiting since ', timeEl(f.awaitingReview.since), ' · deadline ', timeEl(f.awaitingReview.deadline))
        : null,
      h('div', { class: 'field' }, h('label', { for: id }, 'Reason for the decision'), reason),
      h('div', { class: 'actions' }, approve, reject),
    );
  }
  void load();
}
