// Device enrolment with the manufacturers' zero-touch programmes.
// - deviceEnrolmentWorkflow: a child of the order (or started for a Complete order), one per order
//   and manufacturer (`enrol-<orderId>-<manufacturer>`): queues one instruction per device and
//   waits for each device's outcome, signalled by the Device Enrolment Response job.
// - deviceUnenrolmentWorkflow: one per device request, since it can come months after the order.
// - enrolmentRequestJob / enrolmentResponseJob: run by Temporal Schedules (or on demand); they
//   move instructions to the manufacturers in batches and bring the answers back.
import { condition, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { enrolmentJobStep, untilItWorks } from './retry-policies';
import {
  MANUFACTURERS,
  isFinal,
  summarise,
  type EnrolmentAction,
  type EnrolmentDevice,
  type EnrolmentProgress,
  type InstructionStatus,
  type QueueInstructionsInput,
} from '../domain/enrolment';
import type { Manufacturer } from '../domain/types';
import { enrolmentResultSignal, getEnrolmentProgressQuery } from './messages';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: untilItWorks,
});
const jobActs = proxyActivities<Activities>({ startToCloseTimeout: '2 minutes', retry: enrolmentJobStep });

export interface DeviceEnrolmentInput {
  orderId: string;
  manufacturer: Manufacturer;
  customerId: string;
  devices: EnrolmentDevice[];
  requestedBy: string;
  /** How long to wait for the manufacturer before finishing with devices still pending. */
  giveUpAfter?: string;
}

export interface DeviceUnenrolmentInput {
  orderId: string;
  manufacturer: Manufacturer;
  customerId: string;
  device: EnrolmentDevice;
  /** Apple needs a new order number for a return. */
  orderNumber: string;
  reason: string;
  requestedBy: string;
  giveUpAfter?: string;
}

export interface EnrolmentOutcome extends EnrolmentProgress {
  counts: Record<InstructionStatus, number>;
}

/** Queues the instructions, then waits until every device has its outcome (or time runs out). */
async function queueAndAwait(
  action: EnrolmentAction,
  o: Omit<QueueInstructionsInput, 'requestId' | 'action'> & { giveUpAfter?: string },
): Promise<EnrolmentOutcome> {
  const requestId = workflowInfo().workflowId;
  const devices = new Map<string, EnrolmentProgress['devices'][number]>(o.devices.map((d) => [d.deviceId, { deviceId: d.deviceId, status: 'queued' }]));
  const progress = (): EnrolmentProgress => {
    const list = [...devices.values()];
    return { requestId, manufacturer: o.manufacturer, action, devices: list, done: list.every((d) => isFinal(d.status)) };
  };
  setHandler(getEnrolmentProgressQuery, progress);
  setHandler(enrolmentResultSignal, ({ transactionId, results }) => {
    for (const r of results) {
      const d = devices.get(r.deviceId);
      if (!d) continue;
      // A requeued device may answer again: the newest answer counts.
      devices.set(r.deviceId, { deviceId: r.deviceId, status: r.status, ...(r.code ? { code: r.code } : {}), ...(r.message ? { message: r.message } : {}) });
    }
    log.info('enrolment results applied', { transactionId, results: results.length });
  });

  await acts.queueEnrolmentInstructions({
    requestId,
    action,
    orderId: o.orderId,
    manufacturer: o.manufacturer,
    customerId: o.customerId,
    orderNumber: o.orderNumber,
    devices: o.devices,
    requestedBy: o.requestedBy,
    ...(o.reason ? { reason: o.reason } : {}),
  });
  const finished = await condition(() => progress().done, o.giveUpAfter ?? '90 days');
  if (!finished) log.warn('enrolment still pending when the wait ended', { requestId });
  const p = progress();
  return { ...p, counts: summarise(p.devices) };
}

export async function deviceEnrolmentWorkflow(input: DeviceEnrolmentInput): Promise<EnrolmentOutcome> {
  return queueAndAwait('enrol', { ...input, orderNumber: input.orderId });
}

export async function deviceUnenrolmentWorkflow(input: DeviceUnenrolmentInput): Promise<EnrolmentOutcome> {
  return queueAndAwait('unenrol', { ...input, devices: [input.device] });
}

export interface RequestJobResult {
  manufacturers: { manufacturer: Manufacturer; transactions: number; sent: number; notSent: number }[];
}

/** Device Enrolment Request job: queued instructions → batches within each manufacturer's limit → sent. */
export async function enrolmentRequestJob(): Promise<RequestJobResult> {
  const manufacturers = await Promise.all(
    MANUFACTURERS.map(async (manufacturer) => {
      // Recorded first (with their transaction ids), then sent: a retried send reuses the id.
      const transactionIds = await acts.prepareEnrolmentBatches({ manufacturer });
      let sent = 0;
      let notSent = 0;
      for (const transactionId of transactionIds) {
        try {
          await jobActs.sendEnrolmentTransaction({ transactionId });
          sent++;
        } catch (err) {
          notSent++;
          log.warn('enrolment transaction not sent; the next run retries it', { transactionId, error: String(err) });
        }
      }
      return { manufacturer, transactions: transactionIds.length, sent, notSent };
    }),
  );
  return { manufacturers };
}

export interface ResponseJobResult {
  manufacturers: { manufacturer: Manufacturer; open: number; completed: number; stillProcessing: number; notPolled: number }[];
}

/** Device Enrolment Response job: polls every open transaction; "still processing" waits for the next run. */
export async function enrolmentResponseJob(): Promise<ResponseJobResult> {
  const manufacturers = await Promise.all(
    MANUFACTURERS.map(async (manufacturer) => {
      const open = await acts.listOpenEnrolmentTransactions({ manufacturer });
      let completed = 0;
      let stillProcessing = 0;
      let notPolled = 0;
      for (const transactionId of open) {
        try {
          const r = await jobActs.pollEnrolmentTransaction({ transactionId });
          if (r.state === 'processing') stillProcessing++;
          else completed++;
        } catch (err) {
          notPolled++;
          log.warn('enrolment transaction not polled; the next run retries it', { transactionId, error: String(err) });
        }
      }
      return { manufacturer, open: open.length, completed, stillProcessing, notPolled };
    }),
  );
  return { manufacturers };
}
