// The agent's token, role and agent id, kept for this browser tab only.
const KEYS = { token: 'agentview.token', role: 'agentview.role', agentId: 'agentview.agentId' } as const;

export type Role = 'agent' | 'ops';

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(KEYS.token);
  },
  get role(): Role | null {
    return sessionStorage.getItem(KEYS.role) as Role | null;
  },
  get agentId(): string {
    return sessionStorage.getItem(KEYS.agentId) || '';
  },
  save(token: string, role: Role, agentId: string): void {
    sessionStorage.setItem(KEYS.token, token);
    sessionStorage.setItem(KEYS.role, role);
    sessionStorage.setItem(KEYS.agentId, agentId);
  },
  clear(): void {
    for (const k of Object.values(KEYS)) sessionStorage.removeItem(k);
  },
};

/** The sign-in page, coming back here afterwards. */
export const signInUrl = () => `/signin?next=${encodeURIComponent(location.pathname + location.search)}`;
