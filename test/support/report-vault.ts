// A vault for the report tests: two sealed grokking-shaped runs with turns (src/analysis/turns.ts), one of
// them holding a 3-D tensor, a run whose 30,000-point series carries a one-step spike (more than a report
// embeds in full), and field notes with Markdown and markup that must not run.
import fs from 'node:fs';
import path from 'node:path';
import { FIELD_NOTES_FILE } from '../../src/format/layout.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import type { Vault } from '../../src/storage/vault.js';
import { addTurnRun, TURN_SPECIMEN, vaultWithTurns } from './turns-vault.js';

export const REPORT_SPECIMEN = TURN_SPECIMEN;
export const LONG_SPECIMEN = '2025_01_03_long';
/** The step of the spike in the long run, and its value (the rest stays below 1). */
export const SPIKE_STEP = 17_321;
export const SPIKE_VALUE = 50;

export async function reportVault(): Promise<{ vault: Vault; turnRuns: string[]; longRun: string }> {
  const vault = await vaultWithTurns();
  const turnRuns = [
    await addTurnRun(vault, 800, async (s) => {
      const w = Float32Array.from({ length: 3 * 40 * 60 }, (_, i) => Math.sin(i / 13) + (i % 60) / 60);
      await s.writeTensors('weights', w, { shape: [3, 40, 60], chunks: [1, 40, 60] });
    }),
    await addTurnRun(vault, 1200),
  ];
  fs.writeFileSync(
    path.join(vault.specimenDir(REPORT_SPECIMEN), FIELD_NOTES_FILE),
    '# Purpose\n\nSee when the **test loss** turns.\n\n| lr | result |\n| --- | --- |\n| 0.1 | turns |\n\n<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2">\n',
  );
  await vault.createSpecimen({ specimenId: LONG_SPECIMEN, domain: 'training', method: 'fine_tuning' });
  const s = await SpecimenStorage.open(LONG_SPECIMEN, { vault });
  await s.startRun({ seeds: { global: 3 }, config: { lr: 0.5 } });
  const n = 30_000;
  const step = Int32Array.from({ length: n }, (_, i) => i);
  const loss = Float64Array.from({ length: n }, (_, i) =>
    i === SPIKE_STEP ? SPIKE_VALUE : 0.5 + 0.4 * Math.cos(i / 500),
  );
  await s.writeMetrics({ step, loss });
  await s.finish();
  return { vault, turnRuns, longRun: s.runId! };
}
