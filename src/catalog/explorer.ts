/**
 * The runs explorer's table, computed in DuckDB from the catalog: one row per run of any specimen with its
 * run facts, every top-level config and summary key as a column, and final/min/max/step-of-min of the
 * vault's most common metrics (from `metric_summaries`). Filtering, sorting, grouping and paging happen in
 * the same query, so a vault of 100,000 runs sends the browser only the rows on screen.
 *
 * Nothing from a request becomes SQL text: columns are chosen by key from the list this module builds
 * (their SQL is ours, with config keys bound as JSON paths), aliases are positional (`c0`, `c1`, …), and
 * filter values are bound parameters.
 *
 * @example
 * const q = await VaultQuery.open('/vault')
 * const page = await explorerTable(q, { sort: { key: 'loss.min', dir: 'asc' }, limit: 100 })
 * const groups = await explorerTable(q, { group: ['config.prime'] })
 */
import type { VaultQuery } from './query.js';
import type { JsonValue } from './results.js';

/** One column of the explorer. */
export interface ExplorerColumn {
  /** Stable key: `run_id`, `config.lr`, `summary.final_loss`, `loss.min` … */
  key: string;
  /** Where it comes from. */
  source: 'run' | 'config' | 'summary' | 'metric';
  /** `number` columns sort numerically and aggregate by mean in groups. */
  kind: 'text' | 'number';
}

/** A per-column filter: `~` contains (case-insensitive), the others compare. */
export interface ExplorerFilter {
  key: string;
  op: '~' | '=' | '!=' | '<' | '<=' | '>' | '>=';
  value: string;
}

/** Options of `explorerTable`. */
export interface ExplorerOptions {
  /** Free text matched against every text column (case-insensitive). */
  text?: string;
  filters?: readonly ExplorerFilter[];
  /** Defaults to newest first. */
  sort?: { key: string; dir: 'asc' | 'desc' } | undefined;
  /** Column keys to group by: one row per distinct combination, numeric columns averaged. */
  group?: readonly string[];
  /** Metrics whose summaries become columns; the 8 most common when absent. */
  metrics?: readonly string[];
  offset?: number;
  /** Rows returned (default 200). */
  limit?: number;
}

/** A page of the explorer. */
export interface ExplorerTable {
  columns: ExplorerColumn[];
  /** Values in `columns` order. Grouped: a text column holds its value when the whole group shares it. */
  rows: JsonValue[][];
  /** Grouped: the number of runs in each row's group. */
  counts?: number[];
  offset: number;
  /** Rows (runs, or groups) matching the filters. */
  total: number;
  /** Runs matching the filters. */
  runs: number;
  /** The metrics that have summary columns. */
  metrics: string[];
}

/** Thrown for a filter, sort or group naming an unknown column or an unusable value. */
export class ExplorerParamError extends Error {
  override readonly name = 'ExplorerParamError';
}

/** Default number of metrics with summary columns, and the most keys taken from config or summary. */
const DEFAULT_METRICS = 8;
const MAX_KEYS = 64;
/** The figures of a metric shown as columns, with the metric_summaries column each reads. */
const FIGURES = [
  ['final', 'last'],
  ['min', 'min'],
  ['max', 'max'],
  ['step_of_min', 'step_of_min'],
] as const;

const RUN_COLUMNS: readonly (ExplorerColumn & { sql: string })[] = [
  { key: 'specimen_id', source: 'run', kind: 'text', sql: 'r.specimen_id' },
  { key: 'run_id', source: 'run', kind: 'text', sql: 'r.run_id' },
  { key: 'status', source: 'run', kind: 'text', sql: 'r.status' },
  { key: 'started', source: 'run', kind: 'text', sql: "strftime(r.started, '%Y-%m-%dT%H:%M:%SZ')" },
  { key: 'duration_s', source: 'run', kind: 'number', sql: 'r.duration_s' },
  { key: 'domain', source: 'run', kind: 'text', sql: 'c.domain' },
  { key: 'method', source: 'run', kind: 'text', sql: 'c.method' },
  { key: 'model', source: 'run', kind: 'text', sql: 'c.model' },
];

/**
 * A config or summary key usable as a column: printable, without `"` or `\` (which a quoted JSON path
 * cannot hold as written). Keys outside this set are left out of the explorer.
 */
const KEY_RE = /^[^"\\\u0000-\u001f]{1,200}$/;

/** The config and summary keys and the most common metrics of a catalog generation (see `discover`). */
interface Discovered {
  generation: string;
  keys: Record<string, JsonValue>[];
  metrics: string[];
}

/** Per session, what `discover` found for the catalog generation it last saw. */
const discovered = new WeakMap<VaultQuery, Discovered>();

/**
 * The config and summary keys of every run (with their types) and the most common metrics. Reading them
 * takes a pass over every run's JSON, so it is done once per catalog generation: the catalog changes only
 * when an index runs, and the explorer asks on every page.
 */
async function discover(q: VaultQuery): Promise<Discovered> {
  const generation = await q.generation();
  const kept = discovered.get(q);
  if (kept?.generation === generation) return kept;
  const keys = await q.rows(
    `SELECT src, "key", bool_and(type IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'NULL')) AS numeric, count(*) AS n
     FROM (SELECT 'config' AS src, j."key", j.type FROM runs r, json_each(r.config) j
           UNION ALL SELECT 'summary' AS src, j."key", j.type FROM runs r, json_each(r.summary) j)
     GROUP BY ALL ORDER BY src, n DESC, "key"`,
  );
  const metricRows = await q.rows(
    `SELECT metric, count(*) AS n FROM metric_summaries GROUP BY metric ORDER BY n DESC, metric LIMIT ${DEFAULT_METRICS}`,
  );
  const found = { generation, keys, metrics: metricRows.map((m) => String(m.metric)) };
  discovered.set(q, found);
  return found;
}

/** The explorer's columns and the SQL (with its parameters) that selects them, `c0`… in order. */
async function columnsOf(
  q: VaultQuery,
  wanted: readonly string[] | undefined,
): Promise<{
  columns: (ExplorerColumn & { sql: string })[];
  params: (string | number)[];
  metrics: string[];
}> {
  const found = await discover(q);
  const keys = found.keys;
  const params: (string | number)[] = [];
  const bind = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  const columns: (ExplorerColumn & { sql: string })[] = [...RUN_COLUMNS];
  const taken = { config: 0, summary: 0 };
  for (const k of keys) {
    const src = k.src as 'config' | 'summary';
    const key = String(k.key);
    if (!KEY_RE.test(key) || taken[src] >= MAX_KEYS) continue;
    taken[src]++;
    const path = bind(`$."${key}"`);
    const numeric = k.numeric === true;
    columns.push({
      key: `${src}.${key}`,
      source: src,
      kind: numeric ? 'number' : 'text',
      sql: numeric
        ? `TRY_CAST(json_extract(r.${src}, ${path}) AS DOUBLE)`
        : `json_extract_string(r.${src}, ${path})`,
    });
  }
  const metrics = wanted ? [...wanted] : found.metrics;
  metrics.forEach((m, i) => {
    for (const [figure, col] of FIGURES)
      columns.push({ key: `${m}.${figure}`, source: 'metric', kind: 'number', sql: `ms.m${i}_${col}` });
  });
  return { columns, params, metrics };
}

/** One page of the explorer (see the module comment). */
export async function explorerTable(q: VaultQuery, options: ExplorerOptions = {}): Promise<ExplorerTable> {
  const { columns, params, metrics } = await columnsOf(q, options.metrics);
  const bind = (v: string | number) => {
    params.push(v);
    return `$${params.length}`;
  };
  const index = new Map(columns.map((c, i) => [c.key, i]));
  const alias = (key: string, what: string): number => {
    const i = index.get(key);
    if (i === undefined)
      throw new ExplorerParamError(`explorer: unknown ${what} column ${JSON.stringify(key)}`);
    return i;
  };

  // metric_summaries pivoted to one row per run, only for the metrics shown.
  const pivot =
    metrics.length === 0
      ? ''
      : `LEFT JOIN (SELECT specimen_id, run_id, ${metrics
          .flatMap((m, i) => {
            const name = bind(m);
            return FIGURES.map(
              ([, col]) => `any_value("${col}") FILTER (WHERE metric = ${name}) AS m${i}_${col}`,
            );
          })
          .join(', ')}
        FROM metric_summaries GROUP BY specimen_id, run_id) ms USING (specimen_id, run_id)`;
  const select = columns.map((c, i) => `${c.sql} AS c${i}`).join(', ');
  const base = `SELECT ${select} FROM runs r LEFT JOIN catalog c USING (specimen_id) ${pivot}`;

  const where: string[] = [];
  const text = options.text?.trim();
  if (text) {
    const textCols = columns.flatMap((c, i) => (c.kind === 'text' ? [`c${i}`] : []));
    where.push(`concat_ws(' ', ${textCols.join(', ')}) ILIKE '%' || ${bind(text)} || '%'`);
  }
  for (const f of options.filters ?? []) {
    const i = alias(f.key, 'filter');
    const col = columns[i]!;
    if (f.op === '~') {
      where.push(`CAST(c${i} AS VARCHAR) ILIKE '%' || ${bind(f.value)} || '%'`);
      continue;
    }
    if (col.kind === 'number') {
      const n = Number(f.value);
      if (f.value.trim() === '' || !Number.isFinite(n))
        throw new ExplorerParamError(
          `explorer: filter on ${f.key} needs a number, got ${JSON.stringify(f.value)}`,
        );
      where.push(`c${i} ${f.op === '!=' ? '<>' : f.op} ${bind(n)}`);
    } else where.push(`c${i} ${f.op === '!=' ? 'IS DISTINCT FROM' : f.op} ${bind(f.value)}`);
  }
  const filtered = `SELECT * FROM (${base}) t${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
  const limit = Math.max(0, Math.floor(options.limit ?? 200));
  const offset = Math.max(0, Math.floor(options.offset ?? 0));
  const sort = options.sort;
  const dir = sort?.dir === 'desc' ? 'DESC' : 'ASC';

  const groupBy = [...new Set(options.group ?? [])].map((k) => alias(k, 'group'));
  if (groupBy.length > 0) {
    // Numeric columns: the group's mean; text columns: the value when the whole group shares it.
    const aggs = columns.map((c, i) =>
      groupBy.includes(i)
        ? `c${i}`
        : c.kind === 'number'
          ? `avg(c${i}) AS c${i}`
          : `CASE WHEN count(DISTINCT c${i}) = 1 AND count(c${i}) = count(*) THEN any_value(c${i}) END AS c${i}`,
    );
    const order = sort ? `c${alias(sort.key, 'sort')} ${dir} NULLS LAST, ` : '';
    const groups = groupBy.map((i) => `c${i}`).join(', ');
    const rows = await q.rows(
      `WITH f AS (${filtered}), g AS (SELECT ${aggs.join(', ')}, count(*) AS __n FROM f GROUP BY ${groups})
       SELECT *, count(*) OVER () AS __total, sum(__n) OVER () AS __runs FROM g
       ORDER BY ${order}${groups} LIMIT ${limit} OFFSET ${offset}`,
      params,
    );
    const totals =
      rows[0] ??
      (
        await q.rows(
          `WITH f AS (${filtered}) SELECT count(DISTINCT (${groups})) AS __total, count(*) AS __runs FROM f`,
          params,
        )
      )[0];
    return {
      columns: columns.map(({ sql: _, ...c }) => c),
      rows: rows.map((r) => columns.map((_, i) => r[`c${i}`] ?? null)),
      counts: rows.map((r) => Number(r.__n)),
      offset,
      total: Number(totals?.__total ?? 0),
      runs: Number(totals?.__runs ?? 0),
      metrics,
    };
  }

  const order = sort
    ? `c${alias(sort.key, 'sort')} ${dir} NULLS LAST, c0, c1`
    : `c${index.get('started')} DESC NULLS LAST, c0, c1`;
  const rows = await q.rows(
    `SELECT *, count(*) OVER () AS __total FROM (${filtered}) ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`,
    params,
  );
  const total =
    rows.length > 0
      ? Number(rows[0]!.__total)
      : Number((await q.rows(`SELECT count(*) AS n FROM (${filtered})`, params))[0]?.n ?? 0);
  return {
    columns: columns.map(({ sql: _, ...c }) => c),
    rows: rows.map((r) => columns.map((_, i) => r[`c${i}`] ?? null)),
    offset,
    total,
    runs: total,
    metrics,
  };
}
