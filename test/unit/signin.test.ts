// The sign-in page: where the page's script may go after sign-in (`next`), and what a submit
// without the script sends.
import { describe, expect, it } from 'vitest';
import { sameOriginPath, uiRoutes } from '../../api/ui/routes';

const ORIGIN = 'http://localhost:3000';
const ui = uiRoutes();
const get = (url: string) => ui.request(`${ORIGIN}${url}`, { redirect: 'manual' });

describe('sign-in next', () => {
  it('sends a next that leaves the origin back to a plain sign-in', async () => {
    for (const next of [
      '/%5C127.0.0.1:3102/x',
      '/%09/127.0.0.1:3102/x',
      '//127.0.0.1:3102/x',
      '/%5C%5Cevil.example',
      'https://evil.example/',
      'javascript:alert(1)',
      '/.//evil.example',
      '%2F%2Fevil.example',
      '/%0A/evil.example',
    ]) {
      const r = await get(`/signin?next=${next}`);
      expect(r.status, next).toBe(303);
      expect(r.headers.get('location'), next).toBe('/signin');
    }
  });

  it('serves the page for a path on this origin, and canonicalises one a browser would rewrite', async () => {
    for (const next of ['/accounts', '/orders/ORD-7KQ2M9XD4A?tab=history']) {
      const r = await get(`/signin?next=${encodeURIComponent(next)}`);
      expect(r.status, next).toBe(200);
    }
    expect((await get('/signin')).status).toBe(200);
    const dotted = await get(`/signin?next=${encodeURIComponent('/accounts/../stock')}`);
    expect(dotted.headers.get('location')).toBe(`/signin?next=${encodeURIComponent('/stock')}`);
  });

  it('resolves next as a browser does', () => {
    expect(sameOriginPath('/\\127.0.0.1:3102/x', ORIGIN)).toBeNull();
    expect(sameOriginPath('/\t/127.0.0.1:3102/x', ORIGIN)).toBeNull();
    expect(sameOriginPath('http://localhost:3000/accounts', ORIGIN)).toBe('/accounts');
    expect(sameOriginPath('/orders/x#units', ORIGIN)).toBe('/orders/x#units');
  });
});

describe('sign-in form', () => {
  it('posts, and its token field has no name, so a submit before the script loads puts no token in a URL', async () => {
    const html = await (await get('/signin')).text();
    const form = /<form id="signin-form"[^>]*>/.exec(html)![0];
    expect(form).toMatch(/method="post"/);
    const token = /<input id="token"[^>]*>/.exec(html)![0];
    expect(token).not.toMatch(/\bname=/);
    const posted = await ui.request(`${ORIGIN}/signin`, { method: 'POST', body: new URLSearchParams({ agentId: 'csa-1' }), redirect: 'manual' });
    expect(posted.status).toBe(303);
    expect(posted.headers.get('location')).toBe('/signin');
  });
});
