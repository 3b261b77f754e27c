// A warehouse reached over SFTP, against a real OpenSSH server (test/support/sshd.ts): WH-NORTH's
// sales orders are uploaded to its server and its response files polled from there, as
// WAREHOUSES_FILE configures (WH-SOUTH keeps the local folders). The warehouse simulator plays the
// 3PL on the server's side of the files. The server is killed in the middle of an upload and of a
// download, and between storing a response file and moving it away; nothing is lost or applied twice.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { watchInboxes, type WatchHandle } from '../../adaptor/watcher';
import { pollRemoteInbox, type RemoteInboxStep } from '../../adaptor/remote-inbox';
import { salesOrderFileName } from '../../domain/sales-order';
import type { SalesOrderRequest } from '../../domain/types';
import { loadConfig, warehouseFolders } from '../../infra/config';
import { validateSalesOrderRequest } from '../../infra/contracts';
import { HostKeyMismatchError } from '../../infra/sftp';
import {
  SftpWarehouseTransport,
  WarehouseRejectedError,
  warehouseTransportFor,
  type SftpUploadStep,
  type WarehouseTransport,
} from '../../infra/warehouse-transport';
import { getOrderQuery, orderWorkflowId } from '../../workflows/messages';
import { ordersAwaitingDispatch, shippedRows, startGeneratedOrders, waitForStatus, type ResponseRow } from '../support/dispatch-fixtures';
import { formatWarehouseResponseCsv } from '../../domain/warehouse-response-csv';
import { openedFailureMessage } from '../support/replay';
import { fingerprintOf, keygen, startSshd, type TestSshd } from '../support/sshd';
import { eventually, startSystem, type TestSystem } from '../support/system';

let sshd: TestSshd;
let sys: TestSystem;
let adaptor: WatchHandle;
let configDir: string;
/** The 3PL's folders on its server (the simulator reads and writes them there). */
let remote: { outbox: string; inbox: string; processed: string; received: string };
let uploadStep: ((step: SftpUploadStep) => Promise<void>) | undefined;
let remoteStep: ((step: RemoteInboxStep, name: string) => Promise<void>) | undefined;
/** The worker's transport: the configured one, swapped for one with a wrong host key in one test. */
const transport: WarehouseTransport & { inner?: WarehouseTransport } = {
  name: 'test',
  nameFor: (id) => transport.inner?.nameFor?.(id) ?? transport.inner!.name,
  send: (request) => transport.inner!.send(request),
};
const SPEC = { accountId: 'ACC-1001', lines: [{ sku: 'HS-APL-IP16-128', quantity: 2 }] };
const started = Date.now();
const timings: Record<string, number> = {};

/** Runs `fn` the first time the step comes, and never again. */
function once<S>(wanted: S, fn: () => Promise<void>): (step: S) => Promise<void> {
  let done = false;
  return async (step) => {
    if (done || step !== wanted) return;
    done = true;
    await fn();
  };
}

function warehousesYaml(fingerprint: string): string {
  return [
    'warehouses:',
    '  WH-NORTH:',
    '    sftp:',
    `      host: ${sshd.host}`,
    `      port: ${sshd.port}`,
    `      username: ${sshd.username}`,
    '      privateKeyFile: secrets/wh-north-sftp-key # relative: from this file',
    `      hostKeyFingerprint: "${fingerprint}"`,
    '      connectTimeoutMs: 5000',
    '      timeoutMs: 10000',
    '    salesOrders:',
    '      transport: sftp',
    `      path: ${remote.outbox}`,
    '    responses:',
    '      transport: sftp',
    `      path: ${remote.inbox}`,
    `      processedPath: ${remote.processed}`,
    '      pollMs: 500',
    '',
  ].join('\n');
}

const remoteFiles = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);
/** The dispatch batch stored for a response file (its id is the file's content hash), or null. */
const batchOf = (file: string) => sys.db.models.DispatchBatch.findOne({ _id: createHash('sha256').update(fs.readFileSync(file)).digest('hex') }).lean();

beforeAll(async () => {
  sshd = await startSshd(inject('tmpRoot'));
  const w = warehouseFolders(sshd.root, 'WH-NORTH');
  remote = { outbox: w.outbox, inbox: w.inbox, processed: path.join(w.root, 'processed'), received: path.join(w.root, 'received') };
  for (const dir of [remote.outbox, remote.inbox]) fs.mkdirSync(dir, { recursive: true });
  configDir = fs.mkdtempSync(path.join(inject('tmpRoot'), 'warehouses-config-'));
  fs.mkdirSync(path.join(configDir, 'secrets'));
  fs.copyFileSync(sshd.clientKeyFile, path.join(configDir, 'secrets/wh-north-sftp-key'));
  fs.writeFileSync(path.join(configDir, 'warehouses.yaml'), warehousesYaml(sshd.hostKeyFingerprint));
  sys = await startSystem({
    env: { WAREHOUSES_FILE: path.join(configDir, 'warehouses.yaml'), FRAUD_VELOCITY_LIMIT: '1000' },
    // The 3PL: takes sales orders from its server's outbox, answers into its server's inbox.
    simulator: { dataDir: sshd.root },
    overrides: { transport },
  });
  transport.inner = warehouseTransportFor(sys.config, (step) => uploadStep?.(step) ?? Promise.resolve());
  // The adaptor as startSystem makes it, with the steps of taking a remote file observable.
  await sys.adaptor.stop();
  adaptor = watchInboxes({ config: sys.config, db: sys.db, temporal: sys.temporal }, sys.config.warehouses.ids, sys.config.adaptorPollMs, {
    onRemoteStep: (_id, step, name) => remoteStep?.(step, name) ?? Promise.resolve(),
  });
  timings.setup = Date.now() - started;
}, 120_000);

afterAll(async () => {
  await adaptor?.stop();
  await sys?.stop();
  await sshd?.stop();
  console.log(`warehouse-sftp timings (ms): ${JSON.stringify({ ...timings, total: Date.now() - started })}`);
});

describe('a warehouse over SFTP (real OpenSSH server)', () => {
  let journey: { orderId: string; fileName: string };

  it('reads the warehouse configuration: WH-NORTH over SFTP both ways, WH-SOUTH on the local folders', () => {
    const { exchanges } = sys.config.warehouses;
    expect(exchanges['WH-NORTH']).toMatchObject({
      salesOrders: { transport: 'sftp', path: remote.outbox },
      responses: { transport: 'sftp', path: remote.inbox, processedPath: remote.processed, pollMs: 500 },
      sftp: { privateKeyFile: path.join(configDir, 'secrets/wh-north-sftp-key'), hostKeyFingerprint: [sshd.hostKeyFingerprint], port: sshd.port },
    });
    expect(exchanges['WH-SOUTH']).toEqual({ salesOrders: { transport: 'folder' }, responses: { transport: 'folder' } });
    expect(transport.nameFor!('WH-NORTH')).toBe('sftp');
    expect(transport.nameFor!('WH-SOUTH')).toBe('outbox-folder');
  });

  it('an order generated through the real workflow lands as its sales order file in the remote outbox', async () => {
    const t0 = Date.now();
    const [order] = await ordersAwaitingDispatch(sys, 1, SPEC);
    expect(order.subOrders.map((s) => s.warehouseId)).toEqual(['WH-NORTH']);
    const record = await sys.db.models.SalesOrder.findOne({ _id: `${order.subOrders[0].subOrderNumber}-new` }).lean();
    expect(record).toMatchObject({ transport: 'sftp', sentAt: expect.any(String) });
    const fileName = salesOrderFileName(record!.request as SalesOrderRequest);
    expect(remoteFiles(remote.outbox)).toEqual([fileName]); // no temporary file left beside it
    const sent = JSON.parse(fs.readFileSync(path.join(remote.outbox, fileName), 'utf8')) as SalesOrderRequest;
    expect(validateSalesOrderRequest(sent)).toEqual({ ok: true });
    expect(sent).toMatchObject({ depositorOrderNumber: order.orderId, warehouseId: 'WH-NORTH', purpose: 'new' });
    expect(sent).toEqual(record!.request);
    // Nothing went to the local outbox of the warehouse that is on SFTP.
    expect(remoteFiles(warehouseFolders(sys.config.dataDir, 'WH-NORTH').outbox)).toEqual([]);
    journey = { orderId: order.orderId, fileName };
    timings.upload = Date.now() - t0;
  });

  it('a response file the warehouse puts in its remote inbox is polled, processed (the order Completes) and moved to processed', async () => {
    const t0 = Date.now();
    const [response] = await sys.simulator.respond(); // takes the file from the remote outbox, answers into the remote inbox
    expect(remoteFiles(remote.received)).toContain(journey.fileName);
    const name = path.basename(response);
    expect(remoteFiles(remote.inbox)).toEqual([name]);
    // No sweep called: the adaptor's own polling finds it.
    const [done] = await waitForStatus(sys, [journey.orderId], 'Complete', 60_000);
    expect(done.subOrders[0].units).toHaveLength(2);
    await eventually(async () => remoteFiles(remote.processed).includes(name), 'the remote file moved to processed', 10_000);
    expect(remoteFiles(remote.inbox)).toEqual([]);
    const archive = remoteFiles(warehouseFolders(sys.config.dataDir, 'WH-NORTH').archive).filter((n) => n.endsWith(`-${name}.report.json`));
    expect(archive).toHaveLength(1);
    expect(await sys.db.models.Charge.countDocuments({ orderId: journey.orderId })).toBe(1);
    timings.response = Date.now() - t0;
  });

  it('sshd killed mid-upload: after the restart the sales order file is in the outbox exactly once and the order is applied once', async () => {
    const t0 = Date.now();
    let killed!: () => void;
    const wasKilled = new Promise<void>((r) => (killed = r));
    // After the temporary file is written, before the rename that publishes it.
    uploadStep = once('uploaded-temporary', async () => {
      await sshd.kill();
      killed();
    });
    const [orderId] = await startGeneratedOrders(sys, 1, SPEC);
    await wasKilled;
    const fileName = `${orderId}-WH-NORTH-new.json`;
    // Only the hidden temporary file reached the server; the warehouse sees nothing yet.
    expect(remoteFiles(remote.outbox).filter((n) => !n.startsWith('.'))).toEqual([]);
    expect(remoteFiles(remote.outbox).filter((n) => n.startsWith(`.${fileName}.`) && n.endsWith('.part'))).toHaveLength(1);
    await sshd.start(); // the activity's retry uploads again
    const [order] = await waitForStatus(sys, [orderId], 'AwaitingDispatch', 60_000);
    expect(order.subOrders[0].subOrderNumber).toBe(`${orderId}-WH-NORTH`);
    expect(remoteFiles(remote.outbox)).toEqual([fileName]); // once, and the interrupted attempt's temporary file removed
    const [response] = await sys.simulator.respond();
    await waitForStatus(sys, [orderId], 'Complete', 60_000);
    await eventually(async () => remoteFiles(remote.processed).includes(path.basename(response)), 'the response moved to processed', 10_000);
    expect(await batchOf(path.join(remote.processed, path.basename(response)))).toMatchObject({ status: 'done' });
    expect(await sys.db.models.Charge.countDocuments({ orderId })).toBe(1);
    expect((await waitForStatus(sys, [orderId], 'Complete'))[0].subOrders[0].units).toHaveLength(2);
    uploadStep = undefined;
    timings.killMidUpload = Date.now() - t0;
  });

  it('sshd killed mid-download, and again between storing a response and moving it: read again, a duplicate, applied once', async () => {
    const t0 = Date.now();
    const [order] = await ordersAwaitingDispatch(sys, 1, SPEC);
    const local = warehouseFolders(sys.config.dataDir, 'WH-NORTH');

    // 1. Killed while the file is downloading: its first bytes are here, the rest is not. The file
    // holds the order's rows and a few hundred rows for orders we do not know (a 3PL's file with
    // other depositors' orders), so it spans several SFTP reads.
    const filler: ResponseRow[] = Array.from({ length: 600 }, (_, i) => ({
      warehouse_id: 'WH-NORTH',
      sub_order_number: `ORD-${String(i).padStart(10, '0')}-WH-NORTH`,
      line_number: 1,
      sku: 'PR-APL-USBC-20W',
      quantity_shipped: 0,
      disposition: 'error',
      error_code: 'PICK_FAILED',
      error_message: `carrier note ${'x'.repeat(150)} ${i}`,
    }));
    const csv = formatWarehouseResponseCsv([...shippedRows(order), ...filler]);
    expect(csv.length).toBeGreaterThan(2 * 64 * 1024);
    let killed!: () => void;
    let wasKilled = new Promise<void>((r) => (killed = r));
    remoteStep = once<RemoteInboxStep>('receiving', async () => {
      await sshd.kill();
      killed();
    });
    const name = 'big-response.csv';
    fs.writeFileSync(path.join(remote.inbox, `.${name}.tmp`), csv);
    fs.renameSync(path.join(remote.inbox, `.${name}.tmp`), path.join(remote.inbox, name));
    await wasKilled;
    await adaptor.sweep(); // the interrupted poll has ended, and one more while the server is down changes nothing
    expect(remoteFiles(remote.inbox)).toEqual([name]);
    expect(remoteFiles(local.processing)).toEqual([]); // no partial download left behind, nothing handed over
    expect(await batchOf(path.join(remote.inbox, name))).toBeNull();

    // 2. Killed after the adaptor stored it, before the remote file was moved to processed.
    wasKilled = new Promise<void>((r) => (killed = r));
    remoteStep = once<RemoteInboxStep>('stored', async () => {
      await sshd.kill();
      killed();
    });
    await sshd.start();
    await wasKilled;
    expect(remoteFiles(remote.inbox)).toEqual([name]); // still there: the next poll reads it again
    const batch = await batchOf(path.join(remote.inbox, name));
    expect(batch).not.toBeNull();

    // 3. Back up: read again, recognised by its content hash, moved away; the order Completes once.
    remoteStep = undefined;
    await sshd.start();
    await eventually(async () => remoteFiles(remote.processed).includes(name), 'the response moved to processed', 20_000);
    expect(remoteFiles(remote.inbox)).toEqual([]);
    await waitForStatus(sys, [order.orderId], 'Complete', 60_000);
    const reports = remoteFiles(local.archive)
      .filter((n) => n.endsWith(`-${name}.report.json`))
      .map((n) => JSON.parse(fs.readFileSync(path.join(local.archive, n), 'utf8')) as { outcome: string; batchId: string });
    expect(reports.map((r) => r.outcome)).toEqual(['accepted', 'duplicate']);
    expect(new Set(reports.map((r) => r.batchId))).toEqual(new Set([batch!._id]));
    expect(await sys.db.models.Charge.countDocuments({ orderId: order.orderId })).toBe(1);
    const [done] = await waitForStatus(sys, [order.orderId], 'Complete');
    expect(done.subOrders[0].units).toHaveLength(2);
    timings.killMidDownload = Date.now() - t0;
  });

  it('never overwrites: the same sales order file again is success, different bytes under its name a refusal', async () => {
    const { request } = (await sys.db.models.SalesOrder.findOne({ _id: journey.fileName.replace(/\.json$/, '') }).lean())!;
    const dir = path.join(sshd.root, 'idempotency');
    fs.mkdirSync(dir);
    const upload = new SftpWarehouseTransport('WH-NORTH', sys.config.warehouses.exchanges['WH-NORTH'].sftp!, dir);
    const first = await upload.send(request as SalesOrderRequest);
    expect(await upload.send(request as SalesOrderRequest)).toEqual(first);
    expect(remoteFiles(dir)).toEqual([journey.fileName]);
    const changed = { ...(request as SalesOrderRequest), generatedAt: new Date(0).toISOString() };
    await expect(upload.send(changed)).rejects.toThrow(WarehouseRejectedError);
    await expect(upload.send(changed)).rejects.toThrow(/already holds a different file .* never overwritten/);
    expect(JSON.parse(fs.readFileSync(path.join(dir, journey.fileName), 'utf8'))).toEqual(request);
    expect(remoteFiles(dir)).toEqual([journey.fileName]);
  });

  it('refuses a server whose host key is not the configured one, with a clear error, and carries on once the key is right', async () => {
    const t0 = Date.now();
    const otherKey = path.join(configDir, 'other_ed25519');
    keygen(otherKey);
    const wrong = fingerprintOf(`${otherKey}.pub`);
    fs.writeFileSync(path.join(configDir, 'wrong.yaml'), warehousesYaml(wrong));
    const wrongConfig = loadConfig({ NODE_ENV: 'test', DATA_DIR: sys.config.dataDir, WAREHOUSES_FILE: path.join(configDir, 'wrong.yaml') });
    const message = new RegExp(
      `presented host key ${sshd.hostKeyFingerprint.replace(/[+/]/g, '\\$&')}, which is not the configured hostKeyFingerprint \\(${wrong.replace(/[+/]/g, '\\$&')}\\); refusing to connect`,
    );

    // Polling an inbox (one the running adaptor does not watch): refused, the file stays where it is.
    const inbox = path.join(sshd.root, 'wrong-key-inbox');
    fs.mkdirSync(inbox);
    fs.writeFileSync(path.join(inbox, 'untouched.csv'), 'warehouse_id\n');
    const poll = pollRemoteInbox({
      warehouseId: 'WH-NORTH',
      dataDir: sys.config.dataDir,
      sftp: wrongConfig.warehouses.exchanges['WH-NORTH'].sftp!,
      responses: { transport: 'sftp', path: inbox, processedPath: path.join(inbox, 'processed'), pollMs: 1000 },
      isDataFile: () => true,
      stopped: () => false,
      handle: () => Promise.reject(new Error('no file may be handed over')),
    });
    await expect(poll).rejects.toThrow(HostKeyMismatchError);
    await expect(poll).rejects.toThrow(message);
    expect(remoteFiles(inbox)).toEqual(['untouched.csv']);

    // Sending a sales order: the order waits (the activity retries, its last failure says why), nothing is uploaded.
    transport.inner = warehouseTransportFor(wrongConfig);
    const [orderId] = await startGeneratedOrders(sys, 1, SPEC);
    const handle = sys.temporal.workflow.getHandle(orderWorkflowId(orderId));
    const failure = await eventually(
      async () => openedFailureMessage((await handle.describe()).raw.pendingActivities?.find((a) => a.lastFailure)?.lastFailure),
      'the send activity to fail',
      30_000,
    );
    expect(failure).toMatch(message);
    expect(remoteFiles(remote.outbox).filter((n) => n.includes(orderId))).toEqual([]);
    // It waits in Awaiting Generation (its read model's first write waits for the send).
    expect((await handle.query(getOrderQuery)).status).toBe('AwaitingGeneration');

    // The operator puts the right key in: the waiting order goes out on its next retry.
    transport.inner = warehouseTransportFor(sys.config);
    await waitForStatus(sys, [orderId], 'AwaitingDispatch', 90_000);
    expect(remoteFiles(remote.outbox)).toContain(`${orderId}-WH-NORTH-new.json`);
    timings.wrongHostKey = Date.now() - t0;
  });
});
