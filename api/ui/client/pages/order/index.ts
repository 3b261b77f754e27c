// The order page: everything about one order, kept live by polling while the page is open. Each
// part (header.ts, lines.ts, …) renders from the order view; actions answer with the new view,
// which is rendered at once.
import { TERMINAL_STATUSES } from '../../../../../domain/order-state';
import { api } from '../../api';
import type { Account, CancellationRequested, List, OrderPageView, Product } from '../../api-types';
import { $ } from '../../dom';
import { busy, run } from '../../notice';
import { POLL_IDLE_MS, POLL_MS } from '../../poll';
import { catalogue } from './catalogue';
import { charges } from './charges';
import type { OrderContext } from './context';
import { delivery } from './delivery';
import { enrolment } from './enrolment';
import { orderActions } from './header';
import { renderLines } from './lines';
import { notes, renderFraud, renderTimeline } from './progress';
import { resolution } from './resolution';
import { returns } from './returns';
import { renderSubOrders } from './suborders';

export function initOrder(): void {
  const orderId = document.body.dataset.orderId ?? '';
  const path = `/orders/${encodeURIComponent(orderId)}`;
  let current: OrderPageView | null = null;
  let account: Account | null = null;
  let renderedLinesRevision = -1;

  const ctx: OrderContext = {
    path,
    get order() {
      if (!current) throw new Error('AgentView: the order is not loaded yet');
      return current;
    },
    get account() {
      return account;
    },
    products: new Map<string, Product>(),
    allowed: (action) => ctx.order.allowedActions.includes(action),
    async change(control, label, method, suffix, body) {
      const r = await run(control, label, () => api<OrderPageView | CancellationRequested>(method, `${path}${suffix}`, body));
      if (!r) return null;
      const view = 'order' in r.body ? r.body.order : r.body;
      if (Array.isArray(view.allowedActions)) render(view);
      return r;
    },
  };

  const renderHeader = orderActions(ctx);
  const products = catalogue(ctx);
  const renderDelivery = delivery(ctx);
  const devices = enrolment(ctx);
  const renderCharges = charges(ctx);
  const orderReturns = returns(ctx);
  const renderResolution = resolution(ctx);
  notes(ctx);

  function render(view: OrderPageView): void {
    const moved = !current || current.status !== view.status;
    current = view;
    renderHeader();
    products.render();
    renderDelivery(moved);
    // Rebuilding the lines would drop a quantity being typed: only when they changed.
    if (view.revision !== renderedLinesRevision || moved) {
      renderLines(ctx);
      renderedLinesRevision = view.revision;
    }
    renderTimeline(view);
    renderResolution();
    renderFraud(view);
    renderSubOrders(view);
    devices.render();
    orderReturns.render();
    renderCharges();
  }

  // ---- live progress: poll the order while the page is open
  let lastSeen = '';
  async function poll(): Promise<void> {
    if (!document.hidden && !busy() && current) {
      try {
        const r = await api<OrderPageView>('GET', path);
        // Compared whole: parts such as the invoice may change without a new revision.
        const seen = JSON.stringify(r.body);
        if (seen !== lastSeen) {
          lastSeen = seen;
          render(r.body);
        }
        await devices.refresh();
        await orderReturns.refresh();
        $('#main').classList.remove('stale');
      } catch {
        // Shown as stale; the next poll tries again.
        $('#main').classList.add('stale');
      }
    }
    const settled = current && TERMINAL_STATUSES.includes(current.status) && (current.invoiceNumber || current.status !== 'Complete');
    setTimeout(poll, settled ? POLL_IDLE_MS : POLL_MS);
  }

  void (async () => {
    const first = await run(null, 'Loading the order', () => api<OrderPageView>('GET', path));
    if (!first) return;
    const [acc, cat] = await Promise.all([
      api<Account>('GET', `/accounts/${encodeURIComponent(first.body.accountId)}`).catch(() => null),
      // Retired products too: lines added before a product was retired still name it.
      api<List<Product>>('GET', '/catalogue?includeInactive=true').catch(() => null),
    ]);
    account = acc?.body ?? null;
    if (cat) for (const p of cat.body.items) ctx.products.set(p.sku, p);
    lastSeen = JSON.stringify(first.body);
    render(first.body);
    await devices.loadRecordedIds();
    await orderReturns.refresh(true);
    if (ctx.allowed('editLines')) await products.search(null);
    setTimeout(poll, POLL_MS);
  })();
}
