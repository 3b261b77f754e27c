// AgentView, served by the API process at '/': page shells and the browser bundle. No route here
// reads or changes business data; the browser does that through /api/v1 with its own token.
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import fs from 'node:fs';
import { UI_DIST } from './dist';
import { AccountPage, AccountsPage, ExceptionsPage, FraudReviewsPage, OrderPage, SignInPage, StockPage } from './pages';

const ID = /^[A-Za-z0-9._-]{1,64}$/;

export function uiRoutes() {
  if (!fs.existsSync(UI_DIST)) console.error(`AgentView's bundle is missing (${UI_DIST}): run npm run build:ui`);
  const r = new Hono();
  r.get('/', (c) => c.redirect('/accounts'));
  r.get('/signin', (c) => c.html(<SignInPage />));
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
  r.get('/ops/fraud-reviews', (c) => c.html(<FraudReviewsPage />));
  r.get('/ops/exceptions', (c) => c.html(<ExceptionsPage />));
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
