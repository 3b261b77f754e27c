// The inbox watcher on its own: a file that keeps failing for a reason of its own is quarantined
// after MAX_FILE_ATTEMPTS sweeps with a report; an outage never quarantines anything.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { IngestDeps } from '../../adaptor/ingest';
import { MAX_FILE_ATTEMPTS, watchInboxes, type WatchHandle } from '../../adaptor/watcher';
import { loadConfig, warehouseFolders } from '../../infra/config';

let handle: WatchHandle | undefined;
afterEach(async () => {
  await handle?.stop();
  handle = undefined;
});

/** Deps whose database fails every lookup with the given error. */
function failingDeps(dataDir: string, error: () => Error): IngestDeps {
  const failing = { findOne: () => ({ lean: () => Promise.reject(error()) }) };
  return { config: loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir }), db: { models: { DispatchBatch: failing } }, temporal: {} } as unknown as IngestDeps;
}

function inboxWith(name: string) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'watcher-'));
  const f = warehouseFolders(dataDir, 'WH-NORTH');
  fs.mkdirSync(f.inbox, { recursive: true });
  fs.writeFileSync(path.join(f.inbox, name), 'warehouse_id\n');
  return { dataDir, f };
}

describe('inbox watcher', () => {
  it(`quarantines a file that fails ${MAX_FILE_ATTEMPTS} times, with the last error in its report`, async () => {
    const { dataDir, f } = inboxWith('bad.csv');
    handle = watchInboxes(
      failingDeps(dataDir, () => new Error('cannot store this one')),
      ['WH-NORTH'],
      60_000,
    );
    // The watcher sweeps once as it starts: that is attempt 1.
    for (let i = 2; i < MAX_FILE_ATTEMPTS; i++) {
      await handle.sweep();
      expect(fs.readdirSync(f.inbox), `after attempt ${i}`).toEqual(['bad.csv']);
    }
    await handle.sweep();
    expect(fs.readdirSync(f.inbox)).toEqual([]);
    expect(fs.readdirSync(f.processing)).toEqual([]);
    const [report] = fs.readdirSync(f.quarantine).filter((n) => n.endsWith('-bad.csv.report.json'));
    expect(JSON.parse(fs.readFileSync(path.join(f.quarantine, report), 'utf8'))).toMatchObject({
      file: 'bad.csv',
      outcome: 'failed',
      attempts: MAX_FILE_ATTEMPTS,
      rejections: [{ code: 'INGEST_FAILED', message: expect.stringContaining('cannot store this one') }],
    });
  });

  it('keeps a file in the inbox, however often, while the database is unreachable', async () => {
    const { dataDir, f } = inboxWith('fine.csv');
    const outage = () => Object.assign(new Error('connection refused'), { name: 'MongoNetworkError' });
    handle = watchInboxes(failingDeps(dataDir, outage), ['WH-NORTH'], 60_000);
    for (let i = 0; i < MAX_FILE_ATTEMPTS * 2; i++) await handle.sweep();
    expect(fs.readdirSync(f.inbox)).toEqual(['fine.csv']);
    expect(fs.existsSync(f.quarantine)).toBe(false);
  });
});
