// AgentView, served by the API process at '/': page shells and the browser bundle. No route here
// reads or changes business data; the browser does that through /api/v1 with its own token or
// its session cookie (api/agentview-session.ts).
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import fs from 'node:fs';
import { UI_DIST } from './dist';
import { AccountPage, AccountsPage, AuditPage, BatchesPage, ExceptionsPage, FraudReviewsPage, OrderPage, SignInPage, StockPage, WorkQueuePage } from './pages';
import { log } from '../../infra/log';

const ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * `next` as a path on `origin` (path, query and fragment), or null when a browser would take it
 * elsewhere: resolved as the browser resolves it, so `/\\host`, `/\thost` and `//host` all fail.
 */
export function sameOriginPath(next: string, origin: string): string | null {
  let url: URL;
  try {
    url = new URL(next, origin);
  } catch {
    return null;
  }
  // A path starting with '//' would itself be read as another host when assigned to location.
  if (url.origin !== origin || url.pathname.startsWith('//')) return null;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** `oidcSignIn`: the sign-in page offers the OpenID provider's sign-in (api/agentview-session.ts). */
export function uiRoutes(opts: { oidcSignIn: boolean } = { oidcSignIn: false }) {
  if (!fs.existsSync(UI_DIST)) log.error({ component: 'api', bundle: UI_DIST }, "AgentView's bundle is missing: run npm run build:ui");
  const r = new Hono();
  r.get('/', (c) => c.redirect('/accounts'));
  r.get('/signin', (c) => {
    // The page's script goes to `next` after sign-in: only a path on this origin may reach it.
    const next = c.req.query('next');
    if (next === undefined) return c.html(<SignInPage oidc={opts.oidcSignIn} next="/accounts" />);
    const safe = sameOriginPath(next, new URL(c.req.url).origin);
    if (safe === next) return c.html(<SignInPage oidc={opts.oidcSignIn} next={safe} />);
    return c.redirect(safe ? `/signin?next=${encodeURIComponent(safe)}` : '/signin', 303);
  });
  // The form posts only when its script has not loaded; the token field has no name, so nothing
  // secret is sent. Back to the page, which needs the script.
  r.post('/signin', (c) => c.redirect('/signin', 303));
  r.get('/accounts', (c) => c.html(<AccountsPage />));
  r.get('/accounts/:accountId', (c) => {
    const accountId = c.req.param('accountId');
    return ID.test(accountId) ? c.html(<AccountPage accountId={accountId} />) : c.notFound();
  });
  r.get('/orders/:orderId', (c) => {
    const orderId = c.req.param('orderId');
    return ID.test(orderId) ? c.html(<OrderPage orderId={orderId} />) : c.notFound();
  });
  r.get('/stock', (c) => c.html(<StockPage />));
  r.get('/ops/queue', (c) => c.html(<WorkQueuePage />));
  r.get('/ops/fraud-reviews', (c) => c.html(<FraudReviewsPage />));
  r.get('/ops/exceptions', (c) => c.html(<ExceptionsPage />));
  r.get('/ops/batches', (c) => c.html(<BatchesPage />));
  r.get('/ops/audit', (c) => c.html(<AuditPage />));
  r.use(
    '/ui/*',
    serveStatic({
      root: UI_DIST,
      rewriteRequestPath: (p) => p.slice('/ui'.length),
      // Revalidated on every load (Last-Modified), so a new build shows at once.
      onFound: (_path, c) => c.header('cache-control', 'no-cache'),
    }),
  );
  return r;
}
