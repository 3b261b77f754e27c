import { BSON, MongoServerError } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../api/errors';

describe('driver errors at the API edge', () => {
  it('a value the driver or server cannot take is the request’s fault: 400', () => {
    for (const err of [
      new BSON.BSONError('value ^a\u0000b must not contain null bytes'),
      new MongoServerError({ message: 'Regular expression is invalid', code: 51091 }),
    ]) {
      expect(toApiError(err)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('anything else stays an internal error', () => {
    expect(toApiError(new MongoServerError({ message: 'boom', code: 8000 }))).toMatchObject({ status: 500, code: 'INTERNAL' });
  });
});
