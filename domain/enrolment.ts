// Device enrolment in the manufacturers' zero-touch programmes (Apple device enrolment, Android
// zero-touch, Samsung Knox Deployment): which devices of an order go to which programme, how
// queued instructions are cut into batches, and what a device's status is after each answer.
// Pure: the order workflow, the enrolment workflows, the activities and the API all use it.
import { DomainError } from './errors';
import { allowedActions, checkEditLimit, type OrderState } from './order-state';
import type { Manufacturer, OrderLine } from './types';

export const MANUFACTURERS: readonly Manufacturer[] = ['apple', 'google', 'samsung'];

export type EnrolmentAction = 'enrol' | 'unenrol';

/** The customer's programme id per manufacturer (Apple organisation id, zero-touch customer id, Knox customer id). */
export type EnrolmentCustomerIds = Partial<Record<Manufacturer, string>>;

/** One request's instructions to queue for the next Device Enrolment Request job. */
export interface QueueInstructionsInput {
  /** The enrolment workflow's id: the instructions' key, so a retried queueing adds nothing. */
  requestId: string;
  action: EnrolmentAction;
  orderId: string;
  manufacturer: Manufacturer;
  customerId: string;
  orderNumber: string;
  devices: EnrolmentDevice[];
  requestedBy: string;
  reason?: string;
}

/** A dispatched device, as the manufacturer needs to know it. */
export interface EnrolmentDevice {
  /** Our key for the device: its IMEI, else its serial number. */
  deviceId: string;
  imei?: string;
  serialNumber?: string;
  lineNumber: number;
  sku: string;
  /** The warehouse sub-order that shipped it: Apple's delivery number. */
  deliveryNumber: string;
  /** YYYY-MM-DD */
  shipDate?: string;
}

/**
 * Where an instruction is: queued (waiting for the Request job), batched (in a transaction that is
 * being or has been sent), then one final outcome from the manufacturer.
 */
export const INSTRUCTION_STATUSES = ['queued', 'batched', 'enrolled', 'unenrolled', 'failed', 'enrolledElsewhere'] as const;
export type InstructionStatus = (typeof INSTRUCTION_STATUSES)[number];
export type FinalInstructionStatus = Exclude<InstructionStatus, 'queued' | 'batched'>;

export function isFinal(status: InstructionStatus): status is FinalInstructionStatus {
  return status !== 'queued' && status !== 'batched';
}

/** Statuses ops look at and may requeue. */
export const FAILED_STATUSES: readonly InstructionStatus[] = ['failed', 'enrolledElsewhere'];

/** One device to enrol or unenrol, for one request (an order's child workflow or an unenrolment). */
export interface EnrolmentInstruction {
  /** `<requestId>:<deviceId>`: the same device in the same request is one instruction, whatever the retries. */
  instructionId: string;
  /** The workflow that asked and waits for the outcome. */
  requestId: string;
  action: EnrolmentAction;
  manufacturer: Manufacturer;
  customerId: string;
  orderId: string;
  /** Apple's order number: our order id to enrol, a new number for a return. */
  orderNumber: string;
  device: EnrolmentDevice;
  status: InstructionStatus;
  transactionId?: string;
  /** How many transactions carried it (requeues send it again). */
  attempts: number;
  result?: DeviceResult;
  reason?: string;
  requestedBy: string;
  createdAt: string;
}

export const instructionId = (requestId: string, deviceId: string) => `${requestId}:${deviceId}`;
/** The first enrolment of an order's devices with a manufacturer (by the order itself, or the first later request). */
export const enrolmentWorkflowId = (orderId: string, manufacturer: Manufacturer) => `enrol-${orderId}-${manufacturer}`;
/** The order's own enrolment of what resubmission round `round` shipped. */
export const resubmissionEnrolmentWorkflowId = (orderId: string, manufacturer: Manufacturer, round: number) =>
  `${enrolmentWorkflowId(orderId, manufacturer)}-R${round}`;

/**
 * The workflow id of a later request, given the enrolment requests already made for the order with
 * this manufacturer (their workflow ids): the first id if nobody took it, else `…-<n>` after the
 * requests numbered so. Two requests that see the same past get the same id: one of them starts it.
 */
export function laterEnrolmentWorkflowId(orderId: string, manufacturer: Manufacturer, requestIds: readonly string[]): string {
  const first = enrolmentWorkflowId(orderId, manufacturer);
  const numbered = new Set(requestIds.filter((id) => id === first || (id.startsWith(`${first}-`) && /^[0-9]+$/.test(id.slice(first.length + 1)))));
  return numbered.size === 0 ? first : `${first}-${numbered.size + 1}`;
}

/** A device in one programme: what "already requested" is counted by. */
export const programmeDeviceKey = (manufacturer: Manufacturer, deviceId: string) => `${manufacturer}|${deviceId}`;
/** `n` counts the device's unenrolment requests, so a retried request is the same workflow. */
export const unenrolmentWorkflowId = (deviceId: string, n: number) => `unenrol-${deviceId}-${n}`;

// ---- What the manufacturers answer, normalised by each adapter ----

/** Our codes for a device the manufacturer refused. */
export type DeviceErrorCode =
  | 'INVALID_DEVICE_ID'
  | 'ASSIGNED_TO_ANOTHER_CUSTOMER'
  | 'PERMISSION_DENIED'
  | 'NOT_ENROLLED'
  | 'INVALID_CUSTOMER_ID'
  | 'TRANSACTION_REJECTED'
  /** The manufacturer refused our credentials (certificate, service account, client id): an operator must fix them, then requeue. */
  | 'CREDENTIALS_REFUSED'
  | 'NO_RESULT'
  | 'UNKNOWN';

export interface DeviceOutcome {
  /** The identifier the manufacturer reported (adapter maps back to our deviceId). */
  deviceId: string;
  outcome: 'succeeded' | 'failed' | 'enrolledElsewhere';
  code?: DeviceErrorCode;
  /** The manufacturer's own code, kept for ops. */
  manufacturerCode?: string;
  message?: string;
}

export interface DeviceResult {
  status: FinalInstructionStatus;
  code?: DeviceErrorCode;
  manufacturerCode?: string;
  message?: string;
  transactionId: string;
  at: string;
}

/** What an answer means for one instruction. */
export function resultFor(action: EnrolmentAction, outcome: DeviceOutcome | undefined, transactionId: string, at: string): DeviceResult {
  if (!outcome) return { status: 'failed', code: 'NO_RESULT', message: 'the manufacturer reported no result for this device', transactionId, at };
  const extra = {
    ...(outcome.code ? { code: outcome.code } : {}),
    ...(outcome.manufacturerCode ? { manufacturerCode: outcome.manufacturerCode } : {}),
    ...(outcome.message ? { message: outcome.message } : {}),
    transactionId,
    at,
  };
  if (outcome.outcome === 'succeeded') return { status: action === 'enrol' ? 'enrolled' : 'unenrolled', ...extra };
  // Only an enrolment can collide with another customer; for an unenrolment it is a plain refusal.
  if (outcome.outcome === 'enrolledElsewhere' && action === 'enrol') return { status: 'enrolledElsewhere', ...extra };
  return { status: 'failed', ...extra, code: outcome.code ?? 'UNKNOWN' };
}

// ---- Batching: the Request job cuts queued instructions into transactions ----

export interface BatchPlan {
  manufacturer: Manufacturer;
  action: EnrolmentAction;
  customerId: string;
  instructionIds: string[];
}

/**
 * One transaction carries one action for one customer of one manufacturer, at most `limit`
 * devices. Instructions are taken in id order so the same queue always gives the same batches.
 */
export function planBatches(
  instructions: Pick<EnrolmentInstruction, 'instructionId' | 'manufacturer' | 'action' | 'customerId'>[],
  limit: number,
): BatchPlan[] {
  if (!Number.isInteger(limit) || limit < 1) throw new DomainError('VALIDATION_FAILED', `batch limit must be a positive integer, got ${limit}`);
  const groups = new Map<string, BatchPlan & { ids: string[] }>();
  for (const i of [...instructions].sort((a, b) => (a.instructionId < b.instructionId ? -1 : a.instructionId > b.instructionId ? 1 : 0))) {
    const key = `${i.manufacturer}|${i.action}|${i.customerId}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { manufacturer: i.manufacturer, action: i.action, customerId: i.customerId, instructionIds: [], ids: [] }));
    g.ids.push(i.instructionId);
  }
  const out: BatchPlan[] = [];
  for (const key of [...groups.keys()].sort()) {
    const g = groups.get(key)!;
    for (let n = 0; n < g.ids.length; n += limit) {
      out.push({ manufacturer: g.manufacturer, action: g.action, customerId: g.customerId, instructionIds: g.ids.slice(n, n + limit) });
    }
  }
  return out;
}

// ---- Requesting: which devices of an order go to which programme ----

export function checkCustomerIds(customerIds: EnrolmentCustomerIds): void {
  for (const [m, id] of Object.entries(customerIds)) {
    if (!MANUFACTURERS.includes(m as Manufacturer)) throw new DomainError('VALIDATION_FAILED', `unknown enrolment programme ${m}`);
    if (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,64}$/.test(id)) {
      throw new DomainError('VALIDATION_FAILED', `the ${m} customer id must be 1 to 64 letters, digits, '.', '_', ':' or '-'`);
    }
  }
}

/** An agent gives the customer's programme ids on a New order (lines say which programme). */
export function checkRequestEnrolment(
  order: Pick<OrderState, 'orderId' | 'status' | 'cancellationRequested' | 'sendStarted' | 'revision' | 'errorResolution' | 'cancellation' | 'subOrders'>,
  customerIds: EnrolmentCustomerIds,
): void {
  if (!allowedActions(order).includes('requestEnrolment')) {
    throw new DomainError('INVALID_TRANSITION', `cannot request enrolment on order ${order.orderId} while it is ${order.status}`, { status: order.status });
  }
  checkEditLimit(order);
  if (Object.keys(customerIds).length === 0) throw new DomainError('VALIDATION_FAILED', 'give at least one programme customer id');
  checkCustomerIds(customerIds);
}

/** At generation: every programme a line asks for needs the customer's id in that programme. */
export function checkEnrolmentCustomerIds(lines: Pick<OrderLine, 'lineNumber' | 'enrolment'>[], customerIds: EnrolmentCustomerIds): void {
  const missing = [...new Set(lines.flatMap((l) => (l.enrolment && !customerIds[l.enrolment] ? [l.enrolment] : [])))];
  if (missing.length) {
    throw new DomainError('VALIDATION_FAILED', `lines ask for enrolment with ${missing.join(', ')} but the customer's programme id is missing`, {
      missingCustomerIds: missing,
    });
  }
}

export interface ProgrammePick {
  lineNumber: number;
  manufacturer: Manufacturer;
}

export interface ManufacturerEnrolment {
  manufacturer: Manufacturer;
  customerId: string;
  devices: EnrolmentDevice[];
}

/** The picks an order made at order time: every line with an enrolment attribute. */
export function orderTimePicks(lines: Pick<OrderLine, 'lineNumber' | 'enrolment'>[]): ProgrammePick[] {
  return lines.flatMap((l) => (l.enrolment ? [{ lineNumber: l.lineNumber, manufacturer: l.enrolment }] : []));
}

/**
 * The dispatched devices to enrol, one group per manufacturer. A unit without an IMEI or serial
 * cannot be enrolled and is left out; a pick whose line shipped nothing gives no devices, and a
 * device already requested with that manufacturer (`programmeDeviceKey`) is not asked for again.
 */
export function devicesToEnrol(
  order: Pick<OrderState, 'subOrders'>,
  picks: ProgrammePick[],
  customerIds: EnrolmentCustomerIds,
  alreadyRequested: ReadonlySet<string> = new Set(),
): ManufacturerEnrolment[] {
  const byManufacturer = new Map<Manufacturer, EnrolmentDevice[]>();
  const seen = new Set<string>(alreadyRequested);
  for (const pick of picks) {
    for (const sub of order.subOrders) {
      for (const u of sub.units) {
        if (u.lineNumber !== pick.lineNumber) continue;
        const deviceId = u.imei ?? u.serialNumber;
        if (!deviceId || seen.has(programmeDeviceKey(pick.manufacturer, deviceId))) continue;
        seen.add(programmeDeviceKey(pick.manufacturer, deviceId));
        const list = byManufacturer.get(pick.manufacturer) ?? [];
        list.push({
          deviceId,
          ...(u.imei ? { imei: u.imei } : {}),
          ...(u.serialNumber ? { serialNumber: u.serialNumber } : {}),
          lineNumber: u.lineNumber,
          sku: u.sku,
          deliveryNumber: sub.subOrderNumber,
          ...(u.shipDate ? { shipDate: u.shipDate } : {}),
        });
        byManufacturer.set(pick.manufacturer, list);
      }
    }
  }
  return MANUFACTURERS.filter((m) => byManufacturer.has(m) && customerIds[m]).map((m) => ({
    manufacturer: m,
    customerId: customerIds[m]!,
    devices: byManufacturer.get(m)!,
  }));
}

/**
 * The order's own enrolment: once its shipments settle (Complete, or Error with what shipped),
 * the devices of the lines that asked for it at order time; again after each resubmission round.
 */
export const ordersOwnEnrolmentDue = (status: OrderState['status']) => status === 'Complete' || status === 'Error';

/**
 * Checks a later request, on any order that shipped devices (Complete, Error, Cancelled after a
 * partial shipment, or still going with part shipped): each picked line exists, its product
 * supports the programme, the customer id is given, and it shipped devices that can be identified.
 * While the order is still going, a programme its lines asked for at order time is the order's
 * own to enrol when its shipments settle.
 */
export function checkLaterEnrolment(
  order: Pick<OrderState, 'orderId' | 'status' | 'lines' | 'subOrders'>,
  picks: ProgrammePick[],
  customerIds: EnrolmentCustomerIds,
  programmesBySku: Record<string, Manufacturer[]>,
): void {
  if (order.status === 'New') {
    throw new DomainError('INVALID_TRANSITION', `order ${order.orderId} is New: set the programme on its lines, it enrols them once they ship`, {
      status: order.status,
    });
  }
  if (!order.subOrders.some((s) => s.units.some((u) => u.imei || u.serialNumber))) {
    throw new DomainError('INVALID_TRANSITION', `order ${order.orderId} is ${order.status} and has shipped no device to enrol yet`, { status: order.status });
  }
  const stillGoing = order.status === 'AwaitingGeneration' || order.status === 'AwaitingDispatch';
  const ownProgrammes = new Set(orderTimePicks(order.lines).map((p) => p.manufacturer));
  const own = stillGoing ? [...new Set(picks.filter((p) => ownProgrammes.has(p.manufacturer)).map((p) => p.manufacturer))] : [];
  if (own.length) {
    throw new DomainError(
      'INVALID_TRANSITION',
      `order ${order.orderId} is ${order.status}: it enrols its ${own.join(', ')} devices itself once its shipments settle; ask again then for any left out`,
      { status: order.status, orderEnrols: own },
    );
  }
  if (picks.length === 0) throw new DomainError('VALIDATION_FAILED', 'name the lines to enrol (no line of this order asks for enrolment)');
  checkCustomerIds(customerIds);
  for (const pick of picks) {
    const line = order.lines.find((l) => l.lineNumber === pick.lineNumber);
    if (!line) throw new DomainError('LINE_NOT_FOUND', `order ${order.orderId} has no line ${pick.lineNumber}`);
    if (!(programmesBySku[line.sku] ?? []).includes(pick.manufacturer)) {
      throw new DomainError('ENROLMENT_NOT_SUPPORTED', `${line.sku} does not support the ${pick.manufacturer} enrolment programme`);
    }
    if (!customerIds[pick.manufacturer]) {
      throw new DomainError(
        'VALIDATION_FAILED',
        `line ${pick.lineNumber} asks for ${pick.manufacturer} but the customer's ${pick.manufacturer} programme id is missing`,
        { missingCustomerIds: [pick.manufacturer] },
      );
    }
    const shipped = order.subOrders.some((s) => s.units.some((u) => u.lineNumber === pick.lineNumber && (u.imei || u.serialNumber)));
    if (!shipped) throw new DomainError('VALIDATION_FAILED', `line ${pick.lineNumber} shipped no device with an IMEI or serial number`);
  }
}

/** A device is named by its IMEI or its serial number. */
const named = (d: Pick<EnrolmentDevice, 'deviceId' | 'imei' | 'serialNumber'>, id: string) => d.deviceId === id || d.imei === id || d.serialNumber === id;

/**
 * Checks the devices a later request names (IMEI or serial): each one shipped on a picked line.
 * None named: every device of the picked lines.
 */
export function checkPickedDevices(order: Pick<OrderState, 'orderId' | 'subOrders'>, picks: ProgrammePick[], deviceIds: readonly string[]): void {
  const lines = new Set(picks.map((p) => p.lineNumber));
  const shipped = order.subOrders.flatMap((s) => s.units.filter((u) => lines.has(u.lineNumber) && (u.imei || u.serialNumber)));
  const unknown = deviceIds.filter(
    (id) => !shipped.some((u) => named({ deviceId: u.imei ?? u.serialNumber!, imei: u.imei, serialNumber: u.serialNumber }, id)),
  );
  if (unknown.length) {
    throw new DomainError('VALIDATION_FAILED', `order ${order.orderId} shipped no device ${unknown.join(', ')} on the lines named`, {
      unknownDevices: unknown,
    });
  }
}

/** The plan narrowed to the devices named (all of them when none is named). */
export function onlyDevices(plan: ManufacturerEnrolment[], deviceIds: readonly string[]): ManufacturerEnrolment[] {
  if (!deviceIds.length) return plan;
  return plan.map((e) => ({ ...e, devices: e.devices.filter((d) => deviceIds.some((id) => named(d, id))) })).filter((e) => e.devices.length > 0);
}

// ---- A device's enrolment over time (for unenrolment) ----

export type DeviceEnrolmentState = 'notEnrolled' | 'enrolling' | 'enrolled' | 'unenrolling';

/**
 * Where a device stands, from its instructions oldest first: enrolled after a successful enrolment
 * not followed by a successful unenrolment; pending while an instruction is still on its way.
 */
export function deviceEnrolmentState(history: Pick<EnrolmentInstruction, 'action' | 'status'>[]): DeviceEnrolmentState {
  let state: DeviceEnrolmentState = 'notEnrolled';
  for (const i of history) {
    if (!isFinal(i.status)) state = i.action === 'unenrol' ? 'unenrolling' : state === 'enrolled' ? 'enrolled' : 'enrolling';
    else if (i.action === 'enrol' && i.status === 'enrolled') state = 'enrolled';
    else if (i.action === 'unenrol' && i.status === 'unenrolled') state = 'notEnrolled';
    // A refusal changes nothing: a failed unenrolment leaves the device enrolled.
  }
  return state;
}

/** Checks that a device may be unenrolled now. */
export function checkUnenrol(deviceId: string, state: DeviceEnrolmentState): void {
  if (state === 'enrolled') return;
  const why = { notEnrolled: 'is not enrolled', enrolling: 'is still being enrolled', unenrolling: 'is already being unenrolled' }[state];
  throw new DomainError('INVALID_TRANSITION', `device ${deviceId} ${why}`, { enrolmentState: state });
}

// ---- Progress of one request (child workflow view) ----

export interface EnrolmentProgress {
  requestId: string;
  manufacturer: Manufacturer;
  action: EnrolmentAction;
  devices: { deviceId: string; status: InstructionStatus; code?: string; message?: string }[];
  done: boolean;
}

export function summarise(devices: { status: InstructionStatus }[]): Record<InstructionStatus, number> {
  const out = Object.fromEntries(INSTRUCTION_STATUSES.map((s) => [s, 0])) as Record<InstructionStatus, number>;
  for (const d of devices) out[d.status]++;
  return out;
}
