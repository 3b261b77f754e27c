// One at a time per key in this process: the order view writer's per-order queue, the audit
// trail's and the invoice numbers' per-chain queues.
/**
 * Runs `fn` after every earlier call with the same key has settled. A local activity attempt that
 * timed out is abandoned by Temporal, not stopped: on FerretDB its write can sit behind SQLite's
 * lock for seconds and land after the retry and the next snapshot (seen in the 1,000-order test).
 * Queueing each order's writes behind the previous attempt keeps them in order in this process.
 */
export function oneAtATimePerKey() {
  const tails = new Map<string, Promise<void>>();
  return async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const run = (tails.get(key) ?? Promise.resolve()).then(fn);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
