// Sign in: the token is proved by a cheap authenticated read, and the role found by asking for
// the ops-only fraud queue.
import { api, ApiRefusal } from '../api';
import { $, submitter } from '../dom';
import { run, showNotice } from '../notice';
import { session, type Role } from '../session';

async function roleOf(token: string): Promise<Role> {
  try {
    await api('GET', '/catalogue?kind=softwareLicence', undefined, { token, signingIn: true });
  } catch (err) {
    if (err instanceof ApiRefusal && err.status === 403)
      throw new ApiRefusal(403, err.code, 'This token is not for AgentView: it has neither the agent nor the ops role.');
    throw err;
  }
  try {
    await api('GET', '/fraud-reviews', undefined, { token, signingIn: true });
    return 'ops';
  } catch (err) {
    if (err instanceof ApiRefusal && err.status === 403) return 'agent';
    throw err;
  }
}

export function initSignIn(): void {
  const form = $('#signin-form', HTMLFormElement);
  const token = $('#token', HTMLInputElement);
  const agentId = $('#agent-id', HTMLInputElement);
  agentId.value = session.agentId;
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
      session.save(
        value,
        await roleOf(value),
        agentId.value
          .trim()
          .replace(/[^\w.@-]/g, '')
          .slice(0, 64),
      );
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
