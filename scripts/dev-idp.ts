// The development identity provider: a certified OpenID provider library (oidc-provider) with the
// demo people and clients, so `npm start` and the tests sign in the way production does against
// the operator's IdP (Keycloak, Entra ID, Okta). Access tokens are JWTs for the API's audience
// with a `roles` claim. Development only: the issuer is plain http under devIdpPath, which
// NODE_ENV=production refuses (infra/config.ts), and this module refuses to start there too. It lives
// in scripts/, which `npm run build` does not compile: it never reaches the production image.
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { generateKeyPairSync, randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { devIdpPath, type Role } from '../infra/config';

/** The demo people: README lists them. Passwords are published; this provider is for development only. */
export const DEV_USERS: Record<string, { password: string; name: string; roles: Role[] }> = {
  alice: { password: 'alice-dev-password', name: 'Alice Agent', roles: ['agent'] },
  olga: { password: 'olga-dev-password', name: 'Olga Ops', roles: ['ops'] },
  adam: { password: 'adam-dev-password', name: 'Adam Admin', roles: ['admin'] },
};

/** The demo machine clients (client credentials): the adaptor role, for every warehouse. */
export const DEV_MACHINE_CLIENTS: Record<string, { secret: string; roles: Role[] }> = {
  adaptor: { secret: 'adaptor-dev-secret', roles: ['adaptor'] },
};

/** AgentView's client: public, authorisation code with PKCE. */
export const AGENTVIEW_CLIENT_ID = 'agentview';
/** The resource indicator of the API; its access tokens carry `aud` = the audience below. */
export const API_RESOURCE = 'urn:hardware-orders:api';

export interface DevIdpOptions {
  port: number;
  host?: string;
  /** The API's audience (OIDC_AUDIENCE). */
  audience: string;
  /** Where AgentView's sign-in comes back to (`…/auth/callback`); its sign-out comes back to `…/signin` beside it. */
  redirectUris: string[];
}

export interface DevIdp {
  issuer: string;
  stop(): Promise<void>;
}

const same = (a: string, b: string) => timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;
const escape = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

async function formBody(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) {
    text += chunk;
    if (text.length > 8192) throw new Error('form too large');
  }
  return new URLSearchParams(text);
}

export async function startDevIdp(opts: DevIdpOptions): Promise<DevIdp> {
  if (process.env.NODE_ENV === 'production') throw new Error('the development identity provider does not run with NODE_ENV=production');
  const host = opts.host ?? '127.0.0.1';
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, resolve);
  });
  const issuer = `http://${host}:${(server.address() as AddressInfo).port}${devIdpPath}`;
  // A fresh signing key per start: tokens from an earlier run stop working, as after a key rotation.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };

  const configuration: Configuration = {
    clients: [
      {
        client_id: AGENTVIEW_CLIENT_ID,
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: opts.redirectUris,
        post_logout_redirect_uris: opts.redirectUris.map((u) => u.replace(/\/auth\/callback$/, '/signin')),
      },
      ...Object.entries(DEV_MACHINE_CLIENTS).map(([clientId, c]) => ({
        client_id: clientId,
        client_secret: c.secret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      })),
    ],
    jwks: { keys: [signingKey as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    pkce: { required: () => true },
    // Development lifetimes (the library asks for them to be chosen, not defaulted).
    ttl: { Interaction: 600, Session: 8 * 3600, Grant: 8 * 3600, AccessToken: 3600, IdToken: 3600, ClientCredentials: 3600, AuthorizationCode: 60 },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      // Signing out of AgentView ends the provider's session too (a shared call-centre desk), after a confirmation.
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.body = page(
            'Sign out of the development provider?',
            `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button> <button type="submit" form="op.logoutForm">Stay signed in</button>`,
          );
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.body = page('Signed out', '<p>You are signed out of the development provider.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          if (indicator !== API_RESOURCE) throw new errors.InvalidTarget();
          return { scope: 'api', audience: opts.audience, accessTokenFormat: 'jwt', accessTokenTTL: 3600, jwt: { sign: { alg: 'RS256' } } };
        },
      },
    },
    findAccount: (_ctx, sub) => {
      const user = DEV_USERS[sub];
      if (!user) return undefined;
      return { accountId: sub, claims: () => ({ sub, name: user.name, preferred_username: sub }) };
    },
    // The API reads roles (OIDC_ROLE_CLAIM 'roles') and the name from the access token itself.
    extraTokenClaims: (_ctx, token) => {
      if ('accountId' in token && token.accountId) {
        const user = DEV_USERS[token.accountId];
        return user ? { roles: user.roles, name: user.name, preferred_username: token.accountId } : undefined;
      }
      return { roles: DEV_MACHINE_CLIENTS[token.clientId ?? '']?.roles ?? [] };
    },
    // AgentView is first-party: signing in grants what it asks for, with no consent screen.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const { client, session, provider } = ctx.oidc;
      if (!client || !session?.accountId) return undefined;
      const grantId = (ctx.oidc.result?.consent as { grantId?: string } | undefined)?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId) {
        const existing = await provider.Grant.find(grantId);
        if (existing) return existing;
      }
      const grant = new provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope('openid profile');
      grant.addOIDCClaims(['name', 'preferred_username']);
      grant.addResourceScope(API_RESOURCE, 'api');
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx, interaction) => `${devIdpPath}/interaction/${interaction.uid}` },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in failed', `<p>${escape(String(out.error))}: ${escape(String(out.error_description ?? ''))}</p>`);
    },
  };
  const provider = new Provider(issuer, configuration);
  const oidc = provider.callback();

  const loginForm = (uid: string, error?: string) =>
    page(
      'Sign in to hardware-orders (development)',
      `${error ? `<p role="alert">${escape(error)}</p>` : ''}<form method="post" action="${devIdpPath}/interaction/${escape(uid)}/login">` +
        '<p><label for="username">Username</label> <input id="username" name="username" autocomplete="username" required autofocus></p>' +
        '<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>' +
        '<p><button type="submit">Sign in</button></p></form>',
    );

  async function interaction(req: IncomingMessage, res: ServerResponse, rest: string): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const send = (status: number, html: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'; frame-ancestors 'none'" });
      res.end(html);
    };
    if (req.method === 'GET' && rest === details.uid) return send(200, loginForm(details.uid));
    if (req.method === 'POST' && rest === `${details.uid}/login`) {
      const form = await formBody(req);
      const username = form.get('username') ?? '';
      const user = Object.hasOwn(DEV_USERS, username) ? DEV_USERS[username] : null;
      if (!user || !same(user.password, form.get('password') ?? '')) return send(401, loginForm(details.uid, 'Wrong username or password.'));
      await provider.interactionFinished(req, res, { login: { accountId: username } }, { mergeWithLastSubmission: false });
      return;
    }
    send(404, page('Not found', '<p>No such step.</p>'));
  }

  server.on('request', (req, res) => {
    const url = req.url ?? '/';
    if (url !== devIdpPath && !url.startsWith(`${devIdpPath}/`)) {
      res.writeHead(404).end();
      return;
    }
    const inner = url.slice(devIdpPath.length) || '/';
    const step = /^\/interaction\/([^?]+)/.exec(inner);
    if (step) {
      interaction(req, res, step[1]).catch(() => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
        res.end(page('Sign-in expired', '<p>Start again from AgentView.</p>'));
      });
      return;
    }
    // Mounted under devIdpPath as express would: the provider finds its mount path from originalUrl.
    (req as IncomingMessage & { originalUrl?: string }).originalUrl = url;
    req.url = inner;
    void oidc(req, res);
  });
  return { issuer, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}
