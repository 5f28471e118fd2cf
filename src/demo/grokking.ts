/**
 * A real grokking experiment, small enough for the demo: modular addition `(a + b) mod p` learned from
 * scratch by a one-hidden-layer MLP on one-hot inputs, trained full-batch with AdamW and weight decay on
 * half of the p² pairs. Train accuracy saturates within a few hundred steps (memorisation); test accuracy
 * stays near chance and then climbs long after (generalisation) as weight decay pulls the network toward
 * the Fourier solution. The hidden activation is quadratic, the setting of Gromov (2023), "Grokking modular
 * arithmetic", where the periodic solution is exact; everything is seeded and runs in plain TypeScript.
 *
 * @example
 * const result = trainModularAddition({ prime: 31, seed: 1, steps: 3000 }, {
 *   onStep: (m) => writer.log(m), // { step, train_loss, train_acc, test_loss, test_acc, weight_norm }
 *   onCheckpoint: (c) => checkpoints.push(c), // weights and activations at chosen steps
 * })
 */
import { mulberry32 } from './synthetic.js';

/** Hyper-parameters; the defaults grok on primes 23–41 within ~2,000 steps. */
export interface GrokkingConfig {
  prime: number;
  /** Hidden units. Default 96. */
  hidden?: number;
  /** Share of the p² pairs used for training. Default 0.5. */
  trainFraction?: number;
  /** AdamW learning rate. Default 3e-3. */
  lr?: number;
  /** AdamW decoupled weight decay. Default 1. */
  weightDecay?: number;
  /** Full-batch steps. Default 3000. */
  steps?: number;
  /** Seeds the initialisation and the train/test split. */
  seed: number;
  /** Steps at which onCheckpoint receives the weights and activations. Default: every steps/10. */
  checkpointEvery?: number;
}

/** One row of metrics per step. */
export interface GrokkingMetrics {
  step: number;
  train_loss: number;
  train_acc: number;
  test_loss: number;
  test_acc: number;
  /** L2 norm of all weights: it shrinks as weight decay wins over memorisation. */
  weight_norm: number;
}

/** Weights and activations at one step. */
export interface GrokkingCheckpoint {
  step: number;
  /** Input embedding: row `a` for the first operand, row `p + b` for the second, shape (2p, hidden). */
  embedding: Float32Array;
  /** Output weights, shape (hidden, p). */
  unembedding: Float32Array;
  /** Each hidden unit's activation for every pair, shape (hidden, p, p): neuron × a × b. */
  activations: Float32Array;
}

export interface GrokkingCallbacks {
  onStep?: (metrics: GrokkingMetrics) => void;
  onCheckpoint?: (checkpoint: GrokkingCheckpoint) => void;
}

/** What a training run ended with. */
export interface GrokkingResult {
  final: GrokkingMetrics;
  /** First step with train accuracy ≥ 0.99, or null. */
  trainSolvedAt: number | null;
  /** First step with test accuracy ≥ 0.95, or null. */
  testSolvedAt: number | null;
  trainPairs: number;
  testPairs: number;
  hidden: number;
}

/** Trains one model and reports metrics every step; synchronous (a protocol process does nothing else). */
export function trainModularAddition(
  config: GrokkingConfig,
  callbacks: GrokkingCallbacks = {},
): GrokkingResult {
  const P = config.prime;
  const H = config.hidden ?? 96;
  const lr = config.lr ?? 3e-3;
  const wd = config.weightDecay ?? 1;
  const steps = config.steps ?? 3000;
  const checkpointEvery = config.checkpointEvery ?? Math.max(1, Math.round(steps / 10));
  if (!Number.isInteger(P) || P < 2) throw new RangeError(`grokking: prime must be an integer ≥ 2, got ${P}`);
  const u = mulberry32(config.seed);
  const gauss = () => Math.sqrt(-2 * Math.log(u() || 1e-12)) * Math.cos(2 * Math.PI * u());

  // The p² pairs, shuffled once by the seed and split.
  const all = new Int32Array(P * P);
  for (let i = 0; i < all.length; i++) all[i] = i;
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    const t = all[i]!;
    all[i] = all[j]!;
    all[j] = t;
  }
  const nTrain = Math.round(all.length * (config.trainFraction ?? 0.5));
  const train = all.subarray(0, nTrain);
  const test = all.subarray(nTrain);

  // Parameters: W1 (2P × H), b1 (H), W2 (H × P), b2 (P); Adam moments and gradients beside each.
  const W1 = new Float64Array(2 * P * H).map(() => gauss() / Math.sqrt(2));
  const b1 = new Float64Array(H);
  const W2 = new Float64Array(H * P).map(() => gauss() / Math.sqrt(H));
  const b2 = new Float64Array(P);
  const params = [W1, b1, W2, b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const m1 = params.map((p) => new Float64Array(p.length));
  const m2 = params.map((p) => new Float64Array(p.length));
  const [gW1, gb1, gW2, gb2] = grads as [Float64Array, Float64Array, Float64Array, Float64Array];

  const pre = new Float64Array(H);
  const act = new Float64Array(H);
  const dact = new Float64Array(H);
  const logits = new Float64Array(P);
  // Four pairs at a time share each load of W2 (pass4); per pair, every sum runs in the order of the
  // one-pair loop (over h and k ascending, across pairs in their order), so the numbers are the same.
  const pre4 = new Float64Array(4 * H);
  const act4 = new Float64Array(4 * H);
  const logits4 = new Float64Array(4 * P);

  /** Forward (and backward) of pair `pair`; adds its loss to `acc[0]` and a correct answer to `acc[1]`. */
  function one(pair: number, N: number, backward: boolean, acc: Float64Array): void {
    const a = Math.floor(pair / P);
    const b = pair % P;
    const target = (a + b) % P;
    const oa = a * H;
    const ob = (P + b) * H;
    for (let h = 0; h < H; h++) {
      const z = W1[oa + h]! + W1[ob + h]! + b1[h]!;
      pre[h] = z;
      act[h] = z * z;
    }
    logits.set(b2);
    for (let h = 0; h < H; h++) {
      const ah = act[h]!;
      const o = h * P;
      for (let k = 0; k < P; k++) logits[k]! += ah * W2[o + k]!;
    }
    softmaxInto(logits, 0, target, N, backward, acc);
    if (!backward) return;
    for (let h = 0; h < H; h++) {
      const ah = act[h]!;
      const o = h * P;
      let d = 0;
      for (let k = 0; k < P; k++) {
        const g = logits[k]!;
        d += g * W2[o + k]!;
        gW2[o + k]! += ah * g;
      }
      dact[h] = 2 * pre[h]! * d;
    }
    for (let h = 0; h < H; h++) {
      const d = dact[h]!;
      gW1[oa + h]! += d;
      gW1[ob + h]! += d;
      gb1[h]! += d;
    }
  }

  /**
   * Turns the logits at `lt` into the loss's gradient (when `backward`, adding it to gb2), adding the loss
   * and whether the argmax is right into `acc`.
   */
  function softmaxInto(
    lg: Float64Array,
    lt: number,
    target: number,
    N: number,
    backward: boolean,
    acc: Float64Array,
  ): void {
    let max = Number.NEGATIVE_INFINITY;
    let arg = 0;
    for (let k = 0; k < P; k++) {
      if (lg[lt + k]! > max) {
        max = lg[lt + k]!;
        arg = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < P; k++) {
      lg[lt + k] = Math.exp(lg[lt + k]! - max);
      sum += lg[lt + k]!;
    }
    acc[0] = acc[0]! - Math.log(Math.max(lg[lt + target]! / sum, 1e-300));
    if (arg === target) acc[1] = acc[1]! + 1;
    if (!backward) return;
    // d(mean loss)/d(logits) = (softmax − one-hot) / N
    for (let k = 0; k < P; k++) lg[lt + k] = lg[lt + k]! / sum / N;
    lg[lt + target]! -= 1 / N;
    for (let k = 0; k < P; k++) gb2[k]! += lg[lt + k]!;
  }

  /** Pairs n … n + 3 of `pairs`, as four calls of `one` in a row would compute them. */
  function pass4(pairs: Int32Array, n: number, N: number, backward: boolean, acc: Float64Array): void {
    const oas = [0, 0, 0, 0];
    const obs = [0, 0, 0, 0];
    const targets = [0, 0, 0, 0];
    for (let t = 0; t < 4; t++) {
      const pair = pairs[n + t]!;
      const a = Math.floor(pair / P);
      const b = pair % P;
      targets[t] = (a + b) % P;
      const oa = a * H;
      const ob = (P + b) * H;
      oas[t] = oa;
      obs[t] = ob;
      for (let h = 0; h < H; h++) {
        const z = W1[oa + h]! + W1[ob + h]! + b1[h]!;
        pre4[t * H + h] = z;
        act4[t * H + h] = z * z;
      }
      logits4.set(b2, t * P);
    }
    for (let h = 0; h < H; h++) {
      const a0 = act4[h]!;
      const a1 = act4[H + h]!;
      const a2 = act4[2 * H + h]!;
      const a3 = act4[3 * H + h]!;
      const o = h * P;
      for (let k = 0; k < P; k++) {
        const w = W2[o + k]!;
        logits4[k]! += a0 * w;
        logits4[P + k]! += a1 * w;
        logits4[2 * P + k]! += a2 * w;
        logits4[3 * P + k]! += a3 * w;
      }
    }
    for (let t = 0; t < 4; t++) softmaxInto(logits4, t * P, targets[t]!, N, backward, acc);
    if (!backward) return;
    for (let h = 0; h < H; h++) {
      const a0 = act4[h]!;
      const a1 = act4[H + h]!;
      const a2 = act4[2 * H + h]!;
      const a3 = act4[3 * H + h]!;
      const o = h * P;
      let d0 = 0;
      let d1 = 0;
      let d2 = 0;
      let d3 = 0;
      for (let k = 0; k < P; k++) {
        const w = W2[o + k]!;
        const g0 = logits4[k]!;
        const g1 = logits4[P + k]!;
        const g2 = logits4[2 * P + k]!;
        const g3 = logits4[3 * P + k]!;
        d0 += g0 * w;
        d1 += g1 * w;
        d2 += g2 * w;
        d3 += g3 * w;
        let gw = gW2[o + k]!;
        gw += a0 * g0;
        gw += a1 * g1;
        gw += a2 * g2;
        gw += a3 * g3;
        gW2[o + k] = gw;
      }
      pre4[h] = 2 * pre4[h]! * d0;
      pre4[H + h] = 2 * pre4[H + h]! * d1;
      pre4[2 * H + h] = 2 * pre4[2 * H + h]! * d2;
      pre4[3 * H + h] = 2 * pre4[3 * H + h]! * d3;
    }
    // pre4 now holds each pair's gradient at the hidden layer, added in the pairs' order.
    for (let t = 0; t < 4; t++) {
      const oa = oas[t]!;
      const ob = obs[t]!;
      for (let h = 0; h < H; h++) {
        const d = pre4[t * H + h]!;
        gW1[oa + h]! += d;
        gW1[ob + h]! += d;
        gb1[h]! += d;
      }
    }
  }

  /** Mean cross-entropy and accuracy over `pairs`; accumulates gradients when `backward`. */
  function pass(pairs: Int32Array, backward: boolean): { loss: number; acc: number } {
    const N = pairs.length;
    const acc = new Float64Array(2);
    let n = 0;
    for (; n + 4 <= N; n += 4) pass4(pairs, n, N, backward, acc);
    for (; n < N; n++) one(pairs[n]!, N, backward, acc);
    return { loss: acc[0]! / N, acc: acc[1]! / N };
  }

  const beta1 = 0.9;
  const beta2 = 0.98;
  let t = 0;
  function adamw(): void {
    t++;
    const c1 = 1 - beta1 ** t;
    const c2 = 1 - beta2 ** t;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const g = grads[i]!;
      const m = m1[i]!;
      const v = m2[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        m[j] = beta1 * m[j]! + (1 - beta1) * gj;
        v[j] = beta2 * v[j]! + (1 - beta2) * gj * gj;
        p[j] = p[j]! * (1 - lr * wd) - (lr * (m[j]! / c1)) / (Math.sqrt(v[j]! / c2) + 1e-8);
      }
      g.fill(0);
    }
  }

  function weightNorm(): number {
    let s = 0;
    for (const p of params) for (let j = 0; j < p.length; j++) s += p[j]! * p[j]!;
    return Math.sqrt(s);
  }

  function checkpoint(step: number): GrokkingCheckpoint {
    const activations = new Float32Array(H * P * P);
    for (let a = 0; a < P; a++) {
      for (let b = 0; b < P; b++) {
        for (let h = 0; h < H; h++) {
          const z = W1[a * H + h]! + W1[(P + b) * H + h]! + b1[h]!;
          activations[h * P * P + a * P + b] = z * z;
        }
      }
    }
    return { step, embedding: Float32Array.from(W1), unembedding: Float32Array.from(W2), activations };
  }

  let trainSolvedAt: number | null = null;
  let testSolvedAt: number | null = null;
  let final: GrokkingMetrics | undefined;
  for (let step = 0; step <= steps; step++) {
    // Metrics at `step` describe the parameters before that step's update, as training loops log them.
    const tr = pass(train, true);
    const te = pass(test, false);
    final = {
      step,
      train_loss: tr.loss,
      train_acc: tr.acc,
      test_loss: te.loss,
      test_acc: te.acc,
      weight_norm: weightNorm(),
    };
    if (trainSolvedAt === null && tr.acc >= 0.99) trainSolvedAt = step;
    if (testSolvedAt === null && te.acc >= 0.95) testSolvedAt = step;
    callbacks.onStep?.(final);
    if (callbacks.onCheckpoint && (step % checkpointEvery === 0 || step === steps)) {
      callbacks.onCheckpoint(checkpoint(step));
    }
    if (step < steps) adamw();
  }
  return {
    final: final!,
    trainSolvedAt,
    testSolvedAt,
    trainPairs: train.length,
    testPairs: test.length,
    hidden: H,
  };
}
