// P3's load generator, in a process of its own so its CPU is not the server's event loop:
// runs autocannon with the options given as JSON in argv[2] and prints a summary as one JSON line.
import autocannon, { type Options } from 'autocannon';

const opts = JSON.parse(process.argv[2]) as Options;
const r = await autocannon({ timeout: 10, ...opts });
process.stdout.write(
  JSON.stringify({
    requests: r.requests.total,
    requestsPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    statusCodes: Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count])),
  }) + '\n',
);
