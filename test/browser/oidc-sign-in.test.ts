// AgentView's own OpenID sign-in in a real browser: the development provider (scripts/dev-idp.ts)
// over real HTTP, its login page filled in as a person would, the session an httpOnly cookie. The
// histories and the audit name the people who signed in; a signed-out session's cookie is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/dev-stack';
import { DEV_USERS, startDevIdp, type DevIdp } from '../../scripts/dev-idp';
import { startSystem, type TestSystem } from '../support/system';
import { openBrowser, signInWithProvider, type Browser, showing, WAIT } from './support';

let idp: DevIdp;
let sys: TestSystem;
let browser: Browser;
beforeAll(async () => {
  const port = await freePort();
  const agentViewUrl = `http://127.0.0.1:${port}`;
  idp = await startDevIdp({ port: 0, audience: 'hardware-orders', redirectUris: [`${agentViewUrl}/auth/callback`] });
  sys = await startSystem({ env: { OIDC_ISSUER: idp.issuer, AGENTVIEW_URL: agentViewUrl } });
  browser = await openBrowser(sys, { port });
}, 900_000);
afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  await idp?.stop();
});

const sessionCookie = async () => (await browser.context.cookies(browser.baseUrl)).find((c) => c.name === 'agentview_session');
/** The API as a browser holding only this session cookie would call it. */
const withCookie = (value: string, path: string, init: RequestInit = {}) =>
  fetch(`${browser.baseUrl}${path}`, { ...init, headers: { cookie: `agentview_session=${value}`, ...(init.headers as Record<string, string>) } });

describe('AgentView sign-in with OpenID Connect', () => {
  it('signs alice in through the provider, her order names her; signed out, her cookie is refused; olga approves it and the audit names her', async () => {
    const agent = await browser.newPage();
    await signInWithProvider(agent, browser.baseUrl, 'alice', DEV_USERS.alice.password);
    await showing(agent, '#signed-in-as', 'Alice Agent (alice) (agent)');
    // The access token stays on the server: the page holds no token, the cookie is out of the script's reach.
    expect(
      await agent.evaluate(() =>
        (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('agentview.token'),
      ),
    ).toBeNull();
    const cookie = (await sessionCookie())!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(await agent.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).not.toContain('agentview_session');

    // A change made with the cookie but without AgentView's header is refused (CSRF); reads are not.
    expect((await withCookie(cookie.value, '/api/v1/me')).status).toBe(200);
    const forged = await withCookie(cookie.value, '/api/v1/accounts/ACC-1003/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');

    // Alice starts an order, adds a handset, sends it to an address the fraud rules refer, and generates it.
    await agent.goto(`${browser.baseUrl}/accounts/ACC-1003`);
    await agent.getByRole('button', { name: 'Start a new order' }).click();
    await agent.waitForURL(/\/orders\/ORD-[0-9A-Z]{10}$/);
    const orderId = agent.url().split('/').pop()!;
    await showing(agent, '#order-status', 'New');
    await agent.getByLabel('Kind').selectOption('handset');
    await agent.getByRole('button', { name: 'Add Google Pixel 9 128GB Obsidian' }).click();
    await showing(agent, '#lines tbody', 'HS-GGL-PX9-128');
    await agent.getByLabel('Contact name').fill('Qwerty Smith');
    await agent.getByLabel('Address line 1').fill('5 Castle Street');
    await agent.getByRole('button', { name: 'Save delivery' }).click();
    await showing(agent, '#busy', 'Delivery saved.');
    await agent.getByRole('button', { name: 'Generate order' }).click();
    await showing(agent, '#fraud', 'Decision: refer');
    await showing(agent, '#timeline .who-did', 'alice');
    const referred = await sys.call('GET', `/api/v1/orders/${orderId}`, { role: 'ops' });
    const history = referred.body.history as { by: string; from: string; to: string }[];
    // Her generation (New → the next status) and her delivery edit name her, never a shared identity.
    expect(history.find((e) => e.from === 'New' && e.to !== 'New')?.by).toBe('alice');
    expect(history.map((e) => e.by)).not.toContain('dev-agent');

    // Signing out ends the session on the server and, after the provider's confirmation, the
    // provider's session too: the old cookie no longer works, and the page is back at sign-in.
    await agent.locator('#sign-out').click();
    await agent.getByRole('button', { name: 'Sign out', exact: true }).click();
    await agent.waitForURL(`${browser.baseUrl}/signin`);
    expect(await sessionCookie()).toBeUndefined();
    const refused = await withCookie(cookie.value, '/api/v1/me');
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('UNAUTHENTICATED');
    // A page still open on the old session goes back to sign in at its next call.
    await agent.context().addCookies([{ ...cookie }]);
    await agent.goto(`${browser.baseUrl}/orders/${orderId}`);
    await agent.waitForURL(/\/signin\?next=/, WAIT);
    await agent.close();

    // Olga, at the same desk, approves it: the provider asks for a password again (alice's session
    // there ended with hers here), so she is not signed in as alice.
    const ops = await browser.newPage();
    await signInWithProvider(ops, browser.baseUrl, 'olga', DEV_USERS.olga.password);
    await showing(ops, '#signed-in-as', 'Olga Ops (olga) (ops)');
    await ops.getByRole('link', { name: 'Fraud reviews' }).click();
    await showing(ops, '#fraud-queue', orderId);
    await ops.getByLabel('Reason for the decision').fill('Called the customer; delivery confirmed');
    await ops.getByRole('button', { name: 'Approve' }).click();
    await showing(ops, '#notice', `${orderId}: approved`);

    await ops.getByRole('link', { name: 'Audit' }).click();
    await ops.getByLabel('Person').fill('olga');
    await ops.getByRole('button', { name: 'Show' }).click();
    await showing(ops, '#audit tbody', orderId);
    await showing(ops, '#audit tbody', 'fraud review approved: Called the customer; delivery confirmed');
    const audit = await sys.call('GET', '/api/v1/audit?actor=olga', { role: 'ops' });
    expect(audit.status).toBe(200);
    expect(JSON.stringify(audit.body)).toContain(orderId);
    await browser.screenshot(ops, 'oidc-ops-audit');
    await ops.close();
  });

  it('an admin (neither agent nor ops) is told AgentView is not for them, and the session is not left open', async () => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    await page.goto(`${browser.baseUrl}/signin`);
    await page.getByRole('link', { name: 'Sign in with your organisation account' }).click();
    await page.getByLabel('Username').fill('adam');
    await page.getByLabel('Password').fill(DEV_USERS.adam.password);
    const callback = page.waitForResponse((r) => new URL(r.url()).pathname === '/auth/callback', WAIT);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const issued = /agentview_session=([^;]+)/.exec((await (await callback).allHeaders())['set-cookie'] ?? '')?.[1];
    expect(issued).toBeTruthy();
    await showing(page, '#notice', 'not for AgentView');
    expect(new URL(page.url()).pathname).toBe('/signin');
    // The server ended the session: the cookie the callback set is gone, and refused if replayed.
    await expect.poll(sessionCookie, WAIT).toBeUndefined();
    expect((await withCookie(issued!, '/api/v1/me')).status).toBe(401);
    await page.close();
  });
});
