// Ops: one person's actions across orders (GET /api/v1/audit), a page at a time, each with its
// order, what it did (before → after for edits) and the request id.
import { api } from '../api';
import type { AuditList } from '../api-types';
import { $, h } from '../dom';
import { timeEl } from '../format';
import { run } from '../notice';

/** A date field's day as the range's first or last instant (UTC, as the audit keeps days). */
const dayBound = (day: string, end: boolean) => (day ? `${day}T${end ? '23:59:59.999' : '00:00:00.000'}Z` : '');

export function initAudit(): void {
  const form = $('#audit-filter', HTMLFormElement);
  const tbody = $('#audit tbody');
  const more = $('#audit-more', HTMLButtonElement);
  let cursor: string | null = null;
  const actor = $('#audit-actor', HTMLInputElement);
  actor.value = new URLSearchParams(location.search).get('actor') ?? '';

  const load = async (append: boolean) => {
    const qs = new URLSearchParams({ actor: actor.value.trim(), limit: '50' });
    const from = dayBound($('#audit-from', HTMLInputElement).value, false);
    const to = dayBound($('#audit-to', HTMLInputElement).value, true);
    if (from) qs.set('from', from);
    if (to) qs.set('to', to);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : $('button', HTMLButtonElement, form), 'Loading actions', () => api<AuditList>('GET', `/audit?${qs}`));
    if (!r) return;
    cursor = r.body.nextCursor;
    const rows = r.body.items.map((e) =>
      h(
        'tr',
        null,
        h('td', { class: 'nowrap' }, timeEl(e.at)),
        h('td', null, h('a', { href: `/orders/${encodeURIComponent(e.orderId)}` }, e.orderId), h('small', { class: 'muted' }, e.accountId)),
        h('td', null, e.note ? 'Note: ' : e.from !== e.to ? `${e.from ?? '—'} → ${e.to}: ` : '', e.reason),
        h('td', null, e.requestId ? h('code', null, e.requestId) : '—'),
      ),
    );
    if (append) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    $('#audit-empty').hidden = tbody.children.length > 0;
    // A page can be short (days without actions): the button fetches on while there is a cursor.
    more.hidden = !cursor;
  };

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    cursor = null;
    void load(false);
  });
  more.addEventListener('click', () => void load(true));
  if (actor.value) void load(false);
}
