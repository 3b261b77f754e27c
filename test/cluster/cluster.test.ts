// The cluster tier (`npm run test:cluster`): the production shape run for real, as
// `npm run start:cluster` starts it (infra/cluster.ts): the Temporal server on PostgreSQL, FerretDB,
// two workers and two API instances. The walking skeleton goes through both API instances; the
// chaos run spreads its orders over both workers and both instances while one worker, the Temporal
// server, PostgreSQL and one API instance are killed and restarted; the rolling restart restarts
// both workers in turn during traffic. Nothing may be lost or done twice (chaos/checks.ts).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { formatReport, type ChaosReport } from '../../chaos/checks';
import { runChaos, type ChaosContext } from '../../chaos/harness';
import { orderWorkflowId } from '../../workflows/messages';
import { eventually, TOKENS } from '../support/system';

const ORDERS = Number(process.env.CLUSTER_CHAOS_ORDERS ?? 200);
const ROLLING_ORDERS = Number(process.env.CLUSTER_ROLLING_ORDERS ?? 60);
const agent = { authorization: `Bearer ${TOKENS.agent}`, 'content-type': 'application/json' };

/** One order created through API instance 1, edited and generated through instance 2, read back from both until Complete and billed. */
async function walkingSkeleton({ apiUrls, temporalUiUrl }: ChaosContext): Promise<string> {
  const [one, two] = apiUrls;
  const created = await fetch(`${one}/api/v1/accounts/ACC-1001/orders`, { method: 'POST', headers: agent, body: '{}' });
  expect(created.status).toBe(201);
  const { orderId } = (await created.json()) as { orderId: string };
  const line = await fetch(`${two}/api/v1/orders/${orderId}/lines`, {
    method: 'POST',
    headers: agent,
    body: JSON.stringify({ sku: 'HS-APL-IP16-128', quantity: 1 }),
  });
  expect(line.status).toBeLessThan(300);
  const generated = await fetch(`${two}/api/v1/orders/${orderId}/generate`, { method: 'POST', headers: agent });
  expect(generated.status).toBeLessThan(300);
  const read = async (base: string) => (await (await fetch(`${base}/api/v1/orders/${orderId}`, { headers: agent })).json()) as any;
  const done = await eventually(async () => ((await read(two)).status === 'Complete' ? read(two) : undefined), `order ${orderId} Complete`, 120_000);
  expect(done.charges).toHaveLength(1);
  expect(done.invoiceNumber).toMatch(/^INV-/);
  expect((await read(one)).invoiceNumber).toBe(done.invoiceNumber);
  // The Web UI server reaches the cluster: it lists the order's workflow.
  const ui = await fetch(`${temporalUiUrl}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(`WorkflowId="${orderWorkflowId(orderId)}"`)}`);
  expect(ui.status).toBe(200);
  expect(JSON.stringify(await ui.json())).toContain(orderWorkflowId(orderId));
  return orderId;
}

/** Which worker processes ran the orders' workflow tasks (identity `<pid>@<host>`), from a sample of histories. */
async function workersSeen({ temporal, orders }: ChaosContext, sample = 40): Promise<Set<number>> {
  const pids = new Set<number>();
  const ids = orders.flatMap((o) => (o.orderId ? [o.orderId] : [])).slice(0, sample);
  for (const id of ids) {
    const history = await temporal.workflow.getHandle(orderWorkflowId(id)).fetchHistory();
    for (const e of history.events ?? []) {
      const identity = e.workflowTaskCompletedEventAttributes?.identity;
      if (identity) pids.add(Number(identity.split('@')[0]));
    }
  }
  return pids;
}

function expectClean(report: ChaosReport, orders: number): void {
  expect(report.violations).toEqual([]);
  expect(report.ordersCreated).toBe(orders);
  expect(report.stuck).toEqual([]);
  expect(report.charges.duplicateKeys).toBe(0);
  expect(report.charges.recorded).toBeGreaterThan(0);
  expect(report.salesOrders.docsPerSubOrderAboveOne).toEqual([]);
  expect(report.salesOrders.filesWithoutDoc).toEqual([]);
  expect(report.enrolment.duplicates).toEqual([]);
  expect(report.dispatch.appliedTwice).toEqual([]);
}

describe('the cluster profile', () => {
  it(
    `takes the walking skeleton across both API instances, then ${ORDERS} orders through kills of a worker, the Temporal server, PostgreSQL and an API instance`,
    { timeout: 45 * 60_000 },
    async () => {
      const workDir = path.join(inject('clusterTmpRoot'), 'chaos');
      fs.mkdirSync(workDir, { recursive: true });
      let skeleton = '';
      let seen = new Set<number>();
      let pids: number[] = [];
      let answeredBy: number[] = [];
      const report = await runChaos({
        profile: 'cluster',
        orders: ORDERS,
        seed: 20_261_130,
        workDir,
        kills: { worker: 1, temporal: 1, postgres: 1, api: 1, ferretdb: 0, adaptor: 0 },
        concurrency: 10,
        drainTimeoutMs: 15 * 60_000,
        log: (line) => fs.appendFileSync(path.join(workDir, 'chaos.log'), `${new Date().toISOString()} ${line}\n`),
        afterStart: async (ctx) => {
          skeleton = await walkingSkeleton(ctx);
        },
        beforeStop: async (ctx) => {
          seen = await workersSeen(ctx);
          pids = ctx.workerPids();
          answeredBy = ctx.apiUrls.map((u) => ctx.api.answeredBy.get(u) ?? 0);
        },
      });
      console.log(
        `${formatReport(report)}\nwalking skeleton: ${skeleton}\nworker pids ${pids.join(', ')}; seen in the sampled histories ${[...seen].join(', ')}; calls answered per API instance ${answeredBy.join(' / ')}`,
      );
      expectClean(report, ORDERS);
      expect(report.killCounts).toEqual({ worker: 1, temporal: 1, postgres: 1, api: 1, ferretdb: 0, adaptor: 0 });
      expect(Object.keys(report.statuses).sort()).toEqual(['Cancelled', 'Complete', 'Error']);
      // Spread over both workers (two at the start, the killed one's successor after) and both API instances.
      expect(pids).toHaveLength(3);
      expect([...seen].every((p) => pids.includes(p))).toBe(true);
      expect(seen.size).toBeGreaterThanOrEqual(2);
      // Each instance answered a real share (the killed one is down for a while, its clients move to the other).
      expect(Math.min(...answeredBy)).toBeGreaterThan(0.1 * answeredBy.reduce((x, y) => x + y, 0));
    },
  );

  it(`loses nothing while the workers are restarted one after the other during ${ROLLING_ORDERS} orders`, { timeout: 20 * 60_000 }, async () => {
    const workDir = path.join(inject('clusterTmpRoot'), 'rolling');
    fs.mkdirSync(workDir, { recursive: true });
    let pids: number[] = [];
    let rolling = 0;
    const report = await runChaos({
      profile: 'cluster',
      orders: ROLLING_ORDERS,
      seed: 20_261_201,
      workDir,
      kills: { worker: 0, temporal: 0, postgres: 0, api: 0, ferretdb: 0, adaptor: 0 },
      rollingRestartAt: 0.3,
      concurrency: 10,
      drainTimeoutMs: 10 * 60_000,
      log: (line) => fs.appendFileSync(path.join(workDir, 'chaos.log'), `${new Date().toISOString()} ${line}\n`),
      beforeStop: async (ctx) => {
        pids = ctx.workerPids();
        rolling = ctx.rollingRestarts;
      },
    });
    console.log(`${formatReport(report)}\nrolling restarts ${rolling}; worker pids ${pids.join(', ')}`);
    expectClean(report, ROLLING_ORDERS);
    expect(rolling).toBe(2);
    // Two workers at the start, two new ones after the restart.
    expect(pids).toHaveLength(4);
    expect(report.unplannedExits).toMatchObject({ worker: 0, worker2: 0 });
  });
});
