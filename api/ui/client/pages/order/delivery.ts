// The delivery contact (a form while it may change, an address once fixed) and the billing mode.
import type { DeliveryContact } from '../../../../../domain/types';
import { $, control, h, submitter } from '../../dom';
import { formatAddress } from '../../format';
import { say } from '../../notice';
import type { OrderContext } from './context';

export function delivery(ctx: OrderContext) {
  const form = $('#delivery-form', HTMLFormElement);
  const field = (name: string) => control(form, name);
  // What the agent typed survives polls, until it is saved or the order moves on.
  let dirty = false;
  form.addEventListener('input', () => {
    dirty = true;
  });

  function fill(d: DeliveryContact | null | undefined): void {
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

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (n: string) => field(n).value.trim();
    const opt = (n: string) => v(n) || undefined;
    const contact = {
      name: v('name'),
      phone: opt('phone'),
      email: opt('email'),
      address: {
        lines: [v('line1'), v('line2')].filter(Boolean),
        city: v('city'),
        region: opt('region'),
        postcode: v('postcode'),
        country: v('country').toUpperCase(),
      },
    };
    const r = await ctx.change(submitter(ev), 'Saving the delivery', 'PUT', '/delivery', contact);
    if (r) {
      dirty = false;
      // The answer is already rendered: the order as saved.
      fill(ctx.order.delivery);
      say('Delivery saved.');
    }
  });
  $('#delivery-from-account').addEventListener('click', () => {
    if (!ctx.account) return;
    fill(ctx.account.defaultDelivery);
    dirty = true;
    say("The account's contact is filled in: save to use it.");
  });

  const radios = [...document.querySelectorAll<HTMLInputElement>('input[name=billingMode]')];
  function renderBillingMode(): void {
    for (const radio of radios) {
      radio.checked = radio.value === ctx.order.billingMode;
      radio.disabled = !ctx.allowed('setBillingMode');
    }
  }
  for (const radio of radios) {
    radio.addEventListener('change', async () => {
      const r = await ctx.change(radio, 'Changing the billing mode', 'PUT', '/billing-mode', { billingMode: radio.value });
      if (!r) renderBillingMode();
    });
  }

  /** `moved`: first render, or the status changed; the form then shows the order's contact again. */
  return function render(moved: boolean): void {
    const { order, account } = ctx;
    const editable = ctx.allowed('setDelivery');
    $('#delivery-fields', HTMLFieldSetElement).disabled = !editable;
    // Once the delivery is fixed it reads as an address, not as a disabled form.
    form.hidden = !editable;
    const summary = $('#delivery-summary');
    summary.hidden = editable;
    const d = order.delivery;
    summary.replaceChildren(
      ...(d
        ? [h('strong', null, d.name), h('br'), formatAddress(d.address), h('br'), [d.phone, d.email].filter(Boolean).join(' · ')]
        : ['No delivery contact.']),
    );
    $('#side').classList.toggle('editing', editable);
    if (moved || !dirty) {
      fill(order.delivery || account?.defaultDelivery);
      dirty = false;
    }
    renderBillingMode();
  };
}
