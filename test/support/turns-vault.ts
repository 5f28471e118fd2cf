// A vault with known turns: grokking-shaped runs whose test loss drops at a chosen step, and a vault config
// naming the turn metrics. Used by the catalog and CLI tests of turns.
import fs from 'node:fs';
import path from 'node:path';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from './helpers.js';

export const TURN_SPECIMEN = '2025_01_02_grok';

/** Adds a grokking-shaped run: test loss flat near 4, then a sigmoid drop to 0.01 centred on `turnAt`. */
export async function addTurnRun(
  vault: Vault,
  turnAt: number | null,
  extra?: (storage: SpecimenStorage) => Promise<void>,
): Promise<string> {
  const storage = await SpecimenStorage.open(TURN_SPECIMEN, { vault });
  await storage.startRun({ config: { turn_at: turnAt } });
  const step: number[] = [];
  const test_loss: number[] = [];
  const train_loss: number[] = [];
  for (let s = 0; s <= 2000; s += 2) {
    step.push(s);
    const drop = turnAt === null ? 0 : 1 / (1 + Math.exp(-(s - turnAt) / 20));
    test_loss.push(Math.exp(Math.log(4) * (1 - drop) + Math.log(0.01) * drop) * (1 + 0.01 * Math.sin(s)));
    train_loss.push(4 * Math.exp(-s / 400) + 0.001);
  }
  await storage.writeMetrics({ step, test_loss, train_loss });
  await extra?.(storage);
  await storage.finish();
  return storage.runId!;
}

export async function vaultWithTurns(): Promise<Vault> {
  const dir = tempDir('sv-turns-');
  const vault = await Vault.init(dir);
  const configFile = path.join(dir, 'specimen-vault.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(
    configFile,
    JSON.stringify({ ...config, turns: { metrics: ['test_loss', 'train_loss'] } }),
  );
  await vault.createSpecimen({ specimenId: TURN_SPECIMEN, domain: 'training', method: 'fine_tuning' });
  return vault;
}
