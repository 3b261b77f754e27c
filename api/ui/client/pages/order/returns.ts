// Returns (RMA): an agent returns shipped units (by IMEI, serial or licence key) with a reason,
// and sees the order's returns with their credit; ops mark an authorised return received. The
// return rules stay in the API: a refusal shows in its words.
import { RETURN_REASON_LABELS, RETURN_STATUS_LABELS } from '../../../../../domain/labels';
import { CONDITION_GRADES, EXCHANGE_REASONS, returnableUnits, type ReturnReason } from '../../../../../domain/returns';
import { api, unlessMissing } from '../../api';
import type { List, Return } from '../../api-types';
import { $, h, submitter } from '../../dom';
import { money, orderLink } from '../../format';
import { run, showNotice } from '../../notice';
import { session } from '../../session';
import type { OrderContext } from './context';

/** Statuses a return leaves no more: the list stops being polled once every return is in one. */
const SETTLED: readonly Return['status'][] = ['credited', 'expired', 'refused'];

export function returns(ctx: OrderContext) {
  const form = $('#return-form', HTMLFormElement);
  const unitsBox = $('#return-units', HTMLFieldSetElement);
  const reason = $('#return-reason', HTMLSelectElement);
  const note = $('#return-note', HTMLInputElement);
  const exchange = $('#return-exchange', HTMLInputElement);
  let list: Return[] = [];
  let routeExists = true;
  let shownList = '';

  /** Units the order shipped and charged that no live return holds (an expired one lets go of what never came back). */
  function available(): { unitId: string; sku: string }[] {
    const { order } = ctx;
    if (order.status === 'New') return [];
    const held = new Set(list.filter((r) => r.status !== 'refused').flatMap((r) => r.units.filter((u) => !u.released).map((u) => u.unitId)));
    return returnableUnits(order).filter((u) => !held.has(u.unitId));
  }

  function renderExchange(): void {
    const allowed = EXCHANGE_REASONS.includes(reason.value as ReturnReason);
    exchange.disabled = !allowed;
    if (!allowed) exchange.checked = false;
  }
  reason.addEventListener('change', renderExchange);

  async function reload(): Promise<void> {
    const r = await unlessMissing(api<List<Return>>('GET', `${ctx.path}/returns`)).catch(() => undefined);
    if (r === undefined) return; // a failed read: the next poll asks again
    if (r === null) routeExists = false;
    list = r?.body.items ?? [];
    render();
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const units = [...unitsBox.querySelectorAll<HTMLInputElement>('input[name=unit]:checked')].map((c) => c.value);
    if (!units.length) {
      showNotice('Tick the units coming back.');
      return;
    }
    const body = { units, reason: reason.value, exchange: exchange.checked, ...(note.value.trim() ? { note: note.value.trim() } : {}) };
    const r = await run(submitter(ev), 'Returning the units', () => api<Return>('POST', `${ctx.path}/returns`, body));
    if (!r) return;
    note.value = '';
    exchange.checked = false;
    showNotice(`Return ${r.body.rmaId} authorised for ${r.body.units.length} unit(s).`, 'info');
    await reload();
  });

  async function markReceived(ev: SubmitEvent, rmaId: string, grade: string): Promise<void> {
    ev.preventDefault();
    const r = await run(submitter(ev), 'Marking the return received', () => api<Return>('POST', `/returns/${encodeURIComponent(rmaId)}/receive`, { grade }));
    if (!r) return;
    showNotice(`Return ${rmaId}: ${RETURN_STATUS_LABELS[r.body.status]}.`, 'info');
    await reload();
  }

  function creditOf(r: Return): Node | string {
    if (!r.credit) return '—';
    const amount = money(r.credit.gross, r.currency);
    // The invoices it corrects, so the agent can tell the customer which bill changes.
    const corrects = r.credit.corrects.length ? ` · corrects ${r.credit.corrects.join(', ')}` : '';
    if (r.credit.creditNoteNumber)
      return h('span', null, `Credit note `, h('strong', { class: 'credit-note' }, r.credit.creditNoteNumber), ` · ${amount}${corrects}`);
    const n = r.credit.creditChargeKeys.length;
    return `${n} credit line${n === 1 ? '' : 's'} on the next invoice · ${amount}${corrects}`;
  }

  function receiveForm(r: Return): HTMLElement | string {
    if (session.role !== 'ops' || r.status !== 'authorised') return '';
    const grade = h('select', { name: 'grade', 'aria-label': `Condition grade for ${r.rmaId}` }, ...CONDITION_GRADES.map((g) => h('option', { value: g }, g)));
    const f = h('form', { class: 'inline' }, grade, ' ', h('button', { type: 'submit', class: 'secondary' }, 'Mark received'));
    f.addEventListener('submit', (ev) => void markReceived(ev, r.rmaId, grade.value));
    return f;
  }

  function renderList(): void {
    // Rebuilt only when a return changed, so a grade being chosen survives the polls.
    const key = JSON.stringify(list) + session.role;
    if (key === shownList) return;
    shownList = key;
    $('#returns').replaceChildren(
      list.length
        ? h(
            'table',
            { class: 'data' },
            h('caption', { class: 'visually-hidden' }, "The order's returns"),
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                ['RMA', 'Status', 'Reason', 'Units', 'Credit', ''].map((t) => h('th', { scope: 'col' }, t)),
              ),
            ),
            h(
              'tbody',
              null,
              list.map((r) =>
                h(
                  'tr',
                  { 'data-rma': r.rmaId },
                  h('td', { class: 'nowrap' }, r.rmaId),
                  h('td', { class: 'return-status' }, RETURN_STATUS_LABELS[r.status], r.refusal ? ` — ${r.refusal.message}` : ''),
                  h(
                    'td',
                    null,
                    RETURN_REASON_LABELS[r.reason],
                    r.note ? ` — ${r.note}` : '',
                    r.replacementOrderId ? [h('br'), 'Replacement: ', orderLink(r.replacementOrderId)] : '',
                  ),
                  h(
                    'td',
                    null,
                    r.units.map((u) => h('div', { class: 'nowrap' }, h('code', null, u.unitId), ` ${u.sku}`, u.received ? ` · grade ${u.received.grade}` : '')),
                  ),
                  h('td', { class: 'return-credit' }, creditOf(r)),
                  h('td', null, receiveForm(r)),
                ),
              ),
            ),
          )
        : '',
    );
  }

  function render(): void {
    const units = routeExists ? available() : [];
    $('#returns-section').hidden = !routeExists || (!units.length && !list.length);
    form.hidden = !units.length;
    const key = JSON.stringify(units.map((u) => u.unitId));
    if (unitsBox.dataset.units !== key) {
      // Ticks survive the polls: only a changed set of units rebuilds the boxes.
      const ticked = new Set([...unitsBox.querySelectorAll<HTMLInputElement>('input[name=unit]:checked')].map((c) => c.value));
      unitsBox.dataset.units = key;
      unitsBox.replaceChildren(
        h('legend', null, 'Units coming back'),
        ...units.map((u) =>
          h(
            'label',
            { class: 'radio' },
            h('input', { type: 'checkbox', name: 'unit', value: u.unitId, checked: ticked.has(u.unitId) }),
            ` ${u.unitId} (${u.sku})`,
          ),
        ),
      );
    }
    renderExchange();
    renderList();
  }

  return {
    render,
    /** Returns move on without changing the order (warehouse receipt, credit): read while any is not settled. */
    async refresh(force = false): Promise<void> {
      if (!routeExists || ctx.order.status === 'New') return;
      if (!force && list.every((r) => SETTLED.includes(r.status)) && shownList) return;
      await reload();
    },
  };
}
