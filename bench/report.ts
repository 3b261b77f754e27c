// The run's report: one JSON document, a Markdown table of the goals, and an SVG chart of P1
// throughput against concurrency. Pure functions of the results (tested in test/unit).

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  loadAverageAtStart: number[];
  loadAverageAtEnd?: number[];
  os: string;
  node: string;
  temporal: string;
  ferretdb: string;
}

/** One line of the table: a measured figure of ours against the baseline's. */
export interface GoalRow {
  scenario: string;
  measure: string;
  ours: number;
  baseline: number | null;
  unit: string;
  /** ours / baseline, or null when the goal is absolute. */
  ratio: number | null;
  goal: string;
  met: boolean;
}

export interface P1Level {
  concurrency: number;
  orders: number;
  completed: number;
  ordersPerSec: number;
  baselineOrdersPerSec: number;
  ratio: number;
  stagesMs: Record<string, { p50: number; p95: number }>;
  baselineStagesMs: Record<string, { p50: number; p95: number }>;
  /** CPU ms per order of each process (Temporal server, FerretDB, worker, harness) and their total. */
  cpuMsPerOrder?: Record<string, number>;
  baselineCpuMsPerOrder?: Record<string, number>;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  options: Record<string, unknown>;
  machine: Machine;
  goals: GoalRow[];
  scenarios: Record<string, unknown>;
  failures: { scenario: string; error: string }[];
}

/** Where the scenarios put what they measured while the run goes on. */
export interface Recorder {
  goals: GoalRow[];
  scenarios: Record<string, unknown>;
  p1Levels: P1Level[];
  /** Runs a scenario (or a step of one); a failure is reported and the run goes on. */
  attempt(name: string, fn: () => Promise<void>): Promise<void>;
}

const fmt = (n: number | null, digits = 1): string => {
  if (n === null || Number.isNaN(n)) return '–';
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-GB');
  return n.toFixed(digits);
};

export function machineLine(m: Machine): string {
  const load = (l?: number[]) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '?');
  return (
    `${m.cores} cores (${m.cpuModel}), ${m.memoryGb.toFixed(1)} GB, ${m.os}; Node ${m.node}; ${m.temporal}; FerretDB ${m.ferretdb}. ` +
    `Load average (1/5/15 min) at start ${load(m.loadAverageAtStart)}, at end ${load(m.loadAverageAtEnd)}.`
  );
}

export function markdownReport(r: BenchReport, p1: P1Level[]): string {
  const lines: string[] = [];
  lines.push(`Run ${r.startedAt}${r.quick ? ' (--quick: tiny sizes, proves the harness only)' : ''}.`, '', machineLine(r.machine), '');
  lines.push('| Scenario | Measure | Ours | Baseline | Ratio | Goal | Met |', '| --- | --- | ---: | ---: | ---: | --- | :---: |');
  for (const g of r.goals) {
    lines.push(
      `| ${g.scenario} | ${g.measure} | ${fmt(g.ours)} ${g.unit} | ${g.baseline === null ? '–' : `${fmt(g.baseline)} ${g.unit}`} | ${g.ratio === null ? '–' : g.ratio.toFixed(2)} | ${g.goal} | ${g.met ? 'yes' : '**no**'} |`,
    );
  }
  if (p1.length) {
    lines.push('', 'P1 by concurrency (time per stage p50 / p95, ms):', '');
    const stageNames = Object.keys(p1[0].stagesMs);
    lines.push(
      `| Concurrency | Orders/s ours | Orders/s baseline | Ratio | ${stageNames.join(' | ')} |`,
      `| ---: | ---: | ---: | ---: | ${stageNames.map(() => '---:').join(' | ')} |`,
    );
    for (const l of p1) {
      const stages = stageNames.map((s) => `${fmt(l.stagesMs[s]?.p50, 0)} / ${fmt(l.stagesMs[s]?.p95, 0)}`);
      lines.push(`| ${l.concurrency} | ${fmt(l.ordersPerSec, 2)} | ${fmt(l.baselineOrdersPerSec, 2)} | ${l.ratio.toFixed(2)} | ${stages.join(' | ')} |`);
    }
  }
  const withCpu = p1.filter((l) => l.cpuMsPerOrder && l.baselineCpuMsPerOrder);
  if (withCpu.length) {
    // Where the machine's time goes: on shared cores, throughput follows CPU per order.
    const names = Object.keys(withCpu[0].cpuMsPerOrder!);
    lines.push('', 'P1 CPU time per order by process (ms, ours / baseline):', '');
    lines.push(`| Concurrency | ${names.join(' | ')} |`, `| ---: | ${names.map(() => '---:').join(' | ')} |`);
    for (const l of withCpu)
      lines.push(
        `| ${l.concurrency} | ${names.map((n) => `${fmt(l.cpuMsPerOrder![n] ?? NaN, 0)} / ${fmt(l.baselineCpuMsPerOrder![n] ?? NaN, 0)}`).join(' | ')} |`,
      );
  }
  if (r.failures.length) {
    lines.push('', 'Failures:', '');
    for (const f of r.failures) lines.push(`- ${f.scenario}: ${f.error}`);
  }
  return lines.join('\n') + '\n';
}

/** A line chart of orders/s (ours and baseline) against concurrency; plain SVG, no library. */
export function p1ChartSvg(levels: P1Level[]): string {
  const W = 640;
  const H = 360;
  const m = { left: 60, right: 20, top: 40, bottom: 50 };
  const xs = levels.map((l) => l.concurrency);
  const maxY = Math.max(1, ...levels.flatMap((l) => [l.ordersPerSec, l.baselineOrdersPerSec]).filter(Number.isFinite)) * 1.1;
  const [minX, maxX] = [Math.min(...xs, 0), Math.max(...xs, 1)];
  const px = (x: number) => m.left + ((x - minX) / (maxX - minX || 1)) * (W - m.left - m.right);
  const py = (y: number) => H - m.bottom - (y / maxY) * (H - m.top - m.bottom);
  const series = (pick: (l: P1Level) => number, colour: string, label: string, dy: number) => {
    const pts = levels.map((l) => `${px(l.concurrency).toFixed(1)},${py(pick(l)).toFixed(1)}`);
    return (
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>` +
      levels
        .map(
          (l) =>
            `<circle cx="${px(l.concurrency).toFixed(1)}" cy="${py(pick(l)).toFixed(1)}" r="3.5" fill="${colour}"><title>${label}: ${pick(l).toFixed(2)} orders/s at ${l.concurrency}</title></circle>`,
        )
        .join('') +
      `<rect x="${W - m.right - 170}" y="${m.top + dy - 9}" width="12" height="12" fill="${colour}"/><text x="${W - m.right - 152}" y="${m.top + dy + 1}">${label}</text>`
    );
  };
  const ticksY = Array.from({ length: 6 }, (_, i) => (maxY / 5) * i);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">P1 end to end: orders/s against concurrency</text>`,
    `<line x1="${m.left}" y1="${H - m.bottom}" x2="${W - m.right}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${H - m.bottom}" stroke="black"/>`,
    ...ticksY.map(
      (t) =>
        `<line x1="${m.left - 4}" y1="${py(t).toFixed(1)}" x2="${W - m.right}" y2="${py(t).toFixed(1)}" stroke="#ddd"/><text x="${m.left - 8}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(1)}</text>`,
    ),
    ...xs.map((x) => `<text x="${px(x).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle">${x}</text>`),
    `<text x="${W / 2}" y="${H - 12}" text-anchor="middle">concurrent agents</text>`,
    `<text x="16" y="${H / 2}" text-anchor="middle" transform="rotate(-90 16 ${H / 2})">orders per second</text>`,
    levels.length ? series((l) => l.baselineOrdersPerSec, '#888', 'baseline (bare workflow)', 0) : '',
    levels.length ? series((l) => l.ordersPerSec, '#1f6feb', 'hardware-orders', 18) : '',
    '</svg>',
  ].join('\n');
}
