/**
 * Benchmark harness. Every benchmark measures its own baseline in the same process run (raw DuckDB, raw
 * file I/O) and reports a ratio against it, because machines here are noisy; absolute times are printed
 * for context only.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BenchResult {
  /** Short name, e.g. "metrics.stream.10M". */
  name: string;
  /** What the ratio means, e.g. "rows/s of log() vs raw DuckDB data-chunk path". */
  description: string;
  /** The measured figure for our code (in `unit`). */
  value: number;
  /** The baseline figure measured in the same run (in `unit`). */
  baseline: number;
  unit: string;
  /** value/baseline (or baseline/value for "lower is better" units, so that higher is always better when `higherIsBetter`). */
  ratio: number;
  /** The target the ratio must meet, as text ("≥ 0.70", "≤ 2.0"). */
  target: string;
  pass: boolean;
  /** Extra figures (peak RSS, bytes, row counts…). */
  details?: Record<string, number | string>;
}

export interface BenchOptions {
  /** Smaller sizes for a quick smoke run (`npm run bench -- --quick`). */
  quick: boolean;
  /** `--json`: a benchmark with a table of its own may also write it into bench/results/. */
  json?: boolean;
  /** `--peers=a,b`: the peers to measure in peers.bench.ts (all when empty). */
  peers?: string[];
}

export type BenchModule = { run(options: BenchOptions): Promise<BenchResult[]> };

/** Wall time of `fn` in milliseconds. */
export async function time<T>(fn: () => Promise<T> | T): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
}

/** Best (minimum) of `n` timings, after an optional warm-up. */
export async function bestOf(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const { ms } = await time(fn);
    best = Math.min(best, ms);
  }
  return best;
}

/** Tracks peak RSS by sampling every few milliseconds while `fn` runs. */
export async function withPeakRss<T>(fn: () => Promise<T>): Promise<{ result: T; peakRssBytes: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const result = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { result, peakRssBytes: peak };
  } finally {
    clearInterval(timer);
  }
}

/**
 * The Python the Python-side benchmarks run: $SPECIMEN_TEST_PYTHON, else the first `.venv*` in the checkout
 * (what `.ci/run` creates), else `python3` on PATH.
 */
export function benchPython(): string {
  if (process.env.SPECIMEN_TEST_PYTHON) return process.env.SPECIMEN_TEST_PYTHON;
  const root = path.resolve(import.meta.dirname, '..');
  const venv = fs
    .readdirSync(root)
    .filter((d) => d.startsWith('.venv'))
    .sort()
    .map((d) => path.join(root, d, 'bin', 'python'))
    .find((p) => fs.existsSync(p));
  return venv ?? 'python3';
}

/** The two conditions a margin that must hold on a loaded machine is measured under. */
export const LOADS = ['idle', 'busy'] as const;
export type Load = (typeof LOADS)[number];

/** A result name for `load`: the idle figure keeps the plain name, the busy one gains `.busy`. */
export function loadName(name: string, load: Load): string {
  return load === 'idle' ? name : `${name}.busy`;
}

/**
 * Runs `fn` with the machine's other core kept busy (`load` 'busy') or not ('idle'). The load is a child
 * Node process spinning on a fixed floating-point job, pinned to no core, at normal priority: the scheduler
 * shares the cores as it would with any other busy program. It has started spinning before `fn` begins and
 * is stopped (and reaped) after `fn` ends, so only the measured part runs under it.
 */
export async function underLoad<T>(load: Load, fn: () => Promise<T> | T): Promise<T> {
  if (load === 'idle') return await fn();
  const spinner = spawn(
    process.execPath,
    [
      '-e',
      // Tell the parent once the loop is running; then spin until killed.
      "process.stdout.write('spinning\\n'); let x = 0; for (;;) { for (let i = 0; i < 1e6; i++) x += Math.sqrt(i); if (x < 0) break; }",
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => spinner.once('exit', () => resolve()));
  try {
    await new Promise<void>((resolve, reject) => {
      spinner.stdout!.once('data', () => resolve());
      spinner.once('error', reject);
      spinner.once('exit', (code) => reject(new Error(`bench: the busy-core process exited ${code}`)));
    });
    return await fn();
  } finally {
    spinner.kill('SIGKILL');
    await exited;
  }
}
