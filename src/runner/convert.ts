/**
 * After a protocol ends, language-neutral outputs become the vault's formats: `metrics.jsonl` (one JSON
 * object per line, as written by the Python helper or any language) becomes `metrics.parquet` with the
 * same schema rules as the streaming writer, and each `<name>.npy` becomes the Zarr array `<name>.zarr`.
 * Malformed lines are reported with their line numbers and kept aside in `metrics.rejected.jsonl`; the good
 * lines are kept.
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
import { writeZarr } from '../storage/tensors/index.js';
import { readNpy } from './npy.js';

export interface ConversionReport {
  rows: number;
  rejectedLines: number;
  /** The first few rejected line numbers (1-based) with the reason. */
  rejected: { line: number; reason: string }[];
  tensors: string[];
}

type Row = Record<string, number | bigint | boolean | string | null>;

// Python's json module writes NaN/Infinity/-Infinity as bare tokens; JSON.parse does not accept them, so a
// line that fails is retried with those tokens (outside strings) replaced by tagged strings.
const SPECIAL = /("(?:[^"\\]|\\.)*")|(-?Infinity|NaN)/g;
const TAG = '\ue000sv:';

function parseLine(line: string): Row {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    if (!/NaN|Infinity/.test(line)) throw err;
    value = JSON.parse(line.replace(SPECIAL, (m, str: string | undefined) => (str ? m : `"${TAG}${m}"`)));
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'string' && v.startsWith(TAG))
        (value as Record<string, unknown>)[k] = Number(v.slice(TAG.length));
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('not a JSON object');
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') throw new Error(`field ${JSON.stringify(k)} is not a scalar`);
  }
  return value as Row;
}

function isFlat(o: Record<string, unknown>): boolean {
  for (const k in o) {
    const v = o[k];
    if (v !== null && typeof v === 'object') return false;
  }
  return true;
}

/** Converts `metrics.jsonl` into `metrics.parquet` (unless the protocol wrote Parquet itself). */
export async function convertMetricsJsonl(
  runDir: string,
  runId: string,
  onWarning: (m: string) => void = () => {},
): Promise<Pick<ConversionReport, 'rows' | 'rejectedLines' | 'rejected'>> {
  const src = path.join(runDir, 'metrics.jsonl');
  const report = { rows: 0, rejectedLines: 0, rejected: [] as { line: number; reason: string }[] };
  if (!fs.existsSync(src)) return report;
  if (fs.existsSync(path.join(runDir, 'metrics.parquet'))) {
    onWarning(`metrics: ${src} kept as is: the protocol also wrote metrics.parquet`);
    return report;
  }
  const writer = new MetricsWriter({ runDir, runId, flushIntervalMs: 60_000 });
  const rejectedOut: string[] = [];
  let lineNo = 0;
  let rest = '';
  const reject = (line: string, err: unknown): void => {
    const reason = isVaultError(err) ? err.message : (err as Error).message;
    report.rejectedLines++;
    if (report.rejected.length < 20) report.rejected.push({ line: lineNo, reason });
    rejectedOut.push(
      JSON.stringify({ line: lineNo, reason, text: line.length > 500 ? `${line.slice(0, 500)}…` : line }),
    );
  };
  const handle = (line: string): void => {
    lineNo++;
    if (line.trim() === '') return;
    try {
      writer.log(parseLine(line));
      report.rows++;
    } catch (err) {
      const reason = isVaultError(err) ? err.message : (err as Error).message;
      report.rejectedLines++;
      if (report.rejected.length < 20) report.rejected.push({ line: lineNo, reason });
      rejectedOut.push(
        JSON.stringify({ line: lineNo, reason, text: line.length > 500 ? `${line.slice(0, 500)}…` : line }),
      );
    }
  };
  // Whole chunks of lines are parsed with one JSON.parse (V8 parses one large array much faster than many
  // small objects); a chunk that fails, or holds a non-object, is redone line by line to find the culprits.
  const handleChunk = (lines: string[]): void => {
    const body = lines.filter((l) => l.trim() !== '');
    let parsed: unknown[] | undefined;
    try {
      parsed = JSON.parse(`[${body.join(',')}]`) as unknown[];
    } catch {
      parsed = undefined;
    }
    const clean =
      parsed !== undefined &&
      parsed.length === body.length &&
      parsed.every(
        (v) =>
          v !== null && typeof v === 'object' && !Array.isArray(v) && isFlat(v as Record<string, unknown>),
      );
    if (!clean) {
      for (const line of lines) handle(line);
      return;
    }
    let i = 0;
    for (const line of lines) {
      lineNo++;
      if (line.trim() === '') continue;
      try {
        writer.log(parsed![i++] as Row);
        report.rows++;
      } catch (err) {
        reject(line, err);
      }
    }
  };
  for await (const chunk of fs.createReadStream(src, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    const cut = text.lastIndexOf('\n');
    if (cut < 0) {
      rest = text;
      continue;
    }
    handleChunk(text.slice(0, cut).split('\n'));
    rest = text.slice(cut + 1);
  }
  if (rest.length > 0) handle(rest);
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
    await fsp.writeFile(path.join(runDir, 'metrics.rejected.jsonl'), `${rejectedOut.join('\n')}\n`);
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
