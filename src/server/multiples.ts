/**
 * Small multiples on the server: one request returns a run of slices of a tensor along one dimension (the
 * grid), each a whole (rows, cols) plane with every other dimension held at an index, as one binary body
 * in (slice, row, col) order followed by each slice's finite range; another returns a statistic of every
 * slice for sorting. Both read whole chunks along the grid dimension in chunk-aligned blocks, so every chunk
 * is decoded once, and both are validated here before any chunk is touched.
 *
 * Query: `grid`, `rows`, `cols` (three distinct dimensions), `at` (an index per dimension, comma-separated;
 * the grid's, rows' and columns' entries are ignored, missing ones are 0), `from`/`to` (the slices
 * [from, to) along the grid, default all; both are clamped to the grid's length, and `to` to the most
 * slices one response holds (or `max` elements, when smaller), so a viewer can ask for a first page before it knows the tensor's shape; the
 * response says which slices it holds).
 *
 * @example
 * const spec = parseMultiples(new URLSearchParams('grid=0&rows=1&cols=2&from=0&to=64'), [512, 113, 113])
 * const data = await readMultiples(handle, spec, 0, 64, false) // Float32Array of 64 × 113 × 113
 */
import { type SliceStat, sliceRange, sliceStat } from '../analysis/slice-stats.js';
import type { Selection, TensorHandle } from '../storage/tensors/types.js';
import type { MultiplesStatsResponse } from './api-types.js';
import { HttpError } from './http.js';

/** A validated small-multiples request. */
export interface MultiplesSpec {
  grid: number;
  rows: number;
  cols: number;
  /** One index per dimension (those of grid, rows and cols are 0). */
  at: number[];
  /** Length of the grid dimension. */
  n: number;
  /** Slices [from, to) along the grid. */
  from: number;
  to: number;
  /** Elements of one slice (rows × cols). */
  plane: number;
}

/** Statistics the stats request computes, besides each slice's range. */
const STATS = new Set<SliceStat>(['index', 'mean', 'variance', 'fft_low', 'gradient']);

function bad(message: string): HttpError {
  return new HttpError(400, 'BadMultiples', `multiples: ${message}`);
}

function int(text: string | null, what: string, min: number, max: number, fallback?: number): number {
  if (text === null || text === '') {
    if (fallback !== undefined) return fallback;
    throw bad(`${what} is required`);
  }
  if (!/^\d{1,15}$/.test(text))
    throw bad(`${what} must be a non-negative integer, got ${JSON.stringify(text)}`);
  const v = Number(text);
  if (v < min || v > max) throw bad(`${what} must be in [${min}, ${max}], got ${v}`);
  return v;
}

/**
 * Parses and checks the query against the tensor's `shape`; `to` is cut so that at most `maxElements`
 * are asked (at a boundary of the grid dimension's `chunks` when one lies past `from`).
 */
export function parseMultiples(
  query: URLSearchParams,
  shape: readonly number[],
  maxElements = Number.POSITIVE_INFINITY,
  chunks: readonly number[] = [],
): MultiplesSpec {
  const nd = shape.length;
  if (nd < 3) throw bad(`small multiples need a tensor of at least 3 dimensions, this one has ${nd}`);
  const grid = int(query.get('grid'), 'grid', 0, nd - 1);
  const rows = int(query.get('rows'), 'rows', 0, nd - 1);
  const cols = int(query.get('cols'), 'cols', 0, nd - 1);
  if (grid === rows || grid === cols || rows === cols)
    throw bad(`grid, rows and cols must be three different dimensions, got ${grid}, ${rows}, ${cols}`);
  const atText = query.get('at') ?? '';
  const parts = atText === '' ? [] : atText.split(',');
  if (parts.length > nd) throw bad(`at has ${parts.length} entries for a ${nd}-dimensional tensor`);
  const at = shape.map((size, d) =>
    d === grid || d === rows || d === cols ? 0 : int(parts[d] ?? null, `at[${d}]`, 0, size - 1, 0),
  );
  const n = shape[grid]!;
  const from = Math.min(n, int(query.get('from'), 'from', 0, Number.MAX_SAFE_INTEGER, 0));
  let to = Math.min(n, int(query.get('to'), 'to', from, Number.MAX_SAFE_INTEGER, n));
  const plane = shape[rows]! * shape[cols]!;
  // A client may ask for smaller pages than the server's (its own block size).
  const maxText = query.get('max');
  if (maxText !== null && maxText !== '')
    maxElements = Math.min(maxElements, int(maxText, 'max', 1, Number.MAX_SAFE_INTEGER));
  if (plane > maxElements) throw bad(`one slice has ${plane} elements; at most ${maxElements} per request`);
  const fit = plane === 0 ? to - from : Math.floor(maxElements / plane);
  if (to - from > fit) {
    const gridChunk = chunks[grid] ?? 1;
    const aligned = Math.floor((from + fit) / gridChunk) * gridChunk;
    to = aligned > from ? aligned : from + fit;
  }
  return { grid, rows, cols, at, n, from, to, plane };
}

/** The statistic named by `stat` (default `index`: ranges only). */
export function parseStat(text: string | null): SliceStat {
  const stat = (text ?? 'index') as SliceStat;
  if (!STATS.has(stat))
    throw bad(`stat must be one of ${[...STATS].join(', ')}, got ${JSON.stringify(text)}`);
  return stat;
}

/**
 * Cuts slices [from, to) into consecutive blocks of at most `maxElements` elements (at least one slice
 * each) whose boundaries fall on the grid dimension's chunk boundaries where a block spans several chunks,
 * so no chunk is decoded by two blocks.
 */
export function multiplesBlocks(
  spec: MultiplesSpec,
  chunk: number,
  maxElements: number,
): Array<[number, number]> {
  const per = Math.max(1, Math.floor(maxElements / Math.max(1, spec.plane)));
  // Whole chunks per block when a chunk fits, else as many slices as fit.
  const step = per >= chunk ? Math.floor(per / chunk) * chunk : per;
  const blocks: Array<[number, number]> = [];
  let lo = spec.from;
  while (lo < spec.to) {
    // The first block ends on a chunk boundary, so the following ones start on one.
    const aligned = step % chunk === 0 ? Math.floor(lo / chunk) * chunk + step : lo + step;
    const hi = Math.min(spec.to, aligned);
    blocks.push([lo, hi]);
    lo = hi;
  }
  return blocks;
}

/**
 * Reads slices [from, to) as the wire type (float32, or float64 when `wide`), in (slice, row, col) order
 * whatever the order of the three dimensions in the tensor.
 */
export async function readMultiples(
  t: TensorHandle,
  spec: MultiplesSpec,
  from: number,
  to: number,
  wide: boolean,
): Promise<Float32Array | Float64Array> {
  const selection: Selection = spec.at.map((v, d) =>
    d === spec.grid ? ([from, to] as const) : d === spec.rows || d === spec.cols ? null : v,
  );
  const { data } = await t.read(selection);
  const count = to - from;
  const R = t.shape[spec.rows]!;
  const C = t.shape[spec.cols]!;
  // The result keeps the three dimensions in tensor order: the stride of each of ours in it.
  const kept = [spec.grid, spec.rows, spec.cols].sort((a, b) => a - b);
  const size = (d: number) => (d === spec.grid ? count : t.shape[d]!);
  const strideOf = (d: number) => {
    let s = 1;
    for (let k = kept.indexOf(d) + 1; k < 3; k++) s *= size(kept[k]!);
    return s;
  };
  const sg = strideOf(spec.grid);
  const sr = strideOf(spec.rows);
  const sc = strideOf(spec.cols);
  const inOrder = sr === C && sc === 1;
  if (inOrder && ((wide && data instanceof Float64Array) || (!wide && data instanceof Float32Array)))
    return data;
  const out = wide ? new Float64Array(count * R * C) : new Float32Array(count * R * C);
  for (let g = 0; g < count; g++)
    for (let r = 0; r < R; r++) {
      const o = (g * R + r) * C;
      const s = g * sg + r * sr;
      for (let c = 0; c < C; c++) out[o + c] = Number(data[s + c * sc]!);
    }
  return out;
}

/** Each slice's finite range, as [min, max] pairs (NaN when it has no finite value), into `out` at `at`. */
export function rangesInto(
  data: Float32Array | Float64Array,
  plane: number,
  out: Float64Array,
  at: number,
): void {
  const count = plane === 0 ? 0 : data.length / plane;
  for (let g = 0; g < count; g++) {
    const [min, max] = sliceRange(data, g * plane, plane);
    out[(at + g) * 2] = min;
    out[(at + g) * 2 + 1] = max;
  }
}

/** Colour codes of `codes` bodies: 0 is a value that is not finite, 1–255 the colour scale from min to max. */
export const CODE_LEVELS = 255;

/**
 * Writes the colour code of each value of `data` into `out` from `at`: 0 for NaN and ±∞, else 1 + the
 * value's place on [min, max] in 254 steps (rounded, clamped at both ends; 1 when min = max).
 */
export function codesInto(
  data: Float32Array | Float64Array,
  min: number,
  max: number,
  out: Uint8Array,
  at: number,
): void {
  const scale = max > min ? (CODE_LEVELS - 1) / (max - min) : 0;
  const top = CODE_LEVELS - 0.5;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    const t = (v - min) * scale;
    // In range first (the common case, one test); NaN fails every comparison, ±∞ lands outside.
    if (t >= 0 && t < top - 1) out[at + i] = (t + 1.5) | 0;
    else if (v - v !== 0) out[at + i] = 0;
    else out[at + i] = t < 0 ? 1 : CODE_LEVELS;
  }
}

/** `px=N` of a codes request: the side (device pixels) slices are pooled to; 0 (full size) when absent. */
export function parsePx(text: string | null): number {
  return int(text, 'px', 1, 65_536, 0);
}

/** `range=min,max` of a codes request (finite, min ≤ max), or undefined when absent. */
export function parseRange(text: string | null): [number, number] | undefined {
  if (text === null || text === '') return undefined;
  const parts = text.split(',').map((p) => Number(p));
  const [min, max] = parts;
  if (parts.length !== 2 || !Number.isFinite(min) || !Number.isFinite(max) || min! > max!)
    throw bad(`range must be "min,max" with finite min ≤ max, got ${JSON.stringify(text)}`);
  return [min!, max!];
}

/** What the stats request answers: every slice's statistic and the finite range over all of them. */
export type MultiplesStats = MultiplesStatsResponse;

/** Elements per block a stats pass reads (16 MB as float32), so its memory stays flat. */
const STATS_BLOCK_ELEMENTS = 4 * 1024 * 1024;

/** Statistics of a tensor's grids, computed once per handle (a changed array gets a new handle). */
const statsCache = new WeakMap<TensorHandle, Map<string, Promise<MultiplesStats>>>();

/**
 * The statistic `stat` of every slice along the grid (all of [0, n), whatever `from`/`to` say), with the
 * finite range over all of them: one pass over the chunks in chunk-aligned blocks. Cached per tensor handle.
 */
export function multiplesStats(
  t: TensorHandle,
  spec: MultiplesSpec,
  stat: SliceStat,
): Promise<MultiplesStats> {
  let perHandle = statsCache.get(t);
  if (!perHandle) {
    perHandle = new Map();
    statsCache.set(t, perHandle);
  }
  const key = `${spec.grid}/${spec.rows}/${spec.cols}/${spec.at.join(',')}/${stat}`;
  let hit = perHandle.get(key);
  if (!hit) {
    hit = computeStats(t, { ...spec, from: 0, to: spec.n }, stat);
    const map = perHandle;
    hit.catch(() => map.delete(key));
    if (map.size >= 32) map.delete(map.keys().next().value!);
    map.set(key, hit);
  }
  return hit;
}

async function computeStats(t: TensorHandle, spec: MultiplesSpec, stat: SliceStat): Promise<MultiplesStats> {
  const R = t.shape[spec.rows]!;
  const C = t.shape[spec.cols]!;
  const values: Array<number | null> = [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const [lo, hi] of multiplesBlocks(spec, t.chunks[spec.grid]!, STATS_BLOCK_ELEMENTS)) {
    const data = await readMultiples(t, spec, lo, hi, false);
    for (let g = 0; g < hi - lo; g++) {
      const slice = data.subarray(g * spec.plane, (g + 1) * spec.plane);
      const [a, b] = sliceRange(slice, 0, spec.plane);
      if (a < min) min = a;
      if (b > max) max = b;
      if (stat !== 'index') {
        const v = sliceStat(slice, R, C, stat);
        values.push(Number.isFinite(v) ? v : null);
      }
    }
  }
  return { stat, values, min: min <= max ? min : null, max: min <= max ? max : null };
}
