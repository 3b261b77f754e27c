// A throwaway token issuer for tests: an RSA key, its JWKS and an OpenID discovery document served
// over HTTP on loopback (what Temporal's jwtKeyProvider and the API's verifier fetch), and RS256
// JWTs signed with it: Temporal's `permissions` tokens, and access tokens for the API with any claims.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface TestIssuer {
  /** The JWKS URL. */
  url: string;
  /** The issuer (`iss`), whose `/.well-known/openid-configuration` names the JWKS. */
  issuer: string;
  /** A signed JWT with `sub` and Temporal's `permissions` claim (e.g. `default:read`), valid for an hour. */
  token(subject: string, permissions: string[]): string;
  /**
   * An access token for the API: `iss` this issuer, `aud` 'hardware-orders', valid for an hour,
   * unless `claims` says otherwise (a claim given as undefined is left out).
   */
  accessToken(claims: Record<string, unknown>): string;
  stop(): Promise<void>;
}

const b64url = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');

/** Starts an issuer; `forger()` signs with another key under the published key's id (a forged token). */
export async function startTestIssuer(): Promise<
  TestIssuer & { forger(): (subject: string, permissions: string[]) => string; forgedAccessToken(claims: Record<string, unknown>): string }
> {
  const makeKey = () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { kid: randomUUID(), privateKey, jwk: publicKey.export({ format: 'jwk' }) };
  };
  const key = makeKey();
  const signClaims = (k: ReturnType<typeof makeKey>, claims: Record<string, unknown>) => {
    const body = `${b64url({ alg: 'RS256', typ: 'JWT', kid: k.kid })}.${b64url(JSON.parse(JSON.stringify(claims)))}`;
    return `${body}.${b64url(sign('sha256', Buffer.from(body), k.privateKey))}`;
  };
  const signer = (k: ReturnType<typeof makeKey>) => (subject: string, permissions: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    return signClaims(k, { sub: subject, permissions, iat: now, exp: now + 3600 });
  };
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const access = (k: ReturnType<typeof makeKey>) => (claims: Record<string, unknown>) => {
    const now = Math.floor(Date.now() / 1000);
    return signClaims(k, { iss: issuer, aud: 'hardware-orders', iat: now, exp: now + 3600, ...claims });
  };
  const documents: Record<string, string> = {
    '/jwks.json': JSON.stringify({ keys: [{ ...key.jwk, kid: key.kid, alg: 'RS256', use: 'sig' }] }),
    '/.well-known/openid-configuration': JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks.json` }),
  };
  server.on('request', (req, res) => {
    const doc = documents[req.url ?? ''];
    res.writeHead(doc ? 200 : 404, { 'content-type': 'application/json' });
    res.end(doc ?? '{}');
  });
  // Same kid as the published key, different private key: a token the server must not believe.
  const forgedKey = () => ({ ...makeKey(), kid: key.kid });
  let forged: ReturnType<typeof forgedKey> | undefined;
  return {
    url: `${issuer}/jwks.json`,
    issuer,
    token: signer(key),
    accessToken: access(key),
    forger: () => signer(forgedKey()),
    // One forging key for all (a 2048-bit key pair per token made the JWT auth matrix ten times slower).
    forgedAccessToken: (claims) => access((forged ??= forgedKey()))(claims),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
