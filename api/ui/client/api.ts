// Calls /api/v1 with the session's token (or its cookie). Every business decision stays in the API: a refusal is
// thrown as ApiRefusal carrying the API's own code and message, which the page shows as they are.
import { CSRF_HEADERS, session, signInUrl } from './session';

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface Answer<T> {
  status: number;
  body: T;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface ErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

function newKey(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** `T` is what the route answers (see api-types.ts); the body is not validated here, the API is. */
export async function api<T>(method: Method, path: string, body?: unknown, opts: { token?: string; signingIn?: boolean } = {}): Promise<Answer<T>> {
  const token = opts.token ?? session.token;
  // No token: the session cookie (same origin, sent by the browser) speaks for this tab.
  const headers: Record<string, string> = { accept: 'application/json', ...CSRF_HEADERS, ...(token ? { authorization: `Bearer ${token}` } : {}) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  // A POST retried by the browser or a double click must not act twice.
  if (method === 'POST') headers['idempotency-key'] = newKey();
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiRefusal(0, 'NETWORK', 'The server could not be reached. Check the connection and try again.');
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below
  }
  if (!res.ok) {
    const e = (json as ErrorBody | null)?.error;
    if (res.status === 401 && !opts.signingIn) {
      // The token or session stopped working (expired, signed out, rotated): back to sign in.
      session.clear();
      location.assign(signInUrl());
    }
    throw new ApiRefusal(res.status, e?.code || `HTTP_${res.status}`, e?.message || `The server answered ${res.status}.`, e?.details);
  }
  return { status: res.status, body: json as T };
}

/** A read that answers null where this server does not have the route (404). */
export async function unlessMissing<T>(read: Promise<T>): Promise<T | null> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiRefusal && err.status === 404) return null;
    throw err;
  }
}
