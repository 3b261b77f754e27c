import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeCursor, encodeCursor } from '../../api/cursor';

describe('list cursors', () => {
  it('give back the key they were made from', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 4 }), (key) => {
        expect(
          decodeCursor(
            encodeCursor(key),
            key.map(() => 'string' as const),
          ),
        ).toEqual(key);
      }),
    );
  });

  it('refuse what the API did not hand out, as bad input', () => {
    for (const bad of ['', 'not base64 json', encodeCursor(['a']), Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1,2]').toString('base64url')])
      expect(() => decodeCursor(bad, ['string', 'string'])).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
