// What every signed-in page shares: who is signed in, the ops-only navigation, signing out.
import { $ } from './dom';
import { initOrderSearch } from './search';
import { session, signInUrl } from './session';

/** False (and off to sign in) when this tab is not signed in. */
export function requireSession(): boolean {
  if (session.signedIn) return true;
  location.replace(signInUrl());
  return false;
}

export function initFrame(): void {
  $('#signed-in-as').textContent = `Signed in as ${session.name} (${session.role})`;
  if (session.role === 'ops') for (const el of document.querySelectorAll<HTMLElement>('[data-ops-only]')) el.hidden = false;
  initOrderSearch();
  $('#sign-out').addEventListener('click', async () => {
    location.assign(await session.signOut());
  });
}
