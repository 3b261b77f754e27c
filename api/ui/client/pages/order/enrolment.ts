// Device enrolment: the customer's programme ids on a New order, then per-device progress from
// the enrolment routes (where this server has them); once devices shipped (whatever the order's
// status), enrolling a line's devices later and unenrolling a device with a reason.
import { isFinal } from '../../../../../domain/enrolment';
import { PROGRAMME_LABELS } from '../../../../../domain/labels';
import type { Manufacturer } from '../../../../../domain/types';
import { api, unlessMissing } from '../../api';
import type { EnrolmentDeviceProgress, EnrolmentIdsRecorded, EnrolmentStarted, OrderEnrolment, UnenrolmentQueued } from '../../api-types';
import { recordTable } from '../../components/record-table';
import { $, control, h, submitter } from '../../dom';
import { run, showNotice } from '../../notice';
import type { OrderContext } from './context';

const MANUFACTURERS = Object.keys(PROGRAMME_LABELS) as Manufacturer[];

export function enrolment(ctx: OrderContext) {
  const form = $('#enrolment-form', HTMLFormElement);
  const idField = (m: Manufacturer) => control(form, m);
  let devices: EnrolmentDeviceProgress[] | null = null;
  let routeExists = true;

  const laterForm = $('#later-enrolment-form', HTMLFormElement);
  const laterLine = $('#later-line', HTMLSelectElement);
  const laterProgramme = $('#later-programme', HTMLSelectElement);
  const laterCustomerId = $('#later-customer-id', HTMLInputElement);
  const unenrolForm = $('#unenrol-form', HTMLFormElement);
  const unenrolDevice = $('#unenrol-device', HTMLSelectElement);
  const unenrolReason = $('#unenrol-reason', HTMLInputElement);

  const programmesUsed = () => [...new Set(ctx.order.lines.map((l) => l.enrolment).filter((m) => m !== undefined))];

  /** Lines that shipped devices with an IMEI or serial, and how many: what a later enrolment can take. */
  function shippedLines(): { lineNumber: number; sku: string; devices: string[]; programmes: Manufacturer[] }[] {
    const { order } = ctx;
    if (order.status === 'New') return [];
    return order.lines.flatMap((l) => {
      const devices = order.subOrders.flatMap((s) =>
        s.units.flatMap((u) => (u.lineNumber === l.lineNumber && (u.imei || u.serialNumber) ? [(u.imei ?? u.serialNumber)!] : [])),
      );
      const programmes = ctx.products.get(l.sku)?.enrolmentProgrammes ?? [];
      return devices.length && programmes.length ? [{ lineNumber: l.lineNumber, sku: l.sku, devices, programmes }] : [];
    });
  }
  const laterDevices = $('#later-devices', HTMLFieldSetElement);

  /** Options are rebuilt only when they change, so a choice being made survives the polls. */
  function setOptions(select: HTMLSelectElement, options: [value: string, label: string][]): void {
    const key = JSON.stringify(options);
    if (select.dataset.options === key) return;
    const chosen = select.value;
    select.dataset.options = key;
    select.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
    if (options.some(([value]) => value === chosen)) select.value = chosen;
  }

  /** The chosen line's programmes, and its devices to tick (all at first; ticks survive the polls). */
  function renderLaterProgrammes(): void {
    const line = shippedLines().find((l) => String(l.lineNumber) === laterLine.value);
    setOptions(
      laterProgramme,
      (line?.programmes ?? []).map((m) => [m, PROGRAMME_LABELS[m] || m]),
    );
    const key = JSON.stringify(line?.devices ?? []);
    if (laterDevices.dataset.devices === key) return;
    laterDevices.dataset.devices = key;
    laterDevices.replaceChildren(
      h('legend', null, 'Devices'),
      ...(line?.devices ?? []).map((d) => h('label', { class: 'radio' }, h('input', { type: 'checkbox', name: 'device', value: d, checked: true }), ` ${d}`)),
    );
  }
  laterLine.addEventListener('change', renderLaterProgrammes);

  /**
   * What an action just asked for, until the devices show it: the request's workflow queues its
   * instructions a moment after the API answers, so "every device final" alone would stop the polls.
   */
  let awaited: ((list: EnrolmentDeviceProgress[]) => boolean) | null = null;

  /** Reads the devices again now; the polls go on until each is final and what was asked for shows. */
  async function reload(): Promise<void> {
    const e = await read().catch(() => null);
    if (!e) return;
    devices = e.devices || [];
    if (awaited?.(devices)) awaited = null;
    render();
  }

  laterForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const lineNumber = Number(laterLine.value);
    const programme = laterProgramme.value as Manufacturer;
    const chosen = [...laterDevices.querySelectorAll<HTMLInputElement>('input[name=device]:checked')].map((c) => c.value);
    const body = { customerIds: { [programme]: laterCustomerId.value.trim() }, lines: [{ lineNumber, programme }], devices: chosen };
    const r = await run(submitter(ev), 'Enrolling the shipped devices', () => api<EnrolmentStarted>('POST', `${ctx.path}/enrolment`, body));
    if (!r) return;
    const n = r.body.started.reduce((sum, s) => sum + s.devices, 0);
    showNotice(`Enrolment of ${n} device(s) with ${PROGRAMME_LABELS[programme]} requested.`, 'info');
    awaited = (list) => chosen.every((d) => list.some((x) => x.deviceId === d && x.manufacturer === programme));
    await reload();
  });

  unenrolForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const [deviceId, manufacturer] = unenrolDevice.value.split('|') as [string, Manufacturer];
    const body = { reason: unenrolReason.value.trim(), manufacturer };
    const r = await run(submitter(ev), 'Unenrolling the device', () =>
      api<UnenrolmentQueued>('POST', `/devices/${encodeURIComponent(deviceId)}/unenrolment`, body),
    );
    if (!r) return;
    unenrolReason.value = '';
    showNotice(`Unenrolment of ${r.body.deviceId} from ${PROGRAMME_LABELS[r.body.manufacturer]} requested.`, 'info');
    awaited = (list) => list.some((x) => x.deviceId === r.body.deviceId && x.manufacturer === r.body.manufacturer && x.last?.action === 'unenrol');
    await reload();
  });

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
    const shipped = routeExists ? shippedLines() : [];
    $('#enrolment-section').hidden = !used.length && !shown.length && !shipped.length;
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
    laterForm.hidden = !shipped.length;
    setOptions(
      laterLine,
      shipped.map((l) => [String(l.lineNumber), `Line ${l.lineNumber}: ${l.sku} (${l.devices.length} device${l.devices.length === 1 ? '' : 's'})`]),
    );
    renderLaterProgrammes();
    const enrolled = shown.filter((d) => d.enrolment === 'enrolled');
    unenrolForm.hidden = !enrolled.length;
    setOptions(
      unenrolDevice,
      enrolled.map((d) => [`${d.deviceId}|${d.manufacturer}`, `${d.deviceId} (${PROGRAMME_LABELS[d.manufacturer] || d.manufacturer})`]),
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
      // Any order that shipped devices: the order's own enrolment (Complete or Error) or a later one.
      if (!routeExists || !shippedLines().length) return;
      if (!awaited && devices?.length && devices.every((d) => d.last && isFinal(d.last.status))) return;
      // A failed read: the next poll asks again.
      await reload();
    },
  };
}
