/**
 * The data a standalone HTML report embeds, shared by the writer (src/report/build-report.ts) and the
 * report's client script (web/src/report/), which draws it. Plain JSON only: numbers, strings, arrays.
 *
 * @example
 * const data: ReportData = await buildReportData(vault, { refs: ['2025_01_02_grok'] })
 * data.items.filter((i) => i.kind === 'chart').length
 */

/** Points of one series embedded as is; a longer series is downsampled (min/max per bucket) to this many buckets. */
export const REPORT_FULL_POINTS = 20_000;
export const REPORT_BUCKETS = 5_000;
/**
 * Points embedded in one report in all: with many series the per-series limits shrink so that the series
 * together stay within it (never below REPORT_MIN_POINTS per series), keeping a report a few tens of MB.
 */
export const REPORT_TOTAL_POINTS = 2_000_000;
export const REPORT_MIN_POINTS = 1_000;

/** The per-series limits of a report with `series` series (see REPORT_TOTAL_POINTS). */
export function reportLimits(series: number): { fullPoints: number; buckets: number } {
  const share = Math.floor(REPORT_TOTAL_POINTS / Math.max(1, series));
  const fullPoints = Math.max(REPORT_MIN_POINTS, Math.min(REPORT_FULL_POINTS, share));
  return { fullPoints, buckets: Math.min(REPORT_BUCKETS, Math.floor(fullPoints / 4)) };
}

/** A run in the report, with everything its provenance section shows. Colours are given by run order. */
export interface ReportRun {
  /** `<specimen_id>/<run_id>`. */
  ref: string;
  specimenId: string;
  runId: string;
  status: string;
  started: string | null;
  durationS: number | null;
  command: string | null;
  exitCode: number | null;
  seed: string | null;
  config: Record<string, unknown>;
  summary: Record<string, unknown>;
  git: { commit: string | null; branch: string | null; dirty: boolean };
  /** Host and runtime facts recorded at run time (`host`, `runtime`, dependency fingerprints). */
  environment: Record<string, unknown>;
  reproduces: string | null;
  verdict: string | null;
  supersededBy: { by: string; reason: string | null } | null;
  failure: string | null;
  notes: string | null;
  /** Metric summaries: column, last, min, step of min, max, step of max, mean, count. */
  metrics: {
    column: string;
    last: number | null;
    min: number | null;
    stepOfMin: number | null;
    max: number | null;
    stepOfMax: number | null;
    mean: number | null;
    count: number;
  }[];
}

/** A specimen in the report. */
export interface ReportSpecimen {
  id: string;
  domain: string | null;
  method: string | null;
  model: string | null;
  status: string | null;
  tags: string[];
  description: string | null;
  /** Lab-notebook fields present in the manifest (hypothesis, expected results, conclusion). */
  lab: { field: string; text: string }[];
  /** The field notes as written (Markdown); rendered by the client's one field-notes renderer. */
  fieldNotes: string | null;
}

/** One run's series of a chart. */
export interface ReportSeries {
  run: string;
  label: string;
  steps: number[];
  values: (number | null)[];
  /** Points the run has for this metric. */
  total: number;
  /** True when more than `limits.fullPoints` points were downsampled to `limits.buckets` min/max buckets. */
  downsampled: boolean;
}

export type ReportItem =
  | { kind: 'text'; title: string | null; markdown: string }
  | {
      kind: 'chart';
      title: string;
      metric: string;
      x: string;
      log: boolean;
      series: ReportSeries[];
      /** Turn markers (catalog turns) per run where one was detected. */
      markers: { run: string; step: number; label: string }[];
    }
  | {
      kind: 'table';
      title: string;
      sql: string | null;
      columns: string[];
      rows: unknown[][];
      truncated: boolean;
    }
  | {
      kind: 'tensor';
      title: string;
      run: string;
      tensor: string;
      shape: number[];
      dtype: string;
      /** The selection shown, e.g. `[0, :, :]`. */
      slice: string;
      width: number;
      height: number;
      min: number | null;
      max: number | null;
      /** width × height bytes, row-major, 0–254 scaled from min..max and 255 for non-finite; base64. */
      pixels: string;
    }
  /** The runs table; `refs` keeps only those runs (a view's table of chosen runs). */
  | { kind: 'runs'; refs?: string[] }
  | { kind: 'summaries' }
  | { kind: 'config-diff' }
  | { kind: 'provenance' }
  | { kind: 'notes' };

/** Everything the report shows. */
export interface ReportData {
  title: string;
  /** How the report was asked for (no time of writing: the same vault and arguments give the same bytes). */
  source: { refs: string[]; query: string | null; view: string | null };
  limits: { fullPoints: number; buckets: number };
  specimens: ReportSpecimen[];
  runs: ReportRun[];
  items: ReportItem[];
}
