// Device enrolment: the customer's programme ids on a New order, then per-device progress from
// the enrolment routes (where this server has them).
import { isFinal } from '../../../../../domain/enrolment';
import { PROGRAMME_LABELS } from '../../../../../domain/labels';
import type { Manufacturer } from '../../../../../domain/types';
import { api, unlessMissing } from '../../api';
import type { EnrolmentDeviceProgress, EnrolmentIdsRecorded, OrderEnrolment } from '../../api-types';
import { recordTable } from '../../components/record-table';
import { $, control, h, submitter } from '../../dom';
import { run } from '../../notice';
import type { OrderContext } from './context';

const MANUFACTURERS = Object.keys(PROGRAMME_LABELS) as Manufacturer[];

export function enrolment(ctx: OrderContext) {
  const form = $('#enrolment-form', HTMLFormElement);
  const idField = (m: Manufacturer) => control(form, m);
  let devices: EnrolmentDeviceProgress[] | null = null;
  let routeExists = true;

  const programmesUsed = () => [...new Set(ctx.order.lines.map((l) => l.enrolment).filter((m) => m !== undefined))];

  function showRecordedIds(ids: Partial<Record<Manufacturer, string>>): void {
    const list = Object.entries(ids).flatMap(([m, id]) => (id ? [[m as Manufacturer, id] as const] : []));
    for (const [m, id] of list) idField(m).value = id;
    $('#enrolment-recorded').textContent = list.length ? `Recorded: ${list.map(([m, id]) => `${PROGRAMME_LABELS[m]} ${id}`).join(', ')}.` : '';
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const customerIds: Partial<Record<Manufacturer, string>> = {};
    for (const m of programmesUsed()) if (idField(m).value.trim()) customerIds[m] = idField(m).value.trim();
    const r = await run(submitter(ev), 'Saving the programme ids', () => api<EnrolmentIdsRecorded>('POST', `${ctx.path}/enrolment`, { customerIds }));
    if (r) showRecordedIds(r.body.enrolmentCustomerIds || {});
  });

  /** A read of the enrolment routes; null (and not asked again) where this server has none. */
  async function read(): Promise<OrderEnrolment | null> {
    const r = await unlessMissing(api<OrderEnrolment>('GET', `${ctx.path}/enrolment`));
    if (!r) routeExists = false;
    return r?.body ?? null;
  }

  function render(): void {
    const { order } = ctx;
    const used = programmesUsed();
    const shown = devices ?? [];
    $('#enrolment-section').hidden = !used.length && !shown.length;
    $('#enrolment').replaceChildren(
      ...order.lines.flatMap((l) =>
        l.enrolment ? [h('p', null, `Line ${l.lineNumber} (${l.sku}): ${PROGRAMME_LABELS[l.enrolment] || l.enrolment} requested`)] : [],
      ),
    );
    form.hidden = !(ctx.allowed('requestEnrolment') && used.length);
    for (const m of MANUFACTURERS) {
      const field = idField(m).closest<HTMLElement>('.field');
      if (field) field.hidden = !used.includes(m);
    }
    $('#enrolment-devices').replaceChildren(
      shown.length
        ? recordTable(
            shown,
            [
              { key: 'deviceId', label: 'Device', nowrap: true },
              { key: 'sku', label: 'Line', nowrap: true, render: (v, d) => `${d.lineNumber}: ${v}` },
              { key: 'manufacturer', label: 'Programme', render: (v) => PROGRAMME_LABELS[v] || v },
              { key: 'enrolment', label: 'State' },
              {
                key: 'last',
                label: 'Last instruction',
                render: (l) => (l ? [`${l.action} ${l.status}`, l.result?.message ? ` — ${l.result.message}` : ''] : '—'),
              },
            ],
            order.currency,
            'Enrolment per device',
          )
        : '',
    );
  }

  return {
    render,
    /** Ids recorded earlier (another visit, another agent). */
    async loadRecordedIds(): Promise<void> {
      if (!programmesUsed().length) return;
      try {
        const e = await read();
        if (e) showRecordedIds(Object.fromEntries(e.requests.map((q) => [q.manufacturer, q.customerId])));
      } catch {
        // The ids are shown again on the next visit.
      }
    },
    /** Enrolment moves on without changing the order, so it is polled on its own until every device is final. */
    async refresh(): Promise<void> {
      if (!routeExists || ctx.order.status !== 'Complete' || !programmesUsed().length) return;
      if (devices?.length && devices.every((d) => d.last && isFinal(d.last.status))) return;
      try {
        const e = await read();
        if (!e) return;
        devices = e.devices || [];
        render();
      } catch {
        // The next poll asks again.
      }
    },
  };
}
