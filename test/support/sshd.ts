// A real OpenSSH server for the SFTP warehouse tests: Debian's sshd (installed by
// scripts/build-tools.sh --sshd from the integration setup) on a free loopback port, with its own
// configuration, host key (ssh-keygen) and one authorised client key for the current user, serving
// SFTP only (internal-sftp). The warehouse's folders are plain folders under `root`. It can be
// killed (with every session it serves) and started again on the same port with the same key.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../../infra/dev-stack';

export const SSHD = '/usr/sbin/sshd';

export interface TestSshd {
  host: string;
  port: number;
  username: string;
  /** The client's private key file (the secret a warehouse config names). */
  clientKeyFile: string;
  /** The host key's fingerprint as `ssh-keygen -lf` prints it (SHA256:…). */
  hostKeyFingerprint: string;
  /** A folder the server serves (the warehouse's side). */
  root: string;
  /** Kills the server and every session it is serving, at once (SIGKILL), and waits until it is gone. */
  kill(): Promise<void>;
  /** Starts it again: same port, same host key. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A new ed25519 key pair without passphrase: `file` and `file.pub`. */
export function keygen(file: string): void {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'hardware-orders-test', '-f', file]);
}

/** The fingerprint of a public key file, as OpenSSH prints it. */
export function fingerprintOf(publicKeyFile: string): string {
  const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', publicKeyFile], { encoding: 'utf8' });
  return /(SHA256:[A-Za-z0-9+/]+)/.exec(out)![1];
}

/** Every process under `pid` (sshd forks a session process per connection, in a session of its own). */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // pid (comm) state ppid …: comm may hold spaces, so read after its closing parenthesis.
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      parentOf.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return out;
}

/** Its configuration, keys, log and served folder go in a new folder under `baseDir` (the test run's temporary root). */
export async function startSshd(baseDir: string): Promise<TestSshd> {
  if (!fs.existsSync(SSHD)) throw new Error(`${SSHD} is missing: install Debian's openssh-server (scripts/build-tools.sh --sshd does it when run as root)`);
  // sshd running as root needs its privilege-separation folder.
  if (process.getuid?.() === 0) fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(baseDir, 'sshd-'));
  const root = path.join(dir, 'warehouse');
  fs.mkdirSync(root);
  keygen(path.join(dir, 'host_ed25519'));
  keygen(path.join(dir, 'client_ed25519'));
  fs.copyFileSync(path.join(dir, 'client_ed25519.pub'), path.join(dir, 'authorized_keys'));
  const port = await freePort();
  const username = os.userInfo().username;
  const configFile = path.join(dir, 'sshd_config');
  fs.writeFileSync(
    configFile,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_ed25519')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      // The temporary folders are not the user's home: their modes are not sshd's business here.
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      `AllowUsers ${username}`,
      'AllowTcpForwarding no',
      'X11Forwarding no',
      'Subsystem sftp internal-sftp',
      'ForceCommand internal-sftp',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  execFileSync(SSHD, ['-t', '-f', configFile]);
  const log = fs.openSync(path.join(dir, 'sshd.log'), 'a');
  let child: ChildProcess | undefined;

  const server: TestSshd = {
    host: '127.0.0.1',
    port,
    username,
    clientKeyFile: path.join(dir, 'client_ed25519'),
    hostKeyFingerprint: fingerprintOf(path.join(dir, 'host_ed25519.pub')),
    root,
    async kill() {
      const running = child;
      child = undefined;
      if (!running?.pid || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      for (const pid of [running.pid, ...descendants(running.pid)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await exited;
    },
    async start() {
      if (child) return;
      child = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', log, log] });
      await waitForPort(port, '127.0.0.1', 10_000, child);
    },
    async stop() {
      await server.kill();
      fs.closeSync(log);
    },
  };
  await server.start();
  return server;
}
