// A 100,000-row warehouse response file parsed as a stream with bounded memory, against the real
// Temporal dev server and FerretDB, the ingest in a process of its own (test/support/ingest-process.ts).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestOutcome } from '../../adaptor/ingest';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startSystem();
});
afterAll(async () => {
  await sys?.stop();
});

describe('a 100,000-row file', () => {
  it('is parsed as a stream with bounded memory', { timeout: 30 * 60_000 }, async () => {
    const ROWS = 100_000;
    const file = path.join(sys.config.dataDir, 'big-100k.csv');
    const out = fs.createWriteStream(file);
    out.write(`${WAREHOUSE_RESPONSE_COLUMNS.join(',')}\n`);
    const note = 'carrier note '.repeat(14); // ~180 characters a row, as real exception text is
    for (let i = 0; i < ROWS; i++) {
      const line = `WH-NORTH,ORD-${String(Math.floor(i / 2)).padStart(10, '0')}-WH-NORTH,${(i % 2) + 1},PR-APL-USBC-20W,0,,,,,,,error,PICK_FAILED,"${note}${i}"\n`;
      if (!out.write(line)) await once(out, 'drain');
    }
    out.end();
    await once(out, 'finish');
    const bytes = fs.statSync(file).size;

    // Ingested in a process of its own, as the adaptor does: this process's worker, API and test
    // runner would count as the ingest's memory on a loaded machine (31 MB measured here, 9 MB alone).
    // A full GC that also frees the Buffers it found dead before it returns: by default V8 sweeps
    // them on a background thread, and on a loaded machine the sample after gc() counted up to
    // 20 MB of already dead Buffers.
    const exactGc = ['--no-concurrent-array-buffer-sweeping', '--no-concurrent-sweeping'];
    const script = fileURLToPath(new URL('../support/ingest-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--expose-gc', ...exactGc, '--import', 'tsx', script, 'WH-NORTH', file], {
      env: { ...process.env, ...sys.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let printed = '';
    child.stdout.on('data', (d: Buffer) => (printed += d.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    const { outcome, ms, liveGrowth, atPeak, rssBefore, rssGrowth } = JSON.parse(printed.trim().split('\n').pop()!) as {
      outcome: IngestOutcome;
      ms: number;
      liveGrowth: number;
      atPeak: NodeJS.MemoryUsage;
      rssBefore: number;
      rssGrowth: number;
    };
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    console.info(
      `[100k-row file] ${mb(bytes)}, ingested in ${ms} ms; live growth (heap + buffers, after GC) peak ${mb(liveGrowth)} (heap ${mb(atPeak.heapUsed)}, external ${mb(atPeak.external)}, array buffers ${mb(atPeak.arrayBuffers)} at the peak); RSS ${mb(rssBefore)} before, peak growth ${mb(rssGrowth)}`,
    );

    expect(outcome).toMatchObject({ kind: 'accepted', rowCount: ROWS, validRows: 0, rejectedRows: 0, exceptionRows: ROWS });
    expect(await sys.db.models.AdaptorException.countDocuments({ batchId: outcome.batchId })).toBe(ROWS);
    // The file is never held whole: live memory grows by well under the file's size.
    expect(liveGrowth).toBeLessThan(bytes / 2);
  });
});
