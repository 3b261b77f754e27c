// Device enrolment side effects: queueing instructions, recording and sending transactions to the
// manufacturers, polling them and applying their answers. Each step is idempotent: instruction ids
// and transaction ids are unique keys, a transaction is recorded before it is sent (so a resend
// carries the same id) and per-device results are applied only to the instructions they belong to.
import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import {
  instructionId,
  planBatches,
  resultFor,
  type DeviceOutcome,
  type EnrolmentAction,
  type EnrolmentInstruction,
  type QueueInstructionsInput,
} from '../domain/enrolment';
import type { Manufacturer } from '../domain/types';
import { isDuplicateKey } from '../infra/db';
import { CredentialsRefusedError, createManufacturerGateways, type GatewayTransaction, type ManufacturerGateways } from '../infra/manufacturer-gateways';
import { enrolmentResultSignal } from '../workflows/messages';
import { businessEvents } from './business-events';
import type { ActivityDeps } from './index';

/** Instructions one Request job run takes per manufacturer; the rest wait for the next run. */
const MAX_INSTRUCTIONS_PER_RUN = 10_000;

const TX_PREFIX: Record<Manufacturer, string> = { apple: 'APL', google: 'GGL', samsung: 'KNX' };

/** Retrying cannot fix refused credentials: the job step stops at once (the instructions carry the reason). */
const credentialsFailure = (err: CredentialsRefusedError) => ApplicationFailure.nonRetryable(err.message, 'MANUFACTURER_CREDENTIALS_REFUSED');

type InstructionDoc = EnrolmentInstruction & { deviceId: string; updatedAt: string };

export function enrolmentActivities({ db, temporal, config }: ActivityDeps, gatewayOverride?: ManufacturerGateways) {
  const { EnrolmentInstruction: Instr, EnrolmentTransaction: Tx, EnrolmentAudit: Audit } = db.models;
  const gateways: ManufacturerGateways = gatewayOverride ?? createManufacturerGateways(config, async (entry) => void (await Audit.create(entry)));

  const gatewayTx = (
    tx: { transactionId: string; action: string; customerId: string; createdAt: string; reference?: string | null },
    instrs: InstructionDoc[],
  ): GatewayTransaction => ({
    transactionId: tx.transactionId,
    action: tx.action as EnrolmentAction,
    customerId: tx.customerId,
    createdAt: tx.createdAt,
    devices: instrs.map((i) => ({ ...i.device, orderNumber: i.orderNumber })),
    ...(tx.reference ? { reference: tx.reference } : {}),
  });

  /** The instructions a transaction was sent with, in the order they were sent. */
  async function sentInstructions(tx: { instructionIds: string[] }): Promise<InstructionDoc[]> {
    const docs = await Instr.find({ instructionId: { $in: tx.instructionIds } }).lean<InstructionDoc[]>();
    const byId = new Map(docs.map((d) => [d.instructionId, d]));
    return tx.instructionIds.map((id) => byId.get(id)).filter((d): d is InstructionDoc => !!d);
  }

  /** Records each device's outcome on its instruction, then tells each requesting workflow. */
  async function applyOutcomes(transactionId: string, instrs: InstructionDoc[], outcomes: DeviceOutcome[]): Promise<Record<string, number>> {
    const at = new Date().toISOString();
    const byDevice = new Map(outcomes.map((o) => [o.deviceId, o]));
    for (const i of instrs) {
      const result = resultFor(i.action, byDevice.get(i.deviceId), transactionId, at);
      // Only while it is still this transaction's (a retry after a crash finds it applied already).
      const { modifiedCount } = await Instr.updateOne(
        { instructionId: i.instructionId, transactionId, status: 'batched' },
        { $set: { status: result.status, result, updatedAt: at } },
      );
      if (modifiedCount) businessEvents.enrolmentResult(i.action, result.status);
    }
    const applied = await Instr.find({ instructionId: { $in: instrs.map((i) => i.instructionId) }, 'result.transactionId': transactionId }).lean<
      InstructionDoc[]
    >();
    const byRequest = new Map<string, InstructionDoc[]>();
    for (const i of applied) byRequest.set(i.requestId, [...(byRequest.get(i.requestId) ?? []), i]);
    for (const [requestId, list] of byRequest) {
      try {
        await temporal.workflow.getHandle(requestId).signal(enrolmentResultSignal, {
          transactionId,
          results: list.map((i) => ({
            deviceId: i.deviceId,
            status: i.result!.status,
            ...(i.result!.code ? { code: i.result!.code } : {}),
            ...(i.result!.message ? { message: i.result!.message } : {}),
          })),
        });
      } catch (err) {
        // The request finished already (a requeued device answering later): the instruction holds the outcome.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    const counts: Record<string, number> = {};
    for (const i of applied) counts[i.result!.status] = (counts[i.result!.status] ?? 0) + 1;
    return counts;
  }

  return {
    /** One instruction per device of the request; queueing again changes nothing. */
    async queueEnrolmentInstructions(input: QueueInstructionsInput): Promise<{ queued: number }> {
      const now = new Date().toISOString();
      const ops = input.devices.map((device) => {
        const id = instructionId(input.requestId, device.deviceId);
        return {
          updateOne: {
            filter: { instructionId: id },
            update: {
              $setOnInsert: {
                instructionId: id,
                requestId: input.requestId,
                action: input.action,
                manufacturer: input.manufacturer,
                customerId: input.customerId,
                orderId: input.orderId,
                orderNumber: input.orderNumber,
                deviceId: device.deviceId,
                device,
                status: 'queued',
                transactionId: null,
                attempts: 0,
                ...(input.reason ? { reason: input.reason } : {}),
                requestedBy: input.requestedBy,
                createdAt: now,
                updatedAt: now,
              },
            },
            upsert: true,
          },
        };
      });
      for (let n = 0; n < ops.length; n += 500) {
        try {
          await Instr.bulkWrite(ops.slice(n, n + 500), { ordered: false });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err; // two upserts raced on one key: it exists, which is all we need
        }
      }
      return { queued: input.devices.length };
    },

    /**
     * Cuts the manufacturer's queued instructions into batches within its limit and records each as
     * a transaction BEFORE anything is sent. The transaction id derives from the batch's content, so
     * a retry of this step records the same transactions. Returns every transaction not yet sent.
     */
    async prepareEnrolmentBatches({ manufacturer }: { manufacturer: Manufacturer }): Promise<string[]> {
      const queued = await Instr.find({ manufacturer, status: 'queued' }, { instructionId: 1, manufacturer: 1, action: 1, customerId: 1, attempts: 1, _id: 0 })
        .sort({ instructionId: 1 })
        .limit(MAX_INSTRUCTIONS_PER_RUN)
        .lean<Pick<InstructionDoc, 'instructionId' | 'manufacturer' | 'action' | 'customerId' | 'attempts'>[]>();
      const attempts = new Map(queued.map((q) => [q.instructionId, q.attempts ?? 0]));
      for (const plan of planBatches(queued, gateways[manufacturer].batchLimit)) {
        const content = plan.instructionIds.map((id) => `${id}#${attempts.get(id)}`).join('\n');
        const transactionId = `${TX_PREFIX[manufacturer]}-${createHash('sha256').update(content).digest('hex').slice(0, 24).toUpperCase()}`;
        const createdAt = new Date().toISOString();
        try {
          await Tx.create({
            transactionId,
            manufacturer,
            action: plan.action,
            customerId: plan.customerId,
            instructionIds: plan.instructionIds,
            status: 'prepared',
            createdAt,
          });
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
        await Instr.updateMany(
          { instructionId: { $in: plan.instructionIds }, status: 'queued' },
          { $set: { status: 'batched', transactionId, updatedAt: createdAt }, $inc: { attempts: 1 } },
        );
      }
      const prepared = await Tx.find({ manufacturer, status: 'prepared' }, { transactionId: 1, _id: 0 })
        .sort({ createdAt: 1, transactionId: 1 })
        .lean<{ transactionId: string }[]>();
      return prepared.map((t) => t.transactionId);
    },

    /**
     * Sends one recorded transaction. If the answer is lost (crash, timeout), the retry sends the
     * same transaction id again and the manufacturer recognises it.
     */
    async sendEnrolmentTransaction({ transactionId }: { transactionId: string }): Promise<{ status: string }> {
      const tx = await Tx.findOne({ transactionId }).lean();
      if (!tx) throw new Error(`enrolment transaction ${transactionId} not found`);
      if (tx.status !== 'prepared') return { status: tx.status };
      // The devices that are really this transaction's (a batch recorded twice keeps only one owner).
      const owned = await Instr.find({ transactionId, status: 'batched' }).sort({ instructionId: 1 }).lean<InstructionDoc[]>();
      const sentIds = tx.sendAttempts ? tx.instructionIds : owned.map((i) => i.instructionId);
      if (!tx.sendAttempts) {
        if (sentIds.length === 0) {
          await Tx.updateOne({ transactionId, status: 'prepared' }, { $set: { status: 'empty', completedAt: new Date().toISOString() } });
          return { status: 'empty' };
        }
        // Fix the device list and its order before the first send: every resend and poll uses it.
        await Tx.updateOne({ transactionId }, { $set: { instructionIds: sentIds } });
      }
      await Tx.updateOne({ transactionId }, { $inc: { sendAttempts: 1 } });
      const instrs = tx.sendAttempts ? await sentInstructions({ instructionIds: sentIds }) : owned;
      const gateway = gateways[tx.manufacturer as Manufacturer];
      let res;
      try {
        res = await gateway.submit(gatewayTx(tx, instrs));
      } catch (err) {
        if (!(err instanceof CredentialsRefusedError)) throw err;
        // A re-send may follow a first send the manufacturer took without our hearing it: keep the
        // transaction (same id) to send again once the credentials are fixed.
        if (tx.sendAttempts) {
          await Tx.updateOne(
            { transactionId, status: 'prepared' },
            { $set: { lastError: { code: 'CREDENTIALS_REFUSED', manufacturerCode: err.reason, message: err.message, at: new Date().toISOString() } } },
          );
          throw credentialsFailure(err);
        }
        // The first send: the manufacturer never took the transaction. Every device failed, with
        // the reason, for ops to see in the failed list and requeue once the credentials are fixed.
        const refusal = { code: 'CREDENTIALS_REFUSED' as const, manufacturerCode: err.reason, message: err.message };
        const summary = await applyOutcomes(
          transactionId,
          instrs,
          instrs.map((i) => ({ deviceId: i.deviceId, outcome: 'failed', ...refusal })),
        );
        await Tx.updateOne(
          { transactionId, status: 'prepared' },
          { $set: { status: 'rejected', error: refusal, completedAt: new Date().toISOString(), summary } },
        );
        throw credentialsFailure(err);
      }
      const at = new Date().toISOString();
      if (res.accepted) {
        await Tx.updateOne({ transactionId, status: 'prepared' }, { $set: { status: 'open', reference: res.reference, sentAt: at } });
        return { status: 'open' };
      }
      // Refused as a whole (invalid customer id, over the limit): every device of it failed.
      const summary = await applyOutcomes(
        transactionId,
        instrs,
        instrs.map((i) => ({ deviceId: i.deviceId, outcome: 'failed', code: res.code, manufacturerCode: res.manufacturerCode, message: res.message })),
      );
      await Tx.updateOne(
        { transactionId },
        { $set: { status: 'rejected', error: { code: res.code, manufacturerCode: res.manufacturerCode, message: res.message }, completedAt: at, summary } },
      );
      return { status: 'rejected' };
    },

    async listOpenEnrolmentTransactions({ manufacturer }: { manufacturer: Manufacturer }): Promise<string[]> {
      const open = await Tx.find({ manufacturer, status: 'open' }, { transactionId: 1, _id: 0 })
        .sort({ sentAt: 1, transactionId: 1 })
        .lean<{ transactionId: string }[]>();
      return open.map((t) => t.transactionId);
    },

    /** Asks for one transaction's result: still processing (try again next run), or applies it. */
    async pollEnrolmentTransaction({
      transactionId,
    }: {
      transactionId: string;
    }): Promise<{ state: 'processing' | 'done' | 'notOpen'; detail?: string; summary?: Record<string, number> }> {
      const tx = await Tx.findOne({ transactionId }).lean();
      if (!tx || tx.status !== 'open' || !tx.reference) return { state: 'notOpen' };
      const instrs = await sentInstructions(tx);
      const gateway = gateways[tx.manufacturer as Manufacturer];
      let res;
      try {
        res = await gateway.status({ ...gatewayTx(tx, instrs), reference: tx.reference });
      } catch (err) {
        if (!(err instanceof CredentialsRefusedError)) throw err;
        // The manufacturer holds the transaction: it stays open for a run after the fix; the refusal is on it.
        await Tx.updateOne(
          { transactionId },
          { $set: { lastError: { code: 'CREDENTIALS_REFUSED', manufacturerCode: err.reason, message: err.message, at: new Date().toISOString() } } },
        );
        throw credentialsFailure(err);
      }
      const at = new Date().toISOString();
      if (res.state === 'processing') {
        await Tx.updateOne({ transactionId }, { $inc: { polls: 1 }, $set: { lastPolledAt: at } });
        return { state: 'processing', detail: res.detail };
      }
      const summary = await applyOutcomes(transactionId, instrs, res.devices);
      await Tx.updateOne({ transactionId, status: 'open' }, { $inc: { polls: 1 }, $set: { status: 'done', lastPolledAt: at, completedAt: at, summary } });
      return { state: 'done', summary };
    },
  };
}
