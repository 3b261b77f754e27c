// AgentView's OpenID sign-in (api/agentview-session.ts) without a browser: the development provider
// over real HTTP, the API in process. What a browser test does not reach: a tampered state, a
// callback without its sign-in cookie, an unsafe `next`, an expired session, signing out without
// the CSRF header, a cookie that names no session.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../scripts/dev-idp';
import { startSystem, type TestSystem } from '../support/system';

const AGENTVIEW = 'http://127.0.0.1:9';
let idp: DevIdp;
let sys: TestSystem;
beforeAll(async () => {
  idp = await startDevIdp({ port: 0, audience: 'hardware-orders', redirectUris: [`${AGENTVIEW}/auth/callback`] });
  sys = await startSystem({ env: { OIDC_ISSUER: idp.issuer, AGENTVIEW_URL: AGENTVIEW } });
});
afterAll(async () => {
  await sys?.stop();
  await idp?.stop();
});

/** name=value of each Set-Cookie, and the attributes of each by name. */
function cookiesOf(res: Response): Record<string, { value: string; attributes: string }> {
  const out: Record<string, { value: string; attributes: string }> = {};
  for (const c of res.headers.getSetCookie()) {
    const [pair, ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    out[pair.slice(0, i)] = { value: pair.slice(i + 1), attributes: attrs.join(';').trim() };
  }
  return out;
}

const agentView = (path: string, init: RequestInit = {}) => sys.api.request(`${AGENTVIEW}${path}`, init);

/** The provider's side as a browser: its own cookies, redirects followed up to AgentView's callback. */
async function throughProvider(authorizeUrl: string, username: string, password: string): Promise<string> {
  const jar = new Map<string, string>();
  const go = async (url: string, init: RequestInit = {}) => {
    const res = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const [k, v] of Object.entries(cookiesOf(res))) jar.set(k, v.value);
    return res;
  };
  let res = await go(authorizeUrl);
  const login = new URL(res.headers.get('location')!, idp.issuer).href;
  const html = await (await go(login)).text();
  const action = new URL(/action="([^"]+)"/.exec(html)![1], idp.issuer).href;
  res = await go(action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  let location = new URL(res.headers.get('location')!, idp.issuer).href;
  for (let hops = 0; !location.startsWith(`${AGENTVIEW}/auth/callback`) && hops < 5; hops++) {
    res = await go(location);
    location = new URL(res.headers.get('location')!, idp.issuer).href;
  }
  expect(location.startsWith(`${AGENTVIEW}/auth/callback`)).toBe(true);
  return location;
}

/** Starts at AgentView's /auth/signin, signs in at the provider: the callback URL and the sign-in cookie. */
async function startSignIn(username: string, next = '/accounts') {
  const res = await agentView(`/auth/signin?next=${encodeURIComponent(next)}`);
  expect(res.status).toBe(302);
  const authorize = new URL(res.headers.get('location')!);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${AGENTVIEW}/auth/callback`);
  expect(authorize.searchParams.get('state')).toBeTruthy();
  expect(authorize.searchParams.get('nonce')).toBeTruthy();
  const signin = cookiesOf(res).agentview_signin;
  expect(signin.attributes).toMatch(/HttpOnly/i);
  const callback = await throughProvider(authorize.href, username, DEV_USERS[username].password);
  return { callback, signinCookie: `agentview_signin=${signin.value}` };
}

async function signIn(username: string, next?: string) {
  const { callback, signinCookie } = await startSignIn(username, next);
  const res = await agentView(new URL(callback).pathname + new URL(callback).search, { headers: { cookie: signinCookie } });
  expect(res.status).toBe(303);
  const session = cookiesOf(res).agentview_session;
  expect(session.attributes).toMatch(/HttpOnly/i);
  expect(session.attributes).toMatch(/SameSite=Lax/i);
  expect(session.attributes).toMatch(/Path=\//i);
  return { location: res.headers.get('location')!, cookie: `agentview_session=${session.value}` };
}

describe("AgentView's OpenID sign-in", () => {
  it('signs in with code + PKCE; the cookie acts as the person, changes need the CSRF header, sign-out ends it', async () => {
    const { location, cookie } = await signIn('alice', '/orders/ORD-0000000001');
    expect(location).toBe(`/signin?next=${encodeURIComponent('/orders/ORD-0000000001')}`);
    const me = await agentView('/api/v1/me', { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ subject: 'alice', roles: ['agent'] });

    // A change with the cookie: refused without the header, done with it, by alice; x-agent-id changes nothing.
    const create = (headers: Record<string, string>) =>
      agentView('/api/v1/accounts/ACC-1001/orders', { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: '{}' });
    const forged = await create({});
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    const made = await create({ 'x-requested-with': 'agentview', 'x-agent-id': 'mallory' });
    expect(made.status).toBe(201);
    const { orderId } = (await made.json()) as { orderId: string };
    const order = await sys.call('GET', `/api/v1/orders/${orderId}`);
    expect(order.body.history.map((e: { by: string }) => e.by)).toEqual(['alice']);

    // Signing out needs the header too (no forced sign-out from another site), then the cookie is refused.
    expect((await agentView('/auth/signout', { method: 'POST', headers: { cookie } })).status).toBe(403);
    expect((await agentView('/api/v1/me', { headers: { cookie } })).status).toBe(200);
    const out = await agentView('/auth/signout', { method: 'POST', headers: { cookie, 'x-requested-with': 'agentview' } });
    expect(out.status).toBe(200);
    expect(cookiesOf(out).agentview_session.attributes).toMatch(/Max-Age=0/i);
    // The provider's own sign-out, with the ID token as the hint and sign-in as the way back.
    const end = new URL(((await out.json()) as { endSessionUrl: string }).endSessionUrl);
    expect(`${end.origin}${end.pathname}`).toBe(`${idp.issuer}/session/end`);
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${AGENTVIEW}/signin`);
    expect(end.searchParams.get('id_token_hint')?.split('.')).toHaveLength(3);
    // Signed out already: a second sign-out has nothing to end at the provider.
    expect((await agentView('/auth/signout', { method: 'POST', headers: { cookie, 'x-requested-with': 'agentview' } })).status).toBe(204);
    const after = await agentView('/api/v1/me', { headers: { cookie } });
    expect(after.status).toBe(401);
    expect(((await after.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
  });

  it('refuses an expired session, and a cookie that names no session', async () => {
    const { cookie } = await signIn('olga');
    expect((await agentView('/api/v1/me', { headers: { cookie } })).status).toBe(200);
    await sys.db.models.AgentViewSession.updateMany({}, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect((await agentView('/api/v1/me', { headers: { cookie } })).status).toBe(401);
    expect((await agentView('/api/v1/me', { headers: { cookie: 'agentview_session=made-up' } })).status).toBe(401);
    // A bearer token wins over a stale cookie: the pasted-token way in keeps working.
    expect((await agentView('/api/v1/me', { headers: { cookie, authorization: 'Bearer ops-dev-token' } })).status).toBe(200);
  });

  it('refuses a callback whose state was changed, or that comes without its sign-in cookie; an unsafe next goes nowhere else', async () => {
    const { callback, signinCookie } = await startSignIn('alice');
    const tampered = new URL(callback);
    tampered.searchParams.set('state', 'not-the-state');
    const refused = await agentView(tampered.pathname + tampered.search, { headers: { cookie: signinCookie } });
    expect(refused.status).toBe(401);
    expect(cookiesOf(refused).agentview_session).toBeUndefined();

    const second = await startSignIn('alice');
    const lost = await agentView(new URL(second.callback).pathname + new URL(second.callback).search);
    expect(lost.status).toBe(303);
    expect(lost.headers.get('location')).toBe('/signin');
    expect(cookiesOf(lost).agentview_session).toBeUndefined();

    const { location } = await signIn('alice', '//evil.example/steal');
    expect(location).toBe(`/signin?next=${encodeURIComponent('/accounts')}`);
  });
});
