/**
 * W&B source: offline runs (`wandb/offline-run-<time>-<id>/run-<id>.wandb`, the transaction log of
 * protobuf `Record`s that `wandb sync` would upload) and history exports (`*.jsonl`, one row of
 * `run.history()` per line). A project becomes a specimen; each run keeps its config, tags, notes, group,
 * git commit, program, summary, exit status, its history with `_step` as the step and `_timestamp` as the
 * wall time, the x axis of metrics defined with `define_metric(step_metric=…)`, and the files under
 * `files/`.
 *
 * @example
 * const listing = await listWandb('./wandb')
 * const run = await listing.runs[0]!.load()
 * run.stepMetrics // { 'eval/acc': 'epoch' }
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { PlainObject, PlainValue } from '../format/msgpack.js';
import { listFiles } from '../storage/hashing.js';
import { ImportSourceError } from './errors.js';
import { checkHeader, readLevelDbLog } from './leveldb-log.js';
import { SeriesCollector } from './mapping.js';
import { fields, text, WIRE, WireError } from './protobuf.js';
import type {
  ImportProblem,
  Series,
  SourceArtifact,
  SourceExperiment,
  SourceListing,
  SourceRun,
  SourceRunHandle,
} from './types.js';

// Field numbers of wandb/proto/wandb_internal.proto (Record and the messages read here).
const RECORD = {
  history: 2,
  summary: 3,
  config: 5,
  files: 6,
  metric: 12,
  run: 17,
  exit: 18,
  header: 21,
} as const;
const ITEM = { key: 1, nestedKey: 2, valueJson: 16 } as const; // HistoryItem, ConfigItem, SummaryItem
const UPDATES = { update: 1, remove: 2 } as const; // ConfigRecord, SummaryRecord
const HISTORY = { item: 1, step: 2 } as const;
const RUN = {
  runId: 1,
  entity: 2,
  project: 3,
  config: 4,
  group: 6,
  jobType: 7,
  displayName: 8,
  notes: 9,
  tags: 10,
  host: 13,
  startTime: 17,
  git: 21,
} as const;
const GIT = { remoteUrl: 1, commit: 2 } as const;
const METRIC = { name: 1, globName: 2, stepMetric: 4 } as const;
const FILES_ITEM = { path: 1 } as const;
const HEADER_VERSION = { versionInfo: 1, producer: 1 } as const;

const OFFLINE_DIR = /^(offline-)?run-(\d{8}_\d{6})-([A-Za-z0-9]+)$/;
/** Files of a run directory that are W&B's own bookkeeping, not the user's. */
const INTERNAL_FILES = new Set(['wandb-summary.json', 'wandb-metadata.json', 'output.log', 'config.yaml']);

/** Lists offline runs and history exports under `source` (a `.wandb` file, a run directory, `wandb/`, or above it). */
export async function listWandb(source: string): Promise<SourceListing> {
  const logs: string[] = [];
  const exports: string[] = [];
  await find(path.resolve(source), logs, exports, 0);
  if (logs.length === 0 && exports.length === 0)
    throw new ImportSourceError(
      source,
      'no W&B runs here (no offline-run-*/run-*.wandb files, no *.jsonl history exports)',
    );
  const problems: ImportProblem[] = [];
  const runs: SourceRunHandle[] = [];
  const experiments = new Map<string, SourceExperiment>();
  const experimentOf = (project: string): SourceExperiment => {
    let e = experiments.get(project);
    if (!e) {
      e = { key: project, name: project };
      experiments.set(project, e);
    }
    return e;
  };
  let version: string | undefined;
  for (const file of logs.sort()) {
    const bytes = new Uint8Array(await fsp.readFile(file));
    const bad = checkHeader(bytes);
    if (bad) {
      problems.push({ path: file, reason: bad });
      continue;
    }
    const { records, problem } = readLevelDbLog(bytes);
    let head: ReturnType<typeof decodeRun> | undefined;
    for (const r of records) {
      const rec = topField(r);
      if (rec?.no === RECORD.header) version ??= producerOf(rec.bytes);
      if (rec?.no === RECORD.run) {
        head = decodeRun(rec.bytes);
        break;
      }
    }
    const dirMatch = OFFLINE_DIR.exec(path.basename(path.dirname(file)));
    const runId = head?.runId || dirMatch?.[3] || path.basename(file, '.wandb').replace(/^run-/, '');
    if (!head && problem) {
      problems.push({ path: file, reason: `${problem}; no run record before it`, sourceRunId: runId });
      continue;
    }
    const experiment = experimentOf(head?.project || 'uncategorized');
    runs.push({
      sourceRunId: runId,
      experiment,
      path: file,
      started: head?.started ?? (dirMatch ? fromDirTime(dirMatch[2]!) : undefined),
      load: async () => loadOffline(file, bytes, runId, experiment),
    });
  }
  for (const file of exports.sort()) {
    const base = path.basename(file, '.jsonl');
    const runDir = path.dirname(path.dirname(file));
    const dirMatch = OFFLINE_DIR.exec(path.basename(runDir));
    // `files/wandb-history.jsonl` inside a run directory belongs to that run; other exports are named after theirs.
    const runId = base === 'wandb-history' && dirMatch ? dirMatch[3]! : base;
    if (runs.some((r) => r.sourceRunId === runId)) continue;
    const experiment = experimentOf(path.basename(path.dirname(file)));
    runs.push({
      sourceRunId: runId,
      experiment,
      path: file,
      started: await firstTimestamp(file),
      load: async () => loadExport(file, runId, experiment),
    });
  }
  return { tool: 'wandb', toolVersion: version, runs, problems };
}

async function find(p: string, logs: string[], exports: string[], depth: number): Promise<void> {
  const stat = await fsp.stat(p);
  if (stat.isFile()) {
    if (p.endsWith('.wandb')) logs.push(p);
    else if (p.endsWith('.jsonl')) exports.push(p);
    return;
  }
  if (depth > 6) return;
  for (const e of await fsp.readdir(p, { withFileTypes: true })) {
    const full = path.join(p, e.name);
    if (e.isDirectory()) {
      if (e.name === 'tmp' || e.name === 'logs' || e.name === 'latest-run') continue;
      await find(full, logs, exports, depth + 1);
    } else if (e.isFile() && e.name.endsWith('.wandb')) logs.push(full);
    else if (e.isFile() && e.name.endsWith('.jsonl') && !e.name.endsWith('.rejected.jsonl'))
      exports.push(full);
  }
}

function fromDirTime(t: string): string {
  return new Date(
    Date.UTC(
      +t.slice(0, 4),
      +t.slice(4, 6) - 1,
      +t.slice(6, 8),
      +t.slice(9, 11),
      +t.slice(11, 13),
      +t.slice(13, 15),
    ),
  ).toISOString();
}

// ---- offline runs ----

async function loadOffline(
  file: string,
  bytes: Uint8Array,
  runId: string,
  experiment: SourceExperiment,
): Promise<SourceRun> {
  const problems: ImportProblem[] = [];
  const { records, problem } = readLevelDbLog(bytes);
  if (problem)
    problems.push({
      path: file,
      reason: `${problem}; the ${records.length} record(s) before it were imported`,
      sourceRunId: runId,
    });
  let head: ReturnType<typeof decodeRun> | undefined;
  const config: PlainObject = {};
  const summary: PlainObject = {};
  const rows: Record<string, PlainValue>[] = [];
  const metricDefs: { name?: string; glob?: string; step: string }[] = [];
  const listedFiles: string[] = [];
  let exitCode: number | undefined;
  for (const [i, r] of records.entries()) {
    try {
      const rec = topField(r);
      if (!rec) continue;
      if (rec.no === RECORD.run) {
        head = decodeRun(rec.bytes);
        applyUpdates(config, head.config);
      } else if (rec.no === RECORD.config) applyUpdates(config, rec.bytes);
      else if (rec.no === RECORD.summary) applyUpdates(summary, rec.bytes);
      else if (rec.no === RECORD.history) rows.push(decodeHistory(rec.bytes));
      else if (rec.no === RECORD.metric) {
        const m = decodeMetric(rec.bytes);
        if (m) metricDefs.push(m);
      } else if (rec.no === RECORD.files) {
        for (const f of fields(rec.bytes))
          if (f.no === 1)
            for (const g of fields(f.bytes)) if (g.no === FILES_ITEM.path) listedFiles.push(text(g));
      } else if (rec.no === RECORD.exit) {
        exitCode = 0;
        for (const f of fields(rec.bytes)) if (f.no === 1 && f.wire === WIRE.varint) exitCode = f.int;
      }
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      problems.push({
        path: `${file}#record${i}`,
        reason: `cannot decode record: ${err.message}`,
        sourceRunId: runId,
      });
    }
  }
  delete config._wandb;
  const { series, stepMetrics } = historySeries(rows, metricDefs, `${file}`, runId, problems);
  const artifacts = await runFiles(path.dirname(file), listedFiles, runId, problems);
  const timestamps = rows.map((r) => r._timestamp).filter((t): t is number => typeof t === 'number');
  const status: SourceRun['status'] =
    exitCode === undefined ? 'interrupted' : exitCode === 0 ? 'succeeded' : 'failed';
  const tags: Record<string, string> = {};
  if (head?.group) tags.group = head.group;
  if (head?.jobType) tags.job_type = head.jobType;
  if (head?.tags.length) tags.tags = head.tags.join(',');
  if (head?.entity) tags.entity = head.entity;
  if (head?.host) tags.host = head.host;
  for (const k of Object.keys(summary)) if (k.startsWith('_')) delete summary[k];
  return {
    sourceRunId: runId,
    experiment,
    name: head?.displayName || runId,
    status,
    sourceStatus: exitCode === undefined ? 'no exit record' : `exit code ${exitCode}`,
    started: head?.started,
    ended: timestamps.length > 0 ? new Date(Math.max(...timestamps) * 1000).toISOString() : head?.started,
    config,
    tags,
    provenance: {
      ...(head?.gitCommit ? { gitCommit: head.gitCommit } : {}),
      ...(head?.gitRemote ? { gitRemote: head.gitRemote } : {}),
    },
    series,
    tensors: [],
    notes: head?.notes ? [{ tag: 'notes', text: head.notes }] : [],
    artifacts,
    summary,
    stepMetrics,
    problems,
  };
}

/** Record fields that are not the record's type (control 16, uuid 19, _info 200). */
const NOT_TYPE = new Set([16, 19, 200]);

/** The one-of field that says what the record is (history, run, summary…). */
function topField(record: Uint8Array) {
  for (const f of fields(record)) if (f.wire === WIRE.bytes && !NOT_TYPE.has(f.no)) return f;
  return undefined;
}

function producerOf(header: Uint8Array): string | undefined {
  for (const f of fields(header))
    if (f.no === HEADER_VERSION.versionInfo)
      for (const g of fields(f.bytes)) if (g.no === HEADER_VERSION.producer) return text(g);
  return undefined;
}

function decodeRun(buf: Uint8Array) {
  const out = {
    runId: '',
    project: '',
    entity: '',
    displayName: '',
    notes: '',
    group: '',
    jobType: '',
    host: '',
    tags: [] as string[],
    started: undefined as string | undefined,
    gitCommit: '',
    gitRemote: '',
    config: new Uint8Array(0) as Uint8Array,
  };
  for (const f of fields(buf)) {
    if (f.wire !== WIRE.bytes) continue;
    if (f.no === RUN.runId) out.runId = text(f);
    else if (f.no === RUN.project) out.project = text(f);
    else if (f.no === RUN.entity) out.entity = text(f);
    else if (f.no === RUN.displayName) out.displayName = text(f);
    else if (f.no === RUN.notes) out.notes = text(f);
    else if (f.no === RUN.group) out.group = text(f);
    else if (f.no === RUN.jobType) out.jobType = text(f);
    else if (f.no === RUN.host) out.host = text(f);
    else if (f.no === RUN.tags) out.tags.push(text(f));
    else if (f.no === RUN.config) out.config = f.bytes;
    else if (f.no === RUN.startTime) {
      let seconds = 0;
      let nanos = 0;
      for (const g of fields(f.bytes)) {
        if (g.no === 1) seconds = g.int;
        else if (g.no === 2) nanos = g.int;
      }
      out.started = new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
    } else if (f.no === RUN.git) {
      for (const g of fields(f.bytes)) {
        if (g.no === GIT.commit) out.gitCommit = text(g);
        else if (g.no === GIT.remoteUrl) out.gitRemote = text(g);
      }
    }
  }
  return out;
}

/** An item's key: `key`, or the `nested_key` parts joined with dots (W&B's flattened name). */
function itemOf(buf: Uint8Array): { key: string; value: PlainValue | undefined } {
  let key = '';
  const nested: string[] = [];
  let json: string | undefined;
  for (const f of fields(buf)) {
    if (f.no === ITEM.key) key = text(f);
    else if (f.no === ITEM.nestedKey) nested.push(text(f));
    else if (f.no === ITEM.valueJson) json = text(f);
  }
  return { key: key || nested.join('.'), value: json === undefined ? undefined : parseJsonValue(json) };
}

function applyUpdates(target: PlainObject, buf: Uint8Array): void {
  for (const f of fields(buf)) {
    if (f.no === UPDATES.update) {
      const { key, value } = itemOf(f.bytes);
      if (key && value !== undefined) target[key] = value;
    } else if (f.no === UPDATES.remove) delete target[itemOf(f.bytes).key];
  }
}

function decodeHistory(buf: Uint8Array): Record<string, PlainValue> {
  const row: Record<string, PlainValue> = {};
  for (const f of fields(buf)) {
    if (f.no === HISTORY.item) {
      const { key, value } = itemOf(f.bytes);
      if (key && value !== undefined) row[key] = value;
    } else if (f.no === HISTORY.step && row._step === undefined) {
      for (const g of fields(f.bytes)) if (g.no === 1) row._step = g.int;
    }
  }
  return row;
}

function decodeMetric(buf: Uint8Array): { name?: string; glob?: string; step: string } | undefined {
  let name: string | undefined;
  let glob: string | undefined;
  let step: string | undefined;
  for (const f of fields(buf)) {
    if (f.no === METRIC.name) name = text(f);
    else if (f.no === METRIC.globName) glob = text(f);
    else if (f.no === METRIC.stepMetric) step = text(f);
  }
  if (!step) return undefined;
  return { ...(name ? { name } : {}), ...(glob ? { glob } : {}), step };
}

/** W&B writes JSON with the bare tokens NaN, Infinity and -Infinity, which JSON.parse refuses. */
function parseJsonValue(json: string): PlainValue | undefined {
  try {
    return JSON.parse(json.replace(/(?<=^|[[,:\s])(-?Infinity|NaN)(?=$|[\],}\s])/g, '"__$1__"'), (_k, v) =>
      v === '__NaN__'
        ? Number.NaN
        : v === '__Infinity__'
          ? Number.POSITIVE_INFINITY
          : v === '__-Infinity__'
            ? Number.NEGATIVE_INFINITY
            : v,
    ) as PlainValue;
  } catch {
    return undefined;
  }
}

// ---- history (shared by offline runs and exports) ----

/**
 * History rows → one series per numeric key on `_step`, with `_timestamp` as wall time. Keys whose values
 * are not numbers are reported (media objects, which W&B stores as files under `files/media`, are not).
 */
function historySeries(
  rows: readonly Record<string, PlainValue>[],
  defs: readonly { name?: string; glob?: string; step: string }[],
  where: string,
  runId: string,
  problems: ImportProblem[],
): { series: Series[]; stepMetrics: Record<string, string> } {
  const collector = new SeriesCollector();
  const skipped = new Set<string>();
  rows.forEach((row, i) => {
    const step = typeof row._step === 'number' ? row._step : i;
    const wall = typeof row._timestamp === 'number' ? row._timestamp : Number.NaN;
    for (const [key, v] of Object.entries(row)) {
      if (key === '_step' || key === '_timestamp') continue;
      if (typeof v !== 'number') {
        const media = typeof v === 'object' && v !== null && !Array.isArray(v) && '_type' in v;
        if (!media) skipped.add(key);
        continue;
      }
      collector.add(key, step, v, wall);
    }
  });
  for (const key of skipped)
    problems.push({
      path: `${where}#${key}`,
      reason: 'history values that are not numbers are not imported as metrics',
      sourceRunId: runId,
    });
  const stepMetrics: Record<string, string> = {};
  for (const key of collector.names()) {
    // The last definition wins, as in W&B; exact names before globs.
    const exact = defs.filter((d) => d.name === key).at(-1);
    const glob = defs.filter((d) => d.glob && globMatch(d.glob, key)).at(-1);
    const def = exact ?? glob;
    if (def && def.step !== key) stepMetrics[key] = def.step;
  }
  return { series: collector.series(), stepMetrics };
}

function globMatch(glob: string, key: string): boolean {
  const re = new RegExp(
    `^${glob
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(key);
}

/** Files the run saved (its `files/` directory); a file the log lists but the directory lacks is a problem. */
async function runFiles(
  runDir: string,
  listed: readonly string[],
  runId: string,
  problems: ImportProblem[],
): Promise<SourceArtifact[]> {
  const dir = path.join(runDir, 'files');
  const present = fs.existsSync(dir) ? await listFiles(dir) : [];
  const out = present
    .filter((rel) => !INTERNAL_FILES.has(rel))
    .map((rel) => ({ relPath: rel, absPath: path.join(dir, ...rel.split('/')) }));
  const have = new Set(present);
  for (const rel of new Set(listed)) {
    if (have.has(rel) || INTERNAL_FILES.has(rel)) continue;
    problems.push({
      path: path.join(dir, rel),
      reason: 'artifact missing on disk (listed in the run log)',
      sourceRunId: runId,
    });
  }
  return out;
}

// ---- history exports ----

/** `_timestamp` of an export's first row: dates its specimen without reading the whole file. */
async function firstTimestamp(file: string): Promise<string | undefined> {
  const handle = await fsp.open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    const line = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    const row = parseJsonValue(line) as { _timestamp?: unknown } | undefined;
    return typeof row?._timestamp === 'number' ? new Date(row._timestamp * 1000).toISOString() : undefined;
  } finally {
    await handle.close();
  }
}

async function loadExport(file: string, runId: string, experiment: SourceExperiment): Promise<SourceRun> {
  const problems: ImportProblem[] = [];
  const rows: Record<string, PlainValue>[] = [];
  const lines = (await fsp.readFile(file, 'utf8')).split('\n');
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    const v = parseJsonValue(line);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push({
        path: `${file}:${i + 1}`,
        reason: 'not a JSON object; line skipped',
        sourceRunId: runId,
      });
      continue;
    }
    rows.push(v as Record<string, PlainValue>);
  }
  if (rows.length === 0) throw new ImportSourceError(file, 'no history rows');
  const { series } = historySeries(rows, [], file, runId, problems);
  const times = rows.map((r) => r._timestamp).filter((t): t is number => typeof t === 'number');
  return {
    sourceRunId: runId,
    experiment,
    name: runId,
    status: 'succeeded',
    sourceStatus: 'history export',
    started: times.length ? new Date(Math.min(...times) * 1000).toISOString() : undefined,
    ended: times.length ? new Date(Math.max(...times) * 1000).toISOString() : undefined,
    config: {},
    tags: {},
    provenance: {},
    series,
    tensors: [],
    notes: [],
    artifacts: [],
    problems,
  };
}
