// The least any order design could do on this engine, measured beside the real pipeline: two line
// updates and a generate update, a fraud-check, a send and a billing activity with empty bodies,
// and one signal from the warehouse. No projections, no files, no search attributes.
import { condition, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

export interface BaselineActivities {
  fraudCheck(): Promise<void>;
  send(): Promise<void>;
  billing(): Promise<void>;
}

export const baselineLineUpdate = defineUpdate<number, [{ sku: string; quantity: number }]>('baselineLine');
export const baselineGenerateUpdate = defineUpdate<void>('baselineGenerate');
export const baselineDispatchSignal = defineSignal('baselineDispatch');

const acts = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export interface BaselineInput {
  /** Start already waiting for the warehouse (P2/P5: idle workflows that only get the signal). */
  awaitingDispatch?: boolean;
}

export async function baselineOrderWorkflow(input: BaselineInput = {}): Promise<void> {
  const lines: { sku: string; quantity: number }[] = [];
  let generated = input.awaitingDispatch ?? false;
  let dispatched = false;
  setHandler(baselineLineUpdate, (line) => {
    lines.push(line);
    return lines.length;
  });
  setHandler(baselineGenerateUpdate, () => {
    generated = true;
  });
  setHandler(baselineDispatchSignal, () => {
    dispatched = true;
  });
  await condition(() => generated);
  if (!input.awaitingDispatch) {
    await acts.fraudCheck();
    await acts.send();
  }
  await condition(() => dispatched);
  await acts.billing();
}
