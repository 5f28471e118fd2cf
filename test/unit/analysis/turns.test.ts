// Turn detection on synthetic curves with known turns (sigmoid drops and jumps at random steps, with noise,
// some with a memorization bump before the drop) and on decoys that have none.
import { describe, expect, it } from 'vitest';
import { detectTurn, directionFor, TURN_METHOD } from '../../../src/analysis/turns.js';
import { mulberry32 as rng } from '../../../src/demo/synthetic.js';

function gauss(u: () => number): number {
  return Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());
}

interface Curve {
  steps: number[];
  values: number[];
  turn?: number;
  length: number;
}

/** Test loss that collapses at a known step: high plateau (optionally rising first), sigmoid drop, floor. */
function grokLoss(u: () => number): Curve {
  const length = 2000 + Math.floor(u() * 38_000);
  const every = u() < 0.5 ? 1 : 1 + Math.floor(u() * 50); // eval cadence: every step or every N steps
  const turn = Math.round(length * (0.2 + 0.65 * u()));
  const width = length * (0.004 + 0.02 * u());
  const high = 2 + 8 * u();
  const low = 0.001 + 0.05 * u();
  const bump = u() < 0.5 ? 0.5 + u() : 0; // memorization: loss rises before it falls
  const noise = 0.02 + 0.08 * u();
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += every) {
    const drop = 1 / (1 + Math.exp(-(s - turn) / width));
    const rise = 1 + bump * Math.min(1, s / turn);
    const clean = Math.exp(Math.log(high * rise) * (1 - drop) + Math.log(low) * drop);
    steps.push(s);
    values.push(clean * Math.exp(noise * gauss(u)));
  }
  return { steps, values, turn, length };
}

/** Test accuracy that jumps at a known step. */
function grokAccuracy(u: () => number): Curve {
  const length = 5000 + Math.floor(u() * 20_000);
  const turn = Math.round(length * (0.25 + 0.6 * u()));
  const width = length * (0.004 + 0.015 * u());
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += 10) {
    const v = 0.02 + 0.97 / (1 + Math.exp(-(s - turn) / width)) + 0.01 * gauss(u);
    steps.push(s);
    values.push(Math.min(1, Math.max(0.001, v)));
  }
  return { steps, values, turn, length };
}

function slowDecay(u: () => number): Curve {
  const length = 5000 + Math.floor(u() * 20_000);
  const tau = length * (0.05 + 0.5 * u());
  const floor = 0.01 + 0.2 * u();
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += 5) {
    steps.push(s);
    values.push((4 * Math.exp(-s / tau) + floor) * Math.exp(0.05 * gauss(u)));
  }
  return { steps, values, length };
}

function singleSpike(u: () => number): Curve {
  const length = 5000 + Math.floor(u() * 20_000);
  const at = Math.floor(length * (0.2 + 0.6 * u()));
  const level = 1 + 3 * u();
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += 5) {
    steps.push(s);
    const spike = Math.abs(s - at) < 3 ? 1e-3 : 1; // one point falls by a factor of 1,000
    values.push(level * spike * Math.exp(0.05 * gauss(u)));
  }
  return { steps, values, length };
}

function flat(u: () => number): Curve {
  const length = 3000 + Math.floor(u() * 20_000);
  const level = 0.5 + 3 * u();
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += 3) {
    steps.push(s);
    values.push(level * Math.exp(0.15 * gauss(u)));
  }
  return { steps, values, length };
}

/** Accuracy that climbs from the start and saturates (a trend, not a turn), or rises linearly all run long. */
function slowRise(u: () => number): Curve {
  const length = 3000 + Math.floor(u() * 20_000);
  const tau = length * (0.05 + 0.4 * u());
  const linear = u() < 0.3;
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = 0; s <= length; s += 5) {
    steps.push(s);
    const clean = linear ? 0.05 + (0.9 * s) / length : 0.95 - 0.9 * Math.exp(-s / tau);
    values.push(Math.min(1, Math.max(0, clean + 0.01 * gauss(u))));
  }
  return { steps, values, length };
}

describe('detectTurn', () => {
  it('finds the collapse of test loss within 2 % of the run length on 60 seeded curves', () => {
    const u = rng(20260102);
    for (let i = 0; i < 60; i++) {
      const c = grokLoss(u);
      const turn = detectTurn(c.steps, c.values, { metric: 'test_loss' });
      expect(turn, `curve ${i}`).toBeDefined();
      expect(
        Math.abs(turn!.step - c.turn!),
        `curve ${i}: found ${turn!.step}, true ${c.turn}`,
      ).toBeLessThanOrEqual(0.02 * c.length);
      expect(turn!.onsetStep).toBeLessThanOrEqual(turn!.step);
      expect(turn!.endStep).toBeGreaterThanOrEqual(turn!.step);
      expect(turn!.direction).toBe('down');
      expect(turn!.method).toBe(TURN_METHOD);
      expect(turn!.score).toBeGreaterThan(5);
    }
  });

  it('finds the jump of test accuracy within 2 % of the run length on 30 seeded curves', () => {
    const u = rng(7);
    for (let i = 0; i < 30; i++) {
      const c = grokAccuracy(u);
      const turn = detectTurn(c.steps, c.values, { metric: 'test_acc' });
      expect(turn, `curve ${i}`).toBeDefined();
      expect(turn!.direction).toBe('up');
      expect(Math.abs(turn!.step - c.turn!), `curve ${i}`).toBeLessThanOrEqual(0.02 * c.length);
    }
  });

  it.each([
    ['a slow exponential decay', slowDecay],
    ['a single spike', singleSpike],
    ['a flat noisy curve', flat],
  ])('reports no turn for %s (30 seeded curves)', (_name, make) => {
    const u = rng(99);
    for (let i = 0; i < 30; i++) {
      const c = make(u);
      expect(detectTurn(c.steps, c.values, { metric: 'test_loss' }), `curve ${i}`).toBeUndefined();
    }
  });

  it('reports no turn for accuracy rising from the start, saturating or linear (30 seeded curves)', () => {
    const u = rng(41);
    for (let i = 0; i < 30; i++) {
      const c = slowRise(u);
      expect(detectTurn(c.steps, c.values, { metric: 'test_acc' }), `curve ${i}`).toBeUndefined();
    }
  });

  it('skips missing and non-finite values and too-short series', () => {
    const u = rng(3);
    const c = grokLoss(u);
    const values: (number | null)[] = c.values.map((v, i) =>
      i % 7 === 0 ? null : i % 11 === 0 ? Number.NaN : v,
    );
    const turn = detectTurn(c.steps, values, { direction: 'down' });
    expect(turn).toBeDefined();
    expect(Math.abs(turn!.step - c.turn!)).toBeLessThanOrEqual(0.02 * c.length);
    expect(detectTurn([0, 1, 2], [3, 2, 1])).toBeUndefined();
  });

  it('picks the direction from the metric name', () => {
    expect(directionFor('test_acc')).toBe('up');
    expect(directionFor('val/accuracy')).toBe('up');
    expect(directionFor('test_loss')).toBe('down');
    expect(directionFor(undefined)).toBe('down');
  });
});
