// What the API's middleware leaves on a request's context for the handlers: one typed hono Env,
// used by every router (`newRouter` in api/app.ts), so `c.get('actor')` needs no cast.
import type { Role } from '../infra/config';

export type ApiEnv = {
  Variables: {
    /** Set by requireRole (api/auth.ts) before validation and any handler. */
    role: Role;
    /** A non-secret id for audit trails: `<role>:<agent id>`. */
    actor: string;
    /** The warehouses an adaptor token may act for; null = every one. */
    warehouses: string[] | null;
    /** Set by `idempotent` (api/idempotency.ts) for a request with an Idempotency-Key: its Temporal update id. */
    idempotencyKey?: string;
    /** Set by observeRequests (api/observability.ts) for every request; echoed as x-request-id. */
    requestId: string;
  };
};
