// The read model's two sources (infra/store/order-views.ts): the workflow's last write (`state`) and
// the API's kept update answer (`answered`). Either may land last on FerretDB; the newer revision wins.
import { describe, expect, it } from 'vitest';
import { newestView } from '../../infra/store/order-views';
import type { OrderView } from '../../workflows/messages';

const view = (revision: number, status: string) => ({ orderId: 'ORD-1', revision, status }) as unknown as OrderView;

describe('newestView', () => {
  it('takes the workflow write when there is no answer', () => {
    expect(newestView({ state: view(1, 'New') })).toMatchObject({ revision: 1, status: 'New' });
    expect(newestView({ state: view(1, 'New'), answered: null })).toMatchObject({ revision: 1 });
  });

  it('takes an answer newer than the write (an edit of a New order, a generate whose job is running)', () => {
    expect(newestView({ state: view(1, 'New'), answered: view(4, 'AwaitingGeneration') })).toMatchObject({ revision: 4, status: 'AwaitingGeneration' });
  });

  it('keeps the write when an older answer landed after it', () => {
    expect(newestView({ state: view(7, 'AwaitingDispatch'), answered: view(4, 'AwaitingGeneration') })).toMatchObject({
      revision: 7,
      status: 'AwaitingDispatch',
    });
    expect(newestView({ state: view(7, 'AwaitingDispatch'), answered: view(7, 'AwaitingDispatch') }).revision).toBe(7);
  });
});
