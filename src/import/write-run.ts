/**
 * Writing one imported run. Everything — metrics, copied artifacts, tensor series, notes, the manifest —
 * is assembled and sealed in a staging directory under the vault (`.specimen-import/`), and only the
 * finished, sealed directory is renamed into `runs/<run_id>/`. So an import that fails or is killed
 * mid-run never leaves an unsealed run behind: readers see a complete run or none.
 *
 * @example
 * const written = await writeImportedRun(vault, '2025_01_02_baseline', sourceRun, {
 *   tool: 'mlflow', toolVersion: 'alembic 1b5f0d9ad7c1', sourcePath: '/data/mlflow.db',
 * })
 * // written.runId === '20250102_100000'; runs/20250102_100000/manifest.msgpack records imported_from
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { sharedRawSession } from '../duckdb/raw.js';
import { assertSafeName, runIdBase } from '../format/ids.js';
import { METRICS_FILE, RUN_NOTES_FILE, RUNS_DIR } from '../format/layout.js';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { writeColumnsParquet } from '../parquet/write-columns.js';
import { activatePlanned } from '../storage/notebook.js';
import { sealRunDir } from '../storage/seal.js';
import { writeZarr } from '../storage/tensors/index.js';
import type { Vault } from '../storage/vault.js';
import { buildMetricsTable, slugify } from './mapping.js';
import type { ImportProblem, SourceRun, SourceTool, TensorSeries } from './types.js';

/** Directory under the vault root where runs are assembled before they are renamed into place. */
export const STAGING_DIR = '.specimen-import';
/** Directory inside a run holding the files copied from the tool's artifact store. */
export const ARTIFACTS_DIR = 'artifacts';

/** Where the run came from, recorded in its manifest as `imported_from`. */
export interface ImportContext {
  tool: SourceTool;
  toolVersion?: string | undefined;
  /** Absolute path of what was imported (database, logdir, run directory). */
  sourcePath: string;
}

/** What writing one run produced. */
export interface WrittenRun {
  runId: string;
  dir: string;
  rows: number;
  artifacts: number;
  problems: ImportProblem[];
}

/** Version of the importer, recorded with every imported run. */
const IMPORTER_VERSION = 1;

/**
 * Writes `run` as a new sealed run of `specimenId` (which must exist). The run ID comes from the run's own
 * start time, so imported runs sort among the others by when they happened.
 */
export async function writeImportedRun(
  vault: Vault,
  specimenId: string,
  run: SourceRun,
  context: ImportContext,
): Promise<WrittenRun> {
  const runsDir = path.join(vault.specimenDir(specimenId), RUNS_DIR);
  await fsp.mkdir(runsDir, { recursive: true });
  const stagingRoot = path.join(vault.root, STAGING_DIR);
  await fsp.mkdir(stagingRoot, { recursive: true });
  const started = run.started ?? run.ended ?? new Date().toISOString();
  // Another writer may take the chosen ID between the choice and the rename; the run is then rebuilt
  // under the next free ID (the ID is inside the manifest and the metrics file, so it cannot be renamed).
  for (let attempt = 0; attempt < 5; attempt++) {
    const runId = freeRunId(runsDir, new Date(started));
    const staging = path.join(stagingRoot, `${process.pid}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(staging);
    try {
      const built = await buildRun(staging, runId, run, context);
      try {
        await fsp.rename(staging, path.join(runsDir, runId));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST' || code === 'ENOTEMPTY') continue;
        throw err;
      }
      await activatePlanned(path.dirname(runsDir));
      return { runId, dir: path.join(runsDir, runId), ...built };
    } finally {
      reserved.delete(path.join(runsDir, runId));
      await fsp.rm(staging, { recursive: true, force: true });
    }
  }
  throw new Error(
    `import: could not claim a run ID under ${runsDir}: every candidate was taken concurrently`,
  );
}

/** Run directories being assembled by this process, so concurrent runs of one import pick distinct IDs. */
const reserved = new Set<string>();

/** First run ID from `when` (with the usual `_001` suffixes) that no directory uses yet; reserved until released. */
function freeRunId(runsDir: string, when: Date): string {
  const base = runIdBase(Number.isFinite(when.getTime()) ? when : new Date());
  for (let seq = 0; ; seq++) {
    const id = seq === 0 ? base : `${base}_${String(seq).padStart(3, '0')}`;
    const dir = path.join(runsDir, id);
    if (!reserved.has(dir) && !fs.existsSync(dir)) {
      reserved.add(dir);
      return id;
    }
  }
}

async function buildRun(
  dir: string,
  runId: string,
  run: SourceRun,
  context: ImportContext,
): Promise<{ rows: number; artifacts: number; problems: ImportProblem[] }> {
  const problems: ImportProblem[] = [...run.problems];
  let rows = 0;
  const table = buildMetricsTable(run.series);
  if (table) {
    const session = await (await sharedRawSession()).connect();
    try {
      await writeColumnsParquet(session, path.join(dir, METRICS_FILE), table.columns, table.rows, {
        constants: [{ name: 'run_id', value: runId }],
      });
    } finally {
      session.close();
    }
    rows = table.rows;
  }
  const artifacts = await copyArtifacts(dir, run, problems);
  const tensorSeries = await writeTensorSeries(dir, run.tensors);
  if (run.notes.length > 0) await fsp.writeFile(path.join(dir, RUN_NOTES_FILE), renderNotes(run));

  const now = new Date().toISOString();
  const started = run.started ?? run.ended ?? now;
  const importedFrom: PlainObject = {
    tool: context.tool,
    tool_version: context.toolVersion ?? null,
    source_path: context.sourcePath,
    source_run_id: run.sourceRunId,
    source_experiment: run.experiment.key,
    source_experiment_name: run.experiment.name,
    source_run_name: run.name ?? null,
    source_status: run.sourceStatus ?? null,
    tags: run.tags,
    imported_at: now,
    importer_version: IMPORTER_VERSION,
  };
  if (table && Object.keys(table.renamed).length > 0) importedFrom.renamed_metrics = table.renamed;
  if (run.stepMetrics && Object.keys(run.stepMetrics).length > 0) importedFrom.step_metrics = run.stepMetrics;
  if (tensorSeries.length > 0) importedFrom.tensor_series = tensorSeries;
  if (problems.length > 0)
    importedFrom.problems = problems.map((p) => ({ path: p.path, reason: p.reason }) as PlainObject);
  const manifest: PlainObject = {
    run_id: runId,
    run_timestamp: started,
    started,
    ended: run.ended ?? started,
    status: run.status,
    seeds: {},
    config: run.config,
    summary: run.summary ?? {},
    artifacts: {},
    imported_from: importedFrom,
  };
  const p = run.provenance;
  if (p.gitCommit || p.gitBranch || p.gitRemote)
    manifest.git = { commit: p.gitCommit ?? null, branch: p.gitBranch ?? null, remote: p.gitRemote ?? null };
  if (p.command) manifest.command = p.command;
  if (p.user) manifest.user = p.user;
  await sealRunDir(dir, manifest as never, { status: run.status });
  return { rows, artifacts, problems };
}

/** Copies the run's artifact files under `artifacts/`; a file that cannot be read is a problem, not a failure. */
async function copyArtifacts(dir: string, run: SourceRun, problems: ImportProblem[]): Promise<number> {
  let copied = 0;
  const root = path.join(dir, ARTIFACTS_DIR);
  for (const a of run.artifacts) {
    let target: string;
    try {
      for (const part of a.relPath.split('/')) assertSafeName('artifact', part);
      target = within(root, ...a.relPath.split('/'));
    } catch (err) {
      problems.push({
        path: a.absPath,
        reason: `artifact path ${JSON.stringify(a.relPath)} is not safe to store: ${(err as Error).message}`,
        sourceRunId: run.sourceRunId,
      });
      continue;
    }
    try {
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await fsp.copyFile(a.absPath, target);
      copied++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push({
        path: a.absPath,
        reason:
          code === 'ENOENT'
            ? 'artifact missing on disk'
            : `artifact cannot be read: ${(err as Error).message}`,
        sourceRunId: run.sourceRunId,
      });
    }
  }
  return copied;
}

/**
 * Each tensor series becomes `<name>.zarr` (values stacked along a leading step axis) with
 * `<name>.step.zarr` and `<name>.wall_time.zarr` beside it (and, for histograms, `<name>.stats.zarr`:
 * min, max, num, sum, sum_squares per step); the manifest maps each name back to its tag.
 */
async function writeTensorSeries(dir: string, series: readonly TensorSeries[]): Promise<PlainValue[]> {
  const out: PlainValue[] = [];
  const used = new Set<string>();
  for (const t of series) {
    let name = `${t.kind === 'histogram' ? 'hist' : 'tensor'}_${slugify(t.tag) || 'unnamed'}`;
    for (let n = 2; used.has(name); n++) name = `${name}_${n}`;
    used.add(name);
    await writeZarr(path.join(dir, `${name}.zarr`), t.data, {
      shape: [t.steps.length, ...t.shape],
      dtype: 'float64',
      fsync: false,
    });
    await writeZarr(
      path.join(dir, `${name}.step.zarr`),
      BigInt64Array.from(t.steps, (s) => BigInt(s)),
      {
        shape: [t.steps.length],
        dtype: 'int64',
        fsync: false,
      },
    );
    await writeZarr(path.join(dir, `${name}.wall_time.zarr`), Float64Array.from(t.wallTimes), {
      shape: [t.steps.length],
      dtype: 'float64',
      fsync: false,
    });
    if (t.stats)
      await writeZarr(path.join(dir, `${name}.stats.zarr`), t.stats, {
        shape: [t.steps.length, 5],
        dtype: 'float64',
        fsync: false,
      });
    out.push({ name, tag: t.tag, kind: t.kind, steps: t.steps.length });
  }
  return out;
}

function renderNotes(run: SourceRun): string {
  const lines = [`# Notes imported from ${run.name ?? run.sourceRunId}`, ''];
  let tag: string | undefined;
  for (const n of run.notes) {
    if (n.tag !== tag) {
      lines.push(`## ${n.tag}`, '');
      tag = n.tag;
    }
    const when = [
      n.step !== undefined ? `step ${n.step}` : '',
      n.wallTime ? new Date(n.wallTime * 1000).toISOString() : '',
    ]
      .filter(Boolean)
      .join(', ');
    if (when) lines.push(`### ${when}`, '');
    lines.push(n.text, '');
  }
  return lines.join('\n');
}
