// The demo's real grokking training: an MLP learns (a + b) mod p, memorises first and generalises late,
// deterministically for a seed; the turn detector finds the jump between the two.
import { describe, expect, it } from 'vitest';
import { detectTurn } from '../../../src/analysis/turns.js';
import {
  type GrokkingCheckpoint,
  type GrokkingMetrics,
  trainModularAddition,
} from '../../../src/demo/grokking.js';

describe('trainModularAddition', () => {
  it('groks: train accuracy saturates early, test accuracy jumps much later, and the turn lies between', () => {
    const rows: GrokkingMetrics[] = [];
    const checkpoints: GrokkingCheckpoint[] = [];
    const result = trainModularAddition(
      { prime: 31, seed: 1, steps: 2200, checkpointEvery: 1100 },
      { onStep: (m) => rows.push(m), onCheckpoint: (c) => checkpoints.push(c) },
    );
    expect(rows).toHaveLength(2201);
    expect(result.trainPairs + result.testPairs).toBe(31 * 31);
    expect(result.trainSolvedAt).not.toBeNull();
    expect(result.testSolvedAt).not.toBeNull();
    const trainAt = result.trainSolvedAt!;
    const testAt = result.testSolvedAt!;
    expect(trainAt).toBeLessThanOrEqual(400);
    // Memorised, not generalised: test accuracy near chance when train accuracy reaches 99 %.
    expect(rows[trainAt]!.test_acc).toBeLessThan(0.2);
    expect(testAt).toBeGreaterThanOrEqual(4 * trainAt);
    expect(result.final.test_acc).toBeGreaterThanOrEqual(0.95);
    // Weight decay wins: the weights end smaller than at the peak.
    const peakNorm = Math.max(...rows.map((r) => r.weight_norm));
    expect(result.final.weight_norm).toBeLessThan(peakNorm * 0.9);

    const turn = detectTurn(
      rows.map((r) => r.step),
      rows.map((r) => r.test_acc),
      { metric: 'test_acc' },
    );
    expect(turn).toBeDefined();
    expect(turn!.step).toBeGreaterThan(trainAt);
    expect(turn!.step).toBeLessThan(testAt);

    expect(checkpoints.map((c) => c.step)).toEqual([0, 1100, 2200]);
    const last = checkpoints.at(-1)!;
    expect(last.embedding).toHaveLength(2 * 31 * result.hidden);
    expect(last.unembedding).toHaveLength(result.hidden * 31);
    expect(last.activations).toHaveLength(result.hidden * 31 * 31);
  }, 300_000);

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
