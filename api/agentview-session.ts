// AgentView's own sign-in at the OpenID provider (OIDC_ISSUER), with openid-client: authorisation
// code + PKCE (S256), state and nonce. The access token never reaches the browser: it is kept in the
// database (`agentViewSessions`, so every API instance finds it) under the SHA-256 of a random
// session id, and the browser holds only that id in an httpOnly, SameSite=Lax cookie (Secure with an
// https AGENTVIEW_URL or in production). Sign-out deletes the record, so the old cookie is refused.
// A request authenticated by the cookie that changes anything must carry `x-requested-with:
// agentview`: a page on another origin cannot add that header without a CORS preflight, which this
// API never answers, so a forged form post or cross-site fetch fails (SameSite=Lax alone would still
// let a same-site page, such as another port on the host, through).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import type { Config } from '../infra/config';
import type { Db } from '../infra/db';
import { log } from '../infra/log';
import { principalOf } from './auth';
import type { ApiEnv } from './env';
import { apiError } from './errors';
import { sameOriginPath } from './ui/routes';

export const SESSION_COOKIE = 'agentview_session';
const SIGNIN_COOKIE = 'agentview_signin';
/** The header AgentView's script sends with every call; a cookie-authenticated change without it is refused. */
export const CSRF_HEADER = 'x-requested-with';
export const CSRF_VALUE = 'agentview';
/** A session ends at the access token's expiry, and never later than this. */
const MAX_SESSION_SECONDS = 8 * 3600;
const SIGNIN_SECONDS = 600;

const hashOf = (sessionId: string) => createHash('sha256').update(sessionId).digest('hex');
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface KeptSession {
  _id: string;
  accessToken: string;
  idToken?: string;
  subject: string;
  expiresAt: Date;
}

/** The provider's metadata for AgentView's client, discovered once per process (again after a failure). */
function clientConfig(config: Config): () => Promise<oidc.Configuration> {
  let found: Promise<oidc.Configuration> | null = null;
  return () => {
    if (!found) {
      const { issuer } = config.oidc!;
      const av = config.agentView;
      const secret = av.clientSecretFile ? fs.readFileSync(av.clientSecretFile, 'utf8').trim() : undefined;
      // Only the development provider is plain HTTP; production refuses a non-https issuer (infra/config.ts).
      const execute = issuer.startsWith('http://') ? [oidc.allowInsecureRequests] : [];
      found = oidc.discovery(new URL(issuer), av.clientId, secret, secret ? oidc.ClientSecretPost(secret) : oidc.None(), { execute, timeout: 5 });
      found.catch(() => (found = null));
    }
    return found;
  };
}

function cookieOptions(config: Config, path: string, maxAge: number) {
  return { httpOnly: true, sameSite: 'Lax' as const, secure: config.agentView.secureCookie, path, maxAge };
}

/**
 * `/auth/signin`, `/auth/callback` and `/auth/signout` (only when OIDC_ISSUER is set). Signing out
 * answers `{ endSessionUrl }`, the provider's sign-out to send the browser to, when it has one.
 */
export function agentViewSignInRoutes(config: Config, db: Db) {
  const r = new Hono();
  if (!config.oidc) return r;
  const provider = clientConfig(config);
  const { AgentViewSession } = db.models;
  const origin = new URL(config.agentView.url).origin;
  const redirectUri = `${config.agentView.url}/auth/callback`;
  const providerDown = (c: Context, err: unknown) => {
    log.warn({ component: 'api', err: (err as Error)?.message }, 'AgentView sign-in: the identity provider cannot be reached');
    return c.text('The identity provider cannot be reached; try again in a moment.', 503);
  };

  r.get('/auth/signin', async (c) => {
    let server: oidc.Configuration;
    try {
      server = await provider();
    } catch (err) {
      return providerDown(c, err);
    }
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    const next = sameOriginPath(c.req.query('next') ?? '/accounts', origin) ?? '/accounts';
    // What the callback checks, for this browser only; it holds nothing that signs anyone in.
    setCookie(
      c,
      SIGNIN_COOKIE,
      Buffer.from(JSON.stringify({ verifier, state, nonce, next })).toString('base64url'),
      cookieOptions(config, '/auth', SIGNIN_SECONDS),
    );
    const url = oidc.buildAuthorizationUrl(server, {
      redirect_uri: redirectUri,
      scope: config.agentView.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return c.redirect(url.href, 302);
  });

  r.get('/auth/callback', async (c) => {
    const raw = getCookie(c, SIGNIN_COOKIE);
    deleteCookie(c, SIGNIN_COOKIE, { path: '/auth', secure: config.agentView.secureCookie });
    let started: { verifier: string; state: string; nonce: string; next: string };
    try {
      started = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString('utf8'));
      if (typeof started.verifier !== 'string' || typeof started.state !== 'string') throw new Error('incomplete');
    } catch {
      // Expired, or the callback opened in another browser: start again.
      return c.redirect('/signin', 303);
    }
    let server: oidc.Configuration;
    try {
      server = await provider();
    } catch (err) {
      return providerDown(c, err);
    }
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      // The URL the provider sent the browser to, on AgentView's configured address (not the Host header).
      const current = new URL(`/auth/callback${new URL(c.req.url).search}`, config.agentView.url);
      tokens = await oidc.authorizationCodeGrant(server, current, {
        pkceCodeVerifier: started.verifier,
        expectedState: started.state,
        expectedNonce: started.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      if (err instanceof oidc.AuthorizationResponseError || err instanceof oidc.ResponseBodyError || (err as { code?: string })?.code?.startsWith?.('OAUTH_')) {
        log.info({ component: 'api', code: (err as { code?: string }).code, error: (err as { error?: string }).error }, 'AgentView sign-in refused');
        return c.text('Sign-in did not complete (it was refused, or the link was used twice). Go back to AgentView and sign in again.', 401);
      }
      return providerDown(c, err);
    }
    // The token must be one this API accepts: the same check as every bearer token.
    const principal = await principalOf(config, `Bearer ${tokens.access_token}`);
    if (!principal) return c.text("The identity provider's access token is not for this API (issuer, audience or signature); ask an administrator.", 401);
    const seconds = Math.min(tokens.expiresIn() ?? MAX_SESSION_SECONDS, MAX_SESSION_SECONDS);
    const sessionId = randomBytes(32).toString('base64url');
    await AgentViewSession.create({
      _id: hashOf(sessionId),
      accessToken: tokens.access_token,
      idToken: tokens.id_token,
      subject: principal.subject,
      expiresAt: new Date(Date.now() + seconds * 1000),
    });
    setCookie(c, SESSION_COOKIE, sessionId, cookieOptions(config, '/', seconds));
    // The sign-in page's script asks the API who this is, then goes on to `next`.
    return c.redirect(`/signin?next=${encodeURIComponent(started.next)}`, 303);
  });

  r.post('/auth/signout', async (c) => {
    if (c.req.header(CSRF_HEADER) !== CSRF_VALUE) throw apiError('FORBIDDEN', `signing out needs the ${CSRF_HEADER}: ${CSRF_VALUE} header`);
    const sessionId = getCookie(c, SESSION_COOKIE);
    const kept = sessionId ? await AgentViewSession.findOneAndDelete({ _id: hashOf(sessionId) }).lean<KeptSession>() : null;
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: config.agentView.secureCookie });
    // The provider's session ends too, where it offers that (RP-initiated logout): otherwise the next
    // person at this desk who signs in would be signed in as this one without a password.
    const server = kept?.idToken ? await provider().catch(() => null) : null;
    if (!server?.serverMetadata().end_session_endpoint) return c.body(null, 204);
    const endSessionUrl = oidc.buildEndSessionUrl(server, { id_token_hint: kept!.idToken!, post_logout_redirect_uri: `${config.agentView.url}/signin` });
    return c.json({ endSessionUrl: endSessionUrl.href });
  });
  return r;
}

/**
 * For /api: a request without an Authorization header but with AgentView's session cookie acts as
 * the session's access token (the same verification as a bearer token). A cookie that names no
 * live session is refused (401), and a cookie-authenticated change without the header is refused (403).
 */
export function agentViewSessionAuth(config: Config, db: Db): MiddlewareHandler<ApiEnv> {
  const { AgentViewSession } = db.models;
  return async (c, next) => {
    const sessionId = getCookie(c, SESSION_COOKIE);
    if (!config.oidc || !sessionId || c.req.header('authorization') !== undefined) return next();
    if (!SAFE_METHODS.has(c.req.method) && c.req.header(CSRF_HEADER) !== CSRF_VALUE) {
      throw apiError('FORBIDDEN', `a change made with AgentView's session needs the ${CSRF_HEADER}: ${CSRF_VALUE} header`);
    }
    const kept = await AgentViewSession.findOne({ _id: hashOf(sessionId) }).lean<KeptSession>();
    // FerretDB has no TTL index: an expired record is refused here (and removed), not by the database.
    if (!kept || kept.expiresAt.getTime() <= Date.now()) {
      if (kept) await AgentViewSession.deleteOne({ _id: kept._id });
      throw apiError('UNAUTHENTICATED', 'the AgentView session has ended; sign in again');
    }
    const principal = await principalOf(config, `Bearer ${kept.accessToken}`);
    if (!principal) throw apiError('UNAUTHENTICATED', 'the AgentView session has ended; sign in again');
    c.set('principal', principal);
    await next();
  };
}
