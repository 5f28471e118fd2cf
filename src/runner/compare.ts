/**
 * Comparing two runs for `specimen reproduce`: metrics column by column and row by row, tensors element by
 * element. Two values match when they are identical (NaN matches NaN) or, failing that, when
 * |a − b| ≤ atol + rtol·|b| (numpy's `isclose` rule). The verdict is `identical`, `within_tolerance` or
 * `differs`, with the first difference located by column and step.
 *
 * @example
 * const v = await compareRuns(originalDir, newDir, { rtol: 1e-6, atol: 0, ignore: ['wall_time'] })
 * v.verdict   // 'identical'
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import { METRICS_FILE, TENSOR_SUFFIX } from '../format/layout.js';
import type { PlainObject } from '../format/msgpack.js';
import { readRunMetrics } from '../storage/metrics/index.js';
import { openTensor } from '../storage/tensors/index.js';

export type Verdict = 'identical' | 'within_tolerance' | 'differs';

export interface CompareOptions {
  rtol?: number;
  atol?: number;
  /** Metric columns (or tensor names) expected to differ, e.g. wall-clock times. */
  ignore?: readonly string[];
}

/** The first difference found, if any. */
export interface Difference {
  kind: 'metrics' | 'tensor';
  /** Column or tensor name. */
  name: string;
  /** The `step` value (metrics with a step column), else the row or flat element index. */
  at: number | string | null;
  reason: string;
  maxAbsDiff: number | null;
}

export interface Comparison {
  verdict: Verdict;
  rtol: number;
  atol: number;
  ignored: string[];
  columnsCompared: number;
  rowsCompared: number;
  tensorsCompared: string[];
  /** Largest absolute difference over every compared numeric value. */
  maxAbsDiff: number;
  firstDifference: Difference | null;
}

function isNumeric(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Element-wise comparison of two arrays; updates the running state and returns the first mismatch. */
function compareValues(
  a: ArrayLike<unknown>,
  b: ArrayLike<unknown>,
  rtol: number,
  atol: number,
  state: { max: number; exact: boolean },
): { index: number; reason: string; diff: number | null } | null {
  let first: { index: number; reason: string; diff: number | null } | null = null;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Object.is(x, y) || x === y) continue;
    if (isNumeric(x) && isNumeric(y)) {
      const fx = Number(x);
      const fy = Number(y);
      if (Number.isNaN(fx) && Number.isNaN(fy)) continue;
      const d = Math.abs(fx - fy);
      if (fx === fy) continue; // 0 and -0, or equal bigint/number
      state.exact = false;
      if (!Number.isNaN(d)) state.max = Math.max(state.max, d);
      if (!(d <= atol + rtol * Math.abs(fy)) && !first)
        first = { index: i, reason: `${fx} vs ${fy}`, diff: Number.isNaN(d) ? null : d };
      continue;
    }
    state.exact = false;
    if (!first)
      first = {
        index: i,
        reason: `${JSON.stringify(String(x))} vs ${JSON.stringify(String(y))}`,
        diff: null,
      };
  }
  return first;
}

function columnNames(t: Table | undefined): string[] {
  return t ? t.schema.fields.map((f) => f.name).filter((n) => n !== 'run_id') : [];
}

async function tensorNames(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return [];
  return (await fsp.readdir(dir))
    .filter((n) => n.endsWith(TENSOR_SUFFIX))
    .map((n) => n.slice(0, -5))
    .sort();
}

/** Compares the outputs of two run directories. */
export async function compareRuns(
  originalDir: string,
  candidateDir: string,
  options: CompareOptions = {},
): Promise<Comparison> {
  const rtol = options.rtol ?? 0;
  const atol = options.atol ?? 0;
  const ignore = new Set(options.ignore ?? []);
  const state = { max: 0, exact: true };
  const result: Comparison = {
    verdict: 'identical',
    rtol,
    atol,
    ignored: [...ignore],
    columnsCompared: 0,
    rowsCompared: 0,
    tensorsCompared: [],
    maxAbsDiff: 0,
    firstDifference: null,
  };
  const differ = (d: Difference): void => {
    result.firstDifference ??= d;
  };

  const [ta, tb] = await Promise.all([readRunMetrics(originalDir, 'a'), readRunMetrics(candidateDir, 'b')]);
  const colsA = columnNames(ta).filter((c) => !ignore.has(c));
  const colsB = new Set(columnNames(tb).filter((c) => !ignore.has(c)));
  if (!ta !== !tb)
    differ({
      kind: 'metrics',
      name: METRICS_FILE,
      at: null,
      reason: ta ? 'missing in the new run' : 'only in the new run',
      maxAbsDiff: null,
    });
  for (const c of colsA)
    if (!colsB.has(c))
      differ({
        kind: 'metrics',
        name: c,
        at: null,
        reason: 'column missing in the new run',
        maxAbsDiff: null,
      });
  for (const c of colsB)
    if (!colsA.includes(c))
      differ({ kind: 'metrics', name: c, at: null, reason: 'column only in the new run', maxAbsDiff: null });
  if (ta && tb) {
    if (ta.numRows !== tb.numRows)
      differ({
        kind: 'metrics',
        name: '(rows)',
        at: null,
        reason: `${ta.numRows} rows vs ${tb.numRows}`,
        maxAbsDiff: null,
      });
    const steps = ta.getChild('step');
    const n = Math.min(ta.numRows, tb.numRows);
    for (const c of colsA) {
      if (!colsB.has(c)) continue;
      const a = ta.getChild(c)!.toArray() as ArrayLike<unknown>;
      const b = tb.getChild(c)!.toArray() as ArrayLike<unknown>;
      const before = state.max;
      state.max = 0;
      const m = compareValues(sliceLike(a, n), sliceLike(b, n), rtol, atol, state);
      const colMax = state.max;
      state.max = Math.max(before, colMax);
      result.columnsCompared++;
      if (m) {
        const at = steps ? Number(steps.get(m.index)) : m.index;
        differ({ kind: 'metrics', name: c, at, reason: m.reason, maxAbsDiff: colMax });
      }
    }
    result.rowsCompared = n;
  }

  const tA = (await tensorNames(originalDir)).filter((t) => !ignore.has(t));
  const tB = new Set((await tensorNames(candidateDir)).filter((t) => !ignore.has(t)));
  for (const name of tA) {
    if (!tB.has(name)) {
      differ({ kind: 'tensor', name, at: null, reason: 'missing in the new run', maxAbsDiff: null });
      continue;
    }
    const [ha, hb] = await Promise.all([
      openTensor(path.join(originalDir, `${name}${TENSOR_SUFFIX}`)),
      openTensor(path.join(candidateDir, `${name}${TENSOR_SUFFIX}`)),
    ]);
    result.tensorsCompared.push(name);
    if (ha.dtype !== hb.dtype || ha.shape.join() !== hb.shape.join()) {
      differ({
        kind: 'tensor',
        name,
        at: null,
        reason: `${ha.dtype}(${ha.shape.join(',')}) vs ${hb.dtype}(${hb.shape.join(',')})`,
        maxAbsDiff: null,
      });
      continue;
    }
    const [da, db] = await Promise.all([ha.readAll(), hb.readAll()]);
    const before = state.max;
    state.max = 0;
    const m = compareValues(da.data as ArrayLike<unknown>, db.data as ArrayLike<unknown>, rtol, atol, state);
    const tMax = state.max;
    state.max = Math.max(before, tMax);
    if (m) differ({ kind: 'tensor', name, at: m.index, reason: m.reason, maxAbsDiff: tMax });
  }
  for (const name of tB)
    if (!tA.includes(name))
      differ({ kind: 'tensor', name, at: null, reason: 'only in the new run', maxAbsDiff: null });

  result.maxAbsDiff = state.max;
  result.verdict = result.firstDifference ? 'differs' : state.exact ? 'identical' : 'within_tolerance';
  return result;
}

function sliceLike(a: ArrayLike<unknown>, n: number): ArrayLike<unknown> {
  return a.length === n ? a : Array.prototype.slice.call(a, 0, n);
}

/** The comparison as a manifest field. */
export function comparisonRecord(c: Comparison): PlainObject {
  return {
    verdict: c.verdict,
    rtol: c.rtol,
    atol: c.atol,
    ignored: c.ignored,
    columns_compared: c.columnsCompared,
    rows_compared: c.rowsCompared,
    tensors_compared: c.tensorsCompared,
    max_abs_diff: c.maxAbsDiff,
    first_difference: c.firstDifference
      ? {
          kind: c.firstDifference.kind,
          name: c.firstDifference.name,
          at: c.firstDifference.at,
          reason: c.firstDifference.reason,
          max_abs_diff: c.firstDifference.maxAbsDiff,
        }
      : null,
  };
}
