// What an operator sees of each API request: a request id (the caller's x-request-id when it is a
// sane token, else a new one; echoed back), one log line with route, status, duration and the
// authenticated actor, and the request counters and latency histogram. Never the body, the query
// or the headers: they carry tokens and customers' details.
import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { routePath } from 'hono/route';
import { log } from '../infra/log';
import { httpRequestSeconds, httpRequests } from '../infra/metrics';
import type { ApiEnv } from './env';

const requestLog = log.child({ component: 'api' });
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function observeRequests(): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId = given && SANE_REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      const seconds = (performance.now() - started) / 1000;
      c.res.headers.set('x-request-id', requestId);
      // The route template (/api/v1/orders/:orderId), so label values stay few.
      const labels = { method: c.req.method, route: routePath(c, -1), status: String(c.res.status) };
      httpRequests.inc(labels);
      httpRequestSeconds.observe(labels, seconds);
      const line = { requestId, ...labels, ms: Math.round(seconds * 1000), actor: c.get('actor') ?? null };
      if (c.res.status >= 500) requestLog.error(line, 'request failed');
      else requestLog.info(line, 'request');
    }
  };
}
