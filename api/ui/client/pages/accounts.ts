// Find an account by id or name; the query stays in the URL so going back shows the results.
import { BILLING_MODE_LABELS } from '../../../../domain/labels';
import { api } from '../api';
import type { Account, List } from '../api-types';
import { recordTable } from '../components/record-table';
import { $, h } from '../dom';
import { accountLink } from '../format';
import { run } from '../notice';

export function initAccounts(): void {
  const form = $('#account-search', HTMLFormElement);
  const input = $('#account-query', HTMLInputElement);
  const results = $('#account-results');
  const search = async (query: string) => {
    const found = await run($('button', HTMLButtonElement, form), 'Searching', () => api<List<Account>>('GET', `/accounts?query=${encodeURIComponent(query)}`));
    if (!found) return;
    const items = found.body.items;
    if (!items.length) {
      results.replaceChildren(h('p', { class: 'muted' }, `No account matches “${query}”.`));
      return;
    }
    results.replaceChildren(
      recordTable(
        items,
        [
          { key: 'accountId', label: 'Account', render: (v) => accountLink(v) },
          { key: 'name', label: 'Name' },
          { key: 'billingAddress', label: 'Billing address', render: (a) => [...a.lines, a.city, a.postcode].join(', ') },
          { key: 'defaultBillingMode', label: 'Billing', render: (v) => BILLING_MODE_LABELS[v] || v },
        ],
        null,
        'Matching accounts',
      ),
    );
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    history.replaceState(null, '', `?q=${encodeURIComponent(q)}`);
    void search(q);
  });
  const q = new URLSearchParams(location.search).get('q');
  if (q) {
    input.value = q;
    void search(q);
  }
  input.focus();
}
