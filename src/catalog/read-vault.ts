/**
 * Reading a vault for the catalog: change signatures from `stat`, and catalog rows from manifests. Files are
 * read synchronously on purpose: indexing reads tens of thousands of small manifests, and one blocking read
 * costs a few microseconds where an async one costs several thread-pool round trips (the indexer yields to
 * the event loop between specimens).
 *
 * What a run is (status, legacy layout, seal, timing, order) is decided by storage/describe.ts, read
 * leniently there: cataloguing is not verification, and a wrong type in one field becomes NULL in its column
 * rather than hiding the run. This module maps those descriptions to catalog rows.
 *
 * @example
 * const sig = specimenSignature('/vault/specimens/x')                 // compared with the last index's
 * const runs = listRunDirs('/vault/specimens/x', warnings)              // from storage/describe.ts
 * const read = readRun('x', runs[0])                                  // rows for runs, artifacts, summaries
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isVaultError } from '../errors.js';
import {
  MANIFEST_FILE,
  METRICS_FILE,
  RUNS_DIR,
  SUPERSESSIONS_FILE,
  SYSTEM_FILE,
  stampOf,
  TENSOR_SUFFIX,
} from '../format/layout.js';
import { normalizeSpecimenManifest } from '../format/manifest.js';
import { decodeManifest, type PlainObject, type PlainValue } from '../format/msgpack.js';
import {
  describeSpecimen,
  type EffectiveRunStatus,
  effectiveStatus,
  hasStrata,
  isRemoteStub,
  type RunDir,
  readRunDescription,
  readWithSig,
  runDirName,
} from '../storage/describe.js';
import { type MetricColumnSummary, readStoredSummary } from '../storage/metrics/summary.js';
import { parseV2Dtype } from '../storage/tensors/dtypes.js';
import { parseMetadata } from '../storage/tensors/metadata.js';
import { toTimestamp } from './json.js';

export { readWithSig };

/** What the index remembers about one run between runs of the indexer. */
export interface RunState {
  /** Change signature (see runSignature). */
  sig: string;
  /** Sealed runs never change: only their manifest is looked at, and only when their specimen's directory changed. */
  sealed: boolean;
  /** Effective status at the last index. */
  status: EffectiveRunStatus;
  /** Writer of a `running` run, to notice when it has gone. */
  pid?: number;
  host?: string;
  /** 0: no metrics file; 1: metrics without a run_id column; 2: with one. */
  metrics: 0 | 1 | 2;
}

/** `mtime:size:inode` of a path, or `-` when it does not exist. */
export function statSig(p: string): string {
  const st = fs.statSync(p, { throwIfNoEntry: false });
  return st ? stampOf(st) : '-';
}

/**
 * Signature of a specimen directory: the directory itself (its mtime moves when an entry is created,
 * renamed or removed: every atomic manifest or supersessions write, a new `strata/` or `runs/`), the
 * manifest (a writer may rewrite it in place) and `runs/` (a run added or removed).
 */
export function specimenSignature(
  dir: string,
  manifestSig: string = statSig(`${dir}${path.sep}${MANIFEST_FILE}`),
): string {
  // Taken for every specimen on every index (three stats each): paths are joined by hand, since `dir` is
  // already normal and path.join would cost a third as much again as the stats themselves.
  return `${statSig(dir)}|${manifestSig}|${statSig(`${dir}${path.sep}${RUNS_DIR}`)}`;
}

/** Which optional entries a specimen directory has. */
export interface SpecimenLayout {
  hasSupersessions: boolean;
  hasStrata: boolean;
}

/** The optional entries of a specimen directory, from two stats (cheaper than listing it). */
export function specimenLayout(dir: string): SpecimenLayout {
  return {
    hasSupersessions: fs.existsSync(path.join(dir, SUPERSESSIONS_FILE)),
    hasStrata: hasStrata(dir),
  };
}

/**
 * Signature of a run. A sealed run is immutable (read-only files; a change is tampering, which
 * `specimen verify` reports), so its manifest's stat is enough, and it moves if the run is replaced. Other
 * runs (running, legacy) record their directory and every top-level entry, since a writer may rewrite a
 * file in place.
 */
export function runSignature(dir: string, sealed: boolean, manifestRead?: string): string {
  const manifest = manifestRead ?? statSig(path.join(dir, MANIFEST_FILE));
  if (sealed) return manifest;
  const own = statSig(dir);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir).sort();
  } catch {
    // Gone: `own` is '-'.
  }
  // `read=` is the manifest version that was read: if the manifest was replaced between reading it and
  // listing the directory, the listing shows the new one and the next check sees the difference.
  return `${own}|${names.map((n) => `${n}=${statSig(path.join(dir, n))}`).join(',')}|read=${manifest}`;
}

/** A row of the `catalog` table. */
export interface CatalogRow {
  specimen_id: string;
  created: string | null;
  domain: string | null;
  method: string | null;
  model: string | null;
  tags: string[];
  status: string | null;
  path: string;
  description: string | null;
  run_count: number;
  latest_run: string | null;
  latest_status: string | null;
  hypothesis: string | null;
  expected_results: string | null;
  conclusion: string | null;
  manifest: PlainObject;
}

/** A row of the `runs` table. */
export interface RunRow {
  specimen_id: string;
  run_id: string;
  started: string | null;
  ended: string | null;
  status: EffectiveRunStatus;
  duration_s: number | null;
  superseded_by: string | null;
  git_commit: string | null;
  command: string | null;
  exit_code: number | bigint | null;
  config: PlainValue;
  summary: PlainValue;
  path: string;
  is_latest: boolean;
  reproduces: string | null;
  reproduce_verdict: string | null;
  seed: number | bigint | null;
  name: string | null;
  tags: string[];
  notes: string | null;
  peak_rss_bytes: number | bigint | null;
  peak_gpu_memory_bytes: number | bigint | null;
}

/** A row of the `artifacts` table. */
export interface ArtifactRow {
  specimen_id: string;
  run_id: string;
  name: string;
  kind: 'metrics' | 'tensor' | 'file';
  path: string;
  bytes: number | null;
  sha256: string | null;
  rows: number | null;
  columns: string[] | null;
  column_types: string[] | null;
  shape: number[] | null;
  dtype: string | null;
  chunks: number[] | null;
}

/** A row of the `metric_summaries` table. */
export type SummaryRow = { specimen_id: string; run_id: string; metric: string } & Omit<
  MetricColumnSummary,
  'column'
>;

/** The outcome of reading one specimen manifest; `sig` is the statSig of the version read ('-' if none). */
export type SpecimenManifestRead =
  | { ok: true; manifest: PlainObject; normalized: PlainObject; sig: string }
  | { ok: false; warning: string; sig: string };

/** Reads and checks a specimen manifest; a missing or undecodable one becomes a warning naming the file. */
export function readSpecimenManifest(specimenId: string, dir: string): SpecimenManifestRead {
  const file = path.join(dir, MANIFEST_FILE);
  let read: ReturnType<typeof readWithSig>;
  try {
    read = readWithSig(file);
  } catch (err) {
    return {
      ok: false,
      warning: `specimen ${specimenId}: cannot read ${file}: ${(err as Error).message}; skipped`,
      sig: statSig(file),
    };
  }
  if (!read)
    return {
      ok: false,
      warning: `specimen ${specimenId}: no ${MANIFEST_FILE} in ${dir}; skipped (create one with \`specimen new\` or remove the directory)`,
      sig: '-',
    };
  const { bytes, sig } = read;
  try {
    const raw = decodeManifest(bytes, file);
    const normalized = normalizeSpecimenManifest({ ...raw }, specimenId, file) as PlainObject;
    return { ok: true, manifest: raw, normalized, sig };
  } catch (err) {
    if (isVaultError(err))
      return { ok: false, warning: `specimen ${specimenId}: ${err.message}; skipped`, sig };
    throw err;
  }
}

/** Reads `supersessions.msgpack` (run_id → {by, reason, at}); a broken one is a warning, not an error. */
export function readSupersessions(dir: string, warnings: string[]): Record<string, string> {
  const file = path.join(dir, SUPERSESSIONS_FILE);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return {};
  }
  try {
    const map = decodeManifest(bytes, file);
    const out: Record<string, string> = {};
    for (const [runId, rec] of Object.entries(map)) {
      const by = (rec as { by?: unknown } | null)?.by;
      if (typeof by === 'string') out[runId] = by;
    }
    return out;
  } catch (err) {
    warnings.push(`${(err as Error).message}; supersessions ignored`);
    return {};
  }
}

/** Builds the catalog row of a specimen (run figures are filled in once its runs are known). */
export function catalogRow(
  specimenId: string,
  read: { manifest: PlainObject; normalized: PlainObject },
): CatalogRow {
  const d = describeSpecimen(specimenId, read.normalized);
  return {
    specimen_id: specimenId,
    created: toTimestamp(read.manifest.created),
    domain: d.domain,
    method: d.method,
    model: d.model,
    tags: d.tags,
    status: d.status,
    path: `specimens/${specimenId}`,
    description: d.description,
    run_count: 0,
    latest_run: null,
    latest_status: null,
    hypothesis: d.hypothesis,
    expected_results: d.expectedResults,
    conclusion: d.conclusion,
    manifest: read.manifest,
  };
}

/** Everything the catalog holds about one run, as read from disk. */
/** A row of the `turns` table (schema.ts TURN_COLUMNS). */
export interface TurnRow {
  specimen_id: string;
  run_id: string;
  metric: string;
  step: number | null;
  onset_step: number | null;
  end_step: number | null;
  direction: string | null;
  score: number | null;
  method: string;
}

export interface RunRead {
  run: RunRow;
  artifacts: ArtifactRow[];
  summaries: SummaryRow[];
  /** Rows of the `turns` table; filled after reading, for sealed runs (see turns.ts). */
  turns: TurnRow[];
  state: RunState;
  /** Vault-relative metrics file, when the run has one. */
  metricsFile?: string;
  /**
   * Set when the metrics file needs DuckDB: `facts` for its columns and rows (not in the manifest),
   * `summary` for summaries (a legacy or unsealed run, or a sealed one without a stored summary).
   */
  inspect?: { file: string; facts: boolean; summary: boolean };
  /**
   * Set when the run's peaks (`peak_rss_bytes`, `peak_gpu_memory_bytes`) come from its `system.parquet`:
   * a run sealed with the file before the manifest's `system` recorded them.
   */
  inspectSystem?: string;
  warning?: string;
}

function asObject(v: PlainValue | undefined): PlainObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as PlainObject)
    : undefined;
}

function strOrNull(v: PlainValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function numList(v: PlainValue | undefined): number[] | null {
  if (!Array.isArray(v)) return null;
  const out: number[] = [];
  for (const x of v) {
    if (typeof x === 'number') out.push(x);
    else if (typeof x === 'bigint') out.push(Number(x));
    else return null;
  }
  return out;
}

/** Names and types of a Parquet artifact's columns, from `columns` (names or {name,type}) and `column_types`. */
function columnsOf(a: PlainObject): { names: string[]; types: string[] } | undefined {
  if (!Array.isArray(a.columns)) return undefined;
  const names: string[] = [];
  const types: (string | undefined)[] = [];
  const declared = a.column_types;
  for (let i = 0; i < a.columns.length; i++) {
    const c = a.columns[i];
    if (typeof c === 'string') {
      names.push(c);
      const t = Array.isArray(declared) ? declared[i] : asObject(declared)?.[c];
      types.push(typeof t === 'string' ? t : undefined);
    } else {
      const o = asObject(c);
      if (!o || typeof o.name !== 'string') return undefined;
      names.push(o.name);
      types.push(typeof o.type === 'string' ? o.type : undefined);
    }
  }
  if (types.some((t) => t === undefined)) return undefined;
  return { names, types: types as string[] };
}

/** Shape, dtype and chunks of a Zarr array directory (v3 `zarr.json` or v2 `.zarray`), if readable. */
function zarrFacts(dir: string): { shape: number[]; dtype: string; chunks: number[] } | undefined {
  for (const key of ['zarr.json', '.zarray'] as const) {
    let text: string;
    try {
      text = fs.readFileSync(path.join(dir, key), 'utf8');
    } catch {
      continue;
    }
    try {
      const meta = parseMetadata(key, JSON.parse(text), dir);
      return { shape: meta.shape, dtype: meta.dtype, chunks: meta.chunks };
    } catch {
      // A dtype this library cannot read is still worth listing with what the document says.
      try {
        const doc = JSON.parse(text) as Record<string, unknown>;
        const raw = String(doc.dtype ?? doc.data_type ?? '');
        let dtype = raw;
        try {
          dtype = parseV2Dtype(raw).dtype;
        } catch {
          // Not a v2 type string this library knows: keep the document's own name.
        }
        const chunks = (doc.chunks ??
          (doc.chunk_grid as { configuration?: { chunk_shape?: unknown } } | undefined)?.configuration
            ?.chunk_shape) as number[] | undefined;
        return { shape: (doc.shape as number[]) ?? [], dtype, chunks: chunks ?? [] };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Reads one run: its manifest (if any), artifacts and what is still needed from DuckDB. */
export function readRun(specimenId: string, rd: RunDir): RunRead {
  // Vault-relative, forward slashes (as stored); built directly, path.relative costs more than it says.
  const rel = `specimens/${specimenId}/${runDirName(rd.runId)}`;
  const { info, manifestSig, warning } = readRunDescription(specimenId, rd);
  const { status, sealed, owner } = info;
  const run: RunRow = {
    specimen_id: specimenId,
    run_id: rd.runId,
    started: toTimestamp(info.started),
    ended: toTimestamp(info.ended),
    status,
    duration_s: info.durationS,
    superseded_by: null,
    git_commit: info.gitCommit,
    command: info.command,
    exit_code: info.exitCode,
    config: info.config,
    summary: info.summary,
    path: rel,
    is_latest: false,
    reproduces: info.reproduces,
    reproduce_verdict: info.reproduceVerdict,
    seed: info.seed,
    name: info.name,
    tags: info.tags,
    notes: info.notes,
    peak_rss_bytes: info.peakRssBytes,
    peak_gpu_memory_bytes: info.peakGpuMemoryBytes,
  };
  const out: RunRead = {
    run,
    artifacts: [],
    summaries: [],
    turns: [],
    state: {
      sig: runSignature(rd.dir, sealed, manifestSig),
      sealed,
      status,
      metrics: 0,
      ...(status === 'running' && owner ? { pid: owner.pid, host: owner.host } : {}),
    },
  };
  if (warning) out.warning = warning;
  const artifactBase = { specimen_id: specimenId, run_id: rd.runId };
  if (sealed) {
    // A remote stub (`index --remote`) lists every artifact, but its metrics join the views only once
    // `specimen fetch` has brought the file: a view naming an absent file would fail every query.
    const metricsHere = !isRemoteStub(rd.dir) || fs.existsSync(path.join(rd.dir, METRICS_FILE));
    if (info.peakRssBytes === null && info.peakGpuMemoryBytes === null) {
      const system = Object.values(info.artifacts).some((a) => a.path === SYSTEM_FILE);
      const file = path.join(rd.dir, SYSTEM_FILE);
      if (system && fs.existsSync(file)) out.inspectSystem = file;
    }
    for (const [name, a] of Object.entries(info.artifacts)) {
      const isMetrics = a.format === 'parquet' && a.path === METRICS_FILE;
      const cols = isMetrics ? columnsOf(a) : undefined;
      out.artifacts.push({
        ...artifactBase,
        name,
        kind: isMetrics ? 'metrics' : a.format === 'zarr' ? 'tensor' : 'file',
        path: `${rel}/${String(a.path)}`,
        bytes: typeof a.bytes === 'number' ? a.bytes : null,
        sha256: strOrNull(a.sha256),
        rows: typeof a.rows === 'number' ? a.rows : null,
        columns: cols?.names ?? null,
        column_types: cols?.types ?? null,
        shape: numList(a.shape),
        dtype: strOrNull(a.dtype),
        chunks: numList(a.chunks),
      });
      if (isMetrics) {
        const summary = readStoredSummary(a.summary);
        if (summary && cols) out.summaries = summary.map((s) => summaryRow(specimenId, rd.runId, s));
        if (!metricsHere) continue;
        out.metricsFile = `${rel}/${METRICS_FILE}`;
        if (cols) out.state.metrics = cols.names.includes('run_id') ? 2 : 1;
        if (!summary || !cols)
          out.inspect = { file: path.join(rd.dir, METRICS_FILE), facts: !cols, summary: !summary };
      }
    }
    return out;
  }
  // Not sealed (running, interrupted before sealing, or legacy): look at what is on disk.
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(rd.dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))) {
    if (e.name === MANIFEST_FILE || e.name.startsWith('.')) continue;
    const full = path.join(rd.dir, e.name);
    if (e.isDirectory()) {
      if (!e.name.endsWith(TENSOR_SUFFIX)) continue;
      const z = zarrFacts(full);
      if (!z) continue;
      out.artifacts.push({
        ...artifactBase,
        name: e.name.slice(0, -TENSOR_SUFFIX.length),
        kind: 'tensor',
        path: `${rel}/${e.name}`,
        bytes: null,
        sha256: null,
        rows: null,
        columns: null,
        column_types: null,
        shape: z.shape,
        dtype: z.dtype,
        chunks: z.chunks,
      });
    } else if (e.isFile()) {
      const isMetrics = e.name === METRICS_FILE;
      out.artifacts.push({
        ...artifactBase,
        name: isMetrics ? 'metrics' : e.name.replaceAll('/', '_'),
        kind: isMetrics ? 'metrics' : 'file',
        path: `${rel}/${e.name}`,
        bytes: fs.statSync(full, { throwIfNoEntry: false })?.size ?? null,
        sha256: null,
        rows: null,
        columns: null,
        column_types: null,
        shape: null,
        dtype: null,
        chunks: null,
      });
      if (isMetrics) {
        out.metricsFile = `${rel}/${METRICS_FILE}`;
        out.inspect = { file: full, facts: true, summary: true };
      }
    }
  }
  return out;
}

/** A metric_summaries row from a stored or computed summary. */
export function summaryRow(specimenId: string, runId: string, s: MetricColumnSummary): SummaryRow {
  return {
    specimen_id: specimenId,
    run_id: runId,
    metric: s.column,
    count: s.count,
    min: s.min,
    max: s.max,
    mean: s.mean,
    first: s.first,
    last: s.last,
    step_of_min: s.step_of_min,
    step_of_max: s.step_of_max,
  };
}

/** Effective status of a run recorded as `running`, checked again now (its writer may have exited). */
export function recheckRunning(state: RunState): EffectiveRunStatus {
  if (state.status !== 'running') return state.status;
  if (state.pid === undefined || state.host !== os.hostname()) return 'incomplete';
  return effectiveStatus({ status: 'running', owner: { pid: state.pid, host: state.host } });
}
