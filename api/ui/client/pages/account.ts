// An account: its details, its orders (filtered by status, older ones on demand), its billing
// history, and starting a new order on it.
import { BILLING_MODE_LABELS } from '../../../../domain/labels';
import { api } from '../api';
import type { Account, OrderPage, OrderView } from '../api-types';
import { billingHistory } from '../components/billing-history';
import { $, h } from '../dom';
import { badge, formatAddress, money, orderLink, timeEl } from '../format';
import { run } from '../notice';

const orderRow = (o: OrderView) =>
  h(
    'tr',
    null,
    h('td', null, orderLink(o.orderId)),
    h('td', null, timeEl(o.createdAt)),
    h('td', null, badge(o.status)),
    h('td', { class: 'num' }, String(o.lines.length)),
    h('td', { class: 'num' }, money(o.totals.gross, o.currency)),
  );

export async function initAccount(): Promise<void> {
  const accountId = document.body.dataset.accountId ?? '';
  const base = `/accounts/${encodeURIComponent(accountId)}`;
  const acc = await run(null, 'Loading the account', () => api<Account>('GET', base));
  if (!acc) return;
  const a = acc.body;
  document.title = `${a.name} · AgentView`;
  $('#account-title').textContent = `${a.name} (${a.accountId})`;
  const row = (k: string, v: string) => [h('dt', null, k), h('dd', null, v)];
  $('#account-details').replaceChildren(
    ...row('Billing address', formatAddress(a.billingAddress)),
    ...row('Delivery contact', `${a.defaultDelivery.name}, ${formatAddress(a.defaultDelivery.address)}`),
    ...row('Billing', `${BILLING_MODE_LABELS[a.defaultBillingMode]} · invoice day ${a.billingCycleDay} · ${a.currency}`),
  );

  const tbody = $('#orders tbody');
  const filter = $('#status-filter', HTMLSelectElement);
  const more = $('#orders-more', HTMLButtonElement);
  let cursor: string | null = null;
  const load = async (append: boolean) => {
    const qs = new URLSearchParams({ limit: '20' });
    if (filter.value) qs.set('status', filter.value);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : filter, 'Loading orders', () => api<OrderPage>('GET', `${base}/orders?${qs}`));
    if (!r) return;
    cursor = r.body.nextCursor;
    const rows = r.body.items.map(orderRow);
    if (append) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    $('#orders-empty').hidden = tbody.children.length > 0;
    more.hidden = !cursor;
  };
  filter.addEventListener('change', () => void load(false));
  more.addEventListener('click', () => void load(true));
  const newOrder = $('#new-order', HTMLButtonElement);
  newOrder.addEventListener('click', async () => {
    const created = await run(newOrder, 'Starting a new order', () => api<OrderView>('POST', `${base}/orders`, {}));
    if (created) location.assign(`/orders/${encodeURIComponent(created.body.orderId)}`);
  });
  await Promise.all([load(false), billingHistory(accountId, a.currency)]);
}
