// A warehouse's response files on its SFTP server: each poll lists the remote inbox, downloads
// each file into the local processing folder (temporary name, size checked, then renamed) and
// hands it to the same path as a file from the local inbox (processInboxFile: archive or
// quarantine, with a report). Only once the adaptor has stored it is the remote file moved to the
// remote processed folder. A crash (ours or the server's) before that move leaves it in the remote
// inbox: the next poll reads it again and its content hash makes it a duplicate, never applied twice.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { warehouseFolders } from '../infra/config';
import { withSftp } from '../infra/sftp';
import type { SftpSettings, ResponseExchange } from '../infra/warehouse-config';
import type SftpClient from 'ssh2-sftp-client';
import { MAX_FILE_BYTES } from './ingest';

/**
 * Points in taking a remote file where a test can interrupt the server
 * (test/integration/warehouse-sftp.test.ts): its first bytes have arrived (a larger file is still
 * downloading), and it is stored but not yet moved.
 */
export type RemoteInboxStep = 'receiving' | 'stored';

export interface RemoteInboxPoll {
  warehouseId: string;
  dataDir: string;
  sftp: SftpSettings;
  responses: Extract<ResponseExchange, { transport: 'sftp' }>;
  isDataFile(name: string): boolean;
  stopped(): boolean;
  /** Stores the local copy (archive or quarantine) and returns true, or returns false when it could not (left for the next poll). */
  handle(name: string, localPath: string): Promise<boolean>;
  onStep?: (step: RemoteInboxStep, name: string) => Promise<void>;
}

const stamp = () => new Date().toISOString().replace(/[:.]/g, '-');

export async function pollRemoteInbox(p: RemoteInboxPoll): Promise<void> {
  const { path: inbox, processedPath } = p.responses;
  const f = warehouseFolders(p.dataDir, p.warehouseId);
  await fsp.mkdir(f.processing, { recursive: true });
  // One session per piece of SFTP work, each within the timeout; none is held open while a file is
  // stored, however long a large file takes.
  const files = await withSftp(p.warehouseId, p.sftp, `listing of ${inbox}`, async (sftp) => {
    if ((await sftp.exists(processedPath)) !== 'd') await sftp.mkdir(processedPath, true);
    // Warehouses write `name.csv` via a hidden temporary name; only finished regular files are taken.
    return (await sftp.list(inbox)).filter((e) => e.type === '-' && p.isDataFile(e.name)).sort((a, b) => (a.name < b.name ? -1 : 1));
  });
  for (const file of files) {
    if (p.stopped()) return;
    const remote = path.posix.join(inbox, file.name);
    const local = path.join(f.processing, file.name);
    // The same name still waiting locally (left by a crash): it goes first, this one next poll.
    if (await exists(local)) continue;
    if (file.size > MAX_FILE_BYTES) {
      await refuseTooLarge(p, file.name, file.size);
    } else {
      await download(p, remote, file.name, file.size, local);
      if (!(await p.handle(file.name, local))) continue;
    }
    await p.onStep?.('stored', file.name);
    await withSftp(p.warehouseId, p.sftp, `move of ${file.name} to ${processedPath}`, (sftp) => moveToProcessed(sftp, remote, processedPath, file.name));
  }
}

/** The remote file into `local`, through a hidden partial file renamed only once every byte is here. */
async function download(p: RemoteInboxPoll, remote: string, name: string, size: number, local: string): Promise<void> {
  const partial = path.join(path.dirname(local), `.${name}.${process.pid}.part`);
  try {
    await withSftp(p.warehouseId, p.sftp, `download of ${name}`, async (sftp) => {
      let first = true;
      const step = p.onStep;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          if (!first || !step) return done(null, chunk);
          first = false;
          step('receiving', name).then(() => done(null, chunk), done);
        },
      });
      await pipeline(sftp.createReadStream(remote), tap, fs.createWriteStream(partial));
    });
    const got = (await fsp.stat(partial)).size;
    if (got !== size) throw new Error(`warehouse ${p.warehouseId}: downloaded ${got} of ${size} bytes of ${name}; it is read again next poll`);
    await fsp.rename(partial, local);
  } finally {
    await fsp.rm(partial, { force: true });
  }
}

/** The remote file into the processed folder under its own name, or a stamped one if that name is taken (never over a file). */
async function moveToProcessed(sftp: SftpClient, remote: string, processedPath: string, name: string): Promise<void> {
  try {
    await sftp.rename(remote, path.posix.join(processedPath, name));
  } catch (err) {
    if ((await sftp.exists(path.posix.join(processedPath, name))) !== '-') throw err;
    await sftp.rename(remote, path.posix.join(processedPath, `${stamp()}-${name}`));
  }
}

/** Not downloaded at all: a report in the local quarantine says why; the file stays in the remote processed folder. */
async function refuseTooLarge(p: RemoteInboxPoll, name: string, size: number): Promise<void> {
  const { quarantine } = warehouseFolders(p.dataDir, p.warehouseId);
  await fsp.mkdir(quarantine, { recursive: true });
  const message = `the file has ${size} bytes; files are limited to ${MAX_FILE_BYTES}; not downloaded (it is in ${p.responses.processedPath} on the warehouse's server)`;
  await fsp.writeFile(
    path.join(quarantine, `${stamp()}-${name}.report.json`),
    JSON.stringify(
      {
        file: name,
        batchId: null,
        outcome: 'unreadable',
        reason: message,
        rejections: [{ rowNumber: 0, code: 'FILE_TOO_LARGE', message }],
        processedAt: new Date().toISOString(),
      },
      null,
      2,
    ) + '\n',
  );
}

async function exists(p: string): Promise<boolean> {
  return fsp.lstat(p).then(
    () => true,
    () => false,
  );
}
