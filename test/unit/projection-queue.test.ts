// The per-order write queue behind projectOrder: a timed-out attempt's write must finish before the
// retry (and the next snapshot) reads and writes the order's read model.
import { describe, expect, it } from 'vitest';
import { oneAtATimePerKey } from '../../infra/store/order-views';

const deferred = () => {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};

describe('oneAtATimePerKey', () => {
  it('runs calls for one key in arrival order, each after the previous settled', async () => {
    const inOrder = oneAtATimePerKey();
    const log: string[] = [];
    const slow = deferred();
    const first = inOrder('ORD-1', async () => {
      log.push('1 start');
      await slow.promise;
      log.push('1 end');
      return 1;
    });
    const second = inOrder('ORD-1', async () => {
      log.push('2 start');
      return 2;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(log).toEqual(['1 start']);
    slow.resolve();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(['1 start', '1 end', '2 start']);
  });

  it('lets different keys run at the same time', async () => {
    const inOrder = oneAtATimePerKey();
    const slow = deferred();
    const blocked = inOrder('ORD-1', () => slow.promise);
    const other = await inOrder('ORD-2', async () => 'done');
    expect(other).toBe('done');
    slow.resolve();
    await blocked;
  });

  it('a failed call reaches its caller and does not block the next one', async () => {
    const inOrder = oneAtATimePerKey();
    const failing = deferred();
    const first = inOrder('ORD-1', () => failing.promise);
    const second = inOrder('ORD-1', async () => 'after');
    failing.reject(new Error('SQLITE_BUSY'));
    await expect(first).rejects.toThrow('SQLITE_BUSY');
    expect(await second).toBe('after');
  });
});
