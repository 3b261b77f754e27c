// A return (RMA), `return-<rmaId>`: started by the API once the return rules accepted it and its
// units are held. Sends the Return Authorisation to each warehouse that shipped its devices, waits
// for the units to come back (the warehouse's `returned` rows through the Sales Order Dispatch job,
// or ops), at most RETURN_RECEIPT_WAIT; then unenrols the returned devices (the unenrolment
// workflow, one child per device), revokes returned licences and credits the customer. A return
// none of whose units came back expires and lets go of them. Its own workflow, not the order's: a
// return can come months after the order closed.
import { allHandlersFinished, condition, log, ParentClosePolicy, proxyActivities, setHandler, startChild, workflowInfo } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { returnAuthorisations } from '../domain/return-authorisation';
import { applyReceipt, awaitingReceipt, type ConditionGrade, type ReturnView } from '../domain/returns';
import { DomainError } from '../domain/errors';
import { unenrolmentWorkflowId } from '../domain/enrolment';
import { deviceUnenrolmentWorkflow } from './enrolment';
import { getReturnQuery, receiveReturnUpdate, returnReceiptSignal } from './messages';
import { orderStep } from './retry-policies';

// As the order's steps outside the workflow task: a file to the warehouse at most, else a few
// writes. The timeout is also how long a step a crashed worker held waits before it runs again.
const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute', retry: orderStep });

export interface ReturnWorkflowInput {
  ret: ReturnView;
  /** RETURN_RECEIPT_WAIT in milliseconds, read by the API when it authorised the return. */
  receiptWaitMs: number;
}

export async function returnWorkflow(input: ReturnWorkflowInput): Promise<ReturnView> {
  const ret: ReturnView = JSON.parse(JSON.stringify(input.ret)) as ReturnView;
  const now = () => new Date().toISOString(); // workflow time: deterministic
  let settled = false;
  setHandler(getReturnQuery, () => ret);
  const seenRows = new Set<string>();
  setHandler(returnReceiptSignal, ({ batchId, warehouseId, units }) => {
    const fresh = units.filter((u) => !seenRows.has(`${batchId}:${u.rowNumber}`));
    for (const u of fresh) seenRows.add(`${batchId}:${u.rowNumber}`);
    if (ret.status !== 'authorised') return log.warn('return rows after the return was settled are ignored', { batchId, rows: units.length });
    const { applied, unknown } = applyReceipt(ret, fresh, `warehouse:${warehouseId}`, 'warehouse', now());
    log.info('return rows applied', { batchId, applied: applied.length, unknown });
  });
  setHandler(
    receiveReturnUpdate,
    async ({ units, grade, by }) => {
      const named = units ?? awaitingReceipt(ret).map((u) => ({ unit: u.unitId, grade: grade ?? ('B' as ConditionGrade) }));
      applyReceipt(ret, named, by, 'ops', now());
      // The answer shows the credit: it comes as soon as the units are all in.
      await condition(() => settled || awaitingReceipt(ret).length > 0);
      return ret;
    },
    {
      validator: ({ units }: { units?: { unit: string; grade: ConditionGrade }[] }) => {
        if (ret.status !== 'authorised') throw new DomainError('RETURN_NOT_AWAITING_RECEIPT', `return ${ret.rmaId} is ${ret.status}`, { status: ret.status });
        const unknown = (units ?? []).filter((u) => !ret.units.some((x) => [x.unitId, x.imei, x.imei2, x.serialNumber, x.licenceKey].includes(u.unit)));
        if (unknown.length)
          throw new DomainError('UNIT_NOT_RETURNABLE', `return ${ret.rmaId} has no unit ${unknown.map((u) => u.unit).join(', ')}`, { units: unknown });
      },
    },
  );

  // Licences have nothing to send back: revoked as soon as the return is authorised.
  for (const u of ret.units) if (u.kind === 'licence' && !u.received) u.received = { grade: 'A', at: now(), by: 'system', source: 'licence' };
  for (const ra of returnAuthorisations(ret, now())) {
    if (ret.authorisations.some((a) => a.fileId === ra.fileId)) continue;
    const { location } = await acts.sendReturnAuthorisation({ authorisation: ra });
    ret.authorisations.push({ warehouseId: ra.warehouseId, fileId: ra.fileId, sentAt: now(), location });
  }
  await acts.recordReturn(ret);

  const allIn = await condition(() => awaitingReceipt(ret).length === 0, Math.max(1, input.receiptWaitMs));
  const received = ret.units.filter((u) => u.received);
  if (!allIn) {
    const missing = awaitingReceipt(ret);
    for (const u of missing) u.released = true;
    await acts.releaseReturnedUnits({ orderId: ret.orderId, rmaId: ret.rmaId, unitIds: missing.map((u) => u.unitId) });
    log.info('return receipt wait over', { rmaId: ret.rmaId, received: received.length, missing: missing.length });
  }
  if (received.length === 0) {
    ret.status = 'expired';
    ret.updatedAt = now();
    settled = true;
    await acts.recordReturn(ret);
    await condition(allHandlersFinished);
    return ret;
  }
  ret.status = 'received';
  ret.updatedAt = now();
  await acts.recordReturn(ret);

  // The device leaves the manufacturer's programme so its next owner can enrol it.
  const devices = await acts.devicesToUnenrol({ deviceIds: received.filter((u) => u.kind === 'device').map((u) => u.unitId) });
  for (const d of devices) {
    await startChild(deviceUnenrolmentWorkflow, {
      workflowId: unenrolmentWorkflowId(d.device.deviceId, d.n),
      parentClosePolicy: ParentClosePolicy.ABANDON,
      args: [
        {
          orderId: d.orderId,
          manufacturer: d.manufacturer,
          customerId: d.customerId,
          device: d.device,
          orderNumber: `${d.orderId}-R${d.n}`,
          reason: `returned (${ret.rmaId}, ${ret.reason})`,
          requestedBy: `return:${ret.rmaId}`,
        },
      ],
    }).catch((err: unknown) => {
      // Unenrolled meanwhile under the same workflow id (an agent's unenrolment raced ours): done either way.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      log.info('unenrolment already started', { deviceId: d.device.deviceId });
    });
  }
  const licences = received.filter((u) => u.kind === 'licence').map((u) => u.unitId);
  if (licences.length) await acts.revokeLicences({ orderId: ret.orderId, keys: licences, reason: `returned (${ret.rmaId})`, rmaId: ret.rmaId });

  const plan = await acts.planReturnCredit({ creditMode: ret.creditMode, lines: received.map((u) => u.credit) });
  ret.credit = await acts.creditReturn({
    rmaId: ret.rmaId,
    orderId: ret.orderId,
    accountId: ret.accountId,
    currency: ret.currency,
    reason: ret.reason,
    ...plan,
  });
  ret.status = 'credited';
  ret.updatedAt = now();
  await acts.recordReturn(ret);
  settled = true;
  log.info('return credited', { rmaId: ret.rmaId, workflowId: workflowInfo().workflowId, creditNote: ret.credit.creditNoteNumber });
  await condition(allHandlersFinished);
  return ret;
}
