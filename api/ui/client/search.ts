// The header's order search, on every signed-in page: a customer reads out an order, IMEI, serial,
// tracking or invoice number; one order found opens it, several are listed under the box.
import { REFERENCE_LABELS } from '../../../domain/labels';
import { api } from './api';
import type { SearchResult } from './api-types';
import { $, control, h } from './dom';
import { accountLink, badge, orderLink } from './format';
import { run } from './notice';

export function initOrderSearch(): void {
  const form = $('#order-search', HTMLFormElement);
  const input = control(form, 'q');
  const results = $('#order-search-results');
  const close = () => {
    results.hidden = true;
    results.replaceChildren();
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    void (async () => {
      const r = await run($('button', HTMLButtonElement, form), 'Finding the order', () => api<SearchResult>('GET', `/search?q=${encodeURIComponent(q)}`));
      if (!r) return;
      const found = r.body.items;
      const orders = new Set(found.map((m) => m.orderId));
      if (orders.size === 1) {
        location.assign(`/orders/${encodeURIComponent(found[0].orderId)}`);
        return;
      }
      results.replaceChildren(
        found.length
          ? h(
              'div',
              null,
              h('p', null, `${orders.size} orders match “${q}”:`),
              h(
                'ul',
                null,
                found.map((m) =>
                  h('li', null, orderLink(m.orderId), ' ', badge(m.status), ` by ${REFERENCE_LABELS[m.kind]} ${m.value} · account `, accountLink(m.accountId)),
                ),
              ),
            )
          : h('p', null, `No order matches “${q}”. Give the whole number, as printed: an order, IMEI, serial, tracking or invoice number.`),
      );
      results.hidden = false;
    })();
  });
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') close();
  });
  input.addEventListener('input', close);
}
