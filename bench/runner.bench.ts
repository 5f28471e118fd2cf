/**
 * Runner benchmarks.
 * - Overhead: `specimen run <ID> -- true` against running `true` directly (median of N each, same run).
 * - JSON lines → Parquet: rows/s converting step + 4 floats (median of 3 conversions, each in a fresh process
 *   as `specimen run` does it), against DuckDB's own read_json → Parquet COPY; target ≥ 1.2 M rows/s, idle
 *   (`runner.jsonl_to_parquet`) and with the other core busy (`runner.jsonl_to_parquet.busy`), the
 *   conversion and DuckDB's COPY alternating under the same load.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BenchOptions, type BenchResult, LOADS, loadName, time, underLoad } from './harness.js';

const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function wall(cmd: string, args: string[], cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
  return performance.now() - t0;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-runner-'));
  execFileSync(process.execPath, [CLI, 'init', dir], { stdio: 'ignore' });
  execFileSync(
    process.execPath,
    [CLI, 'new', '2025_01_01_noop', '--domain', 'training', '--method', 'fine_tuning', '--vault', dir],
    {
      stdio: 'ignore',
    },
  );
  const n = options.quick ? 5 : 15;
  const direct: number[] = [];
  const viaRunner: number[] = [];
  wall(process.execPath, [CLI, 'run', '2025_01_01_noop', '--vault', dir, '--', 'true'], dir); // warm the file cache
  for (let i = 0; i < n; i++) {
    direct.push(wall('true', [], dir));
    viaRunner.push(
      wall(process.execPath, [CLI, 'run', '2025_01_01_noop', '--vault', dir, '--', 'true'], dir),
    );
  }
  const d = median(direct);
  const r = median(viaRunner);
  const results: BenchResult[] = [
    {
      name: 'runner.overhead',
      description: '`specimen run -- true` minus running `true` directly (median wall time)',
      value: r - d,
      baseline: 200,
      unit: 'ms',
      ratio: r / Math.max(d, 0.001),
      target: 'difference ≤ 200 ms',
      pass: r - d <= 200,
      details: {
        specimen_run_ms: r,
        direct_ms: d,
        node_e_0_ms: median(Array.from({ length: 5 }, () => wall(process.execPath, ['-e', '0'], dir))),
      },
    },
  ];

  // JSON lines → Parquet. The conversion runs where `specimen run` runs it: once, in a process of its own
  // (cold code, a small heap), not in this one, which holds the million generated lines.
  const rows = options.quick ? 200_000 : 1_000_000;
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-jsonl-'));
  const source = path.join(os.tmpdir(), 'sv-bench-baseline.jsonl');
  fs.writeFileSync(source, jsonLines(rows));
  const convert = path.resolve(import.meta.dirname, '..', 'dist', 'runner', 'convert.js');
  const child = path.join(runDir, '..', `sv-bench-convert-${process.pid}.mjs`);
  fs.writeFileSync(
    child,
    `const { convertMetricsJsonl } = await import(${JSON.stringify(pathToFileURL(convert).href)});\n` +
      `const t0 = performance.now();\nconst r = await convertMetricsJsonl(process.argv[2], 'bench');\n` +
      `process.stdout.write(JSON.stringify({ ms: performance.now() - t0, rows: r.rows }));\n`,
  );
  const { openMemory } = await import('../dist/duckdb/node-api.js');
  const target = 1_200_000;
  for (const load of LOADS) {
    const times: number[] = [];
    const baseTimes: number[] = [];
    for (let i = 0; i < (options.quick ? 1 : 3); i++) {
      fs.copyFileSync(source, path.join(runDir, 'metrics.jsonl'));
      fs.rmSync(path.join(runDir, 'metrics.parquet'), { force: true });
      const out = await underLoad(load, () =>
        execFileSync(process.execPath, [child, runDir], { encoding: 'utf8' }),
      );
      const r = JSON.parse(out) as { ms: number; rows: number };
      if (r.rows !== rows) throw new Error(`converted ${r.rows} rows, expected ${rows}`);
      times.push(r.ms);
      const db = await openMemory();
      try {
        const base = await underLoad(load, () =>
          time(() =>
            db.connection.run(
              `COPY (SELECT * FROM read_json('${source}', format = 'newline_delimited')) TO '${path.join(os.tmpdir(), 'sv-bench-baseline.parquet')}' (FORMAT parquet)`,
            ),
          ),
        );
        baseTimes.push(base.ms);
      } finally {
        db.close();
      }
    }
    const oursMs = median(times);
    const baseMs = median(baseTimes);
    const ourRate = rows / (oursMs / 1000);
    const baseRate = rows / (baseMs / 1000);
    results.push({
      name: loadName('runner.jsonl_to_parquet', load),
      description:
        'metrics.jsonl (step + 4 floats) → metrics.parquet rows/s; baseline: DuckDB read_json COPY (no per-line error reporting)' +
        (load === 'busy' ? '; both with the other core busy' : '; idle'),
      value: ourRate,
      baseline: baseRate,
      unit: 'rows/s',
      ratio: ourRate / baseRate,
      target: '≥ 1,200,000 rows/s',
      pass: ourRate >= target,
      details: {
        rows,
        ours_ms: oursMs,
        ours_runs_ms: times.map((t) => Math.round(t)).join('/'),
        duckdb_ms: baseMs,
      },
    });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.rmSync(child, { force: true });
  return results;
}

/** `rows` JSON lines of step + 4 floats, as a protocol logging every step would write them. */
function jsonLines(rows: number): string {
  const lines: string[] = [];
  for (let i = 0; i < rows; i++)
    lines.push(
      JSON.stringify({
        step: i,
        loss: 1 / (i + 1),
        acc: i / rows,
        lr: 0.001 * Math.cos(i / 1000),
        grad_norm: Math.sin(i) + 2,
      }),
    );
  return `${lines.join('\n')}\n`;
}
