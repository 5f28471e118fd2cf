/**
 * A run as every reader sees it, decided in one place: which run directories a specimen has and in what
 * order, how a run ID maps to its directory (legacy `strata/` is run `strata`), and from its manifest the
 * status, legacy flag, seal, timing, duration, seeds, config, summary, provenance and artifacts; plus where
 * its metrics are (the sealed file or a live writer's parts) and which tensors it holds. The catalog maps a
 * description to rows, the server caches and confines it, `specimen show` prints it.
 *
 * The core is synchronous because the indexer reads tens of thousands of small manifests, where one
 * blocking read costs a few microseconds and an async one several thread-pool round trips. Manifests are
 * read leniently here: a field of the wrong type reads as missing (null in the catalog) rather than hiding
 * the run. `readRunInfo` (the storage API) additionally checks the manifest against its schema and keeps
 * the normalized manifest.
 *
 * @example
 * const dirs = listRunDirs('/vault/specimens/x', warnings)      // strata/ first, then runs/* by time
 * const { info } = readRunDescription('x', dirs[0])              // sync, lenient (the indexer)
 * const run = await readRunInfo('x', dirs[0])                    // async, schema-checked (storage, server)
 * const metrics = await findMetricsFiles(run.path)              // { kind: 'file', files: [...], signature }
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CorruptManifestError, isVaultError, NotFoundError } from '../errors.js';
import { assertRunId, closest, compareRunIds } from '../format/ids.js';
import {
  DAMAGED_FILE,
  LEGACY_RUN_ID,
  MANIFEST_FILE,
  METRICS_FILE,
  REMOTE_STUB_FILE,
  RUNS_DIR,
  stampOf,
  TENSOR_SUFFIX,
} from '../format/layout.js';
import { normalizeRunManifest, type RunManifest, type RunStatus } from '../format/manifest.js';
import { decodeManifest, type PlainObject, type PlainValue, readManifestFile } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { secondsBetween, toTimestamp } from '../format/timestamps.js';
import { listParts } from './metrics/parts.js';
import type { TensorHandle } from './tensors/types.js';

/**
 * A run's status as seen by readers: `incomplete` is a `running` run whose writer is gone; `damaged` a run
 * that recovery after an OS crash found not to match its seal (listed in the specimen's `damaged.json`).
 */
export type EffectiveRunStatus = RunStatus | 'incomplete' | 'damaged';

/** A run recovery found damaged (storage/recovery.ts), as kept in the specimen's `damaged.json`. */
export interface DamageRecord {
  /** What failed: the files that differ from the seal, or the manifest that no longer reads. */
  reason: string;
  /** When recovery found it (ISO-8601). */
  found: string;
  /** What the user can do about it. */
  what_to_do: string;
}

/** The damaged runs of the specimen at `specimenDir` (run_id → record); empty when there are none. */
export function readDamaged(specimenDir: string): Record<string, DamageRecord> {
  let text: string;
  try {
    text = fs.readFileSync(path.join(specimenDir, DAMAGED_FILE), 'utf8');
  } catch {
    return {};
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) return {};
    const out: Record<string, DamageRecord> = {};
    for (const [id, r] of Object.entries(json as Record<string, Partial<DamageRecord>>))
      if (r && typeof r.reason === 'string')
        out[id] = { reason: r.reason, found: String(r.found ?? ''), what_to_do: String(r.what_to_do ?? '') };
    return out;
  } catch {
    return {};
  }
}

/** `runs` for runs/<id>/, `strata` for the legacy layout. */
export type RunLayout = 'runs' | 'strata';

/** A run directory found on disk. */
export interface RunDir {
  runId: string;
  /** Absolute path. */
  dir: string;
  layout: RunLayout;
}

/** What every reader knows about one run (see the module comment). */
export interface RunDescription {
  specimenId: string;
  runId: string;
  /** Absolute path of the run directory. */
  path: string;
  layout: RunLayout;
  /** Effective status (see EffectiveRunStatus). */
  status: EffectiveRunStatus;
  /** True once finish() recorded the file inventory. */
  sealed: boolean;
  /** Written by the Python implementation (no `status` field): a finished run without a seal. */
  legacy: boolean;
  /** ISO-8601 as written (Python wrote naive local times), or null. */
  started: string | null;
  ended: string | null;
  /** Seconds from started to ended (microseconds kept), or null when either is missing. */
  durationS: number | null;
  seeds: PlainObject;
  /** The global seed (`seeds.global`, or the only seed when there is one) when it is an integer, else null. */
  seed: number | bigint | null;
  /** Display name, tags and notes the writer gave the run (null / [] when none). */
  name: string | null;
  tags: string[];
  notes: string | null;
  /** Hyper-parameters (legacy `configuration`). */
  config: PlainObject;
  /** Summary figures (legacy `summary_statistics`). */
  summary: PlainObject;
  gitCommit: string | null;
  /** The command that ran, as one string. */
  command: string | null;
  exitCode: number | bigint | null;
  /** The run this one reproduces, and the verdict. */
  reproduces: string | null;
  reproduceVerdict: string | null;
  /** Peak resident memory and GPU memory of the run's system metrics (manifest `system`), null when unknown. */
  peakRssBytes: number | bigint | null;
  peakGpuMemoryBytes: number | bigint | null;
  /** The writer of a `running` run, to tell a live run from a dead one. */
  owner: { pid: number; host: string } | undefined;
  /** The manifest's artifacts by name (each an object with at least `path`). */
  artifacts: Record<string, PlainObject>;
}

/** What the storage API knows about one run: its description plus the schema-checked manifest. */
export interface RunInfo extends RunDescription {
  /** The run manifest (normalized; unknown fields kept); undefined when the run has none yet. */
  manifest: RunManifest | undefined;
  /** Set when the manifest exists but cannot be decoded or fails its schema. */
  error?: CorruptManifestError;
  /** Set for a run found damaged after an OS crash (its status is then `damaged`). */
  damage?: DamageRecord;
}

/** What every reader shows of a specimen, from its (normalized) manifest; null where a field is not text. */
export interface SpecimenDescription {
  specimenId: string;
  domain: string | null;
  method: string | null;
  model: string | null;
  tags: string[];
  status: string | null;
  description: string | null;
  /** Lab-notebook fields (docs/format.md); null when absent. */
  hypothesis: string | null;
  expectedResults: string | null;
  conclusion: string | null;
}

/** Describes a specimen from its normalized manifest (see normalizeSpecimenManifest). */
export function describeSpecimen(specimenId: string, manifest: PlainObject): SpecimenDescription {
  const taxonomy = asObject(manifest.taxonomy) ?? {};
  const tags = manifest.tags;
  return {
    specimenId,
    domain: strOrNull(taxonomy.domain),
    method: strOrNull(taxonomy.method),
    model: strOrNull(manifest.model),
    tags: Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : [],
    status: strOrNull(manifest.status),
    description: strOrNull(manifest.description),
    hypothesis: strOrNull(manifest.hypothesis),
    expectedResults: strOrNull(manifest.expected_results),
    conclusion: strOrNull(manifest.conclusion),
  };
}

/** A file's bytes and the `mtime:size:inode` of the very version read; undefined if absent. */
export function readWithSig(file: string): { bytes: Buffer; sig: string } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    const bytes = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = fs.readSync(fd, bytes, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return {
      bytes: off === st.size ? bytes : bytes.subarray(0, off),
      sig: stampOf(st),
    };
  } finally {
    fs.closeSync(fd);
  }
}

/** True when the specimen at `specimenDir` has a legacy `strata/` directory. */
export function hasStrata(specimenDir: string): boolean {
  return (
    fs.statSync(path.join(specimenDir, LEGACY_RUN_ID), { throwIfNoEntry: false })?.isDirectory() === true
  );
}

/**
 * Run directories of a specimen, legacy `strata/` first, then `runs/*` in run-ID (time) order. Names that
 * are not run IDs, and a `runs/strata` that would clash with the legacy run, are reported in `warnings` and
 * left out. `strata` says whether `strata/` exists, when the caller knows already.
 */
export function listRunDirs(
  specimenDir: string,
  warnings: string[] = [],
  strata: boolean = hasStrata(specimenDir),
): RunDir[] {
  const out: RunDir[] = [];
  if (strata)
    out.push({ runId: LEGACY_RUN_ID, dir: path.join(specimenDir, LEGACY_RUN_ID), layout: 'strata' });
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(path.join(specimenDir, RUNS_DIR), { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
  }
  const names: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    try {
      assertRunId(e.name);
    } catch (err) {
      if (!isVaultError(err)) throw err;
      warnings.push(`run ${path.join(specimenDir, RUNS_DIR, e.name)}: ${err.message}; skipped`);
      continue;
    }
    if (e.name === LEGACY_RUN_ID && strata) {
      warnings.push(
        `run ${path.join(specimenDir, RUNS_DIR, e.name)}: clashes with the legacy strata/ run; skipped`,
      );
      continue;
    }
    names.push(e.name);
  }
  names.sort(compareRunIds);
  for (const n of names) out.push({ runId: n, dir: path.join(specimenDir, RUNS_DIR, n), layout: 'runs' });
  return out;
}

/**
 * True for a remote stub: a run directory `specimen index --remote` made for a run only the remote holds
 * (its manifest and a marker; the files come on demand). Push, pull and verify treat it as not local.
 */
export function isRemoteStub(runDir: string): boolean {
  return fs.existsSync(path.join(runDir, REMOTE_STUB_FILE));
}

/** Where run `runId` lives inside its specimen directory, with forward slashes: `strata` or `runs/<id>`. */
export function runDirName(runId: string): string {
  return runId === LEGACY_RUN_ID ? LEGACY_RUN_ID : `${RUNS_DIR}/${runId}`;
}

/** The directory run `runId` lives in (validated and confined to the specimen; it may not exist). */
export function runDirOf(specimenDir: string, runId: string): RunDir {
  assertRunId(runId);
  return {
    runId,
    dir: within(specimenDir, ...runDirName(runId).split('/')),
    layout: runId === LEGACY_RUN_ID ? 'strata' : 'runs',
  };
}

/**
 * The directory of an existing run of the specimen `specimenId` at `specimenDir`; NotFoundError naming the
 * closest run IDs when there is none. The one lookup behind `getRun` and the server's run routes.
 */
export async function findRunDir(specimenId: string, specimenDir: string, runId: string): Promise<RunDir> {
  const rd = runDirOf(specimenDir, runId);
  const st = await fsp.stat(rd.dir).catch(() => undefined);
  if (!st?.isDirectory()) {
    const known = listRunDirs(specimenDir).map((r) => r.runId);
    throw new NotFoundError(`run of ${specimenId}`, runId, closest(runId, known));
  }
  return rd;
}

/** Whether a process with `pid` exists on this host. */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Effective status from a manifest's `status` and `owner`: a `running` run whose owner process is gone is
 * `incomplete`; no manifest at all is `incomplete` too.
 */
export function effectiveStatus(
  manifest: { status?: PlainValue | undefined; owner?: PlainValue | undefined } | undefined,
): EffectiveRunStatus {
  if (!manifest) return 'incomplete';
  const status = manifest.status;
  if (status !== 'running') return typeof status === 'string' ? (status as RunStatus) : 'incomplete';
  const owner = asObject(manifest.owner);
  if (owner && typeof owner.pid === 'number' && owner.host === os.hostname()) {
    return processAlive(owner.pid) ? 'running' : 'incomplete';
  }
  // Written on another machine or without an owner record: a live writer cannot be proven, so say so.
  return 'incomplete';
}

function asObject(v: PlainValue | undefined): PlainObject | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as PlainObject)
    : undefined;
}

/** A map field: missing is {}, a lone value (older writers) is kept under `key`, as normalizeRunManifest does. */
function mapOf(v: PlainValue | undefined, key: string): PlainObject {
  if (v === null || v === undefined) return {};
  return asObject(v) ?? { [key]: v };
}

function strOrNull(v: PlainValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function intOrNull(v: PlainValue | undefined): number | bigint | null {
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** A strata run without a manifest is read as a legacy one written when the directory last changed. */
function strataStandIn(dir: string): PlainObject {
  return { run_timestamp: fs.statSync(dir).mtime.toISOString() };
}

/**
 * Describes a run from its decoded manifest (`raw`; undefined when it has none, `unreadable` when it
 * exists but could not be read). The one place that decides status, legacy, seal and timing.
 */
export function describeRun(
  specimenId: string,
  rd: RunDir,
  raw: PlainObject | undefined,
  unreadable = false,
): RunDescription {
  const legacy = raw !== undefined && raw.status === undefined;
  const timing = asObject(raw?.timing) ?? {};
  // The Python implementation kept `timing.start`/`timing.end` and `run_timestamp` (see docs/format.md).
  const started = strOrNull(raw?.started ?? timing.start ?? raw?.run_timestamp);
  const ended = strOrNull(raw?.ended ?? timing.end ?? (legacy ? raw?.run_timestamp : undefined));
  let status: EffectiveRunStatus;
  if (unreadable) status = 'incomplete';
  else if (legacy) status = 'succeeded';
  else status = effectiveStatus(raw);
  const owner = asObject(raw?.owner);
  const git = asObject(raw?.git);
  const reproduction = asObject(raw?.reproduction);
  const command = raw?.command;
  const system = asObject(raw?.system);
  const seeds = mapOf(raw?.seeds, 'seed');
  const artifacts: Record<string, PlainObject> = {};
  for (const [name, value] of Object.entries(asObject(raw?.artifacts) ?? {})) {
    const a = asObject(value);
    if (a && typeof a.path === 'string') artifacts[name] = a;
  }
  return {
    specimenId,
    runId: rd.runId,
    path: rd.dir,
    layout: rd.layout,
    status,
    sealed: !legacy && raw !== undefined && raw.sealed_at !== undefined && raw.files !== undefined,
    legacy,
    started,
    ended,
    durationS: secondsBetween(toTimestamp(started), toTimestamp(ended)),
    seeds,
    seed: seedOf(seeds),
    name: strOrNull(raw?.name),
    tags: Array.isArray(raw?.tags) ? raw.tags.filter((t): t is string => typeof t === 'string') : [],
    notes: strOrNull(raw?.notes),
    config: mapOf(raw?.config ?? raw?.configuration, 'value'),
    summary: mapOf(raw?.summary ?? raw?.summary_statistics, 'value'),
    gitCommit: strOrNull(git?.commit),
    command: Array.isArray(command) ? command.map(String).join(' ') : strOrNull(command),
    exitCode: intOrNull(raw?.exit_code),
    reproduces: strOrNull(reproduction?.of),
    reproduceVerdict: strOrNull(reproduction?.verdict),
    peakRssBytes: intOrNull(system?.peak_rss_bytes),
    peakGpuMemoryBytes: intOrNull(system?.peak_gpu_memory_bytes),
    owner:
      typeof owner?.pid === 'number' && typeof owner.host === 'string'
        ? { pid: owner.pid, host: owner.host }
        : undefined,
    artifacts,
  };
}

/** The global seed of a run's `seeds` (see RunDescription.seed). */
function seedOf(seeds: PlainObject): number | bigint | null {
  const values = Object.values(seeds);
  const v = seeds.global ?? (values.length === 1 ? values[0] : undefined);
  if (typeof v === 'bigint') return v;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** The outcome of reading one run synchronously. */
export interface RunDescriptionRead {
  info: RunDescription;
  /** `mtime:size:inode` of the manifest version read, `-` when there is none. */
  manifestSig: string;
  /** Why the manifest could not be read, naming the run. */
  warning?: string;
}

/** Reads and describes one run synchronously and leniently (the indexer's reader; never throws for a bad manifest). */
export function readRunDescription(specimenId: string, rd: RunDir): RunDescriptionRead {
  const file = path.join(rd.dir, MANIFEST_FILE);
  let raw: PlainObject | undefined;
  let warning: string | undefined;
  let manifestSig = '-';
  try {
    const read = readWithSig(file);
    if (read) {
      manifestSig = read.sig;
      raw = decodeManifest(read.bytes, file);
    }
  } catch (err) {
    warning = `run ${specimenId}/${rd.runId}: ${(err as Error).message}`;
  }
  if (!raw && !warning && rd.layout === 'strata') raw = strataStandIn(rd.dir);
  const out: RunDescriptionRead = {
    info: describeRun(specimenId, rd, raw, warning !== undefined),
    manifestSig,
  };
  if (warning) out.warning = warning;
  return out;
}

/**
 * Reads one run for the storage API: the description plus the manifest checked against its schema. Never
 * throws for a missing or corrupt manifest: those show in `status` (`incomplete`) and `error`.
 */
export async function readRunInfo(
  specimenId: string,
  rd: RunDir,
  damaged?: Record<string, DamageRecord>,
): Promise<RunInfo> {
  const file = path.join(rd.dir, MANIFEST_FILE);
  let raw: PlainObject | undefined;
  let manifest: RunManifest | undefined;
  let error: CorruptManifestError | undefined;
  try {
    raw = await readManifestFile(file);
  } catch (err) {
    if (isVaultError(err, 'CorruptManifestError')) error = err;
    else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!raw && !error && rd.layout === 'strata') raw = strataStandIn(rd.dir);
  if (raw) {
    try {
      manifest = normalizeRunManifest(raw, rd.runId, file);
    } catch (err) {
      if (!isVaultError(err, 'ManifestError')) throw err;
      error = new CorruptManifestError(file, err.message, { cause: err });
    }
  }
  // A manifest that fails its schema is not trusted for anything: the run reads as one without a manifest.
  const info: RunInfo = {
    ...describeRun(specimenId, rd, error ? undefined : raw, error !== undefined),
    manifest,
  };
  if (error) info.error = error;
  const damage = (damaged ?? readDamaged(specimenDirOf(rd)))[rd.runId];
  if (damage) {
    info.status = 'damaged';
    info.damage = damage;
  }
  return info;
}

/** The specimen directory a run directory belongs to. */
function specimenDirOf(rd: RunDir): string {
  return rd.layout === 'strata' ? path.dirname(rd.dir) : path.dirname(path.dirname(rd.dir));
}

/** Every run of the specimen at `specimenDir` for the storage API, in listRunDirs order. */
export async function listRunInfos(specimenId: string, specimenDir: string): Promise<RunInfo[]> {
  const damaged = readDamaged(specimenDir);
  return Promise.all(listRunDirs(specimenDir).map((rd) => readRunInfo(specimenId, rd, damaged)));
}

/** Where a run's metrics are: the metrics file, or the parts a live (or crashed) writer has flushed. */
export interface RunMetricsFiles {
  kind: 'file' | 'parts';
  /** Absolute paths, in row order. */
  files: string[];
  /** Changes whenever the files do (size, mtime and inode of the file, or the list of parts). */
  signature: string;
}

/** The metrics files of the run at `runDir`, or undefined when it has none yet. */
export async function findMetricsFiles(runDir: string): Promise<RunMetricsFiles | undefined> {
  const file = path.join(runDir, METRICS_FILE);
  const st = await fsp.stat(file).catch(() => undefined);
  if (st) return { kind: 'file', files: [file], signature: `f:${stampOf(st)}` };
  const parts = await listParts(runDir).catch(() => [] as string[]);
  if (parts.length === 0) return undefined;
  return { kind: 'parts', files: parts, signature: `p:${parts.map((p) => path.basename(p)).join(',')}` };
}

/** Names of a run's tensors: its `*.zarr` entries (directories, or links the caller must confine), sorted. */
export async function listTensorNames(runDir: string): Promise<string[]> {
  const entries = await fsp.readdir(runDir, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => (e.isDirectory() || e.isSymbolicLink()) && e.name.endsWith(TENSOR_SUFFIX))
    .map((e) => e.name.slice(0, -TENSOR_SUFFIX.length))
    .sort();
}

/** The recorded size of a run's artifact (e.g. a tensor), or null when the manifest gives none. */
export function artifactBytes(run: RunDescription, name: string): number | null {
  const bytes = run.artifacts[name]?.bytes;
  return typeof bytes === 'number' ? bytes : null;
}

/** A run's tensor as readers list it (the API's and `specimen show`'s tensor entries). */
export interface RunTensor {
  name: string;
  shape: number[];
  dtype: string;
  chunks: number[];
  zarr_format: 2 | 3;
  /** Size recorded when the run was sealed; null before. */
  bytes: number | null;
  /** A tensor series (docs/format.md): the step of each index of the leading axis. Absent otherwise. */
  steps?: number[];
}

/** Describes tensor `name` of `run` from its opened handle. */
export function describeTensor(
  run: RunDescription,
  name: string,
  handle: Pick<TensorHandle, 'shape' | 'dtype' | 'chunks' | 'zarrFormat'> & { path?: string },
): RunTensor {
  const out: RunTensor = {
    name,
    shape: [...handle.shape],
    dtype: handle.dtype,
    chunks: [...handle.chunks],
    zarr_format: handle.zarrFormat,
    bytes: artifactBytes(run, name),
  };
  const steps = handle.path === undefined ? undefined : seriesSteps(handle.path, handle.zarrFormat);
  if (steps && steps.length === handle.shape[0]) out.steps = steps;
  return out;
}

/** The `steps` attribute of a tensor series, or undefined (no attributes, not a series, unreadable). */
function seriesSteps(dir: string, zarrFormat: 2 | 3): number[] | undefined {
  try {
    const doc = JSON.parse(
      fs.readFileSync(path.join(dir, zarrFormat === 2 ? '.zattrs' : 'zarr.json'), 'utf8'),
    );
    const attrs = (zarrFormat === 2 ? doc : doc?.attributes) as Record<string, unknown> | undefined;
    const steps = attrs?.steps;
    return Array.isArray(steps) && steps.every((v) => Number.isSafeInteger(v))
      ? (steps as number[])
      : undefined;
  } catch {
    return undefined;
  }
}
