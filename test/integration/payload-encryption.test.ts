// Customer data in Temporal is sealed: the raw history, read with Temporal's own CLI, holds none of
// an order's delivery details; through the API's codec endpoint (ops only, the Temporal UI's origin
// only) it opens; and a history sealed under an older key still replays after a key rotation.
import { serve, type ServerType } from '@hono/node-server';
import { Worker } from '@temporalio/worker';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ensureTools } from '../../infra/dev-stack';
import { ENCRYPTED_ENCODING, temporalDataConverter } from '../../infra/payload-codec';
import { orderWorkflowId } from '../../workflows/messages';
import { addLine, createOrder, generate, waitForStatus } from '../support/orders';
import { startSystem, TOKENS, type TestSystem } from '../support/system';

const run = promisify(execFile);

const newKey = () => randomBytes(32).toString('base64');
function writeKeyFile(dir: string, name: string, current: string, keys: Record<string, string>): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, JSON.stringify({ current, keys }), { mode: 0o600 });
  return file;
}

const customer = {
  name: 'Zelda Quinnfather',
  phone: '+44 7700 900417',
  email: 'zelda.quinnfather@example.net',
  address: { lines: ['17 Marigold Crescent'], city: 'Leeds', postcode: 'LS6 4QX', country: 'GB' },
};
const personalData = [customer.name, customer.phone, customer.email, customer.address.lines[0], customer.address.postcode];

/** Every payload in a JSON history, with where it is and its encoding (metadata values are base64). */
function payloadsIn(node: unknown, at = ''): { path: string; encoding: string; text: string }[] {
  if (Array.isArray(node)) return node.flatMap((v, i) => payloadsIn(v, `${at}[${i}]`));
  if (!node || typeof node !== 'object') return [];
  const o = node as Record<string, unknown>;
  const meta = o.metadata as Record<string, string> | undefined;
  const here =
    meta && typeof meta.encoding === 'string'
      ? [{ path: at, encoding: Buffer.from(meta.encoding, 'base64').toString(), text: Buffer.from(String(o.data ?? ''), 'base64').toString() }]
      : [];
  return [...here, ...Object.entries(o).flatMap(([k, v]) => payloadsIn(v, `${at}.${k}`))];
}

let sys: TestSystem;
let http: ServerType;
let apiUrl: string;
const keyDir = path.join(inject('tmpRoot'), `keys-${randomBytes(3).toString('hex')}`);
const oldKey = newKey();

beforeAll(async () => {
  fs.mkdirSync(keyDir, { recursive: true });
  sys = await startSystem({ env: { TEMPORAL_PAYLOAD_KEYS_FILE: writeKeyFile(keyDir, 'before.json', '2026-05', { '2026-05': oldKey }) } });
  http = serve({ fetch: sys.api.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => http.once('listening', resolve));
  apiUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
});
afterAll(async () => {
  http?.close();
  await sys?.stop();
});

const cli = async (...args: string[]) => {
  const { stdout } = await run(ensureTools().temporal, [...args, '--address', sys.config.temporal.address, '--namespace', sys.config.temporal.namespace], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
};

describe('customer data sealed in Temporal', () => {
  let orderId: string;

  it('the raw history holds no delivery detail; with the codec endpoint it opens', async () => {
    orderId = (await createOrder(sys, 'ACC-1001', { delivery: customer })).orderId;
    await addLine(sys, orderId, 'HS-APL-IP16-128');
    await generate(sys, orderId);
    await waitForStatus(sys, orderId, 'AwaitingDispatch');
    await sys.simulator.respond();
    await waitForStatus(sys, orderId, 'Complete');
    await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).result();

    const raw = await cli('workflow', 'show', '--workflow-id', orderWorkflowId(orderId), '--output', 'json');
    for (const value of personalData) expect(raw, value).not.toContain(value);
    // Every payload the project wrote is sealed. Plain are only what Temporal must read itself: the
    // search attributes (indexed) and Core's local-activity markers (sequence number, type, times).
    const payloads = payloadsIn(JSON.parse(raw));
    const plain = payloads.filter((p) => p.encoding !== ENCRYPTED_ENCODING).map((p) => p.path);
    expect(plain.filter((p) => !/\.searchAttributes\.indexedFields\.|markerRecordedEventAttributes\.details\.data\.payloads/.test(p))).toEqual([]);
    expect(payloads.length - plain.length).toBeGreaterThan(10);
    // The search attributes and the summary carry no personal data either.
    const described = await cli('workflow', 'describe', '--workflow-id', orderWorkflowId(orderId), '--output', 'json');
    for (const value of personalData) expect(described, value).not.toContain(value);

    const decoded = await cli(
      'workflow',
      'show',
      '--workflow-id',
      orderWorkflowId(orderId),
      '--output',
      'json',
      '--codec-endpoint',
      `${apiUrl}/api/v1/codec`,
      '--codec-auth',
      `Bearer ${TOKENS.ops}`,
    );
    // Decoded, the payloads are plain JSON again (their data base64-encoded in the CLI's output).
    const opened = payloadsIn(JSON.parse(decoded));
    expect(opened.filter((p) => p.encoding === ENCRYPTED_ENCODING)).toEqual([]);
    const texts = opened.map((p) => p.text).join('\n');
    for (const value of [customer.name, customer.address.lines[0], customer.address.postcode]) expect(texts, value).toContain(value);
  });

  it('the codec endpoint is for ops, and for browsers only at the Temporal UI', async () => {
    const payloads = { payloads: [{ metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from('"x"').toString('base64') }] };
    const post = (op: string, headers: Record<string, string>) =>
      fetch(`${apiUrl}/api/v1/codec/${op}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(payloads) });
    expect((await post('decode', {})).status).toBe(401);
    expect((await post('decode', { authorization: `Bearer ${TOKENS.agent}` })).status).toBe(403);
    const sealed = await post('encode', { authorization: `Bearer ${TOKENS.ops}` });
    expect(sealed.status).toBe(200);
    const opened = await fetch(`${apiUrl}/api/v1/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKENS.ops}` },
      body: JSON.stringify(await sealed.json()),
    });
    expect(await opened.json()).toEqual(payloads);

    const uiOrigin = new URL(sys.config.temporal.uiUrl).origin;
    const fromUi = await post('decode', { authorization: `Bearer ${TOKENS.ops}`, origin: uiOrigin });
    expect(fromUi.status).toBe(200);
    expect(fromUi.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const preflight = await fetch(`${apiUrl}/api/v1/codec/decode`, {
      method: 'OPTIONS',
      headers: { origin: uiOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    const elsewhere = await post('decode', { authorization: `Bearer ${TOKENS.ops}`, origin: 'https://attacker.example' });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a history sealed under the old key replays after a rotation, and not without that key', async () => {
    const history = await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).fetchHistory();
    const replay = (keysFile: string) =>
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: temporalDataConverter({ temporal: { payloadKeysFile: keysFile } }) },
        history,
      );
    const rotated = writeKeyFile(keyDir, 'rotated.json', '2026-11', { '2026-11': newKey(), '2026-05': oldKey });
    await expect(replay(rotated)).resolves.toBeUndefined();
    const oldKeyDropped = writeKeyFile(keyDir, 'dropped.json', '2026-11', { '2026-11': newKey() });
    await expect(replay(oldKeyDropped)).rejects.toThrow();
  });
});
