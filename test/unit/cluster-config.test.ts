// The cluster profile and docker-compose.yml run the Temporal server from ONE configuration file,
// deploy/temporal/cluster-postgres.yaml, which the server renders itself from its environment. These
// checks keep the two ways of running it from drifting: compose mounts that very file (and the same
// schema script and dynamic configuration), each side sets only variables the file reads, and the
// file rendered with either environment gives the same persistence, differing only in addresses,
// ports and TLS. The search attributes compose registers are the list the code registers.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CLUSTER_DYNAMIC_CONFIG, CLUSTER_SERVER_CONFIG, clusterServerEnv, POSTGRES_SCHEMA_SCRIPT } from '../../infra/cluster';
import { SEARCH_ATTRIBUTES } from '../../infra/dev-stack';

const root = path.resolve(import.meta.dirname, '../..');
const template = fs.readFileSync(CLUSTER_SERVER_CONFIG, 'utf8');
interface Service {
  image?: string;
  environment?: Record<string, string>;
  volumes?: string[];
  entrypoint?: string[];
  depends_on?: Record<string, { condition: string }>;
}
const compose = parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, Service> };

/**
 * Renders the subset of Go templates the file uses (`{{ env "X" }}`, `{{ env "X" | default "y" }}`,
 * `{{- if env "X" }} … {{- end }}`) as the server would with sprig; anything else is an error, so a
 * construct this cannot check never slips in unnoticed.
 */
function render(text: string, env: Record<string, string>): string {
  const withIfs = text.replace(/\{\{- if env "(\w+)" \}\}([\s\S]*?)\{\{- end \}\}/g, (_, name: string, body: string) => (env[name] ? body : ''));
  const out = withIfs.replace(/\{\{ env "(\w+)"(?: \| default "([^"]*)")? \}\}/g, (_, name: string, fallback?: string) => env[name] || (fallback ?? ''));
  const left = out.match(/\{\{.*?\}\}/);
  if (left) throw new Error(`template construct not understood: ${left[0]}`);
  return out;
}
const readVariables = new Set([...template.matchAll(/env "(\w+)"/g)].map((m) => m[1]));

/** Resolves ${VAR:?msg} and ${VAR:-default} as compose does. */
const resolve = (v: string, dotenv: Record<string, string>) =>
  v.replace(/\$\{(\w+)(?::[?-]([^}]*))?\}/g, (_, name: string, arg?: string) => dotenv[name] ?? (arg && !/^set /.test(arg) ? arg : ''));
const composeEnv = (name: string) =>
  Object.fromEntries(Object.entries(compose.services[name].environment ?? {}).map(([k, v]) => [k, resolve(String(v), { POSTGRES_PASSWORD: 'secret' })]));

const localEnv = clusterServerEnv({ postgres: 25432, temporal: 27233, temporalInternal: [27243, 26933, 27234, 26934, 27235, 26935, 27239, 26939] });

/** The mount of deploy/temporal in a service: its path inside the container. */
function deployMount(svc: Service): string {
  const mount = (svc.volumes ?? []).map((v) => v.split(':')).find(([from]) => path.resolve(root, from) === path.dirname(CLUSTER_SERVER_CONFIG));
  expect(mount, 'deploy/temporal mounted').toBeDefined();
  expect(mount![2], 'read-only').toBe('ro');
  return mount![1];
}

describe('the Temporal server configuration of the cluster profile and docker-compose.yml', () => {
  it('is one file, which compose mounts and runs as the cluster profile does', () => {
    const temporal = compose.services.temporal;
    expect(temporal.image).toMatch(/^temporalio\/server:1\.29\.1$/);
    const dir = deployMount(temporal);
    const command = temporal.entrypoint!.join(' ');
    expect(command).toContain(`--config ${dir} --env ${path.basename(CLUSTER_SERVER_CONFIG, '.yaml')} start`);
    expect(template.split('\n').slice(0, 3).join('\n')).toMatch(/^# enable-template$/m);
    // The same dynamic configuration file, through the mount.
    expect(composeEnv('temporal').DYNAMIC_CONFIG_FILE_PATH).toBe(`${dir}/${path.basename(CLUSTER_DYNAMIC_CONFIG)}`);
    expect(localEnv.DYNAMIC_CONFIG_FILE_PATH).toBe(CLUSTER_DYNAMIC_CONFIG);
  });

  it('is set up by the same schema script on both sides, before the server starts', () => {
    const schema = compose.services['temporal-schema'];
    const dir = deployMount(schema);
    expect(schema.entrypoint).toEqual(['sh', `${dir}/${path.basename(POSTGRES_SCHEMA_SCRIPT)}`]);
    expect(Object.keys(schema.environment ?? {})).toEqual(expect.arrayContaining(['SQL_HOST', 'SQL_PORT', 'SQL_USER', 'SQL_PASSWORD']));
    expect(compose.services.temporal.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');
    const script = fs.readFileSync(POSTGRES_SCHEMA_SCRIPT, 'utf8');
    expect(script).toContain('SQL_PLUGIN=postgres12');
    expect(script).toContain('postgresql/v12/');
  });

  it('reads every variable either side sets, and compose sets every one it needs without a default', () => {
    const composeVars = Object.keys(composeEnv('temporal'));
    expect(
      composeVars.filter((k) => !readVariables.has(k)),
      'compose sets variables the file does not read',
    ).toEqual([]);
    expect(
      Object.keys(localEnv).filter((k) => !readVariables.has(k)),
      'the cluster profile sets variables the file does not read',
    ).toEqual([]);
    const withoutDefault = [...template.matchAll(/\{\{ env "(\w+)" \}\}/g)].map((m) => m[1]);
    const env = composeEnv('temporal');
    for (const name of withoutDefault) expect(env[name], `compose sets ${name}`).toBeTruthy();
  });

  it('renders to the same persistence for both, PostgreSQL for history and visibility, TLS only in compose', () => {
    const local = parse(render(template, localEnv));
    const prod = parse(render(template, { ...composeEnv('temporal'), TEMPORAL_BROADCAST_ADDRESS: '172.18.0.5' }));
    const strip = (p: { datastores: Record<string, { sql: Record<string, unknown> }> }) => ({
      ...p,
      datastores: Object.fromEntries(Object.entries(p.datastores).map(([k, v]) => [k, { sql: { ...v.sql, connectAddr: undefined, password: undefined } }])),
    });
    expect(strip(local.persistence)).toEqual(strip(prod.persistence));
    expect(local.persistence.datastores['postgres-default'].sql.pluginName).toBe('postgres12');
    expect(local.persistence.datastores['postgres-visibility'].sql.databaseName).toBe('temporal_visibility');
    expect(local.persistence.numHistoryShards).toBe(4);
    expect(local.persistence.datastores['postgres-default'].sql.connectAddr).toBe('127.0.0.1:25432');
    expect(prod.persistence.datastores['postgres-default'].sql.connectAddr).toBe('postgresql:5432');
    expect(prod.persistence.datastores['postgres-default'].sql.password).toBe('secret');
    expect(Object.keys(local.services).sort()).toEqual(Object.keys(prod.services).sort());
    expect(local.services.frontend.rpc.grpcPort).toBe(27233);
    expect(prod.services.frontend.rpc.grpcPort).toBe(7233);
    expect(prod.services.frontend.rpc.bindOnIP).toBe('0.0.0.0');
    expect(local.global.tls).toBeUndefined();
    expect(prod.global.tls.frontend.server).toMatchObject({ requireClientAuth: true, clientCaFiles: ['/run/secrets/temporal-ca.pem'] });
    expect(prod.global.tls.internode.server.certFile).toBe('/run/secrets/temporal-internode.pem');
  });

  it('keeps membership ports below 32768 (the server stores them as a PostgreSQL smallint)', () => {
    const rendered = parse(render(template, localEnv));
    for (const [name, svc] of Object.entries(rendered.services as Record<string, { rpc: { membershipPort: number } }>))
      expect(svc.rpc.membershipPort, name).toBeLessThan(32768);
  });

  it('registers in compose the search attributes the code registers, with their types', () => {
    const command = compose.services['temporal-admin-tools'].entrypoint!.join(' ');
    expect(command).toContain('namespace create --namespace default');
    const registered = new Map<string, string>();
    for (const m of command.matchAll(/for a in ([\w ]+); do temporal operator search-attribute create --namespace default --name \$\$a --type (\w+)/g))
      for (const name of m[1].trim().split(/\s+/)) registered.set(name, m[2]);
    for (const m of command.matchAll(/search-attribute create --namespace default --name (\w+) --type (\w+)/g)) registered.set(m[1], m[2]);
    expect(Object.fromEntries(registered)).toEqual(SEARCH_ATTRIBUTES);
  });
});
