// The one way our processes connect to Temporal's frontend: plaintext gRPC locally, TLS or mTLS
// when TEMPORAL_TLS_* is set, and a bearer token for Temporal's authorizer with
// TEMPORAL_API_KEY_FILE (docs/security.md). The client (API, adaptor, the worker's client) and the
// worker's native connection get the same options, read from files once at start.
import { Connection, type ConnectionOptions, type TLSConfig } from '@temporalio/client';
import type { NativeConnection, NativeConnectionOptions } from '@temporalio/worker';
import fs from 'node:fs';
import { ConfigError, type TemporalSettings, type TemporalTlsSettings } from './config';

/**
 * The SDK's TLS options from the settings, or undefined for plaintext. Reads every file now, so a
 * missing or unreadable certificate stops the process at start with the setting's name in the
 * message (never the file's content).
 */
export function temporalTlsOptions(tls: TemporalTlsSettings | null): TLSConfig | undefined {
  if (!tls) return undefined;
  const options: TLSConfig = {};
  if (tls.caFile) options.serverRootCACertificate = readPem('TEMPORAL_TLS_CA_FILE', tls.caFile, 'CERTIFICATE');
  if (tls.certFile && tls.keyFile) {
    options.clientCertPair = {
      crt: readPem('TEMPORAL_TLS_CERT_FILE', tls.certFile, 'CERTIFICATE'),
      key: readPem('TEMPORAL_TLS_KEY_FILE', tls.keyFile, 'PRIVATE KEY'),
    };
  }
  if (tls.serverName) options.serverNameOverride = tls.serverName;
  return options;
}

/** Reads a PEM file; `label` is what its BEGIN line must name (`PRIVATE KEY` also matches `EC PRIVATE KEY`, `RSA PRIVATE KEY`). */
function readPem(setting: string, file: string, label: string): Buffer {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`${setting}: cannot read ${file} (${code})`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(data.toString('latin1'))) {
    throw new ConfigError(`${setting}: ${file} holds no PEM ${label.toLowerCase()}`);
  }
  return data;
}

/**
 * The bearer token for Temporal's authorizer, read from TEMPORAL_API_KEY_FILE at start (trimmed),
 * or undefined. A renewed token takes a restart (docs/security.md). The SDK turns TLS on when a
 * token is given, so a token never travels in clear.
 */
export function temporalApiKey(settings: TemporalSettings): string | undefined {
  if (!settings.apiKeyFile) return undefined;
  let token: string;
  try {
    token = fs.readFileSync(settings.apiKeyFile, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`TEMPORAL_API_KEY_FILE: cannot read ${settings.apiKeyFile} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!token || /\s/.test(token)) throw new ConfigError(`TEMPORAL_API_KEY_FILE: ${settings.apiKeyFile} does not hold one token`);
  return token;
}

export type ClientConnectionOptions = Omit<ConnectionOptions, 'address' | 'tls'>;

/** A client connection (workflow and operator services) to the configured frontend. */
export async function connectTemporalClient(settings: TemporalSettings, options: ClientConnectionOptions = {}): Promise<Connection> {
  return Connection.connect({ apiKey: temporalApiKey(settings), ...options, address: settings.address, tls: temporalTlsOptions(settings.tls) });
}

/** A worker's native connection to the configured frontend. */
export async function connectTemporalWorker(
  settings: TemporalSettings,
  options: Omit<NativeConnectionOptions, 'address' | 'tls'> = {},
): Promise<NativeConnection> {
  // Imported here so the API and adaptor, which never run a worker, do not load the native bridge.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect({ apiKey: temporalApiKey(settings), ...options, address: settings.address, tls: temporalTlsOptions(settings.tls) });
}
