// Child process for storage tests: opens a specimen, starts a run, optionally writes metrics, then does what
// argv[4] says: "finish", "exit" (leave without finishing), or "hang" (wait to be killed).
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';

const [vaultDir, specimenId, mode = 'finish'] = process.argv.slice(2);
const storage = await SpecimenStorage.open(specimenId!, { vault: vaultDir! });
const runId = await storage.startRun({ seeds: { global: 1 } });
await storage.writeMetrics({ step: [0, 1, 2], loss: [3, 2, 1] });
process.stdout.write(`${runId}\n`);
if (mode === 'finish') await storage.finish();
else if (mode === 'hang') setInterval(() => {}, 1000);
