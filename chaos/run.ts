// `npm run chaos [-- --orders 500 --seed 1 --dir /tmp/x]`: the crash-and-restart run (chaos/harness.ts).
// Exits non-zero when any invariant failed; the report is printed and saved as report.json.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatReport } from './checks';
import { runChaos } from './harness';

const { values } = parseArgs({
  options: {
    orders: { type: 'string', default: '500' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    dir: { type: 'string' },
    concurrency: { type: 'string', default: '12' },
  },
});
// Ctrl-C: exit, and the harness's exit hook kills every process it started.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
const workDir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hardware-orders-chaos-'));
const report = await runChaos({ orders: Number(values.orders), seed: Number(values.seed), workDir, concurrency: Number(values.concurrency) });
fs.writeFileSync(path.join(workDir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
console.log(`\n${formatReport(report)}\n(logs and data in ${workDir})`);
process.exit(report.violations.length ? 1 : 0);
