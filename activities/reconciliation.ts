// Order view reconciliation: brings the read model of closed orders back in line with their
// workflow. On FerretDB v1 a projection write is read-then-write, not compare-and-set, so a
// projection attempt that lands late (from a worker process the workflow has since left, after a
// crash or a stall) can put an older snapshot over a newer one; once the order's workflow has
// closed nothing else would ever correct it.
//
// Cheap first: the visibility row of each closed order (its OrderStatus search attribute and close
// time) is compared with its read model, read by _id alone (FerretDB pushes down nothing else).
// Only orders that fail that comparison are asked for their view (a query, which replays the
// closed workflow on a worker), and a read model that is behind is rewritten through the very
// projection the order workflow uses (projectOrder through infra/store/order-views.ts, revision-guarded).
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import { getOrderQuery, orderWorkflowId, OrderStatusAttr, type OrderView } from '../workflows/messages';
import type { ClosedOrdersPage, ReconciliationWindow, UnreconciledOrder } from '../workflows/order-view-reconciliation';
import type { ActivityDeps } from './index';
import type { OrderViewWriter } from '../infra/store/order-views';

/**
 * How close to its workflow's close time the read model must have been written to count as the
 * final projection without asking the workflow. Within one worker process an order's projection
 * writes are queued (infra/store/order-views.ts), so a stale write comes from a process the workflow has
 * left: that takes a workflow-task or sticky-queue timeout (10 s each by default), or a projection
 * attempt's 10 s timeout, after the stale snapshot was built (its updatedAt), and the newer write,
 * then the close, come later still. Half of that leaves room for clock skew between worker and
 * server; keep it below those timeouts if they are ever shortened.
 */
export const FINAL_PROJECTION_WITHIN_MS = 5_000;

/** Orders compared at once within a page: a few queries in flight, not a flood on a small server. */
const COMPARE_WINDOW = 8;

/**
 * Heartbeat details: the orders of the page done so far, by id (a retry lists the page again, and
 * visibility may return it in another order), and what they came to.
 */
interface ResumePoint {
  doneIds: string[];
  page: Omit<ClosedOrdersPage, 'nextPageToken'>;
}

function resumePoint(details: unknown): ResumePoint | undefined {
  const d = details as Partial<ResumePoint> | undefined;
  return Array.isArray(d?.doneIds) && typeof d.page?.checked === 'number' ? (d as ResumePoint) : undefined;
}

export type ReadModelVerdict = 'consistent' | 'missing' | 'statusDiffers' | 'cannotTell';

/**
 * What the visibility row alone says about a closed order's read model. A read model that agrees
 * on status and was written within FINAL_PROJECTION_WITHIN_MS of the close is the final projection;
 * anything else is checked against the workflow. Status alone is not enough: an order can project
 * the same status at several revisions (Complete before and after billing; Cancelled, then notes).
 */
export function judgeReadModel(closed: { status: string | undefined; closedAt: Date }, stored: { status: string; updatedAt: string } | null): ReadModelVerdict {
  if (!stored) return 'missing';
  if (closed.status !== undefined && stored.status !== closed.status) return 'statusDiffers';
  const written = Date.parse(stored.updatedAt);
  if (closed.status === undefined || !Number.isFinite(written)) return 'cannotTell';
  return written >= closed.closedAt.getTime() - FINAL_PROJECTION_WITHIN_MS ? 'consistent' : 'cannotTell';
}

/** The visibility query for this deployment's orders closed in the window (accepted by the dev server's SQLite visibility too). */
export function closedOrdersQuery(taskQueue: string, window: ReconciliationWindow): string {
  const quote = (s: string) => `'${s.replace(/'/g, "\\'")}'`;
  return `WorkflowType = 'orderWorkflow' AND TaskQueue = ${quote(taskQueue)} AND ExecutionStatus != 'Running' AND CloseTime >= ${quote(window.closedAfter)} AND CloseTime < ${quote(window.closedBefore)}`;
}

/**
 * `writeOrderView` is the worker's one order view writer: a repair goes through the order
 * workflow's projection, queued behind any write of that order still in flight in this process.
 */
export function reconciliationActivities({ config, db, temporal }: ActivityDeps, writeOrderView: OrderViewWriter) {
  const { OrderView } = db.models;
  const workflowIdPrefix = orderWorkflowId('');

  return {
    /**
     * Reconciles one page of closed orders; returns the token of the next page (null at the end).
     * Idempotent: comparing changes nothing, and a repair is the revision-guarded projection, which
     * a retry finds already done. A retried attempt resumes after the orders it heartbeated.
     */
    async reconcileClosedOrders(input: ReconciliationWindow & { pageToken: string | null; pageSize: number }): Promise<ClosedOrdersPage> {
      const ctx = Context.current();
      const listed = await temporal.workflowService.listWorkflowExecutions({
        namespace: config.temporal.namespace,
        query: closedOrdersQuery(config.temporal.taskQueue, input),
        pageSize: input.pageSize,
        nextPageToken: input.pageToken ? Buffer.from(input.pageToken, 'base64') : undefined,
      });
      const resume = resumePoint(ctx.info.heartbeatDetails);
      const page: ResumePoint['page'] = resume?.page ?? { checked: 0, queried: 0, repaired: [], missing: [], unreconciled: [] };
      const doneIds = new Set(resume?.doneIds ?? []);
      const executions = listed.executions.filter((e) => e.execution?.workflowId?.startsWith(workflowIdPrefix) && !doneIds.has(e.execution.workflowId));

      const reconcileOne = async (e: (typeof executions)[number]) => {
        const workflowId = e.execution!.workflowId!;
        const orderId = workflowId.slice(workflowIdPrefix.length);
        const statusPayload = e.searchAttributes?.indexedFields?.[OrderStatusAttr.name];
        const status = statusPayload ? defaultPayloadConverter.fromPayload<string>(statusPayload) : undefined;
        const closedAt = e.closeTime ? new Date(Number(e.closeTime.seconds ?? 0) * 1000 + Math.floor((e.closeTime.nanos ?? 0) / 1e6)) : new Date(0);
        const stored = await OrderView.findOne({ _id: orderId }, { status: 1, revision: 1, updatedAt: 1 }).lean();
        page.checked++;
        const verdict = judgeReadModel({ status, closedAt }, stored);
        if (verdict === 'consistent') return;

        page.queried++;
        let view: OrderView;
        try {
          view = await temporal.workflow.getHandle(workflowId, e.execution!.runId ?? undefined).query(getOrderQuery);
        } catch (err) {
          // One order that cannot answer (past retention, a history the code no longer replays)
          // must not stop the others: reported for ops, retried by the runs whose window covers it.
          const u: UnreconciledOrder = { orderId, reason: err instanceof Error ? err.message : String(err) };
          page.unreconciled.push(u);
          return;
        }
        if (stored && stored.revision >= view.revision) {
          // Not behind, so not a stale projection: nothing the projection may overwrite. Ops look.
          if (stored.revision > view.revision || stored.status !== view.status) {
            page.unreconciled.push({
              orderId,
              reason: `read model at revision ${stored.revision} (${stored.status}), workflow at ${view.revision} (${view.status}): not behind, left as it is`,
            });
          }
          return;
        }
        // What is stored was written elsewhere (a stale attempt, by hand): read it, do not trust memory.
        await writeOrderView(view, Context.current().cancellationSignal, { verify: true });
        (stored ? page.repaired : page.missing).push(orderId);
      };

      for (let i = 0; i < executions.length; i += COMPARE_WINDOW) {
        const window = executions.slice(i, i + COMPARE_WINDOW);
        await Promise.all(window.map(reconcileOne));
        for (const e of window) doneIds.add(e.execution!.workflowId!);
        ctx.heartbeat({ doneIds: [...doneIds], page } satisfies ResumePoint);
      }
      const next = listed.nextPageToken?.length ? Buffer.from(listed.nextPageToken).toString('base64') : null;
      return { ...page, nextPageToken: next };
    },
  };
}
