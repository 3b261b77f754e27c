// Abuse at the HTTP edge: schema-aware random and mutated requests to every route that
// /openapi.json publishes (wrong types, missing and extra fields, unicode, control characters,
// bad ids, deep JSON, huge bodies, wrong content types, odd tokens), over a real HTTP server.
// Whatever comes in: never a 5xx, and every refusal in the shape {error:{code,message}}.
import { serve, type ServerType } from '@hono/node-server';
import fc from 'fast-check';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JSON_BODY_LIMIT } from '../../api/app';
import { startSystem, TOKENS, type TestSystem } from '../support/system';

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  params: { name: string; in: string; required?: boolean; schema?: Schema }[];
  body?: { contentType: string; schema: Schema; required: boolean };
}

let sys: TestSystem;
let server: ServerType;
let base = '';
const ops: Operation[] = [];
let components: Record<string, Schema> = {};
const known: Record<string, string> = {};

/** Violations found; the tests assert there are none (and print them all if there are). */
const violations: string[] = [];
const counts = new Map<string, number>();
let fiveHundreds = 0;
let socketsClosed = 0;

beforeAll(async () => {
  sys = await startSystem();
  await new Promise<void>((resolve) => {
    server = serve({ fetch: sys.api.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => {
      base = `http://127.0.0.1:${info.port}`;
      resolve();
    });
  });
  const doc = (await (await fetch(`${base}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, any>>;
    components?: { schemas?: Record<string, Schema> };
  };
  components = doc.components?.schemas ?? {};
  for (const [p, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content as Record<string, { schema: Schema }> | undefined;
      const [contentType, media] = content ? Object.entries(content)[0] : [];
      ops.push({
        method: method.toUpperCase(),
        path: p,
        params: op.parameters ?? [],
        ...(media ? { body: { contentType: contentType!, schema: media.schema ?? {}, required: !!op.requestBody.required } } : {}),
      });
    }
  }
  // Real ids, so that some fuzzed requests get past "not found" into the handlers.
  const created = await sys.call('POST', '/api/v1/accounts/ACC-1001/orders', { body: {} });
  known.orderId = created.body.orderId;
  const added = await sys.call('POST', `/api/v1/orders/${known.orderId}/lines`, { body: { sku: 'HS-APL-IP16-128', quantity: 1 } });
  known.lineId = added.body.lines[0].lineId;
  known.accountId = 'ACC-1001';
  known.batchId = 'a'.repeat(64);
  known.date = '2026-01-15';
  known.imeiOrSerial = '353325110000008';
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  await sys?.stop();
  const table = [...counts]
    .sort()
    .map(([k, n]) => `${k}: ${n}`)
    .join('\n');
  console.log(
    `API fuzz cases per route (${[...counts.values()].reduce((a, b) => a + b, 0)} in all, ${fiveHundreds} 5xx, ${socketsClosed} keep-alive sockets closed after a refusal and retried):\n${table}`,
  );
});

// ---- Requests, and what every answer must look like. ----

interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

async function send(route: string, req: Req): Promise<{ status: number; body: unknown }> {
  counts.set(route, (counts.get(route) ?? 0) + 1);
  let res: Response | undefined;
  for (let attempt = 1; !res; attempt++) {
    try {
      res = await fetch(base + req.url, {
        method: req.method,
        headers: req.headers,
        body: req.body as RequestInit['body'],
        signal: AbortSignal.timeout(60_000),
      });
    } catch (err) {
      // @hono/node-server closes a keep-alive socket whose request body a refusal left unread
      // (500 ms later); a request already sent on it sees the close. Clients retry; so do we.
      if (attempt < 3 && /other side closed|ECONNRESET/.test(String((err as Error).cause))) {
        socketsClosed++;
        continue;
      }
      violations.push(`${route}: ${req.method} ${req.url.slice(0, 200)} → no answer (${(err as Error).message}: ${String((err as Error).cause)})`);
      return { status: 0, body: null };
    }
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // checked below
  }
  const what = `${route}: ${req.method} ${req.url.slice(0, 200)} [${req.headers['content-type'] ?? '-'}] ${typeof req.body === 'string' ? req.body.slice(0, 200) : req.body ? `<${req.body.length} bytes>` : ''}`;
  if (res.status >= 500) {
    fiveHundreds++;
    violations.push(`${what} → ${res.status} ${text.slice(0, 300)}`);
  }
  if (res.status >= 400) {
    const e = (body as { error?: { code?: unknown; message?: unknown } })?.error;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string')
      violations.push(`${what} → ${res.status} without the error shape: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body };
}

// ---- Schema-aware generators. ----

const resolve = (s: Schema): Schema => (s?.$ref ? resolve(components[String(s.$ref).split('/').pop()!]) : (s ?? {}));

/** Values that fit the schema (as far as a generator can tell from JSON Schema). */
function validArb(s0: Schema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(s0);
  if (s.enum) return fc.constantFrom(...(s.enum as unknown[]));
  if (s.const !== undefined) return fc.constant(s.const);
  const alts = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  if (alts) return fc.oneof(...alts.map((a) => validArb(a, depth + 1)));
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== 'null') : s.type;
  switch (type) {
    case 'object': {
      if (depth > 4) return fc.constant({});
      const props = (s.properties ?? {}) as Record<string, Schema>;
      if (!Object.keys(props).length) return fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
      return fc.record(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, validArb(p, depth + 1)])), {
        requiredKeys: ((s.required ?? []) as string[]).filter((k) => k in props),
      });
    }
    case 'array':
      return fc.array(validArb(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, Math.min(s.maxItems ?? 3, 3)) });
    case 'string': {
      const min = s.minLength ?? 0;
      const max = s.maxLength ?? Infinity;
      if (s.format === 'email') return fc.emailAddress();
      // Only the schema's own bounds filter a pattern (a default bound could exclude every match).
      if (s.pattern) return fc.stringMatching(new RegExp(s.pattern)).filter((x) => x.length >= min && x.length <= max);
      return fc.string({ minLength: Math.max(min, 1), maxLength: Math.min(max, 40) });
    }
    case 'integer':
      return fc.integer({ min: s.minimum ?? -5, max: s.maximum ?? 2000 });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Cells and values that break things elsewhere: control characters, lone surrogates, huge, odd numbers, prototype keys. */
const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom(
    '\u0000',
    'a\u0000b',
    '\ud800',
    '\udfff x',
    '\u202e\u2028\u2029',
    '𝕏🙂👍🏽',
    ' ',
    '',
    '$where',
    '{"$gt":""}',
    '../../etc/passwd',
    '%00',
    '<script>alert(1)</script>',
    '__proto__',
    'constructor',
  ),
  fc.constantFrom('x'.repeat(5000), '9'.repeat(400)),
  fc.integer(),
  fc.constantFrom(-1, 0, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2, 2 ** 31),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
  fc.constantFrom({ $gt: '' }, { $ne: null }, { __proto__: { polluted: true } }, { constructor: { prototype: { polluted: true } } }),
);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A valid body, or one mutated: a field missing, a field of the wrong type, an extra field, or something else entirely. */
function bodyArb(schema: Schema): fc.Arbitrary<unknown> {
  const valid = validArb(schema);
  return fc.oneof(
    { weight: 3, arbitrary: valid },
    {
      weight: 2,
      arbitrary: valid.chain((v) =>
        isObj(v) && Object.keys(v).length
          ? fc.constantFrom(...Object.keys(v)).map((k) => Object.fromEntries(Object.entries(v).filter(([x]) => x !== k)))
          : fc.constant(v),
      ),
    },
    {
      weight: 3,
      arbitrary: valid.chain((v) =>
        isObj(v) && Object.keys(v).length ? fc.tuple(fc.constantFrom(...Object.keys(v)), weird).map(([k, w]) => ({ ...v, [k]: w })) : weird,
      ),
    },
    { weight: 1, arbitrary: valid.chain((v) => fc.tuple(fc.string({ maxLength: 12 }), weird).map(([k, w]) => (isObj(v) ? { ...v, [k]: w } : { [k]: w }))) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  );
}

/** Raw bodies that are not the JSON they claim to be. */
const rawBody: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  fc.constantFrom('', '{', '{"a":', 'null', '[]', '"text"', '1e999999', '{"a":1,"a":2}', '\ufeff{}', '{"__proto__":{"polluted":true}}', 'NaN', '{\u0000}'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ minLength: 1, maxLength: 200 }),
  fc.constant(new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])), // {"\xff\xfe":1}: invalid UTF-8
);

/** Lone surrogates cannot be percent-encoded; the raw invalid UTF-8 cases above cover them. */
const wellFormed = (v: string) => v.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');

/** A path parameter: the real one, a well-formed stranger, or garbage. */
function paramArb(name: string, schema: Schema | undefined): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constant(known[name] ?? 'X') },
      { weight: 2, arbitrary: schema ? validArb(schema).map(String) : fc.string({ minLength: 1, maxLength: 20 }) },
      { weight: 2, arbitrary: weird.map((w) => (typeof w === 'string' ? w : (JSON.stringify(w) ?? 'x'))).map((w) => (/^%|^\.\.$/.test(w) ? `x${w}` : w)) },
      { weight: 1, arbitrary: fc.constantFrom('%ED%A0%80', '%FF%FE', '%', '%2e%2e', '%2F', '..', '%00') }, // raw: invalid UTF-8, traversal
    )
    .map((v) => (/^%|^\.\.$/.test(v) ? v : encodeURIComponent(wellFormed(v)) || '%20'));
}

function queryArb(op: Operation): fc.Arbitrary<string> {
  const qs = op.params.filter((p) => p.in === 'query');
  if (!qs.length) return fc.constantFrom('', '?x=1', `?${'a'.repeat(3000)}=1`);
  return fc
    .tuple(
      ...qs.map((p) =>
        fc.option(
          fc.oneof(
            validArb(p.schema ?? {}).map((v) => [String(v)]),
            weird.map((w) => [typeof w === 'string' ? w : (JSON.stringify(w) ?? '')]),
            fc.array(fc.string({ maxLength: 8 }), { minLength: 2, maxLength: 3 }), // repeated parameter
          ),
          { freq: 3 },
        ),
      ),
    )
    .map((values) => {
      const sp = new URLSearchParams();
      values.forEach((vs, i) => vs?.forEach((v) => sp.append(qs[i].name, v)));
      const s = sp.toString();
      return s ? `?${s}` : '';
    });
}

const roleArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<keyof typeof TOKENS>('agent', 'ops', 'adaptor', 'admin').map((r) => `Bearer ${TOKENS[r]}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      'Bearer',
      'Bearer ',
      'Basic YWdlbnQ6eA==',
      `Bearer ${TOKENS.agent} extra`,
      `bearer ${TOKENS.ops}`,
      `Bearer ${'x'.repeat(5000)}`,
      'Bearer \u00e9t\u00e9',
    ),
  },
);

const jsonTypes = fc.oneof(
  { weight: 8, arbitrary: fc.constant('application/json') },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'APPLICATION/JSON',
      'application/jsonx',
      'text/plain',
      'text/csv',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/xml',
      '',
      '*/*',
    ),
  },
);

function requestArb(op: Operation): fc.Arbitrary<Req> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const pathArb = fc
    .tuple(...pathParams.map((p) => paramArb(p.name, p.schema)))
    .map((vals) => pathParams.reduce((url, p, i) => url.replace(`{${p.name}}`, vals[i]), op.path));
  const csv = op.body?.contentType === 'text/csv';
  const bodyAndType: fc.Arbitrary<{ body?: string | Uint8Array; type?: string }> = !op.body
    ? fc.oneof(
        { weight: 4, arbitrary: fc.constant({}) },
        { weight: 1, arbitrary: fc.tuple(fc.jsonValue({ maxDepth: 2 }), jsonTypes).map(([b, type]) => ({ body: JSON.stringify(b), type })) },
      )
    : csv
      ? fc
          .tuple(
            fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.constant('warehouse_id,sub_order_number\nWH-NORTH,x\n')),
            fc.constantFrom('text/csv', 'text/plain', 'application/json', 'application/octet-stream', ''),
          )
          .map(([body, type]) => ({ body, type }))
      : fc
          .tuple(
            fc.oneof({ weight: 5, arbitrary: bodyArb(op.body.schema).map((b) => JSON.stringify(b) ?? 'null') }, { weight: 1, arbitrary: rawBody }),
            jsonTypes,
            fc.boolean(),
          )
          .map(([body, type, omit]) => (omit && !op.body!.required ? {} : { body, type }));
  return fc
    .record({
      path: pathArb,
      query: queryArb(op),
      auth: roleArb,
      bt: bodyAndType,
      idem: fc.option(fc.oneof(fc.uuid(), fc.constantFrom('a'.repeat(200), 'bad key!', '')), { freq: 4 }),
    })
    .map(({ path, query, auth, bt, idem }) => ({
      method: op.method,
      url: path + query,
      headers: {
        ...(auth ? { authorization: auth } : {}),
        ...(bt.type ? { 'content-type': bt.type } : {}),
        ...(idem !== null ? { 'idempotency-key': idem } : {}),
      },
      ...(bt.body !== undefined && op.method !== 'GET' && op.method !== 'DELETE' ? { body: bt.body } : {}),
    }));
}

const RUNS_PER_ROUTE = Number(process.env.API_FUZZ_RUNS ?? 60);

describe('API under random and mutated requests', () => {
  it('publishes its routes', () => {
    expect(ops.length).toBeGreaterThan(15);
  });

  it('never answers 5xx, and refuses in the error shape, on every route', { timeout: 900_000 }, async () => {
    for (const op of ops) {
      const route = `${op.method} ${op.path}`;
      await fc.assert(
        fc.asyncProperty(requestArb(op), async (req) => {
          await send(route, req);
        }),
        { numRuns: RUNS_PER_ROUTE, seed: 1007, endOnFailure: true },
      );
    }
    expect(violations).toEqual([]);
  });

  it('caps JSON bodies at 256 KiB (413) and refuses other content types (415) on every JSON route', async () => {
    const huge = JSON.stringify({ pad: 'x'.repeat(JSON_BODY_LIMIT + 1024) });
    const withBody = ops.filter((o) => o.body && o.body.contentType === 'application/json');
    expect(withBody.length).toBeGreaterThan(5);
    for (const op of withBody) {
      const url = op.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(known[n] ?? 'X'));
      const route = `${op.method} ${op.path}`;
      const big = await send(route, {
        method: op.method,
        url,
        headers: { authorization: `Bearer ${TOKENS.ops}`, 'content-type': 'application/json' },
        body: huge,
      });
      expect(big.status, `${route} with a ${huge.length}-byte body: ${violations.join('; ')}`).toBe(413);
      for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded']) {
        const res = await send(route, { method: op.method, url, headers: { authorization: `Bearer ${TOKENS.ops}`, 'content-type': type }, body: '{"a":1}' });
        expect(res.status, `${route} as ${type}: ${violations.join('; ')}`).toBe(415);
      }
    }
    // The adaptor's file upload takes CSV only.
    const upload = await send('POST /api/v1/adaptor/warehouse-files', {
      method: 'POST',
      url: '/api/v1/adaptor/warehouse-files?warehouseId=WH-NORTH',
      headers: { authorization: `Bearer ${TOKENS.adaptor}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(upload.status).toBe(415);
    expect(violations).toEqual([]);
  });

  it('survives deeply nested JSON on every JSON route', async () => {
    const depth = 50_000;
    const bodies = [
      '['.repeat(depth) + ']'.repeat(depth),
      '{"a":'.repeat(depth) + '1' + '}'.repeat(depth),
      `{"sku":${'['.repeat(depth)}${']'.repeat(depth)},"quantity":1}`,
    ];
    for (const op of ops.filter((o) => o.body && o.body.contentType === 'application/json')) {
      const url = op.path.replace(/\{(\w+)\}/g, (_, n: string) => encodeURIComponent(known[n] ?? 'X'));
      for (const body of bodies) {
        const res = await send(`${op.method} ${op.path}`, {
          method: op.method,
          url,
          headers: { authorization: `Bearer ${TOKENS.ops}`, 'content-type': 'application/json' },
          body,
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }
    }
    expect(violations).toEqual([]);
  });
});
