// The order's heading (status, account, who created it) and its action bar: generate, cancel,
// check stock, and for ops the workflow in the Temporal UI.
import { BILLING_MODE_LABELS, STATUS_LABELS } from '../../../../../domain/labels';
import { api } from '../../api';
import type { StockCheck } from '../../api-types';
import { stockTable } from '../../components/stock-table';
import { $, submitter } from '../../dom';
import { accountLink, timeEl } from '../../format';
import { run, showNotice } from '../../notice';
import type { OrderContext } from './context';

export function orderActions(ctx: OrderContext) {
  const generate = $('#generate', HTMLButtonElement);
  const cancelForm = $('#cancel-form', HTMLFormElement);
  const checkStock = $('#check-stock', HTMLButtonElement);
  generate.addEventListener('click', () => void ctx.change(generate, 'Generating the order', 'POST', '/generate'));
  cancelForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const r = await ctx.change(submitter(ev), 'Cancelling', 'POST', '/cancel', {
      reason: $('#cancel-reason', HTMLInputElement).value.trim() || 'cancelled by agent',
    });
    if (r?.status === 202) showNotice('The warehouse already has this order: cancellation has been requested from it.', 'info');
  });
  checkStock.addEventListener('click', async () => {
    const r = await run(checkStock, 'Checking stock', () => api<StockCheck>('GET', `${ctx.path}/stock-check`));
    if (!r) return;
    $('#stock-section').hidden = false;
    $('#stock-result').replaceChildren(...stockTable(r.body));
  });

  return function render(): void {
    const { order, account } = ctx;
    document.title = `${order.orderId} · ${STATUS_LABELS[order.status]} · AgentView`;
    const st = $('#order-status');
    st.className = `badge s-${order.status}`;
    st.textContent = STATUS_LABELS[order.status] + (order.cancellationRequested ? ' (cancellation requested)' : '');
    $('#order-meta').replaceChildren(
      'Account ',
      accountLink(order.accountId, account ? `${account.name} (${order.accountId})` : order.accountId),
      ' · created ',
      timeEl(order.createdAt),
      ` by ${order.createdBy} · ${BILLING_MODE_LABELS[order.billingMode]}`,
    );
    generate.hidden = !ctx.allowed('generate');
    cancelForm.hidden = !ctx.allowed('cancel');
    checkStock.hidden = order.status !== 'New';
    const tl = $('#temporal-link', HTMLAnchorElement);
    tl.hidden = !order.temporalUrl;
    if (order.temporalUrl) tl.href = order.temporalUrl;
    const bar = $('#order-actions');
    bar.hidden = [...bar.children].every((c) => c instanceof HTMLElement && c.hidden);
  };
}
