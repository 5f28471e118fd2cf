/**
 * Runs on disk. A run is `specimens/<id>/runs/<run_id>/` with its own manifest; the Python implementation's
 * legacy layout keeps one implicit run in `strata/` (run ID `strata`). New run directories are claimed with
 * an exclusive `mkdir`, which the OS makes atomic across processes, so two runs never share an ID even when
 * they start in the same second: the second becomes `…_001`, the third `…_002`.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CorruptManifestError, isVaultError } from '../errors.js';
import { compareRunIds, runIdBase } from '../format/ids.js';
import { normalizeRunManifest, type RunManifest, type RunStatus } from '../format/manifest.js';
import { readManifestFile } from '../format/msgpack.js';

/** Name of the legacy single-run directory and of the run ID it is read as. */
export const LEGACY_RUN_ID = 'strata';
export const RUNS_DIR = 'runs';
export const MANIFEST_FILE = 'manifest.msgpack';

/** A run's status as seen by readers: `incomplete` is a `running` run whose writer is gone. */
export type EffectiveRunStatus = RunStatus | 'incomplete';

/** What a reader knows about one run. */
export interface RunInfo {
  specimenId: string;
  runId: string;
  /** Absolute path of the run directory. */
  path: string;
  /** `runs` for runs/<id>/, `strata` for the legacy layout. */
  layout: 'runs' | 'strata';
  /** Effective status (see EffectiveRunStatus). */
  status: EffectiveRunStatus;
  /** True once finish() recorded the file inventory. */
  sealed: boolean;
  started: string | null;
  ended: string | null;
  durationS: number | null;
  /** The run manifest (normalized; unknown fields kept); undefined when the run has none yet. */
  manifest: RunManifest | undefined;
  /** Set when the manifest exists but cannot be decoded. */
  error?: CorruptManifestError;
}

/** Claims a new run directory under `runsDir` named after `now`, adding a suffix on collision. */
export async function claimRunDir(
  runsDir: string,
  now: Date = new Date(),
): Promise<{ runId: string; dir: string }> {
  await fsp.mkdir(runsDir, { recursive: true });
  const base = runIdBase(now);
  for (let seq = 0; seq < 100_000; seq++) {
    const runId = seq === 0 ? base : `${base}_${String(seq).padStart(3, '0')}`;
    const dir = path.join(runsDir, runId);
    try {
      await fsp.mkdir(dir);
      return { runId, dir };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error(`run: could not claim a run directory under ${runsDir}`);
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

/** Effective status of a run manifest: a `running` run whose owner process is gone is `incomplete`. */
export function effectiveStatus(manifest: RunManifest | undefined): EffectiveRunStatus {
  if (!manifest) return 'incomplete';
  if (manifest.status !== 'running') return manifest.status;
  const owner = manifest.owner as { pid?: unknown; host?: unknown } | undefined;
  if (owner && typeof owner.pid === 'number' && owner.host === os.hostname()) {
    return processAlive(owner.pid) ? 'running' : 'incomplete';
  }
  // Written on another machine or without an owner record: a live writer cannot be proven, so say so.
  return 'incomplete';
}

function durationOf(started: string | null, ended: string | null): number | null {
  if (!started || !ended) return null;
  const d = (Date.parse(ended) - Date.parse(started)) / 1000;
  return Number.isFinite(d) ? d : null;
}

/** Reads one run directory. Never throws for a missing or corrupt manifest: those show in `status`/`error`. */
export async function readRunInfo(
  specimenId: string,
  runDir: string,
  runId: string,
  layout: 'runs' | 'strata',
): Promise<RunInfo> {
  const file = path.join(runDir, MANIFEST_FILE);
  let manifest: RunManifest | undefined;
  let error: CorruptManifestError | undefined;
  try {
    manifest = normalizeRunManifest(await readManifestFile(file), runId, file);
  } catch (err) {
    if (isVaultError(err, 'CorruptManifestError')) error = err;
    else if (isVaultError(err, 'ManifestError'))
      error = new CorruptManifestError(file, err.message, { cause: err });
    else if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (!manifest && layout === 'strata' && !error) {
    // The legacy layout may hold data without a run manifest: it is a finished run all the same.
    const stat = await fsp.stat(runDir);
    const ts = stat.mtime.toISOString();
    manifest = normalizeRunManifest({ run_timestamp: ts }, runId);
  }
  const started = (manifest?.started as string | null | undefined) ?? null;
  const ended = (manifest?.ended as string | null | undefined) ?? null;
  const info: RunInfo = {
    specimenId,
    runId,
    path: runDir,
    layout,
    status: error ? 'incomplete' : effectiveStatus(manifest),
    sealed: manifest?.sealed_at !== undefined && manifest.files !== undefined,
    started,
    ended,
    durationS: durationOf(started, ended),
    manifest,
  };
  if (error) info.error = error;
  return info;
}

/** All runs of the specimen at `specimenDir`, oldest first; the legacy `strata/` run comes first. */
export async function listRunInfos(specimenId: string, specimenDir: string): Promise<RunInfo[]> {
  const out: RunInfo[] = [];
  const strata = path.join(specimenDir, LEGACY_RUN_ID);
  if (fs.existsSync(strata) && fs.statSync(strata).isDirectory()) {
    out.push(await readRunInfo(specimenId, strata, LEGACY_RUN_ID, 'strata'));
  }
  const runsDir = path.join(specimenDir, RUNS_DIR);
  let names: string[] = [];
  try {
    names = (await fsp.readdir(runsDir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => e.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  names.sort(compareRunIds);
  const infos = await Promise.all(
    names.map((n) => readRunInfo(specimenId, path.join(runsDir, n), n, 'runs')),
  );
  out.push(...infos);
  return out;
}
