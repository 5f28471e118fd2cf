/**
 * Chunk geometry shared by the writer and the reader: default chunk shapes, selection normalisation, which
 * chunks a selection touches, and strided box copies between flat C-order buffers.
 *
 * @example
 * defaultChunks([20000, 4096], 4)            // [128, 4096]: 2 MiB chunks, rows kept whole
 * const dims = normalizeSelection([3, null], [10, 5]) // row 3, every column
 */
import { TensorError } from '../../errors.js';
import type { Selection } from './types.js';

/** Preferred uncompressed chunk size; arrays up to MAX_CHUNK_BYTES stay in one chunk. */
const TARGET_CHUNK_BYTES = 2 * 1024 * 1024;
const MAX_CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Chunks of roughly 1–4 MiB: trailing dimensions stay whole while they fit in 4 MiB, the first one that does
 * not is split into ~2 MiB pieces (balanced so the edge chunk is not a sliver), and leading ones get size 1.
 */
export function defaultChunks(shape: readonly number[], itemsize: number): number[] {
  const chunks = shape.map(() => 1);
  let inner = itemsize;
  for (let d = shape.length - 1; d >= 0; d--) {
    const n = shape[d]!;
    if (inner * n <= MAX_CHUNK_BYTES) {
      chunks[d] = Math.max(1, n);
      inner *= Math.max(1, n);
      continue;
    }
    const size = Math.max(1, Math.floor(TARGET_CHUNK_BYTES / inner));
    const count = Math.ceil(n / size);
    chunks[d] = Math.ceil(n / count);
    break;
  }
  return chunks;
}

/** C-order (row-major) strides, in elements. */
export function cStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d]!;
  }
  return strides;
}

export function product(shape: readonly number[]): number {
  let p = 1;
  for (const n of shape) p *= n;
  return p;
}

/** Number of chunks along each dimension. */
export function gridShape(shape: readonly number[], chunks: readonly number[]): number[] {
  return shape.map((n, d) => Math.ceil(n / chunks[d]!));
}

/** One dimension of a normalised selection: indices start, start+step, … (count of them). */
export interface DimSelection {
  start: number;
  step: number;
  count: number;
  /** Selected by a plain index: the dimension is dropped from the result. */
  drop: boolean;
}

/** Validates a user selection against `shape` and resolves negative and clamped bounds, NumPy style. */
export function normalizeSelection(
  selection: Selection | undefined,
  shape: readonly number[],
): DimSelection[] {
  const sel = selection ?? [];
  if (!Array.isArray(sel))
    throw new TensorError(
      `tensor: selection must be an array with one entry per dimension, got ${typeof sel}`,
    );
  if (sel.length > shape.length)
    throw new TensorError(
      `tensor: selection has ${sel.length} entries but the array has ${shape.length} dimension(s) (shape [${shape.join(', ')}])`,
    );
  return shape.map((n, d): DimSelection => {
    const s = sel[d];
    if (s === null || s === undefined) return { start: 0, step: 1, count: n, drop: false };
    if (typeof s === 'number') {
      if (!Number.isInteger(s))
        throw new TensorError(`tensor: index ${s} in dimension ${d} is not an integer`);
      const i = s < 0 ? s + n : s;
      if (i < 0 || i >= n)
        throw new TensorError(`tensor: index ${s} is out of range for dimension ${d} of size ${n}`);
      return { start: i, step: 1, count: 1, drop: true };
    }
    if (!Array.isArray(s) || (s.length !== 2 && s.length !== 3))
      throw new TensorError(
        `tensor: selection entry ${d} must be an index, null, [start, stop] or [start, stop, step]; got ${JSON.stringify(s)}`,
      );
    const [rawStart, rawStop, rawStep = 1] = s as readonly number[];
    for (const v of [rawStart, rawStop, rawStep])
      if (!Number.isInteger(v))
        throw new TensorError(`tensor: slice ${JSON.stringify(s)} in dimension ${d} must hold integers`);
    if (rawStep! < 1)
      throw new TensorError(
        `tensor: slice step must be a positive integer, got ${rawStep} in dimension ${d}`,
      );
    const clamp = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
    const start = clamp(rawStart!);
    const stop = clamp(rawStop!);
    const count = stop > start ? Math.ceil((stop - start) / rawStep!) : 0;
    return { start, step: rawStep!, count, drop: false };
  });
}

/** The part of one chunk a selection uses, in one dimension. */
interface DimPiece {
  chunk: number;
  /** First selected index relative to the chunk's origin. */
  local: number;
  count: number;
  /** Position of that index in the output dimension. */
  out: number;
}

/** Chunks a selection touches, each with the box it contributes. */
export interface ChunkPart {
  coords: number[];
  /** First selected element, per dimension, relative to the chunk origin. */
  local: number[];
  /** Elements selected per dimension. */
  counts: number[];
  /** Where the box starts in the (full-rank) output. */
  out: number[];
}

function piecesOf(sel: DimSelection, n: number, chunk: number): DimPiece[] {
  const pieces: DimPiece[] = [];
  if (sel.count === 0) return pieces;
  const last = sel.start + (sel.count - 1) * sel.step;
  for (let c = Math.floor(sel.start / chunk); c <= Math.floor(last / chunk); c++) {
    const lo = c * chunk;
    const hi = Math.min(lo + chunk, n) - 1;
    const kFirst = Math.max(0, Math.ceil((lo - sel.start) / sel.step));
    const kLast = Math.min(sel.count - 1, Math.floor((hi - sel.start) / sel.step));
    // With a step wider than a chunk some chunks hold no selected index: skip them, never read them.
    if (kFirst <= kLast)
      pieces.push({
        chunk: c,
        local: sel.start + kFirst * sel.step - lo,
        count: kLast - kFirst + 1,
        out: kFirst,
      });
  }
  return pieces;
}

/** Every chunk the selection intersects (and only those), in C order of chunk coordinates. */
export function chunkParts(
  dims: readonly DimSelection[],
  shape: readonly number[],
  chunks: readonly number[],
): ChunkPart[] {
  const perDim = dims.map((sel, d) => piecesOf(sel, shape[d]!, chunks[d]!));
  const parts: ChunkPart[] = [];
  if (perDim.some((p) => p.length === 0)) return parts;
  const idx = perDim.map(() => 0);
  for (;;) {
    const ps = perDim.map((p, d) => p[idx[d]!]!);
    parts.push({
      coords: ps.map((p) => p.chunk),
      local: ps.map((p) => p.local),
      counts: ps.map((p) => p.count),
      out: ps.map((p) => p.out),
    });
    let d = perDim.length - 1;
    while (d >= 0 && ++idx[d]! === perDim[d]!.length) idx[d--] = 0;
    if (d < 0) break;
  }
  return parts;
}

/** Minimal typed-array surface the copy loops need; all storage arrays satisfy it. */
export interface Flat {
  length: number;
  [i: number]: number | bigint;
  set(src: ArrayLike<number | bigint>, offset?: number): void;
  subarray(begin?: number, end?: number): Flat;
  fill(value: number | bigint, start?: number, end?: number): unknown;
}

/** Shape of a box copy once dimensions that are contiguous on both sides are merged into one run. */
export interface CopyPlan {
  /** Outer dimensions still iterated one by one: counts and strides. */
  counts: number[];
  srcStrides: number[];
  dstStrides: number[];
  /** Elements copied per innermost step (a contiguous run on both sides when > 1). */
  run: number;
  /** Strides of the innermost loop when run is 1 (element by element). */
  innerSrc: number;
  innerDst: number;
  innerCount: number;
}

/**
 * Plans a copy of a box of `counts` elements between two strided buffers. Dimensions of size 1 are dropped;
 * trailing dimensions whose strides equal the run so far on both sides merge into one contiguous run.
 */
export function planCopy(
  counts: readonly number[],
  srcStrides: readonly number[],
  dstStrides: readonly number[],
): CopyPlan {
  const c: number[] = [];
  const ss: number[] = [];
  const ds: number[] = [];
  for (let d = 0; d < counts.length; d++) {
    if (counts[d] === 1) continue;
    c.push(counts[d]!);
    ss.push(srcStrides[d]!);
    ds.push(dstStrides[d]!);
  }
  let run = 1;
  while (c.length > 0 && ss[ss.length - 1] === run && ds[ds.length - 1] === run) {
    run *= c.pop()!;
    ss.pop();
    ds.pop();
  }
  if (run > 1 || c.length === 0)
    return { counts: c, srcStrides: ss, dstStrides: ds, run, innerSrc: 0, innerDst: 0, innerCount: 1 };
  const innerCount = c.pop()!;
  const innerSrc = ss.pop()!;
  const innerDst = ds.pop()!;
  return { counts: c, srcStrides: ss, dstStrides: ds, run: 1, innerSrc, innerDst, innerCount };
}

/** Whether a plan is one contiguous run on both sides (of `plan.run` elements). */
export function isSingleRun(plan: CopyPlan): boolean {
  return plan.counts.length === 0 && plan.innerCount === 1;
}

/** Total elements a plan moves. */
export function planSize(plan: CopyPlan): number {
  return product(plan.counts) * plan.run * plan.innerCount;
}

/** Visits the start offsets (source, destination) of every run of a plan. */
function forEachRun(
  plan: CopyPlan,
  srcOffset: number,
  dstOffset: number,
  fn: (s: number, d: number) => void,
): void {
  const { counts, srcStrides, dstStrides } = plan;
  const rank = counts.length;
  if (rank === 0) {
    fn(srcOffset, dstOffset);
    return;
  }
  const idx = new Array<number>(rank).fill(0);
  let s = srcOffset;
  let t = dstOffset;
  for (;;) {
    fn(s, t);
    let d = rank - 1;
    for (; d >= 0; d--) {
      s += srcStrides[d]!;
      t += dstStrides[d]!;
      if (++idx[d]! < counts[d]!) break;
      s -= srcStrides[d]! * counts[d]!;
      t -= dstStrides[d]! * counts[d]!;
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/** Copies according to `plan`: dst[dstOffset + …] = src[srcOffset + …]. Both arrays have the same element type. */
export function copyWithPlan(
  plan: CopyPlan,
  src: Flat,
  srcOffset: number,
  dst: Flat,
  dstOffset: number,
): void {
  const { run, innerSrc, innerDst, innerCount } = plan;
  if (run >= 16) {
    forEachRun(plan, srcOffset, dstOffset, (s, d) => dst.set(src.subarray(s, s + run), d));
  } else if (run > 1) {
    forEachRun(plan, srcOffset, dstOffset, (s, d) => {
      for (let i = 0; i < run; i++) dst[d + i] = src[s + i]!;
    });
  } else {
    forEachRun(plan, srcOffset, dstOffset, (s, d) => {
      for (let i = 0; i < innerCount; i++) dst[d + i * innerDst] = src[s + i * innerSrc]!;
    });
  }
}

/** Fills the box a plan describes (its destination side) with `value`. */
export function fillWithPlan(plan: CopyPlan, dst: Flat, dstOffset: number, value: number | bigint): void {
  const { run, innerDst, innerCount } = plan;
  forEachRun(plan, 0, dstOffset, (_s, d) => {
    if (run > 1) dst.fill(value, d, d + run);
    else for (let i = 0; i < innerCount; i++) dst[d + i * innerDst] = value;
  });
}

/** Dot product of an index vector with strides. */
export function offsetOf(index: readonly number[], strides: readonly number[]): number {
  let o = 0;
  for (let d = 0; d < index.length; d++) o += index[d]! * strides[d]!;
  return o;
}
