// The development OpenID provider (scripts/dev-idp.ts) with the API: a demo person signs in
// with authorisation code + PKCE and the order history names them; the adaptor's machine client
// gets a token with client credentials. Everything over real HTTP, as a browser and a client would.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENTVIEW_CLIENT_ID, DEV_MACHINE_CLIENTS, DEV_USERS, startDevIdp, type DevIdp } from '../../scripts/dev-idp';
import { startSystem, type TestSystem } from '../support/system';

const REDIRECT = 'http://127.0.0.1:9/auth/callback';
let idp: DevIdp;
let sys: TestSystem;
beforeAll(async () => {
  idp = await startDevIdp({ port: 0, audience: 'hardware-orders', redirectUris: [REDIRECT] });
  sys = await startSystem({ env: { OIDC_ISSUER: idp.issuer } });
});
afterAll(async () => {
  await sys?.stop();
  await idp?.stop();
});

const b64url = (b: Buffer) => b.toString('base64url');
const discovery = async () => (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;

/** A browser's cookie jar for the provider's origin, and redirects followed by hand. */
function browserLike() {
  const cookies = new Map<string, string>();
  return async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  };
}

/** Authorisation code + PKCE up to the code, signing in with the given password. */
type SignedIn = { code: string; verifier: string; meta: Record<string, string> } | { refused: number; html: string };

async function signIn(username: string, password: string): Promise<SignedIn> {
  const meta = await discovery();
  const browser = browserLike();
  const verifier = b64url(randomBytes(32));
  const state = b64url(randomBytes(16));
  const auth = new URL(meta.authorization_endpoint);
  auth.search = new URLSearchParams({
    client_id: AGENTVIEW_CLIENT_ID,
    redirect_uri: REDIRECT,
    response_type: 'code',
    scope: 'openid profile api',
    state,
    code_challenge: b64url(createHash('sha256').update(verifier).digest()),
    code_challenge_method: 'S256',
  }).toString();
  let res = await browser(auth.href);
  expect(res.status).toBe(303);
  const loginPage = new URL(res.headers.get('location')!, idp.issuer).href;
  res = await browser(loginPage);
  const html = await res.text();
  expect(html).toContain('name="password"');
  const action = new URL(/action="([^"]+)"/.exec(html)![1], idp.issuer).href;
  res = await browser(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  if (res.status !== 303) return { refused: res.status, html: await res.text() };
  // Back to the authorisation endpoint, then to AgentView's redirect URI with the code.
  let location = new URL(res.headers.get('location')!, idp.issuer).href;
  for (let hops = 0; !location.startsWith(REDIRECT) && hops < 5; hops++) {
    res = await browser(location);
    expect(res.status, await res.clone().text()).toBeGreaterThanOrEqual(300);
    location = new URL(res.headers.get('location')!, idp.issuer).href;
  }
  const callback = new URL(location);
  expect(callback.searchParams.get('state')).toBe(state);
  return { code: callback.searchParams.get('code')!, verifier, meta };
}

async function tokenFor(meta: Record<string, string>, body: Record<string, string>, basic?: string) {
  const res = await fetch(meta.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(basic ? { authorization: `Basic ${Buffer.from(basic).toString('base64')}` } : {}) },
    body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('the development OpenID provider', () => {
  it('signs a demo agent in with authorisation code + PKCE; the API takes the access token and the history names her', async () => {
    const signedIn = await signIn('alice', DEV_USERS.alice.password);
    if (!('code' in signedIn)) throw new Error(`sign-in refused: ${signedIn.refused}`);
    const { code, meta } = signedIn;
    // Without the verifier the code is worthless (PKCE).
    expect((await tokenFor(meta, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: AGENTVIEW_CLIENT_ID })).status).toBe(400);
    const again = await signIn('alice', DEV_USERS.alice.password);
    if (!('code' in again)) throw new Error('second sign-in refused');
    const token = await tokenFor(meta, {
      grant_type: 'authorization_code',
      code: again.code,
      code_verifier: again.verifier,
      redirect_uri: REDIRECT,
      client_id: AGENTVIEW_CLIENT_ID,
    });
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    expect(token.body.access_token.split('.')).toHaveLength(3);
    const auth = { role: null, headers: { authorization: `Bearer ${token.body.access_token}` } };
    expect((await sys.call('GET', '/api/v1/me', auth)).body).toEqual({ subject: 'alice', name: 'Alice Agent', roles: ['agent'] });
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { ...auth, body: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.history[0].by).toBe('alice');
    // An agent is not ops.
    expect((await sys.call('GET', '/api/v1/fraud-reviews', auth)).status).toBe(403);
  });

  it('refuses a wrong password and an unknown user', async () => {
    for (const [user, password] of [
      ['alice', 'not-her-password'],
      ['mallory', 'anything'],
    ]) {
      const r = await signIn(user, password);
      expect('refused' in r && r.refused, user).toBe(401);
    }
  });

  it('gives the adaptor machine client a token with client credentials, and refuses a wrong secret', async () => {
    const meta = await discovery();
    const wrong = await tokenFor(meta, { grant_type: 'client_credentials', scope: 'api' }, 'adaptor:wrong-secret');
    expect(wrong.status).toBe(401);
    const token = await tokenFor(meta, { grant_type: 'client_credentials', scope: 'api' }, `adaptor:${DEV_MACHINE_CLIENTS.adaptor.secret}`);
    expect(token.status, JSON.stringify(token.body)).toBe(200);
    const me = await sys.call('GET', '/api/v1/me', { role: null, headers: { authorization: `Bearer ${token.body.access_token}` } });
    expect(me.body).toEqual({ subject: 'adaptor', name: null, roles: ['adaptor'] });
    expect((await sys.call('GET', '/api/v1/catalogue', { role: null, headers: { authorization: `Bearer ${token.body.access_token}` } })).status).toBe(403);
  });

  it('will not start with NODE_ENV=production', async () => {
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(startDevIdp({ port: 0, audience: 'x', redirectUris: [REDIRECT] })).rejects.toThrow(/NODE_ENV=production/);
    } finally {
      process.env.NODE_ENV = before;
    }
  });
});
