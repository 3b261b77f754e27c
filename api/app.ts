// The agent API: small routers per resource mounted on one app, validated at the edge with zod
// schemas that also produce the OpenAPI document.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Client } from '@temporalio/client';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { timeout } from 'hono/timeout';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { metrics } from '../infra/metrics';
import { readinessOf } from '../infra/readiness';
import type { StockClient } from '../infra/stock-client';
import { agentViewSessionAuth, agentViewSignInRoutes } from './agentview-session';
import { requireRole, requireToken } from './auth';
import type { ApiEnv } from './env';
import { apiError, errorBody, sendError } from './errors';
import { observeRequests } from './observability';
import { accountRoutes } from './routes/accounts';
import { adaptorRoutes } from './routes/adaptor';
import { billingRoutes } from './routes/billing';
import { catalogueRoutes } from './routes/catalogue';
import { codecCors, codecRoutes } from './routes/codec';
import { docsRoutes } from './routes/docs';
import { meRoutes } from './routes/me';
import { enrolmentRoutes } from './routes/enrolment';
import { orderRoutes } from './routes/orders';
import { referenceDataRoutes } from './routes/reference-data';
import { searchRoutes } from './routes/search';
import { stockRoutes } from './routes/stock';
import { workQueueRoutes } from './routes/work-queue';
import { auditRoutes } from './routes/audit';
import { returnRoutes } from './routes/returns';
import { uiRoutes } from './ui/routes';

export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: Client;
  /** null when the deployment is not connected to warehouses. */
  stock: StockClient | null;
}

/** Validation failures of any route answer 400 in the common error shape. */
export function newRouter() {
  return new OpenAPIHono<ApiEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        return c.json(errorBody('VALIDATION_FAILED', issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; '), { issues }), 400);
      }
    },
  });
}

export const JSON_BODY_LIMIT = 256 * 1024;
export const REQUEST_TIMEOUT_MS = 30_000;

export function createApp(deps: ApiDeps) {
  const app = newRouter();
  app.use('*', observeRequests());
  // AgentView's pages load their script from /ui only (no inline script), are framed by nobody and
  // send no referrer (an order id in a URL stays here); nosniff and the rest are hono's defaults.
  app.use(
    '*',
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      xFrameOptions: 'DENY',
      referrerPolicy: 'no-referrer',
    }),
  );
  app.use('/api/v1/codec/*', codecCors(deps.config));
  // AgentView's session cookie stands for its access token when no Authorization header is sent.
  app.use('/api/*', agentViewSessionAuth(deps.config, deps.db));
  // No token, no API: every path under /api, documented or not, answers 401 first.
  app.use('/api/*', requireToken(deps.config));
  // A slow dependency answers 503 rather than holding the agent's screen (toApiError maps the 503).
  app.use('/api/*', timeout(REQUEST_TIMEOUT_MS, new HTTPException(503, { message: 'the request took too long' })));
  // Files come to the adaptor and import routes as streams with their own, larger caps.
  const streamed = (path: string) => path.startsWith('/api/v1/adaptor/warehouse-files') || path.startsWith('/api/v1/imports/');
  app.use('/api/*', async (c, next) => {
    if (streamed(c.req.path)) return next();
    return bodyLimit({
      maxSize: JSON_BODY_LIMIT,
      onError: (c) => c.json(errorBody('PAYLOAD_TOO_LARGE', `request bodies are limited to ${JSON_BODY_LIMIT} bytes`), 413),
    })(c, next);
  });
  app.use('/api/*', async (c, next) => {
    const method = c.req.method;
    if ((method === 'POST' || method === 'PUT' || method === 'PATCH') && !streamed(c.req.path)) {
      const type = c.req.header('content-type') ?? '';
      const length = c.req.header('content-length');
      const hasBody = length !== undefined ? Number(length) > 0 : c.req.header('transfer-encoding') !== undefined;
      if (hasBody && !/^application\/json\b/i.test(type)) throw apiError('UNSUPPORTED_MEDIA_TYPE', 'send JSON with content-type application/json');
    }
    await next();
  });

  app.route('/api/v1', catalogueRoutes(deps));
  app.route('/api/v1', stockRoutes(deps));
  app.route('/api/v1', accountRoutes(deps));
  app.route('/api/v1', orderRoutes(deps));
  app.route('/api/v1', adaptorRoutes(deps));
  app.route('/api/v1', enrolmentRoutes(deps));
  app.route('/api/v1', billingRoutes(deps));
  app.route('/api/v1', codecRoutes(deps));
  app.route('/api/v1', referenceDataRoutes(deps));
  app.route('/api/v1', searchRoutes(deps));
  app.route('/api/v1', workQueueRoutes(deps));
  app.route('/api/v1', auditRoutes(deps));
  app.route('/api/v1', returnRoutes(deps));
  app.route('/api/v1', meRoutes(deps));
  // Probes and the scraper: alive, able to work (MongoDB and Temporal answer), and metrics for the
  // ops role's token (they name routes and rates, nothing of customers).
  app.get('/healthz', (c) => c.json({ ok: true }));
  const ready = readinessOf(deps.db, deps.temporal.connection);
  app.get('/readyz', async (c) => {
    const r = await ready();
    return c.json(r, r.ok ? 200 : 503);
  });
  app.get('/metrics', requireRole(deps.config, 'ops'), async (c) => c.body(await metrics.metrics(), 200, { 'content-type': metrics.contentType }));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'hardware-orders API',
      version: '1.0.0',
      description: 'Hardware orders on customer accounts: catalogue, stock, orders, fraud review, warehouse adaptor.',
    },
    security: [{ bearer: [] }],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', description: 'agent, adaptor, ops or admin token' });
  app.route('/', docsRoutes());
  app.route('/', agentViewSignInRoutes(deps.config, deps.db));
  app.route('/', uiRoutes({ oidcSignIn: deps.config.oidc !== null }));

  app.notFound((c) => c.json(errorBody('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err, c) => sendError(c, err));
  return app;
}
