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
 * - **One file per concern** in this folder: delta.ts (updating without rewriting the file), sinks.ts (the
 *   rows of changed specimens), metrics-view.ts (the `metrics` view's file lists), loader.ts (bulk row
 *   loading), lock.ts, report.ts (options and counts).
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
import { CatalogFileError, VaultError, VaultNotFoundError } from '../../errors.js';
import { CATALOG_DIR, CATALOG_LOCK_FILE, fileStamp, SPECIMENS_DIR } from '../../format/layout.js';
import { isVaultDir, readVaultConfig } from '../../format/vault-config.js';
import { diskFullCode } from '../../storage/disk-full.js';
import { journalEntries, recoverJournal } from '../../storage/recovery.js';
import { type CatalogHandle, catalogPath, openCatalog } from '../connection.js';
import { toCatalogFileError } from '../errors.js';
import { specimenSignature } from '../read-vault.js';
import {
  clashingIds,
  completeFromFile,
  filesOf,
  listSpecimenDirs,
  needsFiles,
  type SpecimenRecord,
  SpecimenState,
  scanSpecimen,
} from '../scan.js';
import {
  CATALOG_SCHEMA_VERSION,
  type ColumnSpec,
  deltaDirMacroSql,
  MACROS_SQL,
  type MetricBranch,
  STUB_MACROS_SQL,
  TABLES_SQL,
  tableViewsSql,
} from '../schema.js';
import { fillTurns, TurnCache } from '../turns.js';
import {
  type CatalogState,
  emptyDelta,
  newGeneration,
  readCatalogState,
  removeOldGenerations,
  serializeSpecimenRecords,
  updateThroughDelta,
  writeCatalogState,
  writeDelta,
} from './delta.js';
import { RowLoader } from './loader.js';
import { acquireLock } from './lock.js';
import { MetricsFiles, readBranches, updateMetricsView } from './metrics-view.js';
import { type IndexOptions, type IndexReport, Tally } from './report.js';
import { dropRemoved, Sinks } from './sinks.js';

export type { IndexOptions, IndexReport } from './report.js';

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

/**
 * Builds or updates the catalog of the vault at `root`; see the module comment. A catalog file (or lock,
 * or directory) this user may not write, a full disk, or DuckDB failing on the files is a tagged error
 * (CatalogFileError, StorageFullError) naming the file and what to do.
 */
export async function indexVault(root: string, options: IndexOptions = {}): Promise<IndexReport> {
  try {
    return await buildIndex(root, options);
  } catch (err) {
    throw catalogWriteError(err, catalogPath(path.resolve(root)));
  }
}

/** `err` of an index as a tagged error when it is about the files, else unchanged (a defect: exit 70). */
function catalogWriteError(err: unknown, target: string): unknown {
  if (err instanceof VaultError) return err;
  const e = err as NodeJS.ErrnoException;
  const file = typeof e?.path === 'string' ? e.path : target;
  if (e?.code === 'EACCES' || e?.code === 'EPERM' || e?.code === 'EROFS')
    return new CatalogFileError(file, 'permission', e.message, { cause: err });
  if (diskFullCode(err) || /^IO Error/.test(String(e?.message))) return toCatalogFileError(err, file);
  return err;
}

async function buildIndex(root: string, options: IndexOptions): Promise<IndexReport> {
  const t0 = performance.now();
  const absRoot = path.resolve(root);
  if (!isVaultDir(absRoot)) throw new VaultNotFoundError(absRoot);
  const target = catalogPath(absRoot);
  const release = await acquireLock(path.join(path.dirname(target), CATALOG_LOCK_FILE), {
    timeoutMs: options.lockTimeoutMs ?? 60_000,
  });
  const build = `${target}.build-${process.pid}-${randomBytes(4).toString('hex')}`;
  const warnings: string[] = [];
  const warn = (message: string) => {
    warnings.push(message);
    options.onWarning?.(message);
  };
  let db: CatalogHandle | undefined;
  try {
    removeLeftovers(target);
    // Batch-mode writers that died leave journal entries: settled first, so the scan sees damaged runs.
    if (journalEntries(absRoot).length > 0) await recoverJournal(absRoot, { onWarning: warn });
    const { turnMetrics } = await readVaultConfig(absRoot);
    const turnCache = new TurnCache(absRoot);
    let full = options.full === true || !fs.existsSync(target);
    // state.json holds every specimen's state (tens of MB for 100,000 runs): parsed once per index.
    const oldState = readCatalogState(absRoot);
    // Other turn metrics than the catalog was built with: every run's rows change (the kept turns make the
    // rebuild cheap).
    if (!full && !sameList(oldState?.turnMetrics ?? [], turnMetrics)) full = true;
    if (!full) {
      const quick = await updateThroughDelta(absRoot, target, options, t0, {
        turnMetrics,
        turnCache,
        state: oldState,
      });
      // Declining, it leaves state.json as it was (it writes only a delta), so the state read stays valid.
      if (quick) return quick;
    }
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
      const pending = batch.flatMap((w) => w.reads.filter(needsFiles));
      if (pending.length > 0) {
        // Legacy and unsealed runs: their columns and summaries come from the files, before their rows.
        queue.push(async () => {
          for (const r of pending) await completeFromFile(r, warn);
        });
        await queue.drain();
      }
      const changedReads = batch.filter((w) => !w.unchanged).flatMap((w) => w.reads);
      if (turnMetrics.length > 0 && changedReads.length > 0) {
        queue.push(() => fillTurns(con, absRoot, changedReads, turnMetrics, turnCache, warn));
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
    turnCache.save();
    const dirty = removed.length > 0 || sinks.changed > 0 || metricsFiles.changed;
    if (!dirty && !full && oldState?.file === fileStamp(target)) {
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
    const specimensText = serializeSpecimenRecords(states);
    await checkpoint;
    db.close();
    db = undefined;
    writeCatalogState(
      absRoot,
      {
        schema: CATALOG_SCHEMA_VERSION,
        gen,
        file: fileStamp(build)!,
        branches,
        turnMetrics,
        specimens: {},
      },
      specimensText,
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
  const identity = fileStamp(target);
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

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
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
