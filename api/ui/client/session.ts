// The token, role and who the API says the token belongs to, kept for this browser tab only.
const KEYS = { token: 'agentview.token', role: 'agentview.role', name: 'agentview.name' } as const;

export type Role = 'agent' | 'ops';

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(KEYS.token);
  },
  get role(): Role | null {
    return sessionStorage.getItem(KEYS.role) as Role | null;
  },
  /** The token's subject (and display name): who the histories name. */
  get name(): string {
    return sessionStorage.getItem(KEYS.name) || '';
  },
  save(token: string, role: Role, name: string): void {
    sessionStorage.setItem(KEYS.token, token);
    sessionStorage.setItem(KEYS.role, role);
    sessionStorage.setItem(KEYS.name, name);
  },
  clear(): void {
    for (const k of Object.values(KEYS)) sessionStorage.removeItem(k);
  },
};

/** The sign-in page, coming back here afterwards. */
export const signInUrl = () => `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
