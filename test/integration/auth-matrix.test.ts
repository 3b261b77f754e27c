// Table-driven authorisation: every operation in the OpenAPI document × {no token, wrong token,
// agent, adaptor, ops, admin}. A role the route does not name gets 401 (no or bad token) or 403 (wrong
// role); a role it names gets past authorisation (2xx, or a 4xx other than 401/403). Nothing 5xx.
// Run with the static dev tokens and with access tokens (JWTs) whose roles claim names the role.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAREHOUSE_RESPONSE_COLUMNS } from '../../domain/warehouse-response';
import { addLine, createOrder } from '../support/orders';
import { TOKENS, startSystem, type TestSystem } from '../support/system';
import { startTestIssuer } from '../support/test-jwks';

let sys: TestSystem;
let issuer: Awaited<ReturnType<typeof startTestIssuer>>;
let orderId: string;
let doc: any;
beforeAll(async () => {
  issuer = await startTestIssuer();
  sys = await startSystem({ env: { OIDC_ISSUER: issuer.issuer } });
  const o = await createOrder(sys);
  orderId = o.orderId;
  await addLine(sys, orderId, 'HS-APL-IP16-128', 1);
  doc = (await sys.call('GET', '/openapi.json', { role: null })).body;
});
afterAll(async () => {
  await sys?.stop();
  await issuer?.stop();
});

type Role = keyof typeof TOKENS;
type Caller = Role | 'none' | 'wrong';
const CALLERS: Caller[] = ['none', 'wrong', 'agent', 'adaptor', 'ops', 'admin'];
const AGENT_OPS: Role[] = ['agent', 'ops'];

interface Expectation {
  roles: Role[];
  /** Query string and body that make the request a sensible one for the roles allowed. */
  query?: string;
  body?: unknown;
  contentType?: string;
}

/** Who may call what. A route missing here fails the test: new routes need a decision. */
const TABLE: Record<string, Expectation> = {
  'GET /api/v1/catalogue': { roles: AGENT_OPS },
  'GET /api/v1/stock': { roles: AGENT_OPS, query: 'sku=HS-APL-IP16-128' },
  'GET /api/v1/accounts': { roles: AGENT_OPS, query: 'query=ACC' },
  'GET /api/v1/accounts/{accountId}': { roles: [...AGENT_OPS, 'admin'] },
  'GET /api/v1/accounts/{accountId}/orders': { roles: AGENT_OPS },
  'POST /api/v1/accounts/{accountId}/orders': { roles: AGENT_OPS, body: {} },
  'GET /api/v1/orders/{orderId}': { roles: AGENT_OPS },
  'POST /api/v1/orders/{orderId}/lines': { roles: AGENT_OPS, body: { sku: 'PR-APL-USBC-20W', quantity: 1 } },
  'PATCH /api/v1/orders/{orderId}/lines/{lineId}': { roles: AGENT_OPS, body: { quantity: 2 } },
  'DELETE /api/v1/orders/{orderId}/lines/{lineId}': { roles: AGENT_OPS },
  'PUT /api/v1/orders/{orderId}/delivery': {
    roles: AGENT_OPS,
    body: { name: 'Alice Johnson', address: { lines: ['12 Market Street'], city: 'Leeds', postcode: 'LS1 6DT', country: 'GB' } },
  },
  'PUT /api/v1/orders/{orderId}/billing-mode': { roles: AGENT_OPS, body: { billingMode: 'nextInvoice' } },
  'GET /api/v1/orders/{orderId}/stock-check': { roles: AGENT_OPS },
  'POST /api/v1/orders/{orderId}/generate': { roles: AGENT_OPS },
  'POST /api/v1/orders/{orderId}/cancel': { roles: AGENT_OPS, body: { reason: 'auth test' } },
  'POST /api/v1/orders/{orderId}/fraud-review': { roles: ['ops'], body: { decision: 'approve', reason: 'checked by phone' } },
  'GET /api/v1/fraud-reviews': { roles: ['ops'] },
  // Ops' exception actions: authorised, then refused for this New order (409).
  'POST /api/v1/orders/{orderId}/resubmit': { roles: ['ops'], body: { reason: 'auth test' } },
  'POST /api/v1/orders/{orderId}/close': { roles: ['ops'], body: { reason: 'auth test' } },
  'POST /api/v1/orders/{orderId}/resend': { roles: ['ops'], body: { reason: 'auth test' } },
  'POST /api/v1/orders/{orderId}/resend-cancellation': { roles: ['ops'], body: { reason: 'auth test' } },
  'GET /api/v1/search': { roles: AGENT_OPS, query: 'q=ACC-1001' },
  'GET /api/v1/work-queue': { roles: ['ops'] },
  'POST /api/v1/orders/{orderId}/notes': { roles: AGENT_OPS, body: { text: 'auth test note' } },
  'GET /api/v1/audit': { roles: ['ops'], query: 'actor=dev-agent' },
  // Who the caller is: any valid token.
  'GET /api/v1/me': { roles: ['agent', 'adaptor', 'ops', 'admin'] },
  'POST /api/v1/adaptor/warehouse-files': {
    roles: ['adaptor'],
    query: 'warehouseId=WH-NORTH&fileName=auth-test.csv',
    body: `${WAREHOUSE_RESPONSE_COLUMNS.join(',')}\n`,
    contentType: 'text/csv',
  },
  'POST /api/v1/adaptor/dispatch-batches': { roles: ['adaptor'], body: { schemaVersion: '1' } },
  'GET /api/v1/adaptor/exceptions': { roles: ['ops'] },
  'GET /api/v1/adaptor/batches/{batchId}': { roles: ['ops', 'adaptor'] },
  'GET /api/v1/adaptor/batches': { roles: ['ops', 'adaptor'] },
  'GET /api/v1/adaptor/batches/{batchId}/rejected-rows': { roles: ['ops', 'adaptor'] },
  // No such exception: authorised, then 404.
  'POST /api/v1/adaptor/exceptions/{id}/resolve': { roles: ['ops'], body: { action: 'dismiss', reason: 'auth test' } },
  'GET /api/v1/accounts/{accountId}/charges': { roles: AGENT_OPS },
  'GET /api/v1/accounts/{accountId}/invoices': { roles: AGENT_OPS },
  'GET /api/v1/invoices/{invoiceNumber}': { roles: AGENT_OPS },
  // An empty body: authorised, then refused as invalid (no bill run is started by this test).
  'POST /api/v1/bill-runs': { roles: ['ops'], body: {} },
  'GET /api/v1/bill-runs/{date}': { roles: ['ops'] },
  // Decoding shows customer details: ops only.
  'POST /api/v1/codec/decode': { roles: ['ops'], body: { payloads: [] } },
  'POST /api/v1/codec/encode': { roles: ['ops'], body: { payloads: [] } },
  'POST /api/v1/orders/{orderId}/enrolment': { roles: AGENT_OPS, body: {} },
  'GET /api/v1/orders/{orderId}/enrolment': { roles: AGENT_OPS },
  'POST /api/v1/devices/{imeiOrSerial}/unenrolment': { roles: AGENT_OPS, body: {} },
  'GET /api/v1/enrolment/failed': { roles: ['ops'] },
  'POST /api/v1/enrolment/requeue': { roles: ['ops'], body: {} },
  // An unknown job name: authorised, then refused (no job is started by this test).
  'POST /api/v1/enrolment/jobs/{job}/run': { roles: ['ops'] },
  // Reference data: admin writes (invalid bodies here, so nothing changes); agents and ops read.
  'GET /api/v1/products/{sku}': { roles: [...AGENT_OPS, 'admin'] },
  'PUT /api/v1/products/{sku}': { roles: ['admin'], body: {} },
  'PUT /api/v1/accounts/{accountId}': { roles: ['admin'], body: {} },
  'GET /api/v1/fraud-blocklist': { roles: ['admin', 'ops'] },
  'PUT /api/v1/fraud-blocklist/{kind}/{value}': { roles: ['admin'], body: { note: 5 } },
  // Not listed: 404 for admin.
  'DELETE /api/v1/fraud-blocklist/{kind}/{value}': { roles: ['admin'] },
  // Returns: a New order has no charged unit (authorised, then refused 422); no such return (404).
  'POST /api/v1/orders/{orderId}/returns': { roles: AGENT_OPS, body: { units: ['353325110000016'], reason: 'faulty' } },
  'GET /api/v1/orders/{orderId}/returns': { roles: AGENT_OPS },
  'GET /api/v1/returns/{rmaId}': { roles: AGENT_OPS },
  'POST /api/v1/returns/{rmaId}/receive': { roles: ['ops'], body: { grade: 'A' } },
  'GET /api/v1/accounts/{accountId}/credit-notes': { roles: AGENT_OPS },
  'GET /api/v1/accounts/{accountId}/balance-check': { roles: ['ops'] },
  // A header and no rows: an empty report.
  'POST /api/v1/imports/{kind}': { roles: ['admin'], body: 'kind,value,note\n', contentType: 'text/csv' },
};

const PARAMS: Record<string, () => string> = {
  orderId: () => orderId,
  accountId: () => 'ACC-1001',
  lineId: () => 'L1',
  batchId: () => 'a'.repeat(64),
  id: () => `${'a'.repeat(64)}:1`,
  invoiceNumber: () => 'INV-00000001',
  date: () => '2025-03-01',
  imeiOrSerial: () => '353325110000016',
  job: () => 'no-such-job',
  rmaId: () => 'RMA-99999999',
  sku: () => 'HS-APL-IP16-128',
  kind: () => (currentOp.includes('/imports/') ? 'blocklist' : 'email'),
  value: () => 'auth-matrix-not-listed@example.invalid',
};
/** The operation being called (a path parameter's sample may depend on it). */
let currentOp = '';

function operations(): string[] {
  return Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, methods]) =>
    Object.keys(methods)
      .filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))
      .map((m) => `${m.toUpperCase()} ${p}`),
  );
}

function url(op: string, e: Expectation): string {
  currentOp = op;
  const path = op.split(' ')[1].replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = PARAMS[name];
    if (!value) throw new Error(`no sample value for path parameter ${name} (${op})`);
    return encodeURIComponent(value());
  });
  return e.query ? `${path}?${e.query}` : path;
}

type Credential = 'static token' | 'JWT';

async function callAs(caller: Caller, op: string, e: Expectation, credential: Credential = 'static token') {
  const method = op.split(' ')[0];
  const headers: Record<string, string> = {};
  if (credential === 'JWT') {
    // A person of that role at the issuer; 'wrong' is signed by another key under the issuer's key id.
    if (caller === 'wrong') headers.authorization = `Bearer ${issuer.forgedAccessToken({ sub: 'mallory', roles: ['ops', 'agent', 'admin', 'adaptor'] })}`;
    else if (caller !== 'none') headers.authorization = `Bearer ${issuer.accessToken({ sub: `person-${caller}`, roles: [caller] })}`;
  } else if (caller === 'wrong') headers.authorization = 'Bearer not-a-real-token';
  if (e.contentType) headers['content-type'] = e.contentType;
  const role = credential === 'static token' && caller !== 'none' && caller !== 'wrong' ? caller : null;
  return sys.call(method, url(op, e), { role, body: e.body, headers });
}

describe('authorisation matrix', () => {
  it('every documented operation has an expectation, and every expectation a documented operation', () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(20);
    expect(
      ops.filter((op) => !TABLE[op]),
      'operations without an auth expectation',
    ).toEqual([]);
    expect(
      Object.keys(TABLE).filter((op) => !ops.includes(op)),
      'expectations for operations not in the document',
    ).toEqual([]);
  });

  it.each<Credential>(['static token', 'JWT'])(
    'every operation × every caller (%s): 401 without a valid token, 403 for other roles, through for its own roles, never 5xx',
    async (credential) => {
      const failures: string[] = [];
      for (const op of operations()) {
        const e = TABLE[op];
        if (!e) continue; // reported by the test above
        for (const caller of CALLERS) {
          const r = await callAs(caller, op, e, credential);
          const allowed = (e.roles as Caller[]).includes(caller);
          const expected = caller === 'none' || caller === 'wrong' ? '401' : allowed ? 'through' : '403';
          const got = r.status === 401 || r.status === 403 ? String(r.status) : r.status < 500 ? 'through' : `5xx`;
          const shaped = r.status < 400 || (typeof r.body?.error?.code === 'string' && typeof r.body?.error?.message === 'string');
          if (got !== expected || !shaped) failures.push(`${op} as ${caller}: expected ${expected}, got ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
          if (expected === '401' && r.body?.error?.code !== 'UNAUTHENTICATED') failures.push(`${op} as ${caller}: code ${r.body?.error?.code}`);
          if (expected === '403' && r.body?.error?.code !== 'FORBIDDEN') failures.push(`${op} as ${caller}: code ${r.body?.error?.code}`);
        }
      }
      expect(failures).toEqual([]);
    },
  );

  it('the allowed roles get a real answer, not just "not refused"', async () => {
    // Reads that must succeed for every role they name.
    for (const op of [
      'GET /api/v1/catalogue',
      'GET /api/v1/stock',
      'GET /api/v1/accounts',
      'GET /api/v1/accounts/{accountId}',
      'GET /api/v1/accounts/{accountId}/orders',
      'GET /api/v1/orders/{orderId}',
      'GET /api/v1/fraud-reviews',
      'GET /api/v1/search',
      'GET /api/v1/work-queue',
      'GET /api/v1/audit',
      'GET /api/v1/me',
      'GET /api/v1/adaptor/exceptions',
      'GET /api/v1/products/{sku}',
      'GET /api/v1/fraud-blocklist',
    ]) {
      for (const role of TABLE[op].roles) {
        const r = await callAs(role, op, TABLE[op]);
        expect(r.status, `${op} as ${role}: ${JSON.stringify(r.body).slice(0, 200)}`).toBe(200);
      }
    }
  });

  it('malformed Authorization headers are 401, and the docs and health check need no token', async () => {
    for (const authorization of ['Basic YWdlbnQ6YWdlbnQ=', 'Bearer', 'Bearer ', `Bearer ${TOKENS.agent} extra`, TOKENS.agent, `bearer ${TOKENS.agent}x`]) {
      const r = await sys.call('GET', '/api/v1/catalogue', { role: null, headers: { authorization } });
      expect(r.status, authorization).toBe(401);
    }
    expect((await sys.call('GET', '/api/v1/catalogue', { role: null, headers: { authorization: `bearer ${TOKENS.agent}` } })).status).toBe(200);
    for (const path of ['/openapi.json', '/docs', '/healthz']) {
      for (const caller of CALLERS) {
        const role = caller === 'none' || caller === 'wrong' ? null : caller;
        const headers: Record<string, string> = caller === 'wrong' ? { authorization: 'Bearer nope' } : {};
        expect((await sys.call('GET', path, { role, headers })).status, `${path} as ${caller}`).toBe(200);
      }
    }
  });

  it('an unknown API route is 401 without a valid token, and 404 in the error shape for any role', async () => {
    for (const caller of CALLERS) {
      const r = await callAs(caller, 'GET /api/v1/nothing-here', { roles: [] });
      const anonymous = caller === 'none' || caller === 'wrong';
      expect(r.status, caller).toBe(anonymous ? 401 : 404);
      expect(r.body.error.code).toBe(anonymous ? 'UNAUTHENTICATED' : 'NOT_FOUND');
    }
  });

  it('every operation, with any suffix appended to its path and under any method, is 401 without a token', async () => {
    // Suffixes that name other routes (roles were once chosen by matching the end of the path).
    const SUFFIXES = ['', '/', '/fraud-review', '/lines/fraud-review', '/x', '/fraud-reviews', '/enrolment', '%2Ffraud-review', '/.', ';fraud-review'];
    const failures: string[] = [];
    for (const op of operations()) {
      const e = TABLE[op] ?? { roles: [] };
      const [, path] = url(op, e).match(/^([^?]*)/)!;
      for (const suffix of SUFFIXES) {
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
          for (const caller of ['none', 'wrong'] as const) {
            const headers: Record<string, string> = caller === 'wrong' ? { authorization: 'Bearer not-a-real-token' } : {};
            const r = await sys.call(method, `${path}${suffix}`, {
              role: null,
              headers,
              ...(method === 'GET' || method === 'DELETE' ? {} : { body: e.body ?? {} }),
            });
            if (r.status !== 401 || r.body?.error?.code !== 'UNAUTHENTICATED')
              failures.push(`${method} ${path}${suffix} as ${caller}: ${r.status} ${JSON.stringify(r.body).slice(0, 120)}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('PATCH of a line named fraud-review is an agent action, not an ops one', async () => {
    const anonymous = await sys.call('PATCH', `/api/v1/orders/${orderId}/lines/fraud-review`, { role: null, body: { quantity: 2 } });
    expect(anonymous).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHENTICATED' } } });
    expect((await sys.call('PATCH', `/api/v1/orders/${orderId}/lines/fraud-review`, { role: 'adaptor', body: { quantity: 2 } })).status).toBe(403);
  });

  it('every documented operation declares its roles in the document, as the table has them', () => {
    for (const op of operations()) {
      const [method, path] = op.split(' ');
      const declared = doc.paths[path][method.toLowerCase()].security?.flatMap((s: Record<string, string[]>) => s.bearer ?? []);
      expect([...(declared ?? [])].sort(), op).toEqual([...(TABLE[op]?.roles ?? [])].sort());
    }
  });
});
