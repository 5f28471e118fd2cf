/**
 * The data of a standalone report (src/report/report-types.ts), read with the vault's own readers: runs and
 * specimens through `collectSpecimen` (storage's run descriptions, supersessions, notes, summaries), metric
 * series through the server's metrics cache and its min/max downsampling (src/server/downsample.ts), turns
 * through the catalog's kept turns (`findTurns`), SQL through the sandboxed catalog session, tensors through
 * `readTensorLazy` (only the strided 2-D slice a thumbnail needs is read). Everything is ordered by rule
 * (specimens as asked, runs by time, metrics and keys by name), so the same vault and arguments give the
 * same data.
 *
 * @example
 * const data = await buildReportData(vault, { refs: ['2025_01_02_grok', '2025_01_03_x/20250103_101010'] })
 * const view = await buildReportData(vault, { refs: [], view: 'turns' })
 */
import { findTurns } from '../catalog/index.js';
import { runUserQuery } from '../catalog/query.js';
import { UsageError } from '../errors.js';
import { assertRunId, assertSpecimenId } from '../format/ids.js';
import type { PlainObject } from '../format/msgpack.js';
import type { SavedView, ViewItem } from '../format/view.js';
import { downsampleMinMax } from '../server/downsample.js';
import { MetricsCache, type RunMetrics } from '../server/metrics-cache.js';
import { readRunMetrics } from '../storage/metrics/index.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import type { Vault } from '../storage/vault.js';
import { readView } from '../storage/views.js';
import {
  type CollectedRun,
  type CollectedSpecimen,
  collectSpecimen,
  gitOf,
  seedText,
  stableJson,
} from './collect.js';
import {
  type ReportData,
  type ReportItem,
  type ReportRun,
  type ReportSeries,
  reportLimits,
} from './report-types.js';

/** Options of `buildReportData`. */
export interface ReportOptions {
  /** Specimen IDs (every run) or `<specimen_id>/<run_id>`. */
  refs: readonly string[];
  /** A read-only SQL query whose result is added as a table. */
  query?: string;
  /** A saved view (views/<name>.json) that chooses and orders the report's items. */
  view?: string;
  /** Metrics to chart without a view (default: every numeric metric, at most MAX_DEFAULT_CHARTS). */
  metrics?: readonly string[];
}

/** Charts drawn when no metrics are named. */
export const MAX_DEFAULT_CHARTS = 12;
/** Tensor thumbnails without a view: per run and in all. */
const TENSORS_PER_RUN = 2;
const MAX_TENSORS = 12;
/** Longest side of a tensor thumbnail, in cells. */
const THUMB_SIDE = 128;
/** Rows of a SQL table embedded in a report. */
const MAX_TABLE_ROWS = 1000;

interface Selection {
  /** Specimen ID → the run IDs asked for, or 'all'. */
  bySpecimen: Map<string, Set<string> | 'all'>;
}

/** Parses report references: a specimen ID, or `<specimen_id>/<run_id>`. */
export function parseRefs(refs: readonly string[], into: Selection = { bySpecimen: new Map() }): Selection {
  for (const ref of refs) {
    const slash = ref.indexOf('/');
    if (slash < 0) {
      assertSpecimenId(ref);
      into.bySpecimen.set(ref, 'all');
      continue;
    }
    const specimenId = ref.slice(0, slash);
    const runId = ref.slice(slash + 1);
    assertSpecimenId(specimenId);
    assertRunId(runId);
    const cur = into.bySpecimen.get(specimenId);
    if (cur === 'all') continue;
    into.bySpecimen.set(specimenId, (cur ?? new Set()).add(runId));
  }
  return into;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** A run's series of `metric` against `x`: all points up to `limits.fullPoints`, min/max buckets beyond. */
export function seriesOf(
  m: RunMetrics,
  metric: string,
  x: string,
  limits: { fullPoints: number; buckets: number } = reportLimits(1),
): Omit<ReportSeries, 'run' | 'label'> | undefined {
  const ys = m.numeric(metric);
  if (!ys) return undefined;
  let xs: Float64Array = m.steps;
  let yv: Float64Array = ys;
  if (x !== 'step') {
    const col = m.numeric(x);
    if (!col) return undefined;
    // Another logged column as the x axis: points ordered by it, rows without a finite x left out.
    const idx = [...col.keys()]
      .filter((i) => Number.isFinite(col[i]!))
      .sort((a, b) => col[a]! - col[b]! || a - b);
    xs = Float64Array.from(idx, (i) => col[i]!);
    yv = Float64Array.from(idx, (i) => ys[i]!);
  }
  // Rows without a step (NaN, sorted last by the metrics cache) have no place on the x axis.
  let n = xs.length;
  while (n > 0 && !Number.isFinite(xs[n - 1]!)) n--;
  if (n < xs.length) {
    xs = xs.subarray(0, n);
    yv = yv.subarray(0, n);
  }
  if (n <= limits.fullPoints) {
    return { steps: Array.from(xs), values: Array.from(yv, finite), total: n, downsampled: false };
  }
  const s = downsampleMinMax(xs, yv, { width: limits.buckets });
  return { steps: s.steps, values: s.values, total: s.total, downsampled: s.downsampled };
}

function reportRun(specimen: CollectedSpecimen, run: CollectedRun): ReportRun {
  const { info } = run;
  const m = (info.manifest ?? {}) as PlainObject;
  const environment: Record<string, unknown> = {};
  for (const k of ['host', 'runtime', 'dependencies', 'device'] as const)
    if (m[k] !== undefined && m[k] !== null) environment[k] = JSON.parse(stableJson(m[k]));
  const exit = info.exitCode;
  return {
    ref: `${specimen.id}/${info.runId}`,
    specimenId: specimen.id,
    runId: info.runId,
    status: info.status,
    started: info.started,
    durationS: info.durationS,
    command: info.command,
    exitCode: exit === null ? null : Number(exit),
    seed: seedText(info.seeds),
    config: JSON.parse(stableJson(info.config)),
    summary: JSON.parse(stableJson(info.summary)),
    git: gitOf(info),
    environment,
    reproduces: info.reproduces,
    verdict: info.reproduceVerdict,
    supersededBy: run.supersededBy ? { by: run.supersededBy.by, reason: run.supersededBy.reason } : null,
    failure: run.failure,
    notes: run.notes,
    metrics: run.summaries
      .map((s) => ({
        column: s.column,
        last: s.last === null ? null : finite(s.last),
        min: s.min === null ? null : finite(s.min),
        stepOfMin: s.step_of_min,
        max: s.max === null ? null : finite(s.max),
        stepOfMax: s.step_of_max,
        mean: s.mean === null ? null : finite(s.mean),
        count: s.count,
      }))
      .sort((a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0)),
  };
}

/** The thumbnail of a run's tensor: a strided 2-D slice (leading dimensions at `index`, default 0). */
async function tensorItem(
  vault: Vault,
  run: ReportRun,
  tensor: string,
  index: readonly number[],
  title?: string,
): Promise<Extract<ReportItem, { kind: 'tensor' }>> {
  const storage = await SpecimenStorage.open(run.specimenId, { vault });
  const handle = await storage.readTensorLazy(tensor, run.runId);
  const shape = [...handle.shape];
  if (shape.length === 0)
    throw new UsageError(`report: tensor "${tensor}" of ${run.ref} is a scalar, not an array`);
  const lead = shape.slice(0, Math.max(0, shape.length - 2)).map((size, d) => {
    const i = index[d] ?? 0;
    if (i >= size)
      throw new UsageError(
        `report: index ${i} of dimension ${d} of tensor "${tensor}" is out of range (size ${size})`,
      );
    return i;
  });
  const h = shape.length >= 2 ? shape[shape.length - 2]! : 1;
  const w = shape[shape.length - 1]!;
  const sh = Math.max(1, Math.ceil(h / THUMB_SIDE));
  const sw = Math.max(1, Math.ceil(w / THUMB_SIDE));
  const sel = shape.length >= 2 ? [...lead, [0, h, sh] as const, [0, w, sw] as const] : [[0, w, sw] as const];
  const { data, shape: got } = await handle.read(sel);
  const height = got.length >= 2 ? got[got.length - 2]! : 1;
  const width = got[got.length - 1] ?? 0;
  const values = Float64Array.from(data as ArrayLike<number | bigint>, (v) => Number(v));
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const span = max > min ? max - min : 1;
  const pixels = Buffer.alloc(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    pixels[i] = Number.isFinite(v) ? Math.round(((v - min) / span) * 254) : 255;
  }
  const dims = shape.length >= 2 ? [...lead.map(String), ':', ':'] : [':'];
  const strided = sh > 1 || sw > 1 ? ` every ${sh === sw ? sh : `${sh}×${sw}`} cells` : '';
  return {
    kind: 'tensor',
    title: title ?? `${tensor} · ${run.ref}`,
    run: run.ref,
    tensor,
    shape,
    dtype: handle.dtype,
    slice: `[${dims.join(', ')}]${strided}`,
    width,
    height,
    min: Number.isFinite(min) ? min : null,
    max: Number.isFinite(max) ? max : null,
    pixels: pixels.toString('base64'),
  };
}

async function tableItem(root: string, sql: string, title?: string): Promise<ReportItem> {
  const r = await runUserQuery(root, sql, { readOnly: true, maxRows: MAX_TABLE_ROWS });
  const columns = r.columns.map((c) => c.name);
  return {
    kind: 'table',
    title: title ?? 'Query',
    sql,
    columns,
    rows: r.rows.map((row) => columns.map((c) => row[c] ?? null)),
    truncated: r.truncated,
  };
}

/** Builds the report's data (see the module comment). */
export async function buildReportData(vault: Vault, options: ReportOptions): Promise<ReportData> {
  const view: SavedView | undefined =
    options.view === undefined ? undefined : await readView(vault.root, options.view);
  const selection = parseRefs(options.refs);
  if (view) {
    parseRefs(view.runs, selection);
    for (const item of view.items) {
      if ((item.kind === 'chart' || item.kind === 'table') && 'runs' in item && item.runs)
        parseRefs(item.runs, selection);
      if (item.kind === 'tensor') parseRefs([item.run], selection);
    }
  }
  if (selection.bySpecimen.size === 0 && options.query === undefined)
    throw new UsageError('report: name at least one specimen or run (or a view that does)');

  const specimens: CollectedSpecimen[] = [];
  for (const [id, runs] of selection.bySpecimen)
    specimens.push(await collectSpecimen(vault, id, runs === 'all' ? undefined : [...runs].sort()));
  const runs: ReportRun[] = specimens.flatMap((s) => s.runs.map((r) => reportRun(s, r)));
  const byRef = new Map(runs.map((r) => [r.ref, r]));

  const cache = new MetricsCache((dir, runId) => readRunMetrics(dir, runId));
  const metricsOf = async (ref: string): Promise<RunMetrics | undefined> => {
    const r = byRef.get(ref)!;
    const spec = specimens.find((s) => s.id === r.specimenId)!;
    const info = spec.runs.find((x) => x.info.runId === r.runId)!.info;
    return cache.get(info.path, info.runId);
  };

  // The metrics the vault names for turns (as `specimen turns` uses them), else every numeric metric.
  const turnMetrics = vault.config.turnMetrics;
  const turnRuns = await findTurns(vault.root, {
    specimenIds: [...selection.bySpecimen.keys()],
    ...(turnMetrics.length > 0 ? { metrics: turnMetrics } : {}),
  });
  const turnOf = (ref: string, metric: string) => {
    const t = turnRuns.find((x) => `${x.specimenId}/${x.runId}` === ref);
    return t?.turns[metric] ?? null;
  };

  /** Refs of a run set: specimen IDs expand to their runs in the report. */
  const expand = (set: readonly string[] | undefined): string[] => {
    if (!set || set.length === 0) return runs.map((r) => r.ref);
    const out: string[] = [];
    for (const ref of set) {
      if (ref.includes('/')) out.push(ref);
      else out.push(...runs.filter((r) => r.specimenId === ref).map((r) => r.ref));
    }
    return [...new Set(out)].filter((r) => byRef.has(r));
  };

  const chart = async (
    metric: string,
    refs: string[],
    x: string,
    log: boolean,
    groupBy: readonly string[],
    title?: string,
  ): Promise<ReportItem> => {
    const series: ReportSeries[] = [];
    const markers: Extract<ReportItem, { kind: 'chart' }>['markers'] = [];
    for (const ref of refs) {
      const m = await metricsOf(ref);
      const s = m ? seriesOf(m, metric, x, limits) : undefined;
      if (!s) continue;
      const run = byRef.get(ref)!;
      const group = groupBy.map((k) => `${k}=${stableJson(run.config[k] ?? null)}`).join(' ');
      series.push({ run: ref, label: group ? `${group} · ${ref}` : ref, ...s });
      const turn = x === 'step' ? turnOf(ref, metric) : null;
      if (turn) markers.push({ run: ref, step: turn.step, label: 'turn' });
    }
    return { kind: 'chart', title: title ?? metric, metric, x, log, series, markers };
  };

  // How many series the charts hold, for the per-series limits of the embedded points.
  let defaultMetrics: string[] = [];
  let seriesCount = 0;
  if (view) {
    for (const item of view.items as ViewItem[])
      if (item.kind === 'chart') seriesCount += item.metrics.length * expand(item.runs ?? view.runs).length;
  } else {
    if (options.metrics) defaultMetrics = [...options.metrics];
    else {
      const names = new Set<string>();
      for (const r of runs) for (const s of r.metrics) names.add(s.column);
      defaultMetrics = [...names].sort().slice(0, MAX_DEFAULT_CHARTS);
    }
    seriesCount = defaultMetrics.length * runs.length;
  }
  const limits = reportLimits(seriesCount);

  const items: ReportItem[] = [];
  if (view) {
    if (view.description) items.push({ kind: 'text', title: null, markdown: view.description });
    for (const item of view.items as ViewItem[]) {
      if (item.kind === 'text')
        items.push({ kind: 'text', title: item.title ?? null, markdown: item.markdown });
      else if (item.kind === 'chart') {
        const refs = expand(item.runs ?? view.runs);
        for (const metric of item.metrics)
          items.push(
            await chart(
              metric,
              refs,
              item.x,
              item.log,
              item.group_by,
              item.metrics.length === 1 ? item.title : undefined,
            ),
          );
      } else if (item.kind === 'table') {
        if ('sql' in item) items.push(await tableItem(vault.root, item.sql, item.title));
        else items.push({ kind: 'runs', refs: expand(item.runs.length > 0 ? item.runs : view.runs) });
      } else {
        const run = byRef.get(item.run);
        if (!run)
          throw new UsageError(
            `report: view item names run ${JSON.stringify(item.run)}, which is not in the vault`,
          );
        items.push(await tensorItem(vault, run, item.tensor, item.index, item.title));
      }
    }
    if (options.query !== undefined) items.push(await tableItem(vault.root, options.query));
    for (const kind of ['summaries', 'config-diff', 'notes', 'provenance'] as const) items.push({ kind });
  } else {
    const refs = runs.map((r) => r.ref);
    for (const metric of defaultMetrics) items.push(await chart(metric, refs, 'step', false, []));
    items.push({ kind: 'runs' }, { kind: 'summaries' }, { kind: 'config-diff' });
    let shown = 0;
    for (const run of runs) {
      const spec = specimens.find((s) => s.id === run.specimenId)!;
      const info = spec.runs.find((x) => x.info.runId === run.runId)!.info;
      const storage = await SpecimenStorage.open(run.specimenId, { vault });
      const names = (await storage.listTensors(info.runId)).sort().slice(0, TENSORS_PER_RUN);
      for (const name of names) {
        if (shown >= MAX_TENSORS) break;
        items.push(await tensorItem(vault, run, name, []));
        shown++;
      }
    }
    if (options.query !== undefined) items.push(await tableItem(vault.root, options.query));
    items.push({ kind: 'notes' }, { kind: 'provenance' });
  }

  const title =
    view?.title ??
    (specimens.length === 1 ? `Report: ${specimens[0]!.id}` : `Report: ${specimens.length} specimens`);
  return {
    title,
    source: { refs: [...options.refs], query: options.query ?? null, view: options.view ?? null },
    limits,
    specimens: specimens.map((s) => ({
      id: s.id,
      domain: s.description.domain,
      method: s.description.method,
      model: s.description.model,
      status: s.description.status,
      tags: [...s.description.tags],
      description: s.description.description,
      lab: s.lab.map((l) => ({ field: l.field, text: l.text })),
      fieldNotes: s.fieldNotes,
    })),
    runs,
    items,
  };
}
