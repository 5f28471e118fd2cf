/**
 * The catalog: `vault.duckdb` at the vault root, a DuckDB database derived from the specimens on disk.
 *
 * | object | holds |
 * |---|---|
 * | `catalog` | one row per specimen: specimen_id (primary key), created, domain, method, model, tags, status (planned, active, concluded, archived, deprecated; a planned specimen with runs reads active), path, description, run_count, latest_run, latest_status, hypothesis, expected_results, conclusion, manifest (JSON) |
 * | `runs` | one row per run (legacy `strata/` is run `strata`): started, ended, status (`incomplete` for a dead writer), duration_s, superseded_by, git_commit, command, exit_code, config, summary, path, is_latest, reproduces, reproduce_verdict, seed (the global seed), name, tags, notes, peak_rss_bytes, peak_gpu_memory_bytes (from the run's system metrics) |
 * | `artifacts` | one row per run artifact: kind (metrics, tensor, file), path, bytes, sha256, rows, columns, column_types, shape, dtype, chunks |
 * | `metric_summaries` | one row per run and numeric metrics column: count, min, max, mean, first, last, step_of_min, step_of_max |
 * | `turns` | one row per sealed run and metric named in the vault config's `turns.metrics`: step, onset_step, end_step, direction, score, method (step NULL: no turn) |
 * | `exp_<specimen_id>` | view over the metrics of all runs of a specimen, with a run_id column |
 * | `metrics` | view over every run's metrics in long format: specimen_id, run_id, step, metric, value |
 * | `catalog_info`, `metric_branches` | schema version and when indexed; the `metrics` view's file lists |
 *
 * The five tables are views: the rows as last written into the file (schema `sv_base`) with those of the
 * specimens changed since replaced by the rows in `vault.duckdb.d/` (see build/delta.ts), so that adding
 * runs does not rewrite the file, which DuckDB would have to load and save with all ten thousand views.
 *
 * Paths are relative to the vault root. Sessions opened by this library resolve them by themselves; other
 * clients run from the vault root or `SET file_search_path = '<vault root>'` first.
 *
 * **Querying one metric across the vault.** `metrics` is a long-format view (`WHERE metric = 'loss'`)
 * rather than a table macro or one view per metric: it is one name to remember, composes with any SQL,
 * and stays as fast as reading the Parquet files directly. It is a UNION ALL with one branch per metric
 * column (and per column type / file layout); each branch lists exactly the files that have that column
 * (one comma-joined string, which DuckDB binds far faster than a list literal of tens of thousands of
 * paths), so DuckDB needs neither `union_by_name` (which reads every file footer on each query) nor a
 * glob, and a filter on `metric` prunes every other branch before a file is opened. The values are
 * DOUBLE; steps are BIGINT (NULL for files without a `step` column). The data itself is never copied into
 * the catalog, which would make indexing as slow as reading every file.
 *
 * @example
 * const report = await indexVault('/vault')
 * const q = await VaultQuery.open('/vault')
 * const best = await q.rows("SELECT specimen_id, run_id, min(value) AS best FROM metrics WHERE metric = 'loss' GROUP BY ALL")
 * const demo = await q.search('SELECT step, loss, accuracy FROM exp_example_2024_12_19_synthetic_demo WHERE step >= 50')
 * q.close()
 */

export { type MetricColumnSummary, summarizeMetricsFile } from '../storage/metrics/summary.js';
export { type IndexOptions, type IndexReport, indexVault } from './build/index-vault.js';
export { catalogPath } from './connection.js';
export * from './errors.js';
export {
  type ExplorerColumn,
  type ExplorerFilter,
  type ExplorerOptions,
  ExplorerParamError,
  type ExplorerTable,
  explorerTable,
} from './explorer.js';
export {
  type GroupLine,
  GroupParamError,
  type GroupSeriesOptions,
  type GroupSeriesResult,
  groupSeries,
  RUN_KEY,
} from './groups.js';
export {
  closeUserQuerySessions,
  type QueryParams,
  type RowsResult,
  runUserQuery,
  type UserQueryOptions,
  VaultQuery,
  type VaultQueryOptions,
} from './query.js';
export type { JsonValue, ResultColumn } from './results.js';
export { CATALOG_SCHEMA_VERSION } from './schema.js';
export { findTurns, type RunTurns } from './turns.js';
