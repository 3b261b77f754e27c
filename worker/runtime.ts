// The Temporal runtime of a worker process, installed once before any connection: the SDK's and
// Core's logs go through the process's one logger (with the workflow id, run id and activity type
// the SDK attaches), and Core's Prometheus exporter serves the SDK's metrics and the business
// counters the workflows and activities record through Temporal's metric meter.
import { DefaultLogger, Runtime, makeTelemetryFilterString, type LogEntry } from '@temporalio/worker';
import type { Config } from '../infra/config';
import { log, type LogLevel } from '../infra/log';

type SdkLevel = LogEntry['level'];
const SDK_LEVEL: Record<LogLevel, SdkLevel> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'ERROR', silent: 'ERROR' };
const PINO_LEVEL: Record<SdkLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

export function installWorkerRuntime(config: Pick<Config, 'logLevel' | 'workerCoreMetricsAddress'>): void {
  const sdkLog = log.child({ component: 'temporal' });
  const level = SDK_LEVEL[config.logLevel];
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => sdkLog[PINO_LEVEL[entry.level]](entry.meta ?? {}, entry.message)),
    telemetryOptions: {
      // Core's own lines (connections, pollers) at WARN and up: below that they are per poll.
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: level === 'TRACE' || level === 'DEBUG' ? level : 'WARN', other: 'ERROR' }) },
      ...(config.workerCoreMetricsAddress
        ? { metrics: { prometheus: { bindAddress: config.workerCoreMetricsAddress, countersTotalSuffix: true, useSecondsForDurations: true } } }
        : {}),
    },
  });
}
