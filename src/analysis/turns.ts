/**
 * Turn detection: finds "the turn" of a training curve — the sharp transition of grokking, where test loss
 * collapses (or test accuracy jumps) long after the training metrics saturated — instead of eyeballing it.
 *
 * Method `log-slope-v3`, on one series of (step, value):
 * 1. Work on the log of a falling metric when every value is positive (a loss drop from 4.7 to 0.01 and one
 *    from 0.1 to 0.0002 are the same shape), else on the values (accuracies rise on a linear scale); resample onto a uniform step grid of at most
 *    2,000 points (steps may be irregular: eval every N steps).
 * 2. Smooth: a running median over 1 % of the run (≥ 5 points) removes isolated spikes, then a Gaussian
 *    takes off the noise, at σ = 0.5 % of the run first and, while no turn is found, at 1, 2 and 4 %: a
 *    sharp turn is placed most precisely at the finest scale, while a broader one (a real network's test
 *    accuracy climbing over a tenth of the run) breaks into bumps there, none a large enough change, and is
 *    seen whole only at a scale near its own width. Steps 3 and 4 apply at each scale.
 * 3. The transition is found at the steepest point of the smoothed curve in the requested direction; its
 *    extent is where the slope is at least half the peak slope. The turn's step is the midpoint of the jump:
 *    the first step where the smoothed curve is half-way from its mean level on the plateau before (step 4)
 *    to its extreme after the onset. On a symmetric sigmoid that is the inflection; on a real network's
 *    test accuracy, which climbs fast and then slowly to the top, it is where accuracy reaches about half
 *    its final value, well after the steepest point.
 * 4. It counts only if it is a transition, not a trend: the extent covers at most 35 % of the run; the
 *    curve moves across it by at least 40 % of its whole range, by at least four times the noise (robust
 *    deviation of what the smoothing removed), and by `minChange` (log units, default 1 ≈ a factor of 2.7;
 *    0 on a linear scale); and a calm plateau precedes it (half as long as the transition, ≥ 2 % of the run,
 *    ≥ 5 points), where the mean slope the same way is under a third of the peak. A slow exponential decay
 *    (steepest at the start, no plateau), a single spike (removed by the median) and a flat noisy curve (too
 *    small a change) report no turn.
 *
 * The score is the change across the transition divided by its width as a fraction of the run: a drop of
 * 6 log units over 5 % of the run scores 120; larger is sharper.
 *
 * @example
 * const turn = detectTurn(steps, testLoss, { direction: 'down' })
 * if (turn) console.log(`grokked at step ${turn.step} (onset ${turn.onsetStep}, score ${turn.score.toFixed(1)})`)
 */

/** The method name recorded with each turn; changes when the algorithm's results would. */
export const TURN_METHOD = 'log-slope-v3';

/** Which way the metric moves at the turn: losses fall, accuracies rise; `auto` picks by the name. */
export type TurnDirection = 'down' | 'up' | 'auto';

export interface TurnOptions {
  /** Default `auto`: `up` for names containing `acc`, `score`, `reward` or `f1`, else `down`. */
  direction?: TurnDirection;
  /** The metric's name, used by `auto`. */
  metric?: string;
  /** Smallest change across the transition: default 1 in log units (falling, positive series), else 0. */
  minChange?: number;
}

export interface Turn {
  /** The midpoint of the jump: where the smoothed curve is first half-way from its plateau to its extreme after. */
  step: number;
  /** Where the transition starts and ends (slope at least half its peak). */
  onsetStep: number;
  endStep: number;
  /** Change across the transition divided by its width as a fraction of the run. */
  score: number;
  direction: 'down' | 'up';
  method: typeof TURN_METHOD;
}

const MAX_POINTS = 2000;
const MAX_WIDTH = 0.35;
const SHARE_OF_RANGE = 0.4;
const NOISE_MULTIPLE = 4;
/** Gaussian σ as a fraction of the run, tried in order (step 2 of the module comment). */
const SMOOTHING_SCALES = [0.005, 0.01, 0.02, 0.04];

/** `up` for accuracy-like names, `down` otherwise. */
export function directionFor(metric: string | undefined): 'down' | 'up' {
  return metric !== undefined && /acc|score|reward|f1|auc/i.test(metric) ? 'up' : 'down';
}

/**
 * Finds the turn of one series, or undefined when it has none. `steps` must be in increasing order (equal
 * steps are averaged); non-finite values are skipped.
 */
export function detectTurn(
  steps: ArrayLike<number>,
  values: ArrayLike<number | null>,
  options: TurnOptions = {},
): Turn | undefined {
  const direction =
    options.direction === undefined || options.direction === 'auto'
      ? directionFor(options.metric)
      : options.direction;
  const points = finitePoints(steps, values);
  if (points.x.length < 20) return undefined;
  const logScale = direction === 'down' && points.y.every((v) => v > 0);
  const minChange = options.minChange ?? (logScale ? 1 : 0);
  const y = logScale ? points.y.map(Math.log) : points.y;
  const grid = resample(points.x, y, Math.min(MAX_POINTS, points.x.length));
  const n = grid.y.length;
  const despiked = runningMedian(grid.y, oddAtLeast(Math.round(n * 0.01), 5));
  // Finest scale first: a sharp turn is placed most precisely there; a broader one is only seen whole once
  // the smoothing is on its own scale (at a finer one its slope breaks into bumps, each too small a change).
  for (const scale of SMOOTHING_SCALES) {
    const turn = turnAt(grid, gaussian(despiked, Math.max(1, n * scale)), direction, minChange);
    if (turn) return turn;
  }
  return undefined;
}

/** The turn of one smoothed curve on the uniform grid, or undefined (steps 3 and 4 of the module comment). */
function turnAt(
  grid: { x: Float64Array; y: Float64Array },
  smooth: Float64Array,
  direction: 'down' | 'up',
  minChange: number,
): Turn | undefined {
  const n = grid.y.length;
  const sign = direction === 'down' ? -1 : 1;
  // Slope per unit of run fraction, signed so that the requested direction is positive.
  const slope = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const a = smooth[Math.max(0, i - 1)]!;
    const b = smooth[Math.min(n - 1, i + 1)]!;
    const span = (Math.min(n - 1, i + 1) - Math.max(0, i - 1)) / (n - 1);
    slope[i] = (sign * (b - a)) / span;
  }
  let peak = 0;
  for (let i = 1; i < n; i++) if (slope[i]! > slope[peak]!) peak = i;
  const peakSlope = slope[peak]!;
  if (!(peakSlope > 0)) return undefined;
  let start = peak;
  while (start > 0 && slope[start - 1]! >= peakSlope / 2) start--;
  let end = peak;
  while (end < n - 1 && slope[end + 1]! >= peakSlope / 2) end++;
  const width = Math.max(1, end - start) / (n - 1);
  if (width > MAX_WIDTH) return undefined;
  const change = sign * (smooth[end]! - smooth[start]!);
  let lowest = Number.POSITIVE_INFINITY;
  let highest = Number.NEGATIVE_INFINITY;
  for (const v of smooth) {
    lowest = Math.min(lowest, v);
    highest = Math.max(highest, v);
  }
  if (change < minChange || change < SHARE_OF_RANGE * (highest - lowest)) return undefined;
  if (change < NOISE_MULTIPLE * noiseScale(grid.y, smooth)) return undefined;
  // A calm plateau before the transition, at least half as long: a real network climbs for about as long
  // as it waited, so requiring a full-length wait would miss it, while a trend (steepest at the start) has
  // no room for any.
  const plateau = Math.max(Math.round((end - start) / 2), 5, Math.round(n * 0.02));
  if (start < plateau) return undefined;
  let before = 0;
  // Only movement the same way counts against a plateau: test loss often rises while the model memorizes.
  for (let i = start - plateau; i < start; i++) before += Math.max(0, slope[i]!);
  if (before / plateau >= peakSlope / 3) return undefined;
  // The step is the midpoint of the jump, not its steepest point: a real network's test accuracy climbs
  // fast at first and slowly to the top, so its steepest point comes well before it is half-way there.
  let level = 0;
  for (let i = start - plateau; i < start; i++) level += smooth[i]!;
  level /= plateau;
  let extreme = smooth[start]!;
  for (let i = start; i < n; i++)
    extreme = sign > 0 ? Math.max(extreme, smooth[i]!) : Math.min(extreme, smooth[i]!);
  const half = level + (extreme - level) / 2;
  let mid = start;
  while (mid < n - 1 && sign * (smooth[mid]! - half) < 0) mid++;
  return {
    step: Math.round(grid.x[mid]!),
    onsetStep: Math.round(grid.x[Math.min(start, mid)]!),
    endStep: Math.round(grid.x[Math.max(end, mid)]!),
    score: change / width,
    direction,
    method: TURN_METHOD,
  };
}

function finitePoints(
  steps: ArrayLike<number>,
  values: ArrayLike<number | null>,
): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  let sum = 0;
  let count = 0;
  for (let i = 0; i < Math.min(steps.length, values.length); i++) {
    const s = steps[i]!;
    const v = values[i];
    if (v === null || v === undefined || !Number.isFinite(v) || !Number.isFinite(s)) continue;
    if (x.length > 0 && s === x[x.length - 1]) {
      sum += v;
      count++;
      y[y.length - 1] = sum / count;
      continue;
    }
    if (x.length > 0 && s < x[x.length - 1]!) continue; // a step going backwards: keep the first pass
    x.push(s);
    y.push(v);
    sum = v;
    count = 1;
  }
  return { x, y };
}

/** Linear interpolation of (x, y) onto `n` evenly spaced steps between the first and the last. */
function resample(x: number[], y: number[], n: number): { x: Float64Array; y: Float64Array } {
  const gx = new Float64Array(n);
  const gy = new Float64Array(n);
  const x0 = x[0]!;
  const span = x[x.length - 1]! - x0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? x0 : x0 + (span * i) / (n - 1);
    while (j < x.length - 2 && x[j + 1]! < t) j++;
    const xa = x[j]!;
    const xb = x[j + 1] ?? xa;
    const f = xb > xa ? Math.min(1, Math.max(0, (t - xa) / (xb - xa))) : 0;
    gx[i] = t;
    gy[i] = y[j]! + f * ((y[j + 1] ?? y[j]!) - y[j]!);
  }
  return { x: gx, y: gy };
}

/** Robust standard deviation (1.4826 × median absolute deviation) of what the smoothing took off. */
function noiseScale(raw: Float64Array, smooth: Float64Array): number {
  const residual = Array.from(raw, (v, i) => Math.abs(v - smooth[i]!)).sort((a, b) => a - b);
  return 1.4826 * (residual[residual.length >> 1] ?? 0);
}

function oddAtLeast(k: number, min: number): number {
  const v = Math.max(min, k);
  return v % 2 === 1 ? v : v + 1;
}

function runningMedian(y: Float64Array, window: number): Float64Array {
  const half = (window - 1) >> 1;
  const out = new Float64Array(y.length);
  const buf: number[] = [];
  for (let i = 0; i < y.length; i++) {
    buf.length = 0;
    for (let j = Math.max(0, i - half); j <= Math.min(y.length - 1, i + half); j++) buf.push(y[j]!);
    buf.sort((a, b) => a - b);
    out[i] = buf[buf.length >> 1]!;
  }
  return out;
}

function gaussian(y: Float64Array, sigma: number): Float64Array {
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float64Array(2 * radius + 1);
  for (let k = -radius; k <= radius; k++) kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  const out = new Float64Array(y.length);
  for (let i = 0; i < y.length; i++) {
    let s = 0;
    let w = 0;
    for (let k = -radius; k <= radius; k++) {
      const j = i + k;
      if (j < 0 || j >= y.length) continue;
      const kw = kernel[k + radius]!;
      s += kw * y[j]!;
      w += kw;
    }
    out[i] = s / w;
  }
  return out;
}
