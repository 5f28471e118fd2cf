/**
 * MLflow source: a SQLite tracking database (`mlflow.db`, the default backend since MLflow 3) or the legacy
 * `mlruns/` file store. Experiments become specimens; each run keeps its params (as config, strings as
 * MLflow stores them), tags, times, status, git commit and entry point, every metric with its own steps and
 * millisecond timestamps, and its local artifacts.
 *
 * @example
 * const listing = await listMlflow('/data/mlflow.db')
 * for (const handle of listing.runs) {
 *   const run = await handle.load()       // params, tags, metric histories, artifact files
 *   console.log(run.sourceRunId, run.series.map((s) => s.name))
 * }
 * listing.close?.()
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlainObject } from '../format/msgpack.js';
import { listFiles } from '../storage/hashing.js';
import { ImportSourceError } from './errors.js';
import { msToIso, SeriesCollector } from './mapping.js';
import { openSqlite, requireSchema, type SqliteFile } from './sqlite.js';
import type {
  ImportProblem,
  Series,
  SourceArtifact,
  SourceExperiment,
  SourceListing,
  SourceRun,
  SourceRunHandle,
} from './types.js';

/** The columns this reader needs; a database without them has a schema version this reader does not know. */
const SQL_SCHEMA = {
  alembic_version: ['version_num'],
  experiments: ['experiment_id', 'name', 'lifecycle_stage'],
  runs: [
    'run_uuid',
    'name',
    'status',
    'start_time',
    'end_time',
    'lifecycle_stage',
    'artifact_uri',
    'experiment_id',
    'user_id',
    'source_name',
  ],
  metrics: ['key', 'value', 'timestamp', 'run_uuid', 'step', 'is_nan'],
  params: ['key', 'value', 'run_uuid'],
  tags: ['key', 'value', 'run_uuid'],
} as const;

/** MLflow's RunStatus enum as the file store writes it (numbers) and the database (names). */
const STATUS_NAMES: Record<string, string> = {
  1: 'RUNNING',
  2: 'SCHEDULED',
  3: 'FINISHED',
  4: 'FAILED',
  5: 'KILLED',
};

/** Lists the runs of an MLflow database file, a directory holding `mlflow.db`, or an `mlruns/` file store. */
export async function listMlflow(source: string): Promise<SourceListing> {
  const stat = await fsp.stat(source);
  if (stat.isFile()) return listSqlite(source);
  if (fs.existsSync(path.join(source, 'mlflow.db'))) return listSqlite(path.join(source, 'mlflow.db'));
  return listFileStore(source);
}

// ---- SQLite tracking database ----

async function listSqlite(file: string): Promise<SourceListing> {
  const db = await openSqlite(file);
  try {
    if (!db.tables().has('alembic_version') || !db.tables().has('runs'))
      throw new ImportSourceError(file, 'not an MLflow tracking database (no alembic_version or runs table)');
    const revision = String(db.all('SELECT version_num FROM alembic_version')[0]?.version_num ?? 'none');
    requireSchema(db, SQL_SCHEMA, `unknown MLflow schema version ${revision}`);
  } catch (err) {
    db.close();
    throw err;
  }
  const problems: ImportProblem[] = [];
  const revision = String(db.all('SELECT version_num FROM alembic_version')[0]?.version_num);
  const hasCreation = db.columns('experiments').has('creation_time');
  const expTags = new Map<string, Record<string, string>>();
  if (db.tables().has('experiment_tags')) {
    for (const r of db.all('SELECT experiment_id, key, value FROM experiment_tags')) {
      const id = String(r.experiment_id);
      const tags = expTags.get(id) ?? {};
      tags[String(r.key)] = String(r.value ?? '');
      expTags.set(id, tags);
    }
  }
  const experiments = new Map<string, SourceExperiment & { deleted: boolean }>();
  for (const r of db.all(
    `SELECT experiment_id, name, lifecycle_stage${hasCreation ? ', creation_time' : ''} FROM experiments`,
  )) {
    const key = String(r.experiment_id);
    experiments.set(key, {
      key,
      name: String(r.name),
      created: msToIso(r.creation_time as number | null | undefined),
      tags: expTags.get(key) ?? {},
      deleted: r.lifecycle_stage === 'deleted',
    });
  }
  const runs: SourceRunHandle[] = [];
  const dbDir = path.dirname(path.resolve(file));
  for (const r of db.all(
    'SELECT run_uuid, name, status, start_time, end_time, lifecycle_stage, artifact_uri, experiment_id, user_id, source_name FROM runs ORDER BY start_time, run_uuid',
  )) {
    const runId = String(r.run_uuid);
    const where = `${file}#runs/${runId}`;
    const experiment = experiments.get(String(r.experiment_id));
    if (!experiment) {
      problems.push({
        path: where,
        reason: `experiment ${r.experiment_id} does not exist`,
        sourceRunId: runId,
      });
      continue;
    }
    if (r.lifecycle_stage === 'deleted' || experiment.deleted) {
      problems.push({ path: where, reason: 'deleted in MLflow; not imported', sourceRunId: runId });
      continue;
    }
    runs.push({
      sourceRunId: runId,
      experiment,
      path: where,
      started: msToIso(r.start_time as number | null),
      load: async () => loadSqlRun(db, dbDir, r, experiment),
    });
  }
  return { tool: 'mlflow', toolVersion: `schema ${revision}`, runs, problems, close: () => db.close() };
}

async function loadSqlRun(
  db: SqliteFile,
  dbDir: string,
  r: Record<string, unknown>,
  experiment: SourceExperiment,
): Promise<SourceRun> {
  const runId = String(r.run_uuid);
  const config: PlainObject = {};
  for (const p of db.all('SELECT key, value FROM params WHERE run_uuid = ? ORDER BY key', [runId]))
    config[String(p.key)] = String(p.value);
  const tags: Record<string, string> = {};
  for (const t of db.all('SELECT key, value FROM tags WHERE run_uuid = ? ORDER BY key', [runId]))
    tags[String(t.key)] = String(t.value ?? '');
  const collector = new SeriesCollector();
  db.each(
    'SELECT key, value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, step, timestamp',
    [runId],
    // MLflow stores NaN as value 0 with is_nan set (and ±Infinity as ±DBL_MAX, which it returns as such).
    (row) =>
      collector.add(
        String(row[0]),
        Number(row[3]),
        row[4] ? Number.NaN : Number(row[1]),
        Number(row[2]) / 1000,
      ),
  );
  const series = collector.series();
  const problems: ImportProblem[] = [];
  const artifacts = await artifactFiles(String(r.artifact_uri ?? ''), dbDir, runId, problems);
  return {
    sourceRunId: runId,
    experiment,
    name: (r.name as string | null) ?? tags['mlflow.runName'],
    ...statusOf(String(r.status)),
    started: msToIso(r.start_time as number | null),
    ended: msToIso(r.end_time as number | null),
    config,
    tags,
    provenance: provenanceOf(tags, (r.user_id as string | null) ?? undefined, r.source_name as string | null),
    series,
    tensors: [],
    notes: [],
    artifacts,
    problems,
  };
}

// ---- mlruns/ file store ----

async function listFileStore(root: string): Promise<SourceListing> {
  const problems: ImportProblem[] = [];
  const runs: SourceRunHandle[] = [];
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new ImportSourceError(root, `cannot list the MLflow file store: ${(err as Error).message}`);
  }
  const expDirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'models');
  if (!expDirs.some((e) => fs.existsSync(path.join(root, e.name, 'meta.yaml'))))
    throw new ImportSourceError(
      root,
      'not an MLflow tracking store: no mlflow.db and no experiment directories with meta.yaml',
    );
  for (const e of expDirs.sort((a, b) => a.name.localeCompare(b.name))) {
    const expDir = path.join(root, e.name);
    const metaFile = path.join(expDir, 'meta.yaml');
    if (!fs.existsSync(metaFile)) continue;
    let meta: Record<string, unknown>;
    try {
      meta = await readYaml(metaFile);
    } catch (err) {
      problems.push({ path: metaFile, reason: (err as Error).message });
      continue;
    }
    const experiment: SourceExperiment = {
      key: String(meta.experiment_id ?? e.name),
      name: String(meta.name ?? e.name),
      created: msToIso(meta.creation_time as number | undefined),
      tags: await readKeyFiles(path.join(expDir, 'tags')),
    };
    const deleted = meta.lifecycle_stage === 'deleted';
    for (const r of (await fsp.readdir(expDir, { withFileTypes: true })).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const runDir = path.join(expDir, r.name);
      if (!r.isDirectory() || !fs.existsSync(path.join(runDir, 'meta.yaml'))) continue;
      if (deleted) {
        problems.push({
          path: runDir,
          reason: 'experiment deleted in MLflow; not imported',
          sourceRunId: r.name,
        });
        continue;
      }
      runs.push({
        sourceRunId: r.name,
        experiment,
        path: runDir,
        load: () => loadFileRun(runDir, experiment),
      });
    }
  }
  return { tool: 'mlflow', toolVersion: 'file store', runs, problems };
}

async function loadFileRun(runDir: string, experiment: SourceExperiment): Promise<SourceRun> {
  const metaFile = path.join(runDir, 'meta.yaml');
  const meta = await readYaml(metaFile);
  const runId = String(meta.run_id ?? meta.run_uuid ?? '');
  if (!runId) throw new ImportSourceError(metaFile, 'meta.yaml has no run_id');
  if (meta.lifecycle_stage === 'deleted')
    throw new ImportSourceError(runDir, 'deleted in MLflow; not imported');
  const problems: ImportProblem[] = [];
  const config: PlainObject = { ...(await readKeyFiles(path.join(runDir, 'params'))) };
  const tags = await readKeyFiles(path.join(runDir, 'tags'));
  const series: Series[] = [];
  const metricsDir = path.join(runDir, 'metrics');
  for (const key of fs.existsSync(metricsDir) ? await listFiles(metricsDir) : []) {
    const file = path.join(metricsDir, ...key.split('/'));
    const s: Series & { steps: number[]; values: number[]; wallTimes: number[] } = {
      name: key,
      steps: [],
      values: [],
      wallTimes: [],
    };
    const lines = (await fsp.readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (!line.trim()) return;
      // `timestamp value step`; files from MLflow before 1.0 have no step (it was 0).
      const [ts, value, step = '0'] = line.trim().split(/\s+/);
      const t = Number(ts);
      const v = parseFloatWord(value);
      const st = Number(step);
      if (!Number.isFinite(t) || v === undefined || !Number.isFinite(st)) {
        problems.push({
          path: `${file}:${i + 1}`,
          reason: `malformed metric line ${JSON.stringify(line)}`,
          sourceRunId: runId,
        });
        return;
      }
      s.steps.push(st);
      s.values.push(v);
      s.wallTimes.push(t / 1000);
    });
    series.push(s);
  }
  const status = STATUS_NAMES[String(meta.status)] ?? String(meta.status);
  const artifacts = await artifactFiles(
    String(meta.artifact_uri ?? ''),
    path.dirname(path.dirname(runDir)),
    runId,
    problems,
    [path.join(runDir, 'artifacts')],
  );
  return {
    sourceRunId: runId,
    experiment,
    name: (meta.run_name as string | undefined) ?? tags['mlflow.runName'],
    ...statusOf(status),
    started: msToIso(meta.start_time as number | undefined),
    ended: msToIso(meta.end_time as number | undefined),
    config,
    tags,
    provenance: provenanceOf(
      tags,
      meta.user_id as string | undefined,
      meta.source_name as string | undefined,
    ),
    series,
    tensors: [],
    notes: [],
    artifacts,
    problems,
  };
}

async function readYaml(file: string): Promise<Record<string, unknown>> {
  const { parse } = await import('yaml');
  try {
    const v = parse(await fsp.readFile(file, 'utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a mapping');
    return v as Record<string, unknown>;
  } catch (err) {
    throw new ImportSourceError(file, `cannot parse meta.yaml: ${(err as Error).message}`, { cause: err });
  }
}

/** The file store keeps one file per param or tag; nested directories are keys with `/`. */
async function readKeyFiles(dir: string): Promise<Record<string, string>> {
  if (!fs.existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const key of await listFiles(dir))
    out[key] = await fsp.readFile(path.join(dir, ...key.split('/')), 'utf8');
  return out;
}

/** Python's float words as MLflow writes them (`nan`, `inf`, `-inf`, decimals). */
function parseFloatWord(word: string | undefined): number | undefined {
  if (word === undefined) return undefined;
  const w = word.toLowerCase();
  if (w === 'nan') return Number.NaN;
  if (w === 'inf' || w === 'infinity') return Number.POSITIVE_INFINITY;
  if (w === '-inf' || w === '-infinity') return Number.NEGATIVE_INFINITY;
  const n = Number(word);
  return Number.isNaN(n) ? undefined : n;
}

// ---- shared ----

function statusOf(status: string): Pick<SourceRun, 'status' | 'sourceStatus'> {
  const map: Record<string, SourceRun['status']> = {
    FINISHED: 'succeeded',
    FAILED: 'failed',
    KILLED: 'interrupted',
  };
  // A run still RUNNING (or SCHEDULED) in MLflow never finished there; imported runs are sealed, so it is
  // kept as interrupted with MLflow's word in imported_from.source_status.
  return { status: map[status] ?? 'interrupted', sourceStatus: status };
}

function provenanceOf(
  tags: Record<string, string>,
  user: string | undefined,
  sourceName: string | null | undefined,
): SourceRun['provenance'] {
  const p: SourceRun['provenance'] = {};
  const commit = tags['mlflow.source.git.commit'];
  if (commit) p.gitCommit = commit;
  const branch = tags['mlflow.source.git.branch'];
  if (branch) p.gitBranch = branch;
  const remote = tags['mlflow.source.git.repoURL'];
  if (remote) p.gitRemote = remote;
  const command = tags['mlflow.source.name'] || sourceName || undefined;
  if (command) p.command = command;
  const u = tags['mlflow.user'] || user;
  if (u) p.user = u;
  return p;
}

/**
 * Files under a run's local artifact directory. The URI is tried as written, then relative to the store
 * (a store moved or copied elsewhere keeps `mlruns/<exp>/<run>/artifacts` beside it). A run that logged
 * nothing has no directory; remote stores (s3://, mlflow-artifacts:) cannot be read offline and are reported.
 * `fallbacks` are tried first (the file store's `<run>/artifacts`).
 */
async function artifactFiles(
  uri: string,
  storeDir: string,
  runId: string,
  problems: ImportProblem[],
  fallbacks: readonly string[] = [],
): Promise<SourceArtifact[]> {
  if (!uri && fallbacks.length === 0) return [];
  let local: string | undefined;
  if (uri.startsWith('file:')) local = fileURLToPath(uri);
  else if (path.isAbsolute(uri)) local = uri;
  else if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) {
    problems.push({ path: uri, reason: 'artifacts are in a remote store; not copied', sourceRunId: runId });
    return [];
  }
  // A file store's own run directory comes first: in a copied store the URI still names the original.
  const candidates: string[] = [...fallbacks];
  if (local) candidates.push(local);
  const parts = (local ?? uri).split(/[\\/]/);
  for (const marker of ['mlruns', 'mlartifacts']) {
    const i = parts.lastIndexOf(marker);
    if (i >= 0)
      candidates.push(path.join(storeDir, ...parts.slice(i)), path.join(storeDir, ...parts.slice(i + 1)));
  }
  const dir = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isDirectory());
  if (!dir) return [];
  return (await listFiles(dir)).map((rel) => ({ relPath: rel, absPath: path.join(dir, ...rel.split('/')) }));
}
