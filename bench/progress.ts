// What the bench says while it runs, on stderr (stdout carries the report): progress bars, which
// off a terminal (logs of background runs, the harness test) print a line every few seconds.
import { SingleBar } from 'cli-progress';

export const say = (s: string) => process.stderr.write(`${s}\n`);

export function progress(label: string, total: number) {
  const bar = new SingleBar({
    format: `${label.padEnd(44)} [{bar}] {value}/{total} {duration}s`,
    barsize: 30,
    barCompleteChar: '#',
    barIncompleteChar: '.',
    noTTYOutput: true,
    notTTYSchedule: 10_000,
    // Off a terminal the last line already ends the bar: no blank line after it.
    clearOnComplete: !process.stderr.isTTY,
  });
  bar.start(total, 0);
  return {
    update: (done: number) => bar.update(done),
    done(note = '') {
      bar.stop();
      if (note) say(`${label}: ${note}`);
    },
  };
}
