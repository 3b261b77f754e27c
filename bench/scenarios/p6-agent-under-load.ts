// P6: what an agent feels. Agent traffic at a fixed rate over HTTP (open loop, the mix in
// bench/agent-traffic.ts) twice on one system: idle, then while background agents drive full
// orders through the pipeline as P1 does (create, two lines, generate, fraud check, warehouse,
// dispatch, billing). Per route p50/p99 of both, and loaded / idle at p99. P3 stays the
// saturation capacity; this is the latency at a call centre's steady rate.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TrafficResult } from '../agent-traffic';
import { say } from '../progress';
import type { Recorder } from '../report';
import { driveOrder, listen, runScript, startBenchSystem, TOKEN, type BenchServers, type BenchSystem } from '../system';

/** Addresses of the traffic's own orders, apart from the background agents' (velocity rule). */
const TRAFFIC_ADDRESSES = 1_000_000;

/** `agents` agents, each driving one order after another until stopped. */
function backgroundAgents(sys: BenchSystem, agents: number) {
  let stopping = false;
  let next = 0;
  let generated = 0;
  const errors: string[] = [];
  const loops = Array.from({ length: agents }, async () => {
    while (!stopping) {
      try {
        await driveOrder(sys, next++);
        generated++;
      } catch (err) {
        errors.push(String(err));
      }
    }
  });
  return {
    generated: () => generated,
    async stop() {
      stopping = true;
      await Promise.all(loops);
      return { generated, errorCount: errors.length, errors: errors.slice(0, 3) };
    },
  };
}

export async function runP6(servers: BenchServers, o: { rate: number; seconds: number; agents: number }, rec: Recorder): Promise<void> {
  const { temporal } = servers;
  const sys = await startBenchSystem(servers, 'p6', true);
  const http = await listen(sys.api);
  let phases = 0;
  const traffic = async (): Promise<TrafficResult> =>
    JSON.parse(
      await runScript('agent-traffic-child.ts', [
        JSON.stringify({
          baseUrl: `http://127.0.0.1:${http.port}`,
          token: TOKEN,
          rate: o.rate,
          seconds: o.seconds,
          prepared: Math.max(5, Math.ceil(o.rate / 2)),
          firstAddress: TRAFFIC_ADDRESSES * ++phases,
          timeoutMs: 10_000,
        }),
      ]),
    );
  const completed = async () =>
    (await temporal.workflow.count(`TaskQueue = '${sys.config.temporal.taskQueue}' AND WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Completed'`))
      .count;
  try {
    say(`P6: idle system: agent traffic at ${o.rate} requests/s for ${o.seconds} s`);
    const idle = await traffic();
    say(`P6: under load: ${o.agents} background agents driving orders through the pipeline`);
    const background = backgroundAgents(sys, o.agents);
    // The pipeline is busy once the agents have handed on as many orders as there are agents.
    const warmDeadline = Date.now() + 60_000;
    while (background.generated() < o.agents && Date.now() < warmDeadline) await sleep(200);
    const completedBefore = await completed();
    const generatedBefore = background.generated();
    const t0 = Date.now();
    say(`P6: agent traffic at ${o.rate} requests/s for ${o.seconds} s while the background runs`);
    const loaded = await traffic().catch((err: Error) => err);
    const bg = await background.stop();
    if (loaded instanceof Error) throw loaded;
    const phaseSeconds = (Date.now() - t0) / 1000;
    // Completed counts every order of the system, the traffic's own generates too.
    const load = {
      agents: o.agents,
      seconds: phaseSeconds,
      ordersGenerated: bg.generated - generatedBefore,
      ordersCompleted: (await completed()) - completedBefore,
      errorCount: bg.errorCount,
      errors: bg.errors,
    };
    rec.scenarios.P6 = { idle, loaded, background: load };
    say(
      `P6: during the loaded phase (${phaseSeconds.toFixed(0)} s) the background generated ${load.ordersGenerated} orders and the pipeline completed ${load.ordersCompleted} (the traffic's own included)`,
    );

    for (const route of Object.keys(loaded.routes) as (keyof TrafficResult['routes'])[]) {
      const l = loaded.routes[route];
      const i = idle.routes[route];
      const errors = l.errors + i.errors;
      const skipped = l.skipped + i.skipped ? `, ${l.skipped + i.skipped} skipped` : '';
      const note =
        route === 'all routes'
          ? ` at ${o.rate}/s; under load ${o.agents} background agents generated ${(load.ordersGenerated / phaseSeconds).toFixed(1)} orders/s, the pipeline completed ${(load.ordersCompleted / phaseSeconds).toFixed(1)}/s`
          : '';
      rec.goals.push({
        scenario: 'P6 agent under load',
        measure: `${route}: p99 under load vs idle (p50 ${l.p50Ms.toFixed(0)} / ${i.p50Ms.toFixed(0)} ms; ${l.answered + i.answered} answered, ${errors} errors${skipped})${note}`,
        ours: l.p99Ms,
        baseline: i.p99Ms,
        unit: 'ms',
        ratio: l.p99Ms / i.p99Ms,
        goal: 'p99 ≤ 2 × idle, 0 errors',
        met: l.answered > 0 && i.answered > 0 && l.p99Ms <= 2 * i.p99Ms && errors === 0,
      });
    }
  } finally {
    await http.close();
    await sys.stop();
  }
}
