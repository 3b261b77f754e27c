// The small HTTP port of the processes without an API (worker, adaptor): liveness, readiness and
// Prometheus metrics for the orchestrator and the scraper. Bound to OPS_HOST:OPS_PORT; answers
// nothing else and carries no customer data.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { metrics } from './metrics';
import type { ReadinessCheck } from './readiness';
import { log, errorFields } from './log';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export async function startOpsServer(o: { port: number; host: string; component: string; ready: ReadinessCheck }): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const answer = (status: number, type: string, body: string) => res.writeHead(status, { 'content-type': type }).end(body);
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return answer(405, 'application/json', JSON.stringify({ error: { code: 'METHOD_NOT_ALLOWED', message: 'GET only' } }));
    if (path === '/healthz') return answer(200, 'application/json', JSON.stringify({ ok: true, component: o.component }));
    if (path === '/readyz') {
      void o.ready().then((r) => answer(r.ok ? 200 : 503, 'application/json', JSON.stringify(r)));
      return;
    }
    if (path === '/metrics') {
      void metrics.metrics().then(
        (text) => answer(200, metrics.contentType, text),
        (err) => {
          log.error({ component: o.component, ...errorFields(err) }, 'metrics could not be collected');
          answer(500, 'text/plain', 'metrics could not be collected\n');
        },
      );
      return;
    }
    answer(404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${path}` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ component: o.component, port }, 'ops port: /healthz, /readyz, /metrics');
  return { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
