// The Device Enrolment Request and Response jobs run once, now, on the test's own task queue: what
// their Schedules do every few minutes, under a workflow id of its own per run.
import type { RequestJobResult, ResponseJobResult } from '../../workflows/enrolment';
import type { TestSystem } from './system';

type JobType = 'enrolmentRequestJob' | 'enrolmentResponseJob';
let jobRun = 0;
const lastRun: Partial<Record<JobType, string>> = {};
const runJob = <T>(sys: TestSystem, type: JobType) => {
  const workflowId = `test-${type}-${++jobRun}-${sys.config.temporal.taskQueue}`;
  lastRun[type] = workflowId;
  return sys.temporal.workflow.execute(type, { workflowId, taskQueue: sys.config.temporal.taskQueue, args: [] }) as Promise<T>;
};

/** The workflow id of the job's last run here, to read or replay its history. */
export const lastEnrolmentJobId = (type: JobType): string => {
  const id = lastRun[type];
  if (!id) throw new Error(`${type} has not run in this test file`);
  return id;
};

export const runEnrolmentRequestJob = (sys: TestSystem) => runJob<RequestJobResult>(sys, 'enrolmentRequestJob');
export const runEnrolmentResponseJob = (sys: TestSystem) => runJob<ResponseJobResult>(sys, 'enrolmentResponseJob');

/** One manufacturer's part of a job's result. */
export const of = <T extends { manufacturer: string }>(r: { manufacturers: T[] }, m: string) => r.manufacturers.find((x) => x.manufacturer === m)!;
