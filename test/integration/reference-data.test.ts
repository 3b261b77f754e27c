// Reference data an administrator maintains, on the real servers: products and prices, accounts,
// the fraud blocklist, CSV imports over HTTP and through `npm run import`.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../domain/reference-data';
import { MAX_IMPORT_BYTES } from '../../api/routes/reference-data';
import { MAX_IMPORT_ROWS } from '../../infra/reference-import';
import { addLine, createOrder, deliveryElsewhere, generate, readOrder, waitForStatus } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';

const run = promisify(execFile);
let sys: TestSystem;
let tmp: string;
beforeAll(async () => {
  sys = await startSystem();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'refdata-'));
});
afterAll(async () => {
  await sys?.stop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const product = (over: Record<string, unknown> = {}) => ({
  name: 'Fairphone 5 256GB',
  kind: 'handset',
  unitPrice: 10000,
  currency: 'GBP',
  taxRateBps: 2000,
  capture: 'imei',
  enrolmentProgrammes: ['google'],
  active: true,
  ...over,
});

const account = (over: Record<string, unknown> = {}) => ({
  name: 'Eve Example',
  billingAddress: { lines: ['9 Quay Street'], city: 'Bristol', postcode: 'BS1 4DJ', country: 'GB' },
  defaultDelivery: { name: 'Eve Example', address: { lines: ['9 Quay Street'], city: 'Bristol', postcode: 'BS1 4DJ', country: 'GB' } },
  billingCycleDay: 5,
  defaultBillingMode: 'immediate',
  currency: 'GBP',
  ...over,
});

const importCsv = (kind: string, csv: string) =>
  sys.call('POST', `/api/v1/imports/${kind}`, { role: 'admin', body: csv, headers: { 'content-type': 'text/csv' } });

describe('roles', () => {
  it('only admin writes reference data; admin places no orders', async () => {
    for (const role of ['agent', 'ops', 'adaptor'] as const) {
      expect((await sys.call('PUT', '/api/v1/products/RD-ROLE-1', { role, body: product() })).status, role).toBe(403);
      expect((await sys.call('PUT', '/api/v1/accounts/ACC-ROLE-1', { role, body: account() })).status, role).toBe(403);
      expect((await sys.call('PUT', '/api/v1/fraud-blocklist/email/x@example.invalid', { role, body: {} })).status, role).toBe(403);
      const imported = await sys.call('POST', '/api/v1/imports/blocklist', { role, body: 'kind,value,note\n', headers: { 'content-type': 'text/csv' } });
      expect(imported.status, role).toBe(403);
    }
    const order = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { role: 'admin', body: {} });
    expect(order).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    expect((await sys.call('GET', '/api/v1/catalogue', { role: 'admin' })).status).toBe(403);
    // Nothing was written by the refused calls.
    expect(await sys.db.models.Product.countDocuments({ sku: 'RD-ROLE-1' })).toBe(0);
    expect(await sys.db.models.Account.countDocuments({ accountId: 'ACC-ROLE-1' })).toBe(0);
  });
});

describe('products', () => {
  it('PUT creates (201), repeats as 200 with nothing changed, GET reads it back; bad bodies are 400 with the field named', async () => {
    const created = await sys.call('PUT', '/api/v1/products/RD-PROD-1', { role: 'admin', body: product() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({ sku: 'RD-PROD-1', ...product() });
    expect((await sys.call('PUT', '/api/v1/products/RD-PROD-1', { role: 'admin', body: product() })).status).toBe(200);
    expect(await sys.db.models.Product.countDocuments({ sku: 'RD-PROD-1' })).toBe(1);
    for (const role of ['admin', 'agent', 'ops'] as const) {
      expect(await sys.call('GET', '/api/v1/products/RD-PROD-1', { role })).toEqual({ status: 200, body: { sku: 'RD-PROD-1', ...product() } });
    }
    expect((await sys.call('GET', '/api/v1/products/RD-NOPE', { role: 'admin' })).body.error.code).toBe('PRODUCT_NOT_FOUND');

    const bad = await sys.call('PUT', '/api/v1/products/RD-PROD-1', { role: 'admin', body: product({ unitPrice: -5 }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/unitPrice/) } } });
    const twice = await sys.call('PUT', '/api/v1/products/RD-PROD-1', { role: 'admin', body: product({ enrolmentProgrammes: ['google', 'google'] }) });
    expect(twice).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/enrolmentProgrammes/) } } });
    expect((await sys.call('PUT', '/api/v1/products/RD-PROD-1', { role: 'admin', body: { ...product(), sku: 'OTHER' } })).status).toBe(400);
    expect((await sys.call('GET', '/api/v1/products/RD-PROD-1', { role: 'admin' })).body.unitPrice).toBe(10000);
  });

  it('a deactivated product stays, leaves the catalogue agents browse, and cannot be added to an order', async () => {
    expect((await sys.call('PUT', '/api/v1/products/RD-RETIRE-1', { role: 'admin', body: product() })).status).toBe(201);
    const retired = await sys.call('PUT', '/api/v1/products/RD-RETIRE-1', { role: 'admin', body: product({ active: false }) });
    expect(retired).toMatchObject({ status: 200, body: { active: false } });
    expect(await sys.db.models.Product.countDocuments({ sku: 'RD-RETIRE-1' })).toBe(1);
    const skus = (q: string) => sys.call('GET', `/api/v1/catalogue?q=RD-RETIRE${q}`).then((r) => r.body.items.map((p: { sku: string }) => p.sku));
    expect(await skus('')).toEqual([]);
    expect(await skus('&includeInactive=true')).toEqual(['RD-RETIRE-1']);
    const order = await createOrder(sys);
    const add = await sys.call('POST', `/api/v1/orders/${order.orderId}/lines`, { body: { sku: 'RD-RETIRE-1', quantity: 1 } });
    expect(add).toMatchObject({ status: 422, body: { error: { code: 'PRODUCT_INACTIVE' } } });
  });

  it('a price change never changes a captured line price: the old line keeps it, a new line gets the new one', async () => {
    expect((await sys.call('PUT', '/api/v1/products/RD-PRICE-1', { role: 'admin', body: product({ unitPrice: 10000 }) })).status).toBe(201);
    const order = await createOrder(sys);
    await addLine(sys, order.orderId, 'RD-PRICE-1', 1);
    expect((await sys.call('PUT', '/api/v1/products/RD-PRICE-1', { role: 'admin', body: product({ unitPrice: 12500 }) })).status).toBe(200);
    await addLine(sys, order.orderId, 'RD-PRICE-1', 1);
    const view = await readOrder(sys, order.orderId);
    expect(view.lines.map((l: { sku: string; unitPrice: number }) => [l.sku, l.unitPrice])).toEqual([
      ['RD-PRICE-1', 10000],
      ['RD-PRICE-1', 12500],
    ]);
    expect(view.totals.net).toBe(22500);
  });
});

describe('accounts', () => {
  it('PUT creates and replaces an account; GET shows the change at once in this process; agents order on it', async () => {
    const created = await sys.call('PUT', '/api/v1/accounts/ACC-RD-1', { role: 'admin', body: account() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect((await sys.call('GET', '/api/v1/accounts/ACC-RD-1', { role: 'admin' })).body).toEqual({ accountId: 'ACC-RD-1', ...account() });
    const renamed = await sys.call('PUT', '/api/v1/accounts/ACC-RD-1', { role: 'admin', body: account({ name: 'Eve Renamed', billingCycleDay: 6 }) });
    expect(renamed.status).toBe(200);
    expect((await sys.call('GET', '/api/v1/accounts/ACC-RD-1', { role: 'agent' })).body).toMatchObject({ name: 'Eve Renamed', billingCycleDay: 6 });
    // Agents find it by name (the lower-cased name is kept with it).
    expect((await sys.call('GET', '/api/v1/accounts?query=eve%20ren')).body.items.map((a: { accountId: string }) => a.accountId)).toEqual(['ACC-RD-1']);
    const order = await createOrder(sys, 'ACC-RD-1');
    expect(order.accountId).toBe('ACC-RD-1');
    const bad = await sys.call('PUT', '/api/v1/accounts/ACC-RD-1', { role: 'admin', body: account({ billingCycleDay: 31 }) });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/billingCycleDay/) } } });
  });
});

describe('fraud blocklist', () => {
  it('PUT lists an entry once, GET shows it, DELETE removes it (404 when not listed)', async () => {
    const url = `/api/v1/fraud-blocklist/email/${encodeURIComponent('rd.mule@example.invalid')}`;
    expect((await sys.call('PUT', url, { role: 'admin', body: { note: 'test mule' } })).status).toBe(201);
    expect((await sys.call('PUT', url, { role: 'admin', body: { note: 'test mule' } })).status).toBe(200);
    // A body that is not JSON is refused; it does not clear the note.
    const garbled = await sys.call('PUT', url, { role: 'admin', body: '{"note": ', headers: { 'content-type': 'application/json' } });
    expect(garbled.status).toBe(400);
    const listed = await sys.call('GET', '/api/v1/fraud-blocklist', { role: 'ops' });
    expect(listed.body.items.filter((e: { value: string }) => e.value === 'rd.mule@example.invalid')).toEqual([
      { kind: 'email', value: 'rd.mule@example.invalid', note: 'test mule' },
    ]);
    const address = await sys.call('PUT', `/api/v1/fraud-blocklist/address/${encodeURIComponent('1 Fraud Lane')}`, { role: 'admin' });
    expect(address).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/COUNTRY\|POSTCODE/) } } });
    expect((await sys.call('PUT', '/api/v1/fraud-blocklist/ip/1.2.3.4', { role: 'admin' })).status).toBe(400);
    expect(await sys.call('DELETE', url, { role: 'admin' })).toEqual({ status: 200, body: { removed: true } });
    expect((await sys.call('DELETE', url, { role: 'admin' })).body.error.code).toBe('NOT_FOUND');
    expect(await sys.db.models.FraudListEntry.countDocuments({ value: 'rd.mule@example.invalid' })).toBe(0);
  });
});

describe('CSV imports over HTTP', () => {
  const header = CSV_COLUMNS.products.join(',');
  const file = [
    header,
    'RD-CSV-1,Nothing Phone 3 256GB,handset,59900,GBP,2000,imei,,google,true',
    'RD-CSV-2,"USB-C Cable, 2m",peripheral,999,GBP,2000,none,,,true',
    'RD-CSV-3,Bad Price,peripheral,9.99,GBP,2000,none,,,true',
    'RD-CSV-4,Too Short,peripheral',
    'RD-CSV-1,Nothing Phone 3 again,handset,1,GBP,2000,imei,,google,true',
    '',
  ].join('\n');

  it('reports created, unchanged and rejected rows by line; the same file again changes nothing', async () => {
    const first = await importCsv('products', file);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.counts).toEqual({ rows: 5, created: 2, updated: 0, unchanged: 0, rejected: 3 });
    expect(first.body.accepted).toEqual([
      { line: 2, key: 'RD-CSV-1', change: 'created' },
      { line: 3, key: 'RD-CSV-2', change: 'created' },
    ]);
    expect(first.body.rejected).toEqual([
      { line: 4, key: 'RD-CSV-3', reason: expect.stringMatching(/unitPrice/) },
      { line: 5, key: null, reason: 'the row has 3 cells, the header 10' },
      { line: 6, key: 'RD-CSV-1', reason: expect.stringMatching(/also on line 2/) },
    ]);
    expect((await sys.call('GET', '/api/v1/products/RD-CSV-2', { role: 'agent' })).body).toMatchObject({ name: 'USB-C Cable, 2m', unitPrice: 999 });
    expect(await sys.db.models.Product.countDocuments({ sku: 'RD-CSV-3' })).toBe(0);

    const before = await sys.db.models.Product.find({ sku: /^RD-CSV-/ }, { _id: 0 })
      .sort({ sku: 1 })
      .lean();
    const second = await importCsv('products', file);
    expect(second.body.counts).toEqual({ rows: 5, created: 0, updated: 0, unchanged: 2, rejected: 3 });
    expect(second.body.unchanged).toEqual([
      { line: 2, key: 'RD-CSV-1' },
      { line: 3, key: 'RD-CSV-2' },
    ]);
    expect(
      await sys.db.models.Product.find({ sku: /^RD-CSV-/ }, { _id: 0 })
        .sort({ sku: 1 })
        .lean(),
    ).toEqual(before);

    // A changed price is an update, and only that row's.
    const changed = await importCsv('products', file.replace(',999,', ',1099,'));
    expect(changed.body.counts).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
    expect(changed.body.accepted).toEqual([{ line: 3, key: 'RD-CSV-2', change: 'updated' }]);
  });

  it('a wrong header, broken CSV, an unknown kind or a JSON body is refused in the error shape', async () => {
    const header = await importCsv('blocklist', 'kind,value\nemail,a@example.invalid\n');
    expect(header).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/missing note/) } } });
    const broken = await importCsv('blocklist', 'kind,value,note\nemail,"unclosed,x\n');
    expect(broken).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/not valid CSV/) } } });
    expect((await importCsv('prices', 'kind,value,note\n')).status).toBe(400);
    const json = await sys.call('POST', '/api/v1/imports/blocklist', { role: 'admin', body: { kind: 'email' } });
    expect(json).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE' } } });
    expect(await sys.db.models.FraudListEntry.countDocuments({ value: 'a@example.invalid' })).toBe(0);
  });

  it('refuses a file of more than 100,000 rows, and a body over 16 MiB (413), without a 5xx', async () => {
    // Rows refused one by one (an empty value) cost no writes; the limits are what is tested.
    const many = await importCsv('blocklist', 'kind,value,note\n' + 'name,,x\n'.repeat(MAX_IMPORT_ROWS + 1));
    expect(many).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED', message: expect.stringMatching(/more than 100000 data rows/) } } });
    expect(many.body.error.details.counts).toMatchObject({ rows: MAX_IMPORT_ROWS, rejected: MAX_IMPORT_ROWS });
    expect(many.body.error.details.rejected).toHaveLength(1000);
    expect(many.body.error.details.truncated).toBe(true);
    const note = 'n'.repeat(190);
    const big = await importCsv('blocklist', 'kind,value,note\n' + `name,,${note}\n`.repeat(Math.ceil(MAX_IMPORT_BYTES / 190)));
    expect(big).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('imports blocklist entries the fraud rules read', async () => {
    const csv = 'kind,value,note\npostcode,RD1 1RD,test drop\nemail,rd.csv@example.invalid,\nname,,empty\n';
    const r = await importCsv('blocklist', csv);
    expect(r.body.counts).toEqual({ rows: 3, created: 2, updated: 0, unchanged: 0, rejected: 1 });
    expect(r.body.rejected).toEqual([{ line: 4, key: null, reason: expect.stringMatching(/value/) }]);
    expect((await importCsv('blocklist', csv)).body.counts).toMatchObject({ created: 0, unchanged: 2 });
    expect(await sys.db.models.FraudListEntry.findOne({ kind: 'postcode', value: 'RD1 1RD' }, { _id: 0 }).lean()).toEqual({
      kind: 'postcode',
      value: 'RD1 1RD',
      note: 'test drop',
    });
    // The worker's fraud rules read it (this file's first fraud check: nothing cached before it).
    const order = await createOrder(sys, 'ACC-1001', { delivery: deliveryElsewhere({ postcode: 'RD1 1RD' }) });
    await addLine(sys, order.orderId, 'HS-APL-IP16-128', 1);
    await generate(sys, order.orderId);
    const failed = await waitForStatus(sys, order.orderId, 'Error');
    expect(failed.fraud.result.reasons).toEqual(expect.arrayContaining(['BLOCKLISTED_POSTCODE']));
  });
});

describe('npm run import', () => {
  const importCommand = (kind: string, file: string) =>
    run('npm', ['run', '--silent', 'import', '--', kind, file], {
      env: { ...process.env, NODE_ENV: 'test', MONGODB_URI: sys.config.mongodbUri },
      timeout: 120_000,
    }).then(
      (r) => ({ code: 0, report: JSON.parse(r.stdout), stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, report: e.stdout ? JSON.parse(e.stdout) : null, stderr: e.stderr }),
    );

  it('loads accounts straight into MongoDB, reports by line, and changes nothing the second time', async () => {
    const file = path.join(tmp, 'accounts.csv');
    const columns = CSV_COLUMNS.accounts;
    const row = (values: Record<string, string>) => columns.map((c) => JSON.stringify(values[c] ?? '')).join(',');
    const good = {
      accountId: 'ACC-RD-CLI-1',
      name: 'Frank Import',
      billingLines: 'Unit 7;Mill Lane',
      billingCity: 'Sheffield',
      billingPostcode: 'S1 2HE',
      billingCountry: 'GB',
      deliveryEmail: 'frank@example.com',
      billingCycleDay: '20',
      defaultBillingMode: 'nextInvoice',
      currency: 'GBP',
    };
    fs.writeFileSync(file, [columns.join(','), row(good), row({ ...good, accountId: 'ACC-RD-CLI-2', billingCycleDay: '0' }), ''].join('\n'));

    const first = await importCommand('accounts', file);
    expect(first.code, first.stderr).toBe(1); // one row refused
    expect(first.report.counts).toEqual({ rows: 2, created: 1, updated: 0, unchanged: 0, rejected: 1 });
    expect(first.report.rejected).toEqual([{ line: 3, key: 'ACC-RD-CLI-2', reason: expect.stringMatching(/billingCycleDay/) }]);
    expect(first.stderr).toMatch(/line 3 \(ACC-RD-CLI-2\): billingCycleDay/);
    const stored = await sys.call('GET', '/api/v1/accounts/ACC-RD-CLI-1', { role: 'admin' });
    expect(stored.body).toMatchObject({
      name: 'Frank Import',
      billingAddress: { lines: ['Unit 7', 'Mill Lane'] },
      defaultDelivery: { name: 'Frank Import', email: 'frank@example.com', address: { city: 'Sheffield' } },
    });

    const second = await importCommand('accounts', file);
    expect(second.report.counts).toEqual({ rows: 2, created: 0, updated: 0, unchanged: 1, rejected: 1 });

    fs.writeFileSync(file, [columns.join(','), row(good), ''].join('\n'));
    const clean = await importCommand('accounts', file);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.report.counts).toEqual({ rows: 1, created: 0, updated: 0, unchanged: 1, rejected: 0 });

    const usage = await importCommand('prices', file);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run import -- products\|accounts\|blocklist FILE/);
  });
});
