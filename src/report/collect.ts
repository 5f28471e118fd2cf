/**
 * What a report or an experiment log says about specimens and runs, gathered once from the vault's own
 * readers: the specimen manifest (`describeSpecimen`), every run as storage describes it (`listRunInfos`),
 * the supersession records, the field notes, each run's notes and stderr log, and its metric summaries (the
 * ones sealed into the manifest, computed from the metrics file only for runs without them). Runs come in
 * time order (started, then run ID) so the same vault always gives the same document.
 *
 * @example
 * const specimens = await collectSpecimens(vault, ['2025_01_02_grok'])
 * specimens[0].runs[0].failure   // 'ZeroDivisionError: division by zero' for a failed run, else null
 */
import fs from 'node:fs';
import path from 'node:path';
import { fieldNotesToMarkdown } from '../format/field-notes.js';
import { compareRunIds } from '../format/ids.js';
import { FIELD_NOTES_FILE, METRICS_FILE, RUN_NOTES_FILE, STDERR_FILE } from '../format/layout.js';
import { LAB_FIELDS } from '../format/manifest.js';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import {
  describeSpecimen,
  listRunInfos,
  type RunInfo,
  type SpecimenDescription,
} from '../storage/describe.js';
import {
  type MetricColumnSummary,
  readStoredSummary,
  summarizeMetricsFile,
} from '../storage/metrics/summary.js';
import { SpecimenStorage } from '../storage/specimen-storage.js';
import { readSupersessions, type Supersession } from '../storage/supersede.js';
import type { Vault } from '../storage/vault.js';

/** One run as the documents show it. */
export interface CollectedRun {
  info: RunInfo;
  /** The record saying this run was superseded, if any. */
  supersededBy: Supersession | null;
  /** The last error line of the run's stderr log, for a failed or interrupted run. */
  failure: string | null;
  /** The run's own notes (`notes.md`), or null. */
  notes: string | null;
  /** Summaries of the numeric metric columns (empty when the run has no metrics file). */
  summaries: MetricColumnSummary[];
}

/** One specimen with its runs in time order. */
export interface CollectedSpecimen {
  id: string;
  /** Absolute specimen directory. */
  dir: string;
  description: SpecimenDescription;
  manifest: PlainObject;
  /** Lab-notebook fields present in the manifest, in LAB_FIELDS order. */
  lab: { field: (typeof LAB_FIELDS)[number]; text: string }[];
  /** The field notes as Markdown (the older `●` markup converted), or null. */
  fieldNotes: string | null;
  runs: CollectedRun[];
}

/**
 * The failure point of a run from its stderr log: the exception line after the last Python traceback, else
 * the last line naming an error, else the last non-empty line. Null for an empty or missing log.
 */
export function failurePoint(stderr: string): string | null {
  const lines = stderr.split(/\r?\n/).map((l) => l.trimEnd());
  const tb = lines.findLastIndex((l) => l.startsWith('Traceback (most recent call last):'));
  if (tb >= 0) {
    // The exception line is the first line after the traceback's frames that is not indented.
    for (let i = tb + 1; i < lines.length; i++) {
      const l = lines[i]!;
      if (l.length > 0 && !/^\s/.test(l)) return l;
    }
  }
  const named = lines.findLast((l) => /\b(error|exception|fatal|panic)\b/i.test(l));
  if (named !== undefined) return named.trim();
  return lines.findLast((l) => l.trim().length > 0)?.trim() ?? null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

async function summariesOf(run: RunInfo): Promise<MetricColumnSummary[]> {
  const metrics = run.artifacts.metrics as PlainObject | undefined;
  const stored = readStoredSummary(metrics?.summary as PlainValue | undefined);
  if (stored) return stored;
  const file = path.join(run.path, typeof metrics?.path === 'string' ? metrics.path : METRICS_FILE);
  if (!fs.existsSync(file)) return [];
  return summarizeMetricsFile(file);
}

/** Orders runs by start time, then run ID (runs without a start time last). */
export function compareRunsByTime(a: RunInfo, b: RunInfo): number {
  const ta = a.started === null ? Number.POSITIVE_INFINITY : Date.parse(a.started);
  const tb = b.started === null ? Number.POSITIVE_INFINITY : Date.parse(b.started);
  if (ta !== tb) return ta < tb ? -1 : 1;
  return compareRunIds(a.runId, b.runId);
}

/**
 * Gathers one specimen (see the module comment); `runIds`, when given, keeps only those runs (each must
 * exist: an unknown one is a NotFoundError naming the closest).
 */
export async function collectSpecimen(
  vault: Vault,
  id: string,
  runIds?: readonly string[],
): Promise<CollectedSpecimen> {
  const storage = await SpecimenStorage.open(id, { vault });
  if (runIds) for (const r of runIds) await storage.getRun(r);
  const manifest = storage.manifest as PlainObject;
  const supersessions = await readSupersessions(storage.path);
  let infos = await listRunInfos(id, storage.path);
  if (runIds) infos = infos.filter((r) => runIds.includes(r.runId));
  infos.sort(compareRunsByTime);
  const runs: CollectedRun[] = [];
  for (const info of infos) {
    const failed = info.status === 'failed' || info.status === 'interrupted' || info.status === 'incomplete';
    const stderr = failed ? readText(path.join(info.path, STDERR_FILE)) : null;
    runs.push({
      info,
      supersededBy: supersessions[info.runId] ?? null,
      failure: stderr === null ? null : failurePoint(stderr),
      notes: readText(path.join(info.path, RUN_NOTES_FILE)),
      summaries: await summariesOf(info),
    });
  }
  const lab: CollectedSpecimen['lab'] = [];
  for (const field of LAB_FIELDS) {
    const v = manifest[field];
    if (typeof v === 'string' && v.trim().length > 0) lab.push({ field, text: v });
  }
  return {
    id,
    dir: storage.path,
    description: describeSpecimen(id, manifest),
    manifest,
    lab,
    fieldNotes: markdownNotes(readText(path.join(storage.path, FIELD_NOTES_FILE))),
    runs,
  };
}

/** A run's seed as one line: `global` when that is the only seed, else `name=value` pairs. */
export function seedText(seeds: PlainObject): string | null {
  const keys = Object.keys(seeds).sort();
  if (keys.length === 0) return null;
  if (keys.length === 1 && keys[0] === 'global') return plainText(seeds.global);
  return keys.map((k) => `${k}=${plainText(seeds[k])}`).join(', ');
}

/** A manifest value as short text (numbers as written, objects as JSON with sorted keys). */
export function plainText(v: PlainValue | undefined): string {
  if (v === undefined || v === null) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  return stableJson(v);
}

/** JSON with object keys sorted, bigints as numbers, byte arrays as their length: the same bytes every time. */
export function stableJson(v: unknown, indent?: number): string {
  const norm = (x: unknown): unknown => {
    if (typeof x === 'bigint') return Number(x);
    if (x instanceof Uint8Array) return `<${x.length} bytes>`;
    if (Array.isArray(x)) return x.map(norm);
    if (x !== null && typeof x === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) out[k] = norm((x as Record<string, unknown>)[k]);
      return out;
    }
    if (typeof x === 'number' && !Number.isFinite(x)) return String(x);
    return x;
  };
  return JSON.stringify(norm(v), null, indent);
}

/** The git facts of a run manifest: commit, branch, dirty. */
export function gitOf(run: RunInfo): { commit: string | null; branch: string | null; dirty: boolean } {
  const git = run.manifest?.git as PlainObject | undefined;
  return {
    commit: run.gitCommit,
    branch: typeof git?.branch === 'string' ? git.branch : null,
    dirty: git?.dirty === true,
  };
}

/** Field notes as the documents render them: Markdown, with notes in the older markup converted. */
function markdownNotes(text: string | null): string | null {
  return text === null ? null : fieldNotesToMarkdown(text);
}
