// Device enrolment: request it for an order (programme ids on a New order, or the shipped devices
// of any order later: Complete, Error, Cancelled after a partial shipment), unenrol a device,
// follow an order's per-device progress; ops list failed devices, requeue them and run the
// enrolment jobs on demand.
import { createRoute, z } from '@hono/zod-openapi';
import { ScheduleNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';
import {
  FAILED_STATUSES,
  MANUFACTURERS,
  checkLaterEnrolment,
  checkPickedDevices,
  checkUnenrol,
  deviceEnrolmentState,
  devicesToEnrol,
  enrolmentWorkflowId,
  laterEnrolmentWorkflowId,
  onlyDevices,
  orderTimePicks,
  programmeDeviceKey,
  summarise,
  unenrolmentWorkflowId,
  type EnrolmentCustomerIds,
  type EnrolmentInstruction,
  type ProgrammePick,
} from '../../domain/enrolment';
import type { Manufacturer, Product } from '../../domain/types';
import { enrolmentRequestScheduleId, enrolmentResponseScheduleId } from '../../infra/schedules';
import type { deviceEnrolmentWorkflow, deviceUnenrolmentWorkflow } from '../../workflows/enrolment';
import { getEnrolmentProgressQuery, orderWorkflowId, requestEnrolmentUpdate } from '../../workflows/messages';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { idempotent } from '../idempotency';
import { apiError } from '../errors';
import { readOrderView } from '../order-view';
import { keepAnswer } from '../../infra/store/order-views';
import { isDuplicateKey } from '../../infra/db';
import {
  EnrolmentIdsRecordedSchema,
  EnrolmentInstructionSchema,
  EnrolmentJobRunSchema,
  EnrolmentStartedSchema,
  Manufacturer as ManufacturerSchema,
  OrderEnrolmentSchema,
  OrderIdParam,
  RequeuedSchema,
  UnenrolmentQueuedSchema,
  answer,
  freeText,
  itemsOf,
  jsonBody,
  refusal,
} from '../schemas';

const refusals = { 400: refusal('Invalid request'), 404: refusal('No such order'), 409: refusal('Not allowed now'), 422: refusal('Business rule refused it') };

const CustomerId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, "1 to 64 letters, digits, '.', '_', ':' or '-'");
export const EnrolmentRequestBody = z
  .object({
    customerIds: z
      .object({ apple: CustomerId.optional(), google: CustomerId.optional(), samsung: CustomerId.optional() })
      .strict()
      .openapi({ description: "the customer's id in each programme (Apple organisation id, zero-touch customer id, Knox customer id)" }),
    lines: z
      .array(z.object({ lineNumber: z.number().int().min(1), programme: ManufacturerSchema }).strict())
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: "Orders past New: the lines to enrol and each one's programme; defaults to the lines that asked for enrolment" }),
    devices: z
      .array(z.string().regex(/^[A-Za-z0-9-]{1,40}$/))
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: 'Orders past New: only these devices (IMEI or serial) of the lines; defaults to every device they shipped' }),
  })
  .strict()
  .openapi('EnrolmentRequest');
const DeviceParam = z.object({
  imeiOrSerial: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,40}$/)
    .openapi({ param: { name: 'imeiOrSerial', in: 'path' }, example: '353325110000012' }),
});
const UnenrolBody = z
  .object({
    reason: freeText(200, { multiline: true }).openapi({ example: 'returned' }),
    manufacturer: ManufacturerSchema.optional().openapi({ description: 'needed only when the device is enrolled in two programmes' }),
  })
  .strict()
  .openapi('Unenrolment');
const RequeueBody = z
  .object({ instructionIds: z.array(freeText(200)).min(1).max(500) })
  .strict()
  .openapi('EnrolmentRequeue');

const requestEnrolment = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/orders/{orderId}/enrolment',
  tags: ['enrolment'],
  summary: "Enrol the order's devices: programme ids on a New order, or the shipped devices of any order now (those not asked for before)",
  request: { params: OrderIdParam, ...jsonBody(EnrolmentRequestBody) },
  responses: {
    ...refusals,
    200: answer('Programme ids recorded on the New order', EnrolmentIdsRecordedSchema),
    202: answer('Enrolment started per manufacturer', EnrolmentStartedSchema),
  },
});
const getOrderEnrolment = createRoute({
  ...roles('agent', 'ops'),
  method: 'get',
  path: '/orders/{orderId}/enrolment',
  tags: ['enrolment'],
  summary: "Per-device enrolment status of an order's devices",
  request: { params: OrderIdParam },
  responses: { 404: refusal('No such order'), 200: answer('Requests and devices', OrderEnrolmentSchema) },
});
const unenrol = createRoute({
  ...roles('agent', 'ops'),
  method: 'post',
  path: '/devices/{imeiOrSerial}/unenrolment',
  tags: ['enrolment'],
  summary: 'Unenrol an enrolled device (returned, sold, lost)',
  request: { params: DeviceParam, ...jsonBody(UnenrolBody) },
  responses: { 400: refusal('Invalid request'), 409: refusal('The device is not enrolled'), 202: answer('Unenrolment queued', UnenrolmentQueuedSchema) },
});
const listFailed = createRoute({
  ...roles('ops'),
  method: 'get',
  path: '/enrolment/failed',
  tags: ['enrolment'],
  summary: 'Devices the manufacturers refused (failed, or enrolled by another customer)',
  request: {
    query: z.object({
      manufacturer: ManufacturerSchema.optional(),
      orderId: freeText(64).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
  },
  responses: { 200: answer('Failed instructions, newest first', itemsOf(EnrolmentInstructionSchema)) },
});
const requeue = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/enrolment/requeue',
  tags: ['enrolment'],
  summary: 'Queue failed instructions again for the next Device Enrolment Request job',
  request: jsonBody(RequeueBody),
  responses: { 400: refusal('Invalid request'), 200: answer('What was requeued', RequeuedSchema) },
});
const runJob = createRoute({
  ...roles('ops'),
  method: 'post',
  path: '/enrolment/jobs/{job}/run',
  tags: ['enrolment'],
  summary: 'Run the Device Enrolment Request or Response job now',
  request: { params: z.object({ job: z.enum(['request', 'response']).openapi({ param: { name: 'job', in: 'path' } }) }) },
  responses: { 202: answer('Started', EnrolmentJobRunSchema) },
});

type InstructionDoc = EnrolmentInstruction & { deviceId: string; updatedAt: string };

export function enrolmentRoutes({ config, db, temporal }: ApiDeps) {
  const { Product: Products, EnrolmentInstruction: Instr, EnrolmentRequest: Requests } = db.models;
  const r = newRouter();
  const idem = idempotent(db);

  const readOrder = (orderId: string) => readOrderView(db, orderId);

  /**
   * The devices of this order's enrolment requests with the manufacturer that are still running
   * (the order's own and each later one), from their progress, which lists every device from the
   * start. A request that has finished has queued all its instructions; one not found asked nothing.
   */
  const devicesOfRunningRequests = async (orderId: string, m: Manufacturer, requestIds: string[]): Promise<string[]> => {
    const keys: string[] = [];
    for (const id of new Set([enrolmentWorkflowId(orderId, m), ...requestIds])) {
      const handle = temporal.workflow.getHandle(id);
      // Only a running request is asked (a finished one would be replayed on a worker to answer).
      const running = await handle.describe().then(
        (d) => d.status.name === 'RUNNING',
        (err: unknown) => (err instanceof WorkflowNotFoundError ? false : Promise.reject(err)),
      );
      if (!running) continue;
      const progress = await handle.query(getEnrolmentProgressQuery);
      if (!progress.done) keys.push(...progress.devices.map((d) => programmeDeviceKey(m, d.deviceId)));
    }
    return keys;
  };

  const recordRequests = async (orderId: string, customerIds: EnrolmentCustomerIds, when: 'orderTime' | 'later', by: string, picks: ProgrammePick[] = []) => {
    const at = new Date().toISOString();
    for (const m of MANUFACTURERS.filter((x) => customerIds[x])) {
      const lineNumbers = picks.filter((p) => p.manufacturer === m).map((p) => p.lineNumber);
      const write = () =>
        Requests.updateOne(
          { orderId, manufacturer: m },
          { $set: { customerId: customerIds[m], when, lineNumbers, requestedBy: by, requestedAt: at } },
          { upsert: true },
        );
      // Two requests at once can both upsert (FerretDB reads, then inserts): the loser updates.
      await write().catch((err) => (isDuplicateKey(err) ? write() : Promise.reject(err)));
    }
  };

  r.openapi(guarded(config, requestEnrolment, idem), async (c) => {
    const { orderId } = c.req.valid('param');
    const body = c.req.valid('json');
    const customerIds = body.customerIds as EnrolmentCustomerIds;
    const order = await readOrder(orderId);

    if (order.status === 'New') {
      // At order time the lines say which programme; the order keeps the customer's ids until dispatch.
      if (body.lines || body.devices) {
        throw apiError('VALIDATION_FAILED', 'on a New order, set the programme on each line (enrolment attribute); give only customerIds here');
      }
      const view = await temporal.workflow
        .getHandle(orderWorkflowId(orderId))
        .executeUpdate(requestEnrolmentUpdate, { args: [{ customerIds, by: c.get('actor'), requestId: c.get('requestId') }] });
      await keepAnswer(db, view);
      await recordRequests(orderId, customerIds, 'orderTime', c.get('actor'));
      return c.json(
        {
          orderId,
          when: 'orderTime' as const,
          enrolmentCustomerIds: view.enrolmentCustomerIds,
          lines: view.lines.flatMap((l) => (l.enrolment ? [{ lineNumber: l.lineNumber, sku: l.sku, programme: l.enrolment }] : [])),
        },
        200,
      );
    }

    const picks: ProgrammePick[] = body.lines ? body.lines.map((l) => ({ lineNumber: l.lineNumber, manufacturer: l.programme })) : orderTimePicks(order.lines);
    const skus = [...new Set(order.lines.map((l) => l.sku))];
    const products = await Products.find({ sku: { $in: skus } }, { sku: 1, enrolmentProgrammes: 1, _id: 0 }).lean<
      Pick<Product, 'sku' | 'enrolmentProgrammes'>[]
    >();
    checkLaterEnrolment(order, picks, customerIds, Object.fromEntries(products.map((p) => [p.sku, p.enrolmentProgrammes])));
    checkPickedDevices(order, picks, body.devices ?? []);
    // Devices already asked for (by the order itself or an earlier request) are never asked for
    // again: a repeat enrols only what shipped since, if anything.
    const earlier = await Instr.find({ orderId, action: 'enrol' }, { requestId: 1, manufacturer: 1, deviceId: 1, _id: 0 }).lean<
      Pick<InstructionDoc, 'requestId' | 'manufacturer' | 'deviceId'>[]
    >();
    const asked = new Set(earlier.map((i) => programmeDeviceKey(i.manufacturer, i.deviceId)));
    // A request still queueing its instructions has stored only some of them: its own list counts.
    for (const m of new Set(picks.map((p) => p.manufacturer))) {
      const requestIds = earlier.filter((i) => i.manufacturer === m).map((i) => i.requestId);
      for (const key of await devicesOfRunningRequests(orderId, m, requestIds)) asked.add(key);
    }
    const plan = onlyDevices(devicesToEnrol(order, picks, customerIds, asked), body.devices ?? []);
    await recordRequests(orderId, customerIds, 'later', c.get('actor'), picks);
    const started: { manufacturer: Manufacturer; workflowId: string; devices: number }[] = [];
    const alreadyRequested: Manufacturer[] = [...new Set(picks.map((p) => p.manufacturer))].filter((m) => !plan.some((e) => e.manufacturer === m));
    for (const e of plan) {
      const requestIds = [...new Set(earlier.filter((i) => i.manufacturer === e.manufacturer).map((i) => i.requestId))];
      const workflowId = laterEnrolmentWorkflowId(orderId, e.manufacturer, requestIds);
      try {
        await temporal.workflow.start<typeof deviceEnrolmentWorkflow>('deviceEnrolmentWorkflow', {
          workflowId,
          taskQueue: config.temporal.taskQueue,
          // Each request id once, ever: a request racing another one (or the order's own, whose
          // instructions are not queued yet) is refused, not repeated.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [{ orderId, ...e, requestedBy: c.get('actor') }],
          staticSummary: `Enrol ${e.devices.length} device(s) of order ${orderId} with ${e.manufacturer}`,
        });
        started.push({ manufacturer: e.manufacturer, workflowId, devices: e.devices.length });
      } catch (e2) {
        if (!(e2 instanceof WorkflowExecutionAlreadyStartedError)) throw e2;
        alreadyRequested.push(e.manufacturer);
      }
    }
    if (started.length === 0) {
      throw apiError('INVALID_TRANSITION', `enrolment with ${alreadyRequested.join(', ')} was already requested for order ${orderId}`, { alreadyRequested });
    }
    return c.json({ orderId, when: 'later' as const, started, alreadyRequested }, 202);
  });

  r.openapi(guarded(config, getOrderEnrolment), async (c) => {
    const { orderId } = c.req.valid('param');
    const order = await readOrder(orderId);
    const [requests, instructions] = await Promise.all([
      Requests.find({ orderId }, { _id: 0 }).sort({ manufacturer: 1 }).lean(),
      Instr.find({ orderId }, { _id: 0 }).sort({ createdAt: 1, instructionId: 1 }).lean<InstructionDoc[]>(),
    ]);
    // One entry per device and programme: where it stands now and the latest instruction's outcome.
    const groups = new Map<string, InstructionDoc[]>();
    for (const i of instructions) groups.set(`${i.manufacturer}|${i.deviceId}`, [...(groups.get(`${i.manufacturer}|${i.deviceId}`) ?? []), i]);
    const devices = [...groups.values()].map((history) => {
      const last = history[history.length - 1];
      return {
        deviceId: last.deviceId,
        imei: last.device.imei,
        serialNumber: last.device.serialNumber,
        lineNumber: last.device.lineNumber,
        sku: last.device.sku,
        manufacturer: last.manufacturer,
        customerId: last.customerId,
        enrolment: deviceEnrolmentState(history),
        last: {
          instructionId: last.instructionId,
          action: last.action,
          status: last.status,
          transactionId: last.transactionId ?? null,
          result: last.result ?? null,
          updatedAt: last.updatedAt,
        },
      };
    });
    return c.json({ orderId, orderStatus: order.status, requests, devices, counts: summarise(devices.map((d) => ({ status: d.last.status }))) }, 200);
  });

  r.openapi(guarded(config, unenrol), async (c) => {
    const { imeiOrSerial } = c.req.valid('param');
    const { reason, manufacturer } = c.req.valid('json');
    const history = await Instr.find({ $or: [{ deviceId: imeiOrSerial }, { 'device.imei': imeiOrSerial }, { 'device.serialNumber': imeiOrSerial }] })
      .sort({ createdAt: 1, instructionId: 1 })
      .lean<InstructionDoc[]>();
    const programmes = MANUFACTURERS.filter((m) => (!manufacturer || m === manufacturer) && history.some((i) => i.manufacturer === m));
    const enrolled = programmes.filter((m) => deviceEnrolmentState(history.filter((i) => i.manufacturer === m)) === 'enrolled');
    if (enrolled.length > 1) throw apiError('VALIDATION_FAILED', `device ${imeiOrSerial} is enrolled with ${enrolled.join(' and ')}: name the manufacturer`);
    const m = enrolled[0] ?? programmes[0];
    const mine = history.filter((i) => i.manufacturer === m);
    checkUnenrol(imeiOrSerial, m ? deviceEnrolmentState(mine) : 'notEnrolled');
    const enrolledBy = [...mine].reverse().find((i) => i.action === 'enrol' && i.status === 'enrolled')!;
    const n = history.filter((i) => i.action === 'unenrol').length + 1;
    const workflowId = unenrolmentWorkflowId(enrolledBy.deviceId, n);
    try {
      await temporal.workflow.start<typeof deviceUnenrolmentWorkflow>('deviceUnenrolmentWorkflow', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [
          {
            orderId: enrolledBy.orderId,
            manufacturer: enrolledBy.manufacturer,
            customerId: enrolledBy.customerId,
            device: enrolledBy.device,
            // Apple: a return is a new order, with its own number.
            orderNumber: `${enrolledBy.orderId}-R${n}`,
            reason,
            requestedBy: c.get('actor'),
          },
        ],
        staticSummary: `Unenrol device ${enrolledBy.deviceId} from ${enrolledBy.manufacturer}: ${reason}`,
      });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
      throw apiError('INVALID_TRANSITION', `device ${imeiOrSerial} is already being unenrolled`, { enrolmentState: 'unenrolling' });
    }
    return c.json(
      { deviceId: enrolledBy.deviceId, manufacturer: enrolledBy.manufacturer, orderId: enrolledBy.orderId, workflowId, status: 'queued' as const },
      202,
    );
  });

  r.openapi(guarded(config, listFailed), async (c) => {
    const q = c.req.valid('query');
    const items = await Instr.find(
      { status: { $in: FAILED_STATUSES }, ...(q.manufacturer ? { manufacturer: q.manufacturer } : {}), ...(q.orderId ? { orderId: q.orderId } : {}) },
      { _id: 0 },
    )
      .sort({ updatedAt: -1 })
      .limit(q.limit)
      .lean<InstructionDoc[]>();
    return c.json({ items }, 200);
  });

  r.openapi(guarded(config, requeue), async (c) => {
    const { instructionIds } = c.req.valid('json');
    const at = new Date().toISOString();
    const before = await Instr.find({ instructionId: { $in: instructionIds } }, { instructionId: 1, status: 1, _id: 0 }).lean<
      { instructionId: string; status: string }[]
    >();
    const requeuable = before.filter((i) => FAILED_STATUSES.includes(i.status as (typeof FAILED_STATUSES)[number])).map((i) => i.instructionId);
    if (requeuable.length) {
      // The previous outcome stays in the audit log; the instruction waits for the next Request job.
      await Instr.updateMany(
        { instructionId: { $in: requeuable }, status: { $in: FAILED_STATUSES } },
        { $set: { status: 'queued', transactionId: null, updatedAt: at }, $unset: { result: 1 } },
      );
    }
    const skipped = instructionIds
      .filter((id) => !requeuable.includes(id))
      .map((id) => ({ instructionId: id, reason: before.some((b) => b.instructionId === id) ? ('not failed' as const) : ('not found' as const) }));
    return c.json({ requeued: requeuable, skipped }, 200);
  });

  r.openapi(guarded(config, runJob), async (c) => {
    const { job } = c.req.valid('param');
    const scheduleId = job === 'request' ? enrolmentRequestScheduleId(config) : enrolmentResponseScheduleId(config);
    try {
      // Through the schedule with SKIP, so a run already going is not doubled (trigger() alone
      // would use ALLOW_ALL, whatever the schedule's own policy says).
      await temporal.schedule.getHandle(scheduleId).trigger('SKIP');
      return c.json({ job, via: 'schedule' as const, scheduleId }, 202);
    } catch (e) {
      if (!(e instanceof ScheduleNotFoundError)) throw e;
    }
    // Without its schedule, one manual run at a time (two prepare runs could batch a device twice):
    // a run already going is the answer.
    const workflowId = `${scheduleId}-manual`;
    try {
      await temporal.workflow.start(job === 'request' ? 'enrolmentRequestJob' : 'enrolmentResponseJob', {
        workflowId,
        taskQueue: config.temporal.taskQueue,
        args: [],
      });
    } catch (e) {
      if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    }
    return c.json({ job, via: 'workflow' as const, workflowId }, 202);
  });

  return r;
}
