/**
 * Import benchmark: `specimen import mlflow` of a tracking database of N runs × M steps (two metrics, an
 * eval one every 10 steps) against MLflow's own export of the same data — `search_runs` plus
 * `get_metric_history` for every metric of every run — timed in the same run. The ratio is MLflow's export
 * time over ours (higher is better): we read the same database and also write, seal and hash every run.
 * The database is written by MLflow (scripts/import-fixtures/bench_mlflow.py) from `.venv-import`, and kept
 * in the temporary directory between runs; without the venv the benchmark says so and is skipped.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importRuns } from '../src/import/importer.js';
import { Vault } from '../src/storage/vault.js';
import { type BenchOptions, type BenchResult, time } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const PYTHON = process.env.SPECIMEN_IMPORT_PYTHON ?? path.join(ROOT, '.venv-import', 'bin', 'python');
const SCRIPT = path.join(ROOT, 'scripts', 'import-fixtures', 'bench_mlflow.py');

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (!fs.existsSync(PYTHON)) {
    console.log(`skipped: no ${PYTHON} (create it with scripts/import-fixtures/generate.sh)`);
    return [];
  }
  const runs = options.quick ? 50 : 1000;
  const steps = options.quick ? 200 : 1000;
  const dir = path.join(os.tmpdir(), `specimen-bench-mlflow-${runs}x${steps}`);
  const g = await time(() =>
    execFileSync(PYTHON, [SCRIPT, 'generate', dir, String(runs), String(steps)], { stdio: 'inherit' }),
  );
  console.log(
    `MLflow database of ${runs} runs × ${steps} steps ready in ${(g.ms / 1000).toFixed(1)} s (${dir})`,
  );
  const db = path.join(dir, 'mlflow.db');

  const baseline = JSON.parse(
    execFileSync(PYTHON, [SCRIPT, 'export', db], { encoding: 'utf8' }).trim().split('\n').at(-1)!,
  ) as {
    seconds: number;
    runs: number;
    points: number;
  };
  const vaultDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-import-'));
  const vault = await Vault.init(vaultDir);
  const ours = await time(() => importRuns(vault, 'mlflow', db));
  const summary = ours.result;
  const imported = summary.runs.filter((r) => r.action === 'created').length;
  if (imported !== baseline.runs || summary.problems.length > 0)
    throw new Error(
      `import bench: imported ${imported} of ${baseline.runs} runs, ${summary.problems.length} problem(s)`,
    );
  fs.rmSync(vaultDir, { recursive: true, force: true });
  const oursS = ours.ms / 1000;
  return [
    {
      name: `import.mlflow.${runs}x${steps}`,
      description: `specimen import mlflow of ${runs} runs × ${steps} steps vs MLflow's search_runs + get_metric_history export`,
      value: oursS,
      baseline: baseline.seconds,
      unit: 's',
      ratio: baseline.seconds / oursS,
      target: '≥ 1.0',
      pass: baseline.seconds / oursS >= 1,
      details: { runs: imported, metric_points: baseline.points, rows: summary.rows },
    },
  ];
}
