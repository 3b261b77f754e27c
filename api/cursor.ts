// The lists' opaque cursors: the sort key of the last item handed out, as base64url JSON. A cursor
// the API did not hand out is refused as bad input (400), never read as a place to start.
import { apiError } from './errors';

export const encodeCursor = (key: readonly string[]): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The `parts` strings a cursor holds. */
export function decodeCursor(cursor: string, parts: number): string[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === parts && key.every((k) => typeof k === 'string')) return key as string[];
  } catch {
    // not one of ours: refused below
  }
  throw apiError('VALIDATION_FAILED', 'cursor is not one this API handed out');
}
