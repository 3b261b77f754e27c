// A throwaway token issuer for tests of Temporal's authorizer: an RSA key, its JWKS served over
// HTTP on loopback (what the server's jwtKeyProvider fetches), and RS256 JWTs signed with it.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface TestIssuer {
  /** The JWKS URL. */
  url: string;
  /** A signed JWT with `sub` and Temporal's `permissions` claim (e.g. `default:read`), valid for an hour. */
  token(subject: string, permissions: string[]): string;
  stop(): Promise<void>;
}

const b64url = (v: object | Buffer) => (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');

/** Starts an issuer; `forger()` signs with another key under the published key's id (a forged token). */
export async function startTestIssuer(): Promise<TestIssuer & { forger(): (subject: string, permissions: string[]) => string }> {
  const makeKey = () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return { kid: randomUUID(), privateKey, jwk: publicKey.export({ format: 'jwk' }) };
  };
  const key = makeKey();
  const signer = (k: ReturnType<typeof makeKey>) => (subject: string, permissions: string[]) => {
    const now = Math.floor(Date.now() / 1000);
    const body = `${b64url({ alg: 'RS256', typ: 'JWT', kid: k.kid })}.${b64url({ sub: subject, permissions, iat: now, exp: now + 3600 })}`;
    return `${body}.${b64url(sign('sha256', Buffer.from(body), k.privateKey))}`;
  };
  const jwks = JSON.stringify({ keys: [{ ...key.jwk, kid: key.kid, alg: 'RS256', use: 'sig' }] });
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(req.url === '/jwks.json' ? jwks : '{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    token: signer(key),
    // Same kid as the published key, different private key: a token the server must not believe.
    forger: () => signer({ ...makeKey(), kid: key.kid }),
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
