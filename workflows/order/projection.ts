// The read model follows the order: one write at a time, each of the newest state. A write starts
// once the changes of the current workflow task are made, so a task that changes the order three
// times writes it once; two writes in flight could land out of order on FerretDB.
import { condition } from '@temporalio/workflow';
import { readModel } from './activities';
import type { OrderRecord } from './record';

export function keepReadModelCurrent(record: OrderRecord): void {
  void (async () => {
    for (;;) {
      await condition(() => record.needsProjection());
      // Woken together with the main flow or a handler: let them run up to their next wait (a
      // step they start holds the write back, so it carries the step's outcome too).
      await othersSettled();
      if (!record.needsProjection()) continue;
      const stored = record.storedRevision();
      const snapshot = record.takeSnapshot();
      await readModel.projectOrder({ view: snapshot, stored });
      record.snapshotWritten(snapshot);
    }
  })();
}

/** Resolves once the code woken in this workflow task has run up to its next wait. */
function othersSettled(): Promise<void> {
  // Conditions are evaluated again only after every pending continuation has run: the first
  // evaluation (at once) says no, the next one yes.
  let asked = false;
  return condition(() => asked || ((asked = true), false));
}

/** Resolves once the read model holds the order as it is now. */
export const readModelCaughtUp = (record: OrderRecord) => condition(() => record.isProjected());
