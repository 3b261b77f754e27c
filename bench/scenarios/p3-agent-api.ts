// P3: the agent API's saturation capacity over real HTTP (autocannon in a process of its own,
// closed loop at N connections): order read, stock check, create order, each against a bare
// hono route returning a similar body in the same process.
import { Hono } from 'hono';
import { say } from '../progress';
import type { Recorder } from '../report';
import { ORDER_LINES } from '../orders';
import { callApi, listen, runScript, TOKEN, type BenchSystem } from '../system';

interface LoadResult {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

export async function runP3(sys: BenchSystem, o: { connections: number; seconds: number }, rec: Recorder): Promise<void> {
  const load = async (url: string, extra: Record<string, unknown>): Promise<LoadResult> =>
    JSON.parse(
      await runScript('load-child.ts', [
        JSON.stringify({
          url,
          connections: o.connections,
          duration: o.seconds,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          ...extra,
        }),
      ]),
    );
  const order = await callApi(sys, 'POST', '/api/v1/accounts/ACC-1001/orders', {});
  await callApi(sys, 'POST', `/api/v1/orders/${order.orderId}/lines`, ORDER_LINES[0]);
  const orderBody = await callApi(sys, 'GET', `/api/v1/orders/${order.orderId}`);
  const stockBody = await callApi(sys, 'GET', '/api/v1/stock?sku=HS-APL-IP16-128&sku=PR-GEN-CASE-IP16');
  const bare = new Hono();
  bare.get('/order', (c) => c.json(orderBody));
  bare.get('/stock', (c) => c.json(stockBody));
  bare.post('/orders', (c) => c.json(order, 201));
  const real = await listen(sys.api);
  const base = await listen(bare);
  const results: Record<string, { ours: LoadResult; baseline: LoadResult }> = {};
  try {
    const endpoints = [
      { name: 'order read', ours: `/api/v1/orders/${order.orderId}`, baseline: '/order', extra: {} },
      { name: 'stock check', ours: '/api/v1/stock?sku=HS-APL-IP16-128&sku=PR-GEN-CASE-IP16', baseline: '/stock', extra: {} },
      { name: 'create order', ours: '/api/v1/accounts/ACC-1001/orders', baseline: '/orders', extra: { method: 'POST', body: '{}' } },
    ];
    for (const e of endpoints) {
      say(`P3: ${e.name}, ${o.connections} connections, ${o.seconds} s each (baseline, then ours)`);
      const b = await load(`http://127.0.0.1:${base.port}${e.baseline}`, e.extra);
      const r = await load(`http://127.0.0.1:${real.port}${e.ours}`, e.extra);
      results[e.name] = { ours: r, baseline: b };
    }
  } finally {
    await real.close();
    await base.close();
  }
  rec.scenarios.P3 = results;
  for (const [name, v] of Object.entries(results)) {
    // No answer at all within the load tool's timeout counts as errors too.
    const errs = v.ours.errors + v.ours.non2xx + (v.ours.requests === 0 ? 1 : 0);
    rec.goals.push({
      scenario: 'P3 agent API',
      measure: `${name}: p99 (p50 ${v.ours.p50Ms} / ${v.baseline.p50Ms} ms; ${v.ours.requests} answered, ${errs} errors)`,
      ours: v.ours.p99Ms,
      baseline: v.baseline.p99Ms,
      unit: 'ms',
      ratio: v.ours.p99Ms / Math.max(1, v.baseline.p99Ms),
      goal: 'p99 ≤ 3 × baseline, 0 errors',
      met: v.ours.requests > 0 && v.ours.p99Ms <= 3 * Math.max(1, v.baseline.p99Ms) && errs === 0,
    });
  }
}
