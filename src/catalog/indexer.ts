/**
 * `indexVault` builds `vault.duckdb` at the vault root from the specimens on disk.
 *
 * - **Atomic swap.** DuckDB admits one writing process per file, and readers (a notebook, the web UI) may
 *   hold the catalog open read-only. So the index is built into `vault.duckdb.build-<pid>-<random>` beside
 *   it (a copy of the current catalog for an incremental index) and renamed over `vault.duckdb` when
 *   complete: a reader keeps the snapshot it opened and sees the new one when it reopens (VaultQuery does
 *   so by itself). A crash leaves the old catalog as it was.
 * - **Lock.** `vault.duckdb.lock` (see lock.ts) serializes indexers; the second waits, then fails with
 *   CatalogBusyError naming the holder.
 * - **Incremental.** `vault.duckdb.d/state.json` keeps, per specimen, a signature of its directory entries
 *   and, per run, of the run directory (see read-vault.ts). Only specimens whose signature moved are re-read,
 *   and within them only the runs whose signature moved; `running` runs are re-checked for a writer that has
 *   gone. When only runs were added, the file is not rewritten at all (see delta.ts). `full: true` rebuilds
 *   from scratch, as does a catalog written with another schema version or one the state does not describe.
 * - **Pipelined.** Specimens are read in batches on the main thread while DuckDB (on its own threads)
 *   creates the previous batch's views.
 * - **Problems.** A missing or corrupt manifest is reported through `onWarning` and `report.warnings` and
 *   the specimen is skipped; the index still completes. `report.nothingIndexable` tells when no specimen
 *   could be indexed at all.
 *
 * @example
 * const report = await indexVault('/vault', { onWarning: (m) => console.warn(m) })
 * console.log(`${report.specimens.indexed} indexed, ${report.specimens.unchanged} unchanged`)
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../duckdb/node-api.js';
import { VaultNotFoundError } from '../errors.js';
import { isVaultDir, SPECIMENS_DIR } from '../format/vault-config.js';
import { type CatalogHandle, catalogPath, openCatalog } from './connection.js';
import {
  type CatalogState,
  emptyDelta,
  fileIdentity,
  newGeneration,
  readCatalogState,
  removeOldGenerations,
  updateThroughDelta,
  writeCatalogState,
  writeDelta,
} from './delta.js';
import {
  ARTIFACT_COLUMNS,
  CATALOG_COLUMNS,
  type ColumnSpec,
  RowLoader,
  RowSink,
  RUN_COLUMNS,
  SUMMARY_COLUMNS,
} from './loader.js';
import { acquireLock } from './lock.js';
import { type RunRead, specimenSignature } from './read-vault.js';
import {
  clashingIds,
  completeFromFile,
  filesOf,
  listSpecimenDirs,
  type SpecimenRecord,
  SpecimenState,
  type SpecimenWork,
  scanSpecimen,
} from './scan.js';
import {
  BASE_SCHEMA,
  branchesOfFile,
  branchFilesMacro,
  branchFilesMacroSql,
  branchKey,
  CATALOG_DIR,
  CATALOG_SCHEMA_VERSION,
  chunkCount,
  chunkOf,
  deltaDirMacroSql,
  expSources,
  expViewName,
  expViewSql,
  MACROS_SQL,
  type MetricBranch,
  metricsViewSql,
  STUB_MACROS_SQL,
  TABLES_SQL,
  tableViewsSql,
} from './schema.js';

/** Options of `indexVault`. */
export interface IndexOptions {
  /** Rebuild from scratch instead of updating what changed. */
  full?: boolean;
  /** Called as specimens are processed: `done` of `total` specimen directories. */
  onProgress?: (done: number, total: number) => void;
  /** Called once per problem (missing or corrupt manifest, unreadable file…), as it is found. */
  onWarning?: (message: string) => void;
  /** How long to wait for another indexer to finish, in milliseconds (default 60 s). */
  lockTimeoutMs?: number;
  /**
   * Most specimens that may differ from the catalog file before an index rewrites it rather than
   * updating its delta (default 64; 0 always rewrites). See delta.ts.
   */
  maxDeltaSpecimens?: number;
}

/** What an index did. */
export interface IndexReport {
  /** Absolute path of the catalog written. */
  catalogPath: string;
  /** True when the catalog was rebuilt from scratch. */
  full: boolean;
  specimens: {
    /** Specimen directories found. */
    total: number;
    /** Read (new or changed) and indexed. */
    indexed: number;
    /** Unchanged since the last index and not re-read. */
    unchanged: number;
    /** Skipped because of a missing or corrupt manifest (see `warnings`). */
    skipped: number;
    /** Indexed before, gone now (or no longer indexable). */
    removed: number;
  };
  runs: {
    /** Runs in the catalog now. */
    total: number;
    /** Read (new or changed). */
    indexed: number;
    /** Carried over without re-reading. */
    unchanged: number;
    /** Indexed before, gone now. */
    removed: number;
  };
  /** Every problem found, in order. */
  warnings: string[];
  /** True when not a single specimen could be indexed (the CLI exits 1). */
  nothingIndexable: boolean;
  durationMs: number;
}

const BATCH = 250;

/** DuckDB statements run one after another on the connection while the main thread reads ahead. */
class SerialQueue {
  private tail: Promise<void> = Promise.resolve();
  private error: unknown;

  push(task: () => Promise<void>): void {
    this.tail = this.tail.then(async () => {
      if (this.error === undefined) await task();
    });
    // Keep the first failure; the chain itself never rejects, so no rejection goes unhandled.
    this.tail = this.tail.catch((err: unknown) => {
      this.error ??= err;
    });
  }

  /** Waits for everything queued; throws the first failure. */
  async drain(): Promise<void> {
    await this.tail;
    if (this.error !== undefined) throw this.error;
  }
}

/** Builds or updates the catalog of the vault at `root`; see the module comment. */
export async function indexVault(root: string, options: IndexOptions = {}): Promise<IndexReport> {
  const t0 = performance.now();
  const absRoot = path.resolve(root);
  if (!isVaultDir(absRoot)) throw new VaultNotFoundError(absRoot);
  const target = catalogPath(absRoot);
  const release = await acquireLock(`${target}.lock`, { timeoutMs: options.lockTimeoutMs ?? 60_000 });
  const build = `${target}.build-${process.pid}-${randomBytes(4).toString('hex')}`;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  let db: CatalogHandle | undefined;
  try {
    removeLeftovers(target);
    let full = options.full === true || !fs.existsSync(target);
    if (!full) {
      const quick = await updateThroughDelta(absRoot, target, options, t0);
      if (quick) return quick;
    }
    const oldState = readCatalogState(absRoot);
    let previous = new Map<string, SpecimenState>();
    // Copying and opening the current catalog run on the thread pool while this thread lists the specimens
    // and takes their signatures.
    const opening = full ? undefined : openPrevious(absRoot, target, build, oldState);
    let ids: string[];
    let signatures: Map<string, string> | undefined;
    try {
      ids = listSpecimenDirs(absRoot, warn);
      if (opening)
        signatures = new Map(ids.map((id) => [id, specimenSignature(path.join(absRoot, SPECIMENS_DIR, id))]));
    } catch (err) {
      await opening?.then((o) => o.db.close()).catch(() => {});
      throw err;
    }
    if (opening) {
      try {
        ({ db, previous } = await opening);
      } catch (err) {
        warn(`catalog: ${target} could not be updated (${(err as Error).message}); rebuilding it`);
        removeBuild(build);
        full = true;
        signatures = undefined;
      }
    }
    if (!db) {
      db = await openCatalog(absRoot, { file: build });
      await db.connection.run(TABLES_SQL);
      await db.connection.run(MACROS_SQL);
    }
    const con = db.connection;
    const loader = new RowLoader(`${build}.rows`);
    const queue = new SerialQueue();
    await con.run('BEGIN TRANSACTION');
    await con.run(STUB_MACROS_SQL);

    const clashes = clashingIds(ids, warn);
    const present = new Set(ids);
    const removed = [...previous.entries()].filter(([id]) => !present.has(id));
    const sinks = new Sinks(`${build}.rows`);
    const metricsFiles = new MetricsFiles();
    for (const [id, s] of removed) metricsFiles.drop(filesOf(id, s));
    const tally = new Tally();
    const states: Record<string, SpecimenRecord> = {};
    for (let i = 0; i < ids.length; i += BATCH) {
      const batch = ids
        .slice(i, i + BATCH)
        .map((id) =>
          scanSpecimen(
            absRoot,
            id,
            full ? undefined : previous.get(id),
            signatures?.get(id),
            clashes.has(id),
            warn,
          ),
        );
      const pending = batch.flatMap((w) => w.reads.filter((r) => r.inspect));
      if (pending.length > 0) {
        // Legacy and unsealed runs: their columns and summaries come from the files, before their rows.
        queue.push(async () => {
          for (const r of pending) await completeFromFile(con, r, warn);
        });
        await queue.drain();
      }
      for (const w of batch) {
        tally.add(w);
        states[w.specimenId] = w.state.toRecord();
        metricsFiles.drop(w.droppedFiles);
        for (const r of w.reads) metricsFiles.add(r);
      }
      const views = sinks.collect(batch.filter((w) => !w.unchanged));
      // Views go many to a call: per statement, a round trip through the thread pool costs more than
      // DuckDB's own work for one view.
      if (views.length > 0) queue.push(async () => void (await con.run(views.join('\n'))));
      options.onProgress?.(Math.min(ids.length, i + BATCH), ids.length);
      // Reads are synchronous (see read-vault.ts); let queued DuckDB work and I/O callbacks run.
      await new Promise((r) => setImmediate(r));
    }
    await queue.drain();
    const dirty = removed.length > 0 || sinks.changed > 0 || metricsFiles.changed;
    if (!dirty && !full && oldState?.file === fileIdentity(target)) {
      // Nothing moved: the catalog on disk is already up to date.
      db.close();
      db = undefined;
      return tally.report(target, full, ids.length, removed, warnings, t0);
    }
    if (removed.length > 0) await dropRemoved(con, loader, removed);
    if (!full) await sinks.deleteChanged(con, loader);
    await sinks.insert(con, loader);
    // A new generation: readers of the current file keep the delta that goes with it (see delta.ts).
    const gen = newGeneration();
    await con.run(MACROS_SQL);
    await con.run(deltaDirMacroSql(gen));
    let branches: Omit<MetricBranch, 'paths'>[] = [];
    const prepare = async (bs: Omit<MetricBranch, 'paths'>[]) => {
      branches = bs;
      await writeDelta(con, absRoot, gen, bs, emptyDelta());
      await con.run(tableViewsSql());
    };
    if (full || metricsFiles.changed) await updateMetricsView(con, loader, full, metricsFiles, prepare);
    else await prepare((await readBranches(con, () => false)).map((b) => b.branch));
    await writeInfo(con, loader);
    await con.run('COMMIT');
    // The state is serialized while DuckDB writes the file on its own threads; only the file's identity,
    // known once it is closed, is added afterwards.
    const checkpoint = con.run('CHECKPOINT');
    const specimensJson = JSON.stringify(states);
    await checkpoint;
    db.close();
    db = undefined;
    writeCatalogState(
      absRoot,
      { schema: CATALOG_SCHEMA_VERSION, gen, file: fileIdentity(build)!, branches, specimens: {} },
      specimensJson,
    );
    fs.renameSync(build, target);
    syncDir(path.dirname(target));
    removeOldGenerations(absRoot, oldState ? [gen, oldState.gen] : [gen]);
    return tally.report(target, full, ids.length, removed, warnings, t0);
  } finally {
    db?.close();
    removeBuild(build);
    release();
  }
}

/** Counts for the report, kept as specimens go by (their rows are not kept). */
class Tally {
  indexed = 0;
  unchanged = 0;
  skipped = 0;
  noLongerIndexed = 0;
  runsTotal = 0;
  runsIndexed = 0;
  runsRemoved = 0;

  add(w: SpecimenWork): void {
    if (!w.state.indexed) this.skipped++;
    else if (w.unchanged) this.unchanged++;
    else this.indexed++;
    if (w.wasIndexed && !w.state.indexed) this.noLongerIndexed++;
    if (w.state.indexed) this.runsTotal += w.state.runCount;
    if (!w.unchanged && w.state.indexed) this.runsIndexed += w.reads.length;
    this.runsRemoved += w.dropRuns.filter((id) => !(w.state.indexed && id in w.state.runs)).length;
  }

  report(
    target: string,
    full: boolean,
    total: number,
    removed: [string, SpecimenState][],
    warnings: string[],
    t0: number,
  ): IndexReport {
    return {
      catalogPath: target,
      full,
      specimens: {
        total,
        indexed: this.indexed,
        unchanged: this.unchanged,
        skipped: this.skipped,
        removed: removed.filter(([, s]) => s.indexed).length + this.noLongerIndexed,
      },
      runs: {
        total: this.runsTotal,
        indexed: this.runsIndexed,
        unchanged: this.runsTotal - this.runsIndexed,
        removed: this.runsRemoved + removed.reduce((n, [, s]) => n + (s.indexed ? s.runCount : 0), 0),
      },
      warnings,
      nothingIndexable: this.indexed + this.unchanged === 0,
      durationMs: performance.now() - t0,
    };
  }
}
/**
 * Copies the current catalog to the build file and opens it; the index state comes from `state.json`,
 * which must describe that very file (a crash between writing one and renaming the other, or a catalog
 * restored from elsewhere, makes the index start afresh).
 */
async function openPrevious(
  root: string,
  target: string,
  build: string,
  state: CatalogState | undefined,
): Promise<{ db: CatalogHandle; previous: Map<string, SpecimenState> }> {
  const identity = fileIdentity(target);
  await fsp.copyFile(target, build);
  const db = await openCatalog(root, { file: build });
  try {
    await checkSchemaVersion(db.connection);
    if (!state || state.file !== identity)
      throw new Error(`${CATALOG_DIR}/state.json does not describe this catalog file`);
    return {
      db,
      previous: new Map(Object.entries(state.specimens).map(([id, r]) => [id, SpecimenState.fromRecord(r)])),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Build files and scratch rows of indexers that died (we hold the lock, so none is in use). */
function removeLeftovers(target: string): void {
  const dir = path.dirname(target);
  const base = `${path.basename(target)}.build-`;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(base)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

function removeBuild(build: string): void {
  fs.rmSync(build, { force: true });
  fs.rmSync(`${build}.wal`, { force: true });
  fs.rmSync(`${build}.rows`, { recursive: true, force: true });
}

/** Makes the rename durable; not every platform can open a directory, which is harmless. */
function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Windows cannot fsync a directory.
  }
}

/** Throws unless the catalog was written with this schema version. */
async function checkSchemaVersion(con: DuckDBConnection): Promise<void> {
  const info = await con.runAndReadAll(`SELECT "value" FROM catalog_info WHERE "key" = 'schema_version'`);
  const version = info.getRowsJS()[0]?.[0];
  if (String(version) !== String(CATALOG_SCHEMA_VERSION))
    throw new Error(`schema version ${String(version)}, expected ${CATALOG_SCHEMA_VERSION}`);
}

/** Deletes everything of specimens that are gone. */
async function dropRemoved(
  con: DuckDBConnection,
  loader: RowLoader,
  removed: [string, SpecimenState][],
): Promise<void> {
  const src = loader.source(
    [['specimen_id', 'VARCHAR']],
    removed.map(([specimen_id]) => ({ specimen_id })),
  );
  await con.run(`CREATE OR REPLACE TEMP TABLE gone AS SELECT * FROM ${src}`);
  for (const table of ['sv_base.catalog', 'sv_base.runs', 'sv_base.artifacts', 'sv_base.metric_summaries'])
    await con.run(`DELETE FROM ${table} WHERE specimen_id IN (SELECT specimen_id FROM gone)`);
  const drops = removed
    .filter(([, s]) => s.indexed)
    .map(([id]) => `DROP VIEW IF EXISTS ${quoteIdent(expViewName(id))};`);
  if (drops.length > 0) await con.run(drops.join('\n'));
}

/** The rows of changed specimens, gathered batch by batch and written at the end. */
class Sinks {
  private readonly catalog: RowSink;
  private readonly runs: RowSink;
  private readonly artifacts: RowSink;
  private readonly summaries: RowSink;
  private readonly changedIds: { specimen_id: string }[] = [];
  private readonly droppedRuns: { specimen_id: string; run_id: string }[] = [];
  private readonly kept: {
    specimen_id: string;
    run_id: string;
    is_latest: boolean;
    superseded_by: string | null;
  }[] = [];

  constructor(dir: string) {
    this.catalog = new RowSink(dir, 'catalog', CATALOG_COLUMNS, BASE_SCHEMA);
    this.runs = new RowSink(dir, 'runs', RUN_COLUMNS, BASE_SCHEMA);
    this.artifacts = new RowSink(dir, 'artifacts', ARTIFACT_COLUMNS, BASE_SCHEMA);
    this.summaries = new RowSink(dir, 'metric_summaries', SUMMARY_COLUMNS, BASE_SCHEMA);
  }

  /** Number of changed specimens collected. */
  get changed(): number {
    return this.changedIds.length;
  }

  /** Appends the rows of changed specimens; returns their view statements. */
  collect(changed: SpecimenWork[]): string[] {
    const catalogRows: object[] = [];
    const runRows: object[] = [];
    const artifactRows: object[] = [];
    const summaryRows: object[] = [];
    const views: string[] = [];
    for (const w of changed) {
      this.changedIds.push({ specimen_id: w.specimenId });
      for (const run_id of w.dropRuns) this.droppedRuns.push({ specimen_id: w.specimenId, run_id });
      this.kept.push(...w.keptRuns);
      if (w.catalog) catalogRows.push(w.catalog);
      for (const r of w.reads) {
        runRows.push(r.run);
        artifactRows.push(...r.artifacts);
        summaryRows.push(...r.summaries);
      }
      if (w.viewClash) continue;
      if (w.order) {
        views.push(expViewSql(w.specimenId, expSources(w.state.runs)));
      } else if (w.wasIndexed) views.push(`DROP VIEW IF EXISTS ${quoteIdent(expViewName(w.specimenId))};`);
    }
    this.catalog.append(catalogRows);
    this.runs.append(runRows);
    this.artifacts.append(artifactRows);
    this.summaries.append(summaryRows);
    return views;
  }

  /** Deletes the old rows of changed specimens and of their changed or removed runs (incremental index). */
  async deleteChanged(con: DuckDBConnection, loader: RowLoader): Promise<void> {
    if (this.changedIds.length === 0) return;
    const ids = loader.source([['specimen_id', 'VARCHAR']], this.changedIds);
    await con.run(`CREATE OR REPLACE TEMP TABLE changed AS SELECT * FROM ${ids}`);
    await con.run('DELETE FROM sv_base.catalog WHERE specimen_id IN (SELECT specimen_id FROM changed)');
    if (this.droppedRuns.length === 0) return;
    const spec: ColumnSpec = [
      ['specimen_id', 'VARCHAR'],
      ['run_id', 'VARCHAR'],
    ];
    await con.run(
      `CREATE OR REPLACE TEMP TABLE dropped AS SELECT * FROM ${loader.source(spec, this.droppedRuns)}`,
    );
    for (const table of ['runs', 'artifacts', 'metric_summaries'])
      await con.run(
        `DELETE FROM ${BASE_SCHEMA}.${table} t WHERE EXISTS (SELECT 1 FROM dropped d ` +
          'WHERE d.specimen_id = t.specimen_id AND d.run_id = t.run_id)',
      );
  }

  /** Inserts every row collected, then sets is_latest and superseded_by of the runs carried over. */
  async insert(con: DuckDBConnection, loader: RowLoader): Promise<void> {
    for (const sink of [this.catalog, this.runs, this.artifacts, this.summaries]) await sink.insert(con);
    if (this.kept.length === 0) return;
    const spec: ColumnSpec = [
      ['specimen_id', 'VARCHAR'],
      ['run_id', 'VARCHAR'],
      ['is_latest', 'BOOLEAN'],
      ['superseded_by', 'VARCHAR'],
    ];
    await con.run(
      `UPDATE ${BASE_SCHEMA}.runs SET is_latest = k.is_latest, superseded_by = k.superseded_by FROM ${loader.source(spec, this.kept)} k ` +
        'WHERE runs.specimen_id = k.specimen_id AND runs.run_id = k.run_id',
    );
  }
}

/** The metrics files that entered or left the catalog in this index, by `metrics` view branch. */
class MetricsFiles {
  readonly added = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }>();
  readonly dropped = new Set<string>();
  changed = false;

  /** Branch entries by file shape (layout, columns, types): most runs of a vault share a few shapes. */
  private readonly shapes = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }[]>();

  add(r: RunRead): void {
    const m = r.artifacts.find((a) => a.kind === 'metrics');
    if (!r.metricsFile || !m?.columns || !m.column_types) return;
    this.changed = true;
    const layout = r.metricsFile.includes('/runs/') ? 'runs' : 'strata';
    const shape = `${layout}\u0000${m.columns.join('\u0001')}\u0000${m.column_types.join('\u0001')}`;
    let entries = this.shapes.get(shape);
    if (!entries) {
      entries = branchesOfFile(r.metricsFile, m.columns, m.column_types).map((branch) => {
        const key = branchKey(branch);
        let entry = this.added.get(key);
        if (!entry) {
          entry = { branch, paths: [] };
          this.added.set(key, entry);
        }
        return entry;
      });
      this.shapes.set(shape, entries);
    }
    for (const entry of entries) entry.paths.push(r.metricsFile);
  }

  drop(files: readonly string[]): void {
    for (const f of files) this.dropped.add(f);
    if (files.length > 0) this.changed = true;
  }
}

/** A branch of the `metrics` view as stored in `metric_branches`: its chunks' file lists. */
interface StoredBranch {
  branch: Omit<MetricBranch, 'paths'>;
  /** Files per chunk; `undefined` for chunks whose list was not read. */
  chunks: (string[] | undefined)[];
  /** Files per chunk, as counted when written. */
  counts: number[];
}

const BRANCH_SPEC: ColumnSpec = [
  ['position', 'INTEGER'],
  ['chunk', 'INTEGER'],
  ['chunks', 'INTEGER'],
  ['metric', 'VARCHAR'],
  ['type', 'VARCHAR'],
  ['layout', 'VARCHAR'],
  ['step_type', 'VARCHAR'],
  ['has_run_id', 'BOOLEAN'],
  ['files', 'INTEGER'],
  ['paths', 'VARCHAR'],
];

/** Specimen ID of a vault-relative path `specimens/<id>/…`. */
function specimenOfPath(p: string): string {
  return p.split('/')[1] ?? '';
}

/** Reads `metric_branches`: every branch with its chunk counts, and the file lists of the chunks asked for. */
async function readBranches(
  con: DuckDBConnection,
  want: (position: number, chunk: number) => boolean,
): Promise<StoredBranch[]> {
  const reader = await con.runAndReadAll(
    'SELECT position, chunk, chunks, metric, type, layout, step_type, has_run_id, files, NULL AS paths ' +
      'FROM metric_branches ORDER BY position, chunk',
  );
  const out: StoredBranch[] = [];
  const needed: { position: number; chunk: number }[] = [];
  for (const [
    position,
    chunk,
    chunks,
    metric,
    type,
    layout,
    stepType,
    hasRunId,
    files,
  ] of reader.getRowsJS()) {
    const i = Number(position);
    const c = Number(chunk);
    out[i] ??= {
      branch: {
        metric: String(metric),
        type: String(type),
        layout: layout === 'runs' ? 'runs' : 'strata',
        stepType: stepType === null ? null : String(stepType),
        hasRunId: hasRunId === true,
      },
      chunks: new Array(Number(chunks)).fill(undefined),
      counts: new Array(Number(chunks)).fill(0),
    };
    out[i]!.counts[c] = Number(files);
    if (want(i, c)) needed.push({ position: i, chunk: c });
  }
  for (const { position, chunk } of needed) out[position]!.chunks[chunk] = [];
  if (needed.length > 0) {
    // Integers only, so they can be inlined: position and chunk as one number (chunks < 1000).
    const ids = needed.map((n) => n.position * 1000 + n.chunk).join(', ');
    const lists = await con.runAndReadAll(
      `SELECT position, chunk, paths FROM metric_branches WHERE paths <> '' AND position * 1000 + chunk IN (${ids})`,
    );
    for (const [position, chunk, paths] of lists.getRowsJS())
      out[Number(position)]!.chunks[Number(chunk)] = String(paths).split(',');
  }
  return out.filter(Boolean);
}

/**
 * Brings the `metrics` view up to date. Its file lists live in `metric_branches` and in one macro per
 * chunk of each branch (see metricsViewSql). When no branch appears or empties, only the chunks holding
 * the specimens whose files came or went are rewritten; otherwise the view is created again, against
 * one-file lists so that creating it reads one footer per branch, not all.
 */
async function updateMetricsView(
  con: DuckDBConnection,
  loader: RowLoader,
  full: boolean,
  files: MetricsFiles,
  /** Called with the view's branches before the view is created or its lists change. */
  prepare: (branches: Omit<MetricBranch, 'paths'>[]) => Promise<void>,
): Promise<void> {
  if (!full) {
    const headers = await readBranches(con, () => false);
    const byKey = new Map(headers.map((h, i) => [branchKey(h.branch), i]));
    const shapeKept = [...files.added.keys()].every((k) => byKey.has(k));
    if (shapeKept) {
      // The chunks that hold a specimen whose files came or went.
      const touched = new Set<string>();
      for (const [key, { paths }] of files.added) {
        const i = byKey.get(key)!;
        for (const p of paths) touched.add(`${i}/${chunkOf(specimenOfPath(p), headers[i]!.chunks.length)}`);
      }
      for (const p of files.dropped) {
        for (const [i, h] of headers.entries())
          touched.add(`${i}/${chunkOf(specimenOfPath(p), h.chunks.length)}`);
      }
      const branches = await readBranches(con, (i, c) => touched.has(`${i}/${c}`));
      for (const b of branches)
        for (let c = 0; c < b.chunks.length; c++) {
          const list = b.chunks[c];
          if (list) b.chunks[c] = list.filter((p) => !files.dropped.has(p));
        }
      for (const [key, { paths }] of files.added) {
        const b = branches[byKey.get(key)!]!;
        for (const p of paths) b.chunks[chunkOf(specimenOfPath(p), b.chunks.length)]!.push(p);
      }
      const emptied = branches.some((b) =>
        b.chunks.every((list, c) => (list ? list.length : b.counts[c]!) === 0),
      );
      if (!emptied) {
        await prepare(branches.map((b) => b.branch));
        const rows: object[] = [];
        for (const [i, b] of branches.entries()) {
          for (const [c, list] of b.chunks.entries()) {
            if (!list) continue;
            await con.run(branchFilesMacroSql(i, c, list));
            rows.push(branchRow(i, c, b, list));
          }
        }
        const keys = loader.source(
          [
            ['position', 'INTEGER'],
            ['chunk', 'INTEGER'],
          ],
          rows,
        );
        await con.run(
          `DELETE FROM metric_branches m WHERE EXISTS (SELECT 1 FROM ${keys} k WHERE k.position = m.position AND k.chunk = m.chunk)`,
        );
        await con.run(`INSERT INTO metric_branches SELECT * FROM ${loader.source(BRANCH_SPEC, rows)}`);
        return;
      }
    }
  }
  // Rebuild: every list, from what was stored (all chunks) and what came or went in this index.
  const old = full ? [] : await readBranches(con, () => true);
  const all = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }>();
  for (const b of old) {
    const paths = b.chunks.flatMap((list) => list ?? []).filter((p) => !files.dropped.has(p));
    all.set(branchKey(b.branch), { branch: b.branch, paths });
  }
  for (const [key, { branch, paths }] of files.added) {
    const entry = all.get(key);
    if (entry) entry.paths.push(...paths);
    else all.set(key, { branch, paths: [...paths] });
  }
  const next = [...all.entries()]
    .filter(([, b]) => b.paths.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, b]) => {
      const chunks: string[][] = Array.from({ length: chunkCount(b.paths.length) }, () => []);
      for (const p of b.paths) chunks[chunkOf(specimenOfPath(p), chunks.length)]!.push(p);
      return { branch: b.branch, chunks, counts: chunks.map((c) => c.length) };
    });
  const statements: string[] = [];
  for (const [i, b] of old.entries())
    for (let c = 0; c < b.chunks.length; c++)
      statements.push(`DROP MACRO IF EXISTS ${branchFilesMacro(i, c)};`);
  // Created against one file per branch: binding the view opens only that file.
  for (const [i, b] of next.entries()) {
    const first = b.chunks.find((list) => list.length > 0)!.slice(0, 1);
    for (let c = 0; c < b.chunks.length; c++)
      statements.push(branchFilesMacroSql(i, c, c === 0 ? first : []));
  }
  statements.push(
    metricsViewSql(
      next.map((b) => b.branch),
      next.map((b) => b.chunks.length),
    ),
  );
  for (const [i, b] of next.entries())
    for (const [c, list] of b.chunks.entries()) statements.push(branchFilesMacroSql(i, c, list));
  await prepare(next.map((b) => b.branch));
  for (const sql of statements) await con.run(sql);
  await con.run('DELETE FROM metric_branches');
  const rows = next.flatMap((b, i) => b.chunks.map((list, c) => branchRow(i, c, b, list)));
  if (rows.length > 0)
    await con.run(`INSERT INTO metric_branches SELECT * FROM ${loader.source(BRANCH_SPEC, rows)}`);
}

function branchRow(
  position: number,
  chunk: number,
  b: { branch: Omit<MetricBranch, 'paths'>; chunks: unknown[] },
  list: string[],
): object {
  return {
    position,
    chunk,
    chunks: b.chunks.length,
    metric: b.branch.metric,
    type: b.branch.type,
    layout: b.branch.layout,
    step_type: b.branch.stepType,
    has_run_id: b.branch.hasRunId,
    files: list.length,
    paths: list.join(','),
  };
}

/** `catalog_info`: schema version and when the index was built. */
async function writeInfo(con: DuckDBConnection, loader: RowLoader): Promise<void> {
  const rows = [
    { key: 'schema_version', value: String(CATALOG_SCHEMA_VERSION) },
    { key: 'indexed_at', value: new Date().toISOString() },
    { key: 'writer', value: 'specimen-vault' },
  ];
  await con.run('DELETE FROM catalog_info');
  const spec: ColumnSpec = [
    ['key', 'VARCHAR'],
    ['value', 'VARCHAR'],
  ];
  await con.run(`INSERT INTO catalog_info SELECT * FROM ${loader.source(spec, rows)}`);
}
