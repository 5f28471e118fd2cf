/**
 * Neptune source: the Parquet files written by Neptune's exporter (`neptune-exporter export --data-path
 * DATA --files-path FILES`): `DATA/<project>/<run>_part_<n>.parquet`, one row per attribute value in a long
 * table — `project_id`, `run_id`, `attribute_path`, `attribute_type`, `step` (decimal), `timestamp`, and one
 * `*_value` column per type (`int`, `float`, `string`, `bool`, `datetime`, `string_set`, `file` {path},
 * `histogram` {type, edges, values}). The exporter renames `part_0` into place last, so a run without it is
 * an unfinished export and is reported. `float_series` become metrics, `string_series` notes,
 * `histogram_series` histogram tensor series, single values config (and `sys/*` the run's name, times,
 * state, tags and owner), `file`/`file_series` values artifacts, looked up under FILES (the sibling `files/`).
 *
 * @example
 * const listing = await listNeptune('./exports/data')
 * const run = await listing.runs[0]!.load()
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { quoteLiteral } from '../duckdb/node-api.js';
import { connectShared, describeQuery } from '../duckdb/read-parquet.js';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import { ImportSourceError } from './errors.js';
import { histogramSeries, SeriesCollector } from './mapping.js';
import type {
  ImportProblem,
  NoteEntry,
  SourceArtifact,
  SourceExperiment,
  SourceListing,
  SourceRun,
  SourceRunHandle,
} from './types.js';

const PART = /^(.+)_part_(\d+)\.parquet$/;
const REQUIRED = ['project_id', 'run_id', 'attribute_path', 'attribute_type'];
/** Value columns, read when present (older exporter versions lack some). */
const OPTIONAL: Record<string, string> = {
  step: 'CAST(step AS DOUBLE)',
  timestamp: 'epoch_ms(timestamp)',
  int_value: 'int_value',
  float_value: 'float_value',
  string_value: 'string_value',
  bool_value: 'bool_value',
  datetime_value: 'epoch_ms(datetime_value)',
  string_set_value: 'string_set_value',
  file_value: 'file_value.path',
  histogram_value: 'histogram_value',
};

interface Row {
  project_id: string;
  run_id: string;
  attribute_path: string;
  attribute_type: string;
  step: number | null;
  timestamp: number | bigint | null;
  int_value: bigint | number | null;
  float_value: number | null;
  string_value: string | null;
  bool_value: boolean | null;
  datetime_value: number | bigint | null;
  string_set_value: string[] | null;
  file_value: string | null;
  histogram_value: { type: string; edges: number[]; values: number[] } | null;
}

/** Lists the exported runs under `source` (the exporter's data directory, a project directory, or one file). */
export async function listNeptune(source: string): Promise<SourceListing> {
  const stat = await fsp.stat(source);
  const files = stat.isFile() ? [path.resolve(source)] : await parquetFiles(path.resolve(source));
  const problems: ImportProblem[] = [];
  const groups = new Map<string, { dir: string; prefix: string; parts: Map<number, string> }>();
  for (const file of files) {
    const m = PART.exec(path.basename(file));
    if (!m) continue;
    const key = path.join(path.dirname(file), m[1]!);
    const g = groups.get(key) ?? { dir: path.dirname(file), prefix: m[1]!, parts: new Map() };
    g.parts.set(Number(m[2]), file);
    groups.set(key, g);
  }
  for (const tmp of stat.isFile() ? [] : await tmpFiles(path.resolve(source))) {
    const m = /^(.+)_part_\d+\.parquet\.tmp$/.exec(path.basename(tmp));
    if (m && !groups.has(path.join(path.dirname(tmp), m[1]!)))
      problems.push({
        path: tmp,
        reason: 'unfinished export (the exporter writes part_0.parquet last); run skipped',
      });
  }
  if (groups.size === 0 && problems.length === 0)
    throw new ImportSourceError(source, 'no Neptune exporter files (<run>_part_<n>.parquet) here');
  const filesRoot = [path.join(path.dirname(stat.isFile() ? path.dirname(source) : source), 'files')];
  const experiments = new Map<string, SourceExperiment>();
  const runs: SourceRunHandle[] = [];
  const con = await connectShared();
  try {
    for (const g of [...groups.values()].sort((a, b) => a.prefix.localeCompare(b.prefix))) {
      const parts = [...g.parts].sort(([a], [b]) => a - b).map(([, f]) => f);
      if (!g.parts.has(0)) {
        problems.push({
          path: parts[0]!,
          reason: 'unfinished export (no part_0.parquet, which the exporter writes last); run skipped',
        });
        continue;
      }
      let head: { project: string; run: string; created?: string };
      try {
        head = await readHead(con, g.parts.get(0)!);
      } catch (err) {
        if (!(err instanceof ImportSourceError)) throw err;
        problems.push({ path: err.path, reason: err.reason });
        continue;
      }
      let experiment = experiments.get(head.project);
      if (!experiment) {
        experiment = { key: head.project, name: head.project.split('/').at(-1) || head.project };
        experiments.set(head.project, experiment);
      }
      const exp = experiment;
      runs.push({
        sourceRunId: `${head.project}/${head.run}`,
        experiment: exp,
        path: parts[0]!,
        started: head.created,
        load: () =>
          loadRun(parts, `${head.project}/${head.run}`, head.run, exp, [
            g.dir,
            ...filesRoot,
            path.dirname(g.dir),
          ]),
      });
    }
  } finally {
    con.closeSync();
  }
  return { tool: 'neptune', toolVersion: 'neptune-exporter parquet', runs, problems };
}

async function parquetFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

async function tmpFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile() && e.name.endsWith('.parquet.tmp'))
    .map((e) => path.join(e.parentPath, e.name));
}

type Connection = Awaited<ReturnType<typeof connectShared>>;

async function selectSql(con: Connection, file: string): Promise<string> {
  const from = `read_parquet(${quoteLiteral(file)})`;
  let cols: Set<string>;
  try {
    cols = new Set((await describeQuery(con, `SELECT * FROM ${from}`)).map((c) => c.name));
  } catch (err) {
    throw new ImportSourceError(
      file,
      `not a readable Parquet file (${(err as Error).message.split('\n')[0]})`,
      { cause: err },
    );
  }
  const missing = REQUIRED.filter((c) => !cols.has(c));
  if (missing.length > 0)
    throw new ImportSourceError(
      file,
      `unknown Neptune export schema: no column ${missing.map((c) => JSON.stringify(c)).join(', ')}`,
    );
  const list = [
    ...REQUIRED,
    ...Object.entries(OPTIONAL).map(([c, expr]) => `${cols.has(c) ? expr : 'NULL'} AS ${c}`),
  ];
  return `SELECT ${list.join(', ')} FROM ${from}`;
}

async function readHead(
  con: Connection,
  file: string,
): Promise<{ project: string; run: string; created?: string }> {
  const sql = await selectSql(con, file);
  const rows = (
    await con.runAndReadAll(
      `SELECT project_id, run_id, max(CASE WHEN attribute_path = 'sys/creation_time' THEN datetime_value END) AS created FROM (${sql}) GROUP BY ALL LIMIT 1`,
    )
  ).getRowObjectsJS();
  const r = rows[0];
  if (!r) throw new ImportSourceError(file, 'no rows');
  const created =
    r.created === null || r.created === undefined ? undefined : new Date(Number(r.created)).toISOString();
  return { project: String(r.project_id), run: String(r.run_id), ...(created ? { created } : {}) };
}

async function loadRun(
  parts: string[],
  sourceRunId: string,
  runId: string,
  experiment: SourceExperiment,
  fileRoots: string[],
): Promise<SourceRun> {
  const problems: ImportProblem[] = [];
  const rows: Row[] = [];
  const con = await connectShared();
  try {
    for (const part of parts) {
      const sql = await selectSql(con, part);
      try {
        rows.push(...((await con.runAndReadAll(sql)).getRowObjectsJS() as unknown as Row[]));
      } catch (err) {
        throw new ImportSourceError(part, `cannot read rows: ${(err as Error).message.split('\n')[0]}`, {
          cause: err,
        });
      }
    }
  } finally {
    con.closeSync();
  }
  const config: PlainObject = {};
  const sys: Record<string, PlainValue> = {};
  const scalars = new SeriesCollector();
  const hist = new Map<string, { steps: number[]; wallTimes: number[]; pairs: number[][] }>();
  const notes: NoteEntry[] = [];
  const artifacts: SourceArtifact[] = [];
  const unknown = new Set<string>();
  for (const r of rows) {
    const wall = r.timestamp === null ? Number.NaN : Number(r.timestamp) / 1000;
    const step = r.step ?? 0;
    switch (r.attribute_type) {
      case 'float_series': {
        scalars.add(r.attribute_path, step, r.float_value ?? Number.NaN, wall);
        break;
      }
      case 'string_series':
        notes.push({
          tag: r.attribute_path,
          step,
          ...(Number.isNaN(wall) ? {} : { wallTime: wall }),
          text: r.string_value ?? '',
        });
        break;
      case 'histogram_series': {
        const h = hist.get(r.attribute_path) ?? { steps: [], wallTimes: [], pairs: [] };
        const edges = r.histogram_value?.edges ?? [];
        const values = r.histogram_value?.values ?? [];
        // Neptune gives edges (n + 1) and counts (n); as TensorBoard-style [limit, count] the first edge is
        // a bucket of count 0, so no edge is lost.
        h.pairs.push(edges.flatMap((e, i) => [e, i === 0 ? 0 : (values[i - 1] ?? 0)]));
        h.steps.push(step);
        h.wallTimes.push(wall);
        hist.set(r.attribute_path, h);
        break;
      }
      case 'file':
      case 'file_series':
        if (r.file_value) {
          const rel = r.file_value.replace(/^\/+/, '');
          const abs =
            fileRoots.map((root) => path.join(root, rel)).find((p) => fs.existsSync(p)) ??
            path.join(fileRoots[0]!, rel);
          artifacts.push({ relPath: rel.split(path.sep).join('/'), absPath: abs });
        }
        break;
      case 'int':
      case 'float':
      case 'string':
      case 'bool':
      case 'datetime':
      case 'string_set': {
        const v = singleValue(r);
        if (r.attribute_path.startsWith('sys/')) sys[r.attribute_path.slice(4)] = v;
        else config[r.attribute_path] = v;
        break;
      }
      default:
        unknown.add(r.attribute_type);
    }
  }
  for (const t of unknown)
    problems.push({
      path: parts[0]!,
      reason: `attribute type ${JSON.stringify(t)} is not imported`,
      sourceRunId,
    });
  const series = scalars.series();
  const tensors = [...hist].map(([tag, h]) => histogramSeries(tag, h.steps, h.wallTimes, h.pairs));
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(sys))
    if (!['name', 'creation_time', 'modification_time', 'ping_time', 'failed', 'state', 'owner'].includes(k))
      tags[`sys/${k}`] = Array.isArray(v) ? v.join(',') : String(v);
  const failed = sys.failed === true;
  const state = typeof sys.state === 'string' ? sys.state : undefined;
  return {
    sourceRunId,
    experiment,
    name: typeof sys.name === 'string' && sys.name ? sys.name : runId,
    status: failed ? 'failed' : state === 'running' ? 'interrupted' : 'succeeded',
    sourceStatus: [state, failed ? 'failed' : undefined].filter(Boolean).join(', ') || undefined,
    started: isoOf(sys.creation_time),
    ended: isoOf(sys.modification_time) ?? isoOf(sys.ping_time),
    config,
    tags,
    provenance: typeof sys.owner === 'string' ? { user: sys.owner } : {},
    series,
    tensors,
    notes,
    artifacts,
    problems,
  };
}

function singleValue(r: Row): PlainValue {
  switch (r.attribute_type) {
    case 'int':
      return r.int_value === null
        ? null
        : typeof r.int_value === 'bigint' && !Number.isSafeInteger(Number(r.int_value))
          ? r.int_value
          : Number(r.int_value);
    case 'float':
      return r.float_value;
    case 'bool':
      return r.bool_value;
    case 'datetime':
      return r.datetime_value === null ? null : new Date(Number(r.datetime_value)).toISOString();
    case 'string_set':
      return r.string_set_value ?? [];
    default:
      return r.string_value;
  }
}

function isoOf(v: PlainValue | undefined): string | undefined {
  return typeof v === 'string' && Number.isFinite(Date.parse(v)) ? new Date(v).toISOString() : undefined;
}
