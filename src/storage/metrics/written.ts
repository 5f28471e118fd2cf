/**
 * Facts about metrics files this process has just written itself: a writer that encoded a file knows its
 * rows, columns and per-column summaries already, so sealing the run need not load DuckDB to read them
 * back. Facts are keyed by the file's absolute path and are used only when the sha256 sealing computes
 * matches the bytes written, so a file changed in between is read back as before.
 *
 * @example
 * rememberWritten(file, { sha256, info, summary })
 * const facts = takeWritten(file, inventory['metrics.parquet'].sha256) // undefined unless unchanged
 */
import path from 'node:path';
import type { MetricColumnSummary } from './summary.js';
import type { MetricsFileInfo } from './types.js';

/** What a writer knows about a file it wrote. */
export interface WrittenFacts {
  sha256: string;
  info: MetricsFileInfo;
  summary: MetricColumnSummary[];
}

/** Runs are sealed right after their metrics are written; more entries than this are stale. */
const MAX_ENTRIES = 256;
const written = new Map<string, WrittenFacts>();

/** Records the facts of a file just written. */
export function rememberWritten(file: string, facts: WrittenFacts): void {
  const key = path.resolve(file);
  written.delete(key);
  written.set(key, facts);
  if (written.size > MAX_ENTRIES) written.delete(written.keys().next().value as string);
}

/** The facts of `file` if its content still has `sha256`; forgets them either way. */
export function takeWritten(file: string, sha256: string): WrittenFacts | undefined {
  const key = path.resolve(file);
  const facts = written.get(key);
  written.delete(key);
  return facts && facts.sha256 === sha256 ? facts : undefined;
}
