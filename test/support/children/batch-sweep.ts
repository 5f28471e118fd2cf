// Child process for test/integration/durability.test.ts: a batch-mode sweep. Opens a run that it never
// finishes (the partial run), then seals COUNT short runs, prints one line per sealed run
// (`SEALED <run_id>`) and `PARTIAL <run_id>`, then ends as argv[5] says:
//   kill     block the event loop (no timer, so no flush, can run) until the parent sends SIGKILL
//   exit     process.exit(0) at once (the synchronous flush at exit)
//   return   close the partial run's writer (its worker would keep the process alive) and let the event
//            loop empty (the flush before exit)
//   node --import tsx test/support/children/batch-sweep.ts VAULT SPECIMEN COUNT kill
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';

const [vaultDir, specimenId, count = '5', end = 'kill'] = process.argv.slice(2);
const partial = await SpecimenStorage.open(specimenId!, { vault: vaultDir!, durability: 'batch' });
await partial.startRun({ seeds: { global: -1 } });
const w = partial.metricsWriter({ flushRows: 10 });
for (let step = 0; step < 25; step++) w.log({ step, loss: 1 / (step + 1) });
await w.flush();
const lines: string[] = [];
for (let i = 0; i < Number(count); i++) {
  const s = await SpecimenStorage.open(specimenId!, { vault: vaultDir!, durability: 'batch' });
  await s.startRun({ seeds: { global: i }, config: { lr: 0.01 * (i + 1) } });
  const log = s.metricsWriter();
  for (let step = 0; step < 100; step++) log.log({ step, loss: 1 / (step + 1 + i), acc: step / 100 });
  await s.finish({ summary: { final_loss: 1 / (100 + i) } });
  lines.push(`SEALED ${s.runId}`);
}
// Pipes are synchronous on Linux: the lines are out before the loop below starts.
process.stdout.write(`${lines.join('\n')}\nPARTIAL ${partial.runId}\n`);
if (end === 'kill') for (;;) {}
else if (end === 'exit') process.exit(0);
// The partial run stays unsealed (marked interrupted at exit).
else await w.close();
