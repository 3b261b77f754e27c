// Determinism guard: replays recorded workflow histories against the current workflow code.
// Integration tests call recordHistory() for the workflows they drive; with RECORD_HISTORIES=1 the
// history is also saved as a fixture under test/fixtures/histories/, which replay.test.ts replays
// on every run, so an incompatible change fails CI unless it is versioned with patched().
import { Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { temporalDataConverter } from '../../infra/payload-codec';

/** Test systems seal payloads with the development key unless a test configures its own. */
export const testDataConverter = temporalDataConverter({ temporal: { payloadKeysFile: null } });

export const HISTORY_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/histories');

export async function replayAndRecord(temporal: Client, workflowId: string, fixtureName: string): Promise<void> {
  const handle = temporal.workflow.getHandle(workflowId);
  const history = await handle.fetchHistory();
  await Worker.runReplayHistory(
    { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter, replayName: fixtureName },
    history,
  );
  if (process.env.RECORD_HISTORIES === '1') {
    fs.mkdirSync(HISTORY_FIXTURES, { recursive: true });
    // protobufjs is pinned at the top level so that this and historyFromJSON share one copy.
    fs.writeFileSync(path.join(HISTORY_FIXTURES, `${fixtureName}.json`), historyToJSON(history));
  }
}
