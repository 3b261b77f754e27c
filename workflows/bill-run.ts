// The bill run: on an account's cycle day, its pending deferred charges go onto its regular
// invoice. Started daily by a Temporal Schedule (infra/schedules.ts) or by ops for an explicit date
// (POST /api/v1/bill-runs). Exactly once per account and date comes from the ledger's idempotency
// key `cycle:<accountId>:<date>`, so retries, reruns and overlapping runs issue nothing twice.
import { ActivityFailure, ApplicationFailure, proxyActivities, workflowInfo } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Activities } from '../activities';
import { billRunStep } from './retry-policies';
import { billCutOff, billDateForScheduledRun, isBillDate, type BillRunInput, type BillRunResult } from '../domain/billing';

// Transient failures (the database restarting) are retried for as long as it takes; a refusal that
// retrying cannot fix is reported per account and the rest of the run carries on.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: billRunStep,
});

/** Set by the Schedule on every run it starts: the nominal time, even for a late (caught-up) start. */
const ScheduledStartTimeAttr = defineSearchAttributeKey('TemporalScheduledStartTime', SearchAttributeType.DATETIME);

const PAGE = 100;
/** Accounts invoiced at once: enough to go fast, few enough not to swamp the database. */
const PARALLEL = 10;

export async function billRunWorkflow(input: BillRunInput = {}): Promise<BillRunResult> {
  // Schedule-started runs all get the same (empty) arguments: the date comes from the scheduled
  // time, which is in the start event, so replay derives the same date.
  const info = workflowInfo();
  const date = input.date ?? billDateForScheduledRun(info.typedSearchAttributes.get(ScheduledStartTimeAttr) ?? info.startTime);
  if (!isBillDate(date)) throw ApplicationFailure.nonRetryable(`bill run date ${date} is not YYYY-MM-DD`, 'VALIDATION_FAILED');

  const result: BillRunResult = { date, cutOff: billCutOff(date), accountsDue: 0, invoices: [], nothingToBill: [], failed: [] };
  let after: string | null = null;
  for (;;) {
    const page: string[] = await acts.accountsDueForBillRun({ date, after, limit: PAGE });
    result.accountsDue += page.length;
    for (let i = 0; i < page.length; i += PARALLEL) {
      const chunk = page.slice(i, i + PARALLEL);
      const outcomes = await Promise.allSettled(chunk.map((accountId) => acts.invoiceAccountForBillRun({ accountId, date })));
      outcomes.forEach((o, j) => {
        if (o.status === 'rejected') result.failed.push({ accountId: chunk[j], message: failureMessage(o.reason) });
        else if (o.value) result.invoices.push(o.value);
        else result.nothingToBill.push(chunk[j]);
      });
    }
    if (page.length < PAGE) return result;
    after = page[page.length - 1];
  }
}

function failureMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
