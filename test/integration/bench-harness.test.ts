// `npm run bench -- --quick` end to end on tiny sizes (its own Temporal dev server and FerretDB,
// hence this tier). No timing assertions: the bench measures, this proves that it runs and
// reports every scenario.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES, type TrafficResult } from '../../bench/agent-traffic';
import type { BenchReport } from '../../bench/report';

describe('npm run bench -- --quick', () => {
  it('runs every scenario against its baseline and writes the report', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-quick-'));
    try {
      const run = spawnSync('npx', ['tsx', 'bench/run.ts', '--quick', '--out', out], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        encoding: 'utf8',
        timeout: 900_000,
      });
      expect(run.status, run.stderr.slice(-3000)).toBe(0);
      const report = JSON.parse(fs.readFileSync(path.join(out, 'latest.json'), 'utf8')) as BenchReport;
      expect(report.failures).toEqual([]);
      expect(report.machine.cores).toBeGreaterThan(0);
      expect(Object.keys(report.scenarios).sort()).toEqual(['P1 c=1', 'P1 c=2', 'P2', 'P3', 'P4', 'P6']);
      const p1 = report.scenarios['P1 c=2'] as {
        ours: { generated: number; complete: number; errorCount: number; historyEventsPerOrder: number; mongoWritesPerOrder: number };
      };
      expect(p1.ours.errorCount).toBe(0);
      expect(p1.ours.complete).toBe(p1.ours.generated);
      expect(p1.ours.historyEventsPerOrder).toBeGreaterThan(0);
      expect(p1.ours.mongoWritesPerOrder).toBeGreaterThan(0);
      const p2 = report.scenarios.P2 as { ours: { awaitingDispatch: number; complete: number } };
      expect(p2.ours.complete).toBe(p2.ours.awaitingDispatch);
      // P6: both phases sent their traffic and every route was answered without an error; the
      // background agents drove orders through the pipeline meanwhile.
      const p6 = report.scenarios.P6 as { idle: TrafficResult; loaded: TrafficResult; background: { ordersGenerated: number; errorCount: number } };
      for (const phase of [p6.idle, p6.loaded]) {
        for (const route of ROUTES) {
          expect(phase.routes[route].answered, `${route}: ${phase.routes[route].errorSamples.join('; ')}`).toBeGreaterThan(0);
          expect(phase.routes[route].errors, `${route}: ${phase.routes[route].errorSamples.join('; ')}`).toBe(0);
        }
      }
      expect(p6.background.ordersGenerated).toBeGreaterThan(0);
      expect(p6.background.errorCount).toBe(0);
      const scenariosInTable = new Set(report.goals.map((g) => g.scenario));
      expect([...scenariosInTable].sort()).toEqual([
        'P1 end to end',
        'P2 bulk dispatch',
        'P3 agent API',
        'P4 warehouse file',
        'P5 open orders',
        'P6 agent under load',
      ]);
      expect(fs.readFileSync(path.join(out, 'latest.md'), 'utf8')).toContain('| Scenario | Measure |');
      expect(fs.readFileSync(path.join(out, 'latest-p1.svg'), 'utf8')).toContain('<polyline');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  }, 900_000);
});
