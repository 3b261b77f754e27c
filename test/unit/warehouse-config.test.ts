// Per-warehouse exchange configuration (WAREHOUSES_FILE): defaults, secret files, and start-up
// errors that name the warehouse and the field; the HTTP sales order transport's headers.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SalesOrderRequest } from '../../domain/types';
import { ConfigError, loadConfig } from '../../infra/config';
import { parseWarehouseExchanges } from '../../infra/warehouse-config';
import {
  HttpWarehouseTransport,
  OutboxFolderTransport,
  PerWarehouseTransport,
  WarehouseRejectedError,
  warehouseTransportFor,
} from '../../infra/warehouse-transport';

const FP = `SHA256:${'a'.repeat(43)}`;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warehouses-'));
  fs.mkdirSync(path.join(dir, 'secrets'));
  fs.writeFileSync(path.join(dir, 'secrets/key'), '-----BEGIN OPENSSH PRIVATE KEY-----\n…\n');
  fs.writeFileSync(path.join(dir, 'secrets/token'), 'Bearer north-token\n');
  fs.writeFileSync(path.join(dir, 'secrets/empty'), '');
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** loadConfig with this warehouses file (YAML text, or an object written as JSON). */
function configWith(content: string | object, name = typeof content === 'string' ? 'warehouses.yaml' : 'warehouses.json') {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return loadConfig({ NODE_ENV: 'test', DATA_DIR: dir, WAREHOUSES_FILE: file });
}

const sftp = { host: 'sftp.example.com', username: 'operator', privateKeyFile: 'secrets/key', hostKeyFingerprint: FP };
const sftpBoth = { sftp, salesOrders: { transport: 'sftp', path: '/out' }, responses: { transport: 'sftp', path: '/in', processedPath: '/in/done' } };

describe('warehouse exchange configuration', () => {
  it('without WAREHOUSES_FILE every warehouse uses the local folders (npm start and the tests as before)', () => {
    const c = loadConfig({ NODE_ENV: 'test' });
    expect(c.warehouses.exchanges).toEqual({
      'WH-NORTH': { salesOrders: { transport: 'folder' }, responses: { transport: 'folder' } },
      'WH-SOUTH': { salesOrders: { transport: 'folder' }, responses: { transport: 'folder' } },
    });
    expect(warehouseTransportFor(c)).toBeInstanceOf(OutboxFolderTransport);
  });

  it('reads YAML and JSON, fills the defaults, resolves secret files from the file’s folder, and leaves unnamed warehouses on folders', () => {
    for (const content of [
      `warehouses:\n  WH-NORTH:\n    sftp:\n      host: sftp.example.com\n      username: operator\n      privateKeyFile: secrets/key\n      hostKeyFingerprint: "${FP}"\n    salesOrders: { transport: sftp, path: /out }\n    responses: { transport: sftp, path: /in, processedPath: /in/done }\n`,
      { warehouses: { 'WH-NORTH': sftpBoth } },
    ]) {
      const c = configWith(content);
      expect(c.warehouses.exchanges['WH-NORTH']).toEqual({
        sftp: {
          host: 'sftp.example.com',
          port: 22,
          username: 'operator',
          privateKeyFile: path.join(dir, 'secrets/key'),
          hostKeyFingerprint: [FP],
          connectTimeoutMs: 10_000,
          timeoutMs: 30_000,
        },
        salesOrders: { transport: 'sftp', path: '/out' },
        responses: { transport: 'sftp', path: '/in', processedPath: '/in/done', pollMs: 30_000 },
      });
      expect(c.warehouses.exchanges['WH-SOUTH']).toEqual({ salesOrders: { transport: 'folder' }, responses: { transport: 'folder' } });
      const transport = warehouseTransportFor(c);
      expect(transport).toBeInstanceOf(PerWarehouseTransport);
      expect([transport.nameFor!('WH-NORTH'), transport.nameFor!('WH-SOUTH')]).toEqual(['sftp', 'outbox-folder']);
    }
  });

  it('accepts several host keys (while the warehouse rotates its key) and HTTP for sales orders with an auth header from a secret file', () => {
    const c = configWith({
      warehouses: {
        'WH-NORTH': {
          sftp: { ...sftp, hostKeyFingerprint: [FP, `SHA256:${'b'.repeat(43)}`] },
          responses: { transport: 'sftp', path: '/in', processedPath: '/done' },
        },
        'WH-SOUTH': {
          salesOrders: { transport: 'http', url: 'https://3pl.example.com/orders', authHeaderFile: 'secrets/token' },
          responses: { transport: 'http' },
        },
      },
    });
    expect(c.warehouses.exchanges['WH-NORTH'].sftp!.hostKeyFingerprint).toHaveLength(2);
    expect(c.warehouses.exchanges['WH-NORTH'].salesOrders).toEqual({ transport: 'folder' });
    expect(c.warehouses.exchanges['WH-SOUTH']).toEqual({
      salesOrders: {
        transport: 'http',
        url: 'https://3pl.example.com/orders',
        authHeaderName: 'authorization',
        authHeaderFile: path.join(dir, 'secrets/token'),
        timeoutMs: 10_000,
      },
      responses: { transport: 'http' },
    });
    expect(warehouseTransportFor(c).nameFor!('WH-SOUTH')).toBe('http');
  });

  it.each([
    ['a missing host key', { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, hostKeyFingerprint: undefined } } }, /warehouses\.WH-NORTH\.sftp\.hostKeyFingerprint/],
    [
      'a host key that is not a SHA256 fingerprint',
      { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, hostKeyFingerprint: 'MD5:aa:bb' } } },
      /WH-NORTH\.sftp\.hostKeyFingerprint: must be an OpenSSH SHA256/,
    ],
    [
      'no credentials',
      { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, privateKeyFile: undefined } } },
      /WH-NORTH\.sftp\.privateKeyFile: give privateKeyFile or passwordFile/,
    ],
    [
      'a secret file that is not there',
      { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, privateKeyFile: 'secrets/nope' } } },
      /warehouses\.WH-NORTH\.sftp\.privateKeyFile: cannot read .*secrets\/nope \(ENOENT\)/,
    ],
    [
      'an empty secret file',
      { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, passwordFile: 'secrets/empty', privateKeyFile: undefined } } },
      /WH-NORTH\.sftp\.passwordFile: .*empty/,
    ],
    [
      'an sftp transport without a connection',
      { 'WH-SOUTH': { salesOrders: { transport: 'sftp', path: '/out' } } },
      /warehouses\.WH-SOUTH\.sftp: the sftp connection .* is required/,
    ],
    ['an unknown transport', { 'WH-NORTH': { salesOrders: { transport: 'ftp' } } }, /warehouses\.WH-NORTH\.salesOrders\.transport/],
    [
      'a relative remote path',
      { 'WH-NORTH': { ...sftpBoth, salesOrders: { transport: 'sftp', path: 'out' } } },
      /WH-NORTH\.salesOrders\.path: must be an absolute remote path/,
    ],
    [
      'processed = inbox',
      { 'WH-NORTH': { ...sftpBoth, responses: { transport: 'sftp', path: '/in', processedPath: '/in' } } },
      /WH-NORTH\.responses\.processedPath: must differ/,
    ],
    ['a misspelt field', { 'WH-NORTH': { ...sftpBoth, sftp: { ...sftp, hostname: 'x' } } }, /WH-NORTH\.sftp: Unrecognized key: "hostname"/],
    ['a warehouse not in WAREHOUSES', { 'WH-EAST': {} }, /warehouses\.WH-EAST: not one of WAREHOUSES \(WH-NORTH, WH-SOUTH\)/],
  ])('refuses to start on %s, naming the warehouse and the field', (_what, warehouses, message) => {
    expect(() => configWith({ warehouses })).toThrow(ConfigError);
    expect(() => configWith({ warehouses })).toThrow(message);
  });

  it("in production sends sales orders over https only (they carry customers' names, addresses and an auth header)", () => {
    const file = path.join(dir, 'plain-http.json');
    const http = (url: string) => ({ warehouses: { 'WH-SOUTH': { salesOrders: { transport: 'http', url }, responses: { transport: 'http' } } } });
    const production = {
      NODE_ENV: 'production',
      TEMPORAL_ADDRESS: 't:7233',
      TEMPORAL_PAYLOAD_KEYS_FILE: '/k',
      MONGODB_URI: 'mongodb://m/x',
      OIDC_ISSUER: 'https://login.example.com',
      OIDC_AUDIENCE: 'hardware-orders',
      DATA_DIR: dir,
      WAREHOUSES_FILE: file,
    };
    fs.writeFileSync(file, JSON.stringify(http('http://3pl.example.com/orders')));
    expect(() => loadConfig(production)).toThrow(/warehouses\.WH-SOUTH\.salesOrders\.url: NODE_ENV=production sends sales orders over https only/);
    expect(loadConfig({ ...production, NODE_ENV: 'test' }).warehouses.exchanges['WH-SOUTH'].salesOrders).toMatchObject({
      url: 'http://3pl.example.com/orders',
    });
    fs.writeFileSync(file, JSON.stringify(http('https://3pl.example.com/orders')));
    expect(loadConfig(production).warehouses.exchanges['WH-SOUTH'].salesOrders).toMatchObject({ url: 'https://3pl.example.com/orders' });
  });

  it('refuses a file that cannot be read or parsed, naming it', () => {
    expect(() => loadConfig({ WAREHOUSES_FILE: path.join(dir, 'missing.yaml') })).toThrow(/WAREHOUSES_FILE .*missing\.yaml: cannot be read \(ENOENT\)/);
    expect(() => configWith('warehouses: [\n', 'broken.yaml')).toThrow(/broken\.yaml: not valid YAML or JSON/);
  });

  it('the SFTP example in docs/operations.md is a valid configuration', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/operations.md'), 'utf8');
    const example = /```yaml\n(warehouses:[\s\S]*?)```/.exec(doc)?.[1];
    expect(example).toBeDefined();
    const parsed = parseWarehouseExchanges(example!, {
      where: 'docs/operations.md',
      baseDir: '/config',
      warehouseIds: ['WH-NORTH', 'WH-SOUTH'],
      checkSecrets: false,
    });
    expect(parsed['WH-NORTH']).toMatchObject({
      salesOrders: { transport: 'sftp' },
      responses: { transport: 'sftp' },
      sftp: { privateKeyFile: expect.stringMatching(/^\/run\/secrets\//) },
    });
  });
});

describe('HTTP sales order transport', () => {
  it('sends the auth header read from its secret file and the file id as idempotency key; a 4xx is a refusal', async () => {
    const seen: http.IncomingHttpHeaders[] = [];
    let status = 201;
    const server = http.createServer((req, res) => {
      seen.push(req.headers);
      req.resume().on('end', () => res.writeHead(status).end(status === 201 ? '{}' : '{"error":"unknown SKU"}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/orders`;
      const transport = new HttpWarehouseTransport(() => ({
        url,
        timeoutMs: 5000,
        authHeaderName: 'X-Api-Key',
        authHeaderFile: path.join(dir, 'secrets/token'),
      }));
      const full = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/sales-order-request.golden.json'), 'utf8')) as SalesOrderRequest;
      expect(await transport.send(full)).toEqual({ location: `${url}#${full.fileId}` });
      expect(seen[0]).toMatchObject({ 'x-api-key': 'Bearer north-token', 'idempotency-key': full.fileId, 'content-type': 'application/json' });
      status = 422;
      await expect(transport.send(full)).rejects.toThrow(WarehouseRejectedError);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
