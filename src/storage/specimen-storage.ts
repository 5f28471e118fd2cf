/**
 * `SpecimenStorage`: read and write one specimen. Reading needs no run; the first write (or `startRun()`)
 * claims a new, time-sorted run directory, and `finish()` seals it: the run manifest records the size and
 * sha256 of every file, the files become read-only, and any later write through this object is refused.
 * Method names follow the Python implementation (`write_metrics` → `writeMetrics`, …).
 *
 * @example
 * const storage = await SpecimenStorage.open('2025_01_02_grokking', { vault: './vault' })
 * await storage.startRun({ seeds: { global: 42 }, config: { lr: 1e-3 } })
 * const log = storage.metricsWriter()
 * for (let step = 0; step < 1000; step++) log.log({ step, loss: 1 / (step + 1) })
 * await storage.writeTensors('activations', new Float32Array(100 * 512), { shape: [100, 512] })
 * await storage.finish({ summary: { final_loss: 0.001 } })
 * const table = await storage.readMetrics()            // Arrow Table of the latest run
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import {
  MetricsSchemaError,
  NotFoundError,
  SealedRunError,
  type StorageFullError,
  TensorError,
} from '../errors.js';
import { writeFileAtomic, writeFileAtomicSync } from '../format/atomic-write.js';
import { assertSafeName, closest } from '../format/ids.js';
import { FINISH_FILE, MANIFEST_FILE, METRICS_FILE, RUNS_DIR, TENSOR_SUFFIX } from '../format/layout.js';
import type { RunManifest, SpecimenManifest } from '../format/manifest.js';
import { validateRunManifest } from '../format/manifest.js';
import { decodeManifest, encodeManifest, type PlainObject, writeManifestFile } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { findRunDir, listRunInfos, listTensorNames, type RunInfo, readRunInfo } from './describe.js';
import { asStorageFull } from './disk-full.js';
import { type Durability, groupCommitFor } from './durability.js';
import {
  type MetricsFileInfo,
  type MetricsInput,
  MetricsWriter,
  readParquetTable,
  readRunMetrics,
  writeMetricsFile,
} from './metrics/index.js';
import { claimRunDir } from './runs.js';
import { type BatchSeal, type FinishOptions, sealRunDir } from './seal.js';
import {
  openTensor,
  type TensorData,
  type TensorHandle,
  type WriteTensorOptions,
  writeZarr,
} from './tensors/index.js';
import { Vault } from './vault.js';

/** Options of `startRun`. */
export interface StartRunOptions {
  /** Seeds used by the run, e.g. `{ global: 42 }` or `{ torch: 1, numpy: 2 }`. */
  seeds?: PlainObject;
  /** Hyper-parameters and other configuration. */
  config?: PlainObject;
  /** Further run-manifest fields (snake_case), e.g. `command`, `git`. */
  extra?: PlainObject;
}

interface ActiveRun {
  runId: string;
  dir: string;
  manifest: RunManifest;
  writer?: MetricsWriter;
  metricsWritten: boolean;
  sealed: boolean;
  /** True when the run belongs to `specimen run` (SPECIMEN_RUN_DIR): the runner seals it, not us. */
  adopted: boolean;
  /** The disk filled while writing this run: finish() seals it as failed with this reason. */
  full?: StorageFullError;
}

const openRuns = new Set<ActiveRun>();
let exitHookInstalled = false;

/**
 * A process that exits without calling finish() leaves its run marked `interrupted` with what was flushed,
 * instead of `running` forever. (SIGKILL cannot be caught: readers then see `incomplete`.)
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const run of openRuns) {
      if (run.sealed || run.adopted) continue;
      try {
        const m = { ...run.manifest, status: 'interrupted', ended: new Date().toISOString() } as PlainObject;
        writeFileAtomicSync(path.join(run.dir, MANIFEST_FILE), encodeManifest(m));
      } catch {
        // Best effort at exit: readers still see the run as incomplete.
      }
    }
  });
}

export class SpecimenStorage {
  private active: ActiveRun | undefined;

  private constructor(
    readonly vault: Vault,
    readonly specimenId: string,
    /** Absolute specimen directory. */
    readonly path: string,
    private manifestCache: SpecimenManifest,
    /** When this object's sealed runs are durable (docs/format.md, "Durability"). */
    readonly durability: Durability,
  ) {}

  /**
   * Opens an existing specimen. `vault` is a Vault, a directory, or omitted (nearest vault / SPECIMEN_VAULT).
   * `durability` overrides the vault's setting (default `batch`: seals are fsynced together within a
   * second; `run`: each `finish()` is durable when it returns).
   * Throws NotFoundError naming the closest IDs, or CorruptManifestError naming the file.
   */
  static async open(
    specimenId: string,
    options: { vault?: Vault | string; durability?: Durability } = {},
  ): Promise<SpecimenStorage> {
    const vault = options.vault instanceof Vault ? options.vault : await Vault.open(options.vault);
    const manifest = await vault.readSpecimenManifest(specimenId);
    return new SpecimenStorage(
      vault,
      specimenId,
      vault.specimenDir(specimenId),
      manifest,
      options.durability ?? vault.config.durability,
    );
  }

  /** The group commit a batch-mode seal reports to; undefined in `run` mode. */
  private batchSeal(): BatchSeal | undefined {
    if (this.durability !== 'batch') return undefined;
    return { commit: groupCommitFor(this.vault.root), specimenId: this.specimenId };
  }

  /** The specimen manifest as read when opened. */
  get manifest(): SpecimenManifest {
    return this.manifestCache;
  }

  /** ID of the run this object writes to, once started. */
  get runId(): string | undefined {
    return this.active?.runId;
  }

  /** Absolute directory of the run this object writes to, once started. */
  get runDir(): string | undefined {
    return this.active?.dir;
  }

  /**
   * Starts the run that writes go to. Inside `specimen run` (SPECIMEN_RUN_DIR and SPECIMEN_ID set for this
   * specimen) the runner's run is used instead of a new one. Called implicitly by the first write.
   */
  async startRun(options: StartRunOptions = {}): Promise<string> {
    if (this.active && !this.active.sealed) return this.active.runId;
    const adopted = this.adoptRunnerRun();
    if (adopted) {
      this.active = adopted;
      if (options.config || options.seeds) {
        // The runner recorded seeds/config already; user-given ones are kept alongside.
        const manifest = {
          ...adopted.manifest,
          protocol_seeds: options.seeds ?? {},
          protocol_config: options.config ?? {},
        };
        adopted.manifest = manifest as RunManifest;
      }
      openRuns.add(adopted);
      return adopted.runId;
    }
    const { runId, dir } = await claimRunDir(path.join(this.path, RUNS_DIR));
    const now = new Date().toISOString();
    const manifest: PlainObject = {
      run_id: runId,
      run_timestamp: now,
      started: now,
      ended: null,
      status: 'running',
      seeds: options.seeds ?? {},
      config: options.config ?? {},
      summary: {},
      artifacts: {},
      owner: { pid: process.pid, host: os.hostname() },
      ...(options.extra ?? {}),
    };
    validateRunManifest(manifest);
    // Not fsynced: the seal rewrites the manifest and makes the run durable (seal.ts); until then a
    // process crash still leaves a whole file (temp + rename).
    await writeManifestFile(path.join(dir, MANIFEST_FILE), manifest, { sync: false });
    this.active = {
      runId,
      dir,
      manifest: manifest as RunManifest,
      metricsWritten: false,
      sealed: false,
      adopted: false,
    };
    openRuns.add(this.active);
    installExitHook();
    return runId;
  }

  private adoptRunnerRun(): ActiveRun | undefined {
    const dir = process.env.SPECIMEN_RUN_DIR;
    const runId = process.env.SPECIMEN_RUN_ID;
    if (!dir || !runId || process.env.SPECIMEN_ID !== this.specimenId) return undefined;
    const expected = within(path.join(this.path, RUNS_DIR), runId);
    if (path.resolve(dir) !== expected) return undefined;
    let manifest: RunManifest;
    try {
      manifest = fs.existsSync(path.join(expected, MANIFEST_FILE))
        ? (decodeManifest(fs.readFileSync(path.join(expected, MANIFEST_FILE)), expected) as RunManifest)
        : ({ run_id: runId } as RunManifest);
    } catch {
      manifest = { run_id: runId } as RunManifest;
    }
    if (manifest.status && manifest.status !== 'running')
      throw new SealedRunError(this.specimenId, runId, 'write');
    return { runId, dir: expected, manifest, metricsWritten: false, sealed: false, adopted: true };
  }

  private async writable(action: string): Promise<ActiveRun> {
    if (this.active?.sealed) throw new SealedRunError(this.specimenId, this.active.runId, action);
    if (!this.active) await this.startRun();
    return this.active!;
  }

  /**
   * Writes the run's metrics in one go (columns or rows) as `metrics.parquet` with a `run_id` column.
   * Use `metricsWriter()` to stream from a training loop instead; a run has one metrics table.
   */
  async writeMetrics(data: MetricsInput): Promise<MetricsFileInfo> {
    const run = await this.writable('write metrics');
    if (run.metricsWritten || run.writer)
      throw new MetricsSchemaError(
        `metrics: run ${run.runId} already has metrics; a run holds one metrics table — log every row through metricsWriter(), or start a new run`,
      );
    const file = path.join(run.dir, METRICS_FILE);
    const info = await writeMetricsFile(file, data, run.runId).catch((err: unknown) => {
      throw this.noteFull(run, err, 'metrics', file);
    });
    run.metricsWritten = true;
    return info;
  }

  /** A streaming writer for this run's metrics (one per run; closed by finish()). */
  metricsWriter(options: { flushRows?: number; flushIntervalMs?: number } = {}): MetricsWriter {
    if (this.active?.sealed) throw new SealedRunError(this.specimenId, this.active.runId, 'log metrics');
    if (!this.active) {
      throw new MetricsSchemaError(
        'metrics: call `await storage.startRun()` before metricsWriter() (log() is synchronous)',
      );
    }
    if (this.active.metricsWritten)
      throw new MetricsSchemaError(
        `metrics: run ${this.active.runId} already has metrics written by writeMetrics()`,
      );
    this.active.writer ??= new MetricsWriter({
      runDir: this.active.dir,
      runId: this.active.runId,
      ...options,
    });
    return this.active.writer;
  }

  /**
   * Writes a tensor as a Zarr array `<name>.zarr` in the run (v3 by default, `zarrFormat: 2` for zarr-python 2.x).
   */
  async writeTensors(name: string, data: TensorData, options: WriteTensorOptions) {
    assertSafeName('tensor', name);
    const run = await this.writable(`write tensor ${name}`);
    const dir = within(run.dir, `${name}${TENSOR_SUFFIX}`);
    if (fs.existsSync(dir))
      throw new TensorError(
        `tensor: ${JSON.stringify(name)} already exists in run ${run.runId}; tensors of a run are immutable, use another name`,
      );
    // In batch mode the chunks are fsynced with the rest of the run by the group commit.
    const opts =
      this.durability === 'batch' && options.fsync === undefined ? { ...options, fsync: false } : options;
    return writeZarr(dir, data, opts).catch((err: unknown) => {
      throw this.noteFull(run, err, 'tensor', dir);
    });
  }

  /** Records a full disk on `run` (so finish() marks it failed) and returns the error to throw. */
  private noteFull(run: ActiveRun, err: unknown, subsystem: string, file: string): unknown {
    const full = asStorageFull(err, subsystem, file);
    if (!full) return err;
    run.full ??= full;
    return full;
  }

  /**
   * Writes tensors logged at training steps as one series: a Zarr array with a leading step axis, chunked one
   * step per chunk (so reading one step reads only its chunks), and the steps in its `steps` attribute
   * (docs/format.md, "Tensor series"). `arrays[i]` is the tensor at `steps[i]`, each of `options.shape`.
   *
   * @example
   * await storage.writeTensorSeries('activations', [0, 100, 200], [a0, a1, a2], { shape: [96, 31, 31] })
   * // zarr-python: z = zarr.open('…/activations.zarr'); z[z.attrs['steps'].index(100)]
   */
  async writeTensorSeries(
    name: string,
    steps: readonly number[],
    arrays: readonly Float32Array[],
    options: Omit<WriteTensorOptions, 'chunks'>,
  ) {
    if (steps.length !== arrays.length || steps.length === 0)
      throw new TensorError(
        `tensor: series ${JSON.stringify(name)} needs one array per step, got ${arrays.length} arrays for ${steps.length} steps`,
      );
    if (steps.some((s, i) => !Number.isSafeInteger(s) || (i > 0 && s <= steps[i - 1]!)))
      throw new TensorError(
        `tensor: steps of series ${JSON.stringify(name)} must be increasing integers, got [${steps.join(', ')}]`,
      );
    const size = options.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size * arrays.length);
    for (const [i, a] of arrays.entries()) {
      if (a.length !== size)
        throw new TensorError(
          `tensor: series ${JSON.stringify(name)} at step ${steps[i]} has ${a.length} elements, shape [${options.shape.join(', ')}] needs ${size}`,
        );
      data.set(a, i * size);
    }
    return this.writeTensors(name, data, {
      ...options,
      shape: [arrays.length, ...options.shape],
      chunks: [1, ...options.shape],
      attributes: { ...options.attributes, steps: [...steps], step_axis: 0 },
    });
  }

  /**
   * Seals the run: closes the metrics writer, records every file's size and sha256 and the artifacts in the
   * run manifest, marks files read-only. Later writes through this object throw SealedRunError.
   * Inside `specimen run` this only flushes: the runner seals the run when the protocol exits.
   * After a full disk (a StorageFullError from log(), writeMetrics() or writeTensors(), or from flushing
   * here) it seals the run as `failed` with the error recorded, and throws that StorageFullError.
   */
  async finish(options: FinishOptions = {}): Promise<RunManifest | undefined> {
    const run = this.active;
    if (!run) return undefined;
    if (run.sealed) return run.manifest;
    if (run.writer)
      await run.writer.close().catch((err: unknown) => this.noteFull(run, err, 'metrics', run.dir));
    if (run.full) {
      // The rows flushed before the disk filled stay in their part files (readers read them); the run is
      // sealed as failed with the reason, and the caller still gets the error.
      if (run.adopted) {
        // Inside `specimen run` the runner seals: tell it why, as the Python package does.
        const finish = { status: 'failed', error: { type: run.full._tag, message: run.full.message } };
        await writeFileAtomic(path.join(run.dir, FINISH_FILE), JSON.stringify(finish)).catch(() => {});
      } else {
        const failed = await sealRunDir(
          run.dir,
          { ...run.manifest, error: { type: run.full._tag, message: run.full.message } } as RunManifest,
          { ...options, status: 'failed' },
        ).catch(() => undefined);
        if (failed) run.manifest = failed;
      }
      run.sealed = true;
      openRuns.delete(run);
      throw run.full;
    }
    if (run.adopted) {
      if (options.summary) {
        await writeManifestFile(path.join(run.dir, 'summary.msgpack'), options.summary);
      }
      run.sealed = true;
      openRuns.delete(run);
      return undefined;
    }
    const sealed = await sealRunDir(run.dir, run.manifest, options, this.batchSeal());
    run.manifest = sealed;
    run.sealed = true;
    openRuns.delete(run);
    return sealed;
  }

  // ---- reading ----

  /** Every run of the specimen (legacy `strata/` first, then by time) with status, timing and manifest. */
  async listRunInfo(): Promise<RunInfo[]> {
    return listRunInfos(this.specimenId, this.path);
  }

  /** Runs as an Arrow Table: run_id, status, started, ended, duration_s, sealed, layout. */
  async listRuns(): Promise<Table> {
    const runs = await this.listRunInfo();
    const { tableFromArrays } = await import('apache-arrow');
    return tableFromArrays({
      run_id: runs.map((r) => r.runId),
      status: runs.map((r) => r.status),
      started: runs.map((r) => r.started ?? ''),
      ended: runs.map((r) => r.ended ?? ''),
      duration_s: Float64Array.from(runs, (r) => r.durationS ?? Number.NaN),
      sealed: runs.map((r) => r.sealed),
      layout: runs.map((r) => r.layout),
    });
  }

  /** The run with `runId`, or NotFoundError naming the closest run IDs. Reads only that run's manifest. */
  async getRun(runId: string): Promise<RunInfo> {
    return readRunInfo(this.specimenId, await findRunDir(this.specimenId, this.path, runId));
  }

  /** ID of the latest run (by time), or undefined when the specimen has none. */
  async latestRunId(): Promise<string | undefined> {
    const runs = await this.listRunInfo();
    return runs.at(-1)?.runId;
  }

  /**
   * Metrics of one run as an Arrow Table with a `run_id` column; by default the latest run that has metrics.
   * An unfinished run yields the rows flushed so far.
   */
  async readMetrics(runId?: string): Promise<Table> {
    if (runId !== undefined) {
      const run = await this.getRun(runId);
      const t = await readRunMetrics(run.path, run.runId);
      if (!t) throw new NotFoundError(`metrics of ${this.specimenId}`, runId, [], 'this run has no metrics');
      return t;
    }
    const runs = await this.listRunInfo();
    for (let i = runs.length - 1; i >= 0; i--) {
      const t = await readRunMetrics(runs[i]!.path, runs[i]!.runId);
      if (t) return t;
    }
    throw new NotFoundError(`metrics of ${this.specimenId}`, 'any run', [], 'no run has metrics yet');
  }

  /** Metrics of the latest run (Arrow Table), as the Python `get_latest_run()` returned. */
  async getLatestRun(): Promise<Table> {
    return this.readMetrics();
  }

  /** Metrics of every run in one Arrow Table (columns united by name; `run_id` tells rows apart). */
  async readAllRuns(): Promise<Table> {
    const runs = await this.listRunInfo();
    const files: string[] = [];
    const runIds: string[] = [];
    for (const r of runs) {
      const f = path.join(r.path, METRICS_FILE);
      if (fs.existsSync(f)) {
        files.push(f);
        runIds.push(r.runId);
      }
    }
    if (files.length === 0)
      throw new NotFoundError(`metrics of ${this.specimenId}`, 'any run', [], 'no run has metrics yet');
    return readParquetTable(files, { runIds });
  }

  /**
   * A lazy handle on a tensor: shape, dtype and chunks are read now; `read(selection)` fetches only the chunks
   * it needs. By default the latest run holding a tensor of that name.
   */
  async readTensorLazy(name: string, runId?: string): Promise<TensorHandle> {
    assertSafeName('tensor', name);
    const runs = runId !== undefined ? [await this.getRun(runId)] : (await this.listRunInfo()).reverse();
    for (const r of runs) {
      const dir = within(r.path, `${name}${TENSOR_SUFFIX}`);
      if (fs.existsSync(dir)) return openTensor(dir);
    }
    const known = new Set<string>();
    for (const r of runs) for (const t of await listTensorNames(r.path)) known.add(t);
    throw new NotFoundError(`tensor of ${this.specimenId}`, name, closest(name, [...known]));
  }

  /** Names of the tensors (`*.zarr`) in a run. */
  async listTensors(runId?: string): Promise<string[]> {
    const id = runId ?? (await this.latestRunId());
    if (!id) return [];
    return listTensorNames((await this.getRun(id)).path);
  }

  /** The run manifest of `runId` (normalized). */
  async readRunManifest(runId: string): Promise<RunManifest> {
    const r = await this.getRun(runId);
    if (r.error) throw r.error;
    if (!r.manifest)
      throw new NotFoundError(`manifest of run ${runId}`, `${this.specimenId}/${RUNS_DIR}/${runId}`);
    return r.manifest;
  }
}
