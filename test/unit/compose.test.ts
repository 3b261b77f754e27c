// No container engine runs on the development machines, so the production compose file is checked
// structurally: every service has an image or our build, every command points at a file that
// exists, and every variable the config refuses to start without in production is set.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../infra/config';
import { WORKER_NODE_FLAGS } from '../../worker/node-flags';

const root = path.resolve(import.meta.dirname, '../..');
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: unknown; ports?: string[] }>;
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

describe('docker-compose.yml', () => {
  it('runs Temporal on PostgreSQL, its Web UI, MongoDB, and our three processes', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['postgresql', 'temporal', 'temporal-ui', 'mongodb', ...ours]));
    expect(compose.services.temporal.environment?.DB).toBe('postgres12');
    for (const [name, svc] of Object.entries(compose.services)) expect(svc.image ?? svc.build, name).toBeTruthy();
  });

  it('builds our services from the Dockerfile and starts files that exist', () => {
    expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
    const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
    for (const name of ours) {
      const svc = compose.services[name];
      expect(svc.build, name).toBe('.');
      const script = svc.command!.at(-1)!;
      expect(fs.existsSync(path.join(root, script)), `${name}: ${script}`).toBe(true);
      const topDir = script.split('/')[0];
      expect(dockerfile, `Dockerfile copies ${topDir}/`).toContain(`COPY ${topDir} ./${topDir}`);
    }
  });

  it('gives each of our services a configuration that production accepts', () => {
    const dotenv = { AGENT_TOKENS: 'a'.repeat(32), ADAPTOR_TOKENS: 'b'.repeat(32), OPS_TOKENS: 'c'.repeat(32), POSTGRES_PASSWORD: 'x', TEMPORAL_UI_PUBLIC_URL: 'https://temporal.example.com' };
    for (const name of ours) {
      const env = Object.fromEntries(Object.entries(compose.services[name].environment ?? {}).map(([k, v]) => [k, resolve(String(v), dotenv)]));
      expect(env.NODE_ENV, name).toBe('production');
      expect(() => loadConfig(env), name).not.toThrow();
      expect(env.MONGODB_URI).toContain('mongodb:27017');
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    }
  });

  it('runs the worker with the Node flags npm start and the benchmark use', () => {
    expect(compose.services.worker.command).toEqual(['node', ...WORKER_NODE_FLAGS, '--import', 'tsx', 'worker/main.ts']);
  });

  it('publishes neither Temporal nor its Web UI: the UI only behind an OIDC sign-in, the API on loopback only', () => {
    const published = Object.entries(compose.services).flatMap(([name, svc]) => (svc.ports ?? []).map((p) => ({ name, p: String(p) })));
    // "host:container" or "ip:host:container": the container port is the last part.
    const containerPort = (p: string) => p.split(':').at(-1)!.split('/')[0];
    expect(published.filter(({ p }) => containerPort(p) === '7233' || p.split(':').includes('7233')), 'Temporal frontend published').toEqual([]);
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

  it('documents mTLS and the authorizer for Temporal in production', () => {
    const text = fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8');
    for (const v of ['TEMPORAL_TLS_REQUIRE_CLIENT_AUTH', 'TEMPORAL_AUTH_AUTHORIZER', 'TEMPORAL_AUTH_CLAIM_MAPPER']) expect(text).toContain(v);
  });

  it('refuses to resolve without the secrets', () => {
    expect(() => resolve(String(compose.services.api.environment?.AGENT_TOKENS), {})).toThrow(/AGENT_TOKENS/);
  });
});
