// Free text as people type it, checked where it enters (API bodies, queries, headers; addresses).
import { z } from 'zod';

// C0 and C1 control characters and DEL: a NUL breaks BSON (regexes, keys) and the C strings
// downstream, and none belongs in what a person types. Line breaks and tabs only in paragraphs.
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Trimmed, 1..max characters unless `min` says otherwise, and no control characters (`multiline`
 * lets line breaks and tabs through).
 */
export function freeText(max: number, opts: { min?: number; multiline?: boolean } = {}) {
  const forbidden = opts.multiline ? CONTROL_BUT_LINES : CONTROL;
  return z
    .string()
    .trim()
    .min(opts.min ?? 1)
    .max(max)
    .refine((v) => !forbidden.test(v), { message: 'must not contain control characters' });
}
