/**
 * A step picked on a metric chart, mapped to a tensor series: the checkpoint nearest to it, and the tensor
 * viewer's query opening the series there. Shared by the specimen and compare pages.
 *
 * @example
 * nearestIndex([0, 250, 500], 300) // 1
 * tensorQuery({ shape: [3, 96, 31, 31], steps: [0, 250, 500] }, 400) // { at: '2,0,0,0' }
 */

/** Index of the checkpoint nearest to `step` (the earlier one on a tie). */
export function nearestIndex(steps: readonly number[], step: number): number {
  let best = 0;
  for (let i = 1; i < steps.length; i++)
    if (Math.abs(steps[i]! - step) < Math.abs(steps[best]! - step)) best = i;
  return best;
}

/** The tensor viewer's query opening a series at the checkpoint nearest `step` (other dimensions at 0). */
export function tensorQuery(
  t: { shape: number[]; steps?: number[] },
  step: number | null,
): Record<string, string> {
  if (!t.steps || step === null) return {};
  return { at: [nearestIndex(t.steps, step), ...t.shape.slice(1).map(() => 0)].join(',') };
}
