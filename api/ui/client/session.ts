// Who is signed in to this browser tab: a pasted token (kept in this tab's session storage), or the
// OpenID sign-in's session, whose access token stays on the server behind an httpOnly cookie this
// script never sees (api/agentview-session.ts). Role and name are what the API said (`GET /api/v1/me`).
const KEYS = { token: 'agentview.token', role: 'agentview.role', name: 'agentview.name', cookie: 'agentview.cookie' } as const;

export type Role = 'agent' | 'ops';

/** Sent with every call: the API refuses a change made with the session cookie without it (CSRF). */
export const CSRF_HEADERS = { 'x-requested-with': 'agentview' } as const;

export const session = {
  /** The pasted token; null with the cookie session (the browser sends the cookie itself). */
  get token(): string | null {
    return sessionStorage.getItem(KEYS.token);
  },
  /** Signed in through the OpenID provider: the httpOnly session cookie proves who this is. */
  get viaCookie(): boolean {
    return sessionStorage.getItem(KEYS.cookie) === 'yes';
  },
  get signedIn(): boolean {
    return this.token !== null || this.viaCookie;
  },
  get role(): Role | null {
    return sessionStorage.getItem(KEYS.role) as Role | null;
  },
  /** The token's subject (and display name): who the histories name. */
  get name(): string {
    return sessionStorage.getItem(KEYS.name) || '';
  },
  /** `token` null: the session cookie. */
  save(token: string | null, role: Role, name: string): void {
    if (token === null) sessionStorage.setItem(KEYS.cookie, 'yes');
    else sessionStorage.setItem(KEYS.token, token);
    sessionStorage.setItem(KEYS.role, role);
    sessionStorage.setItem(KEYS.name, name);
  },
  clear(): void {
    for (const k of Object.values(KEYS)) sessionStorage.removeItem(k);
  },
  /**
   * Ends the cookie session on the server too (the cookie is refused from then on), then forgets this
   * tab's. Answers where to go next: the provider's own sign-out when it has one, else sign-in.
   */
  async signOut(): Promise<string> {
    const next = this.viaCookie ? await endCookieSession() : null;
    this.clear();
    return next ?? '/signin';
  },
};

/** Ends the OpenID sign-in's session on the server (its cookie is refused from then on); answers the provider's sign-out address, if any. */
export async function endCookieSession(): Promise<string | null> {
  try {
    const res = await fetch('/auth/signout', { method: 'POST', headers: CSRF_HEADERS });
    if (res.status !== 200) return null;
    const { endSessionUrl } = (await res.json()) as { endSessionUrl?: string };
    return typeof endSessionUrl === 'string' && /^https?:\/\//.test(endSessionUrl) ? endSessionUrl : null;
  } catch {
    return null;
  }
}

/** The sign-in page, coming back here afterwards. */
export const signInUrl = () => `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
