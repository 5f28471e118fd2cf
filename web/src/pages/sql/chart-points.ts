/**
 * The SQL console's chart of two result columns: rows with a finite x, sorted by x, non-finite y as gaps,
 * and one point per x (uPlot needs unique x values).
 *
 * @example
 * chartPoints(result, 'step', 'loss') // { steps: [0, 1, …], values: [2.3, 2.1, …] }
 */
import type { QueryResponse } from '../../api/index.js';

/** Points of column `y` against column `x` of `result`; undefined when either is not a column. */
export function chartPoints(
  result: QueryResponse,
  x: string,
  y: string,
): { steps: number[]; values: (number | null)[] } | undefined {
  if (!x || !y) return undefined;
  const xi = result.columns.findIndex((c) => c.name === x);
  const yi = result.columns.findIndex((c) => c.name === y);
  if (xi < 0 || yi < 0) return undefined;
  const pts: [number, number | null][] = [];
  for (const r of result.rows) {
    const xv = Number(r[xi]);
    if (!Number.isFinite(xv)) continue;
    const yv = r[yi] === null ? null : Number(r[yi]);
    pts.push([xv, yv !== null && Number.isFinite(yv) ? yv : null]);
  }
  pts.sort((a, b) => a[0] - b[0]);
  // uPlot needs unique x values: keep the last y at each x.
  const steps: number[] = [];
  const values: (number | null)[] = [];
  for (const [a, b] of pts) {
    if (steps.length > 0 && steps[steps.length - 1] === a) values[values.length - 1] = b;
    else {
      steps.push(a);
      values.push(b);
    }
  }
  return { steps, values };
}
