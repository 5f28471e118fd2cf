/**
 * Metric summaries: per numeric column of a metrics file, count (non-null values), min, max, mean, first and
 * last (non-null values in file order), and the `step` at the min and at the max when the file has a numeric
 * `step` column. NaN follows DuckDB's ordering (greater than every number), so min skips NaN and max is NaN
 * when any value is.
 *
 * Sealing a run stores these in its manifest under `artifacts.metrics.summary`, so indexing a sealed run never
 * opens its Parquet data; the indexer computes them only for runs without one (legacy, unsealed).
 *
 * @example
 * const summary = await summarizeMetricsFile('/vault/specimens/x/runs/20250102_101010/metrics.parquet')
 * // [{ column: 'loss', count: 1000, min: 0.08, max: 2.3, mean: 0.4, first: 2.3, last: 0.08, step_of_min: 998, step_of_max: 0 }, …]
 */
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openMemory, quoteIdent, quoteLiteral } from '../../duckdb/node-api.js';

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

/** Columns that are never metrics: the step index and the run ID. */
export const NON_METRIC_COLUMNS: ReadonlySet<string> = new Set(['step', 'run_id']);

/** Summary of one numeric metrics column. */
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

/** Summarizes every numeric column of one Parquet metrics file (see the module comment). */
export async function summarizeMetricsFile(file: string): Promise<MetricColumnSummary[]> {
  const db = await openMemory({ threads: '1' });
  try {
    return (await inspectMetricsFile(db.connection, path.resolve(file), true)).summary;
  } finally {
    db.close();
  }
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  const n = Number(v);
  return Number.isNaN(n) && String(v) !== 'NaN' ? null : n;
}

/**
 * Reads the schema (footer) of `file` and, with `summarize`, its numeric columns' summaries, on an open
 * connection. `file` should be absolute.
 */
export async function inspectMetricsFile(
  con: DuckDBConnection,
  file: string,
  summarize: boolean,
): Promise<MetricsFileFacts> {
  const source = `read_parquet(${quoteLiteral(file)}, file_row_number = true)`;
  const described = await con.runAndReadAll(`DESCRIBE SELECT * EXCLUDE (file_row_number) FROM ${source}`);
  const columns: string[] = [];
  const columnTypes: string[] = [];
  for (const row of described.getRowsJS()) {
    columns.push(String(row[0]));
    columnTypes.push(String(row[1]));
  }
  const metrics = columns.filter((c, i) => !NON_METRIC_COLUMNS.has(c) && isNumericType(columnTypes[i]!));
  const stepAt = columns.indexOf('step');
  const hasStep = stepAt >= 0 && isNumericType(columnTypes[stepAt]!);
  const selects = ['count(*)'];
  if (summarize) {
    for (const m of metrics) {
      const c = quoteIdent(m);
      const v = `CAST(${c} AS DOUBLE)`;
      selects.push(
        `count(${c})`,
        `min(${v})`,
        `max(${v})`,
        `avg(${v})`,
        `arg_min(${v}, file_row_number) FILTER (WHERE ${c} IS NOT NULL)`,
        `arg_max(${v}, file_row_number) FILTER (WHERE ${c} IS NOT NULL)`,
        hasStep ? `CAST(arg_min(step, ${v}) AS BIGINT)` : 'NULL',
        hasStep ? `CAST(arg_max(step, ${v}) AS BIGINT)` : 'NULL',
      );
    }
  }
  const reader = await con.runAndReadAll(`SELECT ${selects.join(', ')} FROM ${source}`);
  const values = reader.getRowsJS()[0] ?? [];
  const rows = Number(values[0] ?? 0);
  const summary: MetricColumnSummary[] = [];
  if (summarize) {
    metrics.forEach((column, i) => {
      const at = 1 + i * 8;
      summary.push({
        column,
        count: Number(values[at] ?? 0),
        min: num(values[at + 1]),
        max: num(values[at + 2]),
        mean: num(values[at + 3]),
        first: num(values[at + 4]),
        last: num(values[at + 5]),
        step_of_min: num(values[at + 6]),
        step_of_max: num(values[at + 7]),
      });
    });
  }
  return { rows, columns, columnTypes, summary };
}
