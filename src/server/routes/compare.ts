/**
 * Charts and comparison across runs of any specimens:
 *
 * - `GET /api/series?run=<specimen>/<run>&metric=<name>&width=<px>[&from=<step>&to=<step>]` — each run's
 *   series, downsampled on the server to at most two points (min and max) per pixel column of the step
 *   range, so spikes survive; a zoomed chart asks again with its new range. With `source=system`, the
 *   runs' system metrics (`system.parquet`: cpu_percent, rss_bytes, gpu_*) over elapsed seconds instead.
 * - `GET /api/compare?run=…` — the runs' status, config and summary, their numeric metrics, and per metric
 *   final/min/max with the steps of min and max (from the catalog's `metric_summaries`, computed live for
 *   runs the catalog does not hold yet or that are still running), and what differs in their code,
 *   environment and dependencies (runner/run-diff.ts, as `specimen diff` shows it).
 * - `GET /api/values?run=…&step=<n>[&source=system]` — every metric of every run at the row nearest to a
 *   step (with `source=system`, every system metric at the sample nearest to an elapsed second: the
 *   System charts' hover).
 */
import { isVaultError } from '../../errors.js';
import { runFacts, sameValue } from '../../runner/run-diff.js';
import { describeSpecimen, type RunInfo } from '../../storage/describe.js';
import { readSupersessions } from '../../storage/supersede.js';
import type {
  CompareResponse,
  MetricSummaryRow,
  SeriesEntry,
  SeriesResponse,
  ValuesAtResponse,
} from '../api-types.js';
import { parseRunRef, type RunRef, type ServerContext } from '../context.js';
import { downsampleMinMax, lowerBound } from '../downsample.js';
import { HttpError, intParam, numberParam, sendJson } from '../http.js';
import type { RunMetrics } from '../metrics-cache.js';
import type { Router } from '../router.js';
import { jsonSafe, runConfig, runSummary, runSummaryFigures } from './runs-common.js';

/** Most runs one request may name. */
export const MAX_RUNS = 50;
/** Widest chart served, in pixel buckets (so at most ~4,000 points per run). */
export const MAX_WIDTH = 2000;
/** Metrics whose series `GET /api/compare?width=` includes. */
export const MAX_EMBEDDED_METRICS = 8;

function runRefs(query: URLSearchParams): RunRef[] {
  const refs = query.getAll('run');
  if (refs.length === 0)
    throw new HttpError(400, 'BadRequest', 'name at least one run: run=<specimen_id>/<run_id>');
  if (refs.length > MAX_RUNS) throw new HttpError(400, 'BadRequest', `at most ${MAX_RUNS} runs per request`);
  const seen = new Set<string>();
  const out: RunRef[] = [];
  for (const r of refs) {
    if (seen.has(r)) continue;
    seen.add(r);
    out.push(parseRunRef(r));
  }
  return out;
}

/** The figures of a summary, from the catalog's row or from storage's summary of the data in memory. */
type Figures = Partial<
  Record<'count' | 'min' | 'max' | 'mean' | 'first' | 'last' | 'step_of_min' | 'step_of_max', unknown>
>;

/** A summary as the API sends it: JSON has no NaN or ±Infinity, so those figures are null, whatever the source. */
function summaryRow(
  specimenId: string,
  runId: string,
  metric: string,
  s: Figures,
  source: MetricSummaryRow['source'],
): MetricSummaryRow {
  return {
    specimen_id: specimenId,
    run_id: runId,
    metric,
    count: num(s.count),
    min: num(s.min),
    max: num(s.max),
    mean: num(s.mean),
    first: num(s.first),
    last: num(s.last),
    step_of_min: num(s.step_of_min),
    step_of_max: num(s.step_of_max),
    source,
  };
}

/**
 * Summaries of a run's numeric columns computed now from the data in memory, by the function sealing and
 * the indexer use, so live and catalogued figures agree.
 */
export function liveSummaries(ref: RunRef, m: RunMetrics): MetricSummaryRow[] {
  return m.summaries().map((s) => summaryRow(ref.specimenId, ref.runId, s.column, s, 'live'));
}

/** One metric's downsampled series for each loaded run (`missing` when a run lacks it). */
export function seriesOf(
  loaded: readonly { ref: RunRef; run: { status: string }; m: RunMetrics | undefined }[],
  metric: string,
  range: { from?: number | undefined; to?: number | undefined; width: number },
): SeriesEntry[] {
  return loaded.map(({ ref, run, m }) => {
    // Only the rows holding a value: an eval logged every N steps is one line of its points.
    const points = m?.present(metric);
    const base = {
      specimen_id: ref.specimenId,
      run_id: ref.runId,
      metric,
      status: run.status,
      min_step: m && m.rows > 0 ? m.steps[0]! : null,
      max_step: m && m.rows > 0 ? m.steps[m.rows - 1]! : null,
    };
    if (!m || !points) return { ...base, steps: [], values: [], total: 0, downsampled: false, missing: true };
    return { ...base, ...downsampleMinMax(points.steps, points.values, range) };
  });
}

/** The code, environment and dependency keys whose values differ between `runs` (run-diff.ts's facts). */
function differences(runs: readonly RunInfo[]): CompareResponse['differences'] {
  if (runs.length < 2) return [];
  const facts = runs.map(runFacts);
  const out: CompareResponse['differences'] = [];
  for (const section of ['code', 'environment', 'dependencies'] as const) {
    const keys = [...new Set(facts.flatMap((f) => [...f[section].keys()]))].sort();
    for (const key of keys) {
      const values = facts.map((f) => f[section].get(key));
      if (values.every((v) => sameValue(v, values[0]))) continue;
      out.push({ section, key, values: values.map((v) => (v === undefined ? null : jsonSafe(v))) });
    }
  }
  return out;
}

/** The catalog's metric summaries of `refs`, by `<specimen>/<run>` (none without a catalog). */
async function catalogSummaries(
  ctx: ServerContext,
  refs: readonly RunRef[],
): Promise<Map<string, MetricSummaryRow[]>> {
  const out = new Map<string, MetricSummaryRow[]>();
  let q: Awaited<ReturnType<ServerContext['catalog']>>;
  try {
    q = await ctx.catalog();
  } catch (err) {
    if (isVaultError(err, 'CatalogMissingError')) return out;
    throw err;
  }
  const params: string[] = [];
  const conds = refs.map((ref) => {
    params.push(ref.specimenId, ref.runId);
    return `(specimen_id = $${params.length - 1} AND run_id = $${params.length})`;
  });
  const rows = await q.rows(
    `SELECT * FROM metric_summaries WHERE ${conds.join(' OR ')} ORDER BY specimen_id, run_id, metric`,
    params,
  );
  for (const r of rows) {
    const key = `${r.specimen_id}/${r.run_id}`;
    const list = out.get(key) ?? [];
    list.push(summaryRow(String(r.specimen_id), String(r.run_id), String(r.metric), r, 'catalog'));
    out.set(key, list);
  }
  return out;
}

/** Where `source=` says a run's rows come from: its metrics (by step) or its system metrics (by seconds). */
function sourceParam(query: URLSearchParams): 'metrics' | 'system' {
  const source = query.get('source') ?? 'metrics';
  if (source !== 'metrics' && source !== 'system')
    throw new HttpError(400, 'BadRequest', `source must be metrics or system, got ${JSON.stringify(source)}`);
  return source;
}

/**
 * A run's rows from `source`, read (and confined to the vault) by the server context's one path for each:
 * the series and the values routes see the same rows.
 */
function loadSource(ctx: ServerContext, run: RunInfo, source: 'metrics' | 'system') {
  return source === 'system' ? ctx.runSystem(run) : ctx.runMetrics(run);
}

/** A finite number, else null (JSON cannot carry NaN or ±Infinity). */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function registerCompareRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/series', async ({ query, res }) => {
    const refs = runRefs(query);
    const metrics = [...new Set(query.getAll('metric'))];
    if (metrics.length === 0)
      throw new HttpError(400, 'BadRequest', 'name at least one metric: metric=<column>');
    if (metrics.length * refs.length > 200)
      throw new HttpError(400, 'BadRequest', 'at most 200 series (runs × metrics) per request');
    const width = intParam(query, 'width', 800, 16, MAX_WIDTH);
    const from = numberParam(query, 'from');
    const to = numberParam(query, 'to');
    if (from !== undefined && to !== undefined && to < from)
      throw new HttpError(400, 'BadRequest', 'to must not be less than from');
    const source = sourceParam(query);
    const series: SeriesEntry[] = [];
    const loaded = await Promise.all(
      refs.map(async (ref) => {
        const { run } = await ctx.run(ref.specimenId, ref.runId);
        return { ref, run, m: await loadSource(ctx, run, source) };
      }),
    );
    for (const metric of metrics) series.push(...seriesOf(loaded, metric, { from, to, width }));
    const body: SeriesResponse = { width, from: from ?? null, to: to ?? null, series };
    sendJson(res, 200, body);
  });

  router.get('/api/compare', async ({ query, res }) => {
    const refs = runRefs(query);
    const supersessions = new Map<string, ReturnType<typeof readSupersessions>>();
    // The runs and the catalog's summaries are read at the same time.
    const [loaded, fromCatalog] = await Promise.all([
      Promise.all(
        refs.map(async (ref) => {
          const { storage, run } = await ctx.run(ref.specimenId, ref.runId);
          let sup = supersessions.get(ref.specimenId);
          if (!sup) {
            sup = readSupersessions(storage.path);
            supersessions.set(ref.specimenId, sup);
          }
          const [records, m] = await Promise.all([sup, ctx.runMetrics(run)]);
          return { ref, storage, run, supersessions: records, m };
        }),
      ),
      catalogSummaries(ctx, refs),
    ]);
    const metricRuns = new Map<string, string[]>();
    for (const { ref, m } of loaded) {
      for (const c of m?.columns ?? []) {
        if (!c.numeric) continue;
        const list = metricRuns.get(c.name) ?? [];
        list.push(`${ref.specimenId}/${ref.runId}`);
        metricRuns.set(c.name, list);
      }
    }
    // Sealed runs: the catalog's summaries (when they cover the run's rows: a run indexed while it was
    // still running has partial ones); the rest (running, not indexed yet) are computed now.
    const summaries: MetricSummaryRow[] = [];
    for (const { ref, run, m } of loaded) {
      const cat = fromCatalog.get(`${ref.specimenId}/${ref.runId}`);
      if (run.sealed && cat && cat.length > 0 && (!m || cat.some((r) => r.count === m.rows)))
        summaries.push(...cat);
      else if (m) summaries.push(...liveSummaries(ref, m));
    }
    const body: CompareResponse = {
      runs: loaded.map(({ storage, run, supersessions }) => {
        const specimen = describeSpecimen(storage.specimenId, storage.manifest);
        return {
          ...runSummary(run, supersessions),
          config: runConfig(run),
          summary: runSummaryFigures(run),
          domain: specimen.domain,
          method: specimen.method,
        };
      }),
      metrics: [...metricRuns]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([name, runs]) => ({ name, runs })),
      summaries,
      differences: differences(loaded.map(({ run }) => run)),
    };
    // With `width`, the first charts' series come along, saving the page a round trip before it draws.
    const width = intParam(query, 'width', 0, 0, MAX_WIDTH);
    if (width >= 16) {
      body.width = width;
      body.series = {};
      for (const { name } of body.metrics.slice(0, MAX_EMBEDDED_METRICS))
        body.series[name] = seriesOf(loaded, name, { width });
    }
    sendJson(res, 200, body);
  });

  router.get('/api/values', async ({ query, res }) => {
    const refs = runRefs(query);
    const step = numberParam(query, 'step');
    if (step === undefined) throw new HttpError(400, 'BadRequest', 'step is required');
    const source = sourceParam(query);
    const out: ValuesAtResponse = { step, source, runs: [] };
    for (const ref of refs) {
      const { run } = await ctx.run(ref.specimenId, ref.runId);
      const m = await loadSource(ctx, run, source);
      const values: Record<string, number | null> = {};
      if (!m || m.rows === 0) {
        out.runs.push({ specimen_id: ref.specimenId, run_id: ref.runId, step: null, values });
        continue;
      }
      const nearest = (steps: Float64Array): number => {
        let i = Math.min(lowerBound(steps, step), steps.length - 1);
        if (i > 0 && Math.abs(steps[i - 1]! - step) <= Math.abs(steps[i]! - step)) i--;
        return i;
      };
      const row = nearest(m.steps);
      const at: Record<string, number> = {};
      for (const c of m.columns) {
        if (!c.numeric) continue;
        // Each metric's value nearest the step among the rows that hold one (an eval every N steps too).
        const p = m.present(c.name)!;
        if (p.steps.length === 0) {
          values[c.name] = null;
          continue;
        }
        const i = nearest(p.steps);
        values[c.name] = p.values[i]!;
        at[c.name] = p.steps[i]!;
      }
      out.runs.push({
        specimen_id: ref.specimenId,
        run_id: ref.runId,
        step: m.steps[row]!,
        values,
        steps: at,
      });
    }
    sendJson(res, 200, out);
  });
}
