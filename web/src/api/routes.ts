/**
 * One function per route of the JSON API (src/server/routes/*.ts; the contract is docs/api.md), each typed
 * with the response type the server declares for it. Pages call these and nothing lower: no page builds an
 * API URL or reads a response body itself. Every function takes an optional AbortSignal last and rejects
 * with a `RequestError` when the server answers with an error.
 *
 * @example
 * const { runs } = await getSpecimen('2025_03_01_lr_sweep', signal)
 * const { series } = await getSeries({ runs: ['S/R'], metrics: ['loss'], width: 800 }, signal)
 */
import { apiUrl, getJson, postJson, sendJsonRequest } from './client.js';
import { fetchMultiples, fetchSlice, type Multiples, type Slice } from './slice.js';
import type {
  CatalogResponse,
  CatalogVersionResponse,
  CodeDiffResponse,
  CodeFileResponse,
  CodeListResponse,
  CompareResponse,
  ExplorerResponse,
  GroupsResponse,
  HealthResponse,
  IndexResponse,
  LogsResponse,
  MetricsPage,
  MultiplesStatsResponse,
  NotesPutRequest,
  PendingListResponse,
  QueryResponse,
  RunListResponse,
  RunResponse,
  SavedViewJson,
  SeriesResponse,
  SpecimenEditResponse,
  SpecimenPatchRequest,
  SpecimenResponse,
  TensorInfo,
  TurnsResponse,
  ValuesAtResponse,
  ViewListResponse,
  ViewResponse,
} from './types.js';

/** The path of a specimen, a run, a tensor in the API (every ID percent-encoded as one segment). */
function specimenPath(specimenId: string): string {
  return `specimens/${encodeURIComponent(specimenId)}`;
}

function runPath(specimenId: string, runId: string): string {
  return `${specimenPath(specimenId)}/runs/${encodeURIComponent(runId)}`;
}

function tensorPath(t: TensorRef): string {
  return `${runPath(t.specimenId, t.runId)}/tensors/${encodeURIComponent(t.name)}`;
}

/** A tensor of a run. */
export interface TensorRef {
  specimenId: string;
  runId: string;
  name: string;
}

/** `GET /api/health`: the vault's name and the server's version. */
export function getHealth(signal?: AbortSignal): Promise<HealthResponse> {
  return getJson('health', {}, signal);
}

/** `GET /api/catalog`: every specimen, newest first, with facet counts. */
export function getCatalog(signal?: AbortSignal): Promise<CatalogResponse> {
  return getJson('catalog', {}, signal);
}

/** `GET /api/catalog/version`: changes whenever an index changed the catalog. */
export function getCatalogVersion(signal?: AbortSignal): Promise<CatalogVersionResponse> {
  return getJson('catalog/version', {}, signal);
}

/** `GET /api/runs`: runs of any specimen, newest first, for pickers. */
export function listRuns(
  params: { q?: string; specimen?: string; limit?: number },
  signal?: AbortSignal,
): Promise<RunListResponse> {
  return getJson('runs', params, signal);
}

/** `POST /api/index`: updates the catalog (`full` re-reads every specimen). */
export function reindex(options: { full?: true } = {}, signal?: AbortSignal): Promise<IndexResponse> {
  return postJson('index', options, signal);
}

/** `GET /api/specimens/:id/turns`: the turns the catalog recorded for the specimen's runs. */
export function getTurns(specimenId: string, signal?: AbortSignal): Promise<TurnsResponse> {
  return getJson(`${specimenPath(specimenId)}/turns`, {}, signal);
}

/** `PATCH /api/specimens/:id`: edits hypothesis, expected results, conclusion, description, status, tags. */
export function patchSpecimen(
  specimenId: string,
  patch: SpecimenPatchRequest,
  signal?: AbortSignal,
): Promise<SpecimenEditResponse> {
  return postJson(specimenPath(specimenId), patch, signal, 'PATCH');
}

/** `PUT /api/specimens/:id/notes`: replaces the field notes (409 when they changed since `base_sha256`). */
export function putFieldNotes(
  specimenId: string,
  body: NotesPutRequest,
  signal?: AbortSignal,
): Promise<SpecimenEditResponse> {
  return postJson(`${specimenPath(specimenId)}/notes`, body, signal, 'PUT');
}

/** `POST /api/specimens/:id/notes`: appends a dated entry (`## YYYY-MM-DD HH:MM UTC`) to the field notes. */
export function addNoteEntry(
  specimenId: string,
  entry: string,
  signal?: AbortSignal,
): Promise<SpecimenEditResponse> {
  return postJson(`${specimenPath(specimenId)}/notes`, { entry }, signal);
}

/** `GET /api/specimens/:id`: manifest, status, field notes (raw and as Markdown), protocol and runs. */
export function getSpecimen(specimenId: string, signal?: AbortSignal): Promise<SpecimenResponse> {
  return getJson(specimenPath(specimenId), {}, signal);
}

/** `GET /api/specimens/:id/runs/:run`: one run with its config, metric columns and tensors. */
export function getRun(specimenId: string, runId: string, signal?: AbortSignal): Promise<RunResponse> {
  return getJson(runPath(specimenId, runId), {}, signal);
}

/** `GET …/runs/:run/logs`: the run's stdout or stderr from byte `offset` (the last 64 kB without it). */
export function getLogs(
  specimenId: string,
  runId: string,
  stream: 'stdout' | 'stderr',
  offset: number | undefined,
  signal?: AbortSignal,
): Promise<LogsResponse> {
  return getJson(
    `${runPath(specimenId, runId)}/logs`,
    offset === undefined ? { stream } : { stream, offset },
    signal,
  );
}

/** `GET …/runs/:run/code`: the code kept with a run (files with size and sha256, untracked, skipped). */
export function getRunCode(
  specimenId: string,
  runId: string,
  signal?: AbortSignal,
): Promise<CodeListResponse> {
  return getJson(`${runPath(specimenId, runId)}/code`, {}, signal);
}

/** `GET …/runs/:run/code/:file`: one kept code file as text (cut at 1 MiB). */
export function getRunCodeFile(
  specimenId: string,
  runId: string,
  file: string,
  signal?: AbortSignal,
): Promise<CodeFileResponse> {
  return getJson(`${runPath(specimenId, runId)}/code/${encodeURIComponent(file)}`, {}, signal);
}

/** `GET /api/code-diff`: the unified diff of kept code file `file` from run `a` to run `b` (references). */
export function getCodeDiff(
  a: string,
  b: string,
  file: string,
  signal?: AbortSignal,
): Promise<CodeDiffResponse> {
  return getJson('code-diff', { run: [a, b], file }, signal);
}

function pendingPath(specimenId: string, stage: string): string {
  return `${specimenPath(specimenId)}/pending/${encodeURIComponent(stage)}`;
}

/** `GET /api/specimens/:id/pending`: the runs staged in the specimen's pending/, not sealed yet. */
export function listPending(specimenId: string, signal?: AbortSignal): Promise<PendingListResponse> {
  return getJson(`${specimenPath(specimenId)}/pending`, {}, signal);
}

/** `GET …/pending/:stage/series`: a staged run's series (its live metrics.jsonl, or system.jsonl). */
export function getPendingSeries(
  specimenId: string,
  stage: string,
  params: { metrics: readonly string[]; width: number; from?: number; to?: number; source?: SeriesSource },
  signal?: AbortSignal,
): Promise<SeriesResponse> {
  const { metrics, width, from, to, source } = params;
  return getJson(
    `${pendingPath(specimenId, stage)}/series`,
    { metric: metrics, width, from, to, source },
    signal,
  );
}

/** `GET …/pending/:stage/logs`: a staged run's stdout or stderr from byte `offset`, as getLogs. */
export function getPendingLogs(
  specimenId: string,
  stage: string,
  stream: 'stdout' | 'stderr',
  offset: number | undefined,
  signal?: AbortSignal,
): Promise<LogsResponse> {
  return getJson(
    `${pendingPath(specimenId, stage)}/logs`,
    offset === undefined ? { stream } : { stream, offset },
    signal,
  );
}

/** `GET …/runs/:run/metrics`: `limit` rows (at most 5,000) of the metrics table from `offset`, in step order. */
export function getMetricsPage(
  specimenId: string,
  runId: string,
  page: { offset: number; limit: number },
  signal?: AbortSignal,
): Promise<MetricsPage> {
  return getJson(`${runPath(specimenId, runId)}/metrics`, page, signal);
}

/**
 * `GET /api/series`: one series per run × metric, downsampled to `width` buckets over the step range
 * `from`–`to` (the whole runs when absent); with `source: 'system'`, the runs' system metrics over elapsed
 * seconds.
 */
export function getSeries(
  params: {
    runs: readonly string[];
    metrics: readonly string[];
    width: number;
    from?: number;
    to?: number;
    source?: SeriesSource;
  },
  signal?: AbortSignal,
): Promise<SeriesResponse> {
  const { runs, metrics, width, from, to, source } = params;
  return getJson('series', { run: runs, metric: metrics, width, from, to, source }, signal);
}

/** Where series come from: a run's metrics (by step) or its system metrics (by elapsed seconds). */
export type SeriesSource = 'metrics' | 'system';

/** The system metrics a run may hold (system.parquet's columns), in the order they are charted. */
export const SYSTEM_METRICS = ['cpu_percent', 'rss_bytes', 'gpu_util_percent', 'gpu_memory_bytes'] as const;

/** `GET /api/compare`: summaries, configs and metrics of runs; with `width`, the first charts' series too. */
export function getCompare(
  runs: readonly string[],
  options: { width?: number } = {},
  signal?: AbortSignal,
): Promise<CompareResponse> {
  return getJson('compare', { run: runs, width: options.width }, signal);
}

/**
 * `GET /api/values`: every numeric metric of each run at the row whose step is nearest to `step`; with
 * `source: 'system'`, every system metric at the sample nearest to `step` elapsed seconds.
 */
export function getValues(
  runs: readonly string[],
  step: number,
  signal?: AbortSignal,
  source?: SeriesSource,
): Promise<ValuesAtResponse> {
  return getJson('values', { run: runs, step, source }, signal);
}

/** `GET …/tensors/:name`: shape, dtype and chunks of a tensor. */
export function getTensor(tensor: TensorRef, signal?: AbortSignal): Promise<TensorInfo> {
  return getJson(tensorPath(tensor), {}, signal);
}

/** `GET …/tensors/:name/slice?sel=`: one hyper-slab (`sel` NumPy style, one entry per dimension). */
export function getSlice(tensor: TensorRef, sel: string, signal?: AbortSignal): Promise<Slice> {
  return fetchSlice(apiUrl(`${tensorPath(tensor)}/slice`, { sel }), signal);
}

/** A small-multiples grid: three distinct dimensions and an index for every other one. */
export interface GridSpec {
  grid: number;
  rows: number;
  cols: number;
  /** One index per dimension (those of grid, rows and cols are ignored). */
  at: readonly number[];
}

/**
 * `GET …/tensors/:name/multiples`: slices [from, to) along the grid (to the end when `to` is undefined), in
 * one binary body; the server may hold back the tail beyond a page (the answer's `to` says where it ends).
 */
export function getMultiples(
  tensor: TensorRef,
  spec: GridSpec,
  from: number,
  to: number | undefined,
  /** `px`: colour codes mean-pooled to this many pixels along a slice's longer side, when it is longer. */
  options: { codes?: boolean; range?: readonly [number, number]; max?: number; px?: number } = {},
  signal?: AbortSignal,
): Promise<Multiples> {
  const { grid, rows, cols, at } = spec;
  const as = options.codes ? 'codes' : undefined;
  const range = options.range?.join(',');
  return fetchMultiples(
    apiUrl(`${tensorPath(tensor)}/multiples`, {
      grid,
      rows,
      cols,
      at: at.join(','),
      from,
      to,
      as,
      range,
      max: options.max,
      px: options.px || undefined,
    }),
    signal,
  );
}

/** `GET …/tensors/:name/multiples/stats`: `stat` of every slice along the grid, and their whole range. */
export function getMultiplesStats(
  tensor: TensorRef,
  spec: GridSpec,
  stat: string,
  signal?: AbortSignal,
): Promise<MultiplesStatsResponse> {
  const { grid, rows, cols, at } = spec;
  return getJson(
    `${tensorPath(tensor)}/multiples/stats`,
    { grid, rows, cols, at: at.join(','), stat },
    signal,
  );
}

/** `POST /api/query`: one read-only SQL query over the catalog (`maxRows` 1–100,000, default 10,000). */
export function runQuery(
  body: { sql: string; maxRows?: number },
  signal?: AbortSignal,
): Promise<QueryResponse> {
  return postJson('query', body, signal);
}

/** What `getExplorer` asks for: filters as `<column><op><value>` (see docs/api.md). */
export interface ExplorerQuery {
  q?: string;
  filters?: readonly string[];
  sort?: string;
  dir?: 'asc' | 'desc';
  group?: readonly string[];
  metrics?: readonly string[];
  offset?: number;
  limit?: number;
}

/** `GET /api/explorer`: one page of every run (or group of runs) with config keys and metric summaries. */
export function getExplorer(params: ExplorerQuery, signal?: AbortSignal): Promise<ExplorerResponse> {
  const { q, filters, sort, dir, group, metrics, offset, limit } = params;
  return getJson(
    'explorer',
    { q: q || undefined, filter: filters, sort, dir, group, metric: metrics, offset, limit },
    signal,
  );
}

/** What `getGroups` asks for (see docs/api.md). `group` holds config keys, or `:run` for one group per run. */
export interface GroupsQuery {
  runs: readonly string[];
  metric: string;
  group: readonly string[];
  width: number;
  center?: 'mean' | 'median';
  x?: string;
  relative?: boolean;
  from?: number;
  to?: number;
}

/** `GET /api/groups`: runs grouped by config keys, each group's mean/median with its spread, per pixel bucket. */
export function getGroups(params: GroupsQuery, signal?: AbortSignal): Promise<GroupsResponse> {
  const { runs, metric, group, width, center, x, relative, from, to } = params;
  return getJson(
    'groups',
    { run: runs, metric, group, width, center, x, relative: relative ? 1 : undefined, from, to },
    signal,
  );
}

function viewPath(name: string): string {
  return `views/${encodeURIComponent(name)}`;
}

/** `GET /api/views`: the saved views, by name. */
export function listViews(signal?: AbortSignal): Promise<ViewListResponse> {
  return getJson('views', {}, signal);
}

/** `GET /api/views/:name`: one saved view. */
export function getView(name: string, signal?: AbortSignal): Promise<ViewResponse> {
  return getJson(viewPath(name), {}, signal);
}

/** `PUT /api/views/:name`: saves a view (validated by the server); answers with it as stored. */
export function saveView(name: string, view: SavedViewJson, signal?: AbortSignal): Promise<ViewResponse> {
  return sendJsonRequest('PUT', viewPath(name), view, signal);
}

/** `DELETE /api/views/:name`. */
export function deleteView(name: string, signal?: AbortSignal): Promise<{ deleted: string }> {
  return sendJsonRequest('DELETE', viewPath(name), undefined, signal);
}
