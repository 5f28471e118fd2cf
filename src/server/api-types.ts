/**
 * Shapes of the JSON API's responses (see docs/api.md). Shared, as types only, with the web app.
 */

/** Any JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface HealthResponse {
  ok: true;
  name: string;
  version: string;
  /** True when the server requires an access token. */
  tokenRequired: boolean;
}

/** Columns of `GET /api/catalog` rows, in order. */
export const CATALOG_COLUMNS = [
  'specimen_id',
  'created',
  'domain',
  'method',
  'model',
  'tags',
  'status',
  'run_count',
  'latest_run',
  'latest_status',
  'description',
  'hypothesis',
] as const;

export interface CatalogResponse {
  columns: typeof CATALOG_COLUMNS;
  /** One array per specimen, values in `columns` order (`tags` is a string array). */
  rows: Json[][];
  total: number;
  /** Distinct values with counts, for the filter menus. */
  facets: {
    tags: [string, number][];
    domains: [string, number][];
    methods: [string, number][];
    statuses: [string, number][];
  };
  /** Milliseconds the catalog query took on the server. */
  queryMs: number;
  /** The catalog version these rows were read at (see CatalogVersionResponse). */
  version: string;
}

/** `GET /api/specimens/:id/runs/:run/logs`: a piece of a run's stdout or stderr (see docs/api.md). */
export interface LogsResponse {
  stream: 'stdout' | 'stderr';
  /** False while the run has no such file (yet). */
  exists: boolean;
  /** The file's size in bytes. */
  size: number;
  /** Byte offset of `text` in the file, and the offset to ask from next time. */
  offset: number;
  next_offset: number;
  text: string;
}

/** `GET /api/catalog/version`: an opaque text that changes whenever an index changed the catalog. */
export interface CatalogVersionResponse {
  version: string;
}

/** One run as the specimen and compare pages show it. */
export interface RunSummary {
  specimen_id: string;
  run_id: string;
  status: string;
  sealed: boolean;
  started: string | null;
  ended: string | null;
  duration_s: number | null;
  git_commit: string | null;
  seed: Json;
  superseded_by: string | null;
  supersede_reason: string | null;
  reproduces: string | null;
  reproduce_verdict: string | null;
  command: string | null;
  exit_code: number | null;
  /** The run's display name (shown instead of its ID where given), tags and notes. */
  name: string | null;
  tags: string[];
  notes: string | null;
}

/** One turn of a run's metric, from the catalog's `turns` table (docs/analysis.md). */
export interface TurnEntry {
  run_id: string;
  metric: string;
  /** The step of the steepest change; null when the metric has no turn. */
  step: number | null;
  onset_step: number | null;
  end_step: number | null;
  score: number | null;
  method: string;
}

/** `GET /api/specimens/:id/turns`: the turns the catalog holds for the specimen's runs. */
export interface TurnsResponse {
  specimen_id: string;
  turns: TurnEntry[];
}

export interface SpecimenResponse {
  specimen_id: string;
  manifest: Record<string, Json>;
  /** Raw text of field_notes.md (what the editor starts from), or null when there is none. */
  field_notes: string | null;
  /**
   * The field notes as Markdown (the older `●` markup converted, see src/format/field-notes.ts), rendered and
   * sanitized by the client; null when there are none.
   */
  field_notes_markdown: string | null;
  /** sha256 of field_notes.md as read; send it back as `base_sha256` to refuse overwriting a newer edit. */
  field_notes_sha256: string | null;
  /** True when field_notes.md is larger than the server sends (200 kB): shown cut short, not editable here. */
  field_notes_truncated: boolean;
  /** The specimen's status as shown: a planned specimen with runs reads `active`. */
  status: string;
  protocol_file: string | null;
  /** The protocol's source (at most 200 kB), or null. */
  protocol: string | null;
  runs: RunSummary[];
}

/** Body of `PATCH /api/specimens/:id`: only the keys given change; null or "" clears a text field. */
export interface SpecimenPatchRequest {
  hypothesis?: string | null;
  expected_results?: string | null;
  conclusion?: string | null;
  description?: string | null;
  status?: string;
  tags?: string[];
}

/** Body of `PUT /api/specimens/:id/notes`. */
export interface NotesPutRequest {
  text: string;
  /** `field_notes_sha256` of the version edited (null: there were none); a mismatch is a 409. */
  base_sha256?: string | null;
}

/** Answer of the edit routes: the manifest and notes as now on disk, and whether the catalog followed. */
export interface SpecimenEditResponse {
  specimen_id: string;
  manifest: Record<string, Json>;
  status: string;
  field_notes_sha256: string | null;
  /**
   * False when the catalog could not be updated right away (it is on the next index). Notes edits leave the
   * catalog alone (it does not hold the notes) and answer true.
   */
  indexed: boolean;
}

export interface MetricColumnInfo {
  name: string;
  type: string;
  numeric: boolean;
}

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: string;
  chunks: number[];
  zarr_format: number;
  bytes: number | null;
  /** A tensor series: the step of each index of the leading axis (docs/format.md). Absent otherwise. */
  steps?: number[];
}

/** `GET …/tensors/:name/multiples/stats`: a statistic of every slice of a small-multiples grid. */
export interface MultiplesStatsResponse {
  /** `index` (ranges only), `mean`, `variance`, `fft_low` or `gradient`. */
  stat: string;
  /** One value per slice along the grid (null where not finite); empty for `index`. */
  values: (number | null)[];
  /** Finite range over every slice (null when none is finite). */
  min: number | null;
  max: number | null;
}

export interface RunResponse {
  run: RunSummary & { config: Json; summary: Json; manifest: Json };
  metrics: { rows: number; has_step: boolean; columns: MetricColumnInfo[] } | null;
  tensors: TensorInfo[];
}

export interface MetricsPage {
  columns: MetricColumnInfo[];
  rows: Json[][];
  offset: number;
  total: number;
}

export interface SeriesEntry {
  specimen_id: string;
  run_id: string;
  metric: string;
  status: string;
  steps: number[];
  values: (number | null)[];
  /** Points of the run inside the requested step range. */
  total: number;
  downsampled: boolean;
  /** Step range of the whole run. */
  min_step: number | null;
  max_step: number | null;
  /** Set when the run has no such metric (or no metrics). */
  missing?: boolean;
}

export interface SeriesResponse {
  width: number;
  from: number | null;
  to: number | null;
  series: SeriesEntry[];
}

export interface MetricSummaryRow {
  specimen_id: string;
  run_id: string;
  metric: string;
  count: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
  first: number | null;
  last: number | null;
  step_of_min: number | null;
  step_of_max: number | null;
  /** `catalog` (metric_summaries) or `live` (computed now: the run is not indexed or still running). */
  source: 'catalog' | 'live';
}

export interface CompareResponse {
  runs: (RunSummary & { config: Json; summary: Json; domain: string | null; method: string | null })[];
  /** Numeric metrics of the runs (union), each with the runs that have it. */
  metrics: { name: string; runs: string[] }[];
  summaries: MetricSummaryRow[];
  /**
   * The keys of code (git state, command), environment (host, runtimes) and dependencies (package by
   * package) whose values differ between the runs, with each run's value in `runs` order (null: absent);
   * as `specimen diff` compares two runs.
   */
  differences: { section: 'code' | 'environment' | 'dependencies'; key: string; values: Json[] }[];
  /** With `?width=`: the chart width the series below were downsampled for. */
  width?: number;
  /** With `?width=`: the whole-run series of the first metrics (by name), as `GET /api/series` gives them. */
  series?: Record<string, SeriesEntry[]>;
}

export interface ValuesAtResponse {
  /** The step asked for (elapsed seconds with `source: 'system'`). */
  step: number;
  /** Where the values come from: the runs' metrics, or their system metrics (x is elapsed seconds). */
  source: 'metrics' | 'system';
  runs: {
    specimen_id: string;
    run_id: string;
    /** The step of the run's row nearest the asked step. */
    step: number | null;
    /** Each metric's value nearest the step among the rows that hold one (null: the metric has none). */
    values: Record<string, number | null>;
    /** The step each value comes from (differs from `step` for a metric logged every N steps). */
    steps?: Record<string, number>;
  }[];
}

export interface RunListEntry {
  specimen_id: string;
  run_id: string;
  status: string;
  started: string | null;
  domain: string | null;
  method: string | null;
  model: string | null;
}

export interface RunListResponse {
  runs: RunListEntry[];
  total: number;
  truncated: boolean;
}

export interface QueryResponse {
  columns: { name: string; type: string }[];
  rows: Json[][];
  truncated: boolean;
  /** Which limit cut the result short: the row limit or the byte limit. */
  truncatedBy?: 'rows' | 'bytes';
  elapsedMs: number;
}

export interface IndexResponse {
  specimens: { total: number; indexed: number; unchanged: number; skipped: number; removed: number };
  runs: { total: number; indexed: number; unchanged: number; removed: number };
  warnings: string[];
  durationMs: number;
}

export interface ApiError {
  error: { tag: string; message: string; position?: number; line?: number; column?: number };
}

/** A column of `GET /api/explorer`. */
export interface ExplorerColumnInfo {
  /** `specimen_id`, `run_id`, `status`, `started`, `duration_s`, `domain`, `method`, `model`, `config.<key>`, `summary.<key>`, `<metric>.final|min|max|step_of_min`. */
  key: string;
  source: 'run' | 'config' | 'summary' | 'metric';
  kind: 'text' | 'number';
}

export interface ExplorerResponse {
  columns: ExplorerColumnInfo[];
  /** One array per run (or group), values in `columns` order; the first two are specimen_id and run_id. */
  rows: Json[][];
  /** With `group=`: the number of runs in each row's group. */
  counts?: number[];
  offset: number;
  /** Rows (runs, or groups) matching the filters. */
  total: number;
  /** Runs matching the filters. */
  runs: number;
  /** Metrics with summary columns. */
  metrics: string[];
  /** Milliseconds the catalog query took on the server. */
  queryMs: number;
}

/** One group's line of `GET /api/groups`: parallel arrays, one entry per point kept. */
export interface GroupLineEntry {
  /** The group's config values, in `group` order (null where a run lacks the key). */
  key: Json[];
  /** `<specimen>/<run>` of the group's runs. */
  runs: string[];
  x: number[];
  mean: number[];
  median: number[];
  /** Sample standard deviation across the group's runs (null with one run). */
  std: (number | null)[];
  min: number[];
  max: number[];
  /** Runs with a finite value at this x. */
  n: number[];
}

export interface GroupsResponse {
  metric: string;
  /** The config keys grouped by. */
  group: string[];
  center: 'mean' | 'median';
  /** `step` or the logged column used as x. */
  x: string;
  relative: boolean;
  width: number;
  from: number | null;
  to: number | null;
  groups: GroupLineEntry[];
  /** Distinct x values in range, before downsampling. */
  total: number;
  downsampled: boolean;
}

/** One item of a saved view (src/format/view.ts validates it; docs/format.md describes it). */
export type ViewItemJson =
  | {
      kind: 'chart';
      title?: string;
      metrics: string[];
      /** Specimen IDs or `<specimen_id>/<run_id>`; the view's `runs` when absent. */
      runs?: string[];
      x: string;
      group_by: string[];
      log: boolean;
    }
  | { kind: 'table'; title?: string; sql: string }
  | { kind: 'table'; title?: string; runs: string[] }
  | { kind: 'tensor'; title?: string; run: string; tensor: string; index: number[] }
  | { kind: 'text'; title?: string; markdown: string };

/** A saved view, `views/<name>.json`. */
export interface SavedViewJson {
  version: 1;
  title: string;
  description?: string;
  runs: string[];
  items: ViewItemJson[];
}

/** `GET /api/views`. */
export interface ViewListResponse {
  views: { name: string; title: string | null; items: number; error?: string }[];
}

/** `GET /api/views/:name` and `PUT /api/views/:name`. */
export interface ViewResponse {
  name: string;
  view: SavedViewJson;
}

/** `GET /api/specimens/:id/runs/:run/code`: the code kept with a run (`runs/<id>/code/`). */
export interface CodeListResponse {
  specimen_id: string;
  run_id: string;
  /** The kept files, by name: protocol files or the script, `git.diff`, `untracked.txt`. */
  files: { name: string; bytes: number; sha256: string }[];
  /** The untracked files `untracked.txt` names (git paths), empty when none. */
  untracked: string[];
  /** Files not kept (binary, too large, unreadable), with the reason the manifest records. */
  skipped: { file: string; reason: string }[];
}

/** `GET /api/specimens/:id/runs/:run/code/:file`: one kept file as text. */
export interface CodeFileResponse {
  name: string;
  /** The whole file's size. */
  bytes: number;
  sha256: string;
  /** The text, cut after the last complete line within the view limit when `truncated`. */
  text: string;
  truncated: boolean;
}

/** `GET /api/code-diff?run=A&run=B&file=…`: one kept file's unified diff between two runs (A → B). */
export interface CodeDiffResponse {
  file: string;
  a: { specimen_id: string; run_id: string; present: boolean };
  b: { specimen_id: string; run_id: string; present: boolean };
  /** True when both runs kept the same text (the patch is then empty). */
  same: boolean;
  patch: string;
  /** True when either copy was cut at the view limit before diffing. */
  truncated: boolean;
}

/** One run staged in a specimen's `pending/`, not sealed yet (`GET /api/specimens/:id/pending`). */
export interface PendingRunSummary {
  /** The staging directory's name (`<YYYYMMDD_HHMMSS>-<pid>-<hex>`); the run ID is given at adoption. */
  stage: string;
  name: string | null;
  started: string | null;
  config: Json;
  tags: string[];
  /** The writer's host and process. */
  host: string | null;
  pid: number | null;
  /**
   * `running` while the writer may be alive (adoption leaves it), `finished` once it wrote finish.json
   * (the next `specimen index` or `specimen adopt` seals it), `writer gone` when it died without finishing.
   */
  state: 'running' | 'finished' | 'writer gone';
  /** Its metrics so far (from metrics.jsonl), or null before the first row. */
  metrics: { rows: number; has_step: boolean; columns: MetricColumnInfo[] } | null;
}

export interface PendingListResponse {
  specimen_id: string;
  /** Oldest first. */
  runs: PendingRunSummary[];
}
