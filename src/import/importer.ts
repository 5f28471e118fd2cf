/**
 * `importRuns`: brings runs recorded by another tool into a vault. The source reader lists runs; runs
 * already imported (same tool and source run ID anywhere in the vault) are skipped, so a re-import adds
 * nothing new; each new run is read, written and sealed on its own, and a run that cannot be read is
 * reported with its path and reason while the others go on.
 *
 * @example
 * const vault = await Vault.open('./vault')
 * const summary = await importRuns(vault, 'mlflow', '/data/mlflow.db', { dryRun: true })
 * for (const r of summary.runs) console.log(r.specimenId, r.sourceRunId, r.action)
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isVaultError, NotFoundError } from '../errors.js';
import { assertNewSpecimenId } from '../format/ids.js';
import { MANIFEST_FILE, RUNS_DIR } from '../format/layout.js';
import { readManifestFile } from '../format/msgpack.js';
import { assertTaxonomy } from '../format/taxonomy.js';
import type { Vault } from '../storage/vault.js';
import { isImportError } from './errors.js';
import { buildMetricsTable, specimenFor } from './mapping.js';
import { loadSource } from './sources.js';
import type { ImportProblem, SourceExperiment, SourceRunHandle, SourceTool } from './types.js';
import { STAGING_DIR, writeImportedRun } from './write-run.js';

/** Taxonomy of the specimens an import creates unless told otherwise. */
const DEFAULT_DOMAIN = 'training';
const DEFAULT_METHOD = 'fine_tuning';

/** Runs written at once. */
const CONCURRENCY = 4;

/** Options of `importRuns`. */
export interface ImportOptions {
  /** Put every run into this specimen (created when missing). */
  specimen?: string | undefined;
  /** Experiment key or name → specimen ID; others get a derived ID. */
  map?: ReadonlyMap<string, string> | undefined;
  /** List what would be created without writing anything. */
  dryRun?: boolean | undefined;
  /** Taxonomy of specimens the import creates (default `training` / `fine_tuning`). */
  domain?: string | undefined;
  method?: string | undefined;
  /** Called after each run with the number of runs handled so far and the total. */
  onProgress?: ((done: number, total: number, label: string) => void) | undefined;
  /** Called once the total is known. */
  onStart?: ((total: number) => void) | undefined;
}

/** What happened to one source run. */
export interface ImportedRun {
  sourceRunId: string;
  specimenId: string;
  /** `created` (or `would create` in a dry run), `skipped` (already imported), `failed` (unreadable). */
  action: 'created' | 'would create' | 'skipped' | 'failed';
  runId?: string;
  rows: number;
  artifacts: number;
  reason?: string;
}

/** The result of an import, printed by the CLI as its summary. */
export interface ImportSummary {
  tool: SourceTool;
  toolVersion?: string | undefined;
  source: string;
  dryRun: boolean;
  /** Specimens touched: created (or to be created) by this import, or existing. */
  specimens: { specimenId: string; created: boolean; runs: number }[];
  runs: ImportedRun[];
  /** Metric rows written, artifacts copied. */
  rows: number;
  artifacts: number;
  /** Every item that could not be read, with its path and reason (runs that failed and parts of runs). */
  problems: ImportProblem[];
}

/** Imports the runs found at `source` by the reader for `tool` into `vault`. */
export async function importRuns(
  vault: Vault,
  tool: SourceTool,
  source: string,
  options: ImportOptions = {},
): Promise<ImportSummary> {
  const abs = path.resolve(source);
  if (!fs.existsSync(abs)) throw new NotFoundError(`${tool} source`, abs);
  // Checked before anything is read, so a typo in --domain fails at once rather than at the first new specimen.
  assertTaxonomy(vault.config.taxonomy, options.domain ?? DEFAULT_DOMAIN, options.method ?? DEFAULT_METHOD);
  if (options.specimen) assertNewSpecimenId(options.specimen);
  for (const id of options.map?.values() ?? []) assertNewSpecimenId(id);
  if (!options.dryRun) await clearStaleStaging(vault);

  const summary: ImportSummary = {
    tool,
    source: abs,
    dryRun: options.dryRun ?? false,
    specimens: [],
    runs: [],
    rows: 0,
    artifacts: 0,
    problems: [],
  };
  const listing = await (async () => {
    try {
      return await loadSource(tool, abs);
    } catch (err) {
      if (!isImportError(err)) throw err;
      summary.problems.push({ path: err.path, reason: err.reason });
      return undefined;
    }
  })();
  if (!listing) return summary;
  try {
    summary.toolVersion = listing.toolVersion;
    summary.problems.push(...listing.problems);
    const existing = await importedRunIndex(vault, tool);
    const specimens = new Map<string, SpecimenEntryState>();
    const fallbackDates = earliestStarts(listing.runs);
    options.onStart?.(listing.runs.length);
    // Runs are written a few at a time: most of a run's time is spent waiting on fsync and DuckDB's threads,
    // which overlap well; the source is read on the main thread in between.
    const handles = listing.runs;
    const records: ImportedRun[] = new Array(handles.length);
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < handles.length) {
        const i = next++;
        const handle = handles[i]!;
        const specimenId = specimenFor(handle.experiment, options, fallbackDates.get(handle.experiment));
        const entry = specimenEntry(vault, specimens, specimenId);
        const record = await importOne(vault, handle, specimenId, entry, existing, options, summary);
        records[i] = record;
        if (record.action === 'created' || record.action === 'would create') entry.runs++;
        options.onProgress?.(++done, handles.length, handle.sourceRunId);
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, handles.length) }, worker));
    summary.runs = records;
    summary.specimens = [...specimens]
      .filter(([, s]) => s.runs > 0 || s.exists)
      .map(([specimenId, s]) => ({ specimenId, created: s.created, runs: s.runs }));
    return summary;
  } finally {
    listing.close?.();
  }

  async function importOne(
    vault: Vault,
    handle: SourceRunHandle,
    specimenId: string,
    entry: SpecimenEntryState,
    existing: Map<string, string>,
    options: ImportOptions,
    summary: ImportSummary,
  ): Promise<ImportedRun> {
    const base = { sourceRunId: handle.sourceRunId, specimenId, rows: 0, artifacts: 0 };
    const already = existing.get(handle.sourceRunId);
    if (already) return { ...base, action: 'skipped', reason: `already imported as ${already}` };
    let run: Awaited<ReturnType<SourceRunHandle['load']>>;
    try {
      run = await handle.load();
    } catch (err) {
      if (!isImportError(err)) throw err;
      summary.problems.push({ path: err.path, reason: err.reason, sourceRunId: handle.sourceRunId });
      return { ...base, action: 'failed', reason: err.reason };
    }
    if (options.dryRun) {
      summary.problems.push(...run.problems);
      const rows = buildMetricsTable(run.series)?.rows ?? 0;
      summary.rows += rows;
      summary.artifacts += run.artifacts.length;
      if (!entry.exists) entry.created = true;
      return { ...base, action: 'would create', rows, artifacts: run.artifacts.length };
    }
    if (!entry.exists) {
      // One creation per specimen, awaited by every run going into it.
      entry.creating ??= createSpecimen(vault, specimenId, handle.experiment, tool, abs, options).then(() => {
        entry.created = true;
      });
      await entry.creating;
      entry.exists = true;
    }
    const written = await writeImportedRun(vault, specimenId, run, {
      tool,
      toolVersion: listing?.toolVersion,
      sourcePath: abs,
    });
    existing.set(handle.sourceRunId, `${specimenId}/${written.runId}`);
    summary.problems.push(...written.problems);
    summary.rows += written.rows;
    summary.artifacts += written.artifacts;
    return {
      ...base,
      action: 'created',
      runId: written.runId,
      rows: written.rows,
      artifacts: written.artifacts,
    };
  }
}

/** What the import knows about a specimen it writes into. */
interface SpecimenEntryState {
  created: boolean;
  runs: number;
  exists: boolean;
  creating?: Promise<void>;
}

function specimenEntry(
  vault: Vault,
  specimens: Map<string, SpecimenEntryState>,
  specimenId: string,
): SpecimenEntryState {
  let entry = specimens.get(specimenId);
  if (!entry) {
    const exists = fs.existsSync(path.join(vault.specimenDir(specimenId), MANIFEST_FILE));
    entry = { created: false, runs: 0, exists };
    specimens.set(specimenId, entry);
  }
  return entry;
}

async function createSpecimen(
  vault: Vault,
  specimenId: string,
  experiment: SourceExperiment,
  tool: SourceTool,
  source: string,
  options: ImportOptions,
): Promise<void> {
  try {
    await vault.createSpecimen({
      specimenId,
      domain: options.domain ?? DEFAULT_DOMAIN,
      method: options.method ?? DEFAULT_METHOD,
      tags: ['imported', tool],
      description: `Imported from ${tool} experiment ${JSON.stringify(experiment.name)} (${experiment.key}) at ${source}.`,
      extra: {
        imported_from: {
          tool,
          source_path: source,
          source_experiment: experiment.key,
          source_experiment_name: experiment.name,
          source_experiment_created: experiment.created ?? null,
          tags: experiment.tags ?? {},
        },
      },
    });
  } catch (err) {
    // Another import created it meanwhile: the runs go into it all the same.
    if (!isVaultError(err, 'DuplicateSpecimenError')) throw err;
  }
}

/**
 * Source run ID → `<specimen>/<run>` of every run this tool already imported, anywhere in the vault, so a
 * re-import with another `--map` still adds nothing twice.
 */
async function importedRunIndex(vault: Vault, tool: SourceTool): Promise<Map<string, string>> {
  const index = new Map<string, string>();
  for (const specimenId of await vault.specimenIds()) {
    const runsDir = path.join(vault.specimensDir, specimenId, RUNS_DIR);
    let runIds: string[];
    try {
      runIds = await fsp.readdir(runsDir);
    } catch {
      continue;
    }
    for (const runId of runIds) {
      try {
        const m = await readManifestFile(path.join(runsDir, runId, MANIFEST_FILE));
        const from = m.imported_from as { tool?: unknown; source_run_id?: unknown } | undefined;
        if (from?.tool === tool && typeof from.source_run_id === 'string')
          index.set(from.source_run_id, `${specimenId}/${runId}`);
      } catch {
        // Not a run this import could have written (no manifest, unreadable): nothing to deduplicate against.
      }
    }
  }
  return index;
}

/**
 * Experiments without a creation time are dated by their earliest run, so the derived specimen ID is the
 * same on every re-import (never today's date).
 */
function earliestStarts(runs: readonly SourceRunHandle[]): Map<SourceExperiment, string | undefined> {
  const out = new Map<SourceExperiment, string | undefined>();
  for (const r of runs) {
    const prev = out.get(r.experiment);
    if (r.started && (prev === undefined || r.started < prev)) out.set(r.experiment, r.started);
    else if (!out.has(r.experiment)) out.set(r.experiment, undefined);
  }
  return out;
}

/** Removes staging directories left by import processes that no longer exist (killed mid-run). */
async function clearStaleStaging(vault: Vault): Promise<void> {
  const dir = path.join(vault.root, STAGING_DIR);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue;
    if (pid === process.pid) continue;
    await fsp.rm(path.join(dir, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
