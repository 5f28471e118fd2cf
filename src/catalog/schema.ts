/**
 * The catalog's tables, macros and views (see index.ts for what each holds), and the SQL that builds the
 * per-specimen `exp_<id>` views and the cross-run `metrics` view.
 *
 * Paths are stored relative to the vault root. The views pass them, joined by commas, to two macros,
 * `sv_paths` (prefixes the `sv_root` variable when a session set it, otherwise leaves them relative for
 * `file_search_path`) and `sv_exp`, so each view's stored definition is one short macro call: DuckDB
 * loads and saves every view definition on each open and checkpoint, and ten thousand long ones would
 * make every open slow.
 *
 * @example
 * await con.run(SCHEMA_SQL)
 * await con.run(expViewSql('2025_01_02_x', ['specimens/2025_01_02_x/runs/20250102_101010/metrics.parquet'], true))
 */

import { createHash } from 'node:crypto';
import { quoteIdent, quoteLiteral } from '../duckdb/node-api.js';
import { CATALOG_DIR, LEGACY_RUN_ID, RUNS_DIR, SPECIMENS_DIR } from '../format/layout.js';
import { ROOT_VARIABLE } from './connection.js';

/** Version of the catalog layout; a catalog with another version is rebuilt rather than updated. */
export const CATALOG_SCHEMA_VERSION = 8;

/** Column name and DuckDB type, in table order: how rows of a table are loaded (see build/loader.ts). */
export type ColumnSpec = readonly (readonly [string, string])[];

export const CATALOG_COLUMNS: ColumnSpec = [
  ['specimen_id', 'VARCHAR'],
  ['created', 'TIMESTAMP'],
  ['domain', 'VARCHAR'],
  ['method', 'VARCHAR'],
  ['model', 'VARCHAR'],
  ['tags', 'VARCHAR[]'],
  ['status', 'VARCHAR'],
  ['path', 'VARCHAR'],
  ['description', 'VARCHAR'],
  ['run_count', 'INTEGER'],
  ['latest_run', 'VARCHAR'],
  ['latest_status', 'VARCHAR'],
  ['hypothesis', 'VARCHAR'],
  ['expected_results', 'VARCHAR'],
  ['conclusion', 'VARCHAR'],
  ['manifest', 'JSON'],
];

export const RUN_COLUMNS: ColumnSpec = [
  ['specimen_id', 'VARCHAR'],
  ['run_id', 'VARCHAR'],
  ['started', 'TIMESTAMP'],
  ['ended', 'TIMESTAMP'],
  ['status', 'VARCHAR'],
  ['duration_s', 'DOUBLE'],
  ['superseded_by', 'VARCHAR'],
  ['git_commit', 'VARCHAR'],
  ['command', 'VARCHAR'],
  ['exit_code', 'BIGINT'],
  ['config', 'JSON'],
  ['summary', 'JSON'],
  ['path', 'VARCHAR'],
  ['is_latest', 'BOOLEAN'],
  ['reproduces', 'VARCHAR'],
  ['reproduce_verdict', 'VARCHAR'],
  ['seed', 'BIGINT'],
  ['name', 'VARCHAR'],
  ['tags', 'VARCHAR[]'],
  ['notes', 'VARCHAR'],
  ['peak_rss_bytes', 'BIGINT'],
  ['peak_gpu_memory_bytes', 'BIGINT'],
];

export const ARTIFACT_COLUMNS: ColumnSpec = [
  ['specimen_id', 'VARCHAR'],
  ['run_id', 'VARCHAR'],
  ['name', 'VARCHAR'],
  ['kind', 'VARCHAR'],
  ['path', 'VARCHAR'],
  ['bytes', 'BIGINT'],
  ['sha256', 'VARCHAR'],
  ['rows', 'BIGINT'],
  ['columns', 'VARCHAR[]'],
  ['column_types', 'VARCHAR[]'],
  ['shape', 'BIGINT[]'],
  ['dtype', 'VARCHAR'],
  ['chunks', 'BIGINT[]'],
];

export const SUMMARY_COLUMNS: ColumnSpec = [
  ['specimen_id', 'VARCHAR'],
  ['run_id', 'VARCHAR'],
  ['metric', 'VARCHAR'],
  ['count', 'BIGINT'],
  ['min', 'DOUBLE'],
  ['max', 'DOUBLE'],
  ['mean', 'DOUBLE'],
  ['first', 'DOUBLE'],
  ['last', 'DOUBLE'],
  ['step_of_min', 'BIGINT'],
  ['step_of_max', 'BIGINT'],
];

/**
 * One row per sealed run and turn metric named in the vault config (see src/catalog/turns.ts): where the
 * metric turns, or NULL step/score when it does not (computed, no turn found).
 */
export const TURN_COLUMNS: ColumnSpec = [
  ['specimen_id', 'VARCHAR'],
  ['run_id', 'VARCHAR'],
  ['metric', 'VARCHAR'],
  ['step', 'BIGINT'],
  ['onset_step', 'BIGINT'],
  ['end_step', 'BIGINT'],
  ['direction', 'VARCHAR'],
  ['score', 'DOUBLE'],
  ['method', 'VARCHAR'],
];

/** Column written by `filename=` in read_parquet; no metrics column is expected to have this name. */
export const PATH_COLUMN = '__sv_path';

import { isNumericType, NON_METRIC_COLUMNS } from '../storage/metrics/summary.js';

export { isNumericType, NON_METRIC_COLUMNS, NUMERIC_TYPES } from '../storage/metrics/summary.js';

/** Tables, in creation order. Kept as plain DDL so a reader of the catalog sees the same definitions. */
export const TABLES_SQL = `
CREATE SCHEMA sv_base;
CREATE TABLE sv_base.catalog (
  specimen_id VARCHAR PRIMARY KEY,
  created TIMESTAMP,
  domain VARCHAR,
  method VARCHAR,
  model VARCHAR,
  tags VARCHAR[],
  status VARCHAR,
  path VARCHAR,
  description VARCHAR,
  run_count INTEGER,
  latest_run VARCHAR,
  latest_status VARCHAR,
  hypothesis VARCHAR,
  expected_results VARCHAR,
  conclusion VARCHAR,
  manifest JSON
);
CREATE TABLE sv_base.runs (
  specimen_id VARCHAR,
  run_id VARCHAR,
  started TIMESTAMP,
  ended TIMESTAMP,
  status VARCHAR,
  duration_s DOUBLE,
  superseded_by VARCHAR,
  git_commit VARCHAR,
  command VARCHAR,
  exit_code BIGINT,
  config JSON,
  summary JSON,
  path VARCHAR,
  is_latest BOOLEAN,
  reproduces VARCHAR,
  reproduce_verdict VARCHAR,
  seed BIGINT,
  name VARCHAR,
  tags VARCHAR[],
  notes VARCHAR,
  peak_rss_bytes BIGINT,
  peak_gpu_memory_bytes BIGINT
);
CREATE TABLE sv_base.artifacts (
  specimen_id VARCHAR,
  run_id VARCHAR,
  name VARCHAR,
  kind VARCHAR,
  path VARCHAR,
  bytes BIGINT,
  sha256 VARCHAR,
  "rows" BIGINT,
  "columns" VARCHAR[],
  column_types VARCHAR[],
  shape BIGINT[],
  dtype VARCHAR,
  chunks BIGINT[]
);
CREATE TABLE sv_base.metric_summaries (
  specimen_id VARCHAR,
  run_id VARCHAR,
  metric VARCHAR,
  "count" BIGINT,
  "min" DOUBLE,
  "max" DOUBLE,
  "mean" DOUBLE,
  "first" DOUBLE,
  "last" DOUBLE,
  step_of_min BIGINT,
  step_of_max BIGINT
);
CREATE TABLE sv_base.turns (
  specimen_id VARCHAR,
  run_id VARCHAR,
  metric VARCHAR,
  step BIGINT,
  onset_step BIGINT,
  end_step BIGINT,
  direction VARCHAR,
  score DOUBLE,
  method VARCHAR
);
CREATE TABLE metric_branches (
  position INTEGER,
  chunk INTEGER,
  chunks INTEGER,
  metric VARCHAR,
  type VARCHAR,
  layout VARCHAR,
  step_type VARCHAR,
  has_run_id BOOLEAN,
  files INTEGER,
  paths VARCHAR
);
CREATE TABLE catalog_info (
  "key" VARCHAR PRIMARY KEY,
  "value" VARCHAR
);
`;

/** Expression turning a comma-joined list of vault-relative paths into the paths read_parquet is given. */
function pathsExpr(joined: string): string {
  const prefix = `coalesce(getvariable(${quoteLiteral(ROOT_VARIABLE)}), '')`;
  return `string_split(${prefix} || replace(${joined}, ',', ',' || ${prefix}), ',')`;
}

/**
 * The macros behind the views. `sv_exp` reads a specimen's metrics files by column name and fills `run_id`
 * from the run directory's name where a file lacks it (legacy files); `sv_exp_legacy` is the same for a
 * specimen none of whose files has a run_id column (`* REPLACE` needs the column to exist).
 */
export const MACROS_SQL = `
CREATE OR REPLACE MACRO sv_paths(files) AS ${pathsExpr('files')};
CREATE OR REPLACE MACRO sv_exp(files) AS TABLE
  SELECT * EXCLUDE (${PATH_COLUMN})
    REPLACE (coalesce(run_id, string_split(${PATH_COLUMN}, '/')[-2]) AS run_id)
  FROM read_parquet(sv_paths(files), union_by_name = true, filename = '${PATH_COLUMN}');
CREATE OR REPLACE MACRO sv_exp_legacy(files) AS TABLE
  SELECT * EXCLUDE (${PATH_COLUMN}), string_split(${PATH_COLUMN}, '/')[-2] AS run_id
  FROM read_parquet(sv_paths(files), union_by_name = true, filename = '${PATH_COLUMN}');
`;

/**
 * Stand-ins installed while exp_ views are created. DuckDB binds a view when it is created, which for these
 * views means opening every Parquet file of the specimen, about a millisecond per view, longer than
 * everything else indexing does for a specimen. The views are therefore created against macros that touch
 * no file, and MACROS_SQL is installed again afterwards: DuckDB binds a view anew on every query, so
 * queries read the files through the real macros. Until a session first queries a view, DuckDB's column
 * metadata for it (`duckdb_columns()`, `information_schema.columns`) shows only `run_id`; `DESCRIBE` and
 * queries always see the real columns.
 */
export const STUB_MACROS_SQL = `
CREATE OR REPLACE MACRO sv_exp(files) AS TABLE SELECT NULL::VARCHAR AS run_id WHERE false;
CREATE OR REPLACE MACRO sv_exp_legacy(files) AS TABLE SELECT NULL::VARCHAR AS run_id WHERE false;
`;

/** Name of the view over one specimen's metrics. */
export function expViewName(specimenId: string): string {
  return `exp_${specimenId}`;
}

/** Which metrics files a specimen's `exp_` view reads; its definition changes only when these do. */
export interface ExpSources {
  /** The legacy `strata/metrics.parquet`. */
  strata: boolean;
  /** Some run under `runs/` has a metrics file: the view reads every run's `metrics.parquet`. */
  runs: boolean;
  /** At least one file has a run_id column. */
  anyRunId: boolean;
}

/** What a specimen's view reads, from the runs recorded for it (`metrics`: 0 none, 1 without run_id, 2 with). */
export function expSources(runs: Readonly<Record<string, { metrics: 0 | 1 | 2 }>>): ExpSources {
  const out: ExpSources = { strata: false, runs: false, anyRunId: false };
  for (const [runId, r] of Object.entries(runs)) {
    if (r.metrics === 0) continue;
    if (runId === LEGACY_RUN_ID) out.strata = true;
    else out.runs = true;
    if (r.metrics === 2) out.anyRunId = true;
  }
  return out;
}

/** A string that differs when two specimens' views would differ (besides the name). */
export function expSourcesKey(src: ExpSources): string {
  return `${src.strata ? 's' : ''}${src.runs ? 'r' : ''}${src.anyRunId ? 'i' : ''}`;
}

/**
 * `CREATE OR REPLACE VIEW exp_<id>` over the specimen's metrics files. Runs are read through the pattern
 * `specimens/<id>/runs/<any run>/metrics.parquet` rather than a list, so a run added later is in the view without
 * the view (or the catalog file) being rewritten. A specimen without metrics gets an empty view with just
 * `run_id`, so the name always exists for an indexed specimen.
 */
export function expViewSql(specimenId: string, src: ExpSources): string {
  const name = quoteIdent(expViewName(specimenId));
  const files: string[] = [];
  if (src.strata) files.push(`${SPECIMENS_DIR}/${specimenId}/${LEGACY_RUN_ID}/metrics.parquet`);
  if (src.runs) files.push(`${SPECIMENS_DIR}/${specimenId}/${RUNS_DIR}/*/metrics.parquet`);
  if (files.length === 0)
    return `CREATE OR REPLACE VIEW ${name} AS SELECT NULL::VARCHAR AS run_id WHERE false;`;
  // IDs are validated ([A-Za-z0-9_.-]); a comma would split one path into two.
  if (specimenId.includes(','))
    throw new Error(`catalog: specimen ID ${JSON.stringify(specimenId)} contains a comma`);
  const macro = src.anyRunId ? 'sv_exp' : 'sv_exp_legacy';
  return `CREATE OR REPLACE VIEW ${name} AS FROM ${macro}(${quoteLiteral(files.join(','))});`;
}

/** One part of the `metrics` view: metrics files that share a column's type, layout and step/run_id columns. */
export interface MetricBranch {
  metric: string;
  /** DuckDB type of the metric column in these files. */
  type: string;
  /** `runs` (specimens/<id>/runs/<run>/…) or `strata` (legacy specimens/<id>/strata/…). */
  layout: 'runs' | 'strata';
  /** Type of the `step` column, or null when these files have none. */
  stepType: string | null;
  hasRunId: boolean;
  /** Vault-relative files. */
  paths: string[];
}

/** Identity of a branch: the view changes shape only when the set of keys does. */
export function branchKey(b: Omit<MetricBranch, 'paths'>): string {
  return JSON.stringify([b.metric, b.type, b.layout, b.stepType, b.hasRunId]);
}

/** The branches a metrics file with these columns belongs to (one per numeric metric column). */
export function branchesOfFile(
  path: string,
  columns: readonly string[],
  types: readonly string[],
): Omit<MetricBranch, 'paths'>[] {
  const layout = path.includes('/runs/') ? 'runs' : 'strata';
  const stepAt = columns.indexOf('step');
  const stepType = stepAt >= 0 ? (types[stepAt] ?? null) : null;
  const hasRunId = columns.includes('run_id');
  const out: Omit<MetricBranch, 'paths'>[] = [];
  for (let i = 0; i < columns.length; i++) {
    const metric = columns[i]!;
    const type = types[i]!;
    if (NON_METRIC_COLUMNS.has(metric) || !isNumericType(type)) continue;
    out.push({
      metric,
      type,
      layout,
      stepType: stepType && isNumericType(stepType) ? stepType : null,
      hasRunId,
    });
  }
  return out;
}

/** Files per chunk aimed at, and the most chunks a branch gets (see metricsViewSql). */
export const CHUNK_FILES = 512;
export const MAX_CHUNKS = 64;

/** How many chunks a branch of `files` files is split into. */
export function chunkCount(files: number): number {
  return Math.max(1, Math.min(MAX_CHUNKS, Math.ceil(files / CHUNK_FILES)));
}

/** The chunk of a branch holding a specimen's files: a stable hash (FNV-1a) of its ID. */
export function chunkOf(specimenId: string, chunks: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < specimenId.length; i++) {
    h ^= specimenId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % chunks;
}

/** Name of the macro returning chunk `c` of branch `i`'s comma-joined file list (NULL when empty). */
export function branchFilesMacro(i: number, c: number): string {
  return `sv_metric_files_${i}_${c}`;
}

/** `CREATE OR REPLACE MACRO` for chunk `c` of branch `i`. */
export function branchFilesMacroSql(i: number, c: number, paths: readonly string[]): string {
  for (const f of paths) {
    if (f.includes(',')) throw new Error(`catalog: path ${JSON.stringify(f)} contains a comma`);
  }
  const body = paths.length === 0 ? 'NULL::VARCHAR' : quoteLiteral(paths.join(','));
  return `CREATE OR REPLACE MACRO ${branchFilesMacro(i, c)}() AS ${body};`;
}

/**
 * The `metrics` view: one row per (run, step, numeric metric) across the vault, in long format
 * (specimen_id, run_id, step, metric, value DOUBLE). Each branch reads only the files that have its metric
 * column, so DuckDB never needs `union_by_name` (which reads every footer when the view is bound), and a
 * filter on `metric` removes the other branches before any file is opened.
 *
 * The file lists live in macros, `chunks[i]` per branch, each holding the files of the specimens that hash
 * to it: an index that adds or removes a run replaces one small macro per branch and leaves the view (whose
 * creation reads a file per branch) and every other list as they are.
 */
export function metricsViewSql(
  branches: readonly Omit<MetricBranch, 'paths'>[],
  chunks: readonly number[],
): string {
  if (branches.length === 0) {
    return `CREATE OR REPLACE VIEW metrics AS
      SELECT NULL::VARCHAR AS specimen_id, NULL::VARCHAR AS run_id, NULL::BIGINT AS step,
             NULL::VARCHAR AS metric, NULL::DOUBLE AS value WHERE false;`;
  }
  const p = quoteIdent(PATH_COLUMN);
  const parts = branches.map((b, i) => {
    const specimen = b.layout === 'runs' ? `string_split(${p}, '/')[-4]` : `string_split(${p}, '/')[-3]`;
    const runId = b.hasRunId ? 'run_id' : `string_split(${p}, '/')[-2]`;
    const step = b.stepType ? 'CAST(step AS BIGINT)' : 'NULL::BIGINT';
    const lists = Array.from({ length: chunks[i] ?? 1 }, (_, c) => `${branchFilesMacro(i, c)}()`);
    // Files added since the catalog file was written, linked under the delta directory (see delta.ts).
    lists.push(`sv_delta_dir() || ${quoteLiteral(deltaBranchPattern(b))}`);
    return (
      `SELECT ${specimen} AS specimen_id, ${runId} AS run_id, ${step} AS step, ` +
      `${quoteLiteral(b.metric)} AS metric, CAST(${quoteIdent(b.metric)} AS DOUBLE) AS value ` +
      `FROM read_parquet(sv_paths(concat_ws(',', ${lists.join(', ')})), filename = ${quoteLiteral(PATH_COLUMN)})`
    );
  });
  return `CREATE OR REPLACE VIEW metrics AS\n${parts.join('\nUNION ALL\n')};`;
}

/** Schema of the tables as last written into the catalog file; the same names in `main` are views. */
export const BASE_SCHEMA = 'sv_base';

/** The tables that are views over `sv_base` and the delta directory, with their columns in order. */
export const DELTA_TABLES: readonly { name: string; columns: ColumnSpec }[] = [
  { name: 'catalog', columns: CATALOG_COLUMNS },
  { name: 'runs', columns: RUN_COLUMNS },
  { name: 'artifacts', columns: ARTIFACT_COLUMNS },
  { name: 'metric_summaries', columns: SUMMARY_COLUMNS },
  { name: 'turns', columns: TURN_COLUMNS },
];

/** `sv_delta_dir()`: the vault-relative delta directory of generation `gen` (with a trailing slash). */
export function deltaDirMacroSql(gen: string): string {
  return `CREATE OR REPLACE MACRO sv_delta_dir() AS ${quoteLiteral(`${CATALOG_DIR}/${gen}/delta/`)};`;
}

/**
 * The views `catalog`, `runs`, `artifacts` and `metric_summaries`: the rows in `sv_base` except those of the
 * specimens listed in the delta's `changed.parquet`, plus the delta's own rows for them.
 */
export function tableViewsSql(): string {
  return DELTA_TABLES.map(({ name, columns }) => {
    const names = columns.map(([n]) => quoteIdent(n)).join(', ');
    const cast = columns.map(([n, t]) => `CAST(${quoteIdent(n)} AS ${t}) AS ${quoteIdent(n)}`).join(', ');
    return (
      `CREATE OR REPLACE VIEW ${quoteIdent(name)} AS\n` +
      `SELECT ${names} FROM ${BASE_SCHEMA}.${quoteIdent(name)} WHERE specimen_id NOT IN ` +
      `(SELECT specimen_id FROM read_parquet(sv_paths(sv_delta_dir() || 'changed.parquet')))\n` +
      `UNION ALL SELECT ${cast} FROM read_parquet(sv_paths(sv_delta_dir() || ${quoteLiteral(`${name}.parquet`)}));`
    );
  }).join('\n');
}

/** Directory of a `metrics` view branch inside a delta directory. */
export function deltaBranchDir(b: Omit<MetricBranch, 'paths'>): string {
  return `m-${createHash('sha256').update(branchKey(b)).digest('hex').slice(0, 16)}`;
}

/**
 * The pattern, relative to the delta directory, of a branch's linked files: the same depth as in the vault
 * (`<id>/runs/<run>/metrics.parquet`), so the branch takes specimen and run from the path the same way.
 */
export function deltaBranchPattern(b: Omit<MetricBranch, 'paths'>): string {
  return b.layout === 'runs'
    ? `${deltaBranchDir(b)}/*/${RUNS_DIR}/*/metrics.parquet`
    : `${deltaBranchDir(b)}/*/${LEGACY_RUN_ID}/metrics.parquet`;
}
