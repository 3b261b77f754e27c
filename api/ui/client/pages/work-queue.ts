// Ops: the work queue, a tab per kind with its count. Each item links to where it is dealt with;
// a fraud review is decided here (the only action the API offers on the queue itself).
import { WORK_QUEUE_KINDS, type WorkQueueKind } from '../../../../domain/needs-attention';
import { WORK_QUEUE_LABELS } from '../../../../domain/labels';
import { api } from '../api';
import type { WorkQueue, WorkQueueItem } from '../api-types';
import { $, h } from '../dom';
import { badge, orderLink, timeEl } from '../format';
import { run, showNotice } from '../notice';

type Tab = WorkQueueKind | 'all';

export function initWorkQueue(): void {
  const tabs = $('#queue-tabs');
  const box = $('#queue-items');
  const more = $('#queue-more', HTMLButtonElement);
  let tab: Tab = (new URLSearchParams(location.search).get('kind') as Tab | null) ?? 'all';
  if (tab !== 'all' && !WORK_QUEUE_KINDS.includes(tab)) tab = 'all';
  let cursor: string | null = null;

  const load = async (append = false) => {
    const qs = new URLSearchParams({ limit: '50' });
    if (tab !== 'all') qs.set('kind', tab);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : null, 'Loading the queue', () => api<WorkQueue>('GET', `/work-queue?${qs}`));
    if (!r) return;
    cursor = r.body.nextCursor;
    more.hidden = !cursor;
    renderTabs(r.body.counts);
    const cards = r.body.items.map(itemCard);
    if (append) box.append(...cards);
    else box.replaceChildren(...(cards.length ? cards : [h('p', { class: 'muted card' }, 'Nothing is waiting here.')]));
  };

  function renderTabs(counts: WorkQueue['counts']) {
    const total = WORK_QUEUE_KINDS.reduce((n, k) => n + counts[k], 0);
    const button = (t: Tab, label: string, count: number) => {
      const b = h('button', { type: 'button', role: 'tab', id: `tab-${t}`, 'aria-selected': String(t === tab) }, label, h('span', { class: 'count' }, count));
      b.addEventListener('click', () => {
        tab = t;
        history.replaceState(null, '', t === 'all' ? location.pathname : `?kind=${t}`);
        void load();
      });
      return b;
    };
    tabs.replaceChildren(button('all', 'All', total), ...WORK_QUEUE_KINDS.map((k) => button(k, WORK_QUEUE_LABELS[k], counts[k])));
  }

  function itemCard(item: WorkQueueItem) {
    const where =
      item.kind === 'adaptorException' ? h('a', { href: '/ops/exceptions' }, 'Open the adaptor exceptions') : item.orderId ? orderLink(item.orderId) : null;
    return h(
      'section',
      { class: 'card queue-item', 'data-kind': item.kind, 'aria-label': `${WORK_QUEUE_LABELS[item.kind]} ${item.id}` },
      h('h2', null, WORK_QUEUE_LABELS[item.kind], ' · ', where, ' ', item.status ? badge(item.status) : null),
      h('p', null, item.summary),
      h('p', { class: 'muted' }, item.accountId ? `account ${item.accountId} · ` : '', 'since ', timeEl(item.at)),
      item.kind === 'fraudReview' && item.orderId ? fraudDecision(item.orderId) : null,
    );
  }

  function fraudDecision(orderId: string) {
    const id = `reason-${orderId}`;
    const reason = h('textarea', { id, rows: 2, maxlength: 500, required: true });
    const decide = async (decision: 'approve' | 'reject', btn: HTMLButtonElement) => {
      if (!reason.value.trim()) {
        showNotice('Give a reason for the decision: it is kept in the order history.');
        reason.focus();
        return;
      }
      const done = await run(btn, decision === 'approve' ? 'Approving' : 'Rejecting', () =>
        api('POST', `/orders/${encodeURIComponent(orderId)}/fraud-review`, { decision, reason: reason.value.trim() }),
      );
      if (!done) return;
      // The order leaves the queue once its read model says so: load until it has.
      for (let i = 0; i < 20; i++) {
        await load();
        if (!box.querySelector(`[aria-label="${WORK_QUEUE_LABELS.fraudReview} ${orderId}"]`)) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      showNotice(`${orderId}: ${decision === 'approve' ? 'approved and released to the warehouse' : 'rejected'}.`, 'info');
    };
    const approve = h('button', { type: 'button' }, 'Approve');
    const reject = h('button', { type: 'button', class: 'danger' }, 'Reject');
    approve.addEventListener('click', () => void decide('approve', approve));
    reject.addEventListener('click', () => void decide('reject', reject));
    return h(
      'div',
      null,
      h('div', { class: 'field' }, h('label', { for: id }, 'Reason for the decision'), reason),
      h('div', { class: 'actions' }, approve, reject),
    );
  }

  more.addEventListener('click', () => void load(true));
  void load();
}
