/**
 * Python logging benchmark: rows/s of `sv.log` with five scalar columns (python/bench/log_bench.py, in the
 * checkout's .venv*, or $SPECIMEN_TEST_PYTHON, else python3) against the same JSON lines written with
 * `json.dumps` + `write` in the same process (target ≥ 1.0×). The absolute figure is in the details
 * (rows_per_s; the goal is ≥ 250,000 rows/s on CPython 3.11).
 *
 * @example
 * node --import tsx bench/run.ts --only python
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { BenchOptions, BenchResult } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

function python(): string {
  if (process.env.SPECIMEN_TEST_PYTHON) return process.env.SPECIMEN_TEST_PYTHON;
  const venv = fs
    .readdirSync(ROOT)
    .filter((d) => d.startsWith('.venv'))
    .sort()
    .map((d) => path.join(ROOT, d, 'bin', 'python'))
    .find((p) => fs.existsSync(p));
  return venv ?? 'python3';
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const rows = options.quick ? 100_000 : 500_000;
  const py = python();
  const r = spawnSync(py, [path.join(ROOT, 'python', 'bench', 'log_bench.py'), '--rows', String(rows)], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`python bench: ${py} exited ${r.status}: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as {
    rows_per_s: number;
    baseline_rows_per_s: number;
    ratio: number;
    python: string;
  };
  return [
    {
      name: `python.log.${rows / 1000}k`,
      description: 'rows/s of sv.log (5 scalar columns) vs json.dumps + write of the same lines',
      value: out.rows_per_s,
      baseline: out.baseline_rows_per_s,
      unit: 'rows/s',
      ratio: out.ratio,
      target: '≥ 1.0',
      pass: out.ratio >= 1.0,
      details: { rows_per_s: Math.round(out.rows_per_s), python: out.python, rows },
    },
  ];
}
