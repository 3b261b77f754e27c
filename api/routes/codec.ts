// Temporal's remote codec protocol (POST {endpoint}/encode and /decode), so ops can read sealed
// payloads in the Temporal CLI (`--codec-endpoint … --codec-auth 'Bearer …'`) and Web UI. Ops only:
// decoding shows customer details. Browsers may call it only from the Temporal UI's origin.
import { createRoute, z } from '@hono/zod-openapi';
import type { Payload } from '@temporalio/common';
import type { MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import type { Config } from '../../infra/config';
import { EncryptionCodec, loadPayloadKeys } from '../../infra/payload-codec';
import type { ApiDeps } from '../app';
import { newRouter } from '../app';
import { guarded, roles } from '../auth';
import { apiError } from '../errors';
import { answer, jsonBody, refusal } from '../schemas';

const base64 = z
  .string()
  .max(4_000_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');

/** A payload in the protocol's JSON form: metadata values and data base64-encoded. */
const PayloadJsonSchema = z.object({ metadata: z.record(z.string().max(256), base64).optional(), data: base64.optional() }).openapi('CodecPayload');
// Protobuf JSON leaves out an empty list: `{}` is no payloads.
const PayloadsSchema = z
  .object({ payloads: z.array(PayloadJsonSchema).max(1000).default([]) })
  .strict()
  .openapi('CodecPayloads');

type PayloadJson = z.infer<typeof PayloadJsonSchema>;

const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): PayloadJson => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const codecRoute = (op: 'encode' | 'decode') =>
  createRoute({
    ...roles('ops'),
    method: 'post',
    path: `/codec/${op}`,
    tags: ['ops'],
    summary: op === 'decode' ? 'Opens sealed Temporal payloads (Temporal remote codec protocol)' : 'Seals payloads (Temporal remote codec protocol)',
    request: jsonBody(PayloadsSchema),
    responses: {
      200: answer('The payloads, in the same order', PayloadsSchema),
      400: refusal('Not payloads, or a payload that does not open with the configured keys'),
      403: refusal('Not ops, or a browser origin other than the Temporal UI'),
    },
  });

/** The origins a browser may call the codec from: the Temporal UI's. */
export const codecOrigins = (config: Config) => [new URL(config.temporal.uiUrl).origin];

/**
 * CORS for the Temporal UI, mounted before the API's token gate so that the browser's preflight
 * (which carries no token) is answered; any other browser origin is refused outright.
 */
export function codecCors(config: Config): MiddlewareHandler {
  const origins = codecOrigins(config);
  const allow = cors({ origin: origins, allowMethods: ['POST', 'OPTIONS'], allowHeaders: ['authorization', 'content-type', 'x-namespace'], maxAge: 600 });
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (origin && !origins.includes(origin)) throw apiError('FORBIDDEN', `the codec answers browsers only from the Temporal UI (${origins.join(', ')})`);
    return allow(c, next);
  };
}

export function codecRoutes({ config }: ApiDeps) {
  const codec = new EncryptionCodec(loadPayloadKeys(config));
  const r = newRouter();
  for (const op of ['encode', 'decode'] as const) {
    r.openapi(guarded(config, codecRoute(op)), async (c) => {
      const { payloads } = c.req.valid('json');
      let out: Payload[];
      try {
        out = await codec[op](payloads.map(fromJson));
      } catch (err) {
        throw apiError('VALIDATION_FAILED', `cannot ${op} these payloads: ${(err as Error).message}`);
      }
      return c.json({ payloads: out.map(toJson) }, 200);
    });
  }
  return r;
}
