// Watches every warehouse's inbox. A file moves inbox → processing → archive, or → quarantine with
// a report beside it when it cannot be read at all. Files left in processing by a crash are
// picked up again first (ingest is idempotent by content hash).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { warehouseFolders } from '../infra/config';
import { ingestWarehouseFile, type IngestDeps, type IngestOutcome } from './ingest';

export interface WatchHandle {
  stop(): Promise<void>;
  /** Processes whatever is waiting now (tests call this instead of waiting for the poll). */
  sweep(): Promise<void>;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

export async function processInboxFile(deps: IngestDeps, warehouseId: string, processingPath: string): Promise<IngestOutcome> {
  const f = warehouseFolders(deps.config.dataDir, warehouseId);
  const name = path.basename(processingPath);
  const outcome = await ingestWarehouseFile(deps, {
    warehouseId,
    fileName: name,
    source: 'inbox',
    open: () => fs.createReadStream(processingPath),
  });
  const target = outcome.kind === 'unreadable' ? f.quarantine : f.archive;
  await fsp.mkdir(target, { recursive: true });
  const dest = path.join(target, `${stamp()}-${name}`);
  {
    const report = {
      file: name,
      batchId: outcome.batchId,
      outcome: outcome.kind,
      processedAt: new Date().toISOString(),
      ...(outcome.kind === 'unreadable' ? { reason: outcome.reason, rejections: outcome.rejections } : {}),
      ...(outcome.kind === 'accepted'
        ? { rowCount: outcome.rowCount, validRows: outcome.validRows, rejectedRows: outcome.rejectedRows, exceptionRows: outcome.exceptionRows, rejections: outcome.rejections }
        : {}),
    };
    await fsp.writeFile(`${dest}.report.json`, JSON.stringify(report, null, 2) + '\n');
  }
  await fsp.rename(processingPath, dest);
  return outcome;
}

export function watchInboxes(deps: IngestDeps, warehouseIds: string[], pollMs: number): WatchHandle {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const sweepOnce = async () => {
    for (const id of warehouseIds) {
      const f = warehouseFolders(deps.config.dataDir, id);
      await fsp.mkdir(f.inbox, { recursive: true });
      await fsp.mkdir(f.processing, { recursive: true });
      // Crash leftovers first, then new arrivals in name order (warehouses name files by time).
      for (const name of (await fsp.readdir(f.processing)).filter(isDataFile).sort()) {
        if (stopped) return;
        await processInboxFile(deps, id, path.join(f.processing, name));
      }
      for (const name of (await fsp.readdir(f.inbox)).filter(isDataFile).sort()) {
        if (stopped) return;
        const processing = path.join(f.processing, name);
        try {
          await fsp.rename(path.join(f.inbox, name), processing);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another adaptor took it
          throw err;
        }
        await processInboxFile(deps, id, processing);
      }
    }
  };

  const sweep = () => {
    running = running.then(sweepOnce).catch((err) => console.error('adaptor: sweep failed; will retry', err));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void sweep().finally(() => {
      if (!stopped) timer = setTimeout(tick, pollMs);
    });
  };
  tick();
  return {
    sweep,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Warehouses write `name.csv` via a temp name; hidden and temp files are not ours yet. */
function isDataFile(name: string): boolean {
  return !name.startsWith('.') && /\.csv$/i.test(name);
}
