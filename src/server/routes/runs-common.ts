/**
 * Run summaries as the API returns them, built from a run's manifest on disk (never from the catalog, so
 * a live run shows its current status) plus the specimen's supersession records.
 */
import type { PlainObject } from '../../format/msgpack.js';
import type { RunInfo } from '../../storage/runs.js';
import type { Supersession } from '../../storage/supersede.js';
import type { Json, RunSummary } from '../api-types.js';

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
}

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
export function runSummary(run: RunInfo, supersessions: Record<string, Supersession>): RunSummary {
  const m: PlainObject = run.manifest ?? {};
  const rep = obj(m.reproduction);
  const git = obj(m.git);
  const seeds = obj(m.seeds);
  const command = m.command;
  const exit = m.exit_code;
  const sup = supersessions[run.runId];
  return {
    specimen_id: run.specimenId,
    run_id: run.runId,
    status: run.status,
    sealed: run.sealed,
    started: run.started,
    ended: run.ended,
    duration_s: run.durationS,
    git_commit: str(git?.commit),
    seed: jsonSafe(seeds ? (seeds.global ?? (Object.keys(seeds).length > 0 ? seeds : null)) : null),
    superseded_by: sup ? String(sup.by) : null,
    supersede_reason: sup ? (sup.reason ?? null) : null,
    reproduces: str(rep?.of),
    reproduce_verdict: str(rep?.verdict),
    command: Array.isArray(command) ? command.map(String).join(' ') : str(command),
    exit_code: typeof exit === 'number' ? exit : typeof exit === 'bigint' ? Number(exit) : null,
  };
}

/** A run's config (legacy `configuration` too). */
export function runConfig(run: RunInfo): Json {
  const m: PlainObject = run.manifest ?? {};
  return jsonSafe(obj(m.config) ?? obj(m.configuration) ?? {});
}

/** A run's summary (legacy `summary_statistics` too). */
export function runSummaryFigures(run: RunInfo): Json {
  const m: PlainObject = run.manifest ?? {};
  return jsonSafe(obj(m.summary) ?? obj(m.summary_statistics) ?? {});
}
