/**
 * The shapes every import source reads into. A source reader turns a tool's own files into `SourceRun`s;
 * the shared mapping (`mapping.ts`) and writer (`write-run.ts`) turn those into sealed runs, so what a run
 * looks like in the vault is decided once, not per tool.
 *
 * @example
 * const run: SourceRun = {
 *   sourceRunId: '3f2a…', experiment: { key: '1', name: 'baseline', created: '2025-01-02T10:00:00Z' },
 *   status: 'succeeded', started: '2025-01-02T10:00:00Z', ended: '2025-01-02T10:05:00Z',
 *   config: { lr: '0.001' }, tags: { team: 'vision' }, provenance: {},
 *   series: [{ name: 'loss', steps: [0, 1], values: [0.9, 0.7], wallTimes: [1735812000, 1735812001] }],
 *   tensors: [], notes: [], artifacts: [], problems: [],
 * }
 */
import type { PlainObject } from '../format/msgpack.js';

/** The tools that `specimen import` reads. */
export type SourceTool = 'mlflow' | 'tensorboard' | 'wandb' | 'trackio' | 'neptune';

/** One scalar series: a metric with its own steps and wall-clock times (seconds since the Unix epoch). */
export interface Series {
  /** Metric name as the tool shows it (`loss`, `eval/acc`). */
  name: string;
  /** Step of each value. */
  steps: ArrayLike<number>;
  /** Values; NaN and ±Infinity are kept. */
  values: ArrayLike<number>;
  /** Wall-clock time of each value in seconds since the epoch; NaN where the tool recorded none. */
  wallTimes: ArrayLike<number>;
}

/** A series of non-scalar values (histograms, tensors), stored as one Zarr array stacked along steps. */
export interface TensorSeries {
  /** Tag as the tool shows it (`weights/layer1`). */
  tag: string;
  /** `histogram` (values are [bucket_limit, count] pairs, NaN-padded) or `tensor` (values as logged). */
  kind: 'histogram' | 'tensor';
  steps: number[];
  wallTimes: number[];
  /** Shape of one element (without the leading step axis). */
  shape: number[];
  /** Elements, C order, steps.length × product(shape) values. */
  data: Float64Array;
  /** For histograms: [min, max, num, sum, sum_squares] per step (steps.length × 5). */
  stats?: Float64Array;
}

/** A text entry (TensorBoard text summary, a tool's notes), written to the run's `notes.md`. */
export interface NoteEntry {
  tag: string;
  step?: number;
  wallTime?: number;
  text: string;
}

/** A file to copy into the run: `relPath` inside the run's `artifacts/`, read from `absPath`. */
export interface SourceArtifact {
  relPath: string;
  absPath: string;
}

/** Something in the source that could not be read; the item is skipped, the rest goes on. */
export interface ImportProblem {
  /** The file (or file and inner item) concerned. */
  path: string;
  /** Why it was skipped, for a person. */
  reason: string;
  /** The run it belongs to, when it belongs to one. */
  sourceRunId?: string;
}

/** The experiment (or project, or logdir) a run belongs to; it becomes a specimen. */
export interface SourceExperiment {
  /** The tool's key for it (MLflow experiment ID, W&B project, TensorBoard logdir name); `--map` matches it. */
  key: string;
  /** Human name; the specimen ID's descriptor is derived from it. */
  name: string;
  /** Creation time (ISO-8601); the specimen ID's date. Falls back to the earliest run start. */
  created?: string | undefined;
  /** Tags of the experiment, kept in the specimen manifest. */
  tags?: Record<string, string>;
}

/** A run as read from a tool: everything the vault keeps of it. */
export interface SourceRun {
  /** The tool's own run ID: re-importing a run with the same (tool, ID) adds nothing. */
  sourceRunId: string;
  experiment: SourceExperiment;
  /** Display name in the tool. */
  name?: string | undefined;
  status: 'succeeded' | 'failed' | 'interrupted';
  /** The tool's own status word (`FINISHED`, `KILLED`, exit code…), kept as given. */
  sourceStatus?: string | undefined;
  started?: string | undefined;
  ended?: string | undefined;
  /** Hyper-parameters (params, config) → run `config`. */
  config: PlainObject;
  /** Tags → `imported_from.tags`. */
  tags: Record<string, string>;
  /** Git commit, entry point, user → run `git`, `command`, `imported_from.source`. */
  provenance: { gitCommit?: string; gitBranch?: string; gitRemote?: string; command?: string; user?: string };
  series: Series[];
  tensors: TensorSeries[];
  notes: NoteEntry[];
  artifacts: SourceArtifact[];
  /** Summary figures kept by the tool (W&B summary, …). */
  summary?: PlainObject;
  /** For metrics whose x axis is another metric (W&B `define_metric(step_metric=…)`): metric → x metric. */
  stepMetrics?: Record<string, string>;
  /** Problems inside this run that did not stop it from being imported (a truncated file, a missing artifact). */
  problems: ImportProblem[];
}

/** Header of a run, cheap to list: enough to decide whether it is new before reading its data. */
export interface SourceRunHandle {
  sourceRunId: string;
  experiment: SourceExperiment;
  /** Where it lives in the source, for messages. */
  path: string;
  /** Start time when known without reading the run (ISO-8601); dates experiments that have no creation time. */
  started?: string | undefined;
  /** Reads the run's data (metrics, artifacts…); may throw ImportSourceError for this run only. */
  load(): Promise<SourceRun>;
}

/** What a source reader returns for a path: the tool version, the runs found, and the problems met listing them. */
export interface SourceListing {
  tool: SourceTool;
  /** Version of the tool that wrote the files, when the files say (MLflow's alembic revision, W&B's version…). */
  toolVersion?: string | undefined;
  runs: SourceRunHandle[];
  problems: ImportProblem[];
  /** Releases what the reader holds open (a SQLite database in memory). */
  close?(): void;
}
