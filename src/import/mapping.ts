/**
 * Shared mapping from what a tool wrote to what the vault stores: specimen IDs derived from experiment
 * names and dates, `--map` rules, and the wide metrics table. Every source goes through these functions,
 * so an MLflow run and a TensorBoard run of the same shape land in the vault the same way.
 *
 * @example
 * deriveSpecimenId({ key: '1', name: 'ResNet sweep #2', created: '2025-01-02T10:00:00Z' }) // '2025_01_02_resnet_sweep_2'
 * const rules = parseMapRules(['1=2025_01_02_baseline', 'sweep=2025_02_01_sweep'])
 * const table = buildMetricsTable([{ name: 'loss', steps: [0, 1], values: [1, 0.5], wallTimes: [10, 11] }])
 * // table.rows === 2; columns step, wall_time, loss
 */
import type { ColumnData } from '../parquet/write-columns.js';
import { ImportSourceError } from './errors.js';
import type { Series, SourceExperiment, TensorSeries } from './types.js';

/** Column names the metrics table uses itself; a metric with one of these names is stored as `metric/<name>`. */
const RESERVED = new Set(['step', 'wall_time', 'run_id']);

/** Prefix of the per-metric wall-clock columns (`wall_time.<metric>`), written only where they differ from `wall_time`. */
export const WALL_TIME_PREFIX = 'wall_time.';

/** `2025-01-02T…` → `2025_01_02`, in UTC. */
function datePart(iso: string | undefined): string {
  const d = iso ? new Date(iso) : new Date();
  const ok = Number.isFinite(d.getTime()) ? d : new Date();
  return ok.toISOString().slice(0, 10).replaceAll('-', '_');
}

/** Lowercase descriptor of letters, digits and `_` only: `ResNet sweep #2` → `resnet_sweep_2`. */
export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 80)
    .replace(/_+$/g, '');
}

/** The specimen ID of an experiment: its creation date (UTC) and a descriptor from its name. */
export function deriveSpecimenId(experiment: SourceExperiment, fallbackDate?: string): string {
  const slug = slugify(experiment.name) || `experiment_${slugify(experiment.key) || 'unnamed'}`;
  return `${datePart(experiment.created ?? fallbackDate)}_${slug}`;
}

/**
 * Parses `--map` rules: each `SOURCE=SPECIMEN_ID`, several per argument separated by commas. SOURCE is an
 * experiment's key (MLflow experiment ID, W&B project, TensorBoard run directory's first component) or name.
 */
export function parseMapRules(args: readonly string[]): Map<string, string> {
  const rules = new Map<string, string>();
  for (const arg of args) {
    for (const part of arg.split(',')) {
      const rule = part.trim();
      if (!rule) continue;
      const eq = rule.lastIndexOf('=');
      if (eq <= 0 || eq === rule.length - 1)
        throw new ImportSourceError('--map', `rule ${JSON.stringify(rule)} is not SOURCE=SPECIMEN_ID`);
      rules.set(rule.slice(0, eq).trim(), rule.slice(eq + 1).trim());
    }
  }
  return rules;
}

/** The specimen an experiment goes to: `--specimen`, else a `--map` rule on its key or name, else derived. */
export function specimenFor(
  experiment: SourceExperiment,
  options: { specimen?: string | undefined; map?: ReadonlyMap<string, string> | undefined },
  fallbackDate?: string,
): string {
  if (options.specimen) return options.specimen;
  const mapped = options.map?.get(experiment.key) ?? options.map?.get(experiment.name);
  return mapped ?? deriveSpecimenId(experiment, fallbackDate);
}

/** A metrics table ready for `writeColumnsParquet`: `step`, `wall_time`, one DOUBLE column per metric. */
export interface MetricsTable {
  rows: number;
  columns: ColumnData[];
  /** Metric name → column name, where they differ (reserved names). */
  renamed: Record<string, string>;
}

/**
 * Builds the run's wide metrics table from series logged at different cadences. Rows are keyed by step:
 * a metric missing at a step is null there, so an eval metric logged every N steps keeps exactly its own
 * steps. When a metric has several values at one step (logged twice), the step gets one row per value, in
 * order, so nothing is dropped. `wall_time` is the earliest wall-clock time on the row; a metric whose own
 * times differ from it anywhere also gets a `wall_time.<metric>` column, so every value keeps its time.
 * Returns undefined when there are no values at all.
 */
export function buildMetricsTable(series: readonly Series[]): MetricsTable | undefined {
  // Rows per step: the most values any one metric has at that step.
  const perStep = new Map<number, number>();
  for (const s of series) {
    const counts = new Map<number, number>();
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i]!;
      const c = (counts.get(step) ?? 0) + 1;
      counts.set(step, c);
      if (c > (perStep.get(step) ?? 0)) perStep.set(step, c);
    }
  }
  if (perStep.size === 0) return undefined;
  const steps = [...perStep.keys()].sort((a, b) => a - b);
  const offset = new Map<number, number>();
  let rows = 0;
  for (const step of steps) {
    offset.set(step, rows);
    rows += perStep.get(step)!;
  }
  const stepCol = new Float64Array(rows);
  for (const step of steps) stepCol.fill(step, offset.get(step)!, offset.get(step)! + perStep.get(step)!);

  const rowWall = new Float64Array(rows).fill(Number.NaN);
  const placed: { name: string; values: Float64Array; walls: Float64Array; nulls: Uint8Array }[] = [];
  for (const s of series) {
    const values = new Float64Array(rows);
    const walls = new Float64Array(rows).fill(Number.NaN);
    const nulls = new Uint8Array(rows).fill(1);
    const counts = new Map<number, number>();
    for (let i = 0; i < s.steps.length; i++) {
      const step = s.steps[i]!;
      const k = counts.get(step) ?? 0;
      counts.set(step, k + 1);
      const row = offset.get(step)! + k;
      values[row] = s.values[i]!;
      nulls[row] = 0;
      const w = s.wallTimes[i]!;
      walls[row] = w;
      if (!Number.isNaN(w) && !(rowWall[row]! <= w)) rowWall[row] = w;
    }
    placed.push({ name: s.name, values, walls, nulls });
  }

  const columns: ColumnData[] = [{ name: 'step', type: 'BIGINT', storage: 'f64', values: stepCol }];
  const wallNulls = nullMask(rowWall);
  if (wallNulls === undefined || wallNulls.some((n) => n === 0))
    columns.push({ name: 'wall_time', type: 'DOUBLE', storage: 'f64', values: rowWall, nulls: wallNulls });
  const renamed: Record<string, string> = {};
  const used = new Set(columns.map((c) => c.name));
  const wallColumns: ColumnData[] = [];
  for (const p of placed) {
    let name = RESERVED.has(p.name) ? `metric/${p.name}` : p.name;
    // Two series of one name (possible in hand-made exports) stay apart rather than overwrite each other.
    for (let n = 2; used.has(name); n++) name = `${p.name} (${n})`;
    used.add(name);
    if (name !== p.name) renamed[p.name] = name;
    const nulls = p.nulls.some((n) => n !== 0) ? p.nulls : undefined;
    columns.push({ name, type: 'DOUBLE', storage: 'f64', values: p.values, nulls });
    if (differs(p.walls, rowWall, p.nulls))
      wallColumns.push({
        name: `${WALL_TIME_PREFIX}${name}`,
        type: 'DOUBLE',
        storage: 'f64',
        values: p.walls,
        nulls: nullMask(p.walls),
      });
  }
  return { rows, columns: [...columns, ...wallColumns], renamed };
}

/** A null mask for NaN entries (times the tool did not record), or undefined when there are none. */
function nullMask(values: Float64Array): Uint8Array | undefined {
  let mask: Uint8Array | undefined;
  for (let i = 0; i < values.length; i++) {
    if (Number.isNaN(values[i]!)) {
      mask ??= new Uint8Array(values.length);
      mask[i] = 1;
    }
  }
  return mask;
}

function differs(walls: Float64Array, rowWall: Float64Array, nulls: Uint8Array): boolean {
  for (let i = 0; i < walls.length; i++) {
    if (nulls[i]) continue;
    const w = walls[i]!;
    if (Number.isNaN(w) ? !Number.isNaN(rowWall[i]!) : w !== rowWall[i]) return true;
  }
  return false;
}

/** Milliseconds since the epoch (MLflow, Trackio) → ISO-8601 UTC, or undefined for none. */
export function msToIso(ms: number | bigint | null | undefined): string | undefined {
  if (ms === null || ms === undefined) return undefined;
  const n = Number(ms);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return new Date(n).toISOString();
}

/** Collects series point by point, keyed by metric name, in the order points arrive. */
export class SeriesCollector {
  private readonly byName = new Map<string, { steps: number[]; values: number[]; wallTimes: number[] }>();

  /** Appends one value of `name`. */
  add(name: string, step: number, value: number, wallTime: number): void {
    let s = this.byName.get(name);
    if (!s) {
      s = { steps: [], values: [], wallTimes: [] };
      this.byName.set(name, s);
    }
    s.steps.push(step);
    s.values.push(value);
    s.wallTimes.push(wallTime);
  }

  /** Names seen so far. */
  names(): IterableIterator<string> {
    return this.byName.keys();
  }

  /** The collected series. */
  series(): Series[] {
    return [...this.byName].map(([name, s]) => ({ name, ...s }));
  }
}

/**
 * A histogram series from per-step [limit, count, limit, count, …] lists of varying length, padded with NaN
 * to the widest step so the steps stack into one array.
 */
export function histogramSeries(
  tag: string,
  steps: number[],
  wallTimes: number[],
  pairs: readonly number[][],
  stats?: Float64Array,
): TensorSeries {
  const k = Math.max(0, ...pairs.map((p) => p.length / 2));
  const data = new Float64Array(steps.length * k * 2).fill(Number.NaN);
  for (const [i, p] of pairs.entries()) data.set(p, i * k * 2);
  return { tag, kind: 'histogram', steps, wallTimes, shape: [k, 2], data, ...(stats ? { stats } : {}) };
}
