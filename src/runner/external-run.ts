/**
 * Runs written by another process — a Python training script using the `specimen_vault` package — and
 * created and sealed through the CLI (`specimen begin`, `specimen seal`, `specimen adopt`), so the vault
 * format has one implementation. The other process writes only language-neutral files into the run:
 * `metrics.jsonl`, `<name>.npy`, `<name>.npy-series/<step>.npy` and, when it ends, `finish.json`; sealing
 * converts them with the runner's converters and seals with `sealRunDir`.
 *
 * Where no CLI is reachable the writer stages its files in `specimens/<id>/pending/<stage>/` with the
 * request it would have sent (`begin.json`); `adoptRuns` later turns each finished (or abandoned) stage
 * into a normal sealed run, and seals incomplete runs whose writer is gone as `interrupted`.
 *
 * @example
 * const { runId, runDir } = await beginRun(vault, '2026_01_02_probe', { config: { lr: 0.1 }, seed: 3 })
 * // … the writer appends to `${runDir}/metrics.jsonl` and writes finish.json …
 * const sealed = await sealExternalRun(vault, '2026_01_02_probe', runId)
 * sealed.status   // 'succeeded' unless finish.json says otherwise
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ManifestError, NotFoundError, SealedRunError, type StorageFullError } from '../errors.js';
import {
  BEGIN_FILE,
  FINISH_FILE,
  MANIFEST_FILE,
  METRICS_JSONL_FILE,
  NPY_SERIES_SUFFIX,
  PARTS_DIR,
  PENDING_DIR,
  RUNS_DIR,
  SPACE_RESERVE_FILE,
  SYSTEM_JSONL_FILE,
} from '../format/layout.js';
import type { RunManifest, RunStatus } from '../format/manifest.js';
import { type PlainObject, readManifestFile, writeManifestFile } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { asStorageFull, diskFullCode } from '../storage/disk-full.js';
import { type Durability, groupCommitFor } from '../storage/durability.js';
import { claimRunDir, effectiveStatus } from '../storage/runs.js';
import { type BatchSeal, sealRunDir } from '../storage/seal.js';
import type { Vault } from '../storage/vault.js';
import { keepCode, keptCodeField, protocolFiles, scriptOf } from './code-kept.js';
import type { ConversionReport } from './convert.js';

/** What captureProvenance records: git, host, runtime and dependencies. */
type Provenance = Awaited<ReturnType<typeof import('./provenance.js').captureProvenance>>;

type FinalStatus = Exclude<RunStatus, 'running'>;
const FINAL_STATUSES: readonly FinalStatus[] = ['succeeded', 'failed', 'interrupted'];

/** What a writer asks for when it begins a run. Every field is optional. */
export interface BeginRequest {
  /** Hyper-parameters, recorded as `config`. */
  config?: PlainObject;
  /** Global seed, recorded as `seeds.global`. */
  seed?: number | null;
  /** Display name of the run. */
  name?: string | null;
  /** Tags of the run. */
  tags?: string[];
  /** Free notes about the run. */
  notes?: string | null;
  /** The writing process, so readers can tell a live run from a dead one (default: the caller). */
  owner?: { pid: number; host: string };
  /** Command line of the writer (`sys.argv`). */
  command?: string[];
  /** Working directory of the writer; git provenance is taken there. */
  cwd?: string;
  /** Language of the writer, e.g. `python`. */
  language?: string;
  /** Interpreter whose version and `pip freeze` are recorded (probed, unless given below). */
  python?: string;
  /** The writer's Python version, e.g. `3.11.7` (with python_packages, saves probing the interpreter). */
  python_version?: string;
  /** The writer's installed distributions as `name==version` lines, as `pip freeze` prints them. */
  python_packages?: string[];
  /** ISO-8601 start time (a staged run's; default now). */
  started?: string;
  /** Further manifest fields the writer recorded itself (e.g. `host`, `runtime` of a staged run). */
  extra?: PlainObject;
}

/** What a writer says when it ends (`finish.json`). */
export interface FinishRequest {
  status?: FinalStatus;
  /** ISO-8601 end time. */
  ended?: string;
  summary?: PlainObject;
  /** An uncaught exception: `{type, message, traceback}`. */
  error?: PlainObject | null;
  /** Configuration and seeds the writer gave inside `specimen run` (the runner records its own). */
  protocol_config?: PlainObject;
  protocol_seeds?: PlainObject;
  /** The writer's exit code (`sys.exit(n)`), and rows it could not write (I/O failures). */
  exit_code?: number;
  metrics_lost_rows?: number;
  /** Name, tags and notes the writer gave inside `specimen run`. */
  name?: string;
  tags?: string[];
  notes?: string;
}

/** Result of beginRun. */
export interface BeginResult {
  specimen_id: string;
  run_id: string;
  run_dir: string;
  vault: string;
  /** Zarr format the run's tensors will be stored in. */
  zarr_format: 2 | 3;
}

/** Checks a parsed request's shape, naming the first bad field. */
export function parseBeginRequest(json: unknown): BeginRequest {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ManifestError('begin: the request must be a JSON object', '(root)');
  const r = json as Record<string, unknown>;
  const isMap = (v: unknown): boolean => v !== null && typeof v === 'object' && !Array.isArray(v);
  for (const k of ['config', 'extra'] as const)
    if (r[k] !== undefined && !isMap(r[k]))
      throw new ManifestError(`begin: field "${k}" must be an object, got ${JSON.stringify(r[k])}`, k);
  if (r.seed !== undefined && r.seed !== null && !Number.isSafeInteger(r.seed))
    throw new ManifestError(`begin: field "seed" must be an integer, got ${JSON.stringify(r.seed)}`, 'seed');
  if (r.tags !== undefined && !(Array.isArray(r.tags) && r.tags.every((t) => typeof t === 'string')))
    throw new ManifestError(
      `begin: field "tags" must be a list of strings, got ${JSON.stringify(r.tags)}`,
      'tags',
    );
  if (r.started !== undefined && Number.isNaN(Date.parse(String(r.started))))
    throw new ManifestError(
      `begin: field "started" must be an ISO-8601 time, got ${JSON.stringify(r.started)}`,
      'started',
    );
  return r as BeginRequest;
}

/** The `running` manifest of a run begun by `request`. */
function runningManifest(runId: string, request: BeginRequest, started: Date): PlainObject {
  const iso = started.toISOString();
  return {
    ...(request.extra ?? {}),
    run_id: runId,
    run_timestamp: iso,
    started: iso,
    ended: null,
    status: 'running',
    seeds: request.seed === undefined || request.seed === null ? {} : { global: request.seed },
    config: request.config ?? {},
    summary: {},
    artifacts: {},
    owner: request.owner ?? { pid: process.pid, host: os.hostname() },
    ...(request.name ? { name: request.name } : {}),
    ...(request.tags ? { tags: request.tags } : {}),
    ...(request.notes ? { notes: request.notes } : {}),
    command: request.command ?? null,
    language: request.language ?? null,
    cwd: request.cwd ?? null,
  };
}

/**
 * Creates a run of `specimenId` for another process to write into: claims the run directory, writes the
 * `running` manifest (owner: the writer) with git, host, runtime and dependency provenance.
 */
export async function beginRun(
  vault: Vault,
  specimenId: string,
  request: BeginRequest,
  options: {
    provenance?: boolean;
    /**
     * Provenance already captured for the same working directory and interpreter, reused (`specimen
     * session`: the runs of one writer process share its code, environment and host).
     */
    provenanceCache?: Map<string, Promise<Provenance>>;
    /** Likewise git's part of the kept code (the diff of a dirty tree), per working directory. */
    gitCodeCache?: Map<string, Promise<Map<string, string | null>>>;
  } = {},
): Promise<BeginResult> {
  const specimenDir = await vault.assertSpecimenExists(specimenId);
  const started = request.started ? new Date(request.started) : new Date();
  const manifest = runningManifest('', request, started);
  if (options.provenance ?? true) {
    const { captureProvenance } = await import('./provenance.js');
    // A writer that lists its own packages saves `pip freeze`, which takes seconds.
    const told = request.python_version !== undefined && request.python_packages !== undefined;
    const probe = {
      cwd: request.cwd && fs.existsSync(request.cwd) ? request.cwd : specimenDir,
      ...(request.python && !told ? { python: request.python } : {}),
    };
    const key = JSON.stringify([probe.cwd, probe.python ?? null]);
    let captured = options.provenanceCache?.get(key);
    if (!captured) {
      captured = captureProvenance(probe);
      options.provenanceCache?.set(key, captured);
      captured.catch(() => options.provenanceCache?.delete(key));
    }
    // A copy: the fields below are changed per run.
    const prov = structuredClone(await captured);
    if (told) {
      prov.runtime.python = request.python_version ?? null;
      prov.dependencies.python = {
        executable: request.python ?? null,
        pip_freeze: request.python_packages ?? null,
      };
    }
    Object.assign(manifest, prov);
  }
  const { runId, dir } = await claimRunDir(path.join(specimenDir, RUNS_DIR), started);
  manifest.run_id = runId;
  if (options.provenance ?? true) {
    // The writer's script (`sys.argv[0]`) or else the specimen's protocol file(s), and the git diff.
    const cwd = request.cwd && fs.existsSync(request.cwd) ? request.cwd : specimenDir;
    const script = scriptOf(request.command, request.cwd);
    const kept = await keepCode(dir, {
      files: script ? [script] : protocolFiles(specimenDir),
      gitCwd: cwd,
      ...(options.gitCodeCache ? { gitCache: options.gitCodeCache } : {}),
    });
    manifest.code = keptCodeField(kept);
  }
  // Not fsynced: sealing rewrites it and makes the run durable (storage/seal.ts).
  await writeManifestFile(path.join(dir, MANIFEST_FILE), manifest, { sync: false });
  return {
    specimen_id: specimenId,
    run_id: runId,
    run_dir: dir,
    vault: vault.root,
    zarr_format: vault.config.pythonZarrFormat,
  };
}

/** Reads and removes `finish.json` of a run directory; undefined when there is none or it is unreadable. */
export async function takeFinishRequest(
  dir: string,
  onWarning: (m: string) => void = () => {},
): Promise<FinishRequest | undefined> {
  const file = path.join(dir, FINISH_FILE);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  await fsp.rm(file, { force: true });
  try {
    const json = JSON.parse(text) as unknown;
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new Error('not an object');
    const r = json as FinishRequest;
    if (r.status !== undefined && !FINAL_STATUSES.includes(r.status)) delete r.status;
    return r;
  } catch (err) {
    onWarning(`run: ${file} ignored: ${(err as Error).message}`);
    return undefined;
  }
}

/** Manifest fields a finish request adds (everything but status and summary, which sealing takes). */
export function finishFields(finish: FinishRequest | undefined): PlainObject {
  if (!finish) return {};
  const out: PlainObject = {};
  if (finish.error) out.error = finish.error;
  if (finish.protocol_config) out.protocol_config = finish.protocol_config;
  if (finish.protocol_seeds) out.protocol_seeds = finish.protocol_seeds;
  if (typeof finish.name === 'string') out.name = finish.name;
  if (Array.isArray(finish.tags)) out.tags = finish.tags;
  if (typeof finish.notes === 'string') out.notes = finish.notes;
  if (typeof finish.metrics_lost_rows === 'number') out.metrics_lost_rows = finish.metrics_lost_rows;
  return out;
}

/** Outcome of sealing one run. */
export interface SealResult {
  specimen_id: string;
  run_id: string;
  run_dir: string;
  status: FinalStatus;
  rows: number;
  tensors: string[];
  /** For adopted runs: the staging directory or incomplete run it came from. */
  adopted_from?: string;
}

/** Whether a run directory holds outputs that need converting. */
function hasOutputs(names: readonly string[]): boolean {
  return names.some(
    (f) =>
      f === METRICS_JSONL_FILE ||
      f === SYSTEM_JSONL_FILE ||
      f.endsWith('.npy') ||
      f.endsWith(NPY_SERIES_SUFFIX),
  );
}

/** How sealDir decides the status: `status` wins, then finish.json's, then `fallback`. */
interface SealStatus {
  status?: FinalStatus;
  fallback: FinalStatus;
}

/** Converts and seals a run directory whose manifest is `running`. */
async function sealDir(
  vault: Vault,
  specimenId: string,
  runId: string,
  dir: string,
  manifest: PlainObject,
  how: SealStatus,
  onWarning: (m: string) => void,
  extra: PlainObject = {},
  batch?: BatchSeal,
): Promise<SealResult> {
  const finish = await takeFinishRequest(dir, onWarning);
  try {
    const names = await fsp.readdir(dir);
    let conversion: ConversionReport = { rows: 0, rejectedLines: 0, rejected: [], tensors: [] };
    if (names.includes(PARTS_DIR)) {
      // A SpecimenStorage writer that died: its flushed parts become the run's metrics file.
      const { mergeParts } = await import('../storage/metrics/parts.js');
      await mergeParts(dir);
    }
    // A full disk while converting (the writer filled it, so its JSON lines leave no room for Parquet):
    // sealed as failed saying so, as runProtocol does, with the writer's own files kept as they are.
    let full: StorageFullError | undefined;
    if (hasOutputs(names)) {
      const { convertRunOutputs } = await import('./convert.js');
      try {
        conversion = await convertRunOutputs(dir, runId, onWarning, {
          zarrFormat: vault.config.pythonZarrFormat,
          // A batch-mode seal fsyncs every file of the run, the arrays too, with the rest of its batch.
          ...(batch ? { fsync: false } : {}),
        });
      } catch (err) {
        full = asStorageFull(err, 'run', dir);
        if (!full) throw err;
        // What the conversion had written of them goes, which also gives back space for sealing.
        await fsp.rm(path.join(dir, PARTS_DIR), { recursive: true, force: true });
        onWarning(`run: ${runId} sealed as failed: ${full.message}`);
      }
    }
    const status = full ? 'failed' : (how.status ?? finish?.status ?? how.fallback);
    const ended = finish?.ended ?? (await lastWrite(dir)) ?? new Date().toISOString();
    const started = Date.parse(String(manifest.started));
    const final: PlainObject = {
      ...manifest,
      ...finishFields(finish),
      ...extra,
      ended,
      duration_s: Number.isNaN(started) ? null : (Date.parse(ended) - started) / 1000,
    };
    if (typeof finish?.exit_code === 'number') final.exit_code = finish.exit_code;
    if (conversion.system) final.system = { ...conversion.system };
    if (conversion.rejectedLines > 0) final.metrics_rejected_lines = conversion.rejectedLines;
    if (full && (final.error as PlainObject | undefined)?.type !== full._tag)
      final.error = { type: full._tag, message: full.message };
    await sealRunDir(
      dir,
      final as RunManifest,
      { status, ...(finish?.summary ? { summary: finish.summary } : {}) },
      batch,
    );
    return {
      specimen_id: specimenId,
      run_id: runId,
      run_dir: dir,
      status,
      rows: conversion.rows,
      tensors: conversion.tensors,
    };
  } catch (err) {
    // The run stays unsealed; keep what the writer said for the next attempt (`specimen adopt`).
    if (finish) await fsp.writeFile(path.join(dir, FINISH_FILE), JSON.stringify(finish)).catch(() => {});
    throw err;
  }
}

/** ISO time of the newest file in `dir` (what a writer that died last did), or undefined. */
async function lastWrite(dir: string): Promise<string | undefined> {
  let newest = 0;
  // Paths rather than Dirents: Dirent#parentPath needs Node 20.12, and we support every Node 20.
  for (const rel of await fsp.readdir(dir, { recursive: true })) {
    const st = await fsp.stat(path.join(dir, rel)).catch(() => undefined);
    if (st?.isFile() && st.mtimeMs > newest) newest = st.mtimeMs;
  }
  return newest > 0 ? new Date(newest).toISOString() : undefined;
}

/**
 * Seals a run begun with beginRun: converts its JSON lines and `.npy` files (tensors in the vault's
 * `python.zarr_format`), takes status, summary and error from `finish.json` (`status` overrides it;
 * `succeeded` when neither says) and seals it. SealedRunError when it is sealed already.
 */
export async function sealExternalRun(
  vault: Vault,
  specimenId: string,
  runId: string,
  options: { status?: FinalStatus; onWarning?: (m: string) => void; durability?: Durability } = {},
): Promise<SealResult> {
  const specimenDir = await vault.assertSpecimenExists(specimenId);
  const dir = within(path.join(specimenDir, RUNS_DIR), runId);
  const file = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(file))
    throw new NotFoundError(`run of ${specimenId}`, runId, [], `${file} does not exist`);
  const manifest = await readManifestFile(file);
  if (manifest.status !== 'running') throw new SealedRunError(specimenId, runId, 'seal');
  const how: SealStatus = { fallback: 'succeeded', ...(options.status ? { status: options.status } : {}) };
  // In batch mode (the vault's default) the seal is fsynced with the others of its batch, within a second.
  const batch =
    (options.durability ?? vault.config.durability) === 'batch'
      ? { commit: groupCommitFor(vault.root), specimenId }
      : undefined;
  return sealDir(vault, specimenId, runId, dir, manifest, how, options.onWarning ?? (() => {}), {}, batch);
}

/** Whether the process recorded as `owner` may still be writing (alive here, or on another host). */
function ownerMayBeAlive(owner: unknown): boolean {
  const o = owner as { pid?: unknown; host?: unknown } | undefined;
  if (!o || typeof o.pid !== 'number') return false;
  if (o.host !== os.hostname()) return true;
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A run staged in a specimen's `pending/` (see listPendingRuns). */
export interface PendingRun {
  /** The staging directory's name, `YYYYMMDD_HHMMSS-<pid>-<hex>` as the Python package makes it. */
  stage: string;
  dir: string;
  /** What the writer asked for (`begin.json`). */
  request: BeginRequest;
  /** The writer ended the run (`finish.json` is there): adoption seals it. */
  finished: boolean;
  /**
   * Whether the writer may still be running — the one rule adoption uses (stageWriterMayBeAlive): its
   * process answers on this host, or it runs on another host, which cannot be asked, or it named no
   * process and wrote within UNOWNED_STAGE_QUIET_MS.
   */
  writerMayBeAlive: boolean;
}

/** What a staging directory's name looks like (the Python package's `<start>-<pid>-<6 hex>`). */
export const PENDING_STAGE_PATTERN = /^\d{8}_\d{6}-\d+-[0-9a-f]{6}$/;

/**
 * The runs staged in `specimenDir/pending/`, oldest first, for readers that show them before they are
 * adopted; a stage whose `begin.json` cannot be read yet (a writer mid-creation) is left out.
 */
export async function listPendingRuns(specimenDir: string): Promise<PendingRun[]> {
  const pendingDir = path.join(specimenDir, PENDING_DIR);
  const out: PendingRun[] = [];
  for (const stage of await visibleSubdirs(pendingDir)) {
    if (!PENDING_STAGE_PATTERN.test(stage)) continue;
    const dir = path.join(pendingDir, stage);
    let request: BeginRequest;
    try {
      request = parseBeginRequest(JSON.parse(await fsp.readFile(path.join(dir, BEGIN_FILE), 'utf8')));
    } catch {
      continue;
    }
    const finished = fs.existsSync(path.join(dir, FINISH_FILE));
    const writerMayBeAlive = !finished && (await stageWriterMayBeAlive(dir, request.owner));
    out.push({ stage, dir, request, finished, writerMayBeAlive });
  }
  return out;
}

/**
 * How long a staged run whose `begin.json` names no writer process (a writer other than the Python
 * package, or an older one) counts as being written after its last change: with no process to ask, a
 * recent write is the only sign that it is alive.
 */
export const UNOWNED_STAGE_QUIET_MS = 5 * 60_000;

/** Whether `owner` names a process at all (a pid), so that ownerMayBeAlive can decide. */
function hasOwner(owner: unknown): boolean {
  return typeof (owner as { pid?: unknown } | undefined)?.pid === 'number';
}

/** Whether a file directly in `dir` changed within UNOWNED_STAGE_QUIET_MS. */
async function recentlyWritten(dir: string): Promise<boolean> {
  const since = Date.now() - UNOWNED_STAGE_QUIET_MS;
  for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
    const st = await fsp.stat(path.join(dir, name)).catch(() => undefined);
    if (st && st.mtimeMs >= since) return true;
  }
  return false;
}

/**
 * Whether the writer of a staged run that has not finished may still be running: its recorded process
 * (ownerMayBeAlive), or, when it recorded none, a write within UNOWNED_STAGE_QUIET_MS.
 */
async function stageWriterMayBeAlive(dir: string, owner: unknown): Promise<boolean> {
  return hasOwner(owner) ? ownerMayBeAlive(owner) : recentlyWritten(dir);
}

/** Options of adoptRuns. */
export interface AdoptOptions {
  /** Specimens to look at (default: all). */
  ids?: readonly string[];
  /** Only staged runs, not incomplete runs (what `specimen index` does). */
  pendingOnly?: boolean;
  /** Also adopt staged runs whose writer may be alive on another host. */
  force?: boolean;
  onWarning?: (m: string) => void;
}

/** What adoptRuns did: sealed runs, and what it left with the reason. */
export interface AdoptReport {
  adopted: SealResult[];
  skipped: { specimen_id: string; path: string; reason: string }[];
}

/** Whether any specimen (of `ids`, default all) has staged runs; cheap, for `specimen index`. */
export async function hasPendingRuns(vault: Vault, ids?: readonly string[]): Promise<boolean> {
  for (const id of ids ?? (await vault.specimenIds())) {
    if ((await visibleSubdirs(path.join(vault.specimensDir, id, PENDING_DIR))).length > 0) return true;
  }
  return false;
}

/**
 * Seals what writers left behind: every staged run in `pending/` becomes a normal run (its run ID from its
 * start time) once it is finished or its writer is gone, and (unless `pendingOnly`) every incomplete run —
 * `running` with its writer gone — is converted and sealed as `interrupted`. Staged runs of a writer that
 * may be alive are skipped, with the reason.
 */
export async function adoptRuns(vault: Vault, options: AdoptOptions = {}): Promise<AdoptReport> {
  const warn = options.onWarning ?? (() => {});
  const report: AdoptReport = { adopted: [], skipped: [] };
  const ids = options.ids ?? (await vault.specimenIds());
  for (const id of ids) {
    const specimenDir = await vault.assertSpecimenExists(id);
    const pendingDir = path.join(specimenDir, PENDING_DIR);
    const stages = await visibleSubdirs(pendingDir);
    for (const stage of stages) {
      const r = await adoptStage(vault, id, path.join(pendingDir, stage), options.force ?? false, warn);
      if ('reason' in r) report.skipped.push(r);
      else report.adopted.push(r);
    }
    if (stages.length > 0 && (await fsp.readdir(pendingDir)).length === 0)
      await fsp.rmdir(pendingDir).catch(() => {});
    if (options.pendingOnly) continue;
    const runsDir = path.join(specimenDir, RUNS_DIR);
    for (const runId of await visibleSubdirs(runsDir)) {
      const dir = path.join(runsDir, runId);
      let manifest: PlainObject;
      try {
        manifest = await readManifestFile(path.join(dir, MANIFEST_FILE));
      } catch {
        continue; // no or unreadable manifest: nothing this can seal safely
      }
      if (manifest.status !== 'running' || effectiveStatus(manifest as RunManifest) !== 'incomplete')
        continue;
      if (ownerMayBeAlive(manifest.owner) && !options.force) {
        report.skipped.push({
          specimen_id: id,
          path: path.relative(vault.root, dir),
          reason: `its writer may still be running on host ${String((manifest.owner as PlainObject).host)}; pass --force if it is gone`,
        });
        continue;
      }
      const sealed = await sealDir(vault, id, runId, dir, manifest, { fallback: 'interrupted' }, warn, {
        adopted: { at: new Date().toISOString(), reason: 'writer gone before sealing' },
      });
      report.adopted.push({ ...sealed, adopted_from: path.relative(vault.root, dir) });
    }
  }
  return report;
}

/** Names of the subdirectories of `dir` not starting with `.` (those being adopted, temporary ones), sorted. */
async function visibleSubdirs(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return [];
  return (await fsp.readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

/** The Python writer's reserve for its finish record (`_run.py` FINISH_RESERVE_FILE). */
const WRITER_RESERVE_FILE = '.tmp-finish-reserve';

/**
 * Writes the running manifest of an adopted run; on a full disk frees the run's seal reserve and tries
 * once more (sealing needs the manifest first, and rewrites it in place of the reserve's room).
 */
async function writeRunningManifest(dir: string, manifest: PlainObject): Promise<void> {
  const file = path.join(dir, MANIFEST_FILE);
  try {
    await writeManifestFile(file, manifest);
  } catch (err) {
    if (!diskFullCode(err)) throw err;
    await fsp.rm(path.join(dir, SPACE_RESERVE_FILE), { force: true });
    await writeManifestFile(file, manifest);
  }
}

/** Turns one staging directory into a sealed run, or says why not. */
async function adoptStage(
  vault: Vault,
  specimenId: string,
  stageDir: string,
  force: boolean,
  warn: (m: string) => void,
): Promise<SealResult | { specimen_id: string; path: string; reason: string }> {
  const rel = path.relative(vault.root, stageDir);
  const skip = (reason: string) => ({ specimen_id: specimenId, path: rel, reason });
  let request: BeginRequest;
  try {
    request = parseBeginRequest(JSON.parse(await fsp.readFile(path.join(stageDir, BEGIN_FILE), 'utf8')));
  } catch (err) {
    return skip(`cannot read ${BEGIN_FILE}: ${(err as Error).message}`);
  }
  const finished = fs.existsSync(path.join(stageDir, FINISH_FILE));
  if (!finished && !force && (await stageWriterMayBeAlive(stageDir, request.owner)))
    return skip(
      hasOwner(request.owner)
        ? `its writer (pid ${request.owner?.pid} on ${request.owner?.host}) may still be running; it is adopted once it finishes (--force adopts it now)`
        : `it names no writer process and was written to within the last ${UNOWNED_STAGE_QUIET_MS / 60_000} minutes, so it may still be running; it is adopted once it finishes or stays unchanged that long (--force adopts it now)`,
    );
  // Renaming the stage first makes one adopter win when several run at once (two `specimen index`).
  const claimed = path.join(path.dirname(stageDir), `.adopting-${path.basename(stageDir)}`);
  try {
    await fsp.rename(stageDir, claimed);
  } catch {
    return skip('another process is adopting it');
  }
  const started = request.started ? new Date(request.started) : new Date();
  const { runId, dir } = await claimRunDir(path.join(vault.specimenDir(specimenId), RUNS_DIR), started);
  const manifest = runningManifest(runId, request, started);
  manifest.adopted = { at: new Date().toISOString(), from: rel, host: os.hostname() };
  const moved: string[] = [];
  try {
    for (const name of await fsp.readdir(claimed)) {
      if (name === BEGIN_FILE) continue;
      await fsp.rename(path.join(claimed, name), path.join(dir, name));
      moved.push(name);
    }
    // The writer's own reserve held room for its finish.json; once adopted it only takes the room the
    // manifest needs on a full disk.
    await fsp.rm(path.join(dir, WRITER_RESERVE_FILE), { force: true });
    await writeRunningManifest(dir, manifest);
  } catch (err) {
    // Put the stage back as it was, so nothing is lost and the next adopt tries again.
    for (const name of moved)
      await fsp.rename(path.join(dir, name), path.join(claimed, name)).catch(() => {});
    await fsp.rm(dir, { recursive: true, force: true }).catch(() => {});
    await fsp.rename(claimed, stageDir).catch(() => {});
    throw asStorageFull(err, 'adopt', path.join(dir, MANIFEST_FILE)) ?? err;
  }
  await fsp.rm(claimed, { recursive: true, force: true });
  const sealed = await sealDir(vault, specimenId, runId, dir, manifest, { fallback: 'interrupted' }, warn);
  return { ...sealed, adopted_from: rel };
}
