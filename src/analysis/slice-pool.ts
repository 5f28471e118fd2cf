/**
 * Slices shrunk to the size they are drawn at: the small-multiples route sends each slice as many colour
 * codes as its cell has device pixels, not one per element, when the cell is smaller than the slice (a
 * 113 × 113 slice in a 70 px cell: 4,900 codes, not 12,769), so less is coded, sent and drawn.
 *
 * Mean pooling (each pixel the mean of the finite elements it covers), not max-abs or nearest neighbour:
 * a pixel shows what its patch holds on average, so a pattern finer than the cell (the high-frequency
 * neurons of a periodic network) turns into its mean level instead of aliasing into stripes that are not
 * in the data, and the colour of a smooth slice is the same at every cell size. Single extreme elements
 * are diluted; the slice's exact values are a hover (or a click) away.
 *
 * @example
 * const [h, w] = pooledShape(113, 113, 70)                  // [70, 70]
 * poolInto(block, 512, 113, 113, h, w, pooled, ranges, 0)   // pooled: 512 × 70 × 70 means
 */

/** The longest side a pooled slice is asked at is rounded up to a multiple of this (fewer distinct sizes). */
export const POOL_STEP = 16;

/**
 * The size a `rows × cols` slice is sent at for a cell `px` device pixels across its longer side: the slice
 * itself when `px` is 0 or not smaller than its longer side, else the longer side `px` and the other in
 * proportion (at least 1).
 */
export function pooledShape(rows: number, cols: number, px: number): [number, number] {
  const long = Math.max(rows, cols);
  if (px <= 0 || px >= long) return [rows, cols];
  return [Math.max(1, Math.round((px * rows) / long)), Math.max(1, Math.round((px * cols) / long))];
}

/** The side to ask for cells of `inner` device pixels: rounded up to a step of POOL_STEP (0: none given). */
export function poolSide(inner: number): number {
  return inner <= 0 ? 0 : Math.ceil(inner / POOL_STEP) * POOL_STEP;
}

/**
 * Mean-pools `count` consecutive `rows × cols` slices of `data` to `h × w` each (h ≤ rows, w ≤ cols) into
 * `out`, and writes each slice's finite range (of the elements, not the means) into `ranges` from slice
 * `at`, in the same pass. A pixel covers the rows [⌊y·rows/h⌋, ⌊(y+1)·rows/h⌋) and likewise the columns;
 * NaN and ±∞ are left out of its mean, and a pixel with no finite element is NaN.
 */
export function poolInto(
  data: Float32Array | Float64Array,
  count: number,
  rows: number,
  cols: number,
  h: number,
  w: number,
  out: Float32Array,
  ranges: Float64Array,
  at: number,
): void {
  const rowTo = new Int32Array(rows);
  for (let r = 0; r < rows; r++) rowTo[r] = Math.min(h - 1, Math.floor((r * h) / rows));
  const colTo = new Int32Array(cols);
  for (let c = 0; c < cols; c++) colTo[c] = Math.min(w - 1, Math.floor((c * w) / cols));
  const sum = new Float64Array(h * w);
  const n = new Uint32Array(h * w);
  const inf = Number.POSITIVE_INFINITY;
  const plane = rows * cols;
  for (let g = 0; g < count; g++) {
    sum.fill(0);
    n.fill(0);
    let min = inf;
    let max = -inf;
    for (let r = 0; r < rows; r++) {
      const src = g * plane + r * cols;
      const dst = rowTo[r]! * w;
      for (let c = 0; c < cols; c++) {
        const v = data[src + c]!;
        // Finite only: NaN and ±∞ give NaN here.
        if (v - v === 0) {
          const k = dst + colTo[c]!;
          sum[k]! += v;
          n[k]!++;
          if (v < min) min = v;
          if (v > max) max = v;
        }
      }
    }
    const o = g * h * w;
    for (let k = 0; k < h * w; k++) out[o + k] = n[k]! > 0 ? sum[k]! / n[k]! : Number.NaN;
    ranges[(at + g) * 2] = min <= max ? min : Number.NaN;
    ranges[(at + g) * 2 + 1] = min <= max ? max : Number.NaN;
  }
}
