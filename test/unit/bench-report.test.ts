// The benchmark harness's pieces: its report, and P6's open-loop agent traffic against a stand-in
// API (test/integration/bench-harness.test.ts runs the whole bench on tiny sizes).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { agentTraffic, AGENT_MIX, ROUTES, routeSchedule } from '../../bench/agent-traffic';
import { cpuMeter, cpuSeconds, percentile } from '../../bench/metrics';
import { markdownReport, p1ChartSvg, type BenchReport, type P1Level } from '../../bench/report';

const level = (concurrency: number, ours: number, baseline: number): P1Level => ({
  concurrency,
  orders: 10,
  completed: 10,
  ordersPerSec: ours,
  baselineOrdersPerSec: baseline,
  ratio: ours / baseline,
  stagesMs: { 'create→New': { p50: 50, p95: 90 } },
  baselineStagesMs: {},
});

describe('bench report', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('writes a goals table that marks missed goals and shows the machine', () => {
    const report: BenchReport = {
      startedAt: '2025-06-01T10:00:00.000Z',
      finishedAt: '2025-06-01T10:05:00.000Z',
      quick: false,
      options: {},
      machine: {
        cpuModel: 'Test CPU',
        cores: 2,
        memoryGb: 8,
        loadAverageAtStart: [1, 1, 1],
        os: 'Linux',
        node: 'v20',
        temporal: 'temporal 1.5.1',
        ferretdb: 'v1.24.2',
      },
      goals: [
        { scenario: 'P1 end to end', measure: 'throughput', ours: 2, baseline: 10, unit: 'orders/s', ratio: 0.2, goal: '≥ 0.8 × baseline', met: false },
        { scenario: 'P5 open orders', measure: 'worker RSS', ours: 300, baseline: null, unit: 'MB', ratio: null, goal: '≤ 500 MB', met: true },
      ],
      scenarios: {},
      failures: [{ scenario: 'P3', error: 'boom' }],
    };
    const md = markdownReport(report, [level(1, 2, 10)]);
    expect(md).toContain('2 cores (Test CPU), 8.0 GB');
    expect(md).toContain('| P1 end to end | throughput | 2.0 orders/s | 10.0 orders/s | 0.20 | ≥ 0.8 × baseline | **no** |');
    expect(md).toContain('| P5 open orders | worker RSS | 300.0 MB | – | – | ≤ 500 MB | yes |');
    expect(md).toContain('| 1 | 2.00 | 10.00 | 0.20 | 50 / 90 |');
    expect(md).toContain('- P3: boom');
    expect(md).not.toContain('CPU time per order');
  });

  it('adds the CPU per order of each process when the run measured it', () => {
    const report: BenchReport = {
      startedAt: '2025-06-01T10:00:00.000Z',
      finishedAt: '2025-06-01T10:05:00.000Z',
      quick: false,
      options: {},
      machine: { cpuModel: 'Test CPU', cores: 2, memoryGb: 8, loadAverageAtStart: [1, 1, 1], os: 'Linux', node: 'v20', temporal: 't', ferretdb: 'f' },
      goals: [],
      scenarios: {},
      failures: [],
    };
    const md = markdownReport(report, [
      {
        ...level(8, 2, 10),
        cpuMsPerOrder: { temporal: 90, worker: 130.4, warehouses: 3, total: 223.4 },
        baselineCpuMsPerOrder: { temporal: 27, worker: 26, total: 53 },
      },
    ]);
    expect(md).toContain('| Concurrency | temporal | worker | warehouses | total |');
    expect(md).toContain('| 8 | 90 / 27 | 130 / 26 | 3 / – | 223 / 53 |');
  });

  it('reads the CPU time processes have used from the kernel', () => {
    const before = cpuSeconds();
    const meter = cpuMeter({ harness: 'self', gone: 2 ** 22 + 1 });
    // Spin for 150 ms of CPU as Node counts it (wall time would be less on a loaded machine).
    const start = process.cpuUsage();
    const giveUp = Date.now() + 30_000;
    let spin = 0;
    while (Date.now() < giveUp) {
      spin++;
      const used = process.cpuUsage(start);
      if (used.user + used.system >= 150_000) break;
    }
    expect(spin).toBeGreaterThan(0);
    expect(cpuSeconds() - before).toBeGreaterThan(0.1);
    const perUnit = meter.perUnit(2);
    expect(perUnit.harness).toBeGreaterThan(50); // ≥ 100 ms of spinning, over 2 units
    expect(perUnit.gone).toBeNaN(); // no such process: not counted in the total
    expect(perUnit.total).toBe(perUnit.harness);
  });

  it('draws both P1 series with a point per concurrency', () => {
    const svg = p1ChartSvg([level(1, 2, 10), level(4, 3, 20), level(8, 3.5, 25)]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(6);
    expect(svg).toContain('hardware-orders: 3.50 orders/s at 8');
  });
});

describe('P6 agent traffic', () => {
  it("interleaves the routes in the mix's proportions", () => {
    const schedule = routeSchedule(AGENT_MIX, 100);
    for (const r of ROUTES) expect(schedule.filter((x) => x === r)).toHaveLength(AGENT_MIX[r]);
    // Evenly spread: every tenth of the schedule holds five reads.
    for (let k = 0; k < 100; k += 10) expect(schedule.slice(k, k + 10).filter((x) => x === 'order read')).toHaveLength(5);
    expect(routeSchedule({ 'order read': 1, 'line add': 0, 'create order': 0, generate: 0, 'stock check': 1 }, 4)).toEqual([
      'order read',
      'stock check',
      'order read',
      'stock check',
    ]);
  });

  it('sends on schedule without waiting for answers, one request at a time per order', async () => {
    // A stand-in API that answers after 100 ms and records what an agent could not have done:
    // two changes to one order at once, a line added after generate, a generate without lines.
    const orders = new Map<string, { lines: number; generated: boolean }>();
    const busy = new Set<string>();
    const misuse: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const app = new Hono();
    app.use(async (c, next) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      const changed = c.req.method === 'POST' ? /^\/api\/v1\/orders\/([^/]+)\//.exec(c.req.path)?.[1] : undefined;
      if (changed && busy.has(changed)) misuse.push(`${c.req.path} while ${changed} was busy`);
      if (changed) busy.add(changed);
      await new Promise((r) => setTimeout(r, 100));
      await next();
      if (changed) busy.delete(changed);
      inFlight--;
    });
    const onOrder = (id: string, act: (o: { lines: number; generated: boolean }) => void) => {
      const o = orders.get(id);
      if (o) act(o);
      else misuse.push(`unknown order ${id}`);
    };
    app.post('/api/v1/accounts/:accountId/orders', async (c) => {
      const id = `ORD-${orders.size + 1}`;
      orders.set(id, { lines: 0, generated: false });
      return c.json({ orderId: id, delivery: (await c.req.json()).delivery }, 201);
    });
    app.post('/api/v1/orders/:id/lines', (c) => {
      onOrder(c.req.param('id'), (o) => (o.generated ? misuse.push('line after generate') : o.lines++));
      return c.json({}, 201);
    });
    app.post('/api/v1/orders/:id/generate', (c) => {
      onOrder(c.req.param('id'), (o) => (o.generated || !o.lines ? misuse.push('bad generate') : (o.generated = true)));
      return c.json({});
    });
    app.get('/api/v1/orders/:id', (c) => (orders.has(c.req.param('id')) ? c.json({}) : c.json({}, 404)));
    app.get('/api/v1/stock', (c) => c.json({ items: [] }));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    try {
      const port = (server.address() as { port: number }).port;
      const r = await agentTraffic({ baseUrl: `http://127.0.0.1:${port}`, token: 't', rate: 50, seconds: 1, prepared: 10, firstAddress: 0, timeoutMs: 10_000 });
      expect(misuse).toEqual([]);
      const all = r.routes['all routes'];
      expect(all.scheduled).toBe(50);
      expect(r.sent).toBe(all.scheduled - all.skipped);
      expect(all.answered).toBe(r.sent);
      expect(all.errors).toBe(0);
      for (const route of ROUTES) expect(r.routes[route].scheduled).toBe(AGENT_MIX[route] / 2);
      // 50 requests in a second, each answered after 100 ms: a closed loop would have one in flight.
      expect(r.maxInFlight).toBeGreaterThan(1);
      expect(maxInFlight).toBeGreaterThan(1);
      expect(orders.size).toBe(10 + r.routes['create order'].answered);
    } finally {
      server.close();
    }
  });
});
