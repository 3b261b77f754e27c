// How we prove who we are to each manufacturer's reseller API (issue #22), kept apart from what we
// say to them (manufacturer-gateways.ts):
// - Apple: mutual TLS with our client certificate and key; the server checked against a given CA.
// - Android zero-touch: a service account's key; an RS256 JWT signed with it is exchanged at the
//   key's token_uri for an OAuth access token (the JWT-bearer grant, RFC 7523).
// - Samsung Knox: OAuth client credentials (RFC 6749 §4.4) exchanged for an access token.
// Tokens are cached until shortly before they expire. Secrets are read from files once, at start,
// and never logged: errors carry the token endpoint's error code and description, never a token,
// a key, a secret or a JWT.
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { Manufacturer } from '../domain/types';
import { ConfigError, type Config, type ManufacturerProgrammes } from './config';
import { log } from './log';

/**
 * The manufacturer refused our credentials (a token endpoint's 4xx, a refused client certificate, a
 * server we cannot trust, a token refused right after it was issued): retrying cannot fix it, an
 * operator must. `reason` is short and machine-readable (e.g. `invalid_grant`, `TLS_ALERT_UNKNOWN_CA`).
 */
export class CredentialsRefusedError extends Error {
  override name = 'CredentialsRefusedError';
  constructor(
    readonly manufacturer: Manufacturer,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** The programmes as ops know them, for messages. */
export const PROGRAMME_NAMES: Record<Manufacturer, string> = { apple: 'Apple', google: 'Android zero-touch', samsung: 'Samsung Knox' };

/** The manufacturer could not be reached or answered with a temporary failure: retry later. */
export class TransientGatewayError extends Error {
  override name = 'TransientGatewayError';
}

// ---- one HTTP exchange (node:http/https: a client certificate needs an https.Agent) ----

export interface HttpAnswer {
  status: number;
  text: string;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** Apple's mutual TLS (client certificate, key, trusted CA). */
  agent?: https.Agent;
}

/** Sends one request; rejects on network and TLS errors (classified by `describeTlsRefusal`). */
export function httpRequest(r: HttpRequest): Promise<HttpAnswer> {
  const url = new URL(r.url);
  const send = url.protocol === 'https:' ? https.request : http.request;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: r.method,
        headers: { ...(r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) }), ...r.headers },
        signal: AbortSignal.timeout(r.timeoutMs),
        ...(r.agent ? { agent: r.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/**
 * A TLS failure that retrying cannot fix, in words: the server refused our client certificate (its
 * alert), or we could not trust the server's. Null for anything else (a reset, a timeout: transient).
 */
export function describeTlsRefusal(err: unknown): { reason: string; message: string } | null {
  const code = String((err as { code?: unknown })?.code ?? '');
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_([A-Z_]+)$/.exec(code)?.[1];
  const refusedClient = ['BAD_CERTIFICATE', 'UNKNOWN_CA', 'CERTIFICATE_REQUIRED', 'CERTIFICATE_REVOKED', 'CERTIFICATE_EXPIRED', 'CERTIFICATE_UNKNOWN'];
  const refusedClientAlso = ['UNSUPPORTED_CERTIFICATE', 'ACCESS_DENIED', 'HANDSHAKE_FAILURE'];
  if (alert && [...refusedClient, ...refusedClientAlso].includes(alert)) {
    return { reason: `TLS_ALERT_${alert}`, message: `the server refused our client certificate (TLS alert ${alert.toLowerCase().replace(/_/g, ' ')})` };
  }
  const untrusted = [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_GET_ISSUER_CERT',
    'CERT_HAS_EXPIRED',
    'CERT_UNTRUSTED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ];
  if (untrusted.includes(code))
    return { reason: `SERVER_CERT_${code}`, message: `we do not trust the server's certificate (${code}): check the CA file and URL` };
  return null;
}

// ---- the token cache (pure but for the clock) ----

export interface AccessToken {
  token: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/**
 * One programme's access token: fetched when there is none or it is about to expire (a minute
 * before, or half its life for a short-lived one), one fetch shared by concurrent callers.
 */
export class TokenCache {
  private current?: AccessToken & { issuedAt: number };
  private inFlight?: Promise<AccessToken>;

  constructor(
    private readonly fetchToken: () => Promise<AccessToken>,
    private readonly now: () => number = Date.now,
  ) {}

  private fresh(t: AccessToken & { issuedAt: number }): boolean {
    const margin = Math.min(60_000, (t.expiresAt - t.issuedAt) / 2);
    return this.now() < t.expiresAt - margin;
  }

  async get(): Promise<string> {
    if (this.current && this.fresh(this.current)) return this.current.token;
    this.inFlight ??= (async () => {
      const issuedAt = this.now();
      try {
        const t = await this.fetchToken();
        this.current = { ...t, issuedAt };
        return t;
      } finally {
        this.inFlight = undefined;
      }
    })();
    return (await this.inFlight).token;
  }

  /** The API refused `token`: forget it (unless a newer one replaced it meanwhile), so the next get() fetches. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }
}

// ---- Google's service-account JWT (RFC 7523) ----

export interface ServiceAccountKey {
  clientEmail: string;
  privateKey: KeyObject;
  tokenUri: string;
  privateKeyId?: string;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Reads a service account's key file (Google's JSON format); refuses one without what we need. */
export function parseServiceAccountKey(json: string, file = 'service account key'): ServiceAccountKey {
  let k: Record<string, unknown>;
  try {
    k = JSON.parse(json) as Record<string, unknown>;
  } catch {
    throw new ConfigError(`${file}: not JSON`);
  }
  const missing = ['client_email', 'private_key', 'token_uri'].filter((f) => typeof k[f] !== 'string' || !k[f]);
  if (missing.length) throw new ConfigError(`${file}: missing ${missing.join(', ')}`);
  if (!/^https?:\/\//.test(String(k.token_uri))) throw new ConfigError(`${file}: token_uri is not an http(s) URL`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(String(k.private_key));
  } catch {
    throw new ConfigError(`${file}: private_key is not a PEM private key`);
  }
  if (privateKey.asymmetricKeyType !== 'rsa') throw new ConfigError(`${file}: private_key must be an RSA key (RS256)`);
  return {
    clientEmail: String(k.client_email),
    privateKey,
    tokenUri: String(k.token_uri),
    ...(typeof k.private_key_id === 'string' ? { privateKeyId: k.private_key_id } : {}),
  };
}

/** The signed assertion of the JWT-bearer grant: issuer the service account, audience its token URI, valid an hour. */
export function buildServiceAccountJwt(key: ServiceAccountKey, scope: string, nowSeconds: number): string {
  const header = { alg: 'RS256', typ: 'JWT', ...(key.privateKeyId ? { kid: key.privateKeyId } : {}) };
  const claims = { iss: key.clientEmail, scope, aud: key.tokenUri, iat: nowSeconds, exp: nowSeconds + 3600 };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key.privateKey))}`;
}

// ---- token endpoints ----

/** Reads an OAuth token endpoint's answer: a token, or the refusal in words (RFC 6749 §5.2). */
export function readTokenAnswer(manufacturer: Manufacturer, endpoint: string, ans: HttpAnswer, now: number): AccessToken {
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(ans.text) as Record<string, unknown>;
  } catch {
    // not JSON: described by status alone
  }
  if (ans.status >= 500 || ans.status === 429 || ans.status === 408) throw new TransientGatewayError(`${manufacturer} token endpoint: HTTP ${ans.status}`);
  if (ans.status !== 200 || typeof body.access_token !== 'string' || !body.access_token) {
    const reason = typeof body.error === 'string' ? body.error : `HTTP_${ans.status}`;
    const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
    throw new CredentialsRefusedError(
      manufacturer,
      reason,
      `${PROGRAMME_NAMES[manufacturer]} refused our credentials at its token endpoint ${endpoint} (HTTP ${ans.status} ${reason}${description})`,
    );
  }
  const expiresIn = Number(body.expires_in);
  return { token: body.access_token, expiresAt: now + (Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600) * 1000 };
}

async function tokenExchange(manufacturer: Manufacturer, endpoint: string, req: Omit<HttpRequest, 'url' | 'method'>): Promise<AccessToken> {
  let ans: HttpAnswer;
  try {
    ans = await httpRequest({ ...req, method: 'POST', url: endpoint });
  } catch (err) {
    const tls = describeTlsRefusal(err);
    if (tls) throw new CredentialsRefusedError(manufacturer, tls.reason, `${PROGRAMME_NAMES[manufacturer]} token endpoint ${endpoint}: ${tls.message}`);
    throw new TransientGatewayError(`${manufacturer} token endpoint ${endpoint}: ${(err as Error).message}`);
  }
  return readTokenAnswer(manufacturer, endpoint, ans, Date.now());
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = 'application/x-www-form-urlencoded';

export function googleTokenFetcher(key: ServiceAccountKey, scope: string, timeoutMs: number): () => Promise<AccessToken> {
  return () =>
    tokenExchange('google', key.tokenUri, {
      headers: { 'content-type': FORM, accept: 'application/json' },
      body: form({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: buildServiceAccountJwt(key, scope, Math.floor(Date.now() / 1000)) }),
      timeoutMs,
    });
}

export function knoxTokenFetcher(tokenUrl: string, clientId: string, clientSecret: string, timeoutMs: number): () => Promise<AccessToken> {
  // HTTP Basic with form-encoded id and secret (RFC 6749 §2.3.1).
  const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64');
  return () =>
    tokenExchange('samsung', tokenUrl, {
      headers: { 'content-type': FORM, accept: 'application/json', authorization: `Basic ${basic}` },
      body: form({ grant_type: 'client_credentials' }),
      timeoutMs,
    });
}

// ---- credentials as configured ----

/** What a gateway needs to authenticate: a TLS agent (Apple), a token source (Google, Knox), or nothing. */
export interface ProgrammeCredentials {
  agent?: https.Agent;
  tokens?: TokenCache;
}

const warnedUnauthenticated = new Set<Manufacturer>();

const isHttps = (url: string) => URL.canParse(url) && new URL(url).protocol === 'https:';

function readSecret(setting: string, file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${setting}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

/**
 * Reads each programme's secret files (at the worker's start: a missing or malformed file stops it
 * there, not at the first enrolment). A programme without credentials is refused in production and
 * said once per process elsewhere.
 */
export function loadManufacturerCredentials(
  config: Pick<Config, 'env'> & { enrolment: Pick<Config['enrolment'], 'timeoutMs'> & { programmes: ManufacturerProgrammes } },
  warn: (message: string) => void = (m) => log.warn({ component: 'manufacturers' }, m),
): Record<Manufacturer, ProgrammeCredentials> {
  const p = config.enrolment.programmes;
  const timeoutMs = config.enrolment.timeoutMs;
  const missing = (['apple', 'google', 'samsung'] as const).filter((m) => !p[m].auth);
  if (missing.length && config.env === 'production') {
    throw new ConfigError(
      `NODE_ENV=production requires credentials for every manufacturer programme; none for ${missing.join(', ')} (see docs/configuration.md, Device enrolment)`,
    );
  }
  if (config.env === 'production') {
    // Credentials and customers' device data never go in clear text (checked where they are sent:
    // the API and adaptor read the same settings but never call a manufacturer).
    const plain = [
      ...(['apple', 'google', 'samsung'] as const).filter((m) => !isHttps(p[m].baseUrl)).map((m) => `${m.toUpperCase()}_API_URL`),
      ...(p.samsung.auth && !isHttps(p.samsung.auth.tokenUrl) ? ['SAMSUNG_TOKEN_URL'] : []),
    ];
    if (plain.length)
      throw new ConfigError(`NODE_ENV=production requires https URLs for the manufacturers: ${plain.join(', ')} (see docs/configuration.md, Device enrolment)`);
  }
  for (const m of missing.filter((x) => !warnedUnauthenticated.has(x))) {
    warnedUnauthenticated.add(m);
    warn(
      `manufacturers: no credentials configured for ${m}: its requests go without authentication (${m === 'apple' ? 'dev: no mTLS' : 'dev: no OAuth token'})`,
    );
  }
  const out: Record<Manufacturer, ProgrammeCredentials> = { apple: {}, google: {}, samsung: {} };
  const apple = p.apple.auth;
  if (apple || p.apple.caFile) {
    const cert = apple ? readSecret('APPLE_CLIENT_CERT_FILE', apple.certFile) : undefined;
    const key = apple ? readSecret('APPLE_CLIENT_KEY_FILE', apple.keyFile) : undefined;
    const ca = p.apple.caFile ? readSecret('APPLE_CA_FILE', p.apple.caFile) : undefined;
    const options = { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
    try {
      tls.createSecureContext(options); // checked now, not at the first enrolment
    } catch {
      throw new ConfigError('APPLE_CLIENT_CERT_FILE / APPLE_CLIENT_KEY_FILE / APPLE_CA_FILE: not a PEM certificate with its matching key, or not a PEM CA');
    }
    out.apple.agent = new https.Agent(options);
  }
  const google = p.google.auth;
  if (google) {
    const key = parseServiceAccountKey(readSecret('GOOGLE_SERVICE_ACCOUNT_FILE', google.serviceAccountFile), 'GOOGLE_SERVICE_ACCOUNT_FILE');
    if (config.env === 'production' && !isHttps(key.tokenUri))
      throw new ConfigError('GOOGLE_SERVICE_ACCOUNT_FILE: NODE_ENV=production requires an https token_uri');
    out.google.tokens = new TokenCache(googleTokenFetcher(key, google.scope, timeoutMs));
  }
  const knox = p.samsung.auth;
  if (knox) {
    const secret = readSecret('SAMSUNG_CLIENT_SECRET_FILE', knox.clientSecretFile).trim();
    if (!secret) throw new ConfigError('SAMSUNG_CLIENT_SECRET_FILE: the file is empty');
    out.samsung.tokens = new TokenCache(knoxTokenFetcher(knox.tokenUrl, knox.clientId, secret, timeoutMs));
  }
  return out;
}
