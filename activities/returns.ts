// A return's side effects: the Return Authorisation to the warehouse, the return's record, its units
// let go, the devices to unenrol, licences revoked, and which units go on a credit note. Each is
// idempotent: keyed by the return, its file id or its units.
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { deviceEnrolmentState, MANUFACTURERS, type EnrolmentDevice, type EnrolmentInstruction } from '../domain/enrolment';
import type { ReturnAuthorisation } from '../domain/return-authorisation';
import { DomainError } from '../domain/errors';
import { rmaNumberOf, type CreditLine, type ReturnView } from '../domain/returns';
import type { Manufacturer } from '../domain/types';
import { validateReturnAuthorisation } from '../infra/contracts';
import { startReturn } from '../infra/return-start';
import { returnsStore } from '../infra/store/returns';
import { sequenceHints } from '../infra/store/sequence-hints';
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

/** What one page of the orphaned returns job came to (workflows/orphaned-returns.ts). */
export interface OrphanedReturnsPage {
  /** Returns looked at, from the first not known started on. */
  checked: number;
  /** Authorised returns whose workflow this page started: the orphans. */
  started: string[];
  /** Orphans refused: a unit was taken by another return meanwhile. */
  refused: string[];
  /** Every return before this number has had its workflow started (or was refused, or never needed one). */
  nextRmaId: string;
  /** More returns to look at now (the page was full). */
  more: boolean;
}

/**
 * The sequence hint past which every return has had its workflow started: the job walks the RMA
 * chain by `_id` from there (numbers have no gaps), never the whole collection.
 */
export const RETURNS_STARTED_HINT = 'rma:started';

export function returnActivities({ config, db, temporal, transport }: ActivityDeps) {
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
     * The orphaned returns job's step: from the first return not known started, along the RMA chain,
     * each `authorised` return older than `graceMs` has its workflow started (a start the API made
     * already is found, not repeated). Stops at the end of the chain, at a return still within its
     * grace (the API may be starting it now), or after `limit` returns.
     */
    async startOrphanedReturns(input: { graceMs: number; limit: number }): Promise<OrphanedReturnsPage> {
      const hints = sequenceHints(db.models);
      const first = (await hints.last(RETURNS_STARTED_HINT)) + 1;
      const cutoff = new Date(Date.now() - input.graceMs).toISOString();
      const page: OrphanedReturnsPage = { checked: 0, started: [], refused: [], nextRmaId: rmaNumberOf(first), more: false };
      let n = first;
      for (; n < first + input.limit; n++) {
        const ret = await Return.findOne({ _id: rmaNumberOf(n) }, { _id: 0 }).lean<ReturnView>();
        if (!ret) break;
        if (ret.status === 'authorised') {
          if (ret.requestedAt > cutoff) break;
          try {
            const { outcome } = await startReturn({ config, db, temporal }, ret);
            if (outcome === 'started') page.started.push(ret.rmaId);
          } catch (err) {
            if (!(err instanceof DomainError && err.code === 'UNIT_ALREADY_RETURNED')) throw err;
            page.refused.push(ret.rmaId);
          }
        }
        page.checked++;
        heartbeat(n);
      }
      page.more = n === first + input.limit;
      page.nextRmaId = rmaNumberOf(n);
      if (n > first) await hints.raise(RETURNS_STARTED_HINT, n - 1);
      return page;
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
