// Temporal's frontend with mutual TLS: the real Temporal server (not the CLI's dev server, which
// has no TLS) from deploy/temporal/mtls-sqlite.yaml.tmpl, on in-memory SQLite, with certificates
// from a throwaway CA. A client without a certificate, or with one from another CA, is refused at
// the handshake; the system wired through infra/temporal-connection.ts with TEMPORAL_TLS_* takes an
// order from create to Complete over it. A second server adds Temporal's default JWT authorizer
// (keys from a JWKS the test serves): a certificate holder whose token only reads cannot signal,
// update or terminate an order's workflow.
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { TemporalSettings } from '../../infra/config';
import { ensureTools, freePort, type ManagedProcess } from '../../infra/dev-stack';
import { connectTemporalClient, connectTemporalWorker, temporalTlsOptions } from '../../infra/temporal-connection';
import { fillServerTemplate, startTemporalServer } from '../../infra/temporal-server';
import { orderWorkflowId } from '../../workflows/messages';
import { addLine, createOrder, generate, waitForStatus } from '../support/orders';
import { startSystem, type TestSystem } from '../support/system';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/test-ca';
import { startTestIssuer } from '../support/test-jwks';

const repoRoot = path.resolve(import.meta.dirname, '../..');

let dir: string;
let ca: TestCa;
let client: IssuedCertificate;
let address: string;
const servers: ManagedProcess[] = [];

/** Settings as a process holding `cert` would have them (null: no client certificate). */
const settings = (cert: IssuedCertificate | null, at = address): TemporalSettings => ({
  address: at,
  // The frontend's certificate names localhost and 127.0.0.1; TLS names a server by DNS name (SNI).
  tls: { certFile: cert?.certPath ?? null, keyFile: cert?.keyPath ?? null, caFile: ca.certPath, serverName: 'localhost' },
});

/**
 * The real server from the repository's template with frontend mTLS (certificates from `ca`), on
 * free ports; `authorization` is YAML under `global:` (empty: no authorizer). Returns its address.
 */
async function startMtlsServer(name: string, authorization = '', adminApiKey?: string): Promise<string> {
  const frontend = ca.issueServer(`${name}-frontend`);
  const ports: Record<string, number> = {};
  for (const service of ['frontend', 'internalFrontend', 'matching', 'history', 'worker']) {
    ports[`${service}Port`] = await freePort();
    ports[`${service}MembershipPort`] = await freePort();
  }
  const at = `127.0.0.1:${ports.frontendPort}`;
  const config = fillServerTemplate(fs.readFileSync(path.join(repoRoot, 'deploy/temporal/mtls-sqlite.yaml.tmpl'), 'utf8'), {
    ...ports,
    frontendCertFile: frontend.certPath,
    frontendKeyFile: frontend.keyPath,
    clientCaFile: ca.certPath,
    dynamicConfigFile: path.join(repoRoot, 'deploy/temporal/dynamicconfig.yaml'),
    authorization,
  });
  const t0 = Date.now();
  servers.push(
    await startTemporalServer({
      binary: ensureTools().temporalServer,
      dir: path.join(dir, name),
      config,
      frontend: settings(client, at),
      adminConnection: adminApiKey ? { apiKey: adminApiKey } : {},
      logFile: path.join(dir, `${name}.log`),
    }),
  );
  console.log(`temporal-mtls: ${name} server up and set up in ${Date.now() - t0} ms`);
  return at;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(inject('tmpRoot'), 'temporal-mtls-'));
  ca = createTestCa(path.join(dir, 'ca'));
  client = ca.issueClient('hardware-orders');
  address = await startMtlsServer('mtls');
});

afterAll(async () => {
  await Promise.allSettled(servers.map((s) => s.stop()));
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
    expect(await workerRefusal(settings(rogue))).toMatch(/tonic::transport::Error\(Transport, .*(UnknownCA|connection closed|BrokenPipe)/);
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
      const handle = sys.temporal.workflow.getHandle(orderWorkflowId(orderId));
      await handle.result();
      const desc = await handle.describe();
      expect(desc.status.name).toBe('COMPLETED');
      expect(desc.typedSearchAttributes.getAll().find((p) => p.key.name === 'OrderStatus')?.value).toBe('Complete');
    });
  });
});

// Temporal's default authorizer and JWT claim mapper on top of mTLS: the certificate lets a
// client connect, the token's `permissions` decide what it may do.
describe("Temporal's authorizer with JWTs (over mTLS)", () => {
  let issuer: Awaited<ReturnType<typeof startTestIssuer>>;
  let authAddress: string;
  const workflowId = 'authz-probe';

  /** Our connection settings with the client certificate and TEMPORAL_API_KEY_FILE holding `token` (null: no token). */
  function withToken(token: string | null): TemporalSettings {
    const apiKeyFile = token ? path.join(dir, `token-${randomUUID()}`) : null;
    if (apiKeyFile) fs.writeFileSync(apiKeyFile, `${token}\n`);
    return { ...settings(client, authAddress), apiKeyFile };
  }

  async function clientWith(token: string | null) {
    const connection = await connectTemporalClient(withToken(token));
    return { connection, handle: new Client({ connection }).workflow.getHandle(workflowId) };
  }

  /** 'allowed', or the gRPC status the server answered with (the SDK wraps it as the cause). */
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'allowed',
      (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
    );
  const UNAUTHORIZED = /^7 PERMISSION_DENIED: Request unauthorized/;

  beforeAll(async () => {
    issuer = await startTestIssuer();
    const authorization = [
      '  authorization:',
      '    jwtKeyProvider:',
      `      keySourceURIs: ['${issuer.url}']`,
      '      refreshInterval: 1m',
      '    permissionsClaimName: permissions',
      '    authorizer: default',
      '    claimMapper: default',
    ].join('\n');
    authAddress = await startMtlsServer('authz', authorization, issuer.token('temporal-admin', ['temporal-system:admin']));
    // An order-like workflow to signal and update: started by a writer, on a queue no worker polls.
    const writer = await clientWith(issuer.token('hardware-orders-worker', ['default:write']));
    await new Client({ connection: writer.connection }).workflow.start('orderWorkflow', { taskQueue: 'authz-no-worker', workflowId });
    await writer.connection.close();
  });
  afterAll(async () => {
    await issuer?.stop();
  });

  it('lets a reader look but not signal, update or terminate the workflow (the fraud-review path)', async () => {
    const { connection, handle } = await clientWith(issuer.token('ops-person', ['default:read']));
    try {
      expect((await handle.describe()).status.name).toBe('RUNNING');
      expect(await outcome(handle.signal('dispatchResult', {}))).toMatch(UNAUTHORIZED);
      expect(await outcome(handle.executeUpdate('reviewFraud', { args: [{ decision: 'approve' }] }))).toMatch(UNAUTHORIZED);
      expect(await outcome(handle.terminate('by a reader'))).toMatch(UNAUTHORIZED);
    } finally {
      await connection.close();
    }
  });

  it('refuses a certificate holder without a token everything but the health check, and one with a forged token even that', async () => {
    // Without a token the connection opens (GetSystemInfo is open to all), but the namespace is closed.
    const { connection, handle } = await clientWith(null);
    try {
      expect(await outcome(handle.describe())).toMatch(UNAUTHORIZED);
      expect(await outcome(handle.signal('dispatchResult', {}))).toMatch(UNAUTHORIZED);
    } finally {
      await connection.close();
    }
    // A token signed by another key under the published key id: refused at the first call.
    const forged = issuer.forger()('hardware-orders-worker', ['default:write']);
    expect(await outcome(connectTemporalClient(withToken(forged)))).toMatch(UNAUTHORIZED);
    expect(await workerRefusal(withToken(forged))).toMatch(
      /code: 'The caller does not have permission to execute the specified operation', message: "Request unauthorized."/,
    );
  });

  it('lets a writer signal it (so the refusals above are about the role)', async () => {
    const { connection, handle } = await clientWith(issuer.token('hardware-orders-worker', ['default:write']));
    try {
      expect(await outcome(handle.signal('dispatchResult', {}))).toBe('allowed');
    } finally {
      await connection.close();
    }
  });
});
