// P6's load: agents' requests at a fixed rate over real HTTP, open loop: request k is due at
// k / rate seconds whether or not earlier ones have been answered (a slow API does not slow the
// traffic down, as it does not slow a call centre's agents), and its latency counts from when it
// was due, so a late send is charged to the run rather than hidden. Runs in a process of its own
// (agent-traffic-child.ts) so that its timers do not share the API's event loop.
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile } from './metrics';
import { deliveryFor, ORDER_LINES } from './orders';

export const ROUTES = ['order read', 'line add', 'create order', 'generate', 'stock check'] as const;
export type Route = (typeof ROUTES)[number];

/**
 * What an agent's screen sends, in percent: reads most (the order is shown again after every
 * action and while the customer talks), two lines per order, one create and one generate per
 * order, a stock check now and then while choosing devices.
 */
export const AGENT_MIX: Record<Route, number> = { 'order read': 50, 'line add': 20, 'create order': 10, generate: 10, 'stock check': 10 };

/** `n` routes in the mix's proportions, evenly interleaved (smooth weighted round robin). */
export function routeSchedule(mix: Record<Route, number>, n: number): Route[] {
  const total = ROUTES.reduce((a, r) => a + mix[r], 0);
  const credit = Object.fromEntries(ROUTES.map((r) => [r, 0])) as Record<Route, number>;
  const out: Route[] = [];
  for (let k = 0; k < n; k++) {
    for (const r of ROUTES) credit[r] += mix[r];
    const next = ROUTES.reduce((best, r) => (credit[r] > credit[best] ? r : best));
    credit[next] -= total;
    out.push(next);
  }
  return out;
}

export interface TrafficOptions {
  baseUrl: string;
  token: string;
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Orders created (with a line) before the clock starts, for the first line adds and generates. */
  prepared: number;
  /** deliveryFor(firstAddress + i) for the i-th order created here. */
  firstAddress: number;
  /** An answer later than this is an error (as autocannon's timeout in P3). */
  timeoutMs: number;
  mix?: Record<Route, number>;
}

export interface RouteResult {
  /** Due in the schedule. */
  scheduled: number;
  /** Not sent: no order was free for it (every candidate had a request of its own in flight). */
  skipped: number;
  /** Answered 2xx. */
  answered: number;
  /** Answered otherwise, or not within the timeout. */
  errors: number;
  statusCodes: Record<string, number>;
  errorSamples: string[];
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface TrafficResult {
  rate: number;
  seconds: number;
  mix: Record<Route, number>;
  sent: number;
  /** How late the driver sent, p99: its own lag, included in every latency. */
  sendLagP99Ms: number;
  /** Requests in flight at once, at most: more than one means the loop did not wait for answers. */
  maxInFlight: number;
  routes: Record<Route | 'all routes', RouteResult>;
}

interface AgentOrder {
  id: string;
  lines: number;
  generated: boolean;
  /** A request for it is in flight: an agent does one thing at a time on an order. */
  busy: boolean;
}

export async function agentTraffic(o: TrafficOptions): Promise<TrafficResult> {
  const mix = o.mix ?? AGENT_MIX;
  const headers = { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' };
  let created = 0;
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(o.baseUrl + url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs),
    });
    const text = await res.text();
    return { status: res.status, text };
  };
  const createOrder = async () => {
    const r = await call('POST', '/api/v1/accounts/ACC-1001/orders', { delivery: deliveryFor(o.firstAddress + created++) });
    return r.status < 300 ? { ...r, order: { id: JSON.parse(r.text).orderId as string, lines: 0, generated: false, busy: false } } : r;
  };

  const orders: AgentOrder[] = [];
  for (let i = 0; i < o.prepared; i++) {
    const r = await createOrder();
    if (!('order' in r)) throw new Error(`preparing orders: create answered ${r.status}: ${r.text.slice(0, 300)}`);
    const line = await call('POST', `/api/v1/orders/${r.order.id}/lines`, ORDER_LINES[0]);
    if (line.status >= 300) throw new Error(`preparing orders: line add answered ${line.status}: ${line.text.slice(0, 300)}`);
    orders.push({ ...r.order, lines: 1 });
  }
  const free = (ok: (x: AgentOrder) => boolean) => orders.filter((x) => !x.busy && !x.generated && ok(x));

  const latencies = Object.fromEntries(ROUTES.map((r) => [r, [] as number[]])) as Record<Route, number[]>;
  const results = Object.fromEntries(
    ROUTES.map((r) => [r, { scheduled: 0, skipped: 0, answered: 0, errors: 0, statusCodes: {} as Record<string, number>, errorSamples: [] as string[] }]),
  ) as Record<Route, Omit<RouteResult, 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs'>>;
  const lags: number[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let reads = 0;

  /** What the route sends, or undefined when no order is free for it. */
  const request = (route: Route): (() => Promise<{ status: number; text: string }>) | undefined => {
    if (route === 'order read') {
      const target = orders[reads++ % orders.length];
      return target && (() => call('GET', `/api/v1/orders/${target.id}`));
    }
    if (route === 'stock check') return () => call('GET', `/api/v1/stock?${ORDER_LINES.map((l) => `sku=${l.sku}`).join('&')}`);
    if (route === 'create order') {
      return async () => {
        const r = await createOrder();
        if ('order' in r) orders.push(r.order);
        return r;
      };
    }
    // Line adds go to the order with the fewest lines, generates to the one with the most.
    const candidates = route === 'line add' ? free(() => true).sort((a, b) => a.lines - b.lines) : free((x) => x.lines > 0).sort((a, b) => b.lines - a.lines);
    const target = candidates[0];
    if (!target) return undefined;
    target.busy = true;
    if (route === 'generate') target.generated = true;
    return async () => {
      try {
        const r =
          route === 'line add'
            ? await call('POST', `/api/v1/orders/${target.id}/lines`, ORDER_LINES[target.lines % ORDER_LINES.length])
            : await call('POST', `/api/v1/orders/${target.id}/generate`);
        if (route === 'line add' && r.status < 300) target.lines++;
        return r;
      } finally {
        target.busy = false;
      }
    };
  };

  const fire = async (route: Route, dueAt: number) => {
    const res = results[route];
    res.scheduled++;
    const send = request(route);
    if (!send) {
      res.skipped++;
      return;
    }
    lags.push(performance.now() - dueAt);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let error: string | undefined;
    try {
      const r = await send();
      res.statusCodes[r.status] = (res.statusCodes[r.status] ?? 0) + 1;
      if (r.status >= 300) error = `${r.status}: ${r.text.slice(0, 200)}`;
    } catch (err) {
      error = String((err as Error).message ?? err);
    }
    inFlight--;
    latencies[route].push(performance.now() - dueAt);
    if (error === undefined) res.answered++;
    else {
      res.errors++;
      if (res.errorSamples.length < 3) res.errorSamples.push(error);
    }
  };

  const schedule = routeSchedule(mix, Math.round(o.rate * o.seconds));
  const pending: Promise<void>[] = [];
  const t0 = performance.now();
  for (let k = 0; k < schedule.length;) {
    const now = performance.now();
    for (; k < schedule.length && t0 + (k * 1000) / o.rate <= now; k++) pending.push(fire(schedule[k], t0 + (k * 1000) / o.rate));
    if (k < schedule.length) await sleep(Math.max(0, t0 + (k * 1000) / o.rate - performance.now()));
  }
  await Promise.all(pending);

  const summary = (r: Omit<RouteResult, 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs'>, xs: number[]): RouteResult => ({
    ...r,
    p50Ms: percentile(xs, 50),
    p90Ms: percentile(xs, 90),
    p99Ms: percentile(xs, 99),
    maxMs: xs.length ? Math.max(...xs) : NaN,
  });
  const all = { scheduled: 0, skipped: 0, answered: 0, errors: 0, statusCodes: {} as Record<string, number>, errorSamples: [] as string[] };
  for (const r of ROUTES) {
    all.scheduled += results[r].scheduled;
    all.skipped += results[r].skipped;
    all.answered += results[r].answered;
    all.errors += results[r].errors;
    for (const [code, n] of Object.entries(results[r].statusCodes)) all.statusCodes[code] = (all.statusCodes[code] ?? 0) + n;
    all.errorSamples.push(...results[r].errorSamples.map((e) => `${r}: ${e}`));
  }
  return {
    rate: o.rate,
    seconds: o.seconds,
    mix,
    sent: lags.length,
    sendLagP99Ms: percentile(lags, 99),
    maxInFlight,
    routes: {
      ...(Object.fromEntries(ROUTES.map((r) => [r, summary(results[r], latencies[r])])) as Record<Route, RouteResult>),
      'all routes': summary(
        all,
        ROUTES.flatMap((r) => latencies[r]),
      ),
    },
  };
}
