// The orphaned returns job (a Temporal Schedule every RETURN_START_GRACE, infra/schedules.ts): the
// API numbers a return and holds its units, then starts `return-<rmaId>`; a crash between the two
// leaves a return `authorised` that no workflow carries (no Return Authorisation, never credited).
// This job starts those: along the RMA chain from the first return not known started, each
// authorised return older than the grace is carried out as the API would have (infra/return-start.ts;
// a workflow the API did start is found, not started again). A refused orphan (a unit taken by a
// later return meanwhile) keeps its number as `refused`.
import { log, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { orphanedReturnsStep } from './retry-policies';

const acts = proxyActivities<Activities>({ startToCloseTimeout: '5 minutes', heartbeatTimeout: '1 minute', retry: orphanedReturnsStep });

/** Returns looked at per activity, and pages per run: the next run carries on from where this one stopped. */
const PAGE_SIZE = 200;
const PAGES_PER_RUN = 10;
/** RMA numbers listed in the report per outcome; the counts are always complete. */
const MAX_LISTED = 100;

export interface OrphanedReturnsInput {
  /** RETURN_START_GRACE in milliseconds (the schedule passes the worker's setting). */
  graceMs: number;
}

export interface OrphanedReturnsReport {
  checked: number;
  started: number;
  refused: number;
  startedRmaIds: string[];
  refusedRmaIds: string[];
  /** Where the next run starts. */
  nextRmaId: string;
}

export async function orphanedReturnsWorkflow(input: OrphanedReturnsInput): Promise<OrphanedReturnsReport> {
  const report: OrphanedReturnsReport = { checked: 0, started: 0, refused: 0, startedRmaIds: [], refusedRmaIds: [], nextRmaId: '' };
  for (let p = 0; p < PAGES_PER_RUN; p++) {
    const page = await acts.startOrphanedReturns({ graceMs: input.graceMs, limit: PAGE_SIZE });
    report.checked += page.checked;
    report.started += page.started.length;
    report.refused += page.refused.length;
    report.startedRmaIds.push(...page.started.slice(0, MAX_LISTED - report.startedRmaIds.length));
    report.refusedRmaIds.push(...page.refused.slice(0, MAX_LISTED - report.refusedRmaIds.length));
    report.nextRmaId = page.nextRmaId;
    if (!page.more) break;
  }
  const { startedRmaIds, refusedRmaIds, ...counts } = report;
  if (report.started || report.refused) log.warn('orphaned returns started', { ...counts, startedRmaIds, refusedRmaIds });
  else log.info('no orphaned returns', counts);
  return report;
}
