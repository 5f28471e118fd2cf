/**
 * Trackio source: a project's SQLite database (`<project>.db` in Trackio's directory, by default
 * `~/.cache/huggingface/trackio`, or `$TRACKIO_DIR`), or that directory (every project in it). A project
 * becomes a specimen; each run keeps its config, its metric rows (a JSON object per logged step, with
 * Trackio's `"NaN"`/`"Infinity"` strings turned back into numbers) and their timestamps.
 *
 * @example
 * const listing = await listTrackio('/home/me/.cache/huggingface/trackio/my-project.db')
 * const run = await listing.runs[0]!.load()
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { PlainObject } from '../format/msgpack.js';
import { ImportSourceError } from './errors.js';
import { SeriesCollector } from './mapping.js';
import { openSqlite, requireSchema, type SqliteFile } from './sqlite.js';
import type { ImportProblem, SourceExperiment, SourceListing, SourceRun, SourceRunHandle } from './types.js';

const SCHEMA = { metrics: ['run_name', 'step', 'timestamp', 'metrics'] } as const;
/** Keys Trackio adds to every run's config: who, when, which group. */
const META_KEYS = ['_Username', '_Created', '_Group'];
const NON_FINITE: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
};

/** Lists the runs of one Trackio project database, or of every `*.db` in a Trackio directory. */
export async function listTrackio(source: string): Promise<SourceListing> {
  const stat = await fsp.stat(source);
  const files = stat.isFile()
    ? [source]
    : (await fsp.readdir(source))
        .filter((f) => f.endsWith('.db'))
        .sort()
        .map((f) => path.join(source, f));
  if (files.length === 0) throw new ImportSourceError(source, 'no Trackio project database (*.db) here');
  const runs: SourceRunHandle[] = [];
  const problems: ImportProblem[] = [];
  const open: SqliteFile[] = [];
  for (const file of files) {
    let db: SqliteFile;
    try {
      db = await openSqlite(file);
      requireSchema(db, SCHEMA, 'not a Trackio project database of a known schema');
    } catch (err) {
      if (!(err instanceof ImportSourceError) || files.length === 1) throw err;
      problems.push({ path: err.path, reason: err.reason });
      continue;
    }
    open.push(db);
    runs.push(...listProject(db, file));
  }
  return {
    tool: 'trackio',
    runs,
    problems,
    close: () => {
      for (const db of open) db.close();
    },
  };
}

function listProject(db: SqliteFile, file: string): SourceRunHandle[] {
  const project = path.basename(file, '.db');
  const experiment: SourceExperiment = { key: project, name: project };
  // Databases from before Trackio added run IDs identify runs by name only.
  const hasIds = db.columns('metrics').has('run_id');
  const idCol = hasIds ? 'run_id' : 'run_name';
  const configs = new Map<string, PlainObject>();
  if (db.tables().has('configs')) {
    const cols = db.columns('configs');
    const key = cols.has('run_id') && hasIds ? 'run_id' : 'run_name';
    for (const r of db.all(`SELECT ${key} AS id, config FROM configs`))
      configs.set(String(r.id), parseJson(r.config) ?? {});
  }
  const rows = db.all(
    `SELECT ${idCol} AS id, min(run_name) AS name, min(timestamp) AS first, max(timestamp) AS last FROM metrics GROUP BY ${idCol} ORDER BY min(rowid)`,
  );
  const ids = new Set(rows.map((r) => String(r.id)));
  // A run that logged only its config still is a run.
  for (const [id, config] of configs)
    if (!ids.has(id))
      rows.push({ id, name: id, first: String(config._Created ?? ''), last: String(config._Created ?? '') });
  return rows.map((r) => {
    const id = String(r.id);
    const sourceRunId = hasIds ? id : `${project}/${id}`;
    return {
      sourceRunId,
      experiment,
      path: `${file}#${id}`,
      started: iso(configs.get(id)?._Created) ?? iso(r.first),
      load: async () =>
        loadRun(db, file, idCol, id, String(r.name ?? id), sourceRunId, experiment, configs.get(id) ?? {}, r),
    };
  });
}

async function loadRun(
  db: SqliteFile,
  file: string,
  idCol: string,
  id: string,
  name: string,
  sourceRunId: string,
  experiment: SourceExperiment,
  rawConfig: PlainObject,
  times: Record<string, unknown>,
): Promise<SourceRun> {
  const problems: ImportProblem[] = [];
  const collector = new SeriesCollector();
  const skipped = new Set<string>();
  let bad = 0;
  db.each(`SELECT step, timestamp, metrics FROM metrics WHERE ${idCol} = ? ORDER BY id`, [id], (row) => {
    const values = parseJson(row[2]);
    if (!values) {
      bad++;
      return;
    }
    const step = Number(row[0]);
    const wall = isoSeconds(String(row[1]));
    for (const [key, raw] of Object.entries(values)) {
      const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? NON_FINITE[raw] : undefined;
      if (v === undefined) {
        skipped.add(key);
        continue;
      }
      collector.add(key, step, v, wall);
    }
  });
  if (bad > 0)
    problems.push({
      path: `${file}#${id}`,
      reason: `${bad} metric row(s) are not JSON objects; skipped`,
      sourceRunId,
    });
  for (const key of skipped)
    problems.push({
      path: `${file}#${id}/${key}`,
      reason: 'values that are not numbers (media, text, tables) are not imported as metrics',
      sourceRunId,
    });
  const config: PlainObject = {};
  for (const [k, v] of Object.entries(rawConfig)) if (!META_KEYS.includes(k)) config[k] = v;
  const tags: Record<string, string> = {};
  if (rawConfig._Group != null) tags.group = String(rawConfig._Group);
  const series = collector.series();
  return {
    sourceRunId,
    experiment,
    name,
    // Trackio records no status: a run that is in the database finished logging as far as it knows.
    status: 'succeeded',
    started: iso(rawConfig._Created) ?? iso(times.first),
    ended: iso(times.last) ?? iso(rawConfig._Created),
    config,
    tags,
    provenance: rawConfig._Username != null ? { user: String(rawConfig._Username) } : {},
    series,
    tensors: [],
    notes: [],
    artifacts: [],
    problems,
  };
}

function parseJson(v: unknown): PlainObject | undefined {
  try {
    const text =
      typeof v === 'string' ? v : v instanceof Uint8Array ? new TextDecoder().decode(v) : undefined;
    if (text === undefined) return undefined;
    const parsed = JSON.parse(text) as unknown;
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as PlainObject)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Seconds since the epoch of an ISO-8601 time, keeping the microseconds Trackio writes (Date.parse keeps
 * only milliseconds).
 */
function isoSeconds(text: string): number {
  const m = /^(.*T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$/.exec(text);
  if (!m) return Number.NaN;
  const whole = Date.parse(`${m[1]}${m[3] || 'Z'}`) / 1000;
  return m[2] ? whole + Number(`0${m[2]}`) : whole;
}

function iso(v: unknown): string | undefined {
  if (typeof v !== 'string' || !v) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? new Date(t).toISOString() : undefined;
}
