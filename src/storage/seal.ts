/**
 * Sealing a run: every file is inventoried (size and sha256), artifacts are described (Parquet rows and
 * columns, Zarr shape/dtype/chunks), the final manifest is written atomically and the files are made
 * read-only. Used by `SpecimenStorage.finish()` and by the runner.
 *
 * @example
 * const manifest = await sealRunDir(runDir, runningManifest, { status: 'succeeded', summary: { loss: 0.1 } })
 */

import fsp from 'node:fs/promises';
import path from 'node:path';
import { isVaultError, MetricsSchemaError, VaultError } from '../errors.js';
import { syncDirSoon, syncFiles, tempPathFor } from '../format/atomic-write.js';
import { MANIFEST_FILE, METRICS_FILE, SPACE_RESERVE_FILE, TENSOR_SUFFIX } from '../format/layout.js';
import type { Artifact, RunManifest, RunStatus } from '../format/manifest.js';
import { encodeManifest, type PlainObject } from '../format/msgpack.js';
import { asStorageFull } from './disk-full.js';
import type { GroupCommit } from './durability.js';
import { digestOfEntries, type FileEntry, inventory } from './hashing.js';
import type { MetricColumnSummary } from './metrics/summary.js';
import type { MetricsFileInfo } from './metrics/types.js';
import { takeWritten } from './metrics/written.js';

/** Options of `finish`. */
export interface FinishOptions {
  /** Final status; `succeeded` unless given. */
  status?: Exclude<RunStatus, 'running'>;
  /** Summary figures (final loss, best accuracy…), stored in the run manifest. */
  summary?: PlainObject;
}

const SKIP_IN_INVENTORY = (rel: string): boolean =>
  rel === MANIFEST_FILE || rel.split('/').some((p) => p.startsWith('.tmp-'));

/** A batch-mode seal: the group commit that makes it durable, and the run's specimen (its journal entry). */
export interface BatchSeal {
  commit: GroupCommit;
  specimenId: string;
}

/**
 * Seals a run directory: inventories every file, describes artifacts, writes the final manifest atomically
 * and makes the files read-only. Shared by `finish()` and the runner. Durable when it returns, unless
 * `batch` is given: then nothing is fsynced here and the group commit makes the run durable within a second
 * (src/storage/durability.ts).
 */
export async function sealRunDir(
  dir: string,
  manifest: RunManifest,
  options: FinishOptions = {},
  batch?: BatchSeal,
): Promise<RunManifest> {
  if (!batch) return sealNow(dir, manifest, options, undefined);
  // The journal entry is on disk before anything of this seal is: a crash from here on is found.
  try {
    await batch.commit.beforeSeal(batch.specimenId);
  } catch {
    // No journal (a vault root this process cannot write to): this seal is made durable itself instead.
    return sealNow(dir, manifest, options, undefined);
  }
  let written: { files: string[]; dirs: string[] } | undefined;
  try {
    const sealed = await sealNow(dir, manifest, options, (w) => {
      written = w;
    });
    return sealed;
  } finally {
    if (written) batch.commit.afterSeal(written.files, written.dirs);
    else batch.commit.sealFailed();
  }
}

async function sealNow(
  dir: string,
  manifest: RunManifest,
  options: FinishOptions,
  unsynced: ((written: { files: string[]; dirs: string[] }) => void) | undefined,
): Promise<RunManifest> {
  // The space set aside when the run began is what the final manifest is written into on a full disk
  // (the inventory skips it: `.tmp-`).
  const [, files] = await Promise.all([
    fsp.rm(path.join(dir, SPACE_RESERVE_FILE), { force: true }),
    inventory(dir, SKIP_IN_INVENTORY),
  ]);
  const artifacts: Record<string, Artifact> = { ...(manifest.artifacts ?? {}) };
  let unreadable: MetricsSchemaError | undefined;
  if (files[METRICS_FILE]) {
    const entry = files[METRICS_FILE];
    const file = path.join(dir, METRICS_FILE);
    // A file this process has just written (and that is unchanged) is described from what its writer
    // knew; otherwise from the file, with DuckDB loaded only then (a run without metrics seals quickly).
    const known = takeWritten(file, entry.sha256);
    const { summaryRecord } = await import('./metrics/summary.js');
    try {
      let info: MetricsFileInfo;
      let summary: MetricColumnSummary[];
      if (known) ({ info, summary } = known);
      else {
        const { parquetInfo } = await import('./metrics/index.js');
        const { summarizeMetricsFile } = await import('./metrics/summary.js');
        info = await parquetInfo(file);
        summary = await summarizeMetricsFile(file);
      }
      artifacts.metrics = {
        path: METRICS_FILE,
        format: 'parquet',
        bytes: entry.bytes,
        sha256: entry.sha256,
        rows: info.rows,
        columns: info.columns.map((c) => c.name),
        column_types: Object.fromEntries(info.columns.map((c) => [c.name, c.type])),
        // Per-column statistics, so the catalog indexes a sealed run from its manifest alone.
        summary: summary.map(summaryRecord),
      };
    } catch (err) {
      // A metrics file DuckDB cannot read (a protocol wrote it itself, a damaged disk) is kept and hashed,
      // and the run is sealed as failed saying so, rather than the seal failing and leaving the run open.
      if (err instanceof VaultError && !isVaultError(err, 'SqlError')) throw err;
      const reason = String((err as Error)?.message ?? err).split('\n')[0];
      unreadable = new MetricsSchemaError(`metrics: ${file} is not a readable Parquet file (${reason})`);
      artifacts.metrics = { path: METRICS_FILE, format: 'parquet', bytes: entry.bytes, sha256: entry.sha256 };
    }
  }
  const zarrDirs = new Set(
    Object.keys(files)
      .map((f) => f.split('/')[0]!)
      .filter((f) => f.endsWith(TENSOR_SUFFIX)),
  );
  for (const z of zarrDirs) {
    const entries: Record<string, FileEntry> = {};
    for (const [p, e] of Object.entries(files)) if (p.startsWith(`${z}/`)) entries[p] = e;
    const digest = digestOfEntries(entries);
    const { openTensor } = await import('./tensors/index.js');
    const handle = await openTensor(path.join(dir, z));
    artifacts[z.slice(0, -TENSOR_SUFFIX.length)] = {
      path: z,
      format: 'zarr',
      bytes: digest.bytes,
      sha256: digest.sha256,
      shape: [...handle.shape],
      dtype: handle.dtype,
      chunks: [...handle.chunks],
      zarr_format: handle.zarrFormat,
    };
  }
  for (const [p, e] of Object.entries(files)) {
    if (p === METRICS_FILE || p.split('/')[0]!.endsWith(TENSOR_SUFFIX)) continue;
    const name = p.replaceAll('/', '_');
    if (!(name in artifacts))
      artifacts[name] = {
        path: p,
        format: path.extname(p).slice(1) || 'file',
        bytes: e.bytes,
        sha256: e.sha256,
      };
  }
  const now = new Date().toISOString();
  const sealed: PlainObject = {
    ...manifest,
    status: options.status ?? 'succeeded',
    ended: (manifest.ended as string | null) ?? now,
    summary: { ...((manifest.summary as PlainObject) ?? {}), ...(options.summary ?? {}) },
    artifacts: artifacts as PlainObject,
    files: Object.fromEntries(Object.entries(files).map(([p, e]) => [p, { ...e }])),
    sealed_at: now,
  };
  if (options.status === undefined && manifest.status !== 'running') sealed.status = manifest.status;
  if (unreadable) {
    sealed.status = 'failed';
    sealed.error ??= { type: unreadable._tag, message: unreadable.message };
  }
  // Not re-validated here: every field above is built by this function from a manifest validated when the
  // run started (the schema library alone would add ~70 ms to every `specimen run`); tests validate sealed
  // manifests against the schema.
  const manifestFile = path.join(dir, MANIFEST_FILE);
  const tmp = tempPathFor(manifestFile);
  const filePaths = Object.keys(files).map((f) => path.join(dir, ...f.split('/')));
  try {
    // Read-only from the start: one chmod fewer.
    await fsp.writeFile(tmp, encodeManifest(sealed), { flag: 'wx', mode: 0o444 });
    // Every file the manifest vouches for is durable before the manifest is renamed into place. One group
    // of concurrent fsyncs (the files were written unsynced) costs about one disk flush; Zarr arrays are
    // fsynced by their writer. In batch mode the group commit does this later, for many runs at once.
    if (!unsynced)
      await syncFiles([
        tmp,
        ...Object.keys(files)
          .filter((f) => !f.split('/')[0]!.endsWith(TENSOR_SUFFIX))
          .map((f) => path.join(dir, ...f.split('/'))),
      ]);
    await fsp.rename(tmp, manifestFile);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw asStorageFull(err, 'run', manifestFile) ?? err;
  }
  await Promise.all(filePaths.map((f) => fsp.chmod(f, 0o444).catch(() => {})));
  if (unsynced) {
    // Every file (Zarr chunks too: in batch mode tensors are written unsynced) and every directory that
    // gained an entry: the run's, its subdirectories', `runs/` and the specimen's.
    const dirs = new Set([dir, path.dirname(dir), path.dirname(path.dirname(dir))]);
    for (const f of Object.keys(files)) {
      const parts = f.split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(path.join(dir, ...parts.slice(0, i)));
    }
    unsynced({ files: [manifestFile, ...filePaths], dirs: [...dirs] });
    return sealed as RunManifest;
  }
  // The renames (manifest, metrics file, the run directory itself) become durable within milliseconds.
  syncDirSoon(dir);
  syncDirSoon(path.dirname(dir));
  return sealed as RunManifest;
}
