// What the API's middleware leaves on a request's context for the handlers: one typed hono Env,
// used by every router (`newRouter` in api/app.ts), so `c.get('actor')` needs no cast.
import type { Role } from '../infra/config';
import type { Principal } from './auth';

export type ApiEnv = {
  Variables: {
    /** Set by requireRole (api/auth.ts) before validation and any handler. */
    role: Role;
    /** Who acts, for audit trails: the access token's subject (a static dev token's fixed dev identity), never a header. */
    actor: string;
    /** The actor's display name from the token (`name`, `preferred_username`), when it has one. */
    actorName: string | null;
    /** The verified caller, kept so later checks on the same request do not verify the token again. */
    principal?: Principal;
    /** The warehouses an adaptor token may act for; null = every one. */
    warehouses: string[] | null;
    /** Set by `idempotent` (api/idempotency.ts) for a request with an Idempotency-Key: its Temporal update id. */
    idempotencyKey?: string;
    /** Set by observeRequests (api/observability.ts) for every request; echoed as x-request-id. */
    requestId: string;
  };
};
