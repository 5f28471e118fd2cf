/**
 * Run summaries as the API returns them, built from storage's description of the run on disk (never from
 * the catalog, so a live run shows its current status) plus the specimen's supersession records.
 */
import type { RunDescription } from '../../storage/describe.js';
import type { Supersession } from '../../storage/supersede.js';
import type { Json, RunSummary } from '../api-types.js';

/** A JSON-safe copy of a manifest value (bigints become numbers or strings). */
export function jsonSafe(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(v)
      : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') {
    const out: Record<string, Json> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = jsonSafe(x);
    return out;
  }
  return String(v);
}

/** The summary of one run. */
export function runSummary(run: RunDescription, supersessions: Record<string, Supersession>): RunSummary {
  const seeds = run.seeds;
  const sup = supersessions[run.runId];
  return {
    specimen_id: run.specimenId,
    run_id: run.runId,
    status: run.status,
    sealed: run.sealed,
    started: run.started,
    ended: run.ended,
    duration_s: run.durationS,
    git_commit: run.gitCommit,
    seed: jsonSafe(seeds.global ?? (Object.keys(seeds).length > 0 ? seeds : null)),
    superseded_by: sup ? String(sup.by) : null,
    supersede_reason: sup ? (sup.reason ?? null) : null,
    reproduces: run.reproduces,
    reproduce_verdict: run.reproduceVerdict,
    command: run.command,
    exit_code: run.exitCode === null ? null : Number(run.exitCode),
    name: run.name,
    tags: run.tags,
    notes: run.notes,
  };
}

/** A run's config (legacy `configuration` too). */
export function runConfig(run: RunDescription): Json {
  return jsonSafe(run.config);
}

/** A run's summary (legacy `summary_statistics` too). */
export function runSummaryFigures(run: RunDescription): Json {
  return jsonSafe(run.summary);
}
