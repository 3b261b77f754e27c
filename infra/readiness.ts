// Readiness: the process can do its work only while MongoDB and the Temporal frontend answer.
// Each check has a short deadline so a hung dependency reads as not ready, not as a hung probe.
import type { ConnectionLike } from '@temporalio/client';
import type { Db } from './db';

export interface Readiness {
  ok: boolean;
  checks: { database: boolean; temporal: boolean };
}
export type ReadinessCheck = () => Promise<Readiness>;

const within = async (ms: number, probe: () => Promise<unknown>): Promise<boolean> => {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe().then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
};

export function readinessOf(db: Db, temporal: ConnectionLike, timeoutMs = 2_000): ReadinessCheck {
  const frontend = () => temporal.withDeadline(Date.now() + timeoutMs, () => temporal.workflowService.getSystemInfo({}));
  return async () => {
    const [database, temporalUp] = await Promise.all([
      within(timeoutMs, async () => {
        if (!db.conn.db) throw new Error('not connected');
        await db.conn.db.admin().ping();
      }),
      within(timeoutMs, frontend),
    ]);
    return { ok: database && temporalUp, checks: { database, temporal: temporalUp } };
  };
}
