// Temporal's frontend with mutual TLS: the real Temporal server (not the CLI's dev server, which
// has no TLS) from deploy/temporal/mtls-sqlite.yaml.tmpl, on in-memory SQLite, with certificates from a
// throwaway CA. A client without a certificate, or with one from another CA, is refused at the
// handshake; the system wired through infra/temporal-connection.ts with TEMPORAL_TLS_* takes an
// order from create to Complete over it.
import { Connection } from '@temporalio/client';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { TemporalSettings } from '../../infra/config';
import { ensureTools, freePort, type ManagedProcess } from '../../infra/dev-stack';
import { connectTemporalWorker, temporalTlsOptions } from '../../infra/temporal-connection';
import { fillServerTemplate, startTemporalServer } from '../../infra/temporal-server';
import { orderWorkflowId } from '../../workflows/messages';
import { addLine, createOrder, generate, waitForStatus } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/test-ca';

const repoRoot = path.resolve(import.meta.dirname, '../..');

let dir: string;
let ca: TestCa;
let client: IssuedCertificate;
let address: string;
let server: ManagedProcess | undefined;

/** Settings as a process holding `cert` would have them (null: no client certificate). */
const settings = (cert: IssuedCertificate | null): TemporalSettings => ({
  address,
  // The frontend's certificate names localhost and 127.0.0.1; TLS names a server by DNS name (SNI).
  tls: { certFile: cert?.certPath ?? null, keyFile: cert?.keyPath ?? null, caFile: ca.certPath, serverName: 'localhost' },
});

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(inject('tmpRoot'), 'temporal-mtls-'));
  ca = createTestCa(path.join(dir, 'ca'));
  const frontend = ca.issueServer('frontend');
  const systemWorker = ca.issueClient('temporal-system-worker');
  client = ca.issueClient('hardware-orders');
  const ports: Record<string, number> = {};
  for (const name of ['frontend', 'matching', 'history', 'worker']) {
    ports[`${name}Port`] = await freePort();
    ports[`${name}MembershipPort`] = await freePort();
  }
  address = `127.0.0.1:${ports.frontendPort}`;
  const config = fillServerTemplate(fs.readFileSync(path.join(repoRoot, 'deploy/temporal/mtls-sqlite.yaml.tmpl'), 'utf8'), {
    ...ports,
    frontendCertFile: frontend.certPath,
    frontendKeyFile: frontend.keyPath,
    clientCaFile: ca.certPath,
    serverCaFile: ca.certPath,
    systemWorkerCertFile: systemWorker.certPath,
    systemWorkerKeyFile: systemWorker.keyPath,
    dynamicConfigFile: path.join(repoRoot, 'deploy/temporal/dynamicconfig.yaml'),
    authorization: '',
  });
  const t0 = Date.now();
  server = await startTemporalServer({
    binary: ensureTools().temporalServer,
    dir: path.join(dir, 'server'),
    config,
    frontend: settings(client),
    logFile: path.join(dir, 'server.log'),
  });
  console.log(`temporal-mtls: server up and set up in ${Date.now() - t0} ms`);
});

afterAll(async () => {
  await server?.stop();
});

/**
 * Why a client connection with these settings fails its first call (the TLS options exactly as
 * connectTemporalClient builds them; a lazy connection, because Connection.connect reports only
 * "Failed to connect before the deadline" and hides the handshake's alert).
 */
async function clientRefusal(s: TemporalSettings): Promise<string> {
  // No interceptors: without the SDK's retry interceptor the refusal comes at once, not after ~20 s of retries.
  const conn = Connection.lazy({ address: s.address, tls: temporalTlsOptions(s.tls), interceptors: [] });
  try {
    await conn.workflowService.getSystemInfo({});
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  } finally {
    await conn.close();
  }
}

async function workerRefusal(s: TemporalSettings): Promise<string> {
  try {
    await (await connectTemporalWorker(s)).close();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('Temporal frontend with mTLS', () => {
  it("lets a client with a certificate from the clients' CA in", async () => {
    expect(await clientRefusal(settings(client))).toBe('connected');
    expect(await workerRefusal(settings(client))).toBe('connected');
  });

  it('refuses a client without a certificate, at the handshake (client and worker connections)', async () => {
    expect(await clientRefusal(settings(null))).toMatch(/^14 UNAVAILABLE: .*alert certificate required/);
    // The worker's connection (Rust, rustls) sees the alert, or the close right after it when its
    // request loses that race: TLS 1.3 clients finish their side of the handshake before the server
    // has checked their certificate.
    expect(await workerRefusal(settings(null))).toMatch(/tonic::transport::Error\(Transport, .*(CertificateRequired|connection closed)/);
    // Plaintext gets nowhere either.
    expect(await clientRefusal({ address, tls: null })).toMatch(/^14 UNAVAILABLE: /);
  });

  it('refuses a client certificate from another CA', async () => {
    const rogue = createTestCa(path.join(dir, 'rogue-ca'), 'rogue CA').issueClient('hardware-orders');
    expect(await clientRefusal(settings(rogue))).toMatch(/^14 UNAVAILABLE: .*alert unknown ca/);
    expect(await workerRefusal(settings(rogue))).toMatch(/tonic::transport::Error\(Transport, .*(UnknownCA|connection closed)/);
  });

  describe('the system connected through TEMPORAL_TLS_*', () => {
    let sys: TestSystem;
    beforeAll(async () => {
      sys = await startSystem({
        env: {
          TEMPORAL_ADDRESS: address,
          TEMPORAL_TLS_CERT_FILE: client.certPath,
          TEMPORAL_TLS_KEY_FILE: client.keyPath,
          TEMPORAL_TLS_CA_FILE: ca.certPath,
          TEMPORAL_TLS_SERVER_NAME: 'localhost',
        },
      });
    });
    afterAll(async () => {
      await sys?.stop();
    });

    it('takes an order from create to Complete', async () => {
      expect(sys.config.temporal.tls).toEqual(settings(client).tls);
      const { orderId } = await createOrder(sys);
      await addLine(sys, orderId, 'HS-APL-IP16-128');
      await generate(sys, orderId);
      await waitForStatus(sys, orderId, 'AwaitingDispatch');
      await sys.simulator.respond();
      const complete = await waitForStatus(sys, orderId, 'Complete');
      expect(complete.invoiceNumber).toBeTruthy();
      // The workflow ran on the TLS server, and its search attribute (registered over mTLS) is set.
      const desc = await sys.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe();
      expect(desc.status.name).toBe('COMPLETED');
      expect(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'OrderStatus')?.value).toBe('Complete');
    });
  });
});
