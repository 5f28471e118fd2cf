/**
 * What the catalog and scale benchmarks share: the manifests their generators write (as sealing writes
 * them), the metric summaries DuckDB computes for them, the bare read loop that is the cold index's
 * baseline, and the three catalog measurements — cold index vs that loop, incremental index after one
 * specimen gained a run vs the cold index, and `min(value)` per run over the `metrics` view vs raw DuckDB
 * over the same files. The cold index is measured idle and with the other core busy (both sides under the
 * same load), because its margin must hold on a loaded machine. Each generator decides its own layout (files per run, rows, specimens).
 *
 * @example
 * const index = await indexFigures(root, { cold: 2, incremental: 3, addRun: (i) => addRun(root, specimenId(7), i) })
 * const query = await metricQueryFigure(root, { repeats: 3, groups: runs })
 */
import fs from 'node:fs';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { indexVault, VaultQuery } from '../dist/catalog/index.js';
import { decodeManifest, encodeManifest, type PlainObject } from '../dist/format/msgpack.js';
import { decodeFooter } from '../dist/parquet/footer.js';
import { type BenchResult, LOADS, type Load, loadName, underLoad } from './harness.js';

/** The metric columns of every generated metrics file (besides step and run_id). */
export const METRICS = ['loss', 'acc', 'lr'] as const;

/** Run IDs of generated runs: slot `r` of every specimen. */
export function runId(r: number): string {
  return `20250101_12000${r}`;
}

/** Run IDs of runs added by `addRun`; a generator's vault never has them otherwise. */
export const ADDED_RUN_PREFIX = '20250102_';

export const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

export function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** What a run manifest says of its metrics file. */
export interface MetricsFileFacts {
  bytes: number;
  sha256: string;
  rows: number;
  summary: PlainObject[];
}

/**
 * Per-metric summaries (as sealing stores them) of `table`, grouped by the `keys` columns; keyed by the
 * keys' values joined with '/'.
 */
export async function metricSummaries(
  con: DuckDBConnection,
  table: string,
  keys: readonly string[],
): Promise<Map<string, PlainObject[]>> {
  const out = new Map<string, PlainObject[]>();
  const by = keys.join(', ');
  for (const m of METRICS) {
    const reader = await con.runAndReadAll(
      `SELECT ${by}, count(${m}), min(${m}), max(${m}), avg(${m}), arg_min(${m}, step), arg_max(${m}, step),
              arg_min(step, ${m}), arg_max(step, ${m}) FROM ${table} GROUP BY ${by}`,
    );
    for (const row of reader.getRowsJS()) {
      const key = row.slice(0, keys.length).map(String).join('/');
      const [count, min, max, mean, first, last, smin, smax] = row.slice(keys.length);
      const list = out.get(key) ?? [];
      list.push({
        column: m,
        count: Number(count),
        min: Number(min),
        max: Number(max),
        mean: Number(mean),
        first: Number(first),
        last: Number(last),
        step_of_min: Number(smin),
        step_of_max: Number(smax),
      });
      out.set(key, list);
    }
  }
  return out;
}

/** A generated specimen's manifest. */
export function specimenManifest(specimenId: string, s: number, method: string, tag: string): PlainObject {
  return {
    specimen_id: specimenId,
    created: '2025-01-01T09:00:00.000Z',
    taxonomy: { domain: 'training', method },
    model: 'gpt2',
    status: 'active',
    tags: [tag, `group_${s % 10}`],
    description: `Generated specimen ${s}`,
    dependencies: { node: '>=20' },
    artifacts: {},
  };
}

/** A sealed run's manifest for slot `r` of specimen `s`, with one metrics file described by `facts`. */
export function runManifest(
  rid: string,
  s: number,
  r: number,
  facts: MetricsFileFacts,
  config: PlainObject,
): PlainObject {
  const at = `2025-01-01T12:00:0${r}.000Z`;
  return {
    run_id: rid,
    run_timestamp: at,
    started: at,
    ended: `2025-01-01T12:10:0${r}.000Z`,
    status: 'succeeded',
    seeds: { global: s * 10 + r },
    config,
    summary: { final_loss: (facts.summary[0]?.last as number | undefined) ?? null },
    artifacts: {
      metrics: {
        path: 'metrics.parquet',
        format: 'parquet',
        bytes: facts.bytes,
        sha256: facts.sha256,
        rows: facts.rows,
        columns: ['step', ...METRICS, 'run_id'],
        column_types: { step: 'BIGINT', loss: 'DOUBLE', acc: 'DOUBLE', lr: 'DOUBLE', run_id: 'VARCHAR' },
        summary: facts.summary,
      },
    },
    owner: { pid: 1, host: 'bench-host' },
    files: { 'metrics.parquet': { bytes: facts.bytes, sha256: facts.sha256 } },
    sealed_at: `2025-01-01T12:10:0${r}.500Z`,
    command: ['node', 'protocol.ts'],
    git: { commit: '0123456789abcdef0123456789abcdef01234567' },
    exit_code: 0,
  };
}

/** The bare loop: list, read and decode every manifest, read and decode every metrics file's footer. */
export function bareLoop(root: string): { specimens: number; runs: number } {
  const specimensDir = path.join(root, 'specimens');
  let specimens = 0;
  let runs = 0;
  const tail = Buffer.alloc(8);
  for (const s of fs.readdirSync(specimensDir)) {
    const dir = path.join(specimensDir, s);
    decodeManifest(fs.readFileSync(path.join(dir, 'manifest.msgpack')), s);
    specimens++;
    for (const r of fs.readdirSync(path.join(dir, 'runs'))) {
      const runDir = path.join(dir, 'runs', r);
      decodeManifest(fs.readFileSync(path.join(runDir, 'manifest.msgpack')), r);
      const fd = fs.openSync(path.join(runDir, 'metrics.parquet'), 'r');
      try {
        const size = fs.fstatSync(fd).size;
        fs.readSync(fd, tail, 0, 8, size - 8);
        const len = tail.readUInt32LE(0);
        const footer = Buffer.alloc(len);
        fs.readSync(fd, footer, 0, len, size - 8 - len);
        decodeFooter(footer);
      } finally {
        fs.closeSync(fd);
      }
      runs++;
    }
  }
  return { specimens, runs };
}

/**
 * Adds a sealed run to a specimen: a copy of its run in slot 0 under a new ID (`ADDED_RUN_PREFIX` and
 * `i`); returns its directory.
 */
export function addRun(root: string, specimenId: string, i: number): string {
  const runsDir = path.join(root, 'specimens', specimenId, 'runs');
  const source = path.join(runsDir, runId(0));
  const rid = `${ADDED_RUN_PREFIX}0000${String(i).padStart(2, '0')}`;
  const dir = path.join(runsDir, rid);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(source, 'metrics.parquet'), path.join(dir, 'metrics.parquet'));
  const m = decodeManifest(fs.readFileSync(path.join(source, 'manifest.msgpack')), 'manifest');
  fs.writeFileSync(path.join(dir, 'manifest.msgpack'), encodeManifest({ ...m, run_id: rid }));
  return dir;
}

/** Removes runs `addRun` left behind (a bench stopped between adding and removing one). */
export function removeAddedRuns(root: string): void {
  for (const s of fs.readdirSync(path.join(root, 'specimens'))) {
    const runsDir = path.join(root, 'specimens', s, 'runs');
    for (const r of fs.readdirSync(runsDir))
      if (r.startsWith(ADDED_RUN_PREFIX)) fs.rmSync(path.join(runsDir, r), { recursive: true });
  }
}

/** One cold-index measurement under one load: best wall time of each side, with its CPU time. */
export interface ColdIndexFigure {
  coldMs: number;
  coldCpuMs: number;
  bareMs: number;
  bareCpuMs: number;
}

/** Cold (idle and busy) and incremental index timings (best of `repeats`), with the cold index's baseline. */
export interface IndexFigures {
  cold: Record<Load, ColdIndexFigure>;
  /** The idle cold index's wall time, which the incremental index is measured against. */
  coldMs: number;
  runs: number;
  catalogBytes: number;
  incrementalMs: number;
  /** Runs the incremental index re-read (1 when it works as it should). */
  runsReread: number;
}

/** The cold index's target against the bare loop, idle and busy alike. */
export const COLD_INDEX_TARGET = 2.5;

/**
 * Cold index vs the bare loop, alternating, best of `cold`, idle and then with the other core busy; then,
 * `incremental` times, `addRun(i)` and an incremental index (timed), then the added run removed and indexed
 * away again (untimed).
 */
export async function indexFigures(
  root: string,
  options: { cold: number; incremental: number; addRun: (i: number) => string },
): Promise<IndexFigures> {
  const catalog = path.join(root, 'vault.duckdb');
  const fresh = (): ColdIndexFigure => ({
    coldMs: Number.POSITIVE_INFINITY,
    coldCpuMs: 0,
    bareMs: Number.POSITIVE_INFINITY,
    bareCpuMs: 0,
  });
  const cold: Record<Load, ColdIndexFigure> = { idle: fresh(), busy: fresh() };
  let runs = 0;
  for (let i = 0; i < options.cold; i++) {
    for (const load of LOADS) {
      const out = cold[load];
      gc();
      const bare = await underLoad(load, () => {
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        const counted = bareLoop(root);
        return { ms: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(cpu)), counted };
      });
      if (bare.ms < out.bareMs) {
        out.bareMs = bare.ms;
        out.bareCpuMs = bare.cpuMs;
      }
      fs.rmSync(catalog, { force: true });
      gc();
      const ours = await underLoad(load, async () => {
        const cpu = process.cpuUsage();
        const t1 = performance.now();
        const report = await indexVault(root, { full: true });
        // CPU time of all threads (DuckDB works on its own threads): the machine's load shows in wall time.
        return { ms: performance.now() - t1, cpuMs: cpuMs(process.cpuUsage(cpu)), report };
      });
      if (ours.ms < out.coldMs) {
        out.coldMs = ours.ms;
        out.coldCpuMs = ours.cpuMs;
      }
      runs = ours.report.runs.total;
      if (ours.report.runs.total !== bare.counted.runs)
        throw new Error(`bench: indexed ${ours.report.runs.total} runs, expected ${bare.counted.runs}`);
    }
  }
  const out: IndexFigures = {
    cold,
    coldMs: cold.idle.coldMs,
    runs,
    catalogBytes: fs.statSync(catalog).size,
    incrementalMs: Number.POSITIVE_INFINITY,
    runsReread: 0,
  };
  for (let i = 0; i < options.incremental; i++) {
    const added = options.addRun(i);
    gc();
    const t0 = performance.now();
    const report = await indexVault(root);
    out.incrementalMs = Math.min(out.incrementalMs, performance.now() - t0);
    out.runsReread = report.runs.indexed;
    if (report.specimens.indexed !== 1 || report.runs.indexed !== 1)
      throw new Error(
        `bench: incremental index re-read ${report.specimens.indexed} specimens, ${report.runs.indexed} runs`,
      );
    fs.rmSync(added, { recursive: true, force: true });
    await indexVault(root);
  }
  return out;
}

/**
 * The cold index's two results, idle (`name`) and busy (`name.busy`), each against the bare loop under the
 * same load; `details` go on the idle one.
 */
export function coldIndexResults(
  index: IndexFigures,
  name: string,
  what: string,
  details: Record<string, number | string>,
): BenchResult[] {
  return LOADS.map((load) => {
    const f = index.cold[load];
    const ratio = f.coldMs / f.bareMs;
    return {
      name: loadName(name, load),
      description: `cold index of ${what} vs a bare loop reading and decoding the same manifests and Parquet footers, ${load === 'busy' ? 'both with the other core busy' : 'idle'}`,
      value: f.coldMs,
      baseline: f.bareMs,
      unit: 'ms',
      ratio,
      target: `≤ ${COLD_INDEX_TARGET}`,
      pass: ratio <= COLD_INDEX_TARGET,
      details: {
        cpuMs: f.coldCpuMs,
        baselineCpuMs: f.bareCpuMs,
        ...(load === 'idle' ? details : {}),
      },
    };
  });
}

/** The metric query over the `metrics` view and its raw DuckDB counterpart. */
export const OURS_METRIC_QUERY = `SELECT specimen_id, run_id, min(value) AS min_loss FROM metrics WHERE metric = 'loss' GROUP BY ALL`;

export function rawMetricQuery(root: string): string {
  return (
    `SELECT string_split(filename, '/')[-4] AS specimen_id, run_id, min(loss) AS min_loss ` +
    `FROM read_parquet('${root}/specimens/*/runs/*/metrics.parquet', filename = true) GROUP BY ALL`
  );
}

/**
 * `min(value)` per run for metric 'loss' through VaultQuery (Arrow result) vs raw DuckDB over the same files
 * with a glob, alternating, best of `repeats`; both must give `groups` rows when it is given.
 */
export async function metricQueryFigure(
  root: string,
  options: { repeats: number; groups?: number },
): Promise<{ oursMs: number; rawMs: number; groups: number }> {
  const raw = rawMetricQuery(root);
  const rawDb = await DuckDBInstance.create(':memory:');
  const rawCon = await rawDb.connect();
  const q = await VaultQuery.open(root);
  let oursMs = Number.POSITIVE_INFINITY;
  let rawMs = Number.POSITIVE_INFINITY;
  let groups = 0;
  try {
    for (let i = 0; i < options.repeats; i++) {
      gc();
      const t0 = performance.now();
      const reader = await rawCon.runAndReadAll(raw);
      rawMs = Math.min(rawMs, performance.now() - t0);
      const rawGroups = reader.currentRowCount;
      gc();
      const t1 = performance.now();
      const table = await q.search(OURS_METRIC_QUERY);
      oursMs = Math.min(oursMs, performance.now() - t1);
      groups = table.numRows;
      if (groups !== rawGroups || (options.groups !== undefined && groups !== options.groups))
        throw new Error(
          `bench: ${groups} groups from the metrics view, ${rawGroups} from raw DuckDB, expected ${options.groups ?? rawGroups}`,
        );
    }
  } finally {
    q.close();
    rawCon.closeSync();
    rawDb.closeSync();
  }
  return { oursMs, rawMs, groups };
}
