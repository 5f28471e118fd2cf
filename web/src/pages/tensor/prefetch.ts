/**
 * The first block of a small-multiples grid (at most BLOCK_ELEMENTS), asked for as soon as the URL names the grid, alongside the
 * tensor's description rather than after it: the grid then finds its slices in flight when it mounts.
 * Only one prefetch is kept, and only for a few seconds.
 *
 * @example
 * prefetchMultiples(tensor, { grid: 0, rows: 1, cols: 2, at: [0, 0, 0] }, 80)
 * const first = takeMultiples(tensor, spec, 0) // the prefetched request, or undefined
 */
import { type GridSpec, getMultiples, type Multiples, type TensorRef } from '../../api/index.js';
import { BLOCK_ELEMENTS } from './blocks.js';

let held: { key: string; promise: Promise<Multiples>; at: number } | undefined;

/** How long a prefetch waits for its grid to take it (ms). */
const KEEP_MS = 10_000;

function keyOf(tensor: TensorRef, spec: GridSpec, from: number): string {
  // The held indices that are not 0 (a link may leave those out): the same for the page and the grid.
  const at = spec.at
    .map((v, d) => (d === spec.grid || d === spec.rows || d === spec.cols || !v ? '' : `${d}:${v}`))
    .filter(Boolean)
    .join(',');
  return `${tensor.specimenId}/${tensor.runId}/${tensor.name}/${spec.grid}/${spec.rows}/${spec.cols}/${at}/${from}`;
}

/**
 * Starts fetching the slices from index 0 (one page) of the grid, pooled to `px` (the side the grid's
 * cells are expected at; 0: full size), unless that is already under way.
 */
export function prefetchMultiples(tensor: TensorRef, spec: GridSpec, px: number): void {
  const key = keyOf(tensor, spec, 0);
  if (held?.key === key && performance.now() - held.at < KEEP_MS) return;
  const promise = getMultiples(tensor, spec, 0, undefined, { codes: true, max: BLOCK_ELEMENTS, px });
  // A grid that never comes (the dimensions were not valid after all) leaves nothing unhandled.
  promise.catch(() => {});
  held = { key, promise, at: performance.now() };
}

/** The prefetched page starting at `from` of this grid, handed over once; undefined when there is none. */
export function takeMultiples(
  tensor: TensorRef,
  spec: GridSpec,
  from: number,
): Promise<Multiples> | undefined {
  const h = held;
  if (!h || h.key !== keyOf(tensor, spec, from) || performance.now() - h.at > KEEP_MS) return undefined;
  held = undefined;
  return h.promise;
}
