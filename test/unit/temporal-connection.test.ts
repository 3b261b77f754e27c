// TEMPORAL_TLS_*: read and checked by infra/config.ts (pairs) and infra/temporal-connection.ts
// (files, at start). The handshakes themselves are tested against a real server in
// test/integration/temporal-mtls.test.ts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../infra/config';
import { temporalApiKey, temporalTlsOptions } from '../../infra/temporal-connection';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'temporal-tls-unit-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
};
const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;

describe('TEMPORAL_TLS_* settings', () => {
  it('leaves the connection plaintext when none is set', () => {
    expect(loadConfig({}).temporal.tls).toBeNull();
    expect(temporalTlsOptions(null)).toBeUndefined();
  });

  it('turns TLS on with any of them, and wants the client certificate and key together', () => {
    expect(loadConfig({ TEMPORAL_TLS_CA_FILE: '/ca.pem' }).temporal.tls).toEqual({ certFile: null, keyFile: null, caFile: '/ca.pem', serverName: null });
    expect(loadConfig({ TEMPORAL_TLS_SERVER_NAME: 'temporal' }).temporal.tls?.serverName).toBe('temporal');
    expect(() => loadConfig({ TEMPORAL_TLS_CERT_FILE: '/c.pem' })).toThrow(/TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together/);
    expect(() => loadConfig({ TEMPORAL_TLS_KEY_FILE: '/k.pem' })).toThrow(ConfigError);
  });

  it('reads the files into the SDK options at start', () => {
    const env = {
      TEMPORAL_TLS_CERT_FILE: write('client.pem', pem('CERTIFICATE')),
      TEMPORAL_TLS_KEY_FILE: write('client-key.pem', pem('PRIVATE KEY')),
      TEMPORAL_TLS_CA_FILE: write('ca.pem', pem('CERTIFICATE')),
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    };
    const tls = temporalTlsOptions(loadConfig(env).temporal.tls)!;
    expect(tls.serverNameOverride).toBe('temporal.internal');
    expect(Buffer.from(tls.serverRootCACertificate!).toString()).toBe(pem('CERTIFICATE'));
    expect(Buffer.from(tls.clientCertPair!.key).toString()).toBe(pem('PRIVATE KEY'));
    // An EC or RSA key in its traditional format is a private key too.
    const ec = write('ec-key.pem', pem('EC PRIVATE KEY'));
    expect(() => temporalTlsOptions(loadConfig({ ...env, TEMPORAL_TLS_KEY_FILE: ec }).temporal.tls)).not.toThrow();
  });

  it('stops with the setting and the path when a file is missing, unreadable or not PEM, without its content', () => {
    const missing = path.join(dir, 'nope.pem');
    expect(() => temporalTlsOptions(loadConfig({ TEMPORAL_TLS_CA_FILE: missing }).temporal.tls)).toThrow(
      new ConfigError(`TEMPORAL_TLS_CA_FILE: cannot read ${missing} (ENOENT)`),
    );
    expect(() => temporalTlsOptions(loadConfig({ TEMPORAL_TLS_CA_FILE: dir }).temporal.tls)).toThrow(/TEMPORAL_TLS_CA_FILE: cannot read .* \(EISDIR\)/);
    const swapped = {
      TEMPORAL_TLS_CERT_FILE: write('swapped-cert.pem', pem('PRIVATE KEY')),
      TEMPORAL_TLS_KEY_FILE: write('swapped-key.pem', 'secret-key-material'),
    };
    expect(() => temporalTlsOptions(loadConfig(swapped).temporal.tls)).toThrow(/TEMPORAL_TLS_CERT_FILE: .* holds no PEM certificate/);
    let message = '';
    try {
      temporalTlsOptions(loadConfig({ ...swapped, TEMPORAL_TLS_CERT_FILE: write('ok.pem', pem('CERTIFICATE')) }).temporal.tls);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^TEMPORAL_TLS_KEY_FILE: .*swapped-key\.pem holds no PEM private key$/);
    expect(message).not.toContain('secret-key-material');
  });
});

describe('TEMPORAL_API_KEY_FILE', () => {
  it('sends no token when unset, and the trimmed token from the file when set', () => {
    expect(loadConfig({}).temporal.apiKeyFile).toBeNull();
    expect(temporalApiKey(loadConfig({}).temporal)).toBeUndefined();
    const file = write('token', 'eyJhbGciOi.eyJzdWIi.c2ln\n');
    expect(temporalApiKey(loadConfig({ TEMPORAL_API_KEY_FILE: file }).temporal)).toBe('eyJhbGciOi.eyJzdWIi.c2ln');
  });

  it('stops at start when the file is missing, empty or holds more than one token, without its content', () => {
    const missing = path.join(dir, 'no-token');
    expect(() => temporalApiKey(loadConfig({ TEMPORAL_API_KEY_FILE: missing }).temporal)).toThrow(
      new ConfigError(`TEMPORAL_API_KEY_FILE: cannot read ${missing} (ENOENT)`),
    );
    expect(() => temporalApiKey(loadConfig({ TEMPORAL_API_KEY_FILE: write('empty', '\n') }).temporal)).toThrow(/does not hold one token/);
    expect(() => temporalApiKey(loadConfig({ TEMPORAL_API_KEY_FILE: write('two', 'secret-one secret-two') }).temporal)).toThrow(
      /^TEMPORAL_API_KEY_FILE: .*two does not hold one token$/,
    );
  });
});
