// How a sales order reaches a warehouse. The default drops a JSON file into the warehouse's
// outbox folder; the HTTP transport posts it. Both are idempotent per file id.
import fs from 'node:fs/promises';
import path from 'node:path';
import { salesOrderFileName, serialiseSalesOrderRequest } from '../domain/sales-order';
import type { SalesOrderRequest } from '../domain/types';
import { warehouseFolders } from './config';

/** A refusal that retrying cannot fix (the warehouse said no). */
export class WarehouseRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WarehouseRejectedError';
  }
}

export interface WarehouseTransport {
  readonly name: string;
  send(request: SalesOrderRequest): Promise<{ location: string }>;
}

export class OutboxFolderTransport implements WarehouseTransport {
  readonly name = 'outbox-folder';
  constructor(private readonly dataDir: string) {}

  async send(request: SalesOrderRequest): Promise<{ location: string }> {
    const { outbox } = warehouseFolders(this.dataDir, request.warehouseId);
    await fs.mkdir(outbox, { recursive: true });
    const final = path.join(outbox, salesOrderFileName(request));
    // Write then rename: the warehouse never sees half a file, and a retry rewrites the same name.
    const tmp = path.join(outbox, `.${salesOrderFileName(request)}.${process.pid}.tmp`);
    await fs.writeFile(tmp, serialiseSalesOrderRequest(request));
    await fs.rename(tmp, final);
    return { location: final };
  }
}

export class HttpWarehouseTransport implements WarehouseTransport {
  readonly name = 'http';
  constructor(
    private readonly urlFor: (warehouseId: string) => string,
    private readonly timeoutMs = 10_000,
  ) {}

  async send(request: SalesOrderRequest): Promise<{ location: string }> {
    const url = this.urlFor(request.warehouseId);
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': request.fileId },
      body: serialiseSalesOrderRequest(request),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status >= 400 && res.status < 500) {
      const text = (await res.text()).slice(0, 500);
      throw new WarehouseRejectedError(`warehouse ${request.warehouseId} refused sales order ${request.fileId}: HTTP ${res.status} ${text}`);
    }
    if (!res.ok) throw new Error(`warehouse ${request.warehouseId} answered HTTP ${res.status}`);
    return { location: `${url}#${request.fileId}` };
  }
}
