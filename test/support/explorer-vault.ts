// A small research vault for the explorer and group tests: one specimen sweeping `prime` (3 values) × `seed`
// (3 seeds), each run logging `loss` every step, a `tokens` counter, and `eval_acc` every 10th step (NaN
// between), plus a second specimen with a different config shape.
import path from 'node:path';
import { indexVault } from '../../src/catalog/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';

export const GROKKING = '2025_05_01_prime_sweep';
export const OTHER = '2025_05_02_other';
export const PRIMES = [97, 113, 127] as const;
export const SEEDS = [1, 2, 3] as const;
export const STEPS = 500;

/** The loss of a run at step `i`: decreasing with the prime, shifted by the seed, with one spike. */
export function lossAt(prime: number, seed: number, i: number): number {
  return 3 * Math.exp(-i / (prime * 2)) + seed * 0.01 + (i === 250 + seed ? 5 : 0);
}

export async function buildExplorerVault(
  dir: string,
): Promise<{ root: string; runs: Map<string, { prime: number; seed: number }> }> {
  const vault = await Vault.init(path.join(dir, 'vault'));
  await vault.createSpecimen({
    specimenId: GROKKING,
    domain: 'training',
    method: 'ablation_study',
    model: 'tiny-transformer',
    tags: ['grokking'],
    description: 'Modular addition across primes',
  });
  await vault.createSpecimen({
    specimenId: OTHER,
    domain: 'interpretability',
    method: 'probe_training',
    model: 'mlp',
  });
  const runs = new Map<string, { prime: number; seed: number }>();
  for (const prime of PRIMES) {
    for (const seed of SEEDS) {
      const s = await SpecimenStorage.open(GROKKING, { vault });
      await s.startRun({ seeds: { global: seed }, config: { prime, seed, optimizer: 'adamw', lr: 1e-3 } });
      const step = Int32Array.from({ length: STEPS }, (_, i) => i);
      const loss = Float64Array.from({ length: STEPS }, (_, i) => lossAt(prime, seed, i));
      const tokens = Float64Array.from({ length: STEPS }, (_, i) => i * 512);
      const evalAcc = Float64Array.from({ length: STEPS }, (_, i) =>
        i % 10 === 0 ? 1 - loss[i]! / 4 : Number.NaN,
      );
      await s.writeMetrics({ step, loss, tokens, eval_acc: evalAcc });
      await s.finish({ summary: { final_loss: loss[STEPS - 1]! } });
      runs.set(`${GROKKING}/${s.runId!}`, { prime, seed });
    }
  }
  const o = await SpecimenStorage.open(OTHER, { vault });
  await o.startRun({ config: { width: 64, name: 'probe-a' } });
  await o.writeMetrics({ step: Int32Array.from([0, 1, 2]), loss: Float64Array.from([1, 0.5, 0.25]) });
  await o.finish({});
  await indexVault(vault.root);
  return { root: vault.root, runs };
}
