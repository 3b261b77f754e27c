// The one place FerretDB and MongoDB differ in a write: the guarded write's filter.
import { describe, expect, it } from 'vitest';
import { guardedById } from '../../infra/store/guarded-writes';

describe('guardedById', () => {
  const guard = { revision: { $lt: 4 } };
  it('on FerretDB filters by _id alone: the caller knows the guard holds', () => {
    expect(guardedById(true)('ORD-1', guard)).toEqual({ _id: 'ORD-1' });
  });
  it('on MongoDB puts the guard into the filter, where it is checked atomically with the write', () => {
    expect(guardedById(false)('ORD-1', guard)).toEqual({ _id: 'ORD-1', revision: { $lt: 4 } });
  });
});
