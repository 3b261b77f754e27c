// How a sales order reaches a warehouse, chosen per warehouse (infra/warehouse-config.ts): a JSON
// file in the local outbox folder (the default), the same file uploaded over SFTP, or POSTed over
// HTTP. All are idempotent per file id: a retry finds or writes the same file, or sends the same
// idempotency key.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { salesOrderFileName, serialiseSalesOrderRequest } from '../domain/sales-order';
import { serialiseReturnAuthorisation, type ReturnAuthorisation } from '../domain/return-authorisation';
import type { SalesOrderRequest } from '../domain/types';
import { warehouseFolders, type Config } from './config';
import { readRemoteFile, withSftp } from './sftp';
import { readSecret, type SftpSettings } from './warehouse-config';

/** A refusal that retrying cannot fix (the warehouse said no). */
export class WarehouseRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarehouseRejectedError';
  }
}

/** What goes to a warehouse: a sales order (new, cancel, resend) or a Return Authorisation (`purpose: "return"`). */
export type OutboundFile = SalesOrderRequest | ReturnAuthorisation;

/** The file's bytes: each kind's own stable serialisation. */
export function serialiseOutbound(file: OutboundFile): string {
  return file.purpose === 'return' ? serialiseReturnAuthorisation(file) : serialiseSalesOrderRequest(file);
}

export interface WarehouseTransport {
  readonly name: string;
  /** The transport a warehouse's sales orders take, when it differs per warehouse (recorded on the sales order). */
  nameFor?(warehouseId: string): string;
  send(request: OutboundFile): Promise<{ location: string }>;
}

export class OutboxFolderTransport implements WarehouseTransport {
  readonly name = 'outbox-folder';
  constructor(private readonly dataDir: string) {}

  async send(request: OutboundFile): Promise<{ location: string }> {
    const { outbox } = warehouseFolders(this.dataDir, request.warehouseId);
    await fs.mkdir(outbox, { recursive: true });
    const final = path.join(outbox, salesOrderFileName(request));
    // Write then rename: the warehouse never sees half a file, and a retry rewrites the same name.
    const tmp = path.join(outbox, `.${salesOrderFileName(request)}.${process.pid}.tmp`);
    await fs.writeFile(tmp, serialiseOutbound(request));
    await fs.rename(tmp, final);
    return { location: final };
  }
}

/** Where one warehouse takes sales orders over HTTP. */
export interface HttpSalesOrderTarget {
  url: string;
  timeoutMs: number;
  /** A header the warehouse authenticates with, its value (e.g. "Bearer …") read from a secret file at each send. */
  authHeaderName?: string;
  authHeaderFile?: string;
}

export class HttpWarehouseTransport implements WarehouseTransport {
  readonly name = 'http';
  constructor(private readonly targetFor: (warehouseId: string) => HttpSalesOrderTarget) {}

  async send(request: OutboundFile): Promise<{ location: string }> {
    const { url, timeoutMs, authHeaderName, authHeaderFile } = this.targetFor(request.warehouseId);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': request.fileId };
    if (authHeaderFile) headers[(authHeaderName ?? 'authorization').toLowerCase()] = readSecret(authHeaderFile);
    const res = await fetch(url, {
      method: 'POST',
      headers,
      body: serialiseOutbound(request),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status >= 400 && res.status < 500) {
      const text = (await res.text()).slice(0, 500);
      throw new WarehouseRejectedError(`warehouse ${request.warehouseId} refused sales order ${request.fileId}: HTTP ${res.status} ${text}`);
    }
    if (!res.ok) throw new Error(`warehouse ${request.warehouseId} answered HTTP ${res.status}`);
    return { location: `${url}#${request.fileId}` };
  }
}

/** Points in an SFTP upload where a test can interrupt the server (test/integration/warehouse-sftp.test.ts). */
export type SftpUploadStep = 'uploaded-temporary';

/**
 * Uploads the sales order file into the warehouse's remote folder under a temporary hidden name,
 * then renames it to its deterministic name. SFTP's rename (v3, as OpenSSH serves it) never
 * replaces an existing file, so the warehouse never sees half a file and a file is never
 * overwritten: the same file already there is success (a retry after a lost answer), different
 * bytes under the name are a refusal that retrying cannot fix.
 */
export class SftpWarehouseTransport implements WarehouseTransport {
  readonly name = 'sftp';
  constructor(
    private readonly warehouseId: string,
    private readonly settings: SftpSettings,
    private readonly remoteDir: string,
    private readonly onStep?: (step: SftpUploadStep) => Promise<void>,
  ) {}

  async send(request: OutboundFile): Promise<{ location: string }> {
    const name = salesOrderFileName(request);
    const body = Buffer.from(serialiseOutbound(request));
    const final = path.posix.join(this.remoteDir, name);
    const location = `sftp://${this.settings.host}:${this.settings.port}${final}`;
    return withSftp(this.warehouseId, this.settings, `upload of ${name}`, async (sftp) => {
      if (this.sameOrRefuse(request, await readRemoteFile(sftp, final), body)) return { location };
      const temporary = path.posix.join(this.remoteDir, `.${name}.${randomBytes(6).toString('hex')}.part`);
      // 'wx': created, never opened over an existing file (the types know only 'w' and 'a').
      await sftp.put(body, temporary, { writeStreamOptions: { flags: 'wx' as 'w' } });
      await this.onStep?.('uploaded-temporary');
      try {
        await sftp.rename(temporary, final);
      } catch (err) {
        // Taken: by another attempt that got there first, or by a different file.
        const there = await readRemoteFile(sftp, final).catch(() => Promise.reject(err));
        await sftp.delete(temporary, true);
        if (!there) throw err;
        this.sameOrRefuse(request, there, body);
      }
      // Temporary files of attempts the server or the worker lost half way. The sales order is
      // delivered by now: a failure here must not fail (and so repeat) the send.
      try {
        const leftovers = (await sftp.list(this.remoteDir)).filter((f) => f.name.startsWith(`.${name}.`) && f.name.endsWith('.part'));
        for (const f of leftovers) await sftp.delete(path.posix.join(this.remoteDir, f.name), true);
      } catch {
        // The next send of this warehouse tidies its own; a stray .part file is never collected.
      }
      return { location };
    });
  }

  /** true when the warehouse already holds this very file; throws when it holds other bytes under its name. */
  private sameOrRefuse(request: OutboundFile, there: Buffer | null, body: Buffer): boolean {
    if (!there) return false;
    if (there.equals(body)) return true;
    throw new WarehouseRejectedError(
      `warehouse ${this.warehouseId} already holds a different file ${salesOrderFileName(request)} for sales order ${request.fileId}; it is never overwritten`,
    );
  }
}

/** Each warehouse's own transport; a warehouse without one is a configuration error, not retried. */
export class PerWarehouseTransport implements WarehouseTransport {
  readonly name = 'per-warehouse';
  constructor(private readonly transports: Record<string, WarehouseTransport>) {}

  nameFor(warehouseId: string): string {
    return this.transports[warehouseId]?.name ?? 'none';
  }

  send(request: OutboundFile): Promise<{ location: string }> {
    const transport = this.transports[request.warehouseId];
    if (!transport) throw new WarehouseRejectedError(`warehouse ${request.warehouseId} has no sales order transport configured`);
    return transport.send(request);
  }
}

/** The transports the configuration names: the outbox folder alone when no warehouse says otherwise. */
export function warehouseTransportFor(config: Config, onSftpStep?: (step: SftpUploadStep) => Promise<void>): WarehouseTransport {
  const folder = new OutboxFolderTransport(config.dataDir);
  const { exchanges, ids } = config.warehouses;
  if (ids.every((id) => exchanges[id].salesOrders.transport === 'folder')) return folder;
  const transports: Record<string, WarehouseTransport> = {};
  for (const id of ids) {
    const { salesOrders, sftp } = exchanges[id];
    if (salesOrders.transport === 'folder') transports[id] = folder;
    else if (salesOrders.transport === 'sftp') transports[id] = new SftpWarehouseTransport(id, sftp!, salesOrders.path, onSftpStep);
    else transports[id] = new HttpWarehouseTransport(() => salesOrders);
  }
  return new PerWarehouseTransport(transports);
}
