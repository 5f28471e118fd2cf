/**
 * Groups of runs as one line with a band, computed in DuckDB over the full-resolution metrics: runs are
 * grouped by config keys (`prime`, leaving `seed` out), and at every x value each group's mean, median,
 * standard deviation, min, max and run count are taken over its runs. The result is then cut into `width`
 * buckets (one per pixel column) and each bucket keeps the points where the group's centre line (mean or
 * median) is lowest and highest, as the min/max downsampling of single runs does, so a spike of the mean
 * survives however long the runs.
 *
 * The x axis is `step` or any other logged column (`tokens`, `epoch`, a wall-clock column), joined on the
 * step; `relative` subtracts each run's first x value (time since the run started).
 *
 * Only the selected runs' metrics files are read: their paths come from the catalog's `artifacts` table, and
 * each file's columns are read directly (not through the `metrics` view, which opens every file of the vault
 * holding the metric), so the cost follows the runs compared, not the vault.
 *
 * Config keys arrive as bound JSON paths; run IDs, metric names and bounds as bound values; file paths (from
 * the catalog, never from the request) as quoted literals, since read_parquet binds no parameter.
 *
 * @example
 * const q = await VaultQuery.open('/vault')
 * const g = await groupSeries(q, { runs, metric: 'loss', groupBy: ['prime'], width: 800 })
 * g.groups[0].mean.length <= 2 * 800
 */
import { quoteIdent, quoteLiteral } from '../duckdb/node-api.js';
import type { VaultQuery } from './query.js';
import type { JsonValue } from './results.js';

/** Options of `groupSeries`. */
export interface GroupSeriesOptions {
  /** Runs as `{ specimenId, runId }`. */
  runs: readonly { specimenId: string; runId: string }[];
  metric: string;
  /** Config keys (top level) whose values form a group, or RUN_KEY; none puts every run in one group. */
  groupBy: readonly string[];
  /** Pixel buckets. */
  width: number;
  /** The line drawn and chosen per bucket: `mean` (default) or `median`. */
  center?: 'mean' | 'median';
  /** `step` (default) or a logged column to use as the x axis. */
  x?: string;
  /** Subtract each run's first x value. */
  relative?: boolean;
  /** Bounds of the x range (inclusive). */
  from?: number | undefined;
  to?: number | undefined;
}

/** One group's line: parallel arrays, one entry per point kept. */
export interface GroupLine {
  /** The group's config values, in `groupBy` order (null where a run lacks the key). */
  key: JsonValue[];
  /** `<specimen>/<run>` of its runs. */
  runs: string[];
  x: number[];
  mean: number[];
  median: number[];
  /** Sample standard deviation (null with one run). */
  std: (number | null)[];
  min: number[];
  max: number[];
  /** Runs with a finite value at this x. */
  n: number[];
}

export interface GroupSeriesResult {
  groups: GroupLine[];
  /** Distinct x values in range over all groups, before downsampling. */
  total: number;
  downsampled: boolean;
}

/** What a config key may be to become a JSON path (see explorer.ts). */
const KEY_RE = /^[^"\\\u0000-\u001f]{1,200}$/;

/** The group key that puts each run in a group of its own (single runs on another x axis). */
export const RUN_KEY = ':run';

/** Thrown for an unusable group key or x column. */
export class GroupParamError extends Error {
  override readonly name = 'GroupParamError';
}

/** Each group's centre line with its band, downsampled per pixel bucket (see the module comment). */
export async function groupSeries(q: VaultQuery, o: GroupSeriesOptions): Promise<GroupSeriesResult> {
  if (o.runs.length === 0) return { groups: [], total: 0, downsampled: false };
  const params: (string | number)[] = [];
  const bind = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  for (const k of o.groupBy)
    if (!KEY_RE.test(k))
      throw new GroupParamError(`groups: config key ${JSON.stringify(k)} cannot be grouped by`);
  const sel = o.runs.map((r) => `(${bind(r.specimenId)}, ${bind(r.runId)})`).join(', ');
  const selParams = params.length;
  const key =
    o.groupBy.length === 0
      ? "'[]'"
      : `to_json([${o.groupBy
          .map((k) =>
            k === RUN_KEY
              ? `to_json(r.specimen_id || '/' || r.run_id)`
              : `json_extract(r.config, ${bind(`$."${k}"`)})`,
          )
          .join(', ')}])::VARCHAR`;
  const xName = o.x ?? 'step';
  // The selected runs' metrics files that have a step and the metric (and the x column), as the rows the
  // `metrics` view would give for them.
  const files = await q.rows(
    `WITH sel(specimen_id, run_id) AS (VALUES ${sel})
     SELECT a.specimen_id, a.run_id, a.path, a.columns FROM artifacts a JOIN sel USING (specimen_id, run_id)
     WHERE a.kind = 'metrics' ORDER BY 1, 2, 3`,
    params.slice(0, selParams),
  );
  const wanted = xName === 'step' ? [o.metric] : [o.metric, xName];
  const reads: string[] = [];
  for (const f of files) {
    const cols = Array.isArray(f.columns) ? f.columns.map(String) : [];
    if (!cols.includes('step')) continue;
    for (const name of wanted) {
      if (!cols.includes(name)) continue;
      reads.push(
        `SELECT ${bind(String(f.specimen_id))} AS specimen_id, ${bind(String(f.run_id))} AS run_id, ` +
          `CAST(step AS BIGINT) AS step, ${bind(name)} AS metric, CAST(${quoteIdent(name)} AS DOUBLE) AS value ` +
          `FROM read_parquet(sv_paths(${quoteLiteral(String(f.path))}))`,
      );
    }
  }
  if (reads.length === 0)
    reads.push('SELECT NULL::VARCHAR, NULL::VARCHAR, NULL::BIGINT, NULL::VARCHAR, NULL::DOUBLE WHERE false');
  const metric = bind(o.metric);
  // The x column joins on the run and step: a logged column's value at the metric's row.
  const xJoin =
    xName === 'step'
      ? ''
      : `JOIN mm xm ON xm.specimen_id = m.specimen_id AND xm.run_id = m.run_id AND xm.step = m.step AND xm.metric = ${bind(xName)}`;
  const xExpr = xName === 'step' ? 'm.step::DOUBLE' : 'xm.value';
  const xRel = o.relative ? `x0 - min(x0) OVER (PARTITION BY specimen_id, run_id)` : 'x0';
  const range: string[] = [];
  if (o.from !== undefined) range.push(`x >= ${bind(o.from)}`);
  if (o.to !== undefined) range.push(`x <= ${bind(o.to)}`);
  const width = Math.max(1, Math.floor(o.width));
  const center = o.center === 'median' ? 'median' : 'mean';
  const sql = `
    WITH sel(specimen_id, run_id) AS (VALUES ${sel}),
    mm(specimen_id, run_id, step, metric, value) AS (${reads.join('\n      UNION ALL ')}),
    g AS (SELECT r.specimen_id, r.run_id, ${key} AS g FROM runs r JOIN sel USING (specimen_id, run_id)),
    raw AS (SELECT g.g, m.specimen_id, m.run_id, ${xExpr} AS x0, m.value
            FROM mm m ${xJoin} JOIN g ON g.specimen_id = m.specimen_id AND g.run_id = m.run_id
            WHERE m.metric = ${metric}),
    d AS (SELECT g, ${xRel} AS x, value FROM raw WHERE isfinite(x0)),
    per AS (SELECT g, x, avg(value) AS mean, median(value) AS median, stddev_samp(value) AS std,
                   min(value) AS "min", max(value) AS "max", count(*) AS n
            FROM d WHERE isfinite(value)${range.length > 0 ? ` AND ${range.join(' AND ')}` : ''} GROUP BY g, x),
    span AS (SELECT ${o.from !== undefined ? bind(o.from) : 'min(x)'}::DOUBLE AS lo,
                    ${o.to !== undefined ? bind(o.to) : 'max(x)'}::DOUBLE AS hi, count(DISTINCT x) AS total FROM per),
    b AS (SELECT per.*, span.total,
                 CASE WHEN span.total <= ${2 * width} OR span.hi <= span.lo THEN row_number() OVER (PARTITION BY g ORDER BY x)
                      ELSE least(${width - 1}, greatest(0, floor((x - span.lo) * ${width} / (span.hi - span.lo))))::BIGINT END AS bucket
          FROM per, span),
    r AS (SELECT *, row_number() OVER (PARTITION BY g, bucket ORDER BY ${center}, x) AS lo_rank,
                    row_number() OVER (PARTITION BY g, bucket ORDER BY ${center} DESC, x) AS hi_rank FROM b)
    SELECT g, x, mean, median, std, "min", "max", n, total FROM r WHERE lo_rank = 1 OR hi_rank = 1 ORDER BY g, x`;
  const [rows, members] = await Promise.all([
    q.rows(sql, params),
    q.rows(
      `WITH sel(specimen_id, run_id) AS (VALUES ${sel})
       SELECT ${key} AS g, r.specimen_id, r.run_id FROM runs r JOIN sel USING (specimen_id, run_id) ORDER BY g, r.specimen_id, r.run_id`,
      params.slice(0, selParams + o.groupBy.filter((k) => k !== RUN_KEY).length),
    ),
  ]);
  const groups = new Map<string, GroupLine>();
  const line = (g: string): GroupLine => {
    let l = groups.get(g);
    if (!l) {
      l = {
        key: JSON.parse(g) as JsonValue[],
        runs: [],
        x: [],
        mean: [],
        median: [],
        std: [],
        min: [],
        max: [],
        n: [],
      };
      groups.set(g, l);
    }
    return l;
  };
  for (const m of members) line(String(m.g)).runs.push(`${m.specimen_id}/${m.run_id}`);
  let total = 0;
  for (const r of rows) {
    const l = line(String(r.g));
    l.x.push(Number(r.x));
    l.mean.push(Number(r.mean));
    l.median.push(Number(r.median));
    l.std.push(typeof r.std === 'number' ? r.std : null);
    l.min.push(Number(r.min));
    l.max.push(Number(r.max));
    l.n.push(Number(r.n));
    total = Number(r.total);
  }
  const sorted = [...groups.values()].sort((a, b) => compareKeys(a.key, b.key));
  return { groups: sorted, total, downsampled: total > 2 * width };
}

/** Groups in key order: numbers numerically, nulls last. */
function compareKeys(a: readonly JsonValue[], b: readonly JsonValue[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? null;
    const y = b[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const c = JSON.stringify(x).localeCompare(JSON.stringify(y));
    if (c !== 0) return c;
  }
  return 0;
}
