/**
 * Sparklines: a curve's shape in a few characters (▁▂▃▄▅▆▇█). Each character is one bucket of the series;
 * the bucket's mean sets its height. Missing (null), NaN and infinite values are skipped: a metric logged
 * every N steps draws its N-th rows, not zeros between them.
 *
 * @example
 * sparkline([3, 2, 1, 0.5, 0.4])   // '█▅▂▁▁'
 * sparkline([3, null, 1])          // same as sparkline([3, 1])
 */
const BARS = '▁▂▃▄▅▆▇█';

export function sparkline(values: ArrayLike<number | bigint | null | undefined>, width = 32): string {
  const finite: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i];
    if (x === null || x === undefined) continue;
    const v = Number(x);
    if (Number.isFinite(v)) finite.push(v);
  }
  if (finite.length === 0) return '';
  const n = Math.min(width, finite.length);
  const means: number[] = [];
  for (let b = 0; b < n; b++) {
    const from = Math.floor((b * finite.length) / n);
    const to = Math.max(from + 1, Math.floor(((b + 1) * finite.length) / n));
    let sum = 0;
    for (let i = from; i < to; i++) sum += finite[i]!;
    means.push(sum / (to - from));
  }
  const lo = Math.min(...means);
  const hi = Math.max(...means);
  const span = hi - lo;
  return means.map((m) => BARS[span === 0 ? 3 : Math.min(7, Math.floor(((m - lo) / span) * 8))]).join('');
}
