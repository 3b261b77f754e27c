// Watches every warehouse's inbox. A file moves inbox → processing → archive, or → quarantine with
// a report beside it when it cannot be read at all. Files left in processing by a crash are
// picked up again when the watcher starts (ingest is idempotent by content hash); a file whose
// ingest fails while the database or Temporal is down goes back to the inbox for the next sweep.
// Each entry is handled on its own: only regular files (never followed through a link) up to
// MAX_FILE_BYTES are read, and one that keeps failing for reasons of its own is quarantined, so
// no entry can stop the other files or the other warehouses. A warehouse whose response files
// wait on its SFTP server is polled at its own interval (remote-inbox.ts); its files take the
// same path from the local processing folder on.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isDependencyUnavailable } from '../api/errors';
import { warehouseFolders } from '../infra/config';
import { MAX_FILE_BYTES, ingestWarehouseFile, type IngestDeps, type IngestOutcome, type IngestSource } from './ingest';
import { pollRemoteInbox, type RemoteInboxStep } from './remote-inbox';
import { errorFields, log } from '../infra/log';

const adaptorLog = log.child({ component: 'adaptor' });

export interface WatchHandle {
  stop(): Promise<void>;
  /** Processes whatever is waiting now, SFTP inboxes included (tests call this instead of waiting for the poll). */
  sweep(): Promise<void>;
}

/** Attempts at a file that fails for reasons other than an outage, before it is quarantined. */
export const MAX_FILE_ATTEMPTS = 3;

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

/** Moves an entry (file, link or folder) to the quarantine with a report beside it; never reads it. */
async function quarantine(dataDir: string, warehouseId: string, entryPath: string, name: string, report: Record<string, unknown>): Promise<void> {
  const { quarantine: dir } = warehouseFolders(dataDir, warehouseId);
  await fsp.mkdir(dir, { recursive: true });
  const dest = path.join(dir, `${stamp()}-${name}`);
  await fsp.writeFile(`${dest}.report.json`, JSON.stringify({ file: name, processedAt: new Date().toISOString(), ...report }, null, 2) + '\n');
  await fsp.rename(entryPath, dest);
}

/** Why an entry may not be read (not a regular file, too large), or null. Looks at the entry itself, not a link's target. */
async function refusal(entryPath: string): Promise<{ code: string; message: string } | null> {
  const st = await fsp.lstat(entryPath);
  if (!st.isFile()) {
    const what = st.isSymbolicLink() ? 'a symbolic link' : st.isDirectory() ? 'a directory' : 'not a regular file';
    return { code: 'NOT_A_REGULAR_FILE', message: `the entry is ${what}; only regular files are read` };
  }
  if (st.size > MAX_FILE_BYTES) return { code: 'FILE_TOO_LARGE', message: `the file has ${st.size} bytes; files are limited to ${MAX_FILE_BYTES}` };
  return null;
}

/**
 * `name` is the file's name in the archive (default: its name in processing). `rendered` is the
 * CSV to ingest when the file archived is not CSV itself (a JSON batch is archived as received).
 */
export async function processInboxFile(
  deps: IngestDeps,
  warehouseId: string,
  processingPath: string,
  opts: { name?: string; source?: IngestSource['source']; declared?: IngestSource['declared']; rendered?: () => Readable } = {},
): Promise<IngestOutcome> {
  const f = warehouseFolders(deps.config.dataDir, warehouseId);
  const name = opts.name ?? path.basename(processingPath);
  const refused = await refusal(processingPath);
  if (refused) {
    const outcome: IngestOutcome = { kind: 'unreadable', batchId: null, reason: refused.message, rejections: [{ rowNumber: 0, ...refused }] };
    await quarantine(deps.config.dataDir, warehouseId, processingPath, name, {
      batchId: null,
      outcome: outcome.kind,
      reason: outcome.reason,
      rejections: outcome.rejections,
    });
    return outcome;
  }
  const outcome = await ingestWarehouseFile(deps, {
    warehouseId,
    fileName: name,
    source: opts.source ?? 'inbox',
    // The regular file checked above, never a link put in its place since.
    open:
      opts.rendered ?? (() => fs.createReadStream(processingPath, { flags: fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW } as unknown as { flags: string })),
    ...(opts.declared ? { declared: opts.declared } : {}),
  });
  const report = {
    batchId: outcome.batchId,
    outcome: outcome.kind,
    ...(outcome.kind === 'unreadable' ? { reason: outcome.reason, rejections: outcome.rejections } : {}),
    ...(outcome.kind === 'accepted'
      ? {
          rowCount: outcome.rowCount,
          validRows: outcome.validRows,
          rejectedRows: outcome.rejectedRows,
          exceptionRows: outcome.exceptionRows,
          rejections: outcome.rejections,
        }
      : {}),
  };
  if (outcome.kind === 'unreadable') {
    await quarantine(deps.config.dataDir, warehouseId, processingPath, name, report);
    return outcome;
  }
  await fsp.mkdir(f.archive, { recursive: true });
  const dest = path.join(f.archive, `${stamp()}-${name}`);
  await fsp.writeFile(`${dest}.report.json`, JSON.stringify({ file: name, ...report, processedAt: new Date().toISOString() }, null, 2) + '\n');
  await fsp.rename(processingPath, dest);
  return outcome;
}

export interface WatchOptions {
  /** Called at each step of taking a remote file (tests interrupt the SFTP server there). */
  onRemoteStep?: (warehouseId: string, step: RemoteInboxStep, name: string) => Promise<void>;
}

export function watchInboxes(deps: IngestDeps, warehouseIds: string[], pollMs: number, opts: WatchOptions = {}): WatchHandle {
  let stopped = false;
  /** When each SFTP inbox was last polled: each has its own interval, longer than the local sweep's. */
  const remotePolledAt = new Map<string, number>();
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  // Only files a crash left behind: later, processing holds files other sweeps (or the API) are
  // still working on.
  let leftoversTaken = false;
  /** Failures per warehouse/file that were the file's own (not an outage); cleared when it goes through. */
  const failures = new Map<string, number>();

  const sweepWarehouse = async (id: string, takeLeftovers: boolean, pollRemoteNow: boolean) => {
    const f = warehouseFolders(deps.config.dataDir, id);
    await fsp.mkdir(f.inbox, { recursive: true });
    await fsp.mkdir(f.processing, { recursive: true });
    // Crash leftovers first, then new arrivals in name order (warehouses name files by time).
    if (takeLeftovers) {
      for (const name of (await fsp.readdir(f.processing)).filter(isDataFile).sort()) {
        if (stopped) return;
        await processOrReturn(id, name, path.join(f.processing, name), path.join(f.inbox, name));
      }
    }
    for (const name of (await fsp.readdir(f.inbox)).filter(isDataFile).sort()) {
      if (stopped) return;
      const processing = path.join(f.processing, name);
      try {
        await fsp.rename(path.join(f.inbox, name), processing);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another adaptor took it
        adaptorLog.error({ warehouse: id, file: name, ...errorFields(err) }, 'cannot take the file; will retry');
        continue;
      }
      await processOrReturn(id, name, processing, path.join(f.inbox, name));
    }
    const { responses, sftp } = deps.config.warehouses.exchanges[id] ?? {};
    if (responses?.transport !== 'sftp' || !sftp) return;
    if (!pollRemoteNow && Date.now() - (remotePolledAt.get(id) ?? 0) < responses.pollMs) return;
    remotePolledAt.set(id, Date.now());
    await pollRemoteInbox({
      warehouseId: id,
      dataDir: deps.config.dataDir,
      sftp,
      responses,
      isDataFile,
      stopped: () => stopped,
      // The remote file stays the original: a local copy that could not be stored is dropped, and read again next poll.
      handle: (name, local) => processOrReturn(id, name, local, null),
      onStep: opts.onRemoteStep && ((step, name) => opts.onRemoteStep!(id, step, name)),
    });
  };

  const sweepOnce = async (pollRemoteNow: boolean) => {
    const takeLeftovers = !leftoversTaken;
    for (const id of warehouseIds) {
      if (stopped) return;
      try {
        await sweepWarehouse(id, takeLeftovers, pollRemoteNow);
      } catch (err) {
        adaptorLog.error({ warehouse: id, ...errorFields(err) }, 'sweep failed; will retry');
      }
    }
    leftoversTaken = true;
  };

  /**
   * Never throws: a file's failure is logged, and counted against it unless a dependency is down.
   * true when the file was stored (archive or quarantine). On a failure to retry the file goes back
   * to `inbox`, or, with no inbox (its original is on the warehouse's server), is dropped.
   */
  const processOrReturn = async (warehouseId: string, name: string, processing: string, inbox: string | null): Promise<boolean> => {
    const key = `${warehouseId}/${name}`;
    try {
      await processInboxFile(deps, warehouseId, processing);
      failures.delete(key);
      return true;
    } catch (err) {
      const outage = isDependencyUnavailable(err);
      const attempts = outage ? (failures.get(key) ?? 0) : (failures.get(key) ?? 0) + 1;
      const quarantining = !outage && attempts >= MAX_FILE_ATTEMPTS;
      adaptorLog.error(
        { warehouse: warehouseId, file: name, outage, attempt: attempts, maxAttempts: MAX_FILE_ATTEMPTS, ...errorFields(err) },
        quarantining ? 'file failed: quarantined' : 'file failed: will retry',
      );
      try {
        if (quarantining) {
          failures.delete(key);
          const message = `ingest failed ${attempts} times: ${err instanceof Error ? err.message : String(err)}`.slice(0, 1000);
          await quarantine(deps.config.dataDir, warehouseId, processing, name, {
            batchId: null,
            outcome: 'failed',
            attempts,
            reason: message,
            rejections: [{ rowNumber: 0, code: 'INGEST_FAILED', message }],
          });
          return true;
        }
        failures.set(key, attempts);
        if (inbox) await fsp.rename(processing, inbox);
        else await fsp.rm(processing, { force: true });
      } catch (moveErr) {
        adaptorLog.error({ warehouse: warehouseId, file: name, ...errorFields(moveErr) }, 'could not move the file out of processing');
      }
      return false;
    }
  };

  const sweep = (pollRemoteNow = true) => {
    running = running.then(() => sweepOnce(pollRemoteNow)).catch((err) => adaptorLog.error(errorFields(err), 'sweep failed; will retry'));
    return running;
  };
  const tick = () => {
    if (stopped) return;
    void sweep(false).finally(() => {
      if (!stopped) timer = setTimeout(tick, pollMs);
    });
  };
  tick();
  return {
    sweep: () => sweep(true),
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
