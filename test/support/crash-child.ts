// Child process for test/integration/metrics-crash.test.ts: logs deterministic metrics in small parts, reports progress
// on stdout, and is then killed with SIGKILL by the parent.
//   node --import tsx test/support/crash-child.ts RUN_DIR flush   log 5,500 rows, flush, print FLUSHED, log more, idle
//   node --import tsx test/support/crash-child.ts RUN_DIR loop    print STARTED, then log forever without yielding
import { MetricsWriter } from '../../src/storage/metrics/index.js';

/** Row `i` as the child logs it; the parent recomputes it to check what was read back. */
export function crashRow(i: number): { step: number; loss: number; tag: string } {
  return { step: i, loss: Math.sin(i) / (i + 1), tag: i % 2 === 1 ? 'odd' : 'even' };
}

if (process.argv[1]?.endsWith('crash-child.ts')) {
  const [runDir, mode] = process.argv.slice(2);
  if (!runDir) throw new Error('usage: crash-child.ts RUN_DIR flush|loop');
  const w = new MetricsWriter({ runDir, runId: 'crash', flushRows: 1000 });
  if (mode === 'flush') {
    for (let i = 0; i < 5500; i++) w.log(crashRow(i));
    await w.flush();
    process.stdout.write('FLUSHED 5500\n');
    for (let i = 5500; i < 6700; i++) w.log(crashRow(i));
    setInterval(() => {}, 1000);
  } else {
    process.stdout.write('STARTED\n');
    for (let i = 0; ; i++) w.log(crashRow(i));
  }
}
