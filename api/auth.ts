// Bearer tokens per role. Compared in constant time; tokens are never logged.
// Roles belong to routes: each route declares them in its OpenAPI security requirement and
// `guarded` enforces exactly that declaration. Nothing matches path strings.
import type { RouteConfig } from '@hono/zod-openapi';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { Config, Role } from '../infra/config';
import type { ApiEnv } from './env';
import { apiError } from './errors';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function principalOf(config: Config, authorization: string | undefined): { role: Role; warehouses: string[] | null } | null {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m) return null;
  const given = digest(m[1]);
  let found: { role: Role; token: string } | null = null;
  // Check every token (no early exit) so timing says nothing about which role nearly matched.
  for (const role of ['agent', 'adaptor', 'ops', 'admin'] as const) {
    for (const t of config.tokens[role]) if (timingSafeEqual(given, digest(t)) && !found) found = { role, token: t };
  }
  if (!found) return null;
  return { role: found.role, warehouses: found.role === 'adaptor' ? (config.adaptorScopes[found.token] ?? null) : null };
}

export const roleOf = (config: Config, authorization: string | undefined): Role | null => principalOf(config, authorization)?.role ?? null;

/** Refuses (403) an adaptor token acting for a warehouse it is not for. */
export function requireWarehouse(c: Context<ApiEnv>, warehouseId: string): void {
  const allowed = c.get('warehouses');
  if (allowed && !allowed.includes(warehouseId)) throw apiError('FORBIDDEN', `this token acts for ${allowed.join(', ')}, not ${warehouseId}`);
}

/** Requires one of the roles; sets `role` and `actor` (a non-secret id for audit trails). */
export function requireRole(config: Config, ...roles: Role[]): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = principalOf(config, c.req.header('authorization'));
    if (!principal) throw apiError('UNAUTHENTICATED', 'a valid bearer token is required');
    const { role } = principal;
    if (!roles.includes(role)) throw apiError('FORBIDDEN', `this action needs the ${roles.join(' or ')} role`);
    c.set('role', role);
    c.set('warehouses', principal.warehouses);
    // Agents identify themselves; the token only proves the role.
    const who = (c.req.header('x-agent-id') ?? '').replace(/[^\w.@-]/g, '').slice(0, 64);
    c.set('actor', `${role}:${who || 'anonymous'}`);
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
