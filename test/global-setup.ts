// One Temporal dev server and one FerretDB for the whole run (free ports, temp data), and the
// workflow bundle and AgentView's browser bundle built once. Everything is torn down even when tests fail.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { buildAgentView } from '../scripts/agentview-bundle';
import { ensureTools, freePort, startFerretDb, startTemporal, type ManagedProcess } from '../infra/dev-stack';
import { failureConverterPath } from '../infra/payload-codec';
import { workflowsPath } from '../worker/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    mongoHost: string;
    workflowBundlePath: string;
    tmpRoot: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'hardware-orders-test-'));
  const started: ManagedProcess[] = [];
  const teardown = async () => {
    await Promise.allSettled(started.map((p) => p.stop()));
    if (!process.env.KEEP_TEST_DATA) fs.rmSync(tmpRoot, { recursive: true, force: true });
  };
  try {
    await buildAgentView();
    const tools = ensureTools();
    const [tPort, uiPort, fPort] = [await freePort(), await freePort(), await freePort()];
    const [temporal, ferret] = await Promise.all([
      startTemporal({
        binary: tools.temporal,
        port: tPort,
        uiPort,
        dbFile: path.join(tmpRoot, 'temporal.db'),
        logFile: path.join(tmpRoot, 'temporal.log'),
        headless: true,
      }),
      startFerretDb({ binary: tools.ferretdb, port: fPort, dir: path.join(tmpRoot, 'ferretdb'), logFile: path.join(tmpRoot, 'ferretdb.log') }),
    ]);
    started.push(temporal, ferret);
    const { code } = await bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: quietLogger });
    const bundlePath = path.join(tmpRoot, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, code);
    project.provide('temporalAddress', `127.0.0.1:${tPort}`);
    project.provide('mongoHost', `127.0.0.1:${fPort}`);
    project.provide('workflowBundlePath', bundlePath);
    project.provide('tmpRoot', tmpRoot);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => console.error(m), log: noop };
