// Who calls the API: access tokens (JWTs) from the OpenID provider are checked for issuer,
// audience, expiry and signature against the issuer's JWKS; the role comes from the roles claim,
// the actor recorded in histories is the token's subject and never a header.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalOf } from '../../api/auth';
import { ApiError } from '../../api/errors';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { loadConfig } from '../../infra/config';
import { DEV_ACTORS, startSystem, type TestSystem } from '../support/system';
import { startTestIssuer } from '../support/test-jwks';

let sys: TestSystem;
let issuer: Awaited<ReturnType<typeof startTestIssuer>>;
let other: Awaited<ReturnType<typeof startTestIssuer>>;
beforeAll(async () => {
  [issuer, other] = await Promise.all([startTestIssuer(), startTestIssuer()]);
  sys = await startSystem({ env: { OIDC_ISSUER: issuer.issuer, OIDC_ADAPTOR_CLIENTS: 'north-integration:WH-NORTH' } });
});
afterAll(async () => {
  await sys?.stop();
  await issuer?.stop();
  await other?.stop();
});

const bearer = (token: string, extra: Record<string, string> = {}) => ({ role: null, headers: { authorization: `Bearer ${token}`, ...extra } });
const agentAlice = () => issuer.accessToken({ sub: 'alice-7', name: 'Alice Agent', roles: ['agent'] });

describe('access tokens', () => {
  it('a valid token of the agent role gets through, and its subject is the actor', async () => {
    const created = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { ...bearer(agentAlice()), body: {} });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.history[0]).toMatchObject({ to: 'New', by: 'alice-7' });
  });

  it('scopes an Idempotency-Key to the person: two agents with the same key get an order each', async () => {
    const create = (sub: string) =>
      sys.call('POST', '/api/v1/accounts/ACC-1001/orders', {
        ...bearer(issuer.accessToken({ sub, roles: ['agent'] }), { 'idempotency-key': 'shared-key-1' }),
        body: {},
      });
    const [a1, b1, a2] = [await create('alice-7'), await create('bob-3'), await create('alice-7')];
    expect([a1.status, b1.status, a2.status]).toEqual([201, 201, 201]);
    expect(b1.body.orderId).not.toBe(a1.body.orderId);
    expect(b1.body.history[0].by).toBe('bob-3');
    // Alice's retry is still hers.
    expect(a2.body.orderId).toBe(a1.body.orderId);
  });

  it('refuses expired, wrongly signed, wrong-audience and wrong-issuer tokens with 401', async () => {
    const now = Math.floor(Date.now() / 1000);
    const agent = { sub: 'alice-7', roles: ['agent'] };
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ ...agent, iss: issuer.issuer, aud: 'hardware-orders', exp: now + 600 }),
    ).toString('base64url')}.`;
    const refused: Record<string, string> = {
      expired: issuer.accessToken({ ...agent, iat: now - 7200, exp: now - 3600 }),
      'wrongly signed (another key under the issuer key id)': issuer.forgedAccessToken(agent),
      'signed by another issuer': other.accessToken(agent),
      'wrong audience': issuer.accessToken({ ...agent, aud: 'another-api' }),
      'wrong issuer (claimed by a token the issuer signed)': issuer.accessToken({ ...agent, iss: other.issuer }),
      'no expiry': issuer.accessToken({ ...agent, exp: undefined }),
      'not yet valid': issuer.accessToken({ ...agent, nbf: now + 3600 }),
      'alg none': unsigned,
      'a tampered payload': (() => {
        const [h, , sig] = issuer.accessToken(agent).split('.');
        return `${h}.${Buffer.from(JSON.stringify({ ...agent, roles: ['ops'], iss: issuer.issuer, aud: 'hardware-orders', exp: now + 600 })).toString('base64url')}.${sig}`;
      })(),
    };
    for (const [what, token] of Object.entries(refused)) {
      const r = await sys.call('GET', '/api/v1/catalogue', bearer(token));
      expect(r.status, what).toBe(401);
      expect(r.body.error, what).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.any(String) });
    }
    // The same claims, properly issued, get through: the refusals above are about the token, not the claims.
    expect((await sys.call('GET', '/api/v1/catalogue', bearer(issuer.accessToken(agent)))).status).toBe(200);
  });

  it('takes the role from the roles claim: 403 where the claim does not name a role the route needs', async () => {
    const noRoles = issuer.accessToken({ sub: 'nobody-1' });
    const unknownRoles = issuer.accessToken({ sub: 'nobody-2', roles: ['superuser', 'Agent'] });
    for (const token of [noRoles, unknownRoles]) {
      const r = await sys.call('GET', '/api/v1/catalogue', bearer(token));
      expect(r).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    }
    const agentOnOps = await sys.call('GET', '/api/v1/fraud-reviews', bearer(agentAlice()));
    expect(agentOnOps).toMatchObject({ status: 403, body: { error: { code: 'FORBIDDEN' } } });
    // A space-separated string claim and a person with two roles.
    expect((await sys.call('GET', '/api/v1/fraud-reviews', bearer(issuer.accessToken({ sub: 'olga-1', roles: 'agent ops' })))).status).toBe(200);
    expect((await sys.call('GET', '/api/v1/catalogue', bearer(issuer.accessToken({ sub: 'olga-1', roles: ['agent', 'ops'] })))).status).toBe(200);
    const admin = issuer.accessToken({ sub: 'adam-1', roles: ['admin'] });
    expect((await sys.call('GET', '/api/v1/orders/ORD-NONE', bearer(admin))).status).toBe(403);
  });

  it('ignores x-agent-id: the actor is the token subject, or the dev token’s fixed dev identity', async () => {
    const viaJwt = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { ...bearer(agentAlice(), { 'x-agent-id': 'mallory' }), body: {} });
    expect(viaJwt.status).toBe(201);
    expect(viaJwt.body.history[0].by).toBe('alice-7');
    const viaDevToken = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {}, headers: { 'x-agent-id': 'mallory' } });
    expect(viaDevToken.status).toBe(201);
    expect(viaDevToken.body.history[0].by).toBe(DEV_ACTORS.agent);
    const cancelled = await sys.call('POST', `/api/v1/orders/${viaDevToken.body.orderId}/cancel`, {
      ...bearer(issuer.accessToken({ sub: 'olga-1', roles: ['ops'] }), { 'x-agent-id': 'mallory' }),
      body: { reason: 'customer changed their mind' },
    });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.history.at(-1)).toMatchObject({ to: 'Cancelled', by: 'olga-1' });
    expect(JSON.stringify(cancelled.body.history)).not.toContain('mallory');
  });

  it('a machine client (client credentials) of the adaptor role acts for the warehouses configured for its client id', async () => {
    const csv = `${WAREHOUSE_RESPONSE_COLUMNS.join(',')}\n`;
    const upload = (token: string, warehouseId: string) =>
      sys.call('POST', `/api/v1/adaptor/warehouse-files?warehouseId=${warehouseId}&fileName=identity-${warehouseId}-${Date.now()}.csv`, {
        ...bearer(token, { 'content-type': 'text/csv' }),
        body: csv,
      });
    // Client-credentials tokens name the client (azp / client_id); some IdPs give no person as sub.
    const north = issuer.accessToken({ client_id: 'north-integration', roles: ['adaptor'] });
    expect((await upload(north, 'WH-SOUTH')).status).toBe(403);
    const accepted = await upload(north, 'WH-NORTH');
    expect(accepted.status, JSON.stringify(accepted.body)).toBeLessThan(300);
    const anywhere = issuer.accessToken({ sub: 'svc-2', azp: 'group-integration', roles: ['adaptor'] });
    expect((await upload(anywhere, 'WH-SOUTH')).status).toBeLessThan(300);
  });
});

describe('the identity provider', () => {
  it('answers 503, not 401, while the issuer cannot be reached, and asks again on the next request', async () => {
    const down = await startTestIssuer();
    const address = down.issuer;
    const token = down.accessToken({ sub: 'alice-7', roles: ['agent'] });
    await down.stop();
    const config = loadConfig({ NODE_ENV: 'test', OIDC_ISSUER: address });
    const err = await principalOf(config, `Bearer ${token}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 503, code: 'DEPENDENCY_UNAVAILABLE' });
    // A static token needs no provider; a non-JWT is simply not a token.
    expect(await principalOf(config, 'Bearer agent-dev-token')).toMatchObject({ subject: 'dev-agent', roles: ['agent'] });
    expect(await principalOf(config, 'Bearer not-a-jwt')).toBeNull();
    // A provider that fails once: the failure is not remembered, the next request discovers it.
    let calls = 0;
    const flaky = createServer(async (req, res) => {
      calls += 1;
      if (calls === 1) return void res.writeHead(500).end();
      const upstream = await fetch(`${issuer.issuer}${req.url}`);
      res.writeHead(upstream.status, { 'content-type': 'application/json' }).end(await upstream.text());
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    try {
      const flakyConfig = loadConfig({ NODE_ENV: 'test', OIDC_ISSUER: `http://127.0.0.1:${(flaky.address() as AddressInfo).port}` });
      await expect(principalOf(flakyConfig, `Bearer ${agentAlice()}`)).rejects.toMatchObject({ status: 503 });
      expect(await principalOf(flakyConfig, `Bearer ${agentAlice()}`)).toMatchObject({ subject: 'alice-7', name: 'Alice Agent', roles: ['agent'] });
    } finally {
      await new Promise((resolve) => flaky.close(resolve));
    }
  });
});

describe("AgentView's security headers", () => {
  it('every page and API answer: CSP without inline script, framed by nobody, nosniff, no referrer', async () => {
    for (const path of ['/accounts', '/signin', '/orders/ORD-ANY', '/api/v1/catalogue', '/docs']) {
      const res = await sys.api.request(path, { headers: { authorization: 'Bearer agent-dev-token' } });
      expect(res.status, path).toBeLessThan(400);
      const csp = res.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(directives['script-src'], `${path}: ${csp}`).toEqual(["'self'"]);
      expect(directives['frame-ancestors'], path).toEqual(["'none'"]);
      expect(directives['object-src'], path).toEqual(["'none'"]);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('x-frame-options'), path).toBe('DENY');
    }
    // The pages carry no inline script for the CSP to block: every <script> has a src on this origin.
    const html = await (await sys.api.request('/accounts')).text();
    const scripts = [...html.matchAll(/<script\b[^>]*>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [tag, body] of scripts) {
      expect(tag).toMatch(/\ssrc="\/ui\//);
      expect(body.trim()).toBe('');
    }
  });
});

describe('GET /me', () => {
  it('names the caller as the histories will: the subject, the display name and the roles', async () => {
    expect((await sys.call('GET', '/api/v1/me', bearer(agentAlice()))).body).toEqual({ subject: 'alice-7', name: 'Alice Agent', roles: ['agent'] });
    expect((await sys.call('GET', '/api/v1/me', { role: 'ops', headers: { 'x-agent-id': 'mallory' } })).body).toEqual({
      subject: DEV_ACTORS.ops,
      name: 'Dev Ops',
      roles: ['ops'],
    });
    const machine = issuer.accessToken({ client_id: 'north-integration', roles: ['adaptor'] });
    expect((await sys.call('GET', '/api/v1/me', bearer(machine))).body).toEqual({ subject: 'north-integration', name: null, roles: ['adaptor'] });
  });
});
