import { describe, expect, it } from 'vitest';
import { cachedLookup } from '../../infra/reference-data';

function counting(answers: Record<string, string | null>) {
  const reads: string[] = [];
  const load = async (key: string) => {
    reads.push(key);
    if (!(key in answers)) throw new Error(`database down for ${key}`);
    return answers[key];
  };
  return { reads, load };
}

describe('cachedLookup (reference data kept briefly per process)', () => {
  it('reads once within the time to live, again after it', async () => {
    let t = 0;
    const { reads, load } = counting({ 'ACC-1': 'Alice' });
    const account = cachedLookup(load, 30_000, () => t);
    expect(await account('ACC-1')).toBe('Alice');
    t = 29_999;
    expect(await account('ACC-1')).toBe('Alice');
    expect(reads).toEqual(['ACC-1']);
    t = 30_000;
    expect(await account('ACC-1')).toBe('Alice');
    expect(reads).toEqual(['ACC-1', 'ACC-1']);
  });

  it('shares one read among concurrent callers', async () => {
    const { reads, load } = counting({ 'SKU-1': 'phone' });
    const product = cachedLookup(load, 30_000);
    expect(await Promise.all([product('SKU-1'), product('SKU-1'), product('SKU-1')])).toEqual(['phone', 'phone', 'phone']);
    expect(reads).toEqual(['SKU-1']);
  });

  it('keeps neither a missing entry nor a failed read: a new account is seen at once', async () => {
    const answers: Record<string, string | null> = { 'ACC-NEW': null };
    const { reads, load } = counting(answers);
    const account = cachedLookup(load, 30_000);
    expect(await account('ACC-NEW')).toBeNull();
    answers['ACC-NEW'] = 'created since';
    expect(await account('ACC-NEW')).toBe('created since');
    await expect(account('ACC-DOWN')).rejects.toThrow('database down');
    answers['ACC-DOWN'] = 'back';
    expect(await account('ACC-DOWN')).toBe('back');
    expect(reads).toEqual(['ACC-NEW', 'ACC-NEW', 'ACC-DOWN', 'ACC-DOWN']);
  });

  it('a time to live of 0 reads every time', async () => {
    const { reads, load } = counting({ k: 'v' });
    const lookup = cachedLookup(load, 0);
    await lookup('k');
    await lookup('k');
    expect(reads).toHaveLength(2);
  });
});

describe('cachedLookup with a thenable that runs again on each await (a mongoose query)', () => {
  it('runs it once for every caller', async () => {
    let runs = 0;
    const query = () => ({ then: (resolve: (v: string) => void) => resolve(`run ${++runs}`) }) as unknown as PromiseLike<string>;
    const lookup = cachedLookup(() => query(), 30_000);
    expect(await lookup('k')).toBe('run 1');
    expect(await lookup('k')).toBe('run 1');
    expect(runs).toBe(1);
  });
});

describe('cachedLookup.forget (a process that wrote a record reads it again at once)', () => {
  it('drops one key, keeps the others', async () => {
    const { reads, load } = counting({ 'ACC-1': 'Alice', 'ACC-2': 'Bob' });
    const account = cachedLookup(load, 30_000, () => 0);
    await account('ACC-1');
    await account('ACC-2');
    account.forget('ACC-1');
    await account('ACC-1');
    await account('ACC-2');
    expect(reads).toEqual(['ACC-1', 'ACC-2', 'ACC-1']);
  });
});
