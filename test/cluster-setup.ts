// The cluster tier's global setup: builds the cluster profile's tools once (the real Temporal server,
// its SQL schema tool, the Web UI server, FerretDB; PostgreSQL 15 from apt-get when missing) and
// gives the tests a temporary folder the `postgres` user can reach. Each test starts a cluster of
// its own in it (chaos/harness.ts, profile `cluster`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureTools } from '../infra/dev-stack';
import { buildAgentView } from '../scripts/agentview-bundle';

declare module 'vitest' {
  export interface ProvidedContext {
    clusterTmpRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const started = Date.now();
  ensureTools({ cluster: true });
  await buildAgentView();
  console.log(`cluster tier: tools ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hardware-orders-cluster-'));
  // PostgreSQL runs as the postgres user, which must reach its data folder inside.
  fs.chmodSync(tmpRoot, 0o755);
  project.provide('clusterTmpRoot', tmpRoot);
  return () => {
    if (!process.env.KEEP_TEST_DATA) fs.rmSync(tmpRoot, { recursive: true, force: true });
  };
}
