/**
 * What every route shares: the vault, a read-only catalog session, the metrics and tensor caches, and the
 * checks that confine every path built from a request to the vault. Lexical confinement (`within()`) is not
 * enough against a symlink inside the vault that points out of it, so every specimen, run, tensor and
 * metrics path is also resolved with `realpath` and must stay under the vault's real root.
 *
 * @example
 * const { storage, run } = await ctx.run('2025_01_02_x', '20250102_101010')
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import { CatalogChanges } from '../catalog/build/changes.js';
import { type IndexReport, indexVault, VaultQuery } from '../catalog/index.js';
import { isVaultError, NotFoundError, PathEscapeError } from '../errors.js';
import { assertRunId, assertSafeName, assertSpecimenId } from '../format/ids.js';
import { MANIFEST_FILE, METRICS_FILE, SYSTEM_FILE, stampOf, TENSOR_SUFFIX } from '../format/layout.js';
import { within } from '../format/paths.js';
import { openRemoteFiles, type RemoteFiles } from '../remote/on-demand.js';
import {
  findRunDir,
  isRemoteStub,
  listTensorNames,
  type RunInfo,
  type RunMetricsFiles,
  readRunInfo,
} from '../storage/describe.js';
import { readParquetTable, readRunMetrics } from '../storage/metrics/index.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import { openTensor, type TensorHandle } from '../storage/tensors/index.js';
import { Vault } from '../storage/vault.js';
import { HttpError } from './http.js';
import { MetricsCache } from './metrics-cache.js';

/** How long a sealed run's or tensor's on-disk checks are trusted before they are made again (ms). */
const RECHECK_MS = 2000;

/**
 * DuckDB settings of the server's catalog session. It lives as long as the server, and after the pages of
 * a large vault have queried it DuckDB keeps the memory its queries used in its allocator's caches; these
 * hand it back to the system as queries finish (background purging, and flushing a thread's cache once a
 * task has used more than 32 MiB) instead of holding on to it.
 */
const CATALOG_SESSION_SETTINGS = {
  allocator_background_threads: 'true',
  allocator_flush_threshold: '32MiB',
};

/** A run reference as the API spells it: `<specimen_id>/<run_id>`. */
export interface RunRef {
  specimenId: string;
  runId: string;
}

/** Parses and validates `<specimen_id>/<run_id>`. */
export function parseRunRef(text: string): RunRef {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1)
    throw new HttpError(400, 'BadRequest', `run must be <specimen_id>/<run_id>, got ${JSON.stringify(text)}`);
  const specimenId = text.slice(0, slash);
  const runId = text.slice(slash + 1);
  assertSpecimenId(specimenId);
  assertRunId(runId);
  return { specimenId, runId };
}

export class ServerContext {
  readonly metrics = new MetricsCache(
    (dir, runId, files) => this.loadMetrics(dir, runId, files),
    undefined,
    async (file) => {
      await this.confine(file, 'metrics', path.basename(file));
    },
  );
  private readonly tensors = new Map<
    string,
    { stamp: string; handle: Promise<TensorHandle>; checkedAt: number }
  >();
  private readonly specimens = new Map<string, { stamp: string; storage: SpecimenStorage }>();
  private readonly runs = new Map<string, { stamp: string; run: RunInfo }>();
  private readonly recentRuns = new Map<
    string,
    { at: number; value: { storage: SpecimenStorage; run: RunInfo } }
  >();
  /** What an incremental index would change (the catalog watcher polls it; its version tells pages). */
  readonly changes: CatalogChanges;
  private catalogQuery: Promise<VaultQuery> | undefined;
  private indexing: Promise<IndexReport> | undefined;
  private remote: RemoteFiles | undefined;
  /** Object-cache files handed out for remote stubs' metrics. */
  private readonly cacheFiles = new Set<string>();

  private constructor(
    readonly vault: Vault,
    /** The vault root with symlinks resolved. */
    readonly realRoot: string,
  ) {
    this.changes = new CatalogChanges(vault.root);
  }

  static async open(root: string): Promise<ServerContext> {
    const vault = await Vault.open(root);
    return new ServerContext(vault, await fsp.realpath(vault.root));
  }

  get root(): string {
    return this.vault.root;
  }

  /** Absolute paths never shown in a response. */
  get secretPaths(): string[] {
    return [...new Set([this.vault.root, this.realRoot])];
  }

  /**
   * Resolves `p` (which must exist) through symlinks and throws PathEscapeError unless it stays inside the
   * vault; NotFoundError (`kind`, `label`) when it does not exist.
   */
  async confine(p: string, kind: string, label: string): Promise<string> {
    let real: string;
    try {
      real = await fsp.realpath(p);
    } catch (err) {
      if (
        (err as NodeJS.ErrnoException).code === 'ENOENT' ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        throw new NotFoundError(kind, label);
      throw err;
    }
    if (real !== this.realRoot && !real.startsWith(this.realRoot + path.sep))
      throw new PathEscapeError(label, '<vault>');
    return real;
  }

  /**
   * Opens a specimen after validating its ID and confining its directory. The handle is reused while the
   * specimen manifest is unchanged (the server only reads through it).
   */
  async specimen(specimenId: string): Promise<SpecimenStorage> {
    assertSpecimenId(specimenId);
    const dir = within(this.vault.specimensDir, specimenId);
    const st = await fsp.stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined);
    if (st) await this.confine(dir, 'specimen', specimenId);
    const stamp = st ? stampOf(st) : '';
    const hit = this.specimens.get(specimenId);
    if (st && hit && hit.stamp === stamp) return hit.storage;
    const storage = await SpecimenStorage.open(specimenId, { vault: this.vault });
    if (this.specimens.size >= 256) this.specimens.delete(this.specimens.keys().next().value!);
    this.specimens.set(specimenId, { stamp, storage });
    return storage;
  }

  /** A specimen's run, validated and confined; only that run's manifest is read. */
  async run(specimenId: string, runId: string): Promise<{ storage: SpecimenStorage; run: RunInfo }> {
    assertRunId(runId);
    assertSpecimenId(specimenId);
    // A sealed run checked moments ago is served from memory: a slider or a zoom sends bursts of requests.
    const recent = this.recentRuns.get(`${specimenId}/${runId}`);
    if (recent && performance.now() - recent.at < RECHECK_MS) return recent.value;
    const storage = await this.specimen(specimenId);
    const rd = await findRunDir(specimenId, storage.path, runId);
    const dir = rd.dir;
    await this.confine(dir, `run of ${specimenId}`, runId);
    // A sealed run never changes: its manifest (which lists every file, so it can be large) is read once.
    const mst = await fsp.stat(path.join(dir, MANIFEST_FILE)).catch(() => undefined);
    const stamp = mst ? stampOf(mst) : '';
    const hit = this.runs.get(dir);
    let run: RunInfo;
    if (hit && hit.stamp === stamp) run = hit.run;
    else {
      run = await readRunInfo(specimenId, rd);
      if (run.sealed && mst) {
        if (this.runs.size >= 1024) this.runs.delete(this.runs.keys().next().value!);
        this.runs.set(dir, { stamp, run });
      }
    }
    if (run.sealed) {
      if (this.recentRuns.size >= 1024) this.recentRuns.delete(this.recentRuns.keys().next().value!);
      this.recentRuns.set(`${specimenId}/${runId}`, { at: performance.now(), value: { storage, run } });
    }
    return { storage, run };
  }

  /**
   * Metrics of a run (cached; undefined when it has none). A remote stub's metrics file is read through the
   * object cache (`specimen fetch` puts it in the stub, for the views).
   */
  async runMetrics(run: RunInfo) {
    const cached = await this.stubFile(run, METRICS_FILE);
    if (cached === null) return undefined;
    if (cached) return this.metrics.get(run.path, run.runId, cached);
    return this.metrics.get(run.path, run.runId);
  }

  /**
   * A run's system metrics (`system.parquet`: CPU %, RSS, GPU over elapsed seconds), or undefined when it
   * has none (a run sampled without them, or one still running). A remote stub's file is read through the
   * object cache, as its metrics are (`specimen fetch` puts it in the stub).
   */
  async runSystem(run: RunInfo) {
    const cached = await this.stubFile(run, SYSTEM_FILE);
    if (cached === null) return undefined;
    if (cached) return this.metrics.getSystem(run.path, run.runId, cached);
    return this.metrics.getSystem(run.path, run.runId);
  }

  /**
   * For a remote stub without file `rel` in it: the file in the object cache (filled now if need be;
   * nothing in the vault changes on a GET), or null when its manifest lists no such file. Undefined for
   * every other run, which reads its own file.
   */
  private async stubFile(run: RunInfo, rel: string): Promise<RunMetricsFiles | null | undefined> {
    if (!isRemoteStub(run.path) || fs.existsSync(path.join(run.path, rel))) return undefined;
    const file = await this.remoteFiles().file(run.path, rel);
    if (!file) return null;
    if (this.cacheFiles.size >= 10_000) this.cacheFiles.clear();
    this.cacheFiles.add(file);
    return { kind: 'file', files: [file], signature: `cache:${file}` };
  }

  /** On-demand reads of remote stubs (the remote is connected on first use). */
  private remoteFiles(): RemoteFiles {
    this.remote ??= openRemoteFiles(this.root);
    return this.remote;
  }

  /**
   * Reads a run's metrics for the cache: every column but the constant `run_id`, through the catalog's
   * DuckDB session, which hands numeric columns over in bulk (ten times faster than the general reader on a
   * 100,000-row run, whose string column it converts value by value); without a catalog, the general reader.
   */
  private async loadMetrics(
    runDir: string,
    runId: string,
    found: RunMetricsFiles,
  ): Promise<Table | undefined> {
    // A remote stub's metrics in the object cache: named by the sha256 its manifest records and verified
    // on the way in, so outside the vault yet not a path a request chose.
    if (found.files.length === 1 && this.cacheFiles.has(found.files[0]!))
      return readParquetTable(found.files);
    // Confined on every (re)load: the cache reloads whenever the files' identity changes.
    for (const f of found.files)
      await this.confine(f, 'metrics', `${path.basename(runDir)}/${path.relative(runDir, f)}`);
    let q: VaultQuery;
    try {
      q = await this.catalog();
    } catch (err) {
      if (isVaultError(err, 'CatalogMissingError'))
        return path.basename(found.files[0]!) === SYSTEM_FILE
          ? readParquetTable(found.files)
          : readRunMetrics(runDir, runId);
      throw err;
    }
    const list = found.files.map((f) => `'${f.replaceAll("'", "''")}'`).join(', ');
    return q.search(`SELECT COLUMNS(c -> c <> 'run_id') FROM read_parquet([${list}], union_by_name = true)`);
  }

  /** A lazily opened tensor of a run (handles are cached while the array directory is unchanged). */
  async tensor(run: RunInfo, name: string): Promise<TensorHandle> {
    assertSafeName('tensor', name);
    const dir = within(run.path, `${name}${TENSOR_SUFFIX}`);
    const recent = this.tensors.get(dir);
    if (recent && run.sealed && performance.now() - recent.checkedAt < RECHECK_MS) return recent.handle;
    if (isRemoteStub(run.path) && !fs.existsSync(dir)) {
      // A remote stub: every file a read touches comes through the object cache, chunk by chunk.
      if (recent) {
        recent.checkedAt = performance.now();
        return recent.handle;
      }
      const files = this.remoteFiles();
      const prefix = `${name}${TENSOR_SUFFIX}/`;
      const handle = openTensor(dir, { resolve: (key) => files.file(run.path, prefix + key) });
      handle.catch(() => this.tensors.delete(dir));
      if (this.tensors.size >= 64) this.tensors.delete(this.tensors.keys().next().value!);
      this.tensors.set(dir, { stamp: 'remote', handle, checkedAt: performance.now() });
      return handle;
    }
    const real = await this.confine(dir, `tensor of ${run.specimenId}/${run.runId}`, name);
    const st = await fsp.stat(real);
    const stamp = `${real}:${stampOf(st)}`;
    const hit = this.tensors.get(dir);
    if (hit && hit.stamp === stamp) {
      hit.checkedAt = performance.now();
      return hit.handle;
    }
    const handle = openTensor(real);
    handle.catch(() => this.tensors.delete(dir));
    if (this.tensors.size >= 64) this.tensors.delete(this.tensors.keys().next().value!);
    this.tensors.set(dir, { stamp, handle, checkedAt: performance.now() });
    return handle;
  }

  /** Names of a run's tensors (`*.zarr` directories). */
  async tensorNames(run: RunInfo): Promise<string[]> {
    const here = await listTensorNames(run.path);
    if (!isRemoteStub(run.path)) return here;
    // A stub's tensors are those its manifest lists.
    const listed = Object.keys(run.manifest?.files ?? {})
      .map((rel) => rel.split('/')[0]!)
      .filter((top) => top.endsWith(TENSOR_SUFFIX))
      .map((top) => top.slice(0, -TENSOR_SUFFIX.length));
    return [...new Set([...here, ...listed])].sort();
  }

  /** The read-only catalog session (opened on first use; it follows re-indexes by itself). */
  catalog(): Promise<VaultQuery> {
    this.catalogQuery ??= VaultQuery.open(this.root, { settings: CATALOG_SESSION_SETTINGS }).catch(
      (err: unknown) => {
        this.catalogQuery = undefined;
        throw err;
      },
    );
    return this.catalogQuery;
  }

  /** Updates the catalog (incrementally); concurrent calls share one run. */
  reindex(options: { full?: boolean } = {}): Promise<IndexReport> {
    if (!this.indexing) {
      this.indexing = indexVault(this.root, { full: options.full ?? false }).finally(() => {
        this.indexing = undefined;
      });
    }
    return this.indexing;
  }

  async close(): Promise<void> {
    await this.indexing?.catch(() => {});
    const q = await this.catalogQuery?.catch(() => undefined);
    q?.close();
    this.catalogQuery = undefined;
    this.metrics.clear();
    this.tensors.clear();
    this.specimens.clear();
    this.runs.clear();
    this.recentRuns.clear();
    this.remote?.close();
    this.remote = undefined;
  }
}
