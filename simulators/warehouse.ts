// A warehouse (3PL) simulator standing in for the operator's real warehouses: it takes sales
// orders from each warehouse's outbox, decides per line from its own stock (with configurable,
// seeded error and out-of-stock rates), allocates serials and Luhn-valid IMEIs, and writes EDI
// 945-style response CSVs into the inbox, several orders per file. It also serves stock over HTTP.
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { luhnCheckDigit } from '../domain/imei';
import type { SalesOrderRequest } from '../domain/types';
import type { ReturnAuthorisation } from '../domain/return-authorisation';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../domain/warehouse-response';
import { formatWarehouseResponseCsv } from '../domain/warehouse-response-csv';
import { warehouseFolders } from '../infra/config';
import { errorFields, log } from '../infra/log';

export interface SimulatorOptions {
  dataDir: string;
  warehouseIds: string[];
  seed: number;
  errorRate: number;
  outOfStockRate: number;
  /** Units every warehouse starts with per SKU unless set otherwise. */
  defaultStock?: number;
  /**
   * Deliveries from suppliers: each minute every SKU a warehouse has shipped from gets this many
   * units back, up to `defaultStock` (a shelf refilled to its usual level). 0 = never.
   */
  replenishPerMinute?: number;
  /** false: orders are only answered when respond() is called (tests drive it). */
  autoRespond?: boolean;
  pollMs?: number;
}

type Row = Record<(typeof WAREHOUSE_RESPONSE_COLUMNS)[number], string>;

/** Deterministic 0..1 from the seed and a label, so a test run repeats exactly. */
function chance(seed: number, label: string): number {
  return createHash('sha256').update(`${seed}:${label}`).digest().readUInt32BE(0) / 0x1_0000_0000;
}

const TAC: Record<string, string> = { apple: '35332511', google: '35847631', samsung: '35288711' };

export class WarehouseSimulator {
  private readonly stock = new Map<string, number>();
  private readonly pending = new Map<string, SalesOrderRequest[]>();
  private readonly answered = new Set<string>();
  /** Return Authorisations taken, by warehouse: the units it expects back under each RMA. */
  private readonly returnAuthorisations = new Map<string, ReturnAuthorisation[]>();
  /** Return Authorisations whose units it has reported back (`returned` rows). */
  private readonly returnsReported = new Set<string>();
  /** A device ships once: an IMEI has only a 6-digit serial per TAC, so hashes collide (≈ 1 in 2,000 pairs per 1,000 units). */
  private readonly issuedImeis = new Set<string>();
  private server?: ServerType;
  private timer?: NodeJS.Timeout;
  private restocking?: NodeJS.Timeout;
  private busy: Promise<void> = Promise.resolve();
  private fileSeq = 0;
  private stopped = false;

  constructor(private readonly o: SimulatorOptions) {}

  available(warehouseId: string, sku: string): number {
    return this.stock.get(`${warehouseId}|${sku}`) ?? this.o.defaultStock ?? 100;
  }

  setStock(warehouseId: string, sku: string, available: number): void {
    this.stock.set(`${warehouseId}|${sku}`, available);
  }

  /** A delivery into the warehouse: adds to what it holds. */
  receiveStock(warehouseId: string, sku: string, quantity: number): number {
    const now = this.available(warehouseId, sku) + quantity;
    this.setStock(warehouseId, sku, now);
    return now;
  }

  /** One minute of supplier deliveries (see `replenishPerMinute`). */
  replenish(units = this.o.replenishPerMinute ?? 0): void {
    const shelf = this.o.defaultStock ?? 100;
    for (const [key, available] of this.stock) if (available < shelf) this.stock.set(key, Math.min(shelf, available + units));
  }

  /** The stock interface (a real 3PL's stock API stands here in production). */
  app(): Hono {
    const app = new Hono();
    app.get('/warehouses/:id/stock', (c) => {
      const id = c.req.param('id');
      if (!this.o.warehouseIds.includes(id)) return c.json({ error: 'unknown warehouse' }, 404);
      const skus = c.req.queries('sku') ?? [];
      return c.json({ warehouseId: id, items: skus.map((sku) => ({ sku, available: this.available(id, sku) })) });
    });
    app.put('/warehouses/:id/stock/:sku', async (c) => {
      const body = (await c.req.json().catch(() => ({}))) as { available?: unknown };
      if (!Number.isInteger(body.available) || (body.available as number) < 0) return c.json({ error: 'available must be a non-negative integer' }, 400);
      this.setStock(c.req.param('id'), c.req.param('sku'), body.available as number);
      return c.json({ ok: true });
    });
    // A goods receipt (tests and demos): `{ "quantity": 50 }` adds to the stock.
    app.post('/warehouses/:id/stock/:sku/receipts', async (c) => {
      const id = c.req.param('id');
      if (!this.o.warehouseIds.includes(id)) return c.json({ error: 'unknown warehouse' }, 404);
      const body = (await c.req.json().catch(() => ({}))) as { quantity?: unknown };
      if (!Number.isInteger(body.quantity) || (body.quantity as number) < 1) return c.json({ error: 'quantity must be a positive integer' }, 400);
      return c.json({ warehouseId: id, sku: c.req.param('sku'), available: this.receiveStock(id, c.req.param('sku'), body.quantity as number) });
    });
    return app;
  }

  /** Serves the stock interface on `port` (0: any free one); resolves with the port, rejects if it is taken. */
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = serve({ fetch: this.app().fetch, port, hostname: '127.0.0.1' }, (info) => resolve(info.port));
      server.once('error', reject);
      this.server = server;
    });
  }

  start(): void {
    if (this.o.replenishPerMinute) {
      this.restocking = setInterval(() => this.replenish(), 60_000);
      this.restocking.unref();
    }
    const tick = () => {
      if (this.stopped) return;
      void this.cycle().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.o.pollMs ?? 500);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.restocking) clearInterval(this.restocking);
    await this.busy;
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  /** One pass: take new sales orders; answer them if auto-responding. */
  cycle(): Promise<void> {
    this.busy = this.busy
      .then(async () => {
        await this.takeOrders();
        if (this.o.autoRespond !== false) await this.respondNow();
      })
      .catch((err) => log.error({ component: 'warehouse-simulator', ...errorFields(err) }, 'round failed'));
    return this.busy;
  }

  /** Answers every taken order now: one response file per warehouse. Returns the files written. */
  async respond(): Promise<string[]> {
    let files: string[] = [];
    this.busy = this.busy.then(async () => {
      await this.takeOrders();
      files = await this.respondNow();
    });
    await this.busy;
    return files;
  }

  private async takeOrders(): Promise<void> {
    for (const id of this.o.warehouseIds) {
      const f = warehouseFolders(this.o.dataDir, id);
      const received = path.join(f.root, 'received');
      await fsp.mkdir(f.outbox, { recursive: true });
      await fsp.mkdir(received, { recursive: true });
      for (const name of (await fsp.readdir(f.outbox)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort(newBeforeCancel)) {
        const text = await fsp.readFile(path.join(f.outbox, name), 'utf8');
        await fsp.rename(path.join(f.outbox, name), path.join(received, name));
        let file: SalesOrderRequest | ReturnAuthorisation;
        try {
          file = JSON.parse(text) as SalesOrderRequest | ReturnAuthorisation;
        } catch {
          continue; // a real 3PL would reject it; our sender validates against the contract first
        }
        if (file.purpose === 'return') {
          // Accepted: the units are expected back (the same RMA twice is one authorisation).
          const ras = this.returnAuthorisations.get(id) ?? [];
          if (!ras.some((r) => r.fileId === file.fileId)) ras.push(file);
          this.returnAuthorisations.set(id, ras);
          continue;
        }
        const req = file;
        const list = this.pending.get(id) ?? [];
        if (req.purpose === 'cancel') {
          const i = list.findIndex((p) => p.subOrderNumber === req.subOrderNumber);
          // Not yet picked: cancel it. Already answered: too late, the order ships as normal.
          if (i >= 0) list[i] = req;
        } else if (!this.answered.has(req.subOrderNumber) && !list.some((p) => p.subOrderNumber === req.subOrderNumber)) {
          // A new order, or a resend of one this warehouse never received.
          list.push(req);
        }
        // A resend of a sub-order already taken or answered is a duplicate: ignored, nothing ships twice.
        this.pending.set(id, list);
      }
    }
  }

  /** The Return Authorisations the warehouse has taken from its outbox. */
  expectedReturns(warehouseId: string): ReturnAuthorisation[] {
    return [...(this.returnAuthorisations.get(warehouseId) ?? [])];
  }

  private async respondNow(): Promise<string[]> {
    const written: string[] = [];
    for (const id of this.o.warehouseIds) {
      const list = this.pending.get(id) ?? [];
      const arrived = (this.returnAuthorisations.get(id) ?? []).filter((ra) => !this.returnsReported.has(ra.fileId));
      if (!list.length && !arrived.length) continue;
      this.pending.set(id, []);
      const rows = [...list.flatMap((req) => this.answer(id, req)), ...arrived.flatMap((ra) => this.returned(id, ra))];
      for (const req of list) this.answered.add(req.subOrderNumber);
      for (const ra of arrived) this.returnsReported.add(ra.fileId);
      const f = warehouseFolders(this.o.dataDir, id);
      await fsp.mkdir(f.inbox, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}-${++this.fileSeq}.csv`;
      const csv = formatWarehouseResponseCsv(rows);
      await fsp.writeFile(path.join(f.inbox, `.${name}.tmp`), csv);
      await fsp.rename(path.join(f.inbox, `.${name}.tmp`), path.join(f.inbox, name));
      written.push(path.join(f.inbox, name));
    }
    return written;
  }

  /** Every unit of a Return Authorisation comes back, in fair condition (grade B). */
  private returned(warehouseId: string, ra: ReturnAuthorisation): Row[] {
    const empty: Row = Object.fromEntries(WAREHOUSE_RESPONSE_COLUMNS.map((k) => [k, ''])) as Row;
    const today = new Date().toISOString().slice(0, 10);
    return ra.units.map((u) => ({
      ...empty,
      warehouse_id: warehouseId,
      sub_order_number: u.subOrderNumber,
      line_number: String(u.lineNumber),
      sku: u.sku,
      quantity_shipped: '0',
      serial_number: u.serialNumber ?? '',
      imei: u.imei ?? '',
      ship_date: today,
      disposition: 'returned',
      error_code: 'B',
      error_message: `received under ${ra.rmaNumber}`,
    }));
  }

  private answer(warehouseId: string, req: SalesOrderRequest): Row[] {
    const base = { warehouse_id: warehouseId, sub_order_number: req.subOrderNumber };
    const empty: Row = Object.fromEntries(WAREHOUSE_RESPONSE_COLUMNS.map((k) => [k, ''])) as Row;
    const shipDate = new Date().toISOString().slice(0, 10);
    const tracking = `TRK${createHash('sha256').update(req.subOrderNumber).digest('hex').slice(0, 10).toUpperCase()}`;
    const rows: Row[] = [];
    for (const line of req.lines) {
      const r = { ...empty, ...base, line_number: String(line.lineNumber), sku: line.sku };
      if (req.purpose === 'cancel') {
        rows.push({ ...r, quantity_shipped: '0', disposition: 'cancelled' });
        continue;
      }
      const label = `${req.subOrderNumber}:${line.lineNumber}`;
      if (chance(this.o.seed, `err:${label}`) < this.o.errorRate) {
        rows.push({ ...r, quantity_shipped: '0', disposition: 'error', error_code: 'PICK_FAILED', error_message: 'picking failed: item damaged in store' });
        continue;
      }
      const have = this.available(warehouseId, line.sku);
      if (have < line.quantity || chance(this.o.seed, `oos:${label}`) < this.o.outOfStockRate) {
        rows.push({
          ...r,
          quantity_shipped: '0',
          disposition: 'outOfStock',
          error_code: 'OUT_OF_STOCK',
          error_message: `only ${have} of ${line.quantity} in stock`,
        });
        continue;
      }
      this.setStock(warehouseId, line.sku, have - line.quantity);
      const shipped = { ...r, carrier: 'DPD', tracking_number: tracking, ship_date: shipDate, disposition: 'shipped' };
      if (!line.captureSerialNumbers) {
        rows.push({ ...shipped, quantity_shipped: String(line.quantity) });
        continue;
      }
      for (let unit = 1; unit <= line.quantity; unit++) {
        const h = createHash('sha256').update(`${this.o.seed}:${label}:${unit}`).digest('hex');
        const serial = `SN${h.slice(0, 10).toUpperCase()}`;
        const row: Row = { ...shipped, quantity_shipped: '1', serial_number: serial };
        if (line.captureImei) {
          const tac = TAC[line.enrolmentProgramme ?? ''] ?? '35000000';
          for (let attempt = 0; !row.imei || this.issuedImeis.has(row.imei); attempt++) {
            const k = attempt === 0 ? h : createHash('sha256').update(`${h}:${attempt}`).digest('hex');
            const body = tac + String(parseInt(k.slice(10, 18), 16) % 1_000_000).padStart(6, '0');
            row.imei = body + luhnCheckDigit(body);
          }
          this.issuedImeis.add(row.imei);
        }
        rows.push(row);
      }
    }
    return rows;
  }
}

/** A sub-order's cancel can arrive in the same pickup as the order itself: take the order first. */
function newBeforeCancel(a: string, b: string): number {
  const rank = (n: string) => (/-cancel(-[0-9]+)?\.json$/.test(n) ? 1 : 0);
  return rank(a) - rank(b) || a.localeCompare(b);
}
