/**
 * Reading what changed in a vault for the indexer: which specimen directories exist, their signatures
 * against what the last index recorded (`SpecimenState`), and the rows of the specimens and runs that
 * moved (`scanSpecimen`). Shared by the full rebuild (build/index-vault.ts) and the delta update (build/delta.ts).
 *
 * @example
 * const ids = listSpecimenDirs(root, warn)
 * const work = scanSpecimen(root, ids[0], previous.get(ids[0]), undefined, false, warn)
 */

import fs from 'node:fs';
import path from 'node:path';
import { quoteIdent, quoteLiteral } from '../duckdb/node-api.js';
import { connectShared } from '../duckdb/read-parquet.js';
import { isVaultError } from '../errors.js';
import { assertSpecimenId } from '../format/ids.js';
import { METRICS_FILE, SPECIMENS_DIR } from '../format/layout.js';
import { effectiveSpecimenStatus } from '../format/manifest.js';
import { listRunDirs, readDamaged, runDirName } from '../storage/describe.js';
import { inspectMetricsFile } from '../storage/metrics/summary.js';
import {
  type CatalogRow,
  catalogRow,
  type RunRead,
  type RunState,
  readRun,
  readSpecimenManifest,
  readSupersessions,
  recheckRunning,
  runSignature,
  specimenLayout,
  specimenSignature,
  summaryRow,
} from './read-vault.js';
import { expViewName } from './schema.js';

/**
 * What `index_state` holds for one specimen directory. The per-run records are parsed only when needed (a
 * changed specimen, or one with unsealed runs): most specimens of a large vault are unchanged and sealed.
 */
/** A SpecimenState as stored: signature, indexed, warning, runs (JSON text), unsealed, run count. */
export type SpecimenRecord = [string, 0 | 1, string | null, string, 0 | 1, number];

export class SpecimenState {
  private parsed: Record<string, RunState> | undefined;

  constructor(
    readonly signature: string,
    readonly indexed: boolean,
    readonly warning: string | null,
    private readonly raw: Record<string, RunState> | string,
    /** Some run is not sealed (its directory must be looked at even when the specimen's is unchanged). */
    readonly unsealed: boolean,
    readonly runCount: number,
  ) {}

  static of(
    signature: string,
    indexed: boolean,
    warning: string | null,
    runs: Record<string, RunState>,
  ): SpecimenState {
    const all = Object.values(runs);
    return new SpecimenState(
      signature,
      indexed,
      warning,
      runs,
      all.some((r) => !r.sealed),
      all.length,
    );
  }

  /** The form kept in the catalog's state file (see delta.ts). */
  toRecord(): SpecimenRecord {
    const runs = typeof this.raw === 'string' ? this.raw : JSON.stringify(this.raw);
    return [this.signature, this.indexed ? 1 : 0, this.warning, runs, this.unsealed ? 1 : 0, this.runCount];
  }

  static fromRecord(r: SpecimenRecord): SpecimenState {
    return new SpecimenState(r[0], r[1] === 1, r[2], r[3], r[4] === 1, r[5]);
  }

  get runs(): Record<string, RunState> {
    this.parsed ??=
      typeof this.raw === 'string' ? (JSON.parse(this.raw) as Record<string, RunState>) : this.raw;
    return this.parsed;
  }
}

/** The outcome of one specimen in this index. */
export interface SpecimenWork {
  specimenId: string;
  state: SpecimenState;
  /** Unchanged specimens are carried over as they are. */
  unchanged: boolean;
  /** Indexed before this index. */
  wasIndexed: boolean;
  /** Set for a (re)indexed specimen. */
  catalog?: CatalogRow;
  /** Runs read this time. */
  reads: RunRead[];
  /** Runs kept from the last index, whose is_latest/superseded_by are set again. */
  keptRuns: { specimen_id: string; run_id: string; is_latest: boolean; superseded_by: string | null }[];
  /** Run IDs whose rows go: changed or removed runs, or all of the last index's when it is no longer indexed. */
  dropRuns: string[];
  /** Run IDs in order (an indexed specimen), for its exp_ view. */
  order?: string[];
  /** Vault-relative metrics files of dropped runs, for the metrics view. */
  droppedFiles: string[];
  /** Its view name clashes with another specimen's (see clashingIds): it gets no view. */
  viewClash: boolean;
}

/** Specimen directory names, sorted; names that are not safe IDs are reported and left out. */
export function listSpecimenDirs(root: string, warn: (m: string) => void): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(root, SPECIMENS_DIR), { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const ids: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('.')) continue;
    try {
      assertSpecimenId(e.name);
      ids.push(e.name);
    } catch (err) {
      if (!isVaultError(err)) throw err;
      warn(`specimen ${path.join(root, SPECIMENS_DIR, e.name)}: ${err.message}; skipped`);
    }
  }
  return ids.sort();
}

/**
 * DuckDB names ignore case, so specimens whose IDs differ only in case would share a view name: the first
 * in ID order gets the view, the others none (their rows are still catalogued).
 */
export function clashingIds(ids: readonly string[], warn: (m: string) => void): Set<string> {
  const first = new Map<string, string>();
  const out = new Set<string>();
  for (const id of ids) {
    const key = id.toLowerCase();
    const holder = first.get(key);
    if (holder === undefined) first.set(key, id);
    else {
      out.add(id);
      warn(
        `specimen ${id}: view ${expViewName(id)} would clash with ${expViewName(holder)} (DuckDB names ignore case); not created`,
      );
    }
  }
  return out;
}

/** Vault-relative metrics file of a run. */
export function metricsPath(specimenId: string, runId: string): string {
  return `${SPECIMENS_DIR}/${specimenId}/${runDirName(runId)}/${METRICS_FILE}`;
}

/** Metrics files of the runs recorded in a specimen state. */
export function filesOf(specimenId: string, state: SpecimenState, only?: readonly string[]): string[] {
  const ids = only ?? Object.keys(state.runs);
  return ids.filter((id) => (state.runs[id]?.metrics ?? 0) > 0).map((id) => metricsPath(specimenId, id));
}

/**
 * True when none of the runs recorded in `prev` moved, for a specimen whose own signature did not: no run
 * was added or removed (`runs/` did not change), sealed runs never change, so only unsealed runs are looked
 * at, and `running` ones are checked for a writer that has gone.
 */
export function runsUnchanged(specimenDir: string, prev: SpecimenState): boolean {
  if (!prev.unsealed) return true;
  for (const [runId, rs] of Object.entries(prev.runs)) {
    if (rs.sealed) continue;
    if (runSignature(path.join(specimenDir, runDirName(runId)), false) !== rs.sig) return false;
    if (rs.status === 'running' && recheckRunning(rs) !== 'running') return false;
  }
  return true;
}

/**
 * Decides what to do with one specimen directory and reads whatever changed. `taken` is its signature
 * taken earlier in this index, if any.
 */
export function scanSpecimen(
  root: string,
  specimenId: string,
  prev: SpecimenState | undefined,
  taken: string | undefined,
  viewClash: boolean,
  warn: (m: string) => void,
): SpecimenWork {
  const dir = path.join(root, SPECIMENS_DIR, specimenId);
  const wasIndexed = prev?.indexed === true;
  const nothing = {
    specimenId,
    wasIndexed,
    reads: [],
    keptRuns: [],
    dropRuns: [],
    droppedFiles: [],
    viewClash,
  };
  const current = prev ? (taken ?? specimenSignature(dir)) : undefined;
  if (prev && prev.signature === current && (!prev.indexed || runsUnchanged(dir, prev))) {
    // Unchanged; a skipped specimen's problem is still a problem, so it is reported again.
    if (!prev.indexed && prev.warning) warn(prev.warning);
    return { ...nothing, state: prev, unchanged: true };
  }
  const manifest = readSpecimenManifest(specimenId, dir);
  const signature = specimenSignature(dir, manifest.sig);
  const base: SpecimenWork = {
    ...nothing,
    state: SpecimenState.of(signature, false, null, {}),
    unchanged: false,
  };
  if (!manifest.ok) {
    warn(manifest.warning);
    return {
      ...base,
      state: SpecimenState.of(signature, false, manifest.warning, {}),
      dropRuns: wasIndexed ? Object.keys(prev!.runs) : [],
      droppedFiles: wasIndexed ? filesOf(specimenId, prev!) : [],
    };
  }
  const problems: string[] = [];
  const layout = specimenLayout(dir);
  const runDirs = listRunDirs(dir, problems, layout.hasStrata);
  const superseded = layout.hasSupersessions ? readSupersessions(dir, problems) : {};
  // Runs recovery found damaged after an OS crash: their status is `damaged` whatever the manifest says.
  const damaged = readDamaged(dir);
  for (const p of problems) warn(p);
  const prevRuns = wasIndexed ? prev!.runs : {};
  const runs: Record<string, RunState> = {};
  const reads: RunRead[] = [];
  const kept: string[] = [];
  for (const rd of runDirs) {
    const old = prevRuns[rd.runId];
    const isDamaged = damaged[rd.runId] !== undefined;
    if (
      old &&
      (old.status === 'damaged') === isDamaged &&
      runSignature(rd.dir, old.sealed) === old.sig &&
      recheckRunning(old) === old.status
    ) {
      runs[rd.runId] = old;
      kept.push(rd.runId);
      continue;
    }
    const r = readRun(specimenId, rd);
    if (isDamaged) {
      // Its files do not match the seal (a truncated metrics file would fail every query of the views):
      // listed with its artifacts, kept out of the metrics views.
      r.run.status = 'damaged';
      r.state.status = 'damaged';
      r.state.metrics = 0;
      delete r.metricsFile;
      delete r.inspect;
      r.summaries = [];
    }
    if (r.warning) warn(r.warning);
    runs[rd.runId] = r.state;
    reads.push(r);
  }
  const keptSet = new Set(kept);
  const dropRuns = Object.keys(prevRuns).filter((id) => !keptSet.has(id));
  const order = runDirs.map((r) => r.runId);
  const latest = order.at(-1) ?? null;
  for (const r of reads) {
    r.run.is_latest = r.run.run_id === latest;
    r.run.superseded_by = superseded[r.run.run_id] ?? null;
  }
  const catalog = catalogRow(specimenId, manifest);
  catalog.run_count = order.length;
  catalog.latest_run = latest;
  catalog.latest_status = latest ? (runs[latest]?.status ?? null) : null;
  // A planned specimen whose first run was written by a process that left the manifest alone is active.
  catalog.status = effectiveSpecimenStatus(catalog.status, order.length);
  return {
    ...base,
    state: SpecimenState.of(signature, true, null, runs),
    catalog,
    reads,
    keptRuns: kept.map((run_id) => ({
      specimen_id: specimenId,
      run_id,
      is_latest: run_id === latest,
      superseded_by: superseded[run_id] ?? null,
    })),
    dropRuns,
    order,
    droppedFiles: wasIndexed ? filesOf(specimenId, prev!, dropRuns) : [],
  };
}

/** Whether a run read needs its files before its rows are written (see completeFromFile). */
export function needsFiles(r: RunRead): boolean {
  return r.inspect !== undefined || r.inspectSystem !== undefined;
}

/**
 * Fills in what only the Parquet files can tell: the metrics' columns, rows and, when not stored, the
 * summaries; and the peaks of a system.parquet whose manifest does not record them.
 */
export async function completeFromFile(r: RunRead, warn: (m: string) => void): Promise<void> {
  if (r.inspectSystem !== undefined) await completeSystemPeaks(r, r.inspectSystem, warn);
  if (r.inspect !== undefined) await completeMetrics(r, warn);
}

/**
 * The largest `rss_bytes` and `gpu_memory_bytes` of `system.parquet`, as sealing records them in the
 * manifest's `system` (runner/convert.ts: finite values only), for runs sealed before it did.
 */
async function completeSystemPeaks(r: RunRead, file: string, warn: (m: string) => void): Promise<void> {
  const con = await connectShared();
  try {
    const source = `read_parquet(${quoteLiteral(path.resolve(file))})`;
    const described = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    const columns = new Set(described.getRowsJS().map((row) => String(row[0])));
    const peak = (c: string) => {
      if (!columns.has(c)) return 'NULL';
      const v = `CAST(${quoteIdent(c)} AS DOUBLE)`;
      return `max(${v}) FILTER (WHERE isfinite(${v}))`;
    };
    const peaks = (
      await con.runAndReadAll(`SELECT ${peak('rss_bytes')}, ${peak('gpu_memory_bytes')} FROM ${source}`)
    ).getRowsJS()[0];
    const asInt = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : null);
    r.run.peak_rss_bytes = asInt(peaks?.[0]);
    r.run.peak_gpu_memory_bytes = asInt(peaks?.[1]);
  } catch (err) {
    // Unreadable (damaged): the run is indexed without peaks, as before.
    warn(`run ${r.run.specimen_id}/${r.run.run_id}: cannot read ${file}: ${(err as Error).message}`);
  } finally {
    con.closeSync();
  }
}

async function completeMetrics(r: RunRead, warn: (m: string) => void): Promise<void> {
  const need = r.inspect!;
  const metrics = r.artifacts.find((a) => a.kind === 'metrics');
  // On a connection of its own, never the index's: a file DuckDB fails on (damaged, not Parquet) would
  // abort the index's transaction, and every statement after it would fail too.
  const con = await connectShared();
  try {
    const facts = await inspectMetricsFile(con, path.resolve(need.file), need.summary);
    if (metrics && need.facts) {
      metrics.rows = facts.rows;
      metrics.columns = facts.columns;
      metrics.column_types = facts.columnTypes;
    }
    if (need.summary) r.summaries = facts.summary.map((s) => summaryRow(r.run.specimen_id, r.run.run_id, s));
    r.state.metrics = facts.columns.includes('run_id') ? 2 : 1;
  } catch (err) {
    // An unreadable metrics file (being written, truncated) stays listed as an artifact, out of the views.
    warn(`run ${r.run.specimen_id}/${r.run.run_id}: cannot read ${need.file}: ${(err as Error).message}`);
    r.state.metrics = 0;
    r.metricsFile = undefined;
  } finally {
    con.closeSync();
  }
}
