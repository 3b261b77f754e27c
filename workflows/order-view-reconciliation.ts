// Order view reconciliation job: every few minutes (a Temporal Schedule, infra/schedules.ts) the
// orders that closed since the last run are compared with their read model, and a read model left
// behind by a stale projection write is rewritten from the closed workflow's own view. Open orders
// are left alone: their workflow is still the one writer of their read model and corrects it on
// its next change, whereas a second writer would race it on FerretDB's non-atomic writes.
// Each scheduled run takes its window's start from the previous run's result, which the Schedule
// passes on only to runs under its own overlap policy: ops running it now should trigger with SKIP
// (the TypeScript client's trigger() defaults to ALLOW_ALL, which gets no previous result and so
// looks back a whole day instead).
import { ApplicationFailure, continueAsNew, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { untilItWorks } from './retry-policies';

// A page is compared, and repaired, in one activity that heartbeats as it goes; a database or
// server outage is retried for as long as it takes.
const acts = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: untilItWorks,
});

/** Closed orders per visibility page (one activity each). */
const PAGE_SIZE = 200;
/** Pages per run before continuing as new, so the history stays small on a day with many orders. */
const PAGES_PER_RUN = 25;
/**
 * Each run looks again at orders closed shortly before the previous run's end: visibility is
 * eventually consistent, and a stale projection attempt can land after the previous run compared.
 */
const RECHECK_MS = 15 * 60_000;
/** The first run (no previous result) looks back this far; retention bounds what can be asked anyway. */
const FIRST_RUN_LOOKBACK_MS = 24 * 60 * 60_000;
/** Order ids listed in a report per outcome; the counts are always complete. */
const MAX_LISTED = 100;

export interface ReconciliationWindow {
  /** Orders closed at or after this instant (ISO 8601)… */
  closedAfter: string;
  /** …and before this one. */
  closedBefore: string;
}

export interface UnreconciledOrder {
  orderId: string;
  reason: string;
}

/** What one page of closed orders came to (activities/reconciliation.ts). */
export interface ClosedOrdersPage {
  checked: number;
  /** Orders whose workflow had to be asked: status differed, read model missing, or the visibility row could not tell. */
  queried: number;
  /** Read models that were behind their closed workflow, rewritten. */
  repaired: string[];
  /** Read models that did not exist at all, written. */
  missing: string[];
  unreconciled: UnreconciledOrder[];
  nextPageToken: string | null;
}

export interface OrderViewReconciliationInput {
  /** An explicit window (ops re-checking a period); scheduled runs derive it from the previous run. */
  closedAfter?: string;
  closedBefore?: string;
  pageSize?: number;
  pagesPerRun?: number;
  /** Set by the job itself when it continues as new. */
  resume?: { window: ReconciliationWindow; pageToken: string; report: OrderViewReconciliationReport };
}

export interface OrderViewReconciliationReport extends ReconciliationWindow {
  checked: number;
  queried: number;
  repaired: number;
  missing: number;
  unreconciled: number;
  repairedOrderIds: string[];
  missingOrderIds: string[];
  unreconciledOrders: UnreconciledOrder[];
}

export async function orderViewReconciliationWorkflow(input: OrderViewReconciliationInput = {}): Promise<OrderViewReconciliationReport> {
  const window = input.resume?.window ?? windowFor(input);
  const report = input.resume?.report ?? emptyReport(window);
  const pageSize = input.pageSize ?? PAGE_SIZE;
  const pagesPerRun = input.pagesPerRun ?? PAGES_PER_RUN;

  let pageToken = input.resume?.pageToken ?? null;
  for (let pages = 0; ; pages++) {
    if (pageToken && (pages >= pagesPerRun || workflowInfo().continueAsNewSuggested)) {
      await continueAsNew<typeof orderViewReconciliationWorkflow>({ pageSize, pagesPerRun, resume: { window, pageToken, report } });
    }
    const page = await acts.reconcileClosedOrders({ ...window, pageToken, pageSize });
    addPage(report, page);
    if (!page.nextPageToken) break;
    pageToken = page.nextPageToken;
  }

  const { repairedOrderIds, missingOrderIds, unreconciledOrders, ...counts } = report;
  if (report.repaired || report.missing || report.unreconciled) {
    log.warn('order views reconciled with their closed workflows', { ...counts, repairedOrderIds, missingOrderIds, unreconciledOrders });
  } else {
    log.info('order views checked: all in line with their closed workflows', counts);
  }
  return report;
}

/** Orders closed since the previous run's end (less the recheck margin), up to this run's start. */
function windowFor(input: OrderViewReconciliationInput): ReconciliationWindow {
  const info = workflowInfo();
  // Workflow time and the previous result are both in the start event: replay derives the same window.
  const before = input.closedBefore !== undefined ? Date.parse(input.closedBefore) : info.startTime.getTime();
  const previousEnd = Date.parse((info.lastResult as Partial<ReconciliationWindow> | undefined)?.closedBefore ?? '');
  const after =
    input.closedAfter !== undefined
      ? Date.parse(input.closedAfter)
      : Number.isFinite(previousEnd)
        ? Math.min(previousEnd, before) - RECHECK_MS
        : before - FIRST_RUN_LOOKBACK_MS;
  if (!Number.isFinite(before) || !Number.isFinite(after) || after >= before) {
    throw ApplicationFailure.nonRetryable(
      `reconciliation window ${input.closedAfter} .. ${input.closedBefore} is not two ISO instants in order`,
      'VALIDATION_FAILED',
    );
  }
  return { closedAfter: new Date(after).toISOString(), closedBefore: new Date(before).toISOString() };
}

function emptyReport(window: ReconciliationWindow): OrderViewReconciliationReport {
  return { ...window, checked: 0, queried: 0, repaired: 0, missing: 0, unreconciled: 0, repairedOrderIds: [], missingOrderIds: [], unreconciledOrders: [] };
}

function addPage(report: OrderViewReconciliationReport, page: ClosedOrdersPage): void {
  report.checked += page.checked;
  report.queried += page.queried;
  report.repaired += page.repaired.length;
  report.missing += page.missing.length;
  report.unreconciled += page.unreconciled.length;
  report.repairedOrderIds.push(...page.repaired.slice(0, MAX_LISTED - report.repairedOrderIds.length));
  report.missingOrderIds.push(...page.missing.slice(0, MAX_LISTED - report.missingOrderIds.length));
  report.unreconciledOrders.push(...page.unreconciled.slice(0, MAX_LISTED - report.unreconciledOrders.length));
}
