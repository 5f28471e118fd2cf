/**
 * After a protocol ends, language-neutral outputs become the vault's formats: `metrics.jsonl` (one JSON
 * object per line, as written by the Python helper or any language) becomes `metrics.parquet` with the
 * same schema rules as the streaming writer, and each `<name>.npy` becomes the Zarr array `<name>.zarr`.
 * Malformed lines are reported with their line numbers and kept aside in `metrics.rejected.jsonl`; the good
 * lines are kept. The file is read in blocks straight into the writer's column buffers (storage/metrics/
 * jsonl.ts), so its size does not bound memory.
 *
 * @example
 * const report = await convertRunOutputs(runDir, runId, (w) => console.warn(w))
 * report.rows           // rows converted
 * report.rejectedLines  // malformed lines skipped
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isVaultError } from '../errors.js';
import { writeFileAtomic } from '../format/atomic-write.js';
import {
  METRICS_FILE,
  METRICS_JSONL_FILE,
  NPY_SERIES_SUFFIX,
  SYSTEM_FILE,
  SYSTEM_JSONL_FILE,
  TENSOR_SUFFIX,
} from '../format/layout.js';
import { encodeColumnsParquet } from '../parquet/write-columns.js';
import { MetricsWriter, writeMetricsFile } from '../storage/metrics/index.js';
import {
  appendJsonLines,
  type JsonLinesOptions,
  type MetricsRow,
  parseMetricsLine,
} from '../storage/metrics/jsonl.js';
import { DEFAULT_FLUSH_ROWS, DIRECT_MAX_ROWS } from '../storage/metrics/metrics-writer.js';
import { toColumns } from '../storage/metrics/write-file.js';
import type { TensorData } from '../storage/tensors/index.js';

/**
 * The tensor modules (zarrita and its codecs, tens of ms to load) are imported only by a run that has
 * `.npy` outputs: most seals convert metrics alone.
 */
async function tensorModules(): Promise<{
  readNpy: typeof import('./npy.js').readNpy;
  writeZarr: typeof import('../storage/tensors/index.js').writeZarr;
}> {
  const [{ readNpy }, { writeZarr }] = await Promise.all([
    import('./npy.js'),
    import('../storage/tensors/index.js'),
  ]);
  return { readNpy, writeZarr };
}

export interface ConversionReport {
  rows: number;
  rejectedLines: number;
  /** The first few rejected line numbers (1-based) with the reason. */
  rejected: { line: number; reason: string }[];
  /** Peaks of the system metrics, when the run sampled any (recorded as the manifest's `system`). */
  system?: SystemSummary;
  tensors: string[];
}

/** Options for tests and benchmarks: small values exercise block and batch edges. */
export interface ConvertMetricsOptions extends JsonLinesOptions {
  /** Rows per Parquet part (MetricsWriter's flushRows). */
  flushRows?: number;
}

/**
 * Rows of `metrics.jsonl` up to which the conversion encodes `metrics.parquet` in JavaScript (one row group)
 * rather than through DuckDB: one full buffer of the writer.
 */
const CONVERT_DIRECT_MAX_ROWS = DEFAULT_FLUSH_ROWS;

/** Rejected lines are written out in pieces of about this many characters, so memory stays bounded. */
const REJECTED_FLUSH_CHARS = 1 << 20;

/** What the run manifest's `system` records of `system.parquet`: its sample count and peaks. */
export interface SystemSummary {
  samples: number;
  /** Largest resident memory of the process tree, in bytes. */
  peak_rss_bytes: number | null;
  /** Largest GPU memory in use (summed over the GPUs), in bytes; null without a GPU. */
  peak_gpu_memory_bytes: number | null;
}

/**
 * Converts `system.jsonl` (the system metrics a writer sampled, one small row every few seconds) into
 * `system.parquet`; malformed lines (a sample cut by a kill) are skipped and counted in a warning.
 */
export async function convertSystemJsonl(
  runDir: string,
  runId: string,
  onWarning: (m: string) => void = () => {},
): Promise<SystemSummary | undefined> {
  const src = path.join(runDir, SYSTEM_JSONL_FILE);
  if (!fs.existsSync(src) || fs.existsSync(path.join(runDir, SYSTEM_FILE))) return undefined;
  const rows: MetricsRow[] = [];
  let bad = 0;
  for (const line of fs.readFileSync(src, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      rows.push(parseMetricsLine(line));
    } catch {
      bad++;
    }
  }
  if (bad > 0) onWarning(`system metrics: ${bad} malformed line(s) of ${SYSTEM_JSONL_FILE} skipped`);
  if (rows.length === 0) return undefined;
  const target = path.join(runDir, SYSTEM_FILE);
  if (rows.length <= DIRECT_MAX_ROWS) {
    // Hours of samples at most: encoded here, as MetricsWriter does a short run's metrics, rather than
    // starting DuckDB at every seal (tens of ms of CPU, the largest part of what sampling costs a run).
    const table = toColumns(rows, runId);
    const { bytes } = encodeColumnsParquet(table.columns, table.rows, {
      constants: [{ name: 'run_id', value: runId }],
    });
    await writeFileAtomic(target, bytes, { sync: false });
  } else await writeMetricsFile(target, rows, runId);
  // The peaks are kept in the manifest so the catalog's `runs` has them without reading every system.parquet.
  const peak = (column: string): number | null => {
    let max: number | null = null;
    for (const r of rows) {
      const v = r[column];
      if (typeof v === 'number' && Number.isFinite(v) && (max === null || v > max)) max = v;
    }
    return max;
  };
  return {
    samples: rows.length,
    peak_rss_bytes: peak('rss_bytes'),
    peak_gpu_memory_bytes: peak('gpu_memory_bytes'),
  };
}

/** Converts `metrics.jsonl` into `metrics.parquet` (unless the protocol wrote Parquet itself). */
export async function convertMetricsJsonl(
  runDir: string,
  runId: string,
  onWarning: (m: string) => void = () => {},
  options: ConvertMetricsOptions = {},
): Promise<Pick<ConversionReport, 'rows' | 'rejectedLines' | 'rejected'>> {
  const src = path.join(runDir, METRICS_JSONL_FILE);
  const report = { rows: 0, rejectedLines: 0, rejected: [] as { line: number; reason: string }[] };
  if (!fs.existsSync(src)) return report;
  if (fs.existsSync(path.join(runDir, METRICS_FILE))) {
    onWarning(`metrics: ${src} kept as is: the protocol also wrote metrics.parquet`);
    return report;
  }
  const rejectedFile = path.join(runDir, 'metrics.rejected.jsonl');
  let rejectedFd: number | undefined;
  let rejectedOut: string[] = [];
  let rejectedChars = 0;
  const writeRejected = (): void => {
    if (rejectedOut.length === 0) return;
    rejectedFd ??= fs.openSync(rejectedFile, 'w');
    fs.writeSync(rejectedFd, `${rejectedOut.join('\n')}\n`);
    rejectedOut = [];
    rejectedChars = 0;
  };
  const writer = new MetricsWriter({
    runDir,
    runId,
    flushIntervalMs: 60_000,
    // A file that fits one buffer is encoded here, without DuckDB: a short run's seal would otherwise
    // spend most of its time starting DuckDB, in the flush worker and again to summarise the file.
    directMaxRows: CONVERT_DIRECT_MAX_ROWS,
    ...(options.flushRows ? { flushRows: options.flushRows } : {}),
  });
  try {
    const { rows } = await appendJsonLines(
      src,
      writer,
      (line, text, err) => {
        const reason = isVaultError(err) ? err.message : (err as Error).message;
        report.rejectedLines++;
        if (report.rejected.length < 20) report.rejected.push({ line, reason });
        const entry = JSON.stringify({
          line,
          reason,
          text: text.length > 500 ? `${text.slice(0, 500)}…` : text,
        });
        rejectedOut.push(entry);
        rejectedChars += entry.length;
        if (rejectedChars >= REJECTED_FLUSH_CHARS) writeRejected();
      },
      options,
    );
    report.rows = rows;
    writeRejected();
  } catch (err) {
    await writer.close().catch(() => undefined); // the first failure is the one to report
    throw err;
  } finally {
    if (rejectedFd !== undefined) fs.closeSync(rejectedFd);
  }
  await writer.close();
  if (report.rejectedLines > 0) {
    const shown = report.rejected
      .slice(0, 5)
      .map((r) => `line ${r.line}: ${r.reason}`)
      .join('; ');
    onWarning(
      `metrics: ${report.rejectedLines} malformed line(s) in metrics.jsonl skipped (${shown}${report.rejectedLines > 5 ? '; …' : ''}); ` +
        `${report.rows} good line(s) kept; rejected lines saved in metrics.rejected.jsonl`,
    );
  }
  await fsp.rm(src);
  return report;
}

/** Options of the tensor conversions. */
export interface ConvertTensorOptions {
  /** Zarr format of the arrays written (default 3; runs written from Python use the vault's setting). */
  zarrFormat?: 2 | 3;
  /**
   * fsync the arrays as they are written (default true). False when a batch-mode seal makes every file of
   * the run durable with the rest of its batch (storage/durability.ts).
   */
  fsync?: boolean;
}

/** Converts every `<name>.npy` in the run into `<name>.zarr` (v3); unreadable files are reported and kept. */
export async function convertNpyFiles(
  runDir: string,
  onWarning: (m: string) => void = () => {},
  options: ConvertTensorOptions = {},
): Promise<string[]> {
  const done: string[] = [];
  const files = (await fsp.readdir(runDir)).filter((n) => n.endsWith('.npy')).sort();
  if (files.length === 0) return done;
  const { readNpy, writeZarr } = await tensorModules();
  for (const f of files) {
    const name = f.slice(0, -4);
    const target = path.join(runDir, `${name}${TENSOR_SUFFIX}`);
    try {
      if (fs.existsSync(target)) throw new Error(`${name}.zarr already exists`);
      const arr = readNpy(await fsp.readFile(path.join(runDir, f)), f);
      await writeZarr(target, arr.data, {
        shape: arr.shape,
        dtype: arr.dtype,
        ...(options.zarrFormat ? { zarrFormat: options.zarrFormat } : {}),
        ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
      });
      await fsp.rm(path.join(runDir, f));
      done.push(name);
    } catch (err) {
      onWarning(`tensor: ${f} kept as .npy: ${(err as Error).message}`);
    }
  }
  return done;
}

/**
 * Converts every `<name>.npy-series/` (one `<step>.npy` per checkpoint, all of one shape and dtype) into
 * `<name>.zarr`, the checkpoints stacked along a new first dimension in step order, and `<name>.steps.zarr`,
 * the int64 steps. A series that cannot be stacked is reported and kept as it is.
 */
export async function convertNpySeries(
  runDir: string,
  onWarning: (m: string) => void = () => {},
  options: ConvertTensorOptions = {},
): Promise<string[]> {
  const done: string[] = [];
  const dirs = (await fsp.readdir(runDir, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && e.name.endsWith(NPY_SERIES_SUFFIX))
    .map((e) => e.name)
    .sort();
  if (dirs.length === 0) return done;
  const { readNpy, writeZarr } = await tensorModules();
  for (const d of dirs) {
    const name = d.slice(0, -NPY_SERIES_SUFFIX.length);
    try {
      const files = (await fsp.readdir(path.join(runDir, d)))
        .filter((f) => /^\d+\.npy$/.test(f))
        .sort((a, b) => Number(a.slice(0, -4)) - Number(b.slice(0, -4)));
      if (files.length === 0) throw new Error('no <step>.npy files');
      const arrays = [];
      for (const f of files) arrays.push(readNpy(await fsp.readFile(path.join(runDir, d, f)), `${d}/${f}`));
      const first = arrays[0]!;
      for (const [i, a] of arrays.entries())
        if (a.dtype !== first.dtype || a.shape.join(',') !== first.shape.join(','))
          throw new Error(
            `step ${files[i]!.slice(0, -4)} has ${a.dtype} [${a.shape}], step ${files[0]!.slice(0, -4)} has ${first.dtype} [${first.shape}]; a series holds one shape and dtype`,
          );
      const per = first.data.length;
      const Ctor = first.data.constructor as new (
        n: number,
      ) => TensorData & { set(a: ArrayLike<unknown>, o: number): void };
      const stacked = new Ctor(per * arrays.length);
      for (const [i, a] of arrays.entries()) stacked.set(a.data as ArrayLike<unknown>, i * per);
      const zarr = {
        ...(options.zarrFormat ? { zarrFormat: options.zarrFormat } : {}),
        ...(options.fsync !== undefined ? { fsync: options.fsync } : {}),
      };
      const steps = BigInt64Array.from(files, (f) => BigInt(f.slice(0, -4)));
      await writeZarr(path.join(runDir, `${name}${TENSOR_SUFFIX}`), stacked, {
        shape: [arrays.length, ...first.shape],
        dtype: first.dtype,
        ...zarr,
      });
      await writeZarr(path.join(runDir, `${name}.steps.zarr`), steps, { shape: [steps.length], ...zarr });
      await fsp.rm(path.join(runDir, d), { recursive: true });
      done.push(name, `${name}.steps`);
    } catch (err) {
      onWarning(`tensor: ${d} kept as it is: ${(err as Error).message}`);
    }
  }
  return done;
}

/** Every conversion: metrics, single tensors, tensor series. */
export async function convertRunOutputs(
  runDir: string,
  runId: string,
  onWarning?: (m: string) => void,
  options: ConvertTensorOptions = {},
): Promise<ConversionReport> {
  const metrics = await convertMetricsJsonl(runDir, runId, onWarning);
  const system = await convertSystemJsonl(runDir, runId, onWarning);
  const tensors = await convertNpyFiles(runDir, onWarning, options);
  tensors.push(...(await convertNpySeries(runDir, onWarning, options)));
  return { ...metrics, tensors, ...(system ? { system } : {}) };
}
