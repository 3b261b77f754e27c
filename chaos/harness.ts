// Crash-and-restart harness: the whole system as separate processes on its own Temporal dev server
// and FerretDB, a seeded mix of orders driven over HTTP, and SIGKILLs at seeded moments (worker,
// Temporal, FerretDB, API, adaptor), each victim restarted after a short pause. After recovery it
// counts what survived: every order terminal, one charge per shipped line and batch, one outbound
// file per sales order, every dispatch row applied once, every inbound file archived or
// quarantined with a report. `npm run chaos` runs 500 orders; test/integration/chaos.test.ts 50.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { chargesForOrder } from '../domain/billing';
import { isTerminal, type OrderState } from '../domain/order-state';
import { warehouseFolders } from '../infra/config';
import { connectDb, type Db } from '../infra/db';
import { readDispatchRows } from '../infra/dispatch-rows';
import { ensureTools, freePort, startFerretDb, startTemporal, waitForPort, type ManagedProcess } from '../infra/dev-stack';
import { seedDemoData } from '../infra/seed';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export type KillTarget = 'worker' | 'temporal' | 'ferretdb' | 'api' | 'adaptor';
export const DEFAULT_KILLS: Record<KillTarget, number> = { worker: 3, temporal: 1, ferretdb: 1, api: 1, adaptor: 1 };

export interface ChaosOptions {
  orders: number;
  seed: number;
  /** Everything of the run (databases, warehouse folders, logs) goes here. */
  workDir: string;
  kills?: Partial<Record<KillTarget, number>>;
  /** Orders in flight at once. */
  concurrency?: number;
  /** Share of warehouse lines the simulator answers with an error. */
  warehouseErrorRate?: number;
  /** How long to wait for every order to finish after the last one was submitted. */
  drainTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called after the checks, before the system stops (e.g. to record replay fixtures). */
  beforeStop?: (ctx: { temporal: Client; db: Db; orders: DrivenOrder[]; apiUrl: string }) => Promise<void>;
}

export interface DrivenOrder {
  index: number;
  accountId: string;
  orderId?: string;
  plan: OrderPlan;
  /** Refusals (4xx) the API gave this order's calls: route and code. */
  refusals: string[];
}

interface OrderPlan {
  accountId: string;
  lines: { sku: string; quantity: number; enrolment?: 'apple' | 'google' | 'samsung' }[];
  delivery?: 'otherAddress' | 'blocklisted';
  cancel?: 'beforeGenerate' | 'afterGenerate';
  fraudReview: 'approve' | 'reject';
}

export interface KillRecord {
  target: KillTarget;
  atMs: number;
  progress: number;
  downMs: number;
}

export interface ChaosReport {
  seed: number;
  ordersRequested: number;
  ordersCreated: number;
  kills: KillRecord[];
  killCounts: Record<KillTarget, number>;
  unplannedExits: Record<string, number>;
  statuses: Record<string, number>;
  stuck: string[];
  apiRetries: number;
  refusals: Record<string, number>;
  charges: { recorded: number; expected: number; duplicateKeys: number; missing: string[]; unexpected: string[]; quantityMismatches: string[]; invoiceMismatches: string[] };
  salesOrders: { docs: number; files: number; subOrders: number; missingFiles: string[]; filesWithoutDoc: string[]; subOrdersWithoutDoc: string[]; docsPerSubOrderAboveOne: string[] };
  dispatch: { rows: number; appliedOnce: number; appliedTwice: string[]; notApplied: string[]; unitsWithoutRow: string[]; overShipped: string[] };
  inbound: { archived: number; quarantined: number; withoutReport: string[]; leftInInboxOrProcessing: string[]; batches: number; batchesNotDone: string[] };
  enrolment: { instructions: number; duplicates: string[]; mismatched: string[] };
  workflows: { running: number; failed: number };
  durations: { startupMs: number; loadMs: number; drainMs: number; totalMs: number };
  /** Every invariant that failed, in words; empty when the run is clean. */
  violations: string[];
}

/** mulberry32: small, seedable, good enough to pick moments and order mixes. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)],
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof rng>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every process the harness started: none may outlive it, however it ends. */
const spawned = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of spawned) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
const track = (c: ChildProcess) => {
  spawned.add(c);
  c.once('exit', () => spawned.delete(c));
  return c;
};

// ---- Our processes, supervised: restarted after a planned kill, and after any unplanned exit. ----

class Supervised {
  child?: ChildProcess;
  unplannedExits = 0;
  private planned = false;
  private stopping = false;
  /** Resolved by whichever incarnation of the process gets ready first. */
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    private readonly script: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
    private readonly ready: RegExp,
    private readonly log: (l: string) => void,
  ) {}

  /** Starts the process and resolves once it prints its ready line. */
  start(): Promise<void> {
    const out = fs.createWriteStream(this.logFile, { flags: 'a' });
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, this.script)], { cwd: repoRoot, env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = track(child);
    const ready = new Promise<void>((resolve) => this.waiters.push(resolve));
    let seen = '';
    let isReady = false;
    child.stdout!.on('data', (d: Buffer) => {
      out.write(d);
      if (isReady) return;
      seen = (seen + d.toString()).slice(-2000);
      if (this.ready.test(seen)) {
        isReady = true;
        for (const w of this.waiters.splice(0)) w();
      }
    });
    child.stderr!.on('data', (d: Buffer) => out.write(d));
    child.once('exit', (code, signal) => {
      out.end();
      if (this.stopping || this.child !== child) return;
      if (this.planned) return;
      this.unplannedExits++;
      this.log(`${this.name} exited by itself (${signal ?? code}); restarting in 1 s`);
      setTimeout(() => {
        if (!this.stopping && this.child === child) void this.start();
      }, 1000);
    });
    return ready;
  }

  /** SIGKILL, then a restart after `pauseMs`; resolves when the new process is ready. */
  async killAndRestart(pauseMs: number): Promise<void> {
    const child = this.child!;
    this.planned = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGKILL');
      await exited;
    }
    await sleep(pauseMs);
    this.planned = false;
    await this.start();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  }
}

// ---- The load: a seeded mix of orders, driven like an agent's screen would. ----

const ACCOUNTS = ['ACC-1001', 'ACC-1002', 'ACC-1003'] as const; // immediate, deferred, deferred
const OTHER_ADDRESS = { name: 'Dana Whitfield', phone: '+44 7700 900789', address: { lines: ['8 Canal Wharf'], city: 'Manchester', postcode: 'M1 5AN', country: 'GB' } };
const BLOCKLISTED = { name: 'Evan Marsh', address: { lines: ['2 Quay Street'], city: 'Hull', postcode: 'ZZ99 9ZZ', country: 'GB' } };
/** WH-NORTH has no routers, WH-SOUTH no Pixels: orders with both are split across warehouses. */
const STOCK: [string, string, number][] = [
  ['WH-NORTH', 'PR-ROUTER-5G', 0],
  ['WH-SOUTH', 'HS-GGL-PX9-128', 0],
];
const PLENTY = 1_000_000;
const SKUS = ['HS-APL-IP16-128', 'HS-APL-IP16P-256', 'HS-GGL-PX9-128', 'HS-SAM-S25-256', 'HS-SAM-A16-128', 'PR-APL-USBC-20W', 'PR-GEN-CASE-IP16', 'PR-SAM-BUDS3', 'PR-ROUTER-5G', 'SW-MDM-1Y'];
const ENROL: Record<string, 'apple' | 'google' | 'samsung'> = { 'HS-APL-IP16-128': 'apple', 'HS-APL-IP16P-256': 'apple', 'HS-GGL-PX9-128': 'google', 'HS-SAM-S25-256': 'samsung', 'HS-SAM-A16-128': 'samsung' };

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

const TOKENS = { agent: 'agent-dev-token', ops: 'ops-dev-token' } as const;
/** The customers' ids in the manufacturers' programmes, given when an order asks for enrolment. */
const PROGRAMME_IDS = { apple: 'ORG-APPLE-CHAOS', google: '7000001', samsung: 'KNOX-CHAOS-1' } as const;
/** Refusals that are answers, not failures: the order moved on before the call landed. */
const EXPECTED_REFUSALS = new Set(['cancel:INVALID_TRANSITION', 'fraudReview:INVALID_TRANSITION']);

interface ApiAnswer {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON from the API, read field by field
  body: any;
}

class ApiDriver {
  retries = 0;
  constructor(private readonly base: string) {}

  /**
   * One API call, retried through outages (network errors, 5xx) with the same Idempotency-Key,
   * so a retry never does the thing twice. Returns the first non-5xx answer.
   */
  async call(method: string, url: string, o: { body?: unknown; key?: string; role?: keyof typeof TOKENS } = {}): Promise<ApiAnswer> {
    const deadline = Date.now() + 10 * 60_000;
    let wait = 250;
    for (;;) {
      try {
        const res = await fetch(this.base + url, {
          method,
          headers: {
            authorization: `Bearer ${TOKENS[o.role ?? 'agent']}`,
            'x-agent-id': 'chaos',
            ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(o.key ? { 'idempotency-key': o.key } : {}),
          },
          body: o.body === undefined ? undefined : JSON.stringify(o.body),
          signal: AbortSignal.timeout(40_000),
        });
        const text = await res.text();
        if (res.status < 500 && res.status !== 429) return { status: res.status, body: text ? JSON.parse(text) : null };
      } catch {
        // connection refused or reset: the API is down; try again
      }
      if (Date.now() > deadline) throw new Error(`${method} ${url} kept failing for 10 minutes`);
      this.retries++;
      await sleep(wait);
      wait = Math.min(wait * 2, 3000);
    }
  }
}

async function driveOrder(api: ApiDriver, o: DrivenOrder, onSubmitted: () => void): Promise<void> {
  const p = o.plan;
  const key = (step: string) => `chaos-${o.index}-${step}`;
  const refused = (what: string, r: ApiAnswer) => {
    if (r.status >= 400) o.refusals.push(`${what}:${r.body?.error?.code ?? r.status}`);
    return r.status >= 400;
  };
  const created = await api.call('POST', `/api/v1/accounts/${p.accountId}/orders`, { body: {}, key: key('create') });
  if (refused('create', created)) return onSubmitted();
  o.orderId = created.body.orderId as string;
  const base = `/api/v1/orders/${o.orderId}`;
  for (const [i, l] of p.lines.entries()) refused('addLine', await api.call('POST', `${base}/lines`, { body: l, key: key(`line-${i}`) }));
  const programmes = [...new Set(p.lines.flatMap((l) => (l.enrolment ? [l.enrolment] : [])))];
  if (programmes.length) {
    const customerIds = Object.fromEntries(programmes.map((m) => [m, PROGRAMME_IDS[m]]));
    refused('requestEnrolment', await api.call('POST', `${base}/enrolment`, { body: { customerIds }, key: key('enrol') }));
  }
  if (p.delivery) refused('setDelivery', await api.call('PUT', `${base}/delivery`, { body: p.delivery === 'blocklisted' ? BLOCKLISTED : OTHER_ADDRESS }));
  if (p.cancel === 'beforeGenerate') {
    refused('cancel', await api.call('POST', `${base}/cancel`, { body: { reason: 'customer changed their mind' }, key: key('cancel') }));
    return onSubmitted();
  }
  if (refused('generate', await api.call('POST', `${base}/generate`, { key: key('generate') }))) {
    // An agent whose order cannot be generated cancels it rather than leave it open.
    refused('cancel', await api.call('POST', `${base}/cancel`, { body: { reason: 'could not be generated' }, key: key('cancel') }));
    return onSubmitted();
  }
  if (p.cancel === 'afterGenerate') {
    const r = await api.call('POST', `${base}/cancel`, { body: { reason: 'customer cancelled after generation' }, key: key('cancel') });
    // Too late is an answer, not a failure: the order may already be with the warehouse or done.
    refused('cancel', r);
  }
  onSubmitted();
}

// ---- The run. ----

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const t0 = Date.now();
  const log = opts.log ?? ((l: string) => console.log(`[chaos ${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}`));
  const r = rng(opts.seed);
  const work = path.resolve(opts.workDir);
  const logs = path.join(work, 'logs');
  const dataDir = path.join(work, 'data');
  fs.mkdirSync(logs, { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true });

  const tools = ensureTools();
  const [tPort, uiPort, fPort, apiPort, simPort, makerPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const temporalOpts = { binary: tools.temporal, port: tPort, uiPort, dbFile: path.join(work, 'temporal.db'), logFile: path.join(logs, 'temporal.log'), headless: true };
  const ferretOpts = { binary: tools.ferretdb, port: fPort, dir: path.join(work, 'ferretdb'), logFile: path.join(logs, 'ferretdb.log') };
  const server = async (p: Promise<ManagedProcess>) => {
    const m = await p;
    track(m.child);
    return m;
  };
  let temporalServer = await server(startTemporal(temporalOpts));
  let ferret = await server(startFerretDb(ferretOpts));

  const taskQueue = `chaos-${opts.seed}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    TEMPORAL_ADDRESS: `127.0.0.1:${tPort}`,
    TEMPORAL_TASK_QUEUE: taskQueue,
    MONGODB_URI: `mongodb://127.0.0.1:${fPort}/chaos`,
    DATA_DIR: dataDir,
    PORT: String(apiPort),
    HOST: '127.0.0.1',
    WAREHOUSE_STOCK_URL: `http://127.0.0.1:${simPort}`,
    WAREHOUSE_SIMULATOR_PORT: String(simPort),
    WAREHOUSE_SIMULATOR_SEED: String(opts.seed),
    WAREHOUSE_SIMULATOR_ERROR_RATE: String(opts.warehouseErrorRate ?? 0.05),
    ADAPTOR_POLL_MS: '300',
    MANUFACTURER_SIMULATOR_PORT: String(makerPort),
    MANUFACTURER_API_URL: `http://127.0.0.1:${makerPort}`,
    ENROLMENT_REQUEST_JOB_INTERVAL: '10 seconds',
    ENROLMENT_RESPONSE_JOB_INTERVAL: '10 seconds',
    // Orders above £1,500 gross get a fraud check (and with it the velocity rule's referrals).
    FRAUD_VALUE_THRESHOLD: '150000',
  };

  const db = await connectDb(env.MONGODB_URI!);
  await seedDemoData(db);
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS! });
  const temporal = new Client({ connection, namespace: 'default' });

  const proc = (name: string, script: string, ready: RegExp) => new Supervised(name, script, env, path.join(logs, `${name}.log`), ready, log);
  const procs = {
    simulator: proc('warehouse-simulator', 'simulators/warehouse-main.ts', /warehouse-simulator:/),
    manufacturers: proc('manufacturer-simulator', 'simulators/manufacturer-main.ts', /manufacturer-simulator:/),
    // The production entry point: it also keeps the Schedules (bill run, enrolment jobs) in place.
    worker: proc('worker', 'worker/main.ts', /worker: polling/),
    api: proc('api', 'api/main.ts', /api: listening/),
    adaptor: proc('adaptor', 'adaptor/main.ts', /adaptor: watching/),
  };
  const stopAll = async () => {
    await Promise.allSettled(Object.values(procs).map((p) => p.stop()));
    await connection.close().catch(() => {});
    await db.close().catch(() => {});
    await Promise.allSettled([temporalServer.stop(), ferret.stop()]);
  };

  try {
    await Promise.all(Object.values(procs).map((p) => p.start()));
    for (const [wh, sku, n] of [...STOCK, ...['WH-NORTH', 'WH-SOUTH'].flatMap((wh) => SKUS.filter((s) => !STOCK.some(([w, k]) => w === wh && k === s)).map((s) => [wh, s, PLENTY] as [string, string, number]))]) {
      const res = await fetch(`http://127.0.0.1:${simPort}/warehouses/${wh}/stock/${sku}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: n }) });
      if (!res.ok) throw new Error(`could not set simulator stock: ${res.status}`);
    }
    const startupMs = Date.now() - t0;
    log(`system up in ${startupMs} ms (Temporal ${env.TEMPORAL_ADDRESS}, FerretDB ${env.MONGODB_URI}, API :${apiPort}); driving ${opts.orders} orders`);

    const api = new ApiDriver(`http://127.0.0.1:${apiPort}`);
    const orders: DrivenOrder[] = Array.from({ length: opts.orders }, (_, index) => {
      const plan = planOrder(r, index);
      return { index, accountId: plan.accountId, plan, refusals: [] };
    });

    // Progress: half for submitting, half for orders reaching a terminal status.
    let submitted = 0;
    let terminal = 0;
    const progress = () => (submitted + terminal) / (2 * opts.orders);

    // The kill plan: targets shuffled, each at a seeded point of progress, one outage at a time.
    const counts = { ...DEFAULT_KILLS, ...opts.kills };
    const plan = (Object.keys(counts) as KillTarget[]).flatMap((t) => Array.from({ length: counts[t] }, () => t));
    for (let i = plan.length - 1; i > 0; i--) {
      const j = r.int(0, i);
      [plan[i], plan[j]] = [plan[j], plan[i]];
    }
    const at = plan.map(() => 0.05 + r.next() * 0.8).sort((a, b) => a - b);
    const kills: KillRecord[] = [];
    let killing = true;
    const chaos = (async () => {
      for (const [i, target] of plan.entries()) {
        while (progress() < at[i]) await sleep(100);
        const pause = r.int(500, 3000);
        const started = Date.now();
        log(`SIGKILL ${target} at progress ${(progress() * 100).toFixed(0)}% (back after ${pause} ms)`);
        if (target === 'temporal') {
          temporalServer.child.kill('SIGKILL');
          await new Promise<void>((res) => (temporalServer.child.exitCode !== null || temporalServer.child.signalCode !== null ? res() : temporalServer.child.once('exit', () => res())));
          await sleep(pause);
          temporalServer = await server(startTemporal(temporalOpts));
        } else if (target === 'ferretdb') {
          ferret.child.kill('SIGKILL');
          await new Promise<void>((res) => (ferret.child.exitCode !== null || ferret.child.signalCode !== null ? res() : ferret.child.once('exit', () => res())));
          await sleep(pause);
          ferret = await server(startFerretDb(ferretOpts));
        } else {
          await procs[target].killAndRestart(pause);
          if (target === 'api') await waitForPort(apiPort);
        }
        kills.push({ target, atMs: started - t0, progress: Number(progress().toFixed(3)), downMs: Date.now() - started });
        log(`${target} is back after ${Date.now() - started} ms`);
      }
      killing = false;
    })();

    // Watch the read model for terminal orders and fraud referrals (ops decide them over the API).
    const reviewed = new Set<string>();
    const reviewAttempts = new Map<string, number>();
    let watching = true;
    const byId = new Map<string, DrivenOrder>();
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
                .call('POST', `/api/v1/orders/${d.orderId}/fraud-review`, { role: 'ops', key: `chaos-${o.index}-review-${attempt}`, body: { decision: o.plan.fraudReview, reason: 'chaos run: seeded decision' } })
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

    const tLoad = Date.now();
    let nextIndex = 0;
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency ?? 12, orders.length) }, async () => {
        while (nextIndex < orders.length) {
          const o = orders[nextIndex++];
          await driveOrder(api, o, () => {
            submitted++;
            if (o.orderId) byId.set(o.orderId, o);
          });
        }
      }),
    );
    const loadMs = Date.now() - tLoad;
    log(`all ${orders.length} orders submitted in ${loadMs} ms (${api.retries} retried calls so far)`);

    // Drain: every order terminal, every kill done, nothing left running or waiting.
    const tDrain = Date.now();
    const drainDeadline = Date.now() + (opts.drainTimeoutMs ?? 15 * 60_000);
    const created = orders.filter((o) => o.orderId);
    let lastLog = 0;
    while (Date.now() < drainDeadline) {
      const quiet = !killing && terminal >= created.length && (await quiescent(db, temporal, dataDir, taskQueue).catch(() => false));
      if (quiet) break;
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        log(`draining: ${terminal}/${created.length} orders terminal, kills ${killing ? 'still running' : 'done'}`);
      }
      await sleep(1000);
    }
    watching = false;
    await watcher;
    await chaos;
    const drainMs = Date.now() - tDrain;

    const report = await check({ db, temporal, dataDir, taskQueue, orders, kills, counts, procs, api, opts });
    report.durations = { startupMs, loadMs, drainMs, totalMs: Date.now() - t0 };
    if (opts.beforeStop) await opts.beforeStop({ temporal, db, orders, apiUrl: `http://127.0.0.1:${apiPort}` });
    return report;
  } finally {
    await stopAll();
  }
}

/** Workflows started by Schedules (bill run, enrolment jobs) come and go; the others must all finish. */
const SCHEDULED = new Set(['billRunWorkflow', 'enrolmentRequestJob', 'enrolmentResponseJob']);
async function runningBusinessWorkflows(temporal: Client, taskQueue: string): Promise<number> {
  let n = 0;
  for await (const w of temporal.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) if (!SCHEDULED.has(w.type)) n++;
  return n;
}

/** No workflow running, no file waiting, every dispatch batch done. */
async function quiescent(db: Db, temporal: Client, dataDir: string, taskQueue: string): Promise<boolean> {
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const f = warehouseFolders(dataDir, wh);
    for (const dir of [f.inbox, f.processing, f.outbox]) if (fs.existsSync(dir) && fs.readdirSync(dir).some((n) => !n.startsWith('.'))) return false;
  }
  if (await db.models.DispatchBatch.exists({ status: { $ne: 'done' } })) return false;
  return (await runningBusinessWorkflows(temporal, taskQueue)) === 0;
}

interface CheckInput {
  db: Db;
  temporal: Client;
  dataDir: string;
  taskQueue: string;
  orders: DrivenOrder[];
  kills: KillRecord[];
  counts: Record<KillTarget, number>;
  procs: Record<string, Supervised>;
  api: ApiDriver;
  opts: ChaosOptions;
}

async function check({ db, temporal, dataDir, taskQueue, orders, kills, counts, procs, api, opts }: CheckInput): Promise<ChaosReport> {
  const m = db.models;
  const v: string[] = [];
  const views = new Map((await m.OrderView.find({}, { orderId: 1, status: 1, state: 1 }).lean()).map((d) => [d.orderId, d.state as OrderState]));
  const created = orders.filter((o) => o.orderId);

  // Orders: all terminal.
  const statuses: Record<string, number> = {};
  const stuck: string[] = [];
  for (const o of created) {
    const s = views.get(o.orderId!)?.status ?? 'missing';
    statuses[s] = (statuses[s] ?? 0) + 1;
    if (!isTerminal(s as OrderState['status'])) {
      const st = views.get(o.orderId!);
      const detail = st ? `; sub-orders ${st.subOrders.map((so) => `${so.warehouseId}:${so.status}`).join(',') || 'none'}${st.fraud?.awaitingReview ? '; awaiting fraud review' : ''}${st.cancellationRequested ? '; cancellation requested' : ''}` : '';
      stuck.push(`${o.orderId} (${s}${detail}; refusals ${o.refusals.join(',') || 'none'})`);
    }
  }
  if (created.length !== orders.length) v.push(`${orders.length - created.length} orders were never created`);
  if (stuck.length) v.push(`${stuck.length} orders are not terminal: ${stuck.slice(0, 10).join(', ')}`);

  // Charges: exactly the ones the shipped units call for, each once.
  const charges = await m.Charge.find({}).lean();
  const byKey = new Map<string, (typeof charges)[number][]>();
  for (const c of charges) byKey.set(c.chargeKey, [...(byKey.get(c.chargeKey) ?? []), c]);
  const duplicateKeys = [...byKey.values()].filter((l) => l.length > 1).length;
  const expected = new Map<string, { orderId: string; quantity: number }>();
  for (const [orderId, state] of views) if (isTerminal(state.status)) for (const c of chargesForOrder(state)) expected.set(c.chargeKey, { orderId, quantity: c.quantity });
  const missing = [...expected.keys()].filter((k) => !byKey.has(k));
  const unexpected = [...byKey.keys()].filter((k) => !expected.has(k));
  const quantityMismatches = [...expected].filter(([k, e]) => byKey.has(k) && byKey.get(k)![0].quantity !== e.quantity).map(([k]) => k);
  const invoiceMismatches: string[] = [];
  const invoices = await m.Invoice.find({}).lean();
  const invoiceByKey = new Map(invoices.map((i) => [i.idempotencyKey, i]));
  for (const [orderId, state] of views) {
    if (state.status !== 'Complete' || state.billingMode !== 'immediate') continue;
    const keys = charges.filter((c) => c.orderId === orderId).map((c) => c.chargeKey).sort();
    if (!keys.length) continue;
    const inv = invoiceByKey.get(`order:${orderId}`);
    if (!inv || inv.invoiceNumber !== state.invoiceNumber || [...inv.chargeKeys].sort().join() !== keys.join()) invoiceMismatches.push(orderId);
  }
  if (duplicateKeys) v.push(`${duplicateKeys} charge keys recorded more than once`);
  if (missing.length) v.push(`${missing.length} shipped lines not charged: ${missing.slice(0, 5).join(', ')}`);
  if (unexpected.length) v.push(`${unexpected.length} charges without a shipped line: ${unexpected.slice(0, 5).join(', ')}`);
  if (quantityMismatches.length) v.push(`${quantityMismatches.length} charges with the wrong quantity`);
  if (invoiceMismatches.length) v.push(`${invoiceMismatches.length} immediate orders without exactly their invoice: ${invoiceMismatches.slice(0, 5).join(', ')}`);

  // Sales orders: one document and one file per sub-order and purpose.
  const docs = await m.SalesOrder.find({}, { fileId: 1, subOrderNumber: 1, purpose: 1, warehouseId: 1 }).lean();
  const files = new Set<string>();
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const root = warehouseFolders(dataDir, wh).root;
    for (const dir of ['outbox', 'received']) {
      const d = path.join(root, dir);
      if (fs.existsSync(d)) for (const n of fs.readdirSync(d)) if (n.endsWith('.json') && !n.startsWith('.')) files.add(`${wh}/${n}`);
    }
  }
  const docFiles = new Set(docs.map((d) => `${d.warehouseId}/${d.fileId}.json`));
  const missingFiles = [...docFiles].filter((f) => !files.has(f));
  const filesWithoutDoc = [...files].filter((f) => !docFiles.has(f));
  const perSub = new Map<string, number>();
  for (const d of docs) perSub.set(`${d.subOrderNumber}:${d.purpose}`, (perSub.get(`${d.subOrderNumber}:${d.purpose}`) ?? 0) + 1);
  const docsPerSubOrderAboveOne = [...perSub].filter(([, n]) => n > 1).map(([k]) => k);
  const sentSubOrders = [...views.values()].flatMap((s) => s.subOrders.filter((so) => so.status !== 'Pending').map((so) => so.subOrderNumber));
  const subOrdersWithoutDoc = sentSubOrders.filter((s) => !perSub.has(`${s}:new`));
  if (missingFiles.length) v.push(`${missingFiles.length} sales orders recorded but no file: ${missingFiles.slice(0, 5).join(', ')}`);
  if (filesWithoutDoc.length) v.push(`${filesWithoutDoc.length} sales order files without a record: ${filesWithoutDoc.slice(0, 5).join(', ')}`);
  if (docsPerSubOrderAboveOne.length) v.push(`${docsPerSubOrderAboveOne.length} sub-orders sent more than once`);
  if (subOrdersWithoutDoc.length) v.push(`${subOrdersWithoutDoc.length} sent sub-orders without a sales order record`);

  // Dispatch rows: each applied to its order exactly once (or recorded as an exception).
  const rows: { batchId: string; rowNumber: number; orderId: string }[] = [];
  for (const b of await m.DispatchBatch.find({}, { batchId: 1, rowChunks: 1 }).lean()) {
    for (const r of await readDispatchRows(m, b.batchId, b.rowChunks)) rows.push({ batchId: b.batchId, rowNumber: r.rowNumber, orderId: r.orderId });
  }
  const exceptions = new Set((await m.AdaptorException.find({}, { batchId: 1, rowNumber: 1 }).lean()).map((e) => `${e.batchId}:${e.rowNumber}`));
  const rowKeys = new Set(rows.map((r) => `${r.batchId}:${r.rowNumber}`));
  const appliedTwice: string[] = [];
  const notApplied: string[] = [];
  const unitsWithoutRow: string[] = [];
  const overShipped: string[] = [];
  const appliedKeys = new Map<string, number>();
  for (const [orderId, state] of views) {
    for (const so of state.subOrders) {
      for (const u of [...so.units, ...so.lineExceptions]) {
        appliedKeys.set(u.rowKey, (appliedKeys.get(u.rowKey) ?? 0) + 1);
        if (!rowKeys.has(u.rowKey)) unitsWithoutRow.push(`${orderId}:${u.rowKey}`);
      }
      for (const l of so.lines) {
        const shipped = so.units.filter((u) => u.lineNumber === l.lineNumber).reduce((n, u) => n + u.quantity, 0);
        if (shipped > l.quantity) overShipped.push(`${so.subOrderNumber}:${l.lineNumber}`);
      }
    }
  }
  for (const [k, n] of appliedKeys) if (n > 1) appliedTwice.push(k);
  for (const r of rows) {
    const k = `${r.batchId}:${r.rowNumber}`;
    if (!appliedKeys.has(k) && !exceptions.has(k)) notApplied.push(`${r.orderId}:${k}`);
  }
  if (appliedTwice.length) v.push(`${appliedTwice.length} dispatch rows applied twice`);
  if (notApplied.length) v.push(`${notApplied.length} dispatch rows neither applied nor recorded as exceptions: ${notApplied.slice(0, 5).join(', ')}`);
  if (unitsWithoutRow.length) v.push(`${unitsWithoutRow.length} applied units with no dispatch row behind them`);
  if (overShipped.length) v.push(`${overShipped.length} lines with more units than ordered`);

  // Inbound files: archived or quarantined, each with its report; nothing left behind.
  let archived = 0;
  let quarantined = 0;
  const withoutReport: string[] = [];
  const left: string[] = [];
  const archivedNames: string[] = [];
  for (const wh of ['WH-NORTH', 'WH-SOUTH']) {
    const f = warehouseFolders(dataDir, wh);
    for (const [dir, kind] of [[f.archive, 'archive'], [f.quarantine, 'quarantine']] as const) {
      if (!fs.existsSync(dir)) continue;
      const names = fs.readdirSync(dir);
      for (const n of names.filter((x) => x.endsWith('.csv'))) {
        if (kind === 'archive') {
          archived++;
          archivedNames.push(n);
        } else quarantined++;
        if (!names.includes(`${n}.report.json`)) withoutReport.push(`${wh}/${kind}/${n}`);
      }
    }
    for (const dir of [f.inbox, f.processing]) if (fs.existsSync(dir)) left.push(...fs.readdirSync(dir).filter((n) => !n.startsWith('.')).map((n) => `${wh}/${path.basename(dir)}/${n}`));
  }
  const batches = await m.DispatchBatch.find({}, { batchId: 1, status: 1, sourceFile: 1 }).lean();
  const batchesNotDone = batches.filter((b) => b.status !== 'done').map((b) => b.batchId);
  if (withoutReport.length) v.push(`${withoutReport.length} inbound files without a report`);
  if (left.length) v.push(`${left.length} inbound files left unprocessed: ${left.slice(0, 5).join(', ')}`);
  if (batchesNotDone.length) v.push(`${batchesNotDone.length} dispatch batches not done`);
  if (quarantined) v.push(`${quarantined} simulator files were quarantined (the simulator writes valid files)`);

  // Enrolment: one instruction per device per request (when the feature is there).
  const instructions = await m.EnrolmentInstruction.find({}, { requestId: 1, deviceId: 1, action: 1 }).lean();
  const seen = new Map<string, number>();
  for (const i of instructions) seen.set(`${i.requestId}|${i.action}|${i.deviceId}`, (seen.get(`${i.requestId}|${i.action}|${i.deviceId}`) ?? 0) + 1);
  const enrolDup = [...seen].filter(([, n]) => n > 1).map(([k]) => k);
  if (enrolDup.length) v.push(`${enrolDup.length} devices with more than one enrolment instruction per request`);
  const enrolMissing: string[] = [];
  const perOrder = new Map<string, number>();
  for (const i of await m.EnrolmentInstruction.find({ action: 'enrol' }, { orderId: 1, manufacturer: 1 }).lean()) perOrder.set(`${i.orderId}:${i.manufacturer}`, (perOrder.get(`${i.orderId}:${i.manufacturer}`) ?? 0) + 1);
  for (const [orderId, state] of views) {
    if (state.status !== 'Complete') continue;
    // Devices shipped per programme (several lines may ask for the same one).
    const devices = new Map<string, number>();
    for (const l of state.lines) {
      const programme = (l as { enrolment?: string }).enrolment;
      if (!programme) continue;
      const shipped = state.subOrders.flatMap((so) => so.units.filter((u) => u.lineNumber === l.lineNumber)).length;
      devices.set(programme, (devices.get(programme) ?? 0) + shipped);
    }
    for (const [programme, n] of devices) {
      const got = perOrder.get(`${orderId}:${programme}`) ?? 0;
      if (got !== n) enrolMissing.push(`${orderId}:${programme} ${got}/${n}`);
    }
  }
  if (enrolMissing.length) v.push(`${enrolMissing.length} order programmes without one instruction per shipped device: ${enrolMissing.slice(0, 5).join(', ')}`);

  // Temporal: nothing running, nothing failed.
  let failed = 0;
  const running = await runningBusinessWorkflows(temporal, taskQueue);
  for await (const _ of temporal.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus!="Running" AND ExecutionStatus!="Completed"` })) failed++;
  if (running) v.push(`${running} workflows still running`);
  if (failed) v.push(`${failed} workflows failed, timed out or were terminated`);

  const refusals: Record<string, number> = {};
  for (const o of orders) for (const x of o.refusals) refusals[x] = (refusals[x] ?? 0) + 1;
  const unexpectedRefusals = Object.entries(refusals).filter(([k]) => !EXPECTED_REFUSALS.has(k));
  if (unexpectedRefusals.length) v.push(`the API refused calls a retry should have repeated: ${unexpectedRefusals.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
  const killCounts = Object.fromEntries((Object.keys(counts) as KillTarget[]).map((t) => [t, kills.filter((k) => k.target === t).length])) as Record<KillTarget, number>;
  for (const t of Object.keys(counts) as KillTarget[]) if (killCounts[t] !== counts[t]) v.push(`planned ${counts[t]} kills of ${t}, did ${killCounts[t]}`);

  return {
    seed: opts.seed,
    ordersRequested: orders.length,
    ordersCreated: created.length,
    kills,
    killCounts,
    unplannedExits: Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, p.unplannedExits])),
    statuses,
    stuck,
    apiRetries: api.retries,
    refusals,
    charges: { recorded: charges.length, expected: expected.size, duplicateKeys, missing, unexpected, quantityMismatches, invoiceMismatches },
    salesOrders: { docs: docs.length, files: files.size, subOrders: sentSubOrders.length, missingFiles, filesWithoutDoc, subOrdersWithoutDoc, docsPerSubOrderAboveOne },
    dispatch: { rows: rows.length, appliedOnce: [...appliedKeys.values()].filter((n) => n === 1).length, appliedTwice, notApplied, unitsWithoutRow, overShipped },
    inbound: { archived, quarantined, withoutReport, leftInInboxOrProcessing: left, batches: batches.length, batchesNotDone },
    enrolment: { instructions: instructions.length, duplicates: enrolDup, mismatched: enrolMissing },
    workflows: { running, failed },
    durations: { startupMs: 0, loadMs: 0, drainMs: 0, totalMs: 0 },
    violations: v,
  };
}

/** The closing note's numbers, one screen. */
export function formatReport(r: ChaosReport): string {
  const kv = (o: Record<string, number>) => Object.entries(o).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    `chaos run, seed ${r.seed}: ${r.ordersCreated}/${r.ordersRequested} orders created`,
    `kills: ${kv(r.killCounts)}; unplanned exits: ${kv(r.unplannedExits)}`,
    `terminal: ${kv(r.statuses)}; stuck: ${r.stuck.length}`,
    `API calls retried through outages: ${r.apiRetries}; refusals: ${kv(r.refusals)}`,
    `charges: ${r.charges.recorded} recorded, ${r.charges.expected} expected from shipped units; duplicates ${r.charges.duplicateKeys}, missing ${r.charges.missing.length}, unexpected ${r.charges.unexpected.length}, invoice mismatches ${r.charges.invoiceMismatches.length}`,
    `sales orders: ${r.salesOrders.docs} records, ${r.salesOrders.files} files, ${r.salesOrders.subOrders} sent sub-orders; sent twice ${r.salesOrders.docsPerSubOrderAboveOne.length}, missing files ${r.salesOrders.missingFiles.length}, stray files ${r.salesOrders.filesWithoutDoc.length}`,
    `dispatch rows: ${r.dispatch.rows} stored, ${r.dispatch.appliedOnce} applied once, applied twice ${r.dispatch.appliedTwice.length}, not applied ${r.dispatch.notApplied.length}, over-shipped ${r.dispatch.overShipped.length}`,
    `inbound files: ${r.inbound.archived} archived, ${r.inbound.quarantined} quarantined, without report ${r.inbound.withoutReport.length}, left behind ${r.inbound.leftInInboxOrProcessing.length}; batches ${r.inbound.batches}, not done ${r.inbound.batchesNotDone.length}`,
    `enrolment instructions: ${r.enrolment.instructions}, duplicates ${r.enrolment.duplicates.length}, not one per shipped device ${r.enrolment.mismatched.length}`,
    `workflows still running ${r.workflows.running}, failed ${r.workflows.failed}`,
    `durations: startup ${(r.durations.startupMs / 1000).toFixed(1)} s, load ${(r.durations.loadMs / 1000).toFixed(1)} s, drain ${(r.durations.drainMs / 1000).toFixed(1)} s, total ${(r.durations.totalMs / 1000).toFixed(1)} s`,
    r.violations.length ? `VIOLATIONS:\n  - ${r.violations.join('\n  - ')}` : 'no violations',
  ].join('\n');
}
