// The system's recurring jobs as Temporal Schedules, declared as a list and brought into line with
// it on every worker start: created when missing, updated when they drifted. Safe to run from
// several workers at once.
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions } from '@temporalio/client';
import type { Config } from './config';
import { msToNumber, type Duration } from '@temporalio/common';

/** Each schedule belongs to one deployment (namespace + task queue), so its id names the queue. */
export const billRunScheduleId = (config: Config) => `${config.temporal.taskQueue}:bill-run`;

/** The hour (UTC) of the daily bill run; it bills the day that has just ended (domain/billing.ts). */
export const BILL_RUN_HOUR_UTC = 2;

/** Device Enrolment Request and Response jobs (issue 7); ops can trigger either at once. */
export const enrolmentRequestScheduleId = (config: Config) => `${config.temporal.taskQueue}:enrolment-request`;
export const enrolmentResponseScheduleId = (config: Config) => `${config.temporal.taskQueue}:enrolment-response`;

/** Order view reconciliation job: closed orders' read models checked against their workflows. */
export const orderViewReconciliationScheduleId = (config: Config) => `${config.temporal.taskQueue}:order-view-reconciliation`;

/** Orphaned returns job: returns numbered by the API but never started (a crash between the two) get their workflow. */
export const orphanedReturnsScheduleId = (config: Config) => `${config.temporal.taskQueue}:orphaned-returns`;

/** Every schedule the system needs. Add a job by adding an entry. */
export function scheduleDefinitions(config: Config): ScheduleOptions[] {
  return [
    {
      scheduleId: billRunScheduleId(config),
      spec: {
        calendars: [{ hour: BILL_RUN_HOUR_UTC, minute: 0, second: 0, comment: 'daily bill run: invoices the accounts whose cycle day ended' }],
        timezone: 'UTC',
      },
      action: {
        type: 'startWorkflow',
        workflowType: 'billRunWorkflow',
        // The date is derived in the workflow from the scheduled time (every run gets these same args).
        args: [{}],
        // Temporal appends the scheduled time: `<taskQueue>:bill-run-2025-03-16T02:00:00Z`.
        workflowId: billRunScheduleId(config),
        taskQueue: config.temporal.taskQueue,
      },
      policies: {
        // Every scheduled time bills a different date, so none may be dropped: a run still going
        // (or missed during an outage) makes the next ones wait their turn, never skip. SKIP or
        // BUFFER_ONE would silently lose a day's cycle invoices when more than one run piles up.
        overlap: 'BUFFER_ALL',
        catchupWindow: '7 days',
      },
    },
    // Device enrolment jobs: each run does all the work there is, so a run that is still going
    // makes the next one pointless: SKIP; missed runs are not caught up (the next one does it all).
    ...(
      [
        [
          'enrolmentRequestJob',
          enrolmentRequestScheduleId(config),
          config.enrolment.requestJobInterval,
          'Device Enrolment Request job: queued instructions to the manufacturers in batches',
        ],
        [
          'enrolmentResponseJob',
          enrolmentResponseScheduleId(config),
          config.enrolment.responseJobInterval,
          'Device Enrolment Response job: open transactions polled, results applied',
        ],
      ] as const
    ).map(([workflowType, scheduleId, every, memo]): ScheduleOptions => ({
      scheduleId,
      spec: { intervals: [{ every: every as Duration }] },
      action: { type: 'startWorkflow', workflowType, args: [], workflowId: scheduleId, taskQueue: config.temporal.taskQueue },
      policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
      memo: { description: memo },
    })),
    // Each run takes up where the previous one ended (its result), so SKIP loses nothing.
    {
      scheduleId: orderViewReconciliationScheduleId(config),
      spec: { intervals: [{ every: config.orderViewReconciliation.interval as Duration }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'orderViewReconciliationWorkflow',
        args: [{}],
        workflowId: orderViewReconciliationScheduleId(config),
        taskQueue: config.temporal.taskQueue,
      },
      policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
      memo: { description: 'Order view reconciliation: read models of recently closed orders brought in line with their workflows' },
    },
    // Each run takes up where the previous one stopped (a sequence hint in the database), so SKIP loses nothing.
    {
      scheduleId: orphanedReturnsScheduleId(config),
      spec: { intervals: [{ every: config.returns.startGrace as Duration }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'orphanedReturnsWorkflow',
        args: [{ graceMs: msToNumber(config.returns.startGrace as Duration) }],
        workflowId: orphanedReturnsScheduleId(config),
        taskQueue: config.temporal.taskQueue,
      },
      policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
      memo: { description: 'Orphaned returns: authorised returns whose workflow the API never started (a crash) are started' },
    },
  ];
}

export interface EnsuredSchedule {
  scheduleId: string;
  outcome: 'created' | 'updated';
}

/** Creates the missing schedules and updates the others to the definition, leaving pause state to ops. */
export async function ensureSchedules(client: Client, config: Config, definitions = scheduleDefinitions(config)): Promise<EnsuredSchedule[]> {
  const out: EnsuredSchedule[] = [];
  for (const def of definitions) {
    try {
      await client.schedule.create(def);
      out.push({ scheduleId: def.scheduleId, outcome: 'created' });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      // Exists already (an earlier start, or another worker just created it): bring it into line.
      await client.schedule.getHandle(def.scheduleId).update((previous) => ({
        spec: def.spec,
        action: def.action,
        policies: def.policies,
        state: previous.state,
      }));
      out.push({ scheduleId: def.scheduleId, outcome: 'updated' });
    }
  }
  return out;
}
