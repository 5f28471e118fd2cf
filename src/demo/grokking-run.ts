/**
 * One run of the grokking demo specimen (its protocol): trains `trainModularAddition` and records train/test
 * loss and accuracy and the weight norm every step, and the weights and activations at checkpoints as
 * tensor series (one Zarr array per name with a leading step axis, see `writeTensorSeries`).
 *
 * @example
 * // protocol.ts of the grokking specimen, run by `specimen run … --seed 2 --set prime=37`
 * const r = await runGrokkingDemo({ prime: 37, seed: 2 })
 * console.log(`test accuracy ≥ 95 % at step ${r.testSolvedAt}`)
 */
import { SpecimenStorage } from '../storage/specimen-storage.js';
import { type GrokkingCheckpoint, type GrokkingResult, trainModularAddition } from './grokking.js';

/** Steps of a demo run: the p = 31 and 37 runs generalise by ~1,900 and turn near 1,000. */
export const DEMO_STEPS = 2500;

/** What a demo run trains; the defaults grok on primes 31 and 37 within 2,500 steps. */
export interface GrokkingDemoOptions {
  prime: number;
  seed: number;
  /** Default DEMO_STEPS. */
  steps?: number;
  /** Default every 250 steps. */
  checkpointEvery?: number;
  /** Specimen to record into; default `$SPECIMEN_ID` (set by `specimen run`). */
  specimenId?: string;
}

/** Trains one model into a new run of the grokking specimen; returns the training result and the run. */
export async function runGrokkingDemo(
  options: GrokkingDemoOptions,
): Promise<GrokkingResult & { runId: string }> {
  const steps = options.steps ?? DEMO_STEPS;
  const checkpointEvery = options.checkpointEvery ?? 250;
  const specimenId = options.specimenId ?? process.env.SPECIMEN_ID;
  if (!specimenId) throw new Error('grokking demo: no specimen (set SPECIMEN_ID or pass specimenId)');
  const storage = await SpecimenStorage.open(specimenId);
  const config = { prime: options.prime, seed: options.seed, steps, checkpoint_every: checkpointEvery };
  await storage.startRun({ seeds: { global: options.seed }, config });
  const log = storage.metricsWriter();
  const checkpoints: GrokkingCheckpoint[] = [];
  const result = trainModularAddition(
    { prime: options.prime, seed: options.seed, steps, checkpointEvery },
    { onStep: (m) => log.log({ ...m }), onCheckpoint: (c) => checkpoints.push(c) },
  );
  const P = options.prime;
  const H = result.hidden;
  const at = checkpoints.map((c) => c.step);
  // Dimension names say what each axis is, so viewers can label them (neuron × a × b).
  await storage.writeTensorSeries(
    'activations',
    at,
    checkpoints.map((c) => c.activations),
    { shape: [H, P, P], attributes: { dims: ['step', 'neuron', 'a', 'b'] } },
  );
  await storage.writeTensorSeries(
    'embedding',
    at,
    checkpoints.map((c) => c.embedding),
    { shape: [2 * P, H], attributes: { dims: ['step', 'token', 'neuron'] } },
  );
  await storage.writeTensorSeries(
    'unembedding',
    at,
    checkpoints.map((c) => c.unembedding),
    { shape: [H, P], attributes: { dims: ['step', 'neuron', 'class'] } },
  );
  await storage.finish({
    summary: {
      final_test_acc: result.final.test_acc,
      train_solved_at: result.trainSolvedAt,
      test_solved_at: result.testSolvedAt,
    },
  });
  return { ...result, runId: storage.runId! };
}
