// AgentView's client: fills the server-rendered shells from the public /api/v1 routes using the
// agent's bearer token (kept in sessionStorage for this tab only). Every business decision stays in
// the API: buttons follow the order's allowedActions and any refusal is shown as the API's message.
import { formatMoney } from './money.js';

const KEYS = { token: 'agentview.token', role: 'agentview.role', agentId: 'agentview.agentId' };
const POLL_MS = 1500;
const POLL_IDLE_MS = 5000;
const TERMINAL = ['Complete', 'Error', 'Cancelled'];
const STATUS_LABELS = {
  New: 'New',
  AwaitingGeneration: 'Awaiting Generation',
  AwaitingDispatch: 'Awaiting Dispatch',
  Complete: 'Complete',
  Error: 'Error',
  Cancelled: 'Cancelled',
};
const KIND_LABELS = { handset: 'Handset', peripheral: 'Peripheral', softwareLicence: 'Software licence' };
const BILLING_LABELS = { immediate: 'Bill immediately', nextInvoice: 'Next regular invoice' };
const PROGRAMME_LABELS = { apple: 'Apple', google: 'Android zero-touch', samsung: 'Samsung Knox' };

// ---------------------------------------------------------------- session and API

const session = {
  get token() {
    return sessionStorage.getItem(KEYS.token);
  },
  get role() {
    return sessionStorage.getItem(KEYS.role);
  },
  get agentId() {
    return sessionStorage.getItem(KEYS.agentId) || '';
  },
  save(token, role, agentId) {
    sessionStorage.setItem(KEYS.token, token);
    sessionStorage.setItem(KEYS.role, role);
    sessionStorage.setItem(KEYS.agentId, agentId);
  },
  clear() {
    for (const k of Object.values(KEYS)) sessionStorage.removeItem(k);
  },
};

class ApiRefusal extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Calls /api/v1 with the session's token. Refusals throw ApiRefusal carrying the API's code and message. */
async function api(method, path, body, opts = {}) {
  const token = opts.token ?? session.token;
  const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
  if (session.agentId) headers['x-agent-id'] = session.agentId;
  if (body !== undefined) headers['content-type'] = 'application/json';
  // A POST retried by the browser or a double click must not act twice.
  if (method === 'POST') headers['idempotency-key'] = newKey();
  let res;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiRefusal(0, 'NETWORK', 'The server could not be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const e = json && json.error;
    if (res.status === 401 && !opts.signingIn) {
      // The token stopped working (rotated or mistyped): back to sign in.
      session.clear();
      location.assign(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
    }
    throw new ApiRefusal(res.status, (e && e.code) || `HTTP_${res.status}`, (e && e.message) || `The server answered ${res.status}.`, e && e.details);
  }
  return { status: res.status, body: json };
}

// ---------------------------------------------------------------- DOM helpers

const $ = (sel, root = document) => root.querySelector(sel);

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Infinity)) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const badge = (status) => h('span', { class: `badge s-${status}` }, STATUS_LABELS[status] || status);
const money = (minor, currency) => (typeof minor === 'number' ? formatMoney(minor, currency) : '—');
function when(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
const timeEl = (iso) => h('time', { datetime: iso }, when(iso));

function showNotice(message, kind = 'error', code) {
  const n = $('#notice');
  n.replaceChildren(h('span', { class: 'notice-text' }, message), code ? h('small', { class: 'notice-code' }, ` (${code})`) : null);
  n.className = `notice ${kind}`;
  n.hidden = false;
}
function clearNotice() {
  const n = $('#notice');
  n.hidden = true;
  n.replaceChildren();
}
const showError = (err) => (err instanceof ApiRefusal ? showNotice(err.message, 'error', err.code) : showNotice(String((err && err.message) || err), 'error'));
const say = (text) => {
  $('#busy').textContent = text;
};

/** Runs an agent action: one at a time, its control disabled meanwhile, refusals shown as the API's message. */
let inFlight = 0;
async function run(control, label, fn) {
  clearNotice();
  inFlight++;
  if (control) control.disabled = true;
  say(`${label}…`);
  try {
    const out = await fn();
    say('');
    return out;
  } catch (err) {
    say('');
    showError(err);
    return undefined;
  } finally {
    inFlight--;
    if (control && control.isConnected) control.disabled = false;
  }
}

/** A table of records: only the columns some record has; money columns formatted. */
function recordTable(items, columns, currency, caption) {
  const present = columns.filter((c) => items.some((i) => i[c.key] !== undefined && i[c.key] !== null));
  const cols = present.length ? present : Object.keys(items[0] || {}).filter((k) => typeof items[0][k] !== 'object').map((key) => ({ key, label: key }));
  const cell = (c, item) => {
    const v = item[c.key];
    if (c.render) return c.render(v, item);
    if (c.money) return money(v, item.currency || currency);
    if (c.time) return timeEl(v);
    return v === undefined || v === null || v === '' ? '—' : String(v);
  };
  const cls = (c) => [c.money || c.num ? 'num' : '', c.nowrap || c.time ? 'nowrap' : ''].join(' ').trim() || null;
  const table = h(
    'table',
    { class: 'data' },
    caption ? h('caption', { class: 'visually-hidden' }, caption) : null,
    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col', class: c.money || c.num ? 'num' : null }, c.label)))),
    h('tbody', null, items.map((item) => h('tr', null, cols.map((c) => h('td', { class: cls(c) }, cell(c, item)))))),
  );
  return h('div', { class: 'table-wrap' }, table);
}

// ---------------------------------------------------------------- common frame

function requireSession() {
  if (session.token) return true;
  location.replace(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
  return false;
}

function initFrame() {
  const who = $('#signed-in-as');
  if (who) who.textContent = `Signed in as ${session.agentId || 'an unnamed agent'} (${session.role})`;
  if (session.role === 'ops') for (const el of document.querySelectorAll('[data-ops-only]')) el.hidden = false;
  const out = $('#sign-out');
  if (out)
    out.addEventListener('click', () => {
      session.clear();
      location.assign('/signin');
    });
}

// ---------------------------------------------------------------- sign in

function initSignIn() {
  const form = $('#signin-form');
  const token = $('#token');
  const agentId = $('#agent-id');
  agentId.value = session.agentId;
  token.focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = token.value.trim();
    if (!value) {
      showNotice('Enter your token.');
      token.focus();
      return;
    }
    const ok = await run(form.querySelector('button[type=submit]'), 'Checking the token', async () => {
      // A cheap authenticated read proves the token; the fraud queue tells ops from agents.
      try {
        await api('GET', '/catalogue?kind=softwareLicence', undefined, { token: value, signingIn: true });
      } catch (err) {
        if (err instanceof ApiRefusal && err.status === 403) throw new ApiRefusal(403, err.code, 'This token is not for AgentView: it has neither the agent nor the ops role.');
        throw err;
      }
      let role = 'agent';
      try {
        await api('GET', '/fraud-reviews', undefined, { token: value, signingIn: true });
        role = 'ops';
      } catch (err) {
        if (!(err instanceof ApiRefusal && err.status === 403)) throw err;
      }
      session.save(value, role, agentId.value.trim().replace(/[^\w.@-]/g, '').slice(0, 64));
      return true;
    });
    if (!ok) {
      session.clear();
      token.select();
      return;
    }
    const next = new URLSearchParams(location.search).get('next');
    location.assign(next && next.startsWith('/') && !next.startsWith('//') ? next : '/accounts');
  });
}

// ---------------------------------------------------------------- accounts

function initAccounts() {
  const form = $('#account-search');
  const input = $('#account-query');
  const results = $('#account-results');
  const search = async (query) => {
    const found = await run(form.querySelector('button'), 'Searching', () => api('GET', `/accounts?query=${encodeURIComponent(query)}`));
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
          { key: 'accountId', label: 'Account', render: (v) => h('a', { href: `/accounts/${encodeURIComponent(v)}` }, v) },
          { key: 'name', label: 'Name' },
          { key: 'billingAddress', label: 'Billing address', render: (a) => [...a.lines, a.city, a.postcode].join(', ') },
          { key: 'defaultBillingMode', label: 'Billing', render: (v) => BILLING_LABELS[v] || v },
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

/** Billing history from the billing routes, where this server has them. */
async function billingHistory(accountId, currency) {
  const box = $('#account-billing');
  const get = async (path) => {
    try {
      const r = await api('GET', path);
      return Array.isArray(r.body) ? r.body : r.body.items || [];
    } catch (err) {
      if (err instanceof ApiRefusal && err.status === 404) return null;
      throw err;
    }
  };
  try {
    const [invoices, charges] = await Promise.all([get(`/accounts/${encodeURIComponent(accountId)}/invoices`), get(`/accounts/${encodeURIComponent(accountId)}/charges`)]);
    if (invoices === null && charges === null) {
      box.replaceChildren(h('p', { class: 'muted' }, 'Billing history is not available on this server yet; charges show on each order.'));
      return;
    }
    const parts = [];
    if (invoices) {
      parts.push(h('h3', null, 'Invoices'));
      parts.push(
        invoices.length
          ? recordTable(
              invoices,
              [
                { key: 'invoiceNumber', label: 'Invoice' },
                { key: 'kind', label: 'Kind', render: (v) => (v === 'offCycle' ? 'Immediate' : v === 'cycle' ? 'Regular' : v) },
                { key: 'issuedAt', label: 'Issued', time: true },
                { key: 'chargeCount', label: 'Charges', num: true },
                { key: 'totals', label: 'Net', num: true, render: (t, i) => money(t && t.net, i.currency) },
                { key: 'totals', label: 'Tax', num: true, render: (t, i) => money(t && t.tax, i.currency) },
                { key: 'totals', label: 'Total', num: true, render: (t, i) => money(t && t.gross, i.currency) },
              ],
              currency,
              'Invoices',
            )
          : h('p', { class: 'muted' }, 'No invoices.'),
      );
    }
    if (charges) {
      parts.push(h('h3', null, 'Charges'));
      parts.push(
        charges.length
          ? recordTable(
              charges,
              [
                { key: 'createdAt', label: 'Date', time: true },
                { key: 'orderId', label: 'Order', render: (v) => h('a', { href: `/orders/${encodeURIComponent(v)}` }, v) },
                { key: 'description', label: 'Description' },
                { key: 'quantity', label: 'Qty', num: true },
                { key: 'amount', label: 'Net', money: true },
                { key: 'tax', label: 'Tax', money: true },
                { key: 'invoiceNumber', label: 'Invoice', render: (v) => v || 'next invoice' },
              ],
              currency,
              'Charges',
            )
          : h('p', { class: 'muted' }, 'No charges.'),
      );
    }
    box.replaceChildren(...parts);
  } catch (err) {
    box.replaceChildren(h('p', { class: 'muted' }, `Billing history could not be loaded: ${err.message}`));
  }
}

function formatAddress(a) {
  return a ? [...(a.lines || []), a.city, a.region, a.postcode, a.country].filter(Boolean).join(', ') : '—';
}

async function initAccount() {
  const accountId = document.body.dataset.accountId;
  const acc = await run(null, 'Loading the account', () => api('GET', `/accounts/${encodeURIComponent(accountId)}`));
  if (!acc) return;
  const a = acc.body;
  document.title = `${a.name} · AgentView`;
  $('#account-title').textContent = `${a.name} (${a.accountId})`;
  const dl = $('#account-details');
  const row = (k, v) => [h('dt', null, k), h('dd', null, v)];
  dl.replaceChildren(
    ...row('Billing address', formatAddress(a.billingAddress)),
    ...row('Delivery contact', `${a.defaultDelivery.name}, ${formatAddress(a.defaultDelivery.address)}`),
    ...row('Billing', `${BILLING_LABELS[a.defaultBillingMode]} · invoice day ${a.billingCycleDay} · ${a.currency}`),
  );

  const tbody = $('#orders tbody');
  const filter = $('#status-filter');
  const more = $('#orders-more');
  let cursor = null;
  const load = async (append) => {
    const qs = new URLSearchParams({ limit: '20' });
    if (filter.value) qs.set('status', filter.value);
    if (append && cursor) qs.set('cursor', cursor);
    const r = await run(append ? more : filter, 'Loading orders', () => api('GET', `/accounts/${encodeURIComponent(accountId)}/orders?${qs}`));
    if (!r) return;
    cursor = r.body.nextCursor;
    const rows = r.body.items.map((o) =>
      h(
        'tr',
        null,
        h('td', null, h('a', { href: `/orders/${encodeURIComponent(o.orderId)}` }, o.orderId)),
        h('td', null, timeEl(o.createdAt)),
        h('td', null, badge(o.status)),
        h('td', { class: 'num' }, String(o.lines.length)),
        h('td', { class: 'num' }, money(o.totals.gross, o.currency)),
      ),
    );
    if (append) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    $('#orders-empty').hidden = tbody.children.length > 0;
    more.hidden = !cursor;
  };
  filter.addEventListener('change', () => void load(false));
  more.addEventListener('click', () => void load(true));
  $('#new-order').addEventListener('click', async (ev) => {
    const created = await run(ev.currentTarget, 'Starting a new order', () => api('POST', `/accounts/${encodeURIComponent(accountId)}/orders`, {}));
    if (created) location.assign(`/orders/${encodeURIComponent(created.body.orderId)}`);
  });
  await Promise.all([load(false), billingHistory(accountId, a.currency)]);
}

// ---------------------------------------------------------------- stock

function stockTable(result) {
  const parts = [
    recordTable(
      result.items,
      [
        { key: 'sku', label: 'SKU', nowrap: true },
        { key: 'requested', label: 'Requested', num: true },
        { key: 'status', label: 'Asked warehouse', nowrap: true, render: (v, i) => [`${i.askedWarehouseId}: `, h('span', { class: `stock st-${v}` }, v)] },
        { key: 'overallStatus', label: 'All warehouses', nowrap: true, render: (v, i) => [h('span', { class: `stock st-${v}` }, v), ` (${i.totalAvailable})`] },
        { key: 'warehouses', label: 'Per warehouse', render: (ws) => ws.map((w) => h('div', { class: 'nowrap' }, `${w.warehouseId}: ${w.available}`)) },
        { key: 'alternativeWarehouse', label: 'Alternative' },
      ],
      null,
      'Stock per SKU',
    ),
    h('p', { class: 'muted' }, 'Checked ', timeEl(result.checkedAt)),
  ];
  if (result.unavailableWarehouses.length) {
    parts.push(h('p', { class: 'warn' }, 'Did not answer: ', result.unavailableWarehouses.map((u) => `${u.warehouseId} (${u.message})`).join('; ')));
  }
  return parts;
}

function initStock() {
  const form = $('#stock-form');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const skus = $('#stock-skus')
      .value.split(/[\s,]+/)
      .map((s) => s.trim())
      .filter(Boolean);
    const qs = new URLSearchParams();
    for (const s of skus) qs.append('sku', s);
    const wh = $('#stock-warehouse').value.trim();
    if (wh) qs.set('warehouse', wh);
    const r = await run(form.querySelector('button[type=submit]'), 'Checking stock', () => api('GET', `/stock?${qs}`));
    if (r) $('#stock-result').replaceChildren(...stockTable(r.body));
  });
  $('#stock-skus').focus();
}

// ---------------------------------------------------------------- order

function initOrder() {
  const orderId = document.body.dataset.orderId;
  const path = `/orders/${encodeURIComponent(orderId)}`;
  let order = null;
  let account = null;
  const products = new Map();
  let deliveryDirty = false;
  let renderedLinesRevision = -1;
  const invoiceCache = new Map();

  const allowed = (a) => order.allowedActions.includes(a);

  // ---- actions that change the order: each answers with the order view, rendered at once
  async function change(control, label, method, suffix, body) {
    const r = await run(control, label, () => api(method, `${path}${suffix}`, body));
    if (!r) return null;
    const view = r.body.order || r.body;
    if (Array.isArray(view.allowedActions)) render(view);
    return r;
  }

  $('#generate').addEventListener('click', (ev) => void change(ev.currentTarget, 'Generating the order', 'POST', '/generate'));
  $('#cancel-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await change(ev.submitter, 'Cancelling', 'POST', '/cancel', { reason: $('#cancel-reason').value.trim() || 'cancelled by agent' });
    if (r && r.status === 202) showNotice('The warehouse already has this order: cancellation has been requested from it.', 'info');
  });
  $('#check-stock').addEventListener('click', async (ev) => {
    const r = await run(ev.currentTarget, 'Checking stock', () => api('GET', `${path}/stock-check`));
    if (!r) return;
    $('#stock-section').hidden = false;
    $('#stock-result').replaceChildren(...stockTable(r.body));
  });

  // ---- catalogue
  const catalogueBody = $('#catalogue tbody');
  async function searchCatalogue(control) {
    const qs = new URLSearchParams();
    const kind = $('#catalogue-kind').value;
    const q = $('#catalogue-q').value.trim();
    if (kind) qs.set('kind', kind);
    if (q) qs.set('q', q);
    const r = await run(control, 'Searching the catalogue', () => api('GET', `/catalogue?${qs}`));
    if (!r) return;
    for (const p of r.body.items) products.set(p.sku, p);
    catalogueBody.replaceChildren(...r.body.items.map(catalogueRow));
    if (!r.body.items.length) catalogueBody.replaceChildren(h('tr', null, h('td', { colspan: 5, class: 'muted' }, 'Nothing matches.')));
  }
  function catalogueRow(p) {
    const qty = h('input', { type: 'number', min: 1, max: 999, value: '1', class: 'qty', 'aria-label': `Quantity of ${p.name}` });
    const enrol = p.enrolmentProgrammes.length
      ? h('select', { 'aria-label': `Enrolment for ${p.name}`, class: 'enrol', hidden: !allowed('requestEnrolment') }, h('option', { value: '' }, 'None'), p.enrolmentProgrammes.map((m) => h('option', { value: m }, PROGRAMME_LABELS[m] || m)))
      : h('span', { class: 'muted' }, '—');
    const add = h('button', { type: 'button', class: 'small', 'aria-label': `Add ${p.name}` }, 'Add');
    add.addEventListener('click', () => {
      const quantity = Number(qty.value);
      const body = { sku: p.sku, quantity };
      if (enrol.tagName === 'SELECT' && enrol.value) body.enrolment = enrol.value;
      void change(add, `Adding ${p.sku}`, 'POST', '/lines', body);
    });
    return h(
      'tr',
      { 'data-sku': p.sku },
      h('td', null, h('div', null, p.name), h('small', { class: 'muted' }, `${p.sku} · ${KIND_LABELS[p.kind] || p.kind}`)),
      h('td', { class: 'num' }, money(p.unitPrice, p.currency)),
      h('td', null, qty),
      h('td', null, enrol),
      h('td', null, add),
    );
  }
  $('#catalogue-search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    void searchCatalogue(ev.submitter);
  });
  $('#catalogue-kind').addEventListener('change', () => void searchCatalogue(null));

  // ---- delivery and billing mode
  const dform = $('#delivery-form');
  const field = (name) => dform.elements.namedItem(name);
  dform.addEventListener('input', () => {
    deliveryDirty = true;
  });
  function fillDelivery(d) {
    if (!d) return;
    field('name').value = d.name || '';
    field('phone').value = d.phone || '';
    field('email').value = d.email || '';
    field('line1').value = d.address.lines[0] || '';
    field('line2').value = d.address.lines.slice(1).join(', ');
    field('city').value = d.address.city || '';
    field('region').value = d.address.region || '';
    field('postcode').value = d.address.postcode || '';
    field('country').value = d.address.country || '';
  }
  dform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (n) => field(n).value.trim();
    const opt = (n) => (v(n) ? v(n) : undefined);
    const delivery = {
      name: v('name'),
      phone: opt('phone'),
      email: opt('email'),
      address: { lines: [v('line1'), v('line2')].filter(Boolean), city: v('city'), region: opt('region'), postcode: v('postcode'), country: v('country').toUpperCase() },
    };
    const r = await change(ev.submitter, 'Saving the delivery', 'PUT', '/delivery', delivery);
    if (r) {
      deliveryDirty = false;
      fillDelivery(r.body.delivery);
      say('Delivery saved.');
    }
  });
  $('#delivery-from-account').addEventListener('click', () => {
    if (!account) return;
    fillDelivery(account.defaultDelivery);
    deliveryDirty = true;
    say("The account's contact is filled in: save to use it.");
  });
  for (const radio of document.querySelectorAll('input[name=billingMode]')) {
    radio.addEventListener('change', async () => {
      const r = await change(radio, 'Changing the billing mode', 'PUT', '/billing-mode', { billingMode: radio.value });
      if (!r) renderBillingMode();
    });
  }
  function renderBillingMode() {
    for (const radio of document.querySelectorAll('input[name=billingMode]')) {
      radio.checked = radio.value === order.billingMode;
      radio.disabled = !allowed('setBillingMode');
    }
  }

  // ---- lines
  function renderLines() {
    const tbody = $('#lines tbody');
    const edit = allowed('editLines');
    const enrolEdit = allowed('requestEnrolment');
    tbody.replaceChildren(
      ...order.lines.map((l) => {
        const netCell = h('td', { class: 'num' }, money(l.unitPrice * l.quantity, order.currency));
        let qtyCell = String(l.quantity);
        if (edit) {
          const qty = h('input', { type: 'number', min: 1, max: 999, value: String(l.quantity), class: 'qty', 'aria-label': `Quantity of ${l.description}` });
          const save = h('button', { type: 'button', class: 'small secondary', hidden: true }, 'Update');
          // Live preview of the line while typing; the API's totals replace it once saved.
          qty.addEventListener('input', () => {
            const n = Number(qty.value);
            const valid = Number.isInteger(n) && n >= 1 && n <= 999;
            netCell.textContent = valid ? money(l.unitPrice * n, order.currency) : '—';
            netCell.classList.toggle('pending', n !== l.quantity);
            save.hidden = n === l.quantity;
          });
          const submit = () => void change(save, `Changing line ${l.lineNumber}`, 'PATCH', `/lines/${encodeURIComponent(l.lineId)}`, { quantity: Number(qty.value) });
          save.addEventListener('click', submit);
          qty.addEventListener('keydown', (e) => {
            if (e.key === 'Enter') submit();
          });
          qtyCell = h('span', { class: 'qty-edit' }, qty, save);
        }
        const programmes = (products.get(l.sku) || {}).enrolmentProgrammes || [];
        let enrolCell = l.enrolment ? PROGRAMME_LABELS[l.enrolment] || l.enrolment : programmes.length ? 'None' : '—';
        if (enrolEdit && programmes.length) {
          const sel = h('select', { 'aria-label': `Enrolment for ${l.description}` }, h('option', { value: '' }, 'None'), programmes.map((m) => h('option', { value: m }, PROGRAMME_LABELS[m] || m)));
          sel.value = l.enrolment || '';
          sel.addEventListener('change', () => void change(sel, `Changing enrolment of line ${l.lineNumber}`, 'PATCH', `/lines/${encodeURIComponent(l.lineId)}`, { enrolment: sel.value || null }));
          enrolCell = sel;
        }
        const remove = edit ? h('button', { type: 'button', class: 'small danger-link', 'aria-label': `Remove ${l.description}` }, 'Remove') : null;
        if (remove) remove.addEventListener('click', () => void change(remove, `Removing line ${l.lineNumber}`, 'DELETE', `/lines/${encodeURIComponent(l.lineId)}`));
        return h(
          'tr',
          { 'data-sku': l.sku },
          h('td', null, String(l.lineNumber)),
          h('td', null, h('div', null, l.description), h('small', { class: 'muted' }, `${l.sku} · ${KIND_LABELS[l.kind] || l.kind}`)),
          h('td', null, qtyCell),
          h('td', null, enrolCell),
          h('td', { class: 'num' }, money(l.unitPrice, order.currency)),
          netCell,
          h('td', null, remove),
        );
      }),
    );
    $('#lines-empty').hidden = order.lines.length > 0;
    $('#total-net').textContent = money(order.totals.net, order.currency);
    $('#total-tax').textContent = money(order.totals.tax, order.currency);
    $('#total-gross').textContent = money(order.totals.gross, order.currency);
  }

  // ---- progress
  function renderTimeline() {
    $('#timeline').replaceChildren(
      ...order.history.map((c) =>
        h(
          'li',
          // Entries without a status change are notes (fraud decisions, reviews, warehouse news).
          { class: c.from === c.to ? 'tl-note' : null },
          h('div', { class: 'tl-head' }, c.from === c.to ? h('span', { class: 'note-tag' }, 'Note') : badge(c.to), ' ', timeEl(c.at)),
          h('div', { class: 'tl-body' }, h('span', { class: 'who-did' }, c.by), ' — ', c.reason),
        ),
      ),
    );
    const err = $('#order-error');
    err.hidden = !order.error;
    if (order.error) err.textContent = `${order.error.message} (${order.error.code})`;
  }

  function renderFraud() {
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

  const shipDates = (units) => {
    const dates = [...new Set(units.map((u) => u.shipDate).filter(Boolean))];
    return dates.length ? ` · shipped ${dates.join(', ')}` : '';
  };

  function renderSubOrders() {
    const box = $('#suborders');
    const parts = [];
    if (!order.subOrders.length) parts.push(h('p', { class: 'muted' }, 'Sub-orders are created per warehouse when the order is generated.'));
    for (const s of order.subOrders) {
      parts.push(
        h(
          'div',
          { class: 'suborder' },
          h('h3', null, `${s.subOrderNumber} `, h('span', { class: `badge so-${s.status}` }, s.status)),
          h(
            'p',
            { class: 'muted' },
            `Warehouse ${s.warehouseId} · `,
            s.lines.map((l) => `line ${l.lineNumber}: ${l.quantity} × ${l.sku}`).join(', '),
            shipDates(s.units),
          ),
          s.error ? h('p', { class: 'error-box' }, `${s.error.message} (${s.error.code})`) : null,
          s.units.length
            ? recordTable(
                s.units,
                [
                  { key: 'sku', label: 'Line', nowrap: true, render: (v, u) => `${u.lineNumber}: ${v}` },
                  { key: 'quantity', label: 'Qty', num: true },
                  {
                    key: 'rowKey',
                    label: 'Device',
                    nowrap: true,
                    render: (_v, u) => {
                      const ids = [u.imei && `IMEI ${u.imei}`, u.imei2 && `IMEI2 ${u.imei2}`, u.serialNumber && `SN ${u.serialNumber}`].filter(Boolean);
                      return ids.length ? ids.map((x) => h('div', null, x)) : '—';
                    },
                  },
                  { key: 'trackingNumber', label: 'Tracking', nowrap: true, render: (v, u) => (v ? `${u.carrier ? `${u.carrier} ` : ''}${v}` : '—') },
                ],
                order.currency,
                `Units dispatched for ${s.subOrderNumber}`,
              )
            : null,
          s.lineExceptions.length
            ? recordTable(
                s.lineExceptions,
                [
                  { key: 'lineNumber', label: 'Line', num: true },
                  { key: 'disposition', label: 'Outcome' },
                  { key: 'code', label: 'Code' },
                  { key: 'message', label: 'Message' },
                ],
                order.currency,
                `Line exceptions for ${s.subOrderNumber}`,
              )
            : null,
        ),
      );
    }
    if (order.licences && order.licences.length) {
      parts.push(h('h3', null, 'Software licences'));
      parts.push(h('ul', null, order.licences.map((l) => h('li', null, `Line ${l.lineNumber}: `, l.keys.map((k) => h('code', null, k)).flatMap((c, i) => (i ? [', ', c] : [c]))))));
    }
    box.replaceChildren(...parts);
  }

  // ---- device enrolment: programme ids on a New order, then per-device progress from the enrolment routes
  const eform = $('#enrolment-form');
  eform.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const customerIds = {};
    for (const m of programmesUsed()) if (eform.elements.namedItem(m).value.trim()) customerIds[m] = eform.elements.namedItem(m).value.trim();
    const r = await run(ev.submitter, 'Saving the programme ids', () => api('POST', `${path}/enrolment`, { customerIds }));
    if (r) showRecordedIds(r.body.enrolmentCustomerIds || {});
  });
  function showRecordedIds(ids) {
    const list = Object.entries(ids).filter(([, id]) => id);
    for (const [m, id] of list) eform.elements.namedItem(m).value = id;
    $('#enrolment-recorded').textContent = list.length ? `Recorded: ${list.map(([m, id]) => `${PROGRAMME_LABELS[m] || m} ${id}`).join(', ')}.` : '';
  }
  const programmesUsed = () => [...new Set(order.lines.map((l) => l.enrolment).filter(Boolean))];
  let enrolmentDevices = null;
  let enrolmentRoute = true;

  function renderEnrolment() {
    const used = programmesUsed();
    const devices = enrolmentDevices || [];
    $('#enrolment-section').hidden = !used.length && !devices.length;
    $('#enrolment').replaceChildren(...order.lines.filter((l) => l.enrolment).map((l) => h('p', null, `Line ${l.lineNumber} (${l.sku}): ${PROGRAMME_LABELS[l.enrolment] || l.enrolment} requested`)));
    eform.hidden = !(allowed('requestEnrolment') && used.length);
    for (const m of Object.keys(PROGRAMME_LABELS)) eform.elements.namedItem(m).closest('.field').hidden = !used.includes(m);
    $('#enrolment-devices').replaceChildren(
      devices.length
        ? recordTable(
            devices,
            [
              { key: 'deviceId', label: 'Device', nowrap: true },
              { key: 'sku', label: 'Line', nowrap: true, render: (v, d) => `${d.lineNumber}: ${v}` },
              { key: 'manufacturer', label: 'Programme', render: (v) => PROGRAMME_LABELS[v] || v },
              { key: 'enrolment', label: 'State' },
              { key: 'last', label: 'Last instruction', render: (l) => (l ? [`${l.action} ${l.status}`, l.result && l.result.message ? ` — ${l.result.message}` : ''] : '—') },
            ],
            order.currency,
            'Enrolment per device',
          )
        : '',
    );
  }

  /** Ids recorded earlier (another visit, another agent), where the enrolment routes exist. */
  async function loadRecordedIds() {
    if (!programmesUsed().length) return;
    try {
      const r = await api('GET', `${path}/enrolment`);
      showRecordedIds(Object.fromEntries((r.body.requests || []).map((q) => [q.manufacturer, q.customerId])));
    } catch (err) {
      if (err instanceof ApiRefusal && err.status === 404) enrolmentRoute = false;
    }
  }

  const FINAL = ['enrolled', 'unenrolled', 'failed', 'enrolledElsewhere'];
  /** Enrolment moves on without changing the order, so it is polled on its own until every device is final. */
  async function refreshEnrolment() {
    if (!enrolmentRoute || !order || order.status !== 'Complete' || !programmesUsed().length) return;
    if (enrolmentDevices && enrolmentDevices.length && enrolmentDevices.every((d) => d.last && FINAL.includes(d.last.status))) return;
    try {
      const r = await api('GET', `${path}/enrolment`);
      enrolmentDevices = r.body.devices || [];
      renderEnrolment();
    } catch (err) {
      if (err instanceof ApiRefusal && err.status === 404) enrolmentRoute = false; // not on this server
    }
  }

  function renderCharges() {
    const box = $('#charges');
    const parts = [];
    if (!order.charges.length) {
      parts.push(h('p', { class: 'muted' }, order.billingMode === 'immediate' ? 'The customer is charged when the order completes, on an immediate invoice.' : 'The customer is charged when the order completes, on the next regular invoice.'));
    } else {
      parts.push(
        recordTable(
          order.charges,
          [
            { key: 'lineNumber', label: 'Line', num: true },
            { key: 'description', label: 'Description' },
            { key: 'quantity', label: 'Qty', num: true },
            { key: 'amount', label: 'Net', money: true },
            { key: 'tax', label: 'Tax', money: true },
            { key: 'invoiceNumber', label: 'Invoice', nowrap: true, render: (v) => v || 'next invoice' },
          ],
          order.currency,
          'Charges',
        ),
      );
      const net = order.charges.reduce((s, c) => s + c.amount, 0);
      const tax = order.charges.reduce((s, c) => s + c.tax, 0);
      parts.push(h('p', { class: 'charge-total' }, `Charged ${money(net + tax, order.currency)} (${money(net, order.currency)} + ${money(tax, order.currency)} tax)`));
    }
    if (order.invoiceNumber) {
      const inv = h('p', { class: 'invoice' }, 'Invoice ', h('strong', { id: 'invoice-number' }, order.invoiceNumber));
      parts.push(inv);
      void invoiceDetails(order.invoiceNumber, inv);
    }
    box.replaceChildren(...parts);
  }

  /** The invoice itself, where the billing routes exist (a 404 just leaves the number). */
  async function invoiceDetails(n, el) {
    if (!invoiceCache.has(n)) {
      invoiceCache.set(
        n,
        api('GET', `/invoices/${encodeURIComponent(n)}`).then(
          (r) => r.body,
          () => null,
        ),
      );
    }
    const inv = await invoiceCache.get(n);
    const gross = inv && inv.totals ? inv.totals.gross : inv && inv.gross;
    if (typeof gross === 'number' && el.isConnected) el.append(` · issued `, timeEl(inv.issuedAt), ` · total ${money(gross, inv.currency || order.currency)}`);
  }

  function render(view) {
    const firstRender = !order;
    const statusChanged = !order || order.status !== view.status;
    order = view;
    document.title = `${order.orderId} · ${STATUS_LABELS[order.status]} · AgentView`;
    const st = $('#order-status');
    st.className = `badge s-${order.status}`;
    st.textContent = STATUS_LABELS[order.status] + (order.cancellationRequested ? ' (cancellation requested)' : '');
    $('#order-meta').replaceChildren(
      'Account ',
      h('a', { href: `/accounts/${encodeURIComponent(order.accountId)}` }, account ? `${account.name} (${order.accountId})` : order.accountId),
      ' · created ',
      timeEl(order.createdAt),
      ` by ${order.createdBy} · ${BILLING_LABELS[order.billingMode]}`,
    );
    $('#generate').hidden = !allowed('generate');
    $('#cancel-form').hidden = !allowed('cancel');
    $('#check-stock').hidden = order.status !== 'New';
    const tl = $('#temporal-link');
    tl.hidden = !order.temporalUrl;
    if (order.temporalUrl) tl.href = order.temporalUrl;
    $('#catalogue-section').hidden = !allowed('editLines');
    $('#delivery-fields').disabled = !allowed('setDelivery');
    // Once the delivery is fixed it reads as an address, not as a disabled form.
    $('#delivery-form').hidden = !allowed('setDelivery');
    const summary = $('#delivery-summary');
    summary.hidden = allowed('setDelivery');
    const d = order.delivery;
    summary.replaceChildren(...(d ? [h('strong', null, d.name), h('br'), formatAddress(d.address), h('br'), [d.phone, d.email].filter(Boolean).join(' · ')] : ['No delivery contact.']));
    $('#side').classList.toggle('editing', allowed('setDelivery'));
    $('#order-actions').hidden = [...$('#order-actions').children].every((c) => c.hidden);
    if (firstRender || statusChanged || !deliveryDirty) {
      fillDelivery(order.delivery || (account && account.defaultDelivery));
      deliveryDirty = false;
    }
    renderBillingMode();
    if (order.revision !== renderedLinesRevision || statusChanged) {
      renderLines();
      renderedLinesRevision = order.revision;
    }
    renderTimeline();
    renderFraud();
    renderSubOrders();
    renderEnrolment();
    renderCharges();
  }

  // ---- live progress: poll the order while the page is open
  let lastSeen = '';
  async function poll() {
    if (!document.hidden && inFlight === 0 && order) {
      try {
        const r = await api('GET', path);
        // Compared whole: parts such as the invoice may change without a new revision.
        const seen = JSON.stringify(r.body);
        if (seen !== lastSeen) {
          lastSeen = seen;
          render(r.body);
        }
        await refreshEnrolment();
        $('#main').classList.remove('stale');
      } catch {
        // Shown as stale; the next poll tries again.
        $('#main').classList.add('stale');
      }
    }
    setTimeout(poll, order && TERMINAL.includes(order.status) && (order.invoiceNumber || order.status !== 'Complete') ? POLL_IDLE_MS : POLL_MS);
  }

  (async () => {
    const first = await run(null, 'Loading the order', () => api('GET', path));
    if (!first) return;
    const [acc, cat] = await Promise.all([api('GET', `/accounts/${encodeURIComponent(first.body.accountId)}`).catch(() => null), api('GET', '/catalogue').catch(() => null)]);
    account = acc && acc.body;
    if (cat) for (const p of cat.body.items) products.set(p.sku, p);
    lastSeen = JSON.stringify(first.body);
    render(first.body);
    await loadRecordedIds();
    if (allowed('editLines')) await searchCatalogue(null);
    setTimeout(poll, POLL_MS);
  })();
}

// ---------------------------------------------------------------- ops

function initFraudReviews() {
  const box = $('#fraud-queue');
  const load = async () => {
    const r = await run(null, 'Loading the queue', () => api('GET', '/fraud-reviews'));
    if (!r) return;
    // An order just decided may still be listed until its workflow moves on.
    const items = r.body.items.filter((o) => !(o.fraud && o.fraud.review));
    if (!items.length) {
      box.replaceChildren(h('p', { class: 'muted card' }, 'No orders are waiting for a fraud decision.'));
      return;
    }
    box.replaceChildren(...items.map(reviewCard));
  };
  // New referrals appear on their own, unless ops are in the middle of writing a reason.
  setInterval(() => {
    const writing = [...box.querySelectorAll('textarea')].some((t) => t.value.trim() || t === document.activeElement);
    if (!document.hidden && inFlight === 0 && !writing) void load();
  }, POLL_IDLE_MS);
  function reviewCard(o) {
    const id = `reason-${o.orderId}`;
    const reason = h('textarea', { id, rows: 2, maxlength: 500, required: true });
    const decide = async (decision, btn) => {
      if (!reason.value.trim()) {
        showNotice('Give a reason for the decision: it is kept in the order history.');
        reason.focus();
        return;
      }
      const done = await run(btn, decision === 'approve' ? 'Approving' : 'Rejecting', () => api('POST', `/orders/${encodeURIComponent(o.orderId)}/fraud-review`, { decision, reason: reason.value.trim() }));
      if (done) {
        await load();
        showNotice(`${o.orderId}: ${decision === 'approve' ? 'approved and released to the warehouse' : 'rejected'}.`, 'info');
      }
    };
    const approve = h('button', { type: 'button' }, 'Approve');
    const reject = h('button', { type: 'button', class: 'danger' }, 'Reject');
    approve.addEventListener('click', () => void decide('approve', approve));
    reject.addEventListener('click', () => void decide('reject', reject));
    const f = o.fraud || {};
    const d = o.delivery;
    return h(
      'section',
      { class: 'card review', 'aria-label': `Fraud review of ${o.orderId}` },
      h('h2', null, h('a', { href: `/orders/${encodeURIComponent(o.orderId)}` }, o.orderId), ' ', h('small', { class: 'muted' }, `account ${o.accountId} · ${money(o.totals.gross, o.currency)}`)),
      h('p', null, 'Deliver to ', h('strong', null, d ? d.name : '—'), d ? `, ${formatAddress(d.address)}` : ''),
      h('p', null, 'Why referred: ', [...(f.reasons || []), ...((f.result && f.result.reasons) || [])].join('; ') || '—'),
      f.awaitingReview ? h('p', { class: 'muted' }, 'Waiting since ', timeEl(f.awaitingReview.since), ' · deadline ', timeEl(f.awaitingReview.deadline)) : null,
      h('div', { class: 'field' }, h('label', { for: id }, 'Reason for the decision'), reason),
      h('div', { class: 'actions' }, approve, reject),
    );
  }
  void load();
}

function initExceptions() {
  const form = $('#exceptions-filter');
  const box = $('#exceptions');
  const load = async () => {
    const qs = new URLSearchParams({ limit: '200' });
    const wh = $('#exc-warehouse').value.trim();
    if (wh) qs.set('warehouseId', wh);
    const r = await run(form.querySelector('button'), 'Loading exceptions', () => api('GET', `/adaptor/exceptions?${qs}`));
    if (!r) return;
    const items = r.body.items.map((e) => ({ ...e, subOrderNumber: e.row && e.row.subOrderNumber, sku: e.row && e.row.sku }));
    box.replaceChildren(
      items.length
        ? h(
            'div',
            { class: 'card' },
            recordTable(
              items,
              [
                { key: 'createdAt', label: 'When', time: true },
                { key: 'warehouseId', label: 'Warehouse' },
                { key: 'batchId', label: 'Batch', render: (v) => h('code', { title: v }, String(v).slice(0, 12)) },
                { key: 'rowNumber', label: 'Row', num: true },
                { key: 'subOrderNumber', label: 'Sub-order' },
                { key: 'sku', label: 'SKU' },
                { key: 'code', label: 'Code' },
                { key: 'message', label: 'Message' },
              ],
              null,
              'Adaptor exceptions',
            ),
          )
        : h('p', { class: 'muted card' }, 'No exceptions.'),
    );
  };
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void load();
  });
  void load();
}

// ---------------------------------------------------------------- start

const PAGES = {
  accounts: initAccounts,
  account: initAccount,
  order: initOrder,
  stock: initStock,
  'fraud-reviews': initFraudReviews,
  exceptions: initExceptions,
};

const page = document.body.dataset.page;
if (page === 'signin') {
  initSignIn();
} else if (requireSession()) {
  initFrame();
  if ((page === 'fraud-reviews' || page === 'exceptions') && session.role !== 'ops') {
    showNotice('This page is for the ops role.');
  } else {
    void PAGES[page]?.();
  }
}
