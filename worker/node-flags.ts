// Node flags the worker process runs with (npm start, docker-compose.yml, the benchmark's worker).
// V8 otherwise keeps heap it grew in a burst (10,000 orders created, a large dispatch batch) long
// after: with 10,000 orders open and 250 cached, 621 MB RSS by default against 438 MB with these
// flags (README, Performance, P5). The old space stays large enough for a 100,000-row dispatch
// batch held in memory by its job. A 2 MB semi-space saved another 34 MB (404 MB) but made bulk
// dispatch (P2) 13 % slower with its frequent scavenges (427 s against 378 s for 10,000 orders).
export const WORKER_NODE_FLAGS = ['--max-old-space-size=384', '--max-semi-space-size=16'];
