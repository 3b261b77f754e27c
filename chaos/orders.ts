// The load of a chaos run: a seeded mix of orders driven over HTTP as an agent's screen would, each
// call retried through outages with the same Idempotency-Key, and ops deciding fraud referrals.
import { setTimeout as sleep } from 'node:timers/promises';
import { isTerminal, type OrderState } from '../domain/order-state';
import type { Db } from '../infra/db';
import type { Rng } from './rng';

export interface DrivenOrder {
  index: number;
  accountId: string;
  orderId?: string;
  plan: OrderPlan;
  /** Refusals (4xx) the API gave this order's calls: route and code. */
  refusals: string[];
}

export interface OrderPlan {
  accountId: string;
  lines: { sku: string; quantity: number; enrolment?: 'apple' | 'google' | 'samsung' }[];
  delivery?: 'otherAddress' | 'blocklisted';
  cancel?: 'beforeGenerate' | 'afterGenerate';
  fraudReview: 'approve' | 'reject';
}

const ACCOUNTS = ['ACC-1001', 'ACC-1002', 'ACC-1003'] as const; // immediate, deferred, deferred
const OTHER_ADDRESS = {
  name: 'Dana Whitfield',
  phone: '+44 7700 900789',
  address: { lines: ['8 Canal Wharf'], city: 'Manchester', postcode: 'M1 5AN', country: 'GB' },
};
const BLOCKLISTED = { name: 'Evan Marsh', address: { lines: ['2 Quay Street'], city: 'Hull', postcode: 'ZZ99 9ZZ', country: 'GB' } };
/** WH-NORTH has no routers, WH-SOUTH no Pixels: orders with both are split across warehouses. */
const STOCK: [string, string, number][] = [
  ['WH-NORTH', 'PR-ROUTER-5G', 0],
  ['WH-SOUTH', 'HS-GGL-PX9-128', 0],
];
const PLENTY = 1_000_000;
const SKUS = [
  'HS-APL-IP16-128',
  'HS-APL-IP16P-256',
  'HS-GGL-PX9-128',
  'HS-SAM-S25-256',
  'HS-SAM-A16-128',
  'PR-APL-USBC-20W',
  'PR-GEN-CASE-IP16',
  'PR-SAM-BUDS3',
  'PR-ROUTER-5G',
  'SW-MDM-1Y',
];
const ENROL: Record<string, 'apple' | 'google' | 'samsung'> = {
  'HS-APL-IP16-128': 'apple',
  'HS-APL-IP16P-256': 'apple',
  'HS-GGL-PX9-128': 'google',
  'HS-SAM-S25-256': 'samsung',
  'HS-SAM-A16-128': 'samsung',
};

function planOrder(r: Rng, index: number): OrderPlan {
  const accountId = ACCOUNTS[index % 3];
  const lines: OrderPlan['lines'] = [];
  const count = r.int(1, 3);
  const used = new Set<string>();
  if (r.chance(0.3)) {
    // A split order: a router only the south has, a Pixel only the north has.
    lines.push({ sku: 'PR-ROUTER-5G', quantity: 1 }, { sku: 'HS-GGL-PX9-128', quantity: r.int(1, 2) });
    used.add('PR-ROUTER-5G').add('HS-GGL-PX9-128');
  }
  while (lines.length < count) {
    const sku = r.pick(SKUS);
    if (used.has(sku)) continue;
    used.add(sku);
    lines.push({ sku, quantity: r.int(1, 2), ...(ENROL[sku] && r.chance(0.4) ? { enrolment: ENROL[sku] } : {}) });
  }
  const d = r.next();
  const c = r.next();
  return {
    accountId,
    lines,
    ...(d < 0.1 ? { delivery: 'otherAddress' as const } : d < 0.14 ? { delivery: 'blocklisted' as const } : {}),
    ...(c < 0.04 ? { cancel: 'beforeGenerate' as const } : c < 0.08 ? { cancel: 'afterGenerate' as const } : {}),
    fraudReview: r.chance(0.8) ? 'approve' : 'reject',
  };
}

/** The run's orders, planned from the seed. */
export function planOrders(r: Rng, n: number): DrivenOrder[] {
  return Array.from({ length: n }, (_, index) => {
    const plan = planOrder(r, index);
    return { index, accountId: plan.accountId, plan, refusals: [] };
  });
}

/** The simulator's stock: plenty of everything but the two gaps that split orders. */
export async function stockWarehouses(simulatorUrl: string): Promise<void> {
  for (const [wh, sku, n] of [
    ...STOCK,
    ...['WH-NORTH', 'WH-SOUTH'].flatMap((wh) =>
      SKUS.filter((s) => !STOCK.some(([w, k]) => w === wh && k === s)).map((s) => [wh, s, PLENTY] as [string, string, number]),
    ),
  ]) {
    const res = await fetch(`${simulatorUrl}/warehouses/${wh}/stock/${sku}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ available: n }),
    });
    if (!res.ok) throw new Error(`could not set simulator stock: ${res.status}`);
  }
}

const TOKENS = { agent: 'agent-dev-token', ops: 'ops-dev-token' } as const;
/** The customers' ids in the manufacturers' programmes, given when an order asks for enrolment. */
const PROGRAMME_IDS = { apple: 'ORG-APPLE-CHAOS', google: '7000001', samsung: 'KNOX-CHAOS-1' } as const;
/** Refusals that are answers, not failures: the order moved on before the call landed. */
export const EXPECTED_REFUSALS = new Set(['cancel:INVALID_TRANSITION', 'fraudReview:INVALID_TRANSITION']);

interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read field by field
  body: any;
}

export class ApiDriver {
  retries = 0;
  /** Calls answered by each API instance (by its base URL). */
  readonly answeredBy = new Map<string, number>();
  private readonly bases: string[];

  /** One base URL, or several API instances: each call starts on one (by `spread`) and moves to the next when it is down. */
  constructor(base: string | string[]) {
    this.bases = typeof base === 'string' ? [base] : base;
  }

  /**
   * One API call, retried through outages (network errors, 5xx) with the same Idempotency-Key,
   * so a retry never does the thing twice (on another instance too: the key is stored in the
   * database every instance shares). Returns the first non-5xx answer. `spread` picks the first
   * instance tried (an order's index spreads orders over instances).
   */
  async call(method: string, url: string, o: { body?: unknown; key?: string; role?: keyof typeof TOKENS; spread?: number } = {}): Promise<ApiAnswer> {
    const deadline = Date.now() + 10 * 60_000;
    let wait = 250;
    for (let attempt = 0; ; attempt++) {
      const base = this.bases[((o.spread ?? 0) + attempt) % this.bases.length];
      try {
        const res = await fetch(base + url, {
          method,
          headers: {
            authorization: `Bearer ${TOKENS[o.role ?? 'agent']}`,
            ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(o.key ? { 'idempotency-key': o.key } : {}),
          },
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: AbortSignal.timeout(40_000),
        });
        const text = await res.text();
        if (res.status < 500 && res.status !== 429) {
          this.answeredBy.set(base, (this.answeredBy.get(base) ?? 0) + 1);
          return { status: res.status, body: text ? JSON.parse(text) : null };
        }
      } catch {
        // connection refused or reset: the API is down; try again
      }
      if (Date.now() > deadline) throw new Error(`${method} ${url} kept failing for 10 minutes`);
      this.retries++;
      // With another instance to try, try it at once; with one, back off.
      if (this.bases.length === 1 || attempt % this.bases.length === this.bases.length - 1) {
        await sleep(wait);
        wait = Math.min(wait * 2, 3000);
      }
    }
  }
}

export async function driveOrder(api: ApiDriver, o: DrivenOrder, onSubmitted: () => void): Promise<void> {
  const p = o.plan;
  const key = (step: string) => `chaos-${o.index}-${step}`;
  const refused = (what: string, r: ApiAnswer) => {
    if (r.status >= 400) o.refusals.push(`${what}:${r.body?.error?.code ?? r.status}`);
    return r.status >= 400;
  };
  const spread = o.index;
  const created = await api.call('POST', `/api/v1/accounts/${p.accountId}/orders`, { body: {}, key: key('create'), spread });
  if (refused('create', created)) return onSubmitted();
  o.orderId = created.body.orderId as string;
  const base = `/api/v1/orders/${o.orderId}`;
  for (const [i, l] of p.lines.entries()) refused('addLine', await api.call('POST', `${base}/lines`, { body: l, key: key(`line-${i}`), spread }));
  const programmes = [...new Set(p.lines.flatMap((l) => (l.enrolment ? [l.enrolment] : [])))];
  if (programmes.length) {
    const customerIds = Object.fromEntries(programmes.map((m) => [m, PROGRAMME_IDS[m]]));
    refused('requestEnrolment', await api.call('POST', `${base}/enrolment`, { body: { customerIds }, key: key('enrol'), spread }));
  }
  if (p.delivery)
    refused('setDelivery', await api.call('PUT', `${base}/delivery`, { body: p.delivery === 'blocklisted' ? BLOCKLISTED : OTHER_ADDRESS, spread }));
  if (p.cancel === 'beforeGenerate') {
    refused('cancel', await api.call('POST', `${base}/cancel`, { body: { reason: 'customer changed their mind' }, key: key('cancel'), spread }));
    return onSubmitted();
  }
  if (refused('generate', await api.call('POST', `${base}/generate`, { key: key('generate'), spread: spread + 1 }))) {
    // An agent whose order cannot be generated cancels it rather than leave it open.
    refused('cancel', await api.call('POST', `${base}/cancel`, { body: { reason: 'could not be generated' }, key: key('cancel'), spread }));
    return onSubmitted();
  }
  if (p.cancel === 'afterGenerate') {
    const r = await api.call('POST', `${base}/cancel`, { body: { reason: 'customer cancelled after generation' }, key: key('cancel'), spread });
    // Too late is an answer, not a failure: the order may already be with the warehouse or done.
    refused('cancel', r);
  }
  onSubmitted();
}

/**
 * Watches the read model every second: counts terminal orders, and has ops decide each fraud
 * referral of the run's orders (in `byId` once created) as the order's plan says.
 */
export function watchOrders(db: Db, api: ApiDriver, byId: ReadonlyMap<string, DrivenOrder>) {
  let terminal = 0;
  let watching = true;
  const reviewed = new Set<string>();
  const reviewAttempts = new Map<string, number>();
  const watcher = (async () => {
    while (watching) {
      try {
        const docs = await db.models.OrderView.find({}, { orderId: 1, status: 1, state: 1 }).lean();
        terminal = docs.filter((d) => isTerminal(d.status as OrderState['status'])).length;
        for (const d of docs) {
          const fraud = (d.state as Partial<OrderState>)?.fraud;
          const o = byId.get(d.orderId);
          if (o && d.status === 'AwaitingGeneration' && fraud?.awaitingReview && !fraud.review && !reviewed.has(d.orderId)) {
            reviewed.add(d.orderId);
            const attempt = (reviewAttempts.get(d.orderId) ?? 0) + 1;
            reviewAttempts.set(d.orderId, attempt);
            void api
              .call('POST', `/api/v1/orders/${d.orderId}/fraud-review`, {
                role: 'ops',
                key: `chaos-${o.index}-review-${attempt}`,
                body: { decision: o.plan.fraudReview, reason: 'chaos run: seeded decision' },
              })
              .then((res) => {
                if (res.status < 400) return;
                o.refusals.push(`fraudReview:${res.body?.error?.code ?? res.status}`);
                // The read model can run ahead of the workflow's durable state for a moment (a
                // workflow task redone after a crash): ops see the referral and try again, as a
                // new request (the refused one is remembered under its Idempotency-Key).
                if (attempt < 10) setTimeout(() => reviewed.delete(d.orderId), 3000);
              });
          }
        }
      } catch {
        // the database is down for a moment
      }
      await sleep(1000);
    }
  })();
  return {
    terminal: () => terminal,
    async stop() {
      watching = false;
      await watcher;
    },
  };
}
