// What an operator watches, against the real servers: the API's request id, probes and metrics
// (ops token), the adaptor's file counters, and the production worker process (worker/main.ts) with
// its ops port and Temporal Core's Prometheus exporter, whose business counters move as an order
// goes through.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/dev-stack';
import { readyLine } from '../../infra/log';
import { ordersAwaitingDispatch, waitForStatus } from '../support/dispatch-fixtures';
import { eventually, startSystem, TOKENS, type TestSystem } from '../support/system';

let sys: TestSystem;
let worker: ChildProcess | undefined;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker!.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }
  await sys?.stop();
});

/** The sum of a metric's samples whose labels include every given label (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`))) sum += Number(m[3]);
  }
  return sum;
}

const apiMetrics = async () => {
  const res = await sys.api.request('/metrics', { headers: { authorization: `Bearer ${TOKENS.ops}` } });
  expect(res.status).toBe(200);
  return res.text();
};

describe('the API', () => {
  it('echoes a sane x-request-id, makes one up otherwise', async () => {
    const given = await sys.api.request('/api/v1/products', { headers: { authorization: `Bearer ${TOKENS.agent}`, 'x-request-id': 'trace-42.a' } });
    expect(given.headers.get('x-request-id')).toBe('trace-42.a');
    const made = await sys.api.request('/api/v1/products', { headers: { authorization: `Bearer ${TOKENS.agent}`, 'x-request-id': 'no spaces <allowed>' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Refusals carry one too, so a caller's report can be found in the logs.
    const refused = await sys.api.request('/api/v1/products');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answers /healthz and /readyz, and /metrics to the ops role only', async () => {
    expect((await sys.api.request('/healthz')).status).toBe(200);
    const ready = await sys.api.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, checks: { database: true, temporal: true } });
    expect((await sys.api.request('/metrics')).status).toBe(401);
    expect((await sys.api.request('/metrics', { headers: { authorization: `Bearer ${TOKENS.agent}` } })).status).toBe(403);
  });

  it('counts requests by route template and status, with their latency', async () => {
    const route = { method: 'GET', route: '/api/v1/orders/:orderId', status: '404' };
    const before = sample(await apiMetrics(), 'http_requests_total', route);
    for (const id of ['ORD-NOPE-1', 'ORD-NOPE-2']) await sys.call('GET', `/api/v1/orders/${id}`);
    const after = await apiMetrics();
    expect(sample(after, 'http_requests_total', route)).toBe(before + 2);
    expect(sample(after, 'http_request_duration_seconds_count', route)).toBe(before + 2);
    // The path's ids are not labels.
    expect(after).not.toContain('ORD-NOPE-1');
  });
});

describe('the production worker process and the adaptor', () => {
  it(
    'serves probes and process metrics, and counts transitions, charges, invoices and warehouse files as an order completes',
    { timeout: 10 * 60_000 },
    async () => {
      // Only the worker process under test runs the task queue from here on.
      await sys.worker.shutdown();
      const [opsPort, corePort] = [await freePort(), await freePort()];
      worker = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../../worker/main.ts', import.meta.url))], {
        env: { ...process.env, ...sys.env, LOG_LEVEL: 'info', OPS_PORT: String(opsPort), WORKER_CORE_METRICS_ADDRESS: `127.0.0.1:${corePort}` },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      await new Promise<void>((resolve, reject) => {
        worker!.stdout!.on('data', (d: Buffer) => {
          output += d.toString();
          if (readyLine('worker').test(output)) resolve();
        });
        worker!.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${output}`)));
      });
      // Its log is JSON lines only, and its ready line says where its metrics are.
      for (const line of output.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();
      expect(output).toContain(`"opsPort":${opsPort}`);

      const ops = (p: string) => fetch(`http://127.0.0.1:${opsPort}${p}`);
      expect((await ops('/healthz')).status).toBe(200);
      expect(await (await ops('/readyz')).json()).toEqual({ ok: true, checks: { database: true, temporal: true } });
      expect(sample(await (await ops('/metrics')).text(), 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect((await ops('/nope')).status).toBe(404);

      const core = async () => (await fetch(`http://127.0.0.1:${corePort}/metrics`)).text();
      const filesBefore = sample(await apiMetrics(), 'warehouse_files_total', { warehouse: 'WH-NORTH', outcome: 'accepted' });
      const validBefore = sample(await apiMetrics(), 'warehouse_response_rows_total', { warehouse: 'WH-NORTH', kind: 'valid' });

      const [order] = await ordersAwaitingDispatch(sys, 1, { accountId: 'ACC-1001', lines: [{ sku: 'HS-GGL-PX9-128', quantity: 1 }] });
      await sys.simulator.respond();
      await sys.adaptor.sweep();
      await waitForStatus(sys, [order.orderId], 'Complete');

      const text = await eventually(
        async () => {
          const t = await core();
          return sample(t, 'invoices_issued_total', { kind: 'offCycle' }) >= 1 && t;
        },
        'the invoice counted on the worker',
        30_000,
      ).catch(async (err) => {
        const ours = (await core()).split('\n').filter((l) => /orders?_|charges|invoices|enrolment/.test(l));
        throw new Error(`${(err as Error).message}; the worker's business metrics:\n${ours.join('\n')}`);
      });
      // The SDK's own metrics are there too (task latency is what alerts on a starved worker).
      expect(text).toContain('temporal_workflow_task_schedule_to_start_latency');
      expect(sample(text, 'order_transitions_total', { event: 'generate', status: 'AwaitingGeneration' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'order_transitions_total', { status: 'AwaitingDispatch' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'order_transitions_total', { status: 'Complete' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'charges_recorded_total', { billing_mode: 'immediate' })).toBeGreaterThanOrEqual(1);

      // The adaptor ran in this process: its counters are on this process's registry.
      const after = await apiMetrics();
      expect(sample(after, 'warehouse_files_total', { warehouse: 'WH-NORTH', outcome: 'accepted' })).toBe(filesBefore + 1);
      expect(sample(after, 'warehouse_response_rows_total', { warehouse: 'WH-NORTH', kind: 'valid' })).toBeGreaterThanOrEqual(validBefore + 1);
    },
  );
});
