// What a penetration test found at the API's edge, kept fixed: control characters in free text,
// idempotency records, JSON batches claiming another file's id, adaptors scoped to a warehouse.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_FILE_BYTES } from '../../adaptor/ingest';
import { IDEMPOTENCY_TTL_MS, sweepIdempotencyRecords } from '../../api/idempotency';
import { MAX_RECORD_CHARS, WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { warehouseFolders } from '../../infra/config';
import { formatWarehouseResponseCsv as responseCsv } from '../../domain/warehouse-response-csv';
import { dropInInbox, ordersAwaitingDispatch, shippedRows, waitForStatus } from '../support/dispatch-fixtures';
import { addLine, createOrder, deliveryElsewhere } from '../support/orders';
import { DEV_ACTORS, startSystem, type TestSystem } from '../support/system';

let sys: TestSystem;
const MAX_ROWS = 50;
const NORTH_TOKEN = 'north-partner-token-0001';
beforeAll(async () => {
  // The dev adaptor token for every warehouse, and a partner's for WH-NORTH only.
  sys = await startSystem({ env: { ADAPTOR_MAX_FILE_ROWS: String(MAX_ROWS), ADAPTOR_TOKENS: `adaptor-dev-token,${NORTH_TOKEN}:WH-NORTH` } });
});
afterAll(async () => {
  await sys?.stop();
});

const NUL = '\u0000';

describe('control characters in free text', () => {
  it('a NUL in a search is a 400, not a 500', async () => {
    for (const url of ['/api/v1/accounts?query=a%00b', '/api/v1/catalogue?q=a%00b', '/api/v1/accounts?query=%1B%5B31m']) {
      const r = await sys.call('GET', url);
      expect(r, url).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringContaining('control characters') } } });
    }
  });

  it('every free-text field of an order refuses control characters; reasons may have line breaks', async () => {
    const { orderId } = await createOrder(sys);
    await addLine(sys, orderId, 'PR-APL-USBC-20W', 1);
    const refused = [
      ['POST', `/api/v1/orders/${orderId}/cancel`, { reason: `changed${NUL}mind` }],
      ['POST', `/api/v1/orders/${orderId}/cancel`, { reason: 'changed\u0007mind' }],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, deliveryElsewhere({ name: `Bob${NUL}` })],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, { ...deliveryElsewhere(), address: { ...deliveryElsewhere().address, lines: ['5 Park\u0085Road'] } }],
      ['PUT', `/api/v1/orders/${orderId}/delivery`, { ...deliveryElsewhere(), address: { ...deliveryElsewhere().address, city: 'Leeds\nLS1' } }],
      ['POST', `/api/v1/orders/${orderId}/lines`, { sku: `PR-APL-USBC-20W${NUL}`, quantity: 1 }],
      ['POST', `/api/v1/accounts/ACC-1001/orders`, { delivery: deliveryElsewhere({ postcode: `LS2${NUL}7AB` }) }],
    ] as const;
    for (const [method, url, body] of refused) {
      const r = await sys.call(method, url, { body });
      expect(r, `${method} ${url} ${JSON.stringify(body)}`).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    }
    const review = await sys.call('POST', `/api/v1/orders/${orderId}/fraud-review`, { role: 'ops', body: { decision: 'approve', reason: `ok${NUL}` } });
    expect(review.status).toBe(400);
    const cancelled = await sys.call('POST', `/api/v1/orders/${orderId}/cancel`, { body: { reason: 'customer called:\nchanged their mind' } });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
  });
});

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const HEADER = WAREHOUSE_RESPONSE_COLUMNS.join(',');
/** Entries in a folder whose names end so (reports included when the suffix says so). */
const entriesIn = (dir: string, suffix: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.endsWith(suffix)) : []);
const reportOf = (dir: string, name: string) => {
  const [report] = entriesIn(dir, `-${name}.report.json`);
  expect(report, `a report for ${name} in ${dir}`).toBeDefined();
  return JSON.parse(fs.readFileSync(path.join(dir, report), 'utf8'));
};

describe('the warehouse inbox', () => {
  it('reads only regular files: links, folders and FIFOs are quarantined unread, and the files after them and other warehouses still go through', async () => {
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    const [a, b] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-APL-USBC-20W', quantity: 1 }] });
    // A real response file outside the inbox, offered through a link.
    const outside = path.join(sys.config.dataDir, 'elsewhere.csv');
    fs.writeFileSync(outside, responseCsv(shippedRows(a)));
    fs.mkdirSync(north.inbox, { recursive: true });
    fs.symlinkSync(outside, path.join(north.inbox, 'a-link.csv'));
    fs.symlinkSync('/dev/zero', path.join(north.inbox, 'b-zero.csv'));
    fs.mkdirSync(path.join(north.inbox, 'c-folder.csv'));
    execFileSync('mkfifo', [path.join(north.inbox, 'd-fifo.csv')]);
    await dropInInbox(sys, 'WH-NORTH', 'e-real.csv', responseCsv(shippedRows(b)));
    await dropInInbox(
      sys,
      'WH-SOUTH',
      'south.csv',
      responseCsv([{ ...shippedRows(b)[0], warehouse_id: 'WH-SOUTH', sub_order_number: 'ORD-0000000000-WH-SOUTH' }]),
    );
    await sys.adaptor.sweep();

    for (const name of ['a-link.csv', 'b-zero.csv', 'c-folder.csv', 'd-fifo.csv']) {
      expect(entriesIn(north.quarantine, `-${name}`), name).toHaveLength(1);
      expect(reportOf(north.quarantine, name)).toMatchObject({
        file: name,
        outcome: 'unreadable',
        batchId: null,
        rejections: [{ code: 'NOT_A_REGULAR_FILE' }],
      });
    }
    expect(fs.readFileSync(outside, 'utf8')).toContain(a.subOrders[0].subOrderNumber); // the target is left alone
    expect(await sys.db.models.DispatchBatch.countDocuments({ batchId: sha256(fs.readFileSync(outside, 'utf8')) })).toBe(0);
    expect(reportOf(north.archive, 'e-real.csv')).toMatchObject({ outcome: 'accepted', validRows: 1 });
    expect(reportOf(warehouseFolders(sys.config.dataDir, 'WH-SOUTH').archive, 'south.csv')).toMatchObject({ outcome: 'accepted', exceptionRows: 1 });
    await waitForStatus(sys, [b.orderId], 'Complete');
    expect(fs.readdirSync(north.inbox)).toEqual([]);
    expect(fs.readdirSync(north.processing)).toEqual([]);
  });

  it('quarantines a file over the size limit without reading it', async () => {
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    const big = await dropInInbox(sys, 'WH-NORTH', 'huge.csv', `${HEADER}\n`);
    fs.truncateSync(big, MAX_FILE_BYTES + 1); // sparse: no disk, no time
    await sys.adaptor.sweep();
    expect(reportOf(north.quarantine, 'huge.csv')).toMatchObject({ outcome: 'unreadable', rejections: [{ code: 'FILE_TOO_LARGE' }] });
  });

  it('refuses a record longer than the limit at once, as unreadable with a report, from the inbox and over HTTP', async () => {
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    const csv = `${HEADER}\nWH-NORTH,"${'x'.repeat(MAX_RECORD_CHARS * 4)}"\n`;
    await dropInInbox(sys, 'WH-NORTH', 'one-field.csv', csv);
    await sys.adaptor.sweep();
    expect(reportOf(north.quarantine, 'one-field.csv')).toMatchObject({
      outcome: 'unreadable',
      batchId: sha256(csv),
      rejections: [{ code: 'RECORD_TOO_LARGE' }],
    });
    const posted = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-NORTH&fileName=one-field-api.csv', {
      role: 'adaptor',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    expect(posted).toMatchObject({ status: 422, body: { outcome: 'unreadable', rejections: [{ code: 'RECORD_TOO_LARGE' }] } });
    expect(await sys.db.models.DispatchBatch.countDocuments({ batchId: sha256(csv) })).toBe(0);
  });

  it('refuses a file with more rows than the limit whole: nothing of it stored', async () => {
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    const row = 'WH-NORTH,ORD-0000000000-WH-NORTH,1,PR-APL-USBC-20W,0,,,,,,,error,PICK_FAILED,x';
    const csv = `${HEADER}\n${Array.from({ length: MAX_ROWS + 1 }, () => row).join('\n')}\n`;
    await dropInInbox(sys, 'WH-NORTH', 'many.csv', csv);
    await sys.adaptor.sweep();
    expect(reportOf(north.quarantine, 'many.csv')).toMatchObject({
      outcome: 'unreadable',
      rejections: expect.arrayContaining([expect.objectContaining({ code: 'TOO_MANY_ROWS' })]),
    });
    expect(await sys.db.models.DispatchRowChunk.countDocuments({ batchId: sha256(csv) })).toBe(0);
    expect(await sys.db.models.AdaptorException.countDocuments({ batchId: sha256(csv) })).toBe(0);
  });
});

describe('JSON dispatch batches', () => {
  it('cannot claim the id of a real file: the file is still applied, not taken as a duplicate', async () => {
    const [victim, decoy] = await ordersAwaitingDispatch(sys, 2, { lines: [{ sku: 'PR-APL-USBC-20W', quantity: 1 }] });
    const realFile = responseCsv(shippedRows(victim));
    const [d] = shippedRows(decoy);
    const planted = {
      schemaVersion: '1',
      batchId: sha256(realFile), // the hash of a file the warehouse has yet to deliver
      warehouseId: 'WH-NORTH',
      sourceFile: 'planted.csv',
      receivedAt: '2025-03-14T10:00:00.000Z',
      rows: [
        {
          rowNumber: 1,
          warehouseId: 'WH-NORTH',
          subOrderNumber: String(d.sub_order_number),
          lineNumber: 1,
          sku: String(d.sku),
          quantityShipped: 1,
          serialNumber: String(d.serial_number),
          carrier: 'DPD',
          trackingNumber: String(d.tracking_number),
          shipDate: String(d.ship_date),
          disposition: 'shipped',
        },
      ],
    };
    const posted = await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { role: 'adaptor', body: planted });
    expect(posted).toMatchObject({ status: 202, body: { outcome: 'accepted' } });
    expect(posted.body.batchId).not.toBe(sha256(realFile));

    await dropInInbox(sys, 'WH-NORTH', 'claimed-file.csv', realFile);
    await sys.adaptor.sweep();
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    expect(reportOf(north.archive, 'claimed-file.csv')).toMatchObject({ outcome: 'accepted', batchId: sha256(realFile), validRows: 1 });
    await waitForStatus(sys, [victim.orderId, decoy.orderId], 'Complete');
  });

  it('are archived as received (JSON): the system writes no CSV a spreadsheet could evaluate', async () => {
    const formula = '=HYPERLINK("http://evil.example","click")';
    const batch = {
      schemaVersion: '1',
      batchId: sha256('formula-batch'),
      warehouseId: 'WH-NORTH',
      sourceFile: 'formula.csv',
      receivedAt: '2025-03-14T10:00:00.000Z',
      rows: [
        {
          rowNumber: 1,
          warehouseId: 'WH-NORTH',
          subOrderNumber: 'ORD-0000000002-WH-NORTH',
          lineNumber: 1,
          sku: 'PR-APL-USBC-20W',
          quantityShipped: 0,
          disposition: 'error',
          errorCode: 'PICK_FAILED',
          errorMessage: formula,
        },
      ],
    };
    const posted = await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { role: 'adaptor', body: batch });
    expect(posted, JSON.stringify(posted.body)).toMatchObject({ status: 202, body: { outcome: 'accepted', exceptionRows: 1 } });
    const north = warehouseFolders(sys.config.dataDir, 'WH-NORTH');
    expect(entriesIn(north.archive, '.csv')).not.toContainEqual(expect.stringContaining('formula'));
    const [archived] = entriesIn(north.archive, '-formula.csv.json');
    expect(JSON.parse(fs.readFileSync(path.join(north.archive, archived), 'utf8'))).toEqual(batch);
    // The value itself is kept as sent (people see it as text in AgentView).
    const [exception] = (await sys.call('GET', `/api/v1/adaptor/exceptions?batchId=${posted.body.batchId}`, { role: 'ops' })).body.items;
    expect(exception.row.errorMessage).toBe(formula);
  });
});

describe('idempotency records', () => {
  it('keep an order as its id, not its customer details, and replay the order as it is now', async () => {
    const delivery = deliveryElsewhere({ name: 'Idem Potent', email: 'idem@example.com' });
    const create = () => sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: { delivery }, headers: { 'idempotency-key': 'hardening-create-1' } });
    const first = await create();
    expect(first.status).toBe(201);
    const record = (await sys.db.models.IdempotencyRecord.findOne({
      _id: `${DEV_ACTORS.agent}:POST:/api/v1/accounts/ACC-1001/orders:hardening-create-1`,
    }).lean())!;
    expect(record).toMatchObject({ status: 201, orderId: first.body.orderId, orderAt: 'body' });
    expect(JSON.stringify(record)).not.toMatch(/Idem Potent|idem@example\.com|Park Road/);
    const ttl = record.expiresAt.getTime() - Date.now();
    expect(ttl).toBeGreaterThan(IDEMPOTENCY_TTL_MS - 60_000);
    expect(ttl).toBeLessThanOrEqual(IDEMPOTENCY_TTL_MS);

    await addLine(sys, first.body.orderId, 'PR-APL-USBC-20W', 1);
    const again = await create();
    expect(again).toMatchObject({ status: 201, body: { orderId: first.body.orderId, delivery: { name: 'Idem Potent' } } });
    expect(again.body.lines).toHaveLength(1); // the order as it is now
  });

  it('expire: an expired record is not replayed, and the sweep removes expired records only', async () => {
    const { orderId } = await createOrder(sys);
    const body = { sku: 'PR-APL-USBC-20W', quantity: 1 };
    const scope = `${DEV_ACTORS.agent}:POST:/api/v1/orders/${orderId}/lines:hardening-exp-1`;
    const fingerprint = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const past = new Date(Date.now() - 1000);
    await sys.db.models.IdempotencyRecord.create({
      _id: scope,
      key: scope,
      fingerprint,
      status: 418,
      body: { stale: true },
      createdAt: past.toISOString(),
      expiresAt: past,
    });
    const r = await sys.call('POST', `/api/v1/orders/${orderId}/lines`, { body, headers: { 'idempotency-key': 'hardening-exp-1' } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.lines).toHaveLength(1);

    const stale = `${DEV_ACTORS.agent}:POST:/api/v1/orders/${orderId}/generate:hardening-exp-2`;
    await sys.db.models.IdempotencyRecord.create({
      _id: stale,
      key: stale,
      fingerprint,
      status: 200,
      body: {},
      createdAt: past.toISOString(),
      expiresAt: past,
    });
    expect(await sweepIdempotencyRecords(sys.db)).toBeGreaterThanOrEqual(1);
    expect(await sys.db.models.IdempotencyRecord.countDocuments({ _id: stale })).toBe(0);
    expect(await sys.db.models.IdempotencyRecord.countDocuments({ _id: scope })).toBe(1); // stored again, fresh
  });
});

describe('adaptor tokens scoped to a warehouse', () => {
  const asNorth = { role: null, headers: { authorization: `Bearer ${NORTH_TOKEN}` } } as const;

  it("cannot file, post or read another warehouse's batches; its own it can", async () => {
    const south = `${HEADER}\nWH-SOUTH,ORD-0000000001-WH-SOUTH,1,PR-APL-USBC-20W,0,,,,,,,error,PICK_FAILED,scoped\n`;
    const refused = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-SOUTH&fileName=scoped.csv', {
      ...asNorth,
      body: south,
      headers: { ...asNorth.headers, 'content-type': 'text/csv' },
    });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect(await sys.db.models.DispatchBatch.countDocuments({ batchId: sha256(south) })).toBe(0);

    const batch = {
      schemaVersion: '1',
      batchId: sha256('scoped-json'),
      warehouseId: 'WH-SOUTH',
      sourceFile: 's.csv',
      receivedAt: '2025-03-14T10:00:00.000Z',
      rows: [
        {
          rowNumber: 1,
          warehouseId: 'WH-SOUTH',
          subOrderNumber: 'ORD-0000000001-WH-SOUTH',
          lineNumber: 1,
          sku: 'PR-APL-USBC-20W',
          quantityShipped: 0,
          disposition: 'error',
          errorCode: 'PICK_FAILED',
        },
      ],
    };
    expect((await sys.call('POST', '/api/v1/adaptor/dispatch-batches', { ...asNorth, body: batch })).status).toBe(403);

    // The unscoped adaptor token files it; the WH-NORTH partner cannot even see it.
    const filed = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-SOUTH&fileName=scoped.csv', {
      role: 'adaptor',
      body: south,
      headers: { 'content-type': 'text/csv' },
    });
    expect(filed.status).toBe(202);
    expect((await sys.call('GET', `/api/v1/adaptor/batches/${filed.body.batchId}`, asNorth)).status).toBe(404);
    expect((await sys.call('GET', `/api/v1/adaptor/batches/${filed.body.batchId}`, { role: 'adaptor' })).status).toBe(200);

    const north = south.replaceAll('WH-SOUTH', 'WH-NORTH');
    const own = await sys.call('POST', '/api/v1/adaptor/warehouse-files?warehouseId=WH-NORTH&fileName=own.csv', {
      ...asNorth,
      body: north,
      headers: { ...asNorth.headers, 'content-type': 'text/csv' },
    });
    expect(own).toMatchObject({ status: 202, body: { outcome: 'accepted' } });
    expect((await sys.call('GET', `/api/v1/adaptor/batches/${own.body.batchId}`, asNorth)).status).toBe(200);
  });
});
