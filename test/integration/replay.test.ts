// Replays every recorded history fixture against today's workflow code (see test/support/replay.ts).
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { describe, expect, it, inject } from 'vitest';
import { HISTORY_FIXTURES, testDataConverter } from '../support/replay';

const fixtures = fs.existsSync(HISTORY_FIXTURES)
  ? fs
      .readdirSync(HISTORY_FIXTURES)
      .filter((f) => f.endsWith('.json'))
      .sort()
  : [];

describe('workflow determinism', () => {
  it('has recorded histories to replay', () => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(fixtures)('replays %s without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(HISTORY_FIXTURES, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: testDataConverter, replayName: file }, history);
  });
});
