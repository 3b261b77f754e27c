// The frame's notice area (API refusals, confirmations), the busy line, and running an agent
// action: one at a time, its control disabled meanwhile, a refusal shown in the API's words.
import { ApiRefusal } from './api';
import { $, h } from './dom';

export function showNotice(message: string, kind: 'error' | 'info' = 'error', code?: string): void {
  const n = $('#notice');
  n.replaceChildren(h('span', { class: 'notice-text' }, message));
  if (code) n.append(h('small', { class: 'notice-code' }, ` (${code})`));
  n.className = `notice ${kind}`;
  n.hidden = false;
}

function clearNotice(): void {
  const n = $('#notice');
  n.hidden = true;
  n.replaceChildren();
}

function showError(err: unknown): void {
  if (err instanceof ApiRefusal) showNotice(err.message, 'error', err.code);
  else showNotice(err instanceof Error ? err.message : String(err), 'error');
}

export function say(text: string): void {
  $('#busy').textContent = text;
}

/** A button, input or select: anything that can be disabled while its action runs. */
export interface Control {
  disabled: boolean;
  readonly isConnected: boolean;
}

let inFlight = 0;
/** True while an action runs: polling waits rather than render over it. */
export const busy = () => inFlight > 0;

/** Disables `control` while `fn` runs; answers undefined when it failed (the failure is shown). */
export async function run<T>(control: Control | null, label: string, fn: () => Promise<T>): Promise<T | undefined> {
  clearNotice();
  inFlight++;
  if (control) control.disabled = true;
  say(`${label}…`);
  try {
    const out = await fn();
    say('');
    return out;
  } catch (err) {
    say('');
    showError(err);
    return undefined;
  } finally {
    inFlight--;
    if (control && control.isConnected) control.disabled = false;
  }
}
