/**
 * Run metrics held in memory for charts and tables. A run's metrics are read once (the sealed
 * `metrics.parquet`, or the flushed parts of a live run, as storage's `findMetricsFiles` finds them) and
 * kept while the files are unchanged: the cache key includes the file's size and mtime, or the list of
 * flushed parts, so a live run is re-read as soon as its writer flushes. A run that has neither but a
 * `metrics.jsonl` (a Python or other-language writer, not sealed yet) is read incrementally: the cache
 * keeps its byte offset and parsed columns (storage/metrics/live-jsonl.ts) and each refresh parses only the
 * lines appended since. Numeric columns become Float64Arrays (null → NaN) in step order. Least recently
 * used runs are dropped beyond a byte budget. A run's system metrics (`system.parquet`) are a second entry
 * of the same cache, keyed `<runDir>#system`, over elapsed seconds instead of steps.
 *
 * @example
 * const m = await cache.get(runDir, runId)
 * const loss = m?.numeric('loss')   // Float64Array aligned with m.steps
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Table } from 'apache-arrow';
import { METRICS_JSONL_FILE, SYSTEM_FILE, SYSTEM_JSONL_FILE, stampOf } from '../format/layout.js';
import { findMetricsFiles, type RunMetricsFiles } from '../storage/describe.js';
import { LiveJsonl } from '../storage/metrics/live-jsonl.js';
import {
  isNumericArrowType,
  type MetricColumnSummary,
  NON_METRIC_COLUMNS,
  summarizeColumn,
  summarizeTable,
} from '../storage/metrics/summary.js';

/** A column of a run's metrics. */
export interface MetricColumn {
  name: string;
  /** Arrow type text (`Float64`, `Int64`, `Utf8`, …). */
  type: string;
  /** Charted and summarized: integers and floats other than `step`. */
  numeric: boolean;
}

/** One run's metrics, ready for charts. */
export interface RunMetrics {
  rows: number;
  columns: MetricColumn[];
  /** The `step` column (or the row number when there is none), ascending. */
  steps: Float64Array;
  /** True when the file has a numeric `step` column. */
  hasStep: boolean;
  /** Row order that sorts `steps` when the file is not in step order (undefined when it is). */
  order: Uint32Array | undefined;
  /** A numeric column as Float64Array in step order, null as NaN (cached). */
  numeric(name: string): Float64Array | undefined;
  /**
   * The rows where numeric column `name` holds a finite value, as steps and values in step order (cached):
   * a metric logged every N steps (eval) is its N-th rows, drawn as one connected line and counted as
   * values, not rows.
   */
  present(name: string): { steps: Float64Array; values: Float64Array } | undefined;
  /** Summaries of the numeric columns (storage/metrics/summary.ts, from the rows in file order; cached). */
  summaries(): MetricColumnSummary[];
  /** The cell of column `name` at row `row` in file order (null when missing). */
  value(name: string, row: number): unknown;
  /** Approximate bytes held. */
  bytes: number;
}

function toFloat64(table: Table, name: string, order: Uint32Array | undefined): Float64Array | undefined {
  const col = table.getChild(name);
  if (!col) return undefined;
  const n = table.numRows;
  const out = new Float64Array(n);
  if (col.nullCount === 0) {
    const arr = col.toArray() as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) out[i] = Number(arr[i]!);
  } else {
    for (let i = 0; i < n; i++) {
      const v = col.get(i) as number | bigint | null;
      out[i] = v === null ? Number.NaN : Number(v);
    }
  }
  if (!order) return out;
  const sorted = new Float64Array(n);
  for (let i = 0; i < n; i++) sorted[i] = out[order[i]!]!;
  return sorted;
}

/** The finite points of `ys` over `steps` (both in step order). */
function compact(steps: Float64Array, ys: Float64Array): { steps: Float64Array; values: Float64Array } {
  let k = 0;
  for (let i = 0; i < ys.length; i++) if (Number.isFinite(ys[i]!)) k++;
  if (k === ys.length) return { steps, values: ys };
  const s = new Float64Array(k);
  const v = new Float64Array(k);
  k = 0;
  for (let i = 0; i < ys.length; i++) {
    const y = ys[i]!;
    if (!Number.isFinite(y)) continue;
    s[k] = steps[i]!;
    v[k++] = y;
  }
  return { steps: s, values: v };
}

/** `present` of a RunMetrics, cached per column. */
function presentOf(m: Pick<RunMetrics, 'steps' | 'numeric'>): RunMetrics['present'] {
  const cache = new Map<string, { steps: Float64Array; values: Float64Array }>();
  return (name) => {
    let hit = cache.get(name);
    if (!hit) {
      const ys = m.numeric(name);
      if (!ys) return undefined;
      hit = compact(m.steps, ys);
      cache.set(name, hit);
    }
    return hit;
  };
}

/** Builds a run's metrics over the x column `x` (`step`; a system table's `elapsed_s`). */
function build(table: Table, x = 'step'): RunMetrics {
  const columns: MetricColumn[] = table.schema.fields.map((f) => ({
    name: f.name,
    type: String(f.type),
    numeric: !NON_METRIC_COLUMNS.has(f.name) && f.name !== x && isNumericArrowType(f.type.typeId),
  }));
  const stepField = table.schema.fields.find((f) => f.name === x);
  const hasStep = stepField !== undefined && isNumericArrowType(stepField.type.typeId);
  const n = table.numRows;
  let steps = hasStep ? toFloat64(table, x, undefined)! : Float64Array.from({ length: n }, (_, i) => i);
  let order: Uint32Array | undefined;
  for (let i = 1; i < n; i++) {
    if (!(steps[i]! >= steps[i - 1]!)) {
      // Out of order (or a null step): sort rows by step, nulls last.
      const key = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
      const s = steps;
      order = Uint32Array.from({ length: n }, (_, k) => k).sort((a, b) => key(s[a]!) - key(s[b]!) || a - b);
      steps = Float64Array.from(order, (k) => s[k]!);
      break;
    }
  }
  const cache = new Map<string, Float64Array>();
  let summaries: MetricColumnSummary[] | undefined;
  const m: RunMetrics = {
    rows: n,
    columns,
    steps,
    hasStep,
    order,
    bytes: n * 8 * (columns.length + 1),
    numeric(name) {
      if (!columns.some((c) => c.name === name && c.numeric)) return undefined;
      let arr = cache.get(name);
      if (!arr) {
        arr = toFloat64(table, name, order);
        if (arr) cache.set(name, arr);
      }
      return arr;
    },
    summaries() {
      summaries ??= summarizeTable(table);
      return summaries;
    },
    value(name, row) {
      return table.getChild(name)?.get(row) ?? null;
    },
    present: () => undefined,
  };
  m.present = presentOf(m);
  return m;
}

const ARROW_TYPE = { null: 'Null', int: 'Int64', float: 'Float64', bool: 'Bool', string: 'Utf8' } as const;

/** A live JSON lines reader and how far its step order has been checked. */
interface LiveState {
  reader: LiveJsonl;
  /** Rows whose step order was checked; `sorted` tells whether they are in step order. */
  checked: number;
  sorted: boolean;
}

/**
 * A snapshot of the rows a live reader holds now (views of its buffers: later appends do not change it),
 * over the x column `x` (`step`; a live `system.jsonl`'s `elapsed_s`).
 */
function buildLive(state: LiveState, x = 'step'): RunMetrics {
  const live = state.reader;
  const n = live.rows;
  const columns: MetricColumn[] = live.columns.map((c) => ({
    name: c.name,
    type: ARROW_TYPE[c.kind],
    numeric: !NON_METRIC_COLUMNS.has(c.name) && c.name !== x && (c.kind === 'int' || c.kind === 'float'),
  }));
  const stepCol = live.numeric(x);
  const hasStep = stepCol !== undefined;
  const raw = stepCol ?? Float64Array.from({ length: n }, (_, i) => i);
  // Only the rows added since the last check are looked at, unless the order is already broken.
  if (state.checked > n) {
    state.checked = 0;
    state.sorted = true;
  }
  for (let i = Math.max(1, state.checked); state.sorted && i < n; i++)
    if (!(raw[i]! >= raw[i - 1]!)) state.sorted = false;
  if (n > 0 && Number.isNaN(raw[0]!)) state.sorted = false;
  state.checked = n;
  let order: Uint32Array | undefined;
  let steps = raw;
  if (!state.sorted) {
    const key = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
    order = Uint32Array.from({ length: n }, (_, k) => k).sort((a, b) => key(raw[a]!) - key(raw[b]!) || a - b);
    steps = Float64Array.from(order, (k) => raw[k]!);
  }
  const permuted = new Map<string, Float64Array>();
  let summaries: MetricColumnSummary[] | undefined;
  const valuesOf = (name: string): (number | null)[] => {
    const c = live.column(name)!;
    const out = new Array<number | null>(n);
    for (let i = 0; i < n; i++) out[i] = c.valid[i] === 1 ? c.values[i]! : null;
    return out;
  };
  const m: RunMetrics = {
    rows: n,
    columns,
    steps,
    hasStep,
    order,
    present: () => undefined,
    numeric(name) {
      if (!columns.some((c) => c.name === name && c.numeric)) return undefined;
      const v = live.column(name)!.values.subarray(0, n);
      if (!order) return v;
      let p = permuted.get(name);
      if (!p) {
        p = Float64Array.from(order, (k) => v[k]!);
        permuted.set(name, p);
      }
      return p;
    },
    summaries() {
      if (!summaries) {
        const step = hasStep ? valuesOf(x) : undefined;
        summaries = columns
          .filter((c) => c.numeric)
          .map((c) => summarizeColumn(c.name, valuesOf(c.name), step));
      }
      return summaries;
    },
    value(name, row) {
      return row < n ? live.value(name, row) : null;
    },
    bytes: live.bytes,
  };
  m.present = presentOf(m);
  return m;
}

interface Entry {
  signature: string;
  value: Promise<RunMetrics | undefined>;
  bytes: number;
  /** Set for a run read from its JSON lines (see the module comment). */
  live?: LiveState;
}

/** Reads a run's metrics table from the files found (undefined when the run has none). */
export type MetricsLoader = (
  runDir: string,
  runId: string,
  files: RunMetricsFiles,
) => Promise<Table | undefined>;

/** LRU cache of run metrics keyed by run directory (see the module comment). */
export class MetricsCache {
  private readonly entries = new Map<string, Entry>();
  private total = 0;

  constructor(
    private readonly load: MetricsLoader,
    private readonly budgetBytes = 512 * 1024 * 1024,
    /** Checks a JSON lines file before it is first read (the server confines it to the vault). */
    private readonly admit: (file: string) => Promise<void> = async () => {},
  ) {}

  /**
   * The metrics of the run at `runDir`, or undefined when it has none. `files` says where they are when
   * not in the run directory (a remote stub's, in the object cache).
   */
  async get(runDir: string, runId: string, files?: RunMetricsFiles): Promise<RunMetrics | undefined> {
    const found = files ?? (await findMetricsFiles(runDir));
    if (found === undefined) return this.getLive(runDir, path.join(runDir, METRICS_JSONL_FILE), 'step');
    return this.getTable(runDir, runDir, runId, found, 'step');
  }

  /**
   * The system metrics of the run at `runDir` (CPU %, RSS, GPU over `elapsed_s`, which becomes `steps`),
   * or undefined when it has none: its sealed `system.parquet`, else the `system.jsonl` a running run's
   * sampler appends to, read incrementally like a live `metrics.jsonl`. Cached under `<runDir>#system`,
   * within the same byte budget as the runs' metrics. `given` says where the file is when not in the run
   * directory (a remote stub's, in the object cache).
   */
  async getSystem(runDir: string, runId: string, given?: RunMetricsFiles): Promise<RunMetrics | undefined> {
    const key = `${runDir}#system`;
    if (given) return this.getTable(key, runDir, runId, given, 'elapsed_s');
    const file = path.join(runDir, SYSTEM_FILE);
    const st = await fsp.stat(file).catch(() => undefined);
    if (!st) return this.getLive(key, path.join(runDir, SYSTEM_JSONL_FILE), 'elapsed_s');
    const found: RunMetricsFiles = { kind: 'file', files: [file], signature: `f:${stampOf(st)}` };
    return this.getTable(key, runDir, runId, found, 'elapsed_s');
  }

  /** The table of `found` under cache key `key`, read again when its signature changes. */
  private getTable(
    key: string,
    runDir: string,
    runId: string,
    found: RunMetricsFiles,
    x: string,
  ): Promise<RunMetrics | undefined> {
    const { signature } = found;
    const hit = this.entries.get(key);
    if (hit && hit.signature === signature) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    if (hit) this.drop(key, hit);
    const entry: Entry = { signature, bytes: 0, value: Promise.resolve(undefined) };
    entry.value = this.load(runDir, runId, found).then(
      (table) => {
        if (!table) return undefined;
        const m = build(table, x);
        entry.bytes = m.bytes;
        this.total += m.bytes;
        this.evict();
        return m;
      },
      (err: unknown) => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
        // A live run may merge its parts into metrics.parquet while we read them: read again once they are gone.
        if (found.kind === 'parts')
          return findMetricsFiles(runDir).then((now) => {
            if (now?.kind !== 'parts') return this.get(runDir, runId);
            throw err;
          });
        throw err;
      },
    );
    this.entries.set(key, entry);
    return entry.value;
  }

  /**
   * A run's rows from the JSON lines file `file` (over x column `x`), cached under `key` and read from
   * where the last refresh stopped.
   */
  private async getLive(key: string, file: string, x: string): Promise<RunMetrics | undefined> {
    const st = await fsp.stat(file).catch(() => undefined);
    const hit = this.entries.get(key);
    if (!st) {
      if (hit) this.drop(key, hit);
      return undefined;
    }
    const signature = `j:${stampOf(st)}`;
    if (hit?.live && hit.signature === signature) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit.value;
    }
    let live = hit?.live;
    if (!live) {
      if (hit) this.drop(key, hit);
      await this.admit(file);
      live = { reader: new LiveJsonl(file), checked: 0, sorted: true };
    }
    const state = live;
    // Refreshes of one reader run one after another: the previous one (if any) is awaited first.
    const previous = hit?.live ? hit.value.catch(() => undefined) : Promise.resolve(undefined);
    const entry: Entry = {
      signature,
      bytes: hit?.bytes ?? 0,
      live: state,
      value: Promise.resolve(undefined),
    };
    entry.value = previous.then(async () => {
      await state.reader.refresh();
      const m = buildLive(state, x);
      this.total += m.bytes - entry.bytes;
      entry.bytes = m.bytes;
      this.evict();
      return m;
    });
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.drop(key, entry);
    });
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  private drop(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.total -= entry.bytes;
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.total <= this.budgetBytes || this.entries.size <= 1) break;
      this.drop(key, entry);
    }
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
