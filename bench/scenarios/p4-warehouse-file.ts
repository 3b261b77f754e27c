// P4: the adaptor on a large warehouse response file (hash, csv-parse with its options,
// DispatchRowValidator) against csv-parse alone, each side in a process of its own (own peak RSS).
import fs from 'node:fs';
import path from 'node:path';
import { say } from '../progress';
import type { Recorder } from '../report';
import { runScript, type BenchRun } from '../system';

interface FileResult {
  rows: number;
  valid: number;
  rejected: number;
  ms: number;
  rowsPerSec: number;
  peakRssKb: number;
}

export async function runP4(run: BenchRun, rows: number, rec: Recorder): Promise<void> {
  const file = path.join(run.tmpRoot, `response-${rows}.csv`);
  say(`P4: writing a ${rows}-row response file`);
  await runScript('p4-file.ts', ['write', file, String(rows)]);
  say('P4: csv-parse alone (baseline)');
  const baseline = JSON.parse(await runScript('p4-file.ts', ['csv-parse', file])) as FileResult;
  say('P4: the adaptor: hash, parse, validate');
  const ours = JSON.parse(await runScript('p4-file.ts', ['adaptor', file])) as FileResult;
  rec.scenarios.P4 = { rows, fileMb: fs.statSync(file).size / 1e6, ours, baseline };
  const ratio = ours.rowsPerSec / baseline.rowsPerSec;
  rec.goals.push({
    scenario: 'P4 warehouse file',
    measure: `${rows.toLocaleString('en-GB')} rows: speed`,
    ours: ours.rowsPerSec,
    baseline: baseline.rowsPerSec,
    unit: 'rows/s',
    ratio,
    goal: '≥ 0.5 × baseline',
    met: ratio >= 0.5,
  });
  rec.goals.push({
    scenario: 'P4 warehouse file',
    measure: 'peak RSS',
    ours: ours.peakRssKb / 1024,
    baseline: baseline.peakRssKb / 1024,
    unit: 'MB',
    ratio: null,
    goal: '≤ 200 MB',
    met: ours.peakRssKb / 1024 <= 200,
  });
}
