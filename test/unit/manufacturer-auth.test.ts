// Manufacturer authentication: the pure parts (token cache, the service account's JWT, token
// endpoint answers, TLS refusals, configuration), then the gateways against the simulator in
// process with each programme's authentication enforced: real HTTPS with a test CA, real tokens.
import { generateKeyPairSync, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../infra/config';
import { freePort } from '../../infra/dev-stack';
import {
  CredentialsRefusedError,
  TokenCache,
  TransientGatewayError,
  buildServiceAccountJwt,
  describeTlsRefusal,
  loadManufacturerCredentials,
  parseServiceAccountKey,
  readTokenAnswer,
} from '../../infra/manufacturer-auth';
import { createManufacturerGateways, type AuditEntry, type GatewayTransaction, type ManufacturerGateways } from '../../infra/manufacturer-gateways';
import { ManufacturerSimulator } from '../../simulators/manufacturer';
import { createTestCa } from '../support/test-ca';

const rsa = () =>
  generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const serviceAccountJson = (privateKey: string, tokenUri: string, email = 'enrol@reseller.iam.gserviceaccount.com') =>
  JSON.stringify({ type: 'service_account', client_email: email, private_key: privateKey, private_key_id: 'k1', token_uri: tokenUri });

describe('TokenCache', () => {
  it('fetches once, reuses the token until shortly before expiry, then fetches again', async () => {
    let now = 1_000_000;
    let n = 0;
    const cache = new TokenCache(
      async () => ({ token: `t${++n}`, expiresAt: now + 3600_000 }),
      () => now,
    );
    expect(await cache.get()).toBe('t1');
    now += 3600_000 - 61_000;
    expect(await cache.get()).toBe('t1');
    now += 2_000; // inside the last minute
    expect(await cache.get()).toBe('t2');
    expect(n).toBe(2);
  });

  it('refreshes a short-lived token at half its life', async () => {
    let now = 0;
    let n = 0;
    const cache = new TokenCache(
      async () => ({ token: `t${++n}`, expiresAt: now + 10_000 }),
      () => now,
    );
    await cache.get();
    now = 4_999;
    expect(await cache.get()).toBe('t1');
    now = 5_000;
    expect(await cache.get()).toBe('t2');
  });

  it('shares one fetch between concurrent callers, and a failed fetch is not cached', async () => {
    let n = 0;
    let fail = true;
    const cache = new TokenCache(async () => {
      n++;
      await new Promise((r) => setTimeout(r, 10));
      if (fail) throw new TransientGatewayError('down');
      return { token: `t${n}`, expiresAt: Date.now() + 3600_000 };
    });
    await expect(Promise.all([cache.get(), cache.get()])).rejects.toThrow('down');
    expect(n).toBe(1);
    fail = false;
    expect(await Promise.all([cache.get(), cache.get(), cache.get()])).toEqual(['t2', 't2', 't2']);
    expect(n).toBe(2);
  });

  it('invalidate drops only the token it names (a newer one stays)', async () => {
    let n = 0;
    const cache = new TokenCache(async () => ({ token: `t${++n}`, expiresAt: Date.now() + 3600_000 }));
    await cache.get();
    cache.invalidate('t1');
    expect(await cache.get()).toBe('t2');
    cache.invalidate('t1'); // a late caller with the old token
    expect(await cache.get()).toBe('t2');
  });
});

describe("the service account's JWT", () => {
  const { publicKey, privateKey } = rsa();
  const key = parseServiceAccountKey(serviceAccountJson(privateKey, 'https://oauth2.example.com/token'));

  it('is RS256, signed by the key, issuer the account, audience the token URI, valid one hour', () => {
    const jwt = buildServiceAccountJwt(key, 'scope-a', 1_700_000_000);
    const [h, c, sig] = jwt.split('.');
    expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
    expect(JSON.parse(Buffer.from(c, 'base64url').toString())).toEqual({
      iss: 'enrol@reseller.iam.gserviceaccount.com',
      scope: 'scope-a',
      aud: 'https://oauth2.example.com/token',
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
    expect(verify('sha256', Buffer.from(`${h}.${c}`), publicKey, Buffer.from(sig, 'base64url'))).toBe(true);
    expect(verify('sha256', Buffer.from(`${h}.${c}`), rsa().publicKey, Buffer.from(sig, 'base64url'))).toBe(false);
    // RSA PKCS#1 v1.5 is deterministic: the same input, the same JWT.
    expect(buildServiceAccountJwt(key, 'scope-a', 1_700_000_000)).toBe(jwt);
  });

  it('refuses a key file without what the grant needs, naming the setting and never the key', () => {
    expect(() => parseServiceAccountKey('{', 'GOOGLE_SERVICE_ACCOUNT_FILE')).toThrow('GOOGLE_SERVICE_ACCOUNT_FILE: not JSON');
    expect(() => parseServiceAccountKey(JSON.stringify({ client_email: 'x', private_key: privateKey }))).toThrow(/missing token_uri/);
    expect(() => parseServiceAccountKey(serviceAccountJson('not a key', 'https://t'))).toThrow(/private_key is not a PEM private key/);
    const ec = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
      publicKeyEncoding: { type: 'spki', format: 'pem' },
    });
    let message = '';
    try {
      parseServiceAccountKey(serviceAccountJson(ec.privateKey, 'https://t'));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/must be an RSA key/);
    expect(message).not.toContain('PRIVATE KEY');
  });
});

describe('token endpoint answers and TLS refusals', () => {
  it('a token with its expiry; 4xx is refused credentials with the endpoint error; 5xx is transient', () => {
    expect(readTokenAnswer('google', 'T', { status: 200, text: '{"access_token":"abc","expires_in":120}' }, 1000)).toEqual({
      token: 'abc',
      expiresAt: 121_000,
    });
    const refused = (() => {
      try {
        readTokenAnswer(
          'samsung',
          'https://knox/token',
          { status: 401, text: '{"error":"invalid_client","error_description":"Client authentication failed."}' },
          0,
        );
      } catch (e) {
        return e;
      }
    })() as CredentialsRefusedError;
    expect(refused).toBeInstanceOf(CredentialsRefusedError);
    expect(refused.reason).toBe('invalid_client');
    expect(refused.message).toBe(
      'Samsung Knox refused our credentials at its token endpoint https://knox/token (HTTP 401 invalid_client: Client authentication failed.)',
    );
    expect(() => readTokenAnswer('google', 'T', { status: 400, text: 'nope' }, 0)).toThrow(CredentialsRefusedError);
    expect(() => readTokenAnswer('google', 'T', { status: 503, text: '' }, 0)).toThrow(TransientGatewayError);
    expect(() => readTokenAnswer('google', 'T', { status: 429, text: '' }, 0)).toThrow(TransientGatewayError);
  });

  it('TLS alerts about our certificate and an untrusted server are refusals; a reset is not', () => {
    expect(describeTlsRefusal({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA' })?.reason).toBe('TLS_ALERT_UNKNOWN_CA');
    expect(describeTlsRefusal({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })?.message).toMatch(/refused our client certificate/);
    expect(describeTlsRefusal({ code: 'SELF_SIGNED_CERT_IN_CHAIN' })?.reason).toBe('SERVER_CERT_SELF_SIGNED_CERT_IN_CHAIN');
    expect(describeTlsRefusal({ code: 'ECONNRESET' })).toBeNull();
    expect(describeTlsRefusal({ code: 'ERR_SSL_TLSV1_ALERT_INTERNAL_ERROR' })).toBeNull();
  });
});

describe('per-programme configuration', () => {
  it("falls back to the programme's folder under MANUFACTURER_API_URL and has no credentials by default", () => {
    const c = loadConfig({ NODE_ENV: 'test', MANUFACTURER_API_URL: 'http://sim:1/' });
    expect(c.enrolment.programmes).toEqual({
      apple: { baseUrl: 'http://sim:1/apple', caFile: null, auth: null },
      google: { baseUrl: 'http://sim:1/google', auth: null },
      samsung: { baseUrl: 'http://sim:1/samsung', auth: null },
    });
  });

  it("reads each programme's URL and credential settings; half a pair or mTLS over http is refused", () => {
    const c = loadConfig({
      NODE_ENV: 'test',
      APPLE_API_URL: 'https://apple.example.com',
      APPLE_CLIENT_CERT_FILE: '/run/secrets/apple.pem',
      APPLE_CLIENT_KEY_FILE: '/run/secrets/apple-key.pem',
      GOOGLE_SERVICE_ACCOUNT_FILE: '/run/secrets/google.json',
      SAMSUNG_API_URL: 'https://knox.example.com',
      SAMSUNG_CLIENT_ID: 'client-1',
      SAMSUNG_CLIENT_SECRET_FILE: '/run/secrets/knox',
    });
    expect(c.enrolment.programmes.apple).toEqual({
      baseUrl: 'https://apple.example.com',
      caFile: null,
      auth: { certFile: '/run/secrets/apple.pem', keyFile: '/run/secrets/apple-key.pem' },
    });
    expect(c.enrolment.programmes.google.auth).toEqual({
      serviceAccountFile: '/run/secrets/google.json',
      scope: 'https://www.googleapis.com/auth/androidworkprovisioning',
    });
    expect(c.enrolment.programmes.samsung).toEqual({
      baseUrl: 'https://knox.example.com',
      auth: { tokenUrl: 'https://knox.example.com/oauth2/token', clientId: 'client-1', clientSecretFile: '/run/secrets/knox' },
    });
    expect(() => loadConfig({ NODE_ENV: 'test', APPLE_CLIENT_CERT_FILE: '/a' })).toThrow('APPLE_CLIENT_CERT_FILE is set but APPLE_CLIENT_KEY_FILE is not');
    expect(() => loadConfig({ NODE_ENV: 'test', SAMSUNG_CLIENT_SECRET_FILE: '/s' })).toThrow('SAMSUNG_CLIENT_SECRET_FILE is set but SAMSUNG_CLIENT_ID is not');
    expect(() => loadConfig({ NODE_ENV: 'test', APPLE_CLIENT_CERT_FILE: '/a', APPLE_CLIENT_KEY_FILE: '/b' })).toThrow(/needs an https APPLE_API_URL/);
    expect(() => loadConfig({ NODE_ENV: 'test', GOOGLE_API_URL: 'ftp://x' })).toThrow(/GOOGLE_API_URL: not an http\(s\) URL/);
  });

  it('a production worker refuses to start without credentials; elsewhere it says so once per programme', () => {
    const prod = { ...loadConfig({ NODE_ENV: 'test' }), env: 'production' as const };
    expect(() => loadManufacturerCredentials(prod)).toThrow(
      'NODE_ENV=production requires credentials for every manufacturer programme; none for apple, google, samsung',
    );
    const said: string[] = [];
    const dev = loadConfig({ NODE_ENV: 'test' });
    loadManufacturerCredentials(dev, (m) => said.push(m));
    loadManufacturerCredentials(dev, (m) => said.push(m));
    // Once per process: the other test files in this process may have said it already.
    expect(said.length).toBeLessThanOrEqual(3);
    expect(new Set(said).size).toBe(said.length);
  });

  it('a production worker sends credentials and device data over https only', () => {
    const credentials = {
      NODE_ENV: 'test',
      APPLE_API_URL: 'https://apple.example.com',
      APPLE_CLIENT_CERT_FILE: '/a',
      APPLE_CLIENT_KEY_FILE: '/b',
      GOOGLE_SERVICE_ACCOUNT_FILE: '/g',
      SAMSUNG_CLIENT_ID: 'c',
      SAMSUNG_CLIENT_SECRET_FILE: '/s',
    };
    const prod = (env: Record<string, string>) => ({ ...loadConfig({ ...credentials, ...env }), env: 'production' as const });
    expect(() => loadManufacturerCredentials(prod({ GOOGLE_API_URL: 'http://google.example.com', SAMSUNG_API_URL: 'http://knox.example.com' }))).toThrow(
      'NODE_ENV=production requires https URLs for the manufacturers: GOOGLE_API_URL, SAMSUNG_API_URL, SAMSUNG_TOKEN_URL',
    );
    expect(() =>
      loadManufacturerCredentials(
        prod({ GOOGLE_API_URL: 'https://google.example.com', SAMSUNG_API_URL: 'https://knox.example.com', SAMSUNG_TOKEN_URL: 'http://knox.example.com/token' }),
      ),
    ).toThrow('NODE_ENV=production requires https URLs for the manufacturers: SAMSUNG_TOKEN_URL');
    // All https: the check passes and the secret files are read next (here: missing).
    expect(() => loadManufacturerCredentials(prod({ GOOGLE_API_URL: 'https://google.example.com', SAMSUNG_API_URL: 'https://knox.example.com' }))).toThrow(
      /APPLE_CLIENT_CERT_FILE: cannot read/,
    );
  });

  it('a missing or malformed secret file stops the start, naming the setting', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfr-cfg-'));
    const env = { NODE_ENV: 'test', SAMSUNG_CLIENT_ID: 'c', SAMSUNG_CLIENT_SECRET_FILE: path.join(dir, 'missing') };
    expect(() => loadManufacturerCredentials(loadConfig(env), () => undefined)).toThrow(/SAMSUNG_CLIENT_SECRET_FILE: cannot read .*missing \(ENOENT\)/);
    fs.writeFileSync(path.join(dir, 'google.json'), '{"client_email":"x"}');
    expect(() =>
      loadManufacturerCredentials(loadConfig({ NODE_ENV: 'test', GOOGLE_SERVICE_ACCOUNT_FILE: path.join(dir, 'google.json') }), () => undefined),
    ).toThrow('GOOGLE_SERVICE_ACCOUNT_FILE: missing private_key, token_uri');
  });
});

describe('gateways against the simulator enforcing authentication', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mfr-auth-'));
  const secrets = path.join(dir, 'secrets');
  let sim: ManufacturerSimulator;
  let gateways: ManufacturerGateways;
  let env: Record<string, string>;
  const audit: AuditEntry[] = [];
  const google = rsa();

  beforeAll(async () => {
    fs.mkdirSync(secrets);
    const ca = createTestCa(path.join(dir, 'ca'));
    const server = ca.issueServer('apple-sim');
    const client = ca.issueClient('reseller-apple');
    const [port, applePort] = [await freePort(), await freePort()];
    sim = new ManufacturerSimulator({
      seed: 1,
      invalidIdRate: 0,
      otherCustomerRate: 0,
      processingPolls: 0,
      auth: {
        apple: { serverCert: server.cert, serverKey: server.key, clientCa: ca.cert },
        google: { serviceAccounts: { 'enrol@reseller.iam.gserviceaccount.com': google.publicKey } },
        samsung: { clients: { 'knox-client': 'knox-secret-1' } },
      },
    });
    await sim.listen(port);
    await sim.listenApple(applePort);
    fs.writeFileSync(path.join(secrets, 'google.json'), serviceAccountJson(google.privateKey, `http://127.0.0.1:${port}/google/oauth2/token`));
    fs.writeFileSync(path.join(secrets, 'knox-secret'), 'knox-secret-1\n');
    env = {
      NODE_ENV: 'test',
      MANUFACTURER_API_URL: `http://127.0.0.1:${port}`,
      APPLE_API_URL: `https://127.0.0.1:${applePort}/apple`,
      APPLE_CLIENT_CERT_FILE: client.certPath,
      APPLE_CLIENT_KEY_FILE: client.keyPath,
      APPLE_CA_FILE: ca.certPath,
      GOOGLE_SERVICE_ACCOUNT_FILE: path.join(secrets, 'google.json'),
      SAMSUNG_CLIENT_ID: 'knox-client',
      SAMSUNG_CLIENT_SECRET_FILE: path.join(secrets, 'knox-secret'),
    };
    gateways = createManufacturerGateways(loadConfig(env), async (e) => void audit.push(e));
  });
  afterAll(async () => {
    await sim?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const tx = (id: string, deviceId: string): GatewayTransaction => ({
    transactionId: id,
    action: 'enrol',
    customerId: 'CUST-1',
    createdAt: '2026-12-01T10:00:00Z',
    devices: [{ deviceId, imei: deviceId, serialNumber: `S${deviceId}`, lineNumber: 1, sku: 'HS-1', deliveryNumber: 'D1', orderNumber: 'O1' }],
  });

  it('each programme accepts a transaction with valid credentials; one token per OAuth programme', async () => {
    for (const m of ['apple', 'google', 'samsung'] as const)
      expect(await gateways[m].submit(tx(`${m}-T1`, `35000000000000${m.length}`))).toMatchObject({ accepted: true });
    expect(sim.tokensIssued).toEqual([
      { programme: 'google', subject: 'enrol@reseller.iam.gserviceaccount.com' },
      { programme: 'samsung', subject: 'knox-client' },
    ]);
    // Nothing secret reaches the audit log.
    const text = JSON.stringify(audit);
    expect(text).not.toMatch(/Bearer|access_token|knox-secret|PRIVATE KEY|eyJ/);
  });

  it('an expired token: the call is refused once, a new token is fetched and the call retried', async () => {
    expect(sim.expireTokens('google')).toBe(1);
    const before = sim.tokensIssued.length;
    expect(await gateways.google.submit(tx('google-T2', '350000000000099'))).toMatchObject({ accepted: true });
    expect(sim.tokensIssued.length).toBe(before + 1);
    expect(audit.filter((a) => a.transactionId === 'google-T2').map((a) => a.httpStatus)).toEqual([401, 200]);
  });

  it('revoked credentials: a clear refusal, not a transient failure', async () => {
    sim.revokeCredentials('samsung', 'knox-client');
    sim.revokeCredentials('google', 'enrol@reseller.iam.gserviceaccount.com');
    try {
      await expect(gateways.samsung.submit(tx('knox-T3', '350000000000098'))).rejects.toMatchObject({
        name: 'CredentialsRefusedError',
        reason: 'invalid_client',
        message: expect.stringMatching(
          /^Samsung Knox refused our credentials at its token endpoint http:.*\/samsung\/oauth2\/token \(HTTP 401 invalid_client: The client was revoked\.\)$/,
        ),
      });
      await expect(gateways.google.submit(tx('google-T3', '350000000000097'))).rejects.toMatchObject({
        name: 'CredentialsRefusedError',
        reason: 'invalid_client',
      });
    } finally {
      sim.reinstateCredentials('samsung', 'knox-client');
      sim.reinstateCredentials('google', 'enrol@reseller.iam.gserviceaccount.com');
    }
  });

  it('Apple: a certificate from another CA, none at all, a revoked one, or a server we do not trust', async () => {
    const other = createTestCa(path.join(dir, 'other')).issueClient('reseller-apple');
    const variant = (extra: Record<string, string>) => createManufacturerGateways(loadConfig({ ...env, ...extra }), async () => undefined).apple;
    await expect(
      variant({ APPLE_CLIENT_CERT_FILE: other.certPath, APPLE_CLIENT_KEY_FILE: other.keyPath }).submit(tx('apple-T4', '350000000000096')),
    ).rejects.toMatchObject({
      name: 'CredentialsRefusedError',
      reason: 'DEP-ERR-1002',
      message: expect.stringMatching(/Apple refused our credentials: bulk-enroll-devices: HTTP 403 client certificate not accepted/),
    });
    await expect(variant({ APPLE_CLIENT_CERT_FILE: '', APPLE_CLIENT_KEY_FILE: '' }).submit(tx('apple-T5', '350000000000095'))).rejects.toMatchObject({
      name: 'CredentialsRefusedError',
      message: expect.stringMatching(/client certificate not accepted/),
    });
    await expect(variant({ APPLE_CA_FILE: '' }).submit(tx('apple-T6', '350000000000094'))).rejects.toMatchObject({
      reason: 'SERVER_CERT_SELF_SIGNED_CERT_IN_CHAIN',
    });
    sim.revokeCredentials('apple', 'reseller-apple');
    try {
      await expect(gateways.apple.submit(tx('apple-T7', '350000000000093'))).rejects.toMatchObject({
        message: expect.stringMatching(/client certificate revoked/),
      });
    } finally {
      sim.reinstateCredentials('apple', 'reseller-apple');
    }
    expect(sim.transactionsFor('apple').map((t) => t.transactionId)).toEqual(['apple-T1']);
  });

  it('a token endpoint that is down is transient (retryable)', async () => {
    await sim.stop();
    const config = loadConfig({ ...env, SAMSUNG_TOKEN_URL: env.MANUFACTURER_API_URL.replace(/:\d+$/, ':1') + '/token' });
    await expect(createManufacturerGateways(config, async () => undefined).samsung.submit(tx('knox-T8', '350000000000092'))).rejects.toBeInstanceOf(
      TransientGatewayError,
    );
  });
});
