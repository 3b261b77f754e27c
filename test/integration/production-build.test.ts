// The production build (`npm run build`, what the Dockerfile runs): every compiled process starts
// with plain `node` on its dist/ file, against the test run's Temporal and FerretDB, and one order
// goes from the compiled API through the compiled worker (prebuilt workflow bundle), warehouse
// simulator and adaptor to Complete.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectDb } from '../../infra/db';
import { freePort } from '../../infra/dev-stack';
import { readyLine } from '../../infra/log';
import { seedDemoData } from '../../infra/seed';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags';
import { build } from '../../scripts/build';
import { eventually, TOKENS } from '../support/system';

const root = path.resolve(import.meta.dirname, '../..');
const id = randomBytes(4).toString('hex');
const out = path.join(inject('tmpRoot'), `build-${id}`, 'dist');
const children: ChildProcess[] = [];
let env: NodeJS.ProcessEnv;
let api: string;

/** Starts `node <flags> dist/<file>` and waits for its line that says it is up. */
async function start(file: string, ready: RegExp, flags: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...flags, path.join(out, file)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start:\n${output}`)), 60_000);
    const read = (d: Buffer) => {
      output += d.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}):\n${output}`)));
  });
  return child;
}

beforeAll(async () => {
  await build(out);
  // Where the image has /app/node_modules beside /app/dist.
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(out, '..', 'node_modules'));
  const [port, stockPort, makerPort] = [await freePort(), await freePort(), await freePort()];
  const mongodbUri = `mongodb://${inject('mongoHost')}/t_build_${id}`;
  const db = await connectDb(mongodbUri);
  await seedDemoData(db);
  await db.close();
  api = `http://127.0.0.1:${port}`;
  env = {
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `build-${id}`,
    MONGODB_URI: mongodbUri,
    DATA_DIR: path.join(out, '..', 'data'),
    PORT: String(port),
    HOST: '127.0.0.1',
    WAREHOUSE_SIMULATOR_PORT: String(stockPort),
    WAREHOUSE_STOCK_URL: `http://127.0.0.1:${stockPort}`,
    MANUFACTURER_SIMULATOR_PORT: String(makerPort),
    MANUFACTURER_API_URL: `http://127.0.0.1:${makerPort}`,
    ADAPTOR_POLL_MS: '200',
  };
}, 300_000);

afterAll(async () => {
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((resolve) => (c.once('exit', resolve), c.kill('SIGTERM'))))));
});

const call = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(`${api}${url}`, {
    method,
    headers: { authorization: `Bearer ${TOKENS.agent}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text()) as any };
};

describe('npm run build', () => {
  it('compiles every process to JavaScript beside the contracts, the static files and the workflow bundle', () => {
    for (const file of [
      'api/main.js',
      'worker/main.js',
      'adaptor/main.js',
      'simulators/warehouse-main.js',
      'simulators/manufacturer-main.js',
      'infra/reference-import-main.js',
      'workflow-bundle.js',
    ]) {
      expect(fs.existsSync(path.join(out, file)), file).toBe(true);
    }
    expect(fs.readdirSync(path.join(out, 'contracts'))).toContain('dispatch-batch.v1.schema.json');
    expect(fs.readFileSync(path.join(out, 'api/main.js'), 'utf8')).toMatch(/from "\.\.\/infra\/config\.js"/);
  });

  it('runs every process with plain node and takes an order to Complete', async () => {
    await start('simulators/warehouse-main.js', readyLine('warehouse-simulator'));
    await start('simulators/manufacturer-main.js', readyLine('manufacturer-simulator'));
    const worker = await start('worker/main.js', readyLine('worker'), WORKER_NODE_FLAGS);
    await start('api/main.js', readyLine('api'));
    await start('adaptor/main.js', readyLine('adaptor'));

    expect((await call('GET', '/openapi.json')).status).toBe(200);
    expect((await call('GET', '/docs')).status).toBe(200);
    const created = await call('POST', '/api/v1/accounts/ACC-1001/orders');
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const orderId: string = created.body.orderId;
    expect((await call('POST', `/api/v1/orders/${orderId}/lines`, { sku: 'HS-APL-IP16-128', quantity: 1 })).status).toBeLessThan(300);
    expect((await call('GET', `/api/v1/orders/${orderId}/stock-check`)).status).toBe(200);
    expect((await call('POST', `/api/v1/orders/${orderId}/generate`)).status).toBeLessThan(300);
    const done = await eventually(
      async () => {
        const o = await call('GET', `/api/v1/orders/${orderId}`);
        return o.body.status === 'Complete' && o.body;
      },
      `order ${orderId} Complete`,
      120_000,
    );
    expect(done.charges).toHaveLength(1);
    expect(done.invoiceNumber).toBeTruthy();
    expect(worker.exitCode).toBeNull();
  });
});
