// Opaque cursors for keyset paging: the sort key of the last item a page showed, as base64url
// JSON. One way for every list (orders of an account, batches, a batch's rejected rows).
import { apiError } from './errors';

export type CursorKey = (string | number)[];

export const encodeCursor = (key: CursorKey): string => Buffer.from(JSON.stringify(key)).toString('base64url');

/** The key a cursor stands for, each part of the type `shape` says; anything else is a 400. */
export function decodeCursor<const S extends readonly ('string' | 'number')[]>(
  cursor: string,
  shape: S,
): { [I in keyof S]: S[I] extends 'number' ? number : string } {
  try {
    const key = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as unknown;
    if (Array.isArray(key) && key.length === shape.length && key.every((v, i) => typeof v === shape[i] && (typeof v !== 'number' || Number.isSafeInteger(v))))
      return key as { [I in keyof S]: S[I] extends 'number' ? number : string };
  } catch {
    // fall through
  }
  throw apiError('VALIDATION_FAILED', 'cursor is not one this API handed out');
}
