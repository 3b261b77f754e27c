// A return's side effects: the Return Authorisation to the warehouse, the return's record, its units
// let go, the devices to unenrol, licences revoked, and which units go on a credit note. Each is
// idempotent: keyed by the return, its file id or its units.
import { ApplicationFailure } from '@temporalio/activity';
import { deviceEnrolmentState, MANUFACTURERS, type EnrolmentDevice, type EnrolmentInstruction } from '../domain/enrolment';
import type { ReturnAuthorisation } from '../domain/return-authorisation';
import type { CreditLine, ReturnView } from '../domain/returns';
import type { Manufacturer } from '../domain/types';
import { validateReturnAuthorisation } from '../infra/contracts';
import { returnsStore } from '../infra/store/returns';
import { WarehouseRejectedError } from '../infra/warehouse-transport';
import type { ActivityDeps } from './index';

export interface DeviceToUnenrol {
  manufacturer: Manufacturer;
  customerId: string;
  orderId: string;
  device: EnrolmentDevice;
  /** This device's n-th unenrolment (`unenrol-<deviceId>-<n>`, as the API's own). */
  n: number;
}

export function returnActivities({ db, transport }: ActivityDeps) {
  const { Return, EnrolmentInstruction: Instr, Charge } = db.models;
  const store = returnsStore(db);
  return {
    /** Sends one Return Authorisation (validated against its contract first); the transport writes the same file on a retry. */
    async sendReturnAuthorisation(input: { authorisation: ReturnAuthorisation }): Promise<{ location: string }> {
      const ra = input.authorisation;
      const valid = validateReturnAuthorisation(ra);
      if (!valid.ok)
        throw ApplicationFailure.nonRetryable(`return authorisation ${ra.fileId} breaks the contract: ${valid.errors.join('; ')}`, 'CONTRACT_VIOLATION');
      try {
        return await transport.send(ra);
      } catch (err) {
        if (err instanceof WarehouseRejectedError) throw ApplicationFailure.nonRetryable(err.message, 'WAREHOUSE_REJECTED');
        throw err;
      }
    },

    /** The return's record as its workflow has it now (one writer: the workflow, after the API's first insert). */
    async recordReturn(view: ReturnView): Promise<void> {
      await Return.updateOne({ _id: view.rmaId }, { $set: { ...view, updatedAt: new Date().toISOString() } });
    },

    /** An expired return lets go of the units that never came back: they can be returned again. */
    async releaseReturnedUnits(input: { orderId: string; rmaId: string; unitIds: string[] }): Promise<void> {
      await store.release(input.orderId, input.rmaId, input.unitIds);
    },

    /** The returned devices enrolled with a manufacturer now, each with the number of its next unenrolment. */
    async devicesToUnenrol(input: { deviceIds: string[] }): Promise<DeviceToUnenrol[]> {
      const out: DeviceToUnenrol[] = [];
      for (const deviceId of input.deviceIds) {
        const history = await Instr.find({ deviceId }).sort({ createdAt: 1, instructionId: 1 }).lean<EnrolmentInstruction[]>();
        const unenrolments = history.filter((i) => i.action === 'unenrol').length;
        for (const m of MANUFACTURERS) {
          const mine = history.filter((i) => i.manufacturer === m);
          if (deviceEnrolmentState(mine) !== 'enrolled') continue;
          const by = [...mine].reverse().find((i) => i.action === 'enrol' && i.status === 'enrolled')!;
          out.push({ manufacturer: m, customerId: by.customerId, orderId: by.orderId, device: by.device, n: unenrolments + 1 });
        }
      }
      return out;
    },

    /**
     * Which units go on a credit note: those whose charge is invoiced now, when the account is
     * credited at once. The rest (not invoiced yet, or an account billed on its cycle) become credit
     * lines of the next cycle invoice. Decided once, in the workflow's history, before crediting.
     */
    async planReturnCredit(input: { creditMode: 'immediate' | 'nextInvoice'; lines: CreditLine[] }) {
      const onCreditNote: CreditLine[] = [];
      const onNextInvoice: CreditLine[] = [];
      for (const l of input.lines) {
        const charge = await Charge.findOne({ _id: l.chargeKey }, { invoiceNumber: 1 }).lean<{ invoiceNumber?: string | null }>();
        if (!charge) throw ApplicationFailure.nonRetryable(`charge ${l.chargeKey} of unit ${l.unitId} does not exist`, 'VALIDATION_FAILED');
        const line = { ...l, invoiceNumber: charge.invoiceNumber ?? null };
        if (input.creditMode === 'immediate' && line.invoiceNumber) onCreditNote.push(line);
        else onNextInvoice.push(line);
      }
      return { onCreditNote, onNextInvoice };
    },
  };
}
