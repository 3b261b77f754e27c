// Sign in: through the OpenID provider (a plain link to /auth/signin; back here with the session
// cookie), or a pasted token (a static dev token, or an access token). Either is proved by asking
// the API who it belongs to; the name shown and the pages offered follow that answer.
import { api, ApiRefusal } from '../api';
import type { Me } from '../api-types';
import { $, submitter } from '../dom';
import { run, showNotice } from '../notice';
import { endCookieSession, session } from '../session';

/** `token` undefined: the session cookie the OpenID sign-in left (api/agentview-session.ts). */
async function whoIs(token: string | undefined): Promise<{ role: 'agent' | 'ops'; name: string }> {
  const me = (await api<Me>('GET', '/me', undefined, { token, signingIn: true })).body;
  const role = me.roles.includes('ops') ? 'ops' : me.roles.includes('agent') ? 'agent' : null;
  if (!role) throw new ApiRefusal(403, 'FORBIDDEN', 'This token is not for AgentView: it has neither the agent nor the ops role.');
  return { role, name: me.name ? `${me.name} (${me.subject})` : me.subject };
}

/** Back from the OpenID provider (or already signed in there): the cookie session, when the API accepts it. */
async function resumeCookieSession(): Promise<boolean> {
  // A token pasted earlier in this tab would otherwise be asked about instead.
  session.clear();
  try {
    const { role, name } = await whoIs(undefined);
    session.save(null, role, name);
    return true;
  } catch (err) {
    // 401: not signed in with the provider; the page stays. Anything else is worth saying.
    if (err instanceof ApiRefusal && err.status !== 401) showNotice(err.message);
    // Signed in, but not as anyone AgentView serves (an admin): the session is not left behind.
    if (err instanceof ApiRefusal && err.status === 403) await endCookieSession();
    return false;
  }
}

export async function initSignIn(): Promise<void> {
  if (document.body.dataset.oidcSignIn === 'on' && (await resumeCookieSession())) {
    location.assign(sameOriginPath(new URLSearchParams(location.search).get('next')));
    return;
  }
  const form = $('#signin-form', HTMLFormElement);
  const token = $('#token', HTMLInputElement);
  token.focus();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = token.value.trim();
    if (!value) {
      showNotice('Enter your token.');
      token.focus();
      return;
    }
    const ok = await run(submitter(ev), 'Checking the token', async () => {
      const { role, name } = await whoIs(value);
      session.save(value, role, name);
      return true;
    });
    if (!ok) {
      session.clear();
      token.select();
      return;
    }
    location.assign(sameOriginPath(new URLSearchParams(location.search).get('next')));
  });
}

/** Where to go after signing in: `next` only when it stays on this origin (`/\\host`, `/\t/host` do not). */
export function sameOriginPath(next: string | null): string {
  if (!next) return '/accounts';
  const url = new URL(next, location.origin);
  return url.origin === location.origin && !url.pathname.startsWith('//') ? url.pathname + url.search + url.hash : '/accounts';
}
