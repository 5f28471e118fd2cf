// The demo's real grokking training: an MLP learns (a + b) mod p, memorises first and generalises late,
// deterministically for a seed; the turn detector finds the jump between the two on each run of the demo's
// p = 31 sweep, at the step its test accuracy reaches half its final value.
import { beforeAll, describe, expect, it } from 'vitest';
import { detectTurn } from '../../../src/analysis/turns.js';
import {
  type GrokkingCheckpoint,
  type GrokkingMetrics,
  type GrokkingResult,
  trainModularAddition,
} from '../../../src/demo/grokking.js';
import { DEMO_STEPS } from '../../../src/demo/grokking-run.js';

/** The p = 31 runs of the demo's sweep, trained as the demo trains them (~10 s of CPU each), once for every test. */
const SEEDS = [1, 2, 3];
const sweep: {
  seed: number;
  rows: GrokkingMetrics[];
  result: GrokkingResult;
  checkpoints: GrokkingCheckpoint[];
}[] = [];
beforeAll(() => {
  for (const seed of SEEDS) {
    const rows: GrokkingMetrics[] = [];
    const checkpoints: GrokkingCheckpoint[] = [];
    const result = trainModularAddition(
      { prime: 31, seed, steps: DEMO_STEPS, checkpointEvery: 1250 },
      { onStep: (m) => rows.push(m), onCheckpoint: (c) => checkpoints.push(c) },
    );
    sweep.push({ seed, rows, result, checkpoints });
  }
}, 900_000); // ~30 s of CPU; room for a loaded machine

describe('trainModularAddition', () => {
  it('groks: train accuracy saturates early, test accuracy jumps much later', () => {
    const { rows, result, checkpoints } = sweep[0]!;
    expect(rows).toHaveLength(DEMO_STEPS + 1);
    expect(result.trainPairs + result.testPairs).toBe(31 * 31);
    for (const { result: r, rows: rs } of sweep) {
      expect(r.trainSolvedAt).not.toBeNull();
      expect(r.testSolvedAt).not.toBeNull();
      const trainAt = r.trainSolvedAt!;
      expect(trainAt).toBeLessThanOrEqual(400);
      // Memorised, not generalised: test accuracy near chance when train accuracy reaches 99 %.
      expect(rs[trainAt]!.test_acc).toBeLessThan(0.2);
      expect(r.testSolvedAt!).toBeGreaterThanOrEqual(4 * trainAt);
      expect(r.final.test_acc).toBeGreaterThanOrEqual(0.95);
    }
    // Weight decay wins: the weights end smaller than at the peak.
    const peakNorm = Math.max(...rows.map((r) => r.weight_norm));
    expect(result.final.weight_norm).toBeLessThan(peakNorm * 0.9);

    expect(checkpoints.map((c) => c.step)).toEqual([0, 1250, 2500]);
    const last = checkpoints.at(-1)!;
    expect(last.embedding).toHaveLength(2 * 31 * result.hidden);
    expect(last.unembedding).toHaveLength(result.hidden * 31);
    expect(last.activations).toHaveLength(result.hidden * 31 * 31);
  });

  it('has its test-accuracy turn detected on every run, within 2 % of the run of the jump midpoint', () => {
    for (const { seed, rows, result } of sweep) {
      const turn = detectTurn(
        rows.map((r) => r.step),
        rows.map((r) => r.test_acc),
        { metric: 'test_acc' },
      );
      // Ground truth from the run's own metrics: the first step at half the final test accuracy.
      const final = rows.at(-1)!.test_acc;
      const half = rows.find((r) => r.test_acc >= 0.5 * final)!.step;
      expect(turn, `seed ${seed}: no turn (0.5 × final at ${half})`).toBeDefined();
      expect(
        Math.abs(turn!.step - half),
        `seed ${seed}: turn ${turn!.step}, 0.5 × final at ${half}`,
      ).toBeLessThanOrEqual(0.02 * DEMO_STEPS);
      // The climb starts after memorisation and spans the midpoint.
      expect(turn!.onsetStep).toBeGreaterThan(result.trainSolvedAt!);
      expect(turn!.onsetStep).toBeLessThanOrEqual(half);
      expect(turn!.endStep).toBeGreaterThanOrEqual(half);
    }
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number) => {
      const rows: GrokkingMetrics[] = [];
      trainModularAddition({ prime: 23, seed, steps: 30 }, { onStep: (m) => rows.push(m) });
      return rows;
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)[30]!.train_loss).not.toBe(run(6)[30]!.train_loss);
  });

  it('refuses a modulus that is not an integer ≥ 2', () => {
    expect(() => trainModularAddition({ prime: 1.5, seed: 1 })).toThrow(/prime must be an integer/);
  });
});
