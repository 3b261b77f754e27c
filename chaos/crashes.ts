// The crashes of a chaos run: which kinds of process are killed how often, the seeded plan (targets
// shuffled, each at a point of the run's progress) and the loop that carries it out, one outage at
// a time.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Rng } from './rng';

/** `postgres`: the cluster profile's PostgreSQL under the Temporal server (chaos/harness.ts, profile `cluster`). */
export type KillTarget = 'worker' | 'temporal' | 'ferretdb' | 'api' | 'adaptor' | 'postgres';
export const DEFAULT_KILLS: Record<KillTarget, number> = { worker: 3, temporal: 1, ferretdb: 1, api: 1, adaptor: 1, postgres: 0 };

export interface KillRecord {
  target: KillTarget;
  atMs: number;
  progress: number;
  downMs: number;
}

/** A process the run can kill: SIGKILL, a pause, and back (resolves once it is ready again). */
export interface Victim {
  killAndRestart(pauseMs: number): Promise<void>;
}

/** Targets shuffled, each at a seeded point of progress between 5 % and 85 %, in order of progress. */
export function planKills(r: Rng, counts: Record<KillTarget, number>): { target: KillTarget; at: number }[] {
  const plan = (Object.keys(counts) as KillTarget[]).flatMap((t) => Array.from({ length: counts[t] }, () => t));
  for (let i = plan.length - 1; i > 0; i--) {
    const j = r.int(0, i);
    [plan[i], plan[j]] = [plan[j], plan[i]];
  }
  const at = plan.map(() => 0.05 + r.next() * 0.8).sort((a, b) => a - b);
  return plan.map((target, i) => ({ target, at: at[i] }));
}

/** Carries the plan out as `progress()` (0 to 1) passes each point; each victim is down 0.5–3 s. */
export async function runKills(o: {
  plan: { target: KillTarget; at: number }[];
  victims: Record<KillTarget, Victim>;
  progress: () => number;
  r: Rng;
  t0: number;
  log: (line: string) => void;
}): Promise<KillRecord[]> {
  const kills: KillRecord[] = [];
  for (const { target, at } of o.plan) {
    while (o.progress() < at) await sleep(100);
    const pause = o.r.int(500, 3000);
    const started = Date.now();
    o.log(`SIGKILL ${target} at progress ${(o.progress() * 100).toFixed(0)}% (back after ${pause} ms)`);
    await o.victims[target].killAndRestart(pause);
    kills.push({ target, atMs: started - o.t0, progress: Number(o.progress().toFixed(3)), downMs: Date.now() - started });
    o.log(`${target} is back after ${Date.now() - started} ms`);
  }
  return kills;
}
