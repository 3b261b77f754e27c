// No container engine runs on the development machines, so the production compose file and the
// Dockerfile are checked structurally: every service has an image or our build, our services run
// compiled JavaScript built from sources that exist, and every variable the config refuses to start
// without in production is set. test/integration/production-build.test.ts runs that build.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../infra/config';
import { COMPILED_DIRS, COPIED } from '../../scripts/build';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags';

const root = path.resolve(import.meta.dirname, '../..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<
    string,
    {
      image?: string;
      build?: string;
      command?: string[];
      environment?: Record<string, string>;
      depends_on?: unknown;
      ports?: string[];
      secrets?: string[];
    }
  >;
  secrets?: Record<string, { file?: string }>;
};
const ours = ['worker', 'api', 'adaptor'];

/** Resolves ${VAR:?msg} and ${VAR:-default} the way compose would, with the given .env values. */
function resolve(value: string, env: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string) => {
    if (env[name]) return env[name];
    if (op === '?') throw new Error(`${name} must be set: ${arg}`);
    return op === '-' ? arg : '';
  });
}

/** What an operator's .env holds for our services (the secrets' files aside). */
const appDotenv = {
  OIDC_ISSUER_URL: 'https://login.example.com/realms/operator',
  TEMPORAL_UI_PUBLIC_URL: 'https://temporal.example.com',
  APPLE_API_URL: 'https://apple.example.com',
  APPLE_RESELLER_ID: 'R-1',
  GOOGLE_PARTNER_ID: '123',
  SAMSUNG_API_URL: 'https://knox.example.com',
  SAMSUNG_RESELLER_ID: 'K-1',
  SAMSUNG_CLIENT_ID: 'client',
};

describe('docker-compose.yml', () => {
  const dotenv = { ...appDotenv, POSTGRES_PASSWORD: 'x', TEMPORAL_PAYLOAD_KEYS_PATH: './secrets/temporal-payload-keys.json' };
  const resolvedEnv = (name: string) =>
    Object.fromEntries(Object.entries(compose.services[name].environment ?? {}).map(([k, v]) => [k, resolve(String(v), dotenv)]));

  it('runs Temporal on PostgreSQL, its Web UI, MongoDB, and our three processes', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'mongodb', ...ours]));
    expect(compose.services.temporal.image).toMatch(/^temporalio\/server:/);
    for (const [name, svc] of Object.entries(compose.services)) expect(svc.image ?? svc.build, name).toBeTruthy();
  });

  it('builds our services from the Dockerfile and runs their compiled entry points with node', () => {
    for (const name of ours) {
      const svc = compose.services[name];
      expect(svc.build, name).toBe('.');
      expect(svc.command?.[0], name).toBe('node');
      expect(svc.command, name).not.toContain('tsx');
      const script = svc.command!.at(-1)!;
      expect(script, name).toMatch(/^dist\/.+\.js$/);
      const source = script.replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(fs.existsSync(path.join(root, source)), `${name}: ${source}`).toBe(true);
      expect(COMPILED_DIRS, `${name}: the build compiles ${source}`).toContain(source.split('/')[0]);
    }
  });

  it('gives each of our services a configuration that production accepts', () => {
    for (const name of ours) {
      const env = resolvedEnv(name);
      expect(env.NODE_ENV, name).toBe('production');
      expect(() => loadConfig(env), name).not.toThrow();
      expect(env.MONGODB_URI).toContain('mongodb:27017');
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      // Customer data is sealed in Temporal with keys mounted as a secret, never given inline.
      expect(env.TEMPORAL_PAYLOAD_KEYS_FILE, name).toBe('/run/secrets/temporal-payload-keys');
      expect(compose.services[name].secrets, name).toContain('temporal-payload-keys');
    }
  });

  it("gives the worker every manufacturer programme's credentials as files from mounted secrets, and only the worker", () => {
    const resolved = (name: string) =>
      Object.fromEntries(Object.entries(compose.services[name].environment ?? {}).map(([k, v]) => [k, resolve(String(v), appDotenv)]));
    const worker = resolved('worker');
    const programmes = loadConfig(worker).enrolment.programmes;
    expect(programmes.apple.auth && programmes.google.auth && programmes.samsung.auth).toBeTruthy();
    const files = Object.entries(worker).filter(([k]) => /^(APPLE|GOOGLE|SAMSUNG)_.*_FILE$/.test(k));
    expect(files.map(([k]) => k).sort()).toEqual([
      'APPLE_CLIENT_CERT_FILE',
      'APPLE_CLIENT_KEY_FILE',
      'GOOGLE_SERVICE_ACCOUNT_FILE',
      'SAMSUNG_CLIENT_SECRET_FILE',
    ]);
    const mounted = compose.services.worker.secrets ?? [];
    for (const [k, file] of files)
      expect(
        mounted.map((m) => `/run/secrets/${m}`),
        k,
      ).toContain(file);
    const declared = (compose as unknown as { secrets: Record<string, { file: string }> }).secrets;
    const manufacturers = files.map(([, file]) => file.replace('/run/secrets/', ''));
    for (const m of manufacturers) expect(declared[m]?.file, m).toMatch(/^\.\/secrets\//);
    for (const name of ['api', 'adaptor']) for (const m of manufacturers) expect(compose.services[name].secrets ?? [], name).not.toContain(m);
    expect(() => resolve(String(compose.services.worker.environment?.SAMSUNG_CLIENT_ID), {})).toThrow(/SAMSUNG_CLIENT_ID/);
  });

  it('runs the worker with the Node flags npm start and the benchmark use', () => {
    expect(compose.services.worker.command).toEqual(['node', ...WORKER_NODE_FLAGS, 'dist/worker/main.js']);
  });

  it('publishes neither Temporal nor its Web UI: the UI only behind an OIDC sign-in, the API on loopback only', () => {
    const published = Object.entries(compose.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => ({ name, p: String(p) })));
    // "host:container" or "ip:host:container": the container port is the last part.
    const containerPort = (p: string) => p.split(':').at(-1)!.split('/')[0];
    expect(
      published.filter(({ p }) => containerPort(p) === '7233' || p.split(':').includes('7233')),
      'Temporal frontend published',
    ).toEqual([]);
    expect(compose.services.temporal.ports ?? []).toEqual([]);
    expect(compose.services['temporal-ui'].ports ?? []).toEqual([]);
    const proxy = Object.entries(compose.services).find(([, svc]) => svc.image?.includes('oauth2-proxy'));
    expect(proxy, 'an oauth2-proxy service').toBeDefined();
    const env = proxy![1].environment ?? {};
    expect(env.OAUTH2_PROXY_PROVIDER).toBe('oidc');
    expect(env.OAUTH2_PROXY_UPSTREAMS).toBe('http://temporal-ui:8080');
    for (const k of ['OAUTH2_PROXY_OIDC_ISSUER_URL', 'OAUTH2_PROXY_CLIENT_ID', 'OAUTH2_PROXY_CLIENT_SECRET', 'OAUTH2_PROXY_COOKIE_SECRET']) {
      expect(() => resolve(String(env[k]), {}), k).toThrow(/must be set/);
    }
    expect(published.map(({ name }) => name).sort()).toEqual(['api', proxy![0]].sort());
    expect(compose.services.api.ports).toEqual(['127.0.0.1:3000:3000']);
  });

  it('requires client certificates at Temporal and gives each of its clients its own, mounted as secrets', () => {
    const temporal = compose.services.temporal.environment ?? {};
    expect(temporal.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH).toBe('true');
    for (const k of [
      'TEMPORAL_TLS_FRONTEND_CERT',
      'TEMPORAL_TLS_FRONTEND_KEY',
      'TEMPORAL_TLS_CLIENT1_CA_CERT',
      'TEMPORAL_TLS_SERVER_CERT',
      'TEMPORAL_TLS_SERVER_KEY',
    ]) {
      expect(temporal[k], k).toMatch(/^\/run\/secrets\//);
    }
    const secretFile = (path: string) => path.replace(/^\/run\/secrets\//, '');
    const certs = new Map<string, string>();
    for (const name of ours) {
      const config = loadConfig(resolvedEnv(name));
      expect(config.temporal.tls, name).toEqual({
        certFile: `/run/secrets/${name}.pem`,
        keyFile: `/run/secrets/${name}-key.pem`,
        caFile: '/run/secrets/temporal-ca.pem',
        serverName: null,
      });
      certs.set(name, config.temporal.tls!.certFile!);
      // Each service gets the CA and its own certificate and key, nobody else's (and the payload keys).
      const temporalSecrets = (compose.services[name].secrets ?? []).filter((s) => s.endsWith('.pem'));
      expect(temporalSecrets.sort(), name).toEqual(['temporal-ca.pem', `${name}.pem`, `${name}-key.pem`].sort());
      expect(compose.services[name].secrets, name).toContain('temporal-payload-keys');
    }
    expect(new Set(certs.values()).size).toBe(ours.length);
    for (const name of ['temporal-ui', 'temporal-admin-tools']) expect(compose.services[name].secrets, name).toContain('temporal-ca.pem');
    // Every secret a service mounts is defined, from a file in ./certs/.
    const mounted = Object.values(compose.services).flatMap((svc) => (svc.secrets ?? []).filter((s) => s.endsWith('.pem')));
    for (const secret of mounted) expect(compose.secrets?.[secret]?.file, secret).toBe(`./certs/${secretFile(secret)}`);
  });

  it('documents mTLS and the authorizer for Temporal in production', () => {
    const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    for (const v of ['TEMPORAL_TLS_REQUIRE_CLIENT_AUTH', 'TEMPORAL_AUTH_AUTHORIZER', 'TEMPORAL_AUTH_CLAIM_MAPPER']) expect(text).toContain(v);
  });

  it('refuses to resolve without the secrets', () => {
    expect(() => resolve(String(compose.services.api.environment?.OIDC_ISSUER), {})).toThrow(/OIDC_ISSUER_URL/);
  });
});

describe('Dockerfile', () => {
  const stages = fs
    .readFileSync(path.join(root, 'Dockerfile'), 'utf8')
    .split(/^FROM /m)
    .slice(1)
    .map((stage) => stage.split('\n').filter((l) => l.trim() && !l.startsWith('#')));
  const [build, run] = [stages[0], stages.at(-1)!];

  it('builds in one stage and runs in another', () => {
    expect(stages).toHaveLength(2);
    expect(build[0]).toMatch(/ AS build$/);
  });

  it('copies every folder the build compiles or copies, then runs npm run build', () => {
    for (const dir of [...COMPILED_DIRS, ...COPIED.map((d) => d.split('/')[0])]) expect(build, dir).toContain(`COPY ${dir} ./${dir}`);
    expect(build).toContain('COPY scripts/build.ts scripts/agentview-bundle.ts ./scripts/');
    expect(build.at(-1)).toBe('RUN npm run build');
  });

  it('runs node on dist/ with production dependencies only', () => {
    expect(run).toContain('ENV NODE_ENV=production');
    expect(run).toContain('RUN npm ci --omit=dev --no-audit --no-fund');
    expect(run).toContain('COPY --from=build /app/dist ./dist');
    expect(run).toContain('USER node');
    expect(run.at(-1)).toBe('CMD ["node", "dist/api/main.js"]');
    expect(run.join('\n')).not.toMatch(/tsx|COPY (domain|workflows|activities|api|adaptor|infra|worker|simulators) /);
  });

  it('does not need TypeScript tooling at run time', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const tool of ['tsx', 'typescript', 'esbuild']) expect(Object.keys(pkg.dependencies)).not.toContain(tool);
  });
});
