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
import path from 'node:path';
import { type BenchOptions, type BenchResult, benchPython } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const rows = options.quick ? 100_000 : 500_000;
  const py = benchPython();
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
