// One SFTP session with a warehouse (ssh2-sftp-client over ssh2): the server's host key checked
// against the configured fingerprints before anything is sent (never an unknown key, whatever
// it offers), credentials read from their secret files at connect time, and the whole piece of
// work bounded by the warehouse's timeout. Sales orders out and the response inbox both use it.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import SftpClient from 'ssh2-sftp-client';
import { readSecret, type SftpSettings } from './warehouse-config';
import { log } from './log';

/** The server offered a host key the configuration does not name: a misconfiguration or an impostor. */
export class HostKeyMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HostKeyMismatchError';
  }
}

/** OpenSSH's fingerprint of a host key blob (`ssh-keygen -lf`): SHA256, unpadded base64. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The server's address as the log and errors name it. */
export const sftpAddress = (s: SftpSettings) => `${s.username}@${s.host}:${s.port}`;

/**
 * Connects, runs `work`, and closes the session, whatever happens. `what` names the work in
 * errors ("upload of X"). Throws HostKeyMismatchError when the server's key is not the configured one.
 */
export async function withSftp<T>(warehouseId: string, s: SftpSettings, what: string, work: (sftp: SftpClient) => Promise<T>): Promise<T> {
  const client = new SftpClient(`warehouse ${warehouseId}`, {
    // Connection-level errors after a call has already failed; the call's own error says what happened.
    error: (err: unknown) => log.warn({ component: 'sftp', warehouse: warehouseId, server: sftpAddress(s), reason: describe(err) }, 'SFTP connection error'),
    end: () => {},
    close: () => {},
  });
  let offered: string | undefined;
  try {
    await client.connect({
      host: s.host,
      port: s.port,
      username: s.username,
      ...(s.privateKeyFile ? { privateKey: fs.readFileSync(s.privateKeyFile) } : {}),
      ...(s.passphraseFile ? { passphrase: readSecret(s.passphraseFile) } : {}),
      ...(s.passwordFile ? { password: readSecret(s.passwordFile) } : {}),
      readyTimeout: s.connectTimeoutMs,
      hostVerifier: (key: Buffer) => {
        offered = hostKeyFingerprint(key);
        return s.hostKeyFingerprint.includes(offered);
      },
    });
  } catch (err) {
    await client.end().catch(() => {});
    if (offered && !s.hostKeyFingerprint.includes(offered)) {
      throw new HostKeyMismatchError(
        `warehouse ${warehouseId}: the SFTP server ${s.host}:${s.port} presented host key ${offered}, which is not the configured hostKeyFingerprint (${s.hostKeyFingerprint.join(', ')}); refusing to connect`,
      );
    }
    throw new Error(`warehouse ${warehouseId}: cannot connect to SFTP ${sftpAddress(s)} for ${what}: ${describe(err)}`, { cause: err });
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`warehouse ${warehouseId}: SFTP ${what} on ${sftpAddress(s)} took longer than ${s.timeoutMs} ms`)), s.timeoutMs);
  });
  try {
    return await Promise.race([work(client), timeout]);
  } catch (err) {
    // The library's errors are plain Errors, given context here; the caller's own (a refusal, a
    // mismatch) are subclasses and pass through as they are.
    if (err instanceof Error && (err.constructor !== Error || err.message.startsWith(`warehouse ${warehouseId}:`))) throw err;
    throw new Error(`warehouse ${warehouseId}: SFTP ${what} on ${sftpAddress(s)} failed: ${describe(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
    await client.end().catch(() => {});
  }
}

/** A remote file's bytes, or null when there is no such file. */
export async function readRemoteFile(sftp: SftpClient, remotePath: string): Promise<Buffer | null> {
  if ((await sftp.exists(remotePath)) !== '-') return null;
  return (await sftp.get(remotePath)) as Buffer;
}
