// The cluster profile's servers, without containers: PostgreSQL 15 in a data folder of its own, the
// real Temporal server on it (deploy/temporal/cluster-postgres.yaml, the file docker-compose.yml
// mounts too) with its schema created or upgraded by the server's own SQL tool
// (deploy/temporal/postgres-schema.sh, compose's temporal-schema service runs the same script), the
// `default` namespace and our search attributes, the stand-alone Temporal Web UI, and FerretDB.
// Used by `npm run start:cluster` (scripts/start-cluster.ts) and the cluster test tier. Each server
// has its own start function so a test can kill one and start it again with the same options.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { logStream, manage, startFerretDb, waitForPort, type ManagedProcess, type ToolPaths } from './dev-stack';
import { startTemporalServer } from './temporal-server';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
export const CLUSTER_SERVER_CONFIG = path.join(repoRoot, 'deploy/temporal/cluster-postgres.yaml');
export const CLUSTER_DYNAMIC_CONFIG = path.join(repoRoot, 'deploy/temporal/cluster-dynamicconfig.yaml');
export const POSTGRES_SCHEMA_SCRIPT = path.join(repoRoot, 'deploy/temporal/postgres-schema.sh');
/** The PostgreSQL role Temporal connects as (created by initdb as the cluster's superuser; local trust authentication). */
export const POSTGRES_USER = 'temporal';

export interface ClusterPorts {
  postgres: number;
  /** Temporal's frontend (gRPC); the other services' ports come from `temporalInternal`. */
  temporal: number;
  /** frontend HTTP and membership, history, matching and worker gRPC and membership: 8 ports. */
  temporalInternal: number[];
  temporalUi: number;
  ferretdb: number;
}

export interface ClusterOptions {
  tools: ToolPaths;
  /** Everything the servers keep: <dir>/postgres, <dir>/temporal, <dir>/ferretdb. */
  dir: string;
  logDir: string;
  ports: ClusterPorts;
}

/** The server processes of one cluster, each startable again with the same options. */
export interface ClusterServers {
  postgres: () => Promise<ManagedProcess>;
  temporal: () => Promise<ManagedProcess>;
  temporalUi: () => Promise<ManagedProcess>;
  ferretdb: () => Promise<ManagedProcess>;
  /** Creates or upgrades Temporal's databases (needs PostgreSQL up). */
  schema: () => Promise<void>;
  temporalAddress: string;
}

export function clusterServers(o: ClusterOptions): ClusterServers {
  const pg = { binDir: o.tools.postgresBin, dataDir: path.join(o.dir, 'postgres'), port: o.ports.postgres, logFile: path.join(o.logDir, 'postgres.log') };
  const temporalAddress = `127.0.0.1:${o.ports.temporal}`;
  return {
    temporalAddress,
    postgres: () => startPostgres(pg),
    schema: () => setupTemporalSchema({ sqlTool: o.tools.temporalSql, port: o.ports.postgres, logFile: path.join(o.logDir, 'temporal-schema.log') }),
    temporal: () =>
      startTemporalServer({
        binary: o.tools.temporalServer,
        dir: path.join(o.dir, 'temporal'),
        configFile: CLUSTER_SERVER_CONFIG,
        env: { ...process.env, ...clusterServerEnv(o.ports) },
        frontend: { address: temporalAddress, tls: null },
        logFile: path.join(o.logDir, 'temporal.log'),
        // A SIGKILLed server's PostgreSQL sessions and ringpop membership take a moment to clear.
        timeoutMs: 120_000,
      }),
    temporalUi: () =>
      startTemporalUi({
        binary: o.tools.temporalUi,
        dir: path.join(o.dir, 'temporal-ui'),
        port: o.ports.temporalUi,
        temporalAddress,
        logFile: path.join(o.logDir, 'temporal-ui.log'),
      }),
    ferretdb: () =>
      startFerretDb({ binary: o.tools.ferretdb, port: o.ports.ferretdb, dir: path.join(o.dir, 'ferretdb'), logFile: path.join(o.logDir, 'ferretdb.log') }),
  };
}

/**
 * Free ports for a test cluster's Temporal services. The server stores each membership port in a
 * PostgreSQL smallint, so they must be below 32768 (the kernel's free ports are usually above).
 */
export async function freeClusterPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.includes(candidate)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = net
        .createServer()
        .once('error', () => resolve(false))
        .once('listening', () => s.close(() => resolve(true)));
      s.listen(candidate, '127.0.0.1');
    });
    if (free) ports.push(candidate);
  }
  return ports;
}

/** What deploy/temporal/cluster-postgres.yaml reads, for a server on this machine (compose sets its own). */
export function clusterServerEnv(ports: Pick<ClusterPorts, 'postgres' | 'temporal' | 'temporalInternal'>): Record<string, string> {
  const [http, frontendMembership, historyGrpc, historyMembership, matchingGrpc, matchingMembership, workerGrpc, workerMembership] = ports.temporalInternal;
  return {
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(ports.postgres),
    POSTGRES_USER,
    POSTGRES_PWD: '',
    BIND_ON_IP: '127.0.0.1',
    TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
    FRONTEND_GRPC_PORT: String(ports.temporal),
    FRONTEND_HTTP_PORT: String(http),
    FRONTEND_MEMBERSHIP_PORT: String(frontendMembership),
    HISTORY_GRPC_PORT: String(historyGrpc),
    HISTORY_MEMBERSHIP_PORT: String(historyMembership),
    MATCHING_GRPC_PORT: String(matchingGrpc),
    MATCHING_MEMBERSHIP_PORT: String(matchingMembership),
    WORKER_GRPC_PORT: String(workerGrpc),
    WORKER_MEMBERSHIP_PORT: String(workerMembership),
    DYNAMIC_CONFIG_FILE_PATH: CLUSTER_DYNAMIC_CONFIG,
  };
}

interface PostgresOptions {
  binDir: string;
  dataDir: string;
  port: number;
  logFile?: string;
}

/** initdb and postgres refuse to run as root: as root we run them as the `postgres` user Debian's package creates. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (install postgresql-15)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** PostgreSQL 15 on 127.0.0.1:<port>, data in `dataDir` (created with initdb the first time), trusted local connections only. */
export async function startPostgres(o: PostgresOptions): Promise<ManagedProcess> {
  const user = postgresUser();
  const dataDir = path.resolve(o.dataDir);
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    fs.mkdirSync(dataDir, { mode: 0o700 });
    if (user) {
      fs.chownSync(dataDir, user.uid, user.gid);
      assertReachable(dataDir);
    }
    await run(path.join(o.binDir, 'initdb'), ['-D', dataDir, '-U', POSTGRES_USER, '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions'], {
      ...user,
      cwd: dataDir,
    });
  }
  const out = logStream(o.logFile);
  if (user && typeof out === 'number') fs.fchownSync(out, user.uid, user.gid);
  // The socket goes in the data folder (not /var/run/postgresql, which may not exist or be another cluster's).
  const child = spawn(
    path.join(o.binDir, 'postgres'),
    ['-D', dataDir, '-p', String(o.port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    {
      ...user,
      cwd: dataDir,
      stdio: ['ignore', out, out],
    },
  );
  const server = manage('postgres', child, 'SIGINT');
  try {
    await waitForPort(o.port, '127.0.0.1', 60_000, child);
    // The port opens before crash recovery ends: wait until it accepts sessions.
    const deadline = Date.now() + 120_000;
    for (;;) {
      const ready = await run(path.join(o.binDir, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(o.port), '-U', POSTGRES_USER, '-d', 'postgres']).then(
        () => true,
        () => false,
      );
      if (ready) return server;
      if (child.exitCode !== null) throw new Error(`postgres exited with ${child.exitCode} (see ${o.logFile})`);
      if (Date.now() > deadline) throw new Error('PostgreSQL did not accept connections within 120 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/** The postgres user must be able to reach its data folder: every folder above it must be searchable by others. */
function assertReachable(dir: string): void {
  for (let d = path.dirname(dir); d !== path.dirname(d); d = path.dirname(d)) {
    if (!(fs.statSync(d).mode & 0o001)) throw new Error(`${d} is not searchable by other users, so the postgres user cannot reach ${dir}: chmod o+x ${d}`);
  }
}

/** Runs deploy/temporal/postgres-schema.sh with the server's SQL tool: creates the databases, or upgrades them. */
export async function setupTemporalSchema(o: { sqlTool: string; port: number; host?: string; logFile?: string }): Promise<void> {
  const env = {
    ...process.env,
    TEMPORAL_SQL_TOOL: o.sqlTool,
    SQL_HOST: o.host ?? '127.0.0.1',
    SQL_PORT: String(o.port),
    SQL_USER: POSTGRES_USER,
    SQL_PASSWORD: '',
  };
  try {
    const { stdout, stderr } = await run('sh', [POSTGRES_SCHEMA_SCRIPT], { env, maxBuffer: 16 * 1024 * 1024 });
    if (o.logFile) fs.appendFileSync(o.logFile, stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    if (o.logFile) fs.appendFileSync(o.logFile, (e.stdout ?? '') + (e.stderr ?? ''));
    throw new Error(`Temporal's schema tool failed (see ${o.logFile ?? 'its output'}): ${(e.stderr ?? '').slice(-2000)}`, { cause: err });
  }
}

/** The Temporal Web UI server (the one the CLI embeds), stand-alone, for the server at `temporalAddress`. */
export async function startTemporalUi(o: { binary: string; dir: string; port: number; temporalAddress: string; logFile?: string }): Promise<ManagedProcess> {
  const configDir = path.join(o.dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(
    path.join(configDir, 'cluster.yaml'),
    [
      `temporalGrpcAddress: ${o.temporalAddress}`,
      'host: 127.0.0.1',
      `port: ${o.port}`,
      'enableUi: true',
      'defaultNamespace: default',
      'hideLogs: true',
      'cors:',
      '  cookieInsecure: true',
      '',
    ].join('\n'),
  );
  const out = logStream(o.logFile);
  const child = spawn(o.binary, ['--root', o.dir, '--config', 'config', '--env', 'cluster', 'start'], { cwd: o.dir, stdio: ['ignore', out, out] });
  await waitForPort(o.port, '127.0.0.1', 60_000, child);
  return manage('temporal-ui', child);
}
