/**
 * Min/max downsampling for line charts. A step range is cut into `width` equal buckets (one per pixel
 * column) and each bucket keeps its minimum and its maximum point, in step order, so a one-step spike is
 * still drawn however long the series. A range holding at most two points per bucket is returned as is.
 * One point either side of the range is added so the line runs to the chart's edges. Non-finite values
 * (null, NaN, ±Infinity) are skipped; a bucket with no finite value gives a `null` point, a gap.
 *
 * @example
 * const s = downsampleMinMax(steps, loss, { width: 800 })                 // whole run
 * const z = downsampleMinMax(steps, loss, { from: 1000, to: 2000, width: 800 })  // zoomed in
 * s.steps.length <= 2 * 800 + 2
 */

/** A downsampled series: parallel arrays of steps and values (null for a gap). */
export interface Series {
  steps: number[];
  values: (number | null)[];
  /** Points of the run inside the requested range. */
  total: number;
  /** True when buckets were applied (`total` > 2 × width). */
  downsampled: boolean;
}

/** First index with xs[i] >= x (xs ascending). */
export function lowerBound(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with xs[i] > x (xs ascending). */
export function upperBound(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * Downsamples `ys` over ascending `xs` to at most 2 points per pixel bucket (plus one point either side of
 * the range). `from`/`to` default to the whole series.
 */
export function downsampleMinMax(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  options: { from?: number | undefined; to?: number | undefined; width: number },
): Series {
  const n = xs.length;
  const width = Math.max(1, Math.floor(options.width));
  const lo = options.from === undefined ? 0 : lowerBound(xs, options.from);
  const hi = options.to === undefined ? n : upperBound(xs, options.to);
  const total = Math.max(0, hi - lo);
  const steps: number[] = [];
  const values: (number | null)[] = [];
  const push = (i: number) => {
    steps.push(xs[i]!);
    values.push(finiteOrNull(ys[i]!));
  };
  if (lo > 0 && lo <= n) push(lo - 1);
  if (total <= 2 * width) {
    for (let i = lo; i < hi; i++) push(i);
    if (hi < n) push(hi);
    return { steps, values, total, downsampled: false };
  }
  const x0 = options.from ?? xs[lo]!;
  const x1 = options.to ?? xs[hi - 1]!;
  const span = x1 - x0;
  const perBucket = span > 0 ? width / span : 0;
  let bucket = -1;
  let minI = -1;
  let maxI = -1;
  let firstI = -1;
  const flush = () => {
    if (firstI < 0) return;
    if (minI < 0) {
      steps.push(xs[firstI]!);
      values.push(null);
    } else if (minI === maxI) push(minI);
    else if (minI < maxI) {
      push(minI);
      push(maxI);
    } else {
      push(maxI);
      push(minI);
    }
  };
  for (let i = lo; i < hi; i++) {
    const b = Math.min(width - 1, Math.max(0, Math.floor((xs[i]! - x0) * perBucket)));
    if (b !== bucket) {
      flush();
      bucket = b;
      minI = -1;
      maxI = -1;
      firstI = i;
    }
    const y = ys[i]!;
    if (!Number.isFinite(y)) continue;
    if (minI < 0 || y < ys[minI]!) minI = i;
    if (maxI < 0 || y > ys[maxI]!) maxI = i;
  }
  flush();
  if (hi < n) push(hi);
  return { steps, values, total, downsampled: true };
}
