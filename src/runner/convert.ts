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
import { MetricsWriter } from '../storage/metrics/index.js';
import { appendJsonLines, type JsonLinesOptions } from '../storage/metrics/jsonl.js';
import { writeZarr } from '../storage/tensors/index.js';
import { readNpy } from './npy.js';

export interface ConversionReport {
  rows: number;
  rejectedLines: number;
  /** The first few rejected line numbers (1-based) with the reason. */
  rejected: { line: number; reason: string }[];
  tensors: string[];
}

/** Options for tests and benchmarks: small values exercise block and batch edges. */
export interface ConvertMetricsOptions extends JsonLinesOptions {
  /** Rows per Parquet part (MetricsWriter's flushRows). */
  flushRows?: number;
}

/** Rejected lines are written out in pieces of about this many characters, so memory stays bounded. */
const REJECTED_FLUSH_CHARS = 1 << 20;

/** Converts `metrics.jsonl` into `metrics.parquet` (unless the protocol wrote Parquet itself). */
export async function convertMetricsJsonl(
  runDir: string,
  runId: string,
  onWarning: (m: string) => void = () => {},
  options: ConvertMetricsOptions = {},
): Promise<Pick<ConversionReport, 'rows' | 'rejectedLines' | 'rejected'>> {
  const src = path.join(runDir, 'metrics.jsonl');
  const report = { rows: 0, rejectedLines: 0, rejected: [] as { line: number; reason: string }[] };
  if (!fs.existsSync(src)) return report;
  if (fs.existsSync(path.join(runDir, 'metrics.parquet'))) {
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

/** Converts every `<name>.npy` in the run into `<name>.zarr` (v3); unreadable files are reported and kept. */
export async function convertNpyFiles(
  runDir: string,
  onWarning: (m: string) => void = () => {},
): Promise<string[]> {
  const done: string[] = [];
  for (const f of (await fsp.readdir(runDir)).filter((n) => n.endsWith('.npy')).sort()) {
    const name = f.slice(0, -4);
    const target = path.join(runDir, `${name}.zarr`);
    try {
      if (fs.existsSync(target)) throw new Error(`${name}.zarr already exists`);
      const arr = readNpy(await fsp.readFile(path.join(runDir, f)), f);
      await writeZarr(target, arr.data, { shape: arr.shape, dtype: arr.dtype });
      await fsp.rm(path.join(runDir, f));
      done.push(name);
    } catch (err) {
      onWarning(`tensor: ${f} kept as .npy: ${(err as Error).message}`);
    }
  }
  return done;
}

/** Both conversions. */
export async function convertRunOutputs(
  runDir: string,
  runId: string,
  onWarning?: (m: string) => void,
): Promise<ConversionReport> {
  const metrics = await convertMetricsJsonl(runDir, runId, onWarning);
  const tensors = await convertNpyFiles(runDir, onWarning);
  return { ...metrics, tensors };
}
