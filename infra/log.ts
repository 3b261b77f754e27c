// The one logger of every process: structured JSON lines (pino) for the log shipper, pretty when a
// person watches a terminal. Levels from LOG_LEVEL. Customer data and secrets never reach a line:
// callers log ids and codes, and the keys below are censored wherever they appear.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

/** Keys whose values are personal data or secrets, at the top level or one object down. */
const SENSITIVE = ['authorization', 'token', 'password', 'secret', 'cookie', 'delivery', 'address', 'deliveryName', 'customerName', 'email', 'phone'];

function levelFromEnv(): LogLevel {
  const v = process.env.LOG_LEVEL;
  return (logLevels as readonly string[]).includes(v ?? '') ? (v as LogLevel) : 'info';
}

/** A logger writing to `destination` (tests), or the process's stdout: pretty on a terminal, JSON otherwise. */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: SENSITIVE.flatMap((k) => [k, `*.${k}`]), censor: '[redacted]' },
  };
  if (destination) return pino(options, destination);
  return process.stdout.isTTY ? pino(options, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l' })) : pino(options);
}

/** The process's root logger; components take a child: `log.child({ component: 'adaptor' })`. */
export const log: Logger = createLogger(levelFromEnv());

/** An error as a log field: its name, message, code and stack, never the objects it carries. */
export function errorFields(err: unknown): { err: { name: string; message: string; code?: string | number; stack?: string } } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      err: {
        name: err.name,
        message: err.message,
        ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
        ...(err.stack ? { stack: err.stack } : {}),
      },
    };
  }
  return { err: { name: 'NonError', message: String(err) } };
}

/** The line a service logs once it serves: supervisors and tests wait for it (readyLine). */
export function logReady(component: string, fields: Record<string, unknown> = {}): void {
  log.info({ component, ...fields }, 'ready');
}

/** Matches a service's ready line in its JSON log (LOG_LEVEL info or lower). */
export const readyLine = (component: string): RegExp => new RegExp(`"component":"${component}"[^\\n]*"msg":"ready"`);
