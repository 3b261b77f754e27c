// The warehouse simulator stands in for a 3PL in tests and benchmarks: like a real warehouse it
// must never ship one device twice, although an IMEI leaves only six digits per TAC to choose from.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { warehouseFolders } from '../../infra/config';
import { luhnCheckDigit } from '../../domain/imei';
import { WarehouseSimulator } from '../../simulators/warehouse';

const golden = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/sales-order-request.golden.json'), 'utf8'));
let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('warehouse simulator', () => {
  it('ships 6,000 handsets in one file with 6,000 different, Luhn-valid IMEIs', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-'));
    const sim = new WarehouseSimulator({
      dataDir: dir,
      warehouseIds: ['WH-LON'],
      seed: 7,
      errorRate: 0,
      outOfStockRate: 0,
      defaultStock: 1_000_000,
      autoRespond: false,
    });
    const outbox = warehouseFolders(dir, 'WH-LON').outbox;
    fs.mkdirSync(outbox, { recursive: true });
    for (let i = 0; i < 3000; i++) {
      const sub = `ORD-${i}-WH-LON`;
      const req = { ...golden, fileId: `${sub}-new`, subOrderNumber: sub, depositorOrderNumber: `ORD-${i}`, lines: [golden.lines[0]] };
      fs.writeFileSync(path.join(outbox, `${sub}-new.json`), JSON.stringify(req));
    }
    const [file] = await sim.respond();
    const [header, ...rows] = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const imeis = rows.map((r) => r[header.indexOf('imei')]);
    expect(imeis).toHaveLength(6000);
    expect(new Set(imeis).size).toBe(6000);
    for (const imei of imeis) expect(String(luhnCheckDigit(imei.slice(0, 14)))).toBe(imei.slice(14));
  });
});

describe('warehouse simulator and Return Authorisations', () => {
  it('takes a Return Authorisation from the outbox as units expected back, not as an order to ship, and reports them returned', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-'));
    const sim = new WarehouseSimulator({ dataDir: dir, warehouseIds: ['WH-LON'], seed: 7, errorRate: 0, outOfStockRate: 0, autoRespond: false });
    const outbox = warehouseFolders(dir, 'WH-LON').outbox;
    fs.mkdirSync(outbox, { recursive: true });
    const ra = {
      schemaVersion: '1',
      fileId: 'RMA-00000001-WH-LON-return',
      warehouseId: 'WH-LON',
      generatedAt: '2025-03-01T10:00:00.000Z',
      purpose: 'return',
      rmaNumber: 'RMA-00000001',
      depositorOrderNumber: 'ORD-1',
      accountId: 'ACC-1001',
      reason: 'faulty',
      units: [{ lineNumber: 1, sku: 'HS-1', description: 'Handset', subOrderNumber: 'ORD-1-WH-LON', serialNumber: 'SN1', imei: '353325110000016' }],
    };
    fs.writeFileSync(path.join(outbox, `${ra.fileId}.json`), JSON.stringify(ra));
    const [file, ...more] = await sim.respond();
    expect(more).toEqual([]);
    expect(sim.expectedReturns('WH-LON')).toEqual([ra]);
    expect(fs.readdirSync(outbox)).toEqual([]);
    // It reports the units back once, as returned rows of its response file.
    const [header, ...rows] = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split(','));
    const cell = (r: string[], c: string) => r[header.indexOf(c)];
    expect(rows).toHaveLength(1);
    expect([cell(rows[0], 'sub_order_number'), cell(rows[0], 'imei'), cell(rows[0], 'disposition'), cell(rows[0], 'error_code')]).toEqual([
      'ORD-1-WH-LON',
      '353325110000016',
      'returned',
      'B',
    ]);
    expect(await sim.respond()).toEqual([]);
  });
});

describe('warehouse simulator stock', () => {
  const sim = () =>
    new WarehouseSimulator({ dataDir: os.tmpdir(), warehouseIds: ['WH-A', 'WH-B'], seed: 1, errorRate: 0, outOfStockRate: 0, replenishPerMinute: 30 });

  it('receives deliveries on top of what it holds, over its HTTP interface too', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-'));
    const s = sim();
    s.setStock('WH-A', 'X', 2);
    expect(s.receiveStock('WH-A', 'X', 5)).toBe(7);
    const app = s.app();
    const post = (url: string, body: unknown) =>
      app.request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const r = await post('/warehouses/WH-A/stock/X/receipts', { quantity: 3 });
    expect(await r.json()).toEqual({ warehouseId: 'WH-A', sku: 'X', available: 10 });
    expect((await post('/warehouses/WH-A/stock/X/receipts', { quantity: 0 })).status).toBe(400);
    expect((await post('/warehouses/WH-Z/stock/X/receipts', { quantity: 1 })).status).toBe(404);
  });

  it('refills each shelf it has taken from by the rate per minute, up to its usual level', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-'));
    const s = sim();
    s.setStock('WH-A', 'X', 0);
    s.setStock('WH-B', 'X', 95);
    s.setStock('WH-B', 'Y', 250);
    s.replenish();
    expect([s.available('WH-A', 'X'), s.available('WH-B', 'X'), s.available('WH-B', 'Y')]).toEqual([30, 100, 250]);
    s.replenish();
    s.replenish();
    s.replenish();
    expect(s.available('WH-A', 'X')).toBe(100);
  });
});
