// What needs ops about this order (its needsAttention flags, shown to everyone who opens it) and
// the ops actions on an order in trouble: resubmit what did not ship, close it as it is, resend
// its sales order or its cancellation. Offered only as the order's allowedActions say, to ops.
import type { AgentAction } from '../../../../../domain/order-state';
import { WORK_QUEUE_LABELS } from '../../../../../domain/labels';
import { $, h, submitter } from '../../dom';
import { session } from '../../session';
import type { OrderContext } from './context';

const OPS_ACTIONS: readonly { action: AgentAction; label: string; suffix: string }[] = [
  { action: 'resubmit', label: 'Resubmit what did not ship', suffix: '/resubmit' },
  { action: 'resend', label: 'Resend the sales order', suffix: '/resend' },
  { action: 'resendCancellation', label: 'Resend the cancellation', suffix: '/resend-cancellation' },
  { action: 'close', label: 'Close the order as it is', suffix: '/close' },
];

export function resolution(ctx: OrderContext) {
  const form = $('#ops-actions', HTMLFormElement);
  const select = $('#ops-action', HTMLSelectElement);
  const reason = $('#ops-reason', HTMLInputElement);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = OPS_ACTIONS.find((a) => a.action === select.value);
    if (!chosen) return;
    const r = await ctx.change(submitter(ev), chosen.label, 'POST', chosen.suffix, { reason: reason.value.trim() });
    if (r) reason.value = '';
  });

  return function render(): void {
    const { order } = ctx;
    const flags = order.needsAttention ?? [];
    const attention = $('#order-attention');
    attention.hidden = !flags.length;
    attention.textContent = flags.length ? `Needs ops: ${flags.map((f) => WORK_QUEUE_LABELS[f]).join(', ')}` : '';
    const offered = session.role === 'ops' ? OPS_ACTIONS.filter((a) => ctx.allowed(a.action)) : [];
    form.hidden = !offered.length;
    const keys = offered.map((a) => a.action).join();
    if (select.dataset.offered !== keys) {
      select.dataset.offered = keys;
      select.replaceChildren(...offered.map((a) => h('option', { value: a.action }, a.label)));
    }
  };
}
