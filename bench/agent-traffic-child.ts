// P6's agent traffic in a process of its own (bench/agent-traffic.ts): the TrafficOptions as JSON in
// argv[2]; prints the TrafficResult as one JSON line.
import { agentTraffic, type TrafficOptions } from './agent-traffic';

const result = await agentTraffic(JSON.parse(process.argv[2]) as TrafficOptions);
process.stdout.write(JSON.stringify(result) + '\n');
