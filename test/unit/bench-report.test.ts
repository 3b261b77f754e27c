// The benchmark harness's report pieces (test/integration/bench-harness.test.ts runs the bench).
import { describe, expect, it } from 'vitest';
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
      machine: { cpuModel: 'Test CPU', cores: 2, memoryGb: 8, loadAverageAtStart: [1, 1, 1], os: 'Linux', node: 'v20', temporal: 'temporal 1.5.1', ferretdb: 'v1.24.2' },
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
    const report: BenchReport = { startedAt: '2025-06-01T10:00:00.000Z', finishedAt: '2025-06-01T10:05:00.000Z', quick: false, options: {}, machine: { cpuModel: 'Test CPU', cores: 2, memoryGb: 8, loadAverageAtStart: [1, 1, 1], os: 'Linux', node: 'v20', temporal: 't', ferretdb: 'f' }, goals: [], scenarios: {}, failures: [] };
    const md = markdownReport(report, [{ ...level(8, 2, 10), cpuMsPerOrder: { temporal: 90, worker: 130.4, warehouses: 3, total: 223.4 }, baselineCpuMsPerOrder: { temporal: 27, worker: 26, total: 53 } }]);
    expect(md).toContain('| Concurrency | temporal | worker | warehouses | total |');
    expect(md).toContain('| 8 | 90 / 27 | 130 / 26 | 3 / – | 223 / 53 |');
  });

  it('reads the CPU time processes have used from the kernel', () => {
    const before = cpuSeconds();
    const meter = cpuMeter({ harness: 'self', gone: 2 ** 22 + 1 });
    // Spins until Node itself counts 150 ms of CPU: a wall-clock spin gets too little on loaded cores.
    const start = process.cpuUsage();
    const giveUp = Date.now() + 20_000;
    while (process.cpuUsage(start).user + process.cpuUsage(start).system < 150_000 && Date.now() < giveUp);
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
