/**
 * The synthetic demo specimen `example_2024_12_19_synthetic_demo`, re-created deterministically: 100 steps of
 * loss (exponential decay plus noise), accuracy (sigmoid growth plus noise), entropy (oscillating decay plus
 * noise) and activations (100, 512) float32 drawn from a normal distribution. The same seed gives the same
 * metric values and the same tensor bytes on every machine: the generator is mulberry32 (32-bit integer
 * arithmetic only) and normals come from Box–Muller on its output.
 *
 * @example
 * const data = syntheticDemoData(42)
 * data.metrics.loss[0]          // ≈ 2.6
 * data.activations.length       // 51200
 */

/** Specimen ID of the demo specimen (the Python implementation's name, kept for its documented queries). */
export const DEMO_SPECIMEN_ID = 'example_2024_12_19_synthetic_demo';
/** Seed used by `specimen demo`. */
export const DEMO_SEED = 42;

/** mulberry32: a tiny, well-known 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples via Box–Muller over `uniform`. */
export function normalSampler(uniform: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = uniform();
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** The demo's data. */
export interface SyntheticDemoData {
  metrics: { step: Int32Array; loss: Float64Array; accuracy: Float64Array; entropy: Float64Array };
  activations: Float32Array;
  activationsShape: [number, number];
}

/** Generates the demo data for `seed` (`steps` rows, activations (steps, 512)). */
export function syntheticDemoData(seed: number = DEMO_SEED, steps = 100): SyntheticDemoData {
  const normal = normalSampler(mulberry32(seed));
  const step = new Int32Array(steps);
  const loss = new Float64Array(steps);
  const accuracy = new Float64Array(steps);
  const entropy = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    step[i] = i;
    loss[i] = 2.5 * Math.exp(-i / 25) + 0.1 + 0.03 * normal();
    accuracy[i] = Math.min(1, Math.max(0, 0.1 + 0.85 / (1 + Math.exp(-(i - 50) / 10)) + 0.01 * normal()));
    entropy[i] = 0.5 + 2 * Math.exp(-i / 40) * (1 + 0.3 * Math.sin(i / 4)) + 0.05 * normal();
  }
  const width = 512;
  const activations = new Float32Array(steps * width);
  for (let i = 0; i < activations.length; i++) activations[i] = normal();
  return { metrics: { step, loss, accuracy, entropy }, activations, activationsShape: [steps, width] };
}
