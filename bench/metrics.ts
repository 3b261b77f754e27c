// Measuring helpers shared by the harness and its child processes: MongoDB commands by kind
// (driver command monitoring), process memory and CPU time from the kernel, percentiles.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Connection } from 'mongoose';

type MongoClient = ReturnType<Connection['getClient']>;

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);

export interface CommandCounts {
  /** Every command sent: the round trips to the database. */
  total: number;
  /** insert / update / delete / findAndModify commands. */
  writes: number;
  byName: Record<string, number>;
  /** By `<command> <collection>`: where the round trips go. */
  byCollection: Record<string, number>;
}

/** Counts the commands a client sends; the client must be connected with monitorCommands=true. */
export class CommandCounter {
  private counts: CommandCounts = { total: 0, writes: 0, byName: {}, byCollection: {} };

  attach(client: MongoClient): void {
    client.on('commandStarted', (e) => {
      const name = e.commandName;
      if (name === 'hello' || name === 'isMaster' || name === 'ping' || name === 'endSessions') return;
      this.counts.total++;
      if (WRITE_COMMANDS.has(name)) this.counts.writes++;
      this.counts.byName[name] = (this.counts.byName[name] ?? 0) + 1;
      const target = `${name} ${String((e.command as Record<string, unknown>)[name])}`;
      this.counts.byCollection[target] = (this.counts.byCollection[target] ?? 0) + 1;
    });
  }

  snapshot(): CommandCounts {
    return { total: this.counts.total, writes: this.counts.writes, byName: { ...this.counts.byName }, byCollection: { ...this.counts.byCollection } };
  }
}

export function addCounts(...all: CommandCounts[]): CommandCounts {
  const out: CommandCounts = { total: 0, writes: 0, byName: {}, byCollection: {} };
  for (const c of all) {
    out.total += c.total;
    out.writes += c.writes;
    for (const [k, v] of Object.entries(c.byName)) out.byName[k] = (out.byName[k] ?? 0) + v;
    for (const [k, v] of Object.entries(c.byCollection ?? {})) out.byCollection[k] = (out.byCollection[k] ?? 0) + v;
  }
  return out;
}

export function subtractCounts(after: CommandCounts, before: CommandCounts): CommandCounts {
  const byName: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byName)) if (v - (before.byName[k] ?? 0)) byName[k] = v - (before.byName[k] ?? 0);
  const byCollection: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.byCollection ?? {})) if (v - (before.byCollection?.[k] ?? 0)) byCollection[k] = v - (before.byCollection?.[k] ?? 0);
  return { total: after.total - before.total, writes: after.writes - before.writes, byName, byCollection };
}

/** Resident and peak resident memory of a process, from the kernel (includes native memory). */
export function memoryKb(pid: number | 'self' = 'self'): { rssKb: number; peakRssKb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  return { rssKb: kb('VmRSS'), peakRssKb: kb('VmHWM') };
}

let clockTicks: number | undefined;
/** CPU seconds (user + system) a process has used so far, from the kernel; NaN once it is gone. */
export function cpuSeconds(pid: number | 'self' = 'self'): number {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return NaN;
  }
  // Fields after the command name, which may itself hold spaces: utime and stime are the 12th and 13th.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / clockTicks;
}

/** CPU milliseconds per unit of work of each named process, between start() and perUnit(). */
export function cpuMeter(processes: Record<string, number | 'self' | undefined>) {
  const read = () => Object.fromEntries(Object.entries(processes).map(([name, pid]) => [name, pid === undefined ? NaN : cpuSeconds(pid)]));
  const start = read();
  return {
    perUnit(units: number): Record<string, number> {
      const end = read();
      const out: Record<string, number> = {};
      for (const name of Object.keys(processes)) out[name] = ((end[name] - start[name]) * 1000) / Math.max(1, units);
      out.total = Object.values(out)
        .filter(Number.isFinite)
        .reduce((a, b) => a + b, 0);
      return out;
    },
  };
}

/** Nearest-rank percentile of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (!samples.length) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
