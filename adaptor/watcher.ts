// Watches every warehouse's inbox. A file moves inbox → processing → archive, or → quarantine with
// a report beside it when it cannot be read at all. Files left in processing by a crash are
// picked up again when the watcher starts (ingest is idempotent by content hash); a file whose
// ingest fails (the database is down) goes back to the inbox for the next sweep.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { warehouseFolders } from '../infra/config';
import { ingestWarehouseFile, type IngestDeps, type IngestOutcome, type IngestSource } from './ingest';

export interface WatchHandle {
  stop(): Promise<void>;
  /** Processes whatever is waiting now (tests call this instead of waiting for the poll). */
  sweep(): Promise<void>;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** `name` is the file's name in the archive (default: its name in processing). */
export async function processInboxFile(deps: IngestDeps, warehouseId: string, processingPath: string, opts: { name?: string; source?: IngestSource['source']; declared?: IngestSource['declared'] } = {}): Promise<IngestOutcome> {
  const f = warehouseFolders(deps.config.dataDir, warehouseId);
  const name = opts.name ?? path.basename(processingPath);
  const outcome = await ingestWarehouseFile(deps, {
    warehouseId,
    fileName: name,
    source: opts.source ?? 'inbox',
    open: () => fs.createReadStream(processingPath),
    ...(opts.declared ? { declared: opts.declared } : {}),
  });
  const target = outcome.kind === 'unreadable' ? f.quarantine : f.archive;
  await fsp.mkdir(target, { recursive: true });
  const dest = path.join(target, `${stamp()}-${name}`);
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
  await fsp.rename(processingPath, dest);
  return outcome;
}

export function watchInboxes(deps: IngestDeps, warehouseIds: string[], pollMs: number): WatchHandle {
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // Only files a crash left behind: later, processing holds files other sweeps (or the API) are
  // still working on.
  let leftoversTaken = false;

  const sweepOnce = async () => {
    const takeLeftovers = !leftoversTaken;
    for (const id of warehouseIds) {
      const f = warehouseFolders(deps.config.dataDir, id);
      await fsp.mkdir(f.inbox, { recursive: true });
      await fsp.mkdir(f.processing, { recursive: true });
      // Crash leftovers first, then new arrivals in name order (warehouses name files by time).
      if (takeLeftovers) {
        for (const name of (await fsp.readdir(f.processing)).filter(isDataFile).sort()) {
          if (stopped) return;
          await processOrReturn(id, path.join(f.processing, name), path.join(f.inbox, name));
        }
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
        await processOrReturn(id, processing, path.join(f.inbox, name));
      }
    }
    leftoversTaken = true;
  };

  const processOrReturn = async (warehouseId: string, processing: string, inbox: string) => {
    try {
      await processInboxFile(deps, warehouseId, processing);
    } catch (err) {
      await fsp.rename(processing, inbox).catch(() => undefined);
      throw err;
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
