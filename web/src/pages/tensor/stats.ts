/**
 * Per-slice statistics for sorting small multiples: each takes one row-major `rows × cols` slice.
 *
 * @example
 * const order = sortSlices(slices, 'fft_low')   // indices, largest statistic first
 */

export type SliceStat = 'index' | 'mean' | 'variance' | 'fft_low' | 'gradient';

export const SLICE_STATS: readonly { id: SliceStat; label: string }[] = [
  { id: 'index', label: 'index' },
  { id: 'mean', label: 'mean' },
  { id: 'variance', label: 'variance' },
  { id: 'fft_low', label: 'low-frequency energy (FFT, no DC)' },
  { id: 'gradient', label: 'gradient magnitude' },
];

/** Frequencies up to this (in each direction, both signs) count as low. */
const LOW = 3;

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
  // |k| ≤ LOW, which is all the statistic needs (O(rows × cols × LOW) instead of a full transform).
  const K = 2 * LOW + 1;
  const re = new Float64Array(rows * K);
  const im = new Float64Array(rows * K);
  for (let r = 0; r < rows; r++) {
    for (let kc = -LOW; kc <= LOW; kc++) {
      let a = 0;
      let b = 0;
      for (let c = 0; c < cols; c++) {
        const v = data[r * cols + c]!;
        if (!Number.isFinite(v)) continue;
        const t = (-2 * Math.PI * kc * c) / cols;
        a += (v - mean) * Math.cos(t);
        b += (v - mean) * Math.sin(t);
      }
      re[r * K + kc + LOW] = a;
      im[r * K + kc + LOW] = b;
    }
  }
  let energy = 0;
  for (let kr = -LOW; kr <= LOW; kr++) {
    for (let kc = 0; kc < K; kc++) {
      let a = 0;
      let b = 0;
      for (let r = 0; r < rows; r++) {
        const t = (-2 * Math.PI * kr * r) / rows;
        const cos = Math.cos(t);
        const sin = Math.sin(t);
        const x = re[r * K + kc]!;
        const y = im[r * K + kc]!;
        a += x * cos - y * sin;
        b += x * sin + y * cos;
      }
      if (kr === 0 && kc === LOW) continue; // DC (already ~0 after removing the mean)
      energy += a * a + b * b;
    }
  }
  return energy / (rows * cols);
}
