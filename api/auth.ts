// Who calls the API: an access token (a JWT) from the OpenID provider, verified against its JWKS
// (issuer, audience, expiry, signature), or in development a static token per role. Tokens are
// never logged. Roles belong to routes: each route declares them in its OpenAPI security
// requirement and `guarded` enforces exactly that declaration. Nothing matches path strings.
import type { RouteConfig } from '@hono/zod-openapi';
import { createRemoteJWKSet, errors as jose, jwtVerify, type JWTPayload } from 'jose';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { DEV_TOKEN_ACTORS, DEV_TOKENS, type Config, type OidcSettings, type Role } from '../infra/config';
import type { ApiEnv } from './env';
import { apiError } from './errors';

const ROLES = ['agent', 'adaptor', 'ops', 'admin'] as const satisfies readonly Role[];

/** The caller: the token's subject (the actor in every history) and the roles it proves. */
export interface Principal {
  subject: string;
  /** A display name (the token's `name` or `preferred_username`), when it has one. */
  name: string | null;
  roles: Role[];
  /** The warehouses an adaptor caller may act for; null = every one. */
  warehouses: string[] | null;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A static token's principal; its subject is fixed per token (the dev tokens' are published). */
function staticPrincipal(config: Config, token: string): Principal | null {
  const given = digest(token);
  let found: { role: Role; token: string; index: number } | null = null;
  // Check every token (no early exit) so timing says nothing about which role nearly matched.
  for (const role of ROLES) {
    config.tokens[role].forEach((t, index) => {
      if (timingSafeEqual(given, digest(t)) && !found) found = { role, token: t, index };
    });
  }
  if (!found) return null;
  const { role, token: matched, index } = found as { role: Role; token: string; index: number };
  const dev = DEV_TOKENS[role] === matched ? DEV_TOKEN_ACTORS[role] : null;
  return {
    // Another configured token is named by its place in the list: nothing of the token itself reaches a history.
    subject: dev?.subject ?? `${role}-token-${index + 1}`,
    name: dev?.name ?? null,
    roles: [role],
    warehouses: role === 'adaptor' ? (config.adaptorScopes[matched] ?? null) : null,
  };
}

/** The issuer's keys, found through its discovery document once per process and refreshed by jose on an unknown kid. */
interface Verifier {
  keys: Promise<{ issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }>;
}
const verifiers = new WeakMap<OidcSettings, Verifier>();

async function discover(oidc: OidcSettings) {
  const url = `${oidc.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  const meta = (await res.json()) as { issuer?: string; jwks_uri?: string };
  if (!meta.jwks_uri || !meta.issuer) throw new Error(`${url} names no issuer or jwks_uri`);
  return { issuer: meta.issuer, jwks: createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 5000 }) };
}

function keysOf(oidc: OidcSettings): Verifier['keys'] {
  let v = verifiers.get(oidc);
  if (!v) {
    v = { keys: discover(oidc) };
    // A provider down at start must not stay down for this process: the next request asks again.
    v.keys.catch(() => verifiers.delete(oidc));
    verifiers.set(oidc, v);
  }
  return v.keys;
}

/** The claim at a dotted path (`roles`, `realm_access.roles`), as a list of strings. */
export function claimValues(payload: JWTPayload, path: string): string[] {
  let v: unknown = payload;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  if (typeof v === 'string') return v.split(/\s+/).filter(Boolean);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Verification failures are the caller's (401); an issuer that cannot be reached is not (503). */
const isRefusedToken = (err: unknown) =>
  err instanceof jose.JWTExpired ||
  err instanceof jose.JWTClaimValidationFailed ||
  err instanceof jose.JWTInvalid ||
  err instanceof jose.JWSInvalid ||
  err instanceof jose.JWSSignatureVerificationFailed ||
  err instanceof jose.JWKSNoMatchingKey ||
  err instanceof jose.JWKSMultipleMatchingKeys ||
  err instanceof jose.JOSEAlgNotAllowed ||
  err instanceof jose.JOSENotSupported;

async function jwtPrincipal(oidc: OidcSettings, token: string): Promise<Principal | null> {
  let keys: Awaited<Verifier['keys']>;
  try {
    keys = await keysOf(oidc);
  } catch {
    throw apiError('DEPENDENCY_UNAVAILABLE', 'the identity provider cannot be reached; try again');
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.jwks, { issuer: keys.issuer, audience: oidc.audience, requiredClaims: ['exp'] }));
  } catch (err) {
    if (isRefusedToken(err)) return null;
    throw apiError('DEPENDENCY_UNAVAILABLE', "the identity provider's keys cannot be read; try again");
  }
  // A client-credentials token may name its client only as client_id / azp.
  const client = [payload.azp, payload.client_id].find((v): v is string => typeof v === 'string') ?? null;
  const subject = payload.sub ?? client;
  if (!subject) return null;
  const roles = ROLES.filter((r) => claimValues(payload, oidc.roleClaim).includes(r));
  const named = [payload.name, payload.preferred_username].find((v): v is string => typeof v === 'string' && v.length > 0);
  return {
    subject,
    name: named ?? null,
    roles,
    warehouses: roles.includes('adaptor') && client ? (oidc.adaptorClientScopes[client] ?? null) : null,
  };
}

/** The caller of a request with this Authorization header; null when there is no valid token. */
export async function principalOf(config: Config, authorization: string | undefined): Promise<Principal | null> {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return null;
  const fixed = staticPrincipal(config, m[1]);
  if (fixed) return fixed;
  return config.oidc && m[1].split('.').length === 3 ? jwtPrincipal(config.oidc, m[1]) : null;
}

/** Refuses (403) an adaptor token acting for a warehouse it is not for. */
export function requireWarehouse(c: Context<ApiEnv>, warehouseId: string): void {
  const allowed = c.get('warehouses');
  if (allowed && !allowed.includes(warehouseId)) throw apiError('FORBIDDEN', `this token acts for ${allowed.join(', ')}, not ${warehouseId}`);
}

/** Requires one of the roles; sets `role`, `actor` (the token's subject) and `actorName`. Headers never name the actor. */
export function requireRole(config: Config, ...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    // The API's outer gate and the route's check share one verification.
    let principal = c.get('principal');
    if (!principal) {
      const found = await principalOf(config, c.req.header('authorization'));
      if (!found) throw apiError('UNAUTHENTICATED', 'a valid bearer token is required');
      principal = found;
      c.set('principal', principal);
    }
    const role = principal.roles.find((r) => roles.includes(r));
    if (!role) throw apiError('FORBIDDEN', `this action needs the ${roles.join(' or ')} role`);
    c.set('role', role);
    c.set('warehouses', principal.warehouses);
    c.set('actor', principal.subject);
    c.set('actorName', principal.name);
    await next();
  };
}

/** Any valid token: the API's outer gate, so a route that forgot its roles is still not public. */
export const requireToken = (config: Config) => requireRole(config, 'agent', 'adaptor', 'ops', 'admin');

/** A route's roles as an OpenAPI security requirement (OpenAPI 3.1 allows role names for http schemes). */
export const roles = (...names: [Role, ...Role[]]) => ({ security: [{ bearer: names }] });

/** The roles a route declares; a route under /api without them is a programming error. */
export function rolesOf(route: Pick<RouteConfig, 'security' | 'method' | 'path'>): Role[] {
  const declared = (route.security ?? []).flatMap((s) => s.bearer ?? []) as Role[];
  if (!declared.length) throw new Error(`route ${route.method.toUpperCase()} ${route.path} declares no roles`);
  return declared;
}

/**
 * The route with its declared roles checked first (before validation and any other middleware
 * given here, such as idempotency, which needs the caller's role).
 */
export function guarded<R extends RouteConfig>(config: Config, route: R, ...then: MiddlewareHandler<ApiEnv>[]): R {
  return { ...route, middleware: [requireRole(config, ...rolesOf(route)), ...then] };
}
