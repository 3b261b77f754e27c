// `npm run bench [-- --quick] [--only P1,P6]`: measures the order pipeline on a Temporal dev server
// and FerretDB of its own against baselines run on the same servers in the same run (timings on
// shared machines are noisy; ratios are what we compare). See the README section "Performance".
// This file only reads the options, runs the chosen scenarios (bench/scenarios/) and writes the
// report; bench/system.ts holds the systems they run on.
import { DefaultLogger, Runtime } from '@temporalio/worker';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools } from '../infra/dev-stack';
import { memoryKb } from './metrics';
import { say } from './progress';
import { markdownReport, p1ChartSvg, type BenchReport, type Recorder } from './report';
import { runP1 } from './scenarios/p1-end-to-end';
import { runP2P5 } from './scenarios/p2-bulk-dispatch';
import { runP3 } from './scenarios/p3-agent-api';
import { runP4 } from './scenarios/p4-warehouse-file';
import { runP6 } from './scenarios/p6-agent-under-load';
import { benchDir, BenchRun, machine, startBenchSystem, startServers, type BenchSystem } from './system';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'p1-orders': { type: 'string' },
    'p1-concurrency': { type: 'string' },
    'p2-orders': { type: 'string' },
    'p2-concurrency': { type: 'string' },
    'p3-seconds': { type: 'string' },
    'p3-connections': { type: 'string' },
    'p4-rows': { type: 'string' },
    'p5-orders': { type: 'string' },
    'p6-rate': { type: 'string' },
    'p6-seconds': { type: 'string' },
    'p6-agents': { type: 'string' },
    only: { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = args.quick!;
const num = (v: string | undefined, full: number, small: number) => (v === undefined ? (quick ? small : full) : Number(v));
const opts = {
  p1Orders: num(args['p1-orders'], 500, 10),
  // FerretDB's SQLite answers SQLITE_BUSY under many concurrent writers (see README): agents
  // beyond ~8 at once push projections into retries and workflow tasks past their timeout.
  p1Concurrency: (args['p1-concurrency'] ?? (quick ? '1,2' : '1,4,8')).split(',').map(Number),
  p2Orders: num(args['p2-orders'], 10_000, 40),
  p2Concurrency: num(args['p2-concurrency'], 4, 4),
  p3Seconds: num(args['p3-seconds'], 10, 2),
  p3Connections: num(args['p3-connections'], 100, 100),
  p4Rows: num(args['p4-rows'], 100_000, 5_000),
  p5Orders: num(args['p5-orders'], 10_000, 40),
  p6Rate: num(args['p6-rate'], 50, 20),
  p6Seconds: num(args['p6-seconds'], 30, 3),
  p6Agents: num(args['p6-agents'], 4, 1),
  only: new Set((args.only ?? 'P1,P2,P3,P4,P5,P6').toUpperCase().split(',')),
  out: path.resolve(args.out ?? path.join(benchDir, 'results')),
};

async function main(run: BenchRun): Promise<BenchReport> {
  const startedAt = new Date();
  say(`bench: ${quick ? 'quick' : 'full'} run; work files in ${run.tmpRoot}`);
  const tools = ensureTools();
  const m = machine(tools);
  const failures: BenchReport['failures'] = [];
  const rec: Recorder = {
    goals: [],
    scenarios: {},
    p1Levels: [],
    async attempt(name, fn) {
      try {
        await fn();
      } catch (err) {
        say(`${name} failed: ${(err as Error).stack ?? err}`);
        failures.push({ scenario: name, error: String((err as Error).message ?? err) });
      }
    },
  };
  const only = (s: string) => opts.only.has(s);

  if (only('P4')) await rec.attempt('P4', () => runP4(run, opts.p4Rows, rec));
  if ([...opts.only].some((s) => s !== 'P4')) {
    const servers = await startServers(run, tools);
    if (only('P1')) await runP1(servers, { orders: opts.p1Orders, concurrency: opts.p1Concurrency }, rec);
    if (only('P2') || only('P5') || only('P3')) {
      let sys: BenchSystem | undefined;
      // P3 runs on P2's population when both run; `--only P3` alone measures on a fresh system.
      if (only('P2') || only('P5')) await rec.attempt('P2/P5', async () => void (sys = await runP2P5(servers, opts, rec)));
      if (only('P3')) {
        await rec.attempt('P3', async () => {
          sys ??= await startBenchSystem(servers, 'p3', false);
          await runP3(sys, { connections: opts.p3Connections, seconds: opts.p3Seconds }, rec);
        });
      }
      await sys?.stop();
    }
    if (only('P6')) await rec.attempt('P6', () => runP6(servers, { rate: opts.p6Rate, seconds: opts.p6Seconds, agents: opts.p6Agents }, rec));
  }

  m.loadAverageAtEnd = os.loadavg();
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick,
    options: { ...opts, only: [...opts.only] },
    machine: m,
    goals: rec.goals,
    scenarios: rec.scenarios,
    failures,
  };
  fs.mkdirSync(opts.out, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const md = markdownReport(report, rec.p1Levels);
  for (const base of [stamp, 'latest']) {
    fs.writeFileSync(path.join(opts.out, `${base}.json`), JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(path.join(opts.out, `${base}.md`), md);
    fs.writeFileSync(path.join(opts.out, `${base}-p1.svg`), p1ChartSvg(rec.p1Levels));
  }
  process.stdout.write(md);
  say(`bench: results in ${path.join(opts.out, `${stamp}.{json,md}`)} and ${stamp}-p1.svg; harness peak RSS ${(memoryKb().peakRssKb / 1024).toFixed(0)} MB`);
  return report;
}

Runtime.install({ logger: new DefaultLogger('WARN') });
const run = new BenchRun();
let exitCode = 0;
// Interrupted: stop the servers and workers this run started before leaving.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void run.cleanUp().then(() => process.exit(130)));
try {
  const report = await main(run);
  if (report.failures.length) exitCode = 1;
} catch (err) {
  say(`bench failed: ${(err as Error).stack ?? err}`);
  exitCode = 1;
} finally {
  // Teardown stops the servers under clients that may still hold a retry timer; such a timer
  // firing on its closed channel is not a benchmark failure. Anything else still is.
  process.on('uncaughtException', (err) => {
    if (/Channel has been shut down/.test(String(err))) return;
    say(`bench teardown failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  });
  await run.cleanUp();
}
process.exit(exitCode);
