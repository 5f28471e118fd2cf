/**
 * Metric summaries, computed in one place: per numeric column of a metrics table, count, min, max, mean,
 * first, last, and the `step` at the min and at the max. Sealing stores them in the run manifest
 * (`artifacts.metrics.summary`, so indexing a sealed run never opens its Parquet data), the indexer computes
 * them for runs without one (legacy, unsealed), `specimen show` prints them and the compare route computes
 * them live for runs the catalog does not hold yet.
 *
 * The rule for nulls, NaN and ±Infinity is DuckDB's (the catalog's SQL and the summaries must agree, and a
 * test compares this module with DuckDB's aggregates over the same file):
 *
 * - nulls are skipped everywhere; `count` is the number of non-null values, NaN and ±Infinity included;
 * - values are ordered as DuckDB orders DOUBLE: -Infinity < numbers < +Infinity < NaN. So `min` is NaN only
 *   when every value is NaN, and `max` is NaN as soon as one value is;
 * - `mean` is the IEEE sum in file order divided by `count`: NaN if a value is NaN or both infinities occur;
 * - `first` and `last` are the first and last non-null values in file order (NaN counts as a value);
 * - `step_of_min` / `step_of_max` are the step of the first row holding the min / max among the rows whose
 *   step is not null (DuckDB's `arg_min(step, v)`), null without a numeric `step` column;
 * - a column with no non-null value has count 0 and every other figure null.
 *
 * Integers are summarized as doubles (as `CAST(v AS DOUBLE)` would), so beyond 2^53 figures are rounded.
 *
 * @example
 * const summary = await summarizeMetricsFile('/vault/specimens/x/runs/20250102_101010/metrics.parquet')
 * // [{ column: 'loss', count: 1000, min: 0.08, max: 2.3, mean: 0.4, first: 2.3, last: 0.08, step_of_min: 998, step_of_max: 0 }, …]
 * summarizeColumn('loss', [2, Number.NaN, null, 1], [0, 1, 2, 3])  // count 3, min 1, max NaN, step_of_max 1
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Table, Vector } from 'apache-arrow';
import { quoteLiteral } from '../../duckdb/node-api.js';
import { readParquetFiles } from '../../duckdb/read-parquet.js';
import type { PlainObject, PlainValue } from '../../format/msgpack.js';

/** DuckDB types counted as numeric metrics. */
export const NUMERIC_TYPES: ReadonlySet<string> = new Set([
  'TINYINT',
  'SMALLINT',
  'INTEGER',
  'BIGINT',
  'HUGEINT',
  'UTINYINT',
  'USMALLINT',
  'UINTEGER',
  'UBIGINT',
  'UHUGEINT',
  'FLOAT',
  'DOUBLE',
]);

/** True for a DuckDB type name that metric summaries and the `metrics` view cover. */
export function isNumericType(type: string): boolean {
  return NUMERIC_TYPES.has(type) || type.startsWith('DECIMAL');
}

/**
 * True for an apache-arrow type id that is a numeric metric: Int (2), Float (3) or Decimal (7) — what the
 * DuckDB types above become when read into Arrow.
 */
export function isNumericArrowType(typeId: number): boolean {
  return typeId === 2 || typeId === 3 || typeId === 7;
}

/** Columns that are never metrics: the step index and the run ID. */
export const NON_METRIC_COLUMNS: ReadonlySet<string> = new Set(['step', 'run_id']);

/** Summary of one numeric metrics column (see the module comment for NaN and ±Infinity). */
export interface MetricColumnSummary {
  column: string;
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  first: number | null;
  last: number | null;
  step_of_min: number | null;
  step_of_max: number | null;
}

/** What the indexer learns from a metrics file's footer and, when asked, its data. */
export interface MetricsFileFacts {
  rows: number;
  columns: string[];
  columnTypes: string[];
  summary: MetricColumnSummary[];
}

/** A column's values in file order: numbers (or bigints) with null for a missing value. */
export type MetricValues = ArrayLike<number | bigint | null>;

/** `a` sorts before `b` in DuckDB's DOUBLE order (NaN above +Infinity). */
function before(a: number, b: number): boolean {
  if (Number.isNaN(a)) return false;
  return Number.isNaN(b) || a < b;
}

/** The value at row i as a double, or null. */
type At = (i: number) => number | null;

/** Summarizes one column (see the module comment); `steps` are the step values of the same rows. */
export function summarizeColumn(
  column: string,
  values: MetricValues,
  steps?: MetricValues,
): MetricColumnSummary {
  return summarize(column, values.length, atOf(values), steps && atOf(steps));
}

function atOf(values: MetricValues): At {
  return (i) => {
    const v = values[i];
    return v === null || v === undefined ? null : Number(v);
  };
}

function summarize(column: string, n: number, value: At, step: At | undefined): MetricColumnSummary {
  let count = 0;
  let sum = 0;
  let min = 0;
  let max = 0;
  let first: number | null = null;
  let last: number | null = null;
  // The min and max among rows with a step, and those steps (arg_min ignores rows whose step is null).
  let stepMin: number | null = null;
  let stepMax: number | null = null;
  let minAtStep = 0;
  let maxAtStep = 0;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (v === null) continue;
    if (count === 0) {
      min = v;
      max = v;
      first = v;
    } else {
      if (before(v, min)) min = v;
      if (before(max, v)) max = v;
    }
    count++;
    sum += v;
    last = v;
    const s = step?.(i);
    if (s === null || s === undefined) continue;
    // As CAST(... AS BIGINT) would: a step is an integer.
    const at = Math.round(s);
    if (stepMin === null || before(v, minAtStep)) {
      minAtStep = v;
      stepMin = at;
    }
    if (stepMax === null || before(maxAtStep, v)) {
      maxAtStep = v;
      stepMax = at;
    }
  }
  return {
    column,
    count,
    min: count > 0 ? min : null,
    max: count > 0 ? max : null,
    mean: count > 0 ? sum / count : null,
    first,
    last,
    step_of_min: stepMin,
    step_of_max: stepMax,
  };
}

/**
 * Row i of an Arrow column, read from its typed values and validity bits directly (a `get` per value
 * costs several times the whole summary on a long run).
 */
function arrowAt(vector: Vector): At {
  const values = vector.toArray() as ArrayLike<number | bigint>;
  if (vector.nullCount === 0) return (i) => Number(values[i]!);
  const valid = new Uint8Array(vector.length);
  let base = 0;
  for (const d of vector.data) {
    const bits = d.nullBitmap;
    if (!bits || d.nullCount === 0) valid.fill(1, base, base + d.length);
    else
      for (let j = 0; j < d.length; j++) {
        const k = d.offset + j;
        valid[base + j] = (bits[k >> 3]! >> (k & 7)) & 1;
      }
    base += d.length;
  }
  return (i) => (valid[i] === 1 ? Number(values[i]!) : null);
}

/** Summaries of every numeric column of an Arrow table (rows in file order), `step` and `run_id` aside. */
export function summarizeTable(table: Table): MetricColumnSummary[] {
  const stepField = table.schema.fields.find((f) => f.name === 'step');
  const stepVector =
    stepField && isNumericArrowType(stepField.type.typeId) ? table.getChild('step') : undefined;
  const step = stepVector ? arrowAt(stepVector) : undefined;
  const out: MetricColumnSummary[] = [];
  for (const f of table.schema.fields) {
    if (NON_METRIC_COLUMNS.has(f.name) || !isNumericArrowType(f.type.typeId)) continue;
    const vector = table.getChild(f.name);
    if (vector) out.push(summarize(f.name, vector.length, arrowAt(vector), step));
  }
  return out;
}

/** The form a summary is stored in, in a sealed run's manifest (`artifacts.metrics.summary`). */
export function summaryRecord(s: MetricColumnSummary): PlainObject {
  return { ...s };
}

/**
 * A summary stored in a run manifest, read back; undefined when it is not a list of records with a
 * `column` name (an older or foreign writer), so the caller computes it from the file instead.
 */
export function readStoredSummary(value: PlainValue | undefined): MetricColumnSummary[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: MetricColumnSummary[] = [];
  const n = (v: PlainValue | undefined) =>
    typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' ? Number(v) : null;
  for (const s of value) {
    if (s === null || typeof s !== 'object' || Array.isArray(s) || s instanceof Uint8Array) return undefined;
    const o = s as PlainObject;
    if (typeof o.column !== 'string') return undefined;
    out.push({
      column: o.column,
      count: n(o.count) ?? 0,
      min: n(o.min),
      max: n(o.max),
      mean: n(o.mean),
      first: n(o.first),
      last: n(o.last),
      step_of_min: n(o.step_of_min),
      step_of_max: n(o.step_of_max),
    });
  }
  return out;
}

/** Summarizes every numeric column of one Parquet metrics file (see the module comment). */
export async function summarizeMetricsFile(file: string): Promise<MetricColumnSummary[]> {
  return summarizeTable(await readParquetFiles([path.resolve(file)]));
}

/**
 * Reads the schema (footer) and row count of `file` on an open connection and, with `summarize`, its
 * numeric columns' summaries. `file` should be absolute.
 */
export async function inspectMetricsFile(
  con: DuckDBConnection,
  file: string,
  summarize: boolean,
): Promise<MetricsFileFacts> {
  const source = `read_parquet(${quoteLiteral(file)})`;
  const described = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
  const columns: string[] = [];
  const columnTypes: string[] = [];
  for (const row of described.getRowsJS()) {
    columns.push(String(row[0]));
    columnTypes.push(String(row[1]));
  }
  const counted = await con.runAndReadAll(`SELECT count(*) FROM ${source}`);
  const rows = Number(counted.getRowsJS()[0]?.[0] ?? 0);
  return { rows, columns, columnTypes, summary: summarize ? await summarizeMetricsFile(file) : [] };
}

/**
 * Summaries of the numeric columns of a table held as writable columns (what a writer has in memory), in
 * column order, `step` and `run_id` aside: the same figures `summarizeMetricsFile` gives for the file
 * written from them.
 */
export function summarizeColumnData(
  columns: readonly {
    name: string;
    type: string;
    values: ArrayLike<unknown>;
    nulls?: Uint8Array | undefined;
  }[],
  rows: number,
): MetricColumnSummary[] {
  const atOfColumn = (c: (typeof columns)[number]): At => {
    const values = c.values as ArrayLike<number | bigint>;
    const nulls = c.nulls;
    return nulls ? (i) => (nulls[i] ? null : Number(values[i]!)) : (i) => Number(values[i]!);
  };
  const numeric = (c: (typeof columns)[number]) => c.type === 'BIGINT' || c.type === 'DOUBLE';
  const stepColumn = columns.find((c) => c.name === 'step' && numeric(c));
  const step = stepColumn ? atOfColumn(stepColumn) : undefined;
  const out: MetricColumnSummary[] = [];
  for (const c of columns) {
    if (NON_METRIC_COLUMNS.has(c.name) || !numeric(c)) continue;
    out.push(summarize(c.name, rows, atOfColumn(c), step));
  }
  return out;
}
