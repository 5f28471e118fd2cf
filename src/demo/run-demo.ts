/**
 * Builds the demo vault: creates the vault, the synthetic demo specimen (with its protocol and field notes)
 * and one sealed run of it.
 *
 * @example
 * const result = await createDemoVault('./demo-vault')
 * result.runId   // e.g. 20261121_160512
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../format/atomic-write.js';
import type { RunManifest } from '../format/manifest.js';
import { fieldNotesTemplate } from '../storage/scaffold.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import { Vault } from '../storage/vault.js';
import { DEMO_SEED, DEMO_SPECIMEN_ID, syntheticDemoData } from './synthetic.js';

export interface DemoResult {
  vault: Vault;
  specimenId: string;
  runId: string;
  manifest: RunManifest;
}

/** The protocol file stored with the demo specimen: the code that produced its runs. */
const DEMO_PROTOCOL = `/**
 * Protocol of ${DEMO_SPECIMEN_ID}: synthetic training curves and activations from a seeded generator.
 * Run it with \`specimen run ${DEMO_SPECIMEN_ID}\`; the same seed gives identical metrics and tensor bytes.
 */
import { runSyntheticDemo } from 'specimen-vault';

await runSyntheticDemo({ seed: Number(process.env.SPECIMEN_SEED ?? ${DEMO_SEED}) });
`;

/** Creates (or reuses) the demo specimen in `vault` and records one sealed run of it. */
export async function runSyntheticDemo(
  options: { vault?: Vault | string; seed?: number } = {},
): Promise<DemoResult> {
  const vault = options.vault instanceof Vault ? options.vault : await Vault.open(options.vault);
  const seed = options.seed ?? DEMO_SEED;
  const dir = vault.specimenDir(DEMO_SPECIMEN_ID);
  if (!fs.existsSync(path.join(dir, 'manifest.msgpack'))) {
    const created = await createDemoSpecimen(vault);
    await writeFileAtomic(path.join(created, 'protocol.ts'), DEMO_PROTOCOL);
  }
  const storage = await SpecimenStorage.open(DEMO_SPECIMEN_ID, { vault });
  const data = syntheticDemoData(seed);
  await storage.startRun({
    seeds: { global: seed },
    config: { steps: 100, width: 512, generator: 'mulberry32+box-muller' },
  });
  await storage.writeMetrics(data.metrics);
  await storage.writeTensors('activations', data.activations, { shape: data.activationsShape });
  const m = data.metrics;
  const manifest = await storage.finish({
    summary: {
      final_loss: m.loss[m.loss.length - 1]!,
      final_accuracy: m.accuracy[m.accuracy.length - 1]!,
      min_loss: Math.min(...m.loss),
    },
  });
  return { vault, specimenId: DEMO_SPECIMEN_ID, runId: storage.runId!, manifest: manifest! };
}

async function createDemoSpecimen(vault: Vault): Promise<string> {
  // The demo keeps the Python implementation's ID, which predates the YYYY_MM_DD_ rule.
  const entry = await vault.createSpecimen(
    {
      specimenId: DEMO_SPECIMEN_ID,
      domain: 'interpretability',
      method: 'sae_analysis',
      model: 'synthetic',
      tags: ['demo', 'example', 'synthetic'],
      description: 'Pedagogical example demonstrating the Specimen Vault pattern with synthetic data',
      dependencies: { node: '>=20', 'specimen-vault': '>=0.1' },
    },
    { allowLegacyId: true },
  );
  await writeFileAtomic(path.join(entry.path, 'field_notes.md'), fieldNotesTemplate(entry.manifest));
  return entry.path;
}
