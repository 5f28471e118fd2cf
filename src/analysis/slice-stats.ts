/**
 * Per-slice statistics for sorting small multiples: each takes one row-major `rows × cols` slice (a
 * subarray of a block of slices). Computed by the server over every slice of a grid, so the viewer can sort
 * thousands of slices it has not fetched.
 *
 * @example
 * sliceStat(data.subarray(i * 113 * 113, (i + 1) * 113 * 113), 113, 113, 'fft_low') // larger: smoother
 */

/** The statistics a grid can be sorted by (`index` keeps the tensor's order). */
export type SliceStat = 'index' | 'mean' | 'variance' | 'fft_low' | 'gradient';

/** Every statistic with its label, in the order the viewer lists them. */
export const SLICE_STATS: readonly { id: SliceStat; label: string }[] = [
  { id: 'index', label: 'index' },
  { id: 'mean', label: 'mean' },
  { id: 'variance', label: 'variance' },
  { id: 'fft_low', label: 'low-frequency energy (FFT, no DC)' },
  { id: 'gradient', label: 'gradient magnitude' },
];

/** Frequencies up to this (in each direction, both signs) count as low. */
const LOW = 3;
const K = 2 * LOW + 1;

/** cos/sin of −2π·k·i/n for k in [−LOW, LOW] and i < n, laid out [i·K + k + LOW], per length n. */
const trig = new Map<number, { cos: Float64Array; sin: Float64Array }>();

function trigTable(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = trig.get(n);
  if (!t) {
    t = { cos: new Float64Array(n * K), sin: new Float64Array(n * K) };
    for (let i = 0; i < n; i++)
      for (let k = -LOW; k <= LOW; k++) {
        const a = (-2 * Math.PI * k * i) / n;
        t.cos[i * K + k + LOW] = Math.cos(a);
        t.sin[i * K + k + LOW] = Math.sin(a);
      }
    if (trig.size > 16) trig.clear();
    trig.set(n, t);
  }
  return t;
}

/** Finite range of one slice: [min, max], NaN both when it holds no finite value. */
export function sliceRange(data: ArrayLike<number>, from: number, count: number): [number, number] {
  const inf = Number.POSITIVE_INFINITY;
  let min = inf;
  let max = -inf;
  const end = from + count;
  for (let i = from; i < end; i++) {
    const v = data[i]!;
    if (v < min && v !== -inf) min = v;
    if (v > max && v !== inf) max = v;
  }
  return min <= max ? [min, max] : [Number.NaN, Number.NaN];
}

/** The statistic of one slice; non-finite values are skipped. */
export function sliceStat(data: ArrayLike<number>, rows: number, cols: number, stat: SliceStat): number {
  if (stat === 'index') return 0;
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let i = 0; i < rows * cols; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) continue;
    sum += v;
    sq += v * v;
    n++;
  }
  const mean = n > 0 ? sum / n : 0;
  if (stat === 'mean') return mean;
  if (stat === 'variance') return n > 0 ? sq / n - mean * mean : 0;
  if (stat === 'gradient') {
    let g = 0;
    let m = 0;
    for (let r = 0; r + 1 < rows; r++) {
      for (let c = 0; c + 1 < cols; c++) {
        const v = data[r * cols + c]!;
        const dx = data[r * cols + c + 1]! - v;
        const dy = data[(r + 1) * cols + c]! - v;
        if (!Number.isFinite(dx) || !Number.isFinite(dy)) continue;
        g += Math.sqrt(dx * dx + dy * dy);
        m++;
      }
    }
    return m > 0 ? g / m : 0;
  }
  // Energy of the low 2-D Fourier frequencies, without the mean (DC): a separable DFT evaluated only at
  // |k| ≤ LOW, which is all the statistic needs (O(rows × cols × LOW) instead of a full transform), from
  // tables of the twiddle factors shared by every slice of the same size.
  const tc = trigTable(cols);
  const tr = trigTable(rows);
  const re = new Float64Array(rows * K);
  const im = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = data[r * cols + c]!;
      if (!Number.isFinite(v)) continue;
      const x = v - mean;
      for (let k = 0; k < K; k++) {
        re[r * K + k] = re[r * K + k]! + x * tc.cos[c * K + k]!;
        im[r * K + k] = im[r * K + k]! + x * tc.sin[c * K + k]!;
      }
    }
  }
  let energy = 0;
  for (let kr = 0; kr < K; kr++) {
    for (let kc = 0; kc < K; kc++) {
      let a = 0;
      let b = 0;
      for (let r = 0; r < rows; r++) {
        const cos = tr.cos[r * K + kr]!;
        const sin = tr.sin[r * K + kr]!;
        const x = re[r * K + kc]!;
        const y = im[r * K + kc]!;
        a += x * cos - y * sin;
        b += x * sin + y * cos;
      }
      if (kr === LOW && kc === LOW) continue; // DC (already ~0 after removing the mean)
      energy += a * a + b * b;
    }
  }
  return energy / (rows * cols);
}
