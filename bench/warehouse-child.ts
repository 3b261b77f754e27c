// The warehouse simulator in a process of its own, as a 3PL's stock API and file exchange are in
// production: sharing the harness's event loop (the API under P3's load) it answered stock checks
// seconds late. Started by bench/system.ts with fork() and its SimulatorOptions and port as JSON in
// argv[2]; answers { type: 'respond' } (with the files written) and { type: 'stop' } over IPC.
import { WarehouseSimulator, type SimulatorOptions } from '../simulators/warehouse';

const { port, ...options } = JSON.parse(process.argv[2]) as SimulatorOptions & { port: number };
const simulator = new WarehouseSimulator(options);
await simulator.listen(port);
simulator.start();

// A stop message and the channel closing may both come: stop once.
let stopping: Promise<void> | undefined;
const stop = () => void (stopping ??= simulator.stop().finally(() => process.exit(0)));
process.on('message', (msg: { type: string; id?: number }) => {
  if (msg.type === 'respond') {
    void simulator.respond().then(
      (files) => process.send!({ type: 'responded', id: msg.id, files }),
      (err: Error) => process.send!({ type: 'responded', id: msg.id, error: String(err.stack ?? err) }),
    );
  } else if (msg.type === 'stop') {
    stop();
  }
});
// The harness went away without stopping us: do not linger as an orphan.
process.once('disconnect', stop);
process.send!({ type: 'ready' });
