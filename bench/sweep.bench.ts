/**
 * Sweeps: the cost of one short run (start, log 100 rows of step + 4 metrics, no tensors, seal with
 * hashes, fsync) from TypeScript (`SpecimenStorage`) and from Python (the `specimen_vault` package, whose
 * runs are begun and sealed by one `specimen session`), each against a baseline that writes the same
 * files — running manifest, metrics.parquet, sealed manifest — with plain file calls and fsyncs them, run
 * alternately in the same process. Medians; the absolute times are in the details (targets 3 ms and 5 ms
 * on a quiet machine: an fsync alone costs 2–4 ms on the 2-core test machine).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SpecimenStorage } from '../src/storage/specimen-storage.js';
import { Vault } from '../src/storage/vault.js';
import type { BenchOptions, BenchResult } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');
const SPECIMEN = '2025_01_01_sweep';
const STEPS = 100;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A fresh vault in the temp directory with one specimen. */
export function sweepVault(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  execFileSync(process.execPath, [CLI, 'init', dir], { stdio: 'ignore' });
  execFileSync(
    process.execPath,
    [CLI, 'new', SPECIMEN, '--domain', 'training', '--method', 'fine_tuning', '--vault', dir],
    { stdio: 'ignore' },
  );
  return dir;
}

/** Removes a vault whose sealed files are read-only. */
export function removeVault(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** The plain-fs baseline of one run: the same files written and fsynced one by one, then the directory. */
function plainRun(root: string, i: number, manifest: Uint8Array, metrics: Uint8Array): void {
  const d = path.join(root, `run_${String(i).padStart(6, '0')}`);
  fs.mkdirSync(d);
  for (const [name, data] of [
    ['manifest.msgpack', manifest],
    ['metrics.parquet', metrics],
  ] as const) {
    const fd = fs.openSync(path.join(d, name), 'wx');
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  const tmp = path.join(d, '.tmp-manifest');
  const fd = fs.openSync(tmp, 'wx');
  fs.writeSync(fd, manifest);
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(d, 'manifest.msgpack'));
  const dfd = fs.openSync(d, 'r');
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
}

async function tsRun(vault: Vault, i: number): Promise<string> {
  const storage = await SpecimenStorage.open(SPECIMEN, { vault });
  await storage.startRun({ seeds: { global: i }, config: { lr: 0.001 * (i + 1), width: 64 } });
  const log = storage.metricsWriter();
  for (let step = 0; step < STEPS; step++)
    log.log({ step, loss: 1 / (step + 1 + i), acc: step / STEPS, lr: 0.1, grad_norm: 1.5 });
  await storage.finish({ summary: { final_loss: 1 / (STEPS + i) } });
  return storage.runDir!;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const runs = options.quick ? 30 : 200;
  const results: BenchResult[] = [];

  // TypeScript, alternating with the baseline.
  const dir = sweepVault('sv-bench-sweep-');
  try {
    const vault = await Vault.open(dir);
    const baselineRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-sweep-plain-'));
    const ours: number[] = [];
    const plain: number[] = [];
    let manifest = new Uint8Array();
    let metrics = new Uint8Array();
    try {
      for (let i = 0; i <= runs; i++) {
        const t0 = performance.now();
        const runDir = await tsRun(vault, i);
        const ms = performance.now() - t0;
        if (i === 0) {
          // The first run loads the code; the files it wrote give the baseline its bytes.
          manifest = fs.readFileSync(path.join(runDir, 'manifest.msgpack'));
          metrics = fs.readFileSync(path.join(runDir, 'metrics.parquet'));
          continue;
        }
        ours.push(ms);
        const t1 = performance.now();
        plainRun(baselineRoot, i, manifest, metrics);
        plain.push(performance.now() - t1);
      }
    } finally {
      fs.rmSync(baselineRoot, { recursive: true, force: true });
    }
    const o = median(ours);
    const b = median(plain);
    results.push({
      name: 'sweep.short_run.ts',
      description: `one short run from TypeScript (start, ${STEPS} rows, seal, fsync) vs writing the same files with plain fs + fsync`,
      value: o,
      baseline: b,
      unit: 'ms',
      ratio: o / b,
      target: '≤ 3.0',
      pass: o / b <= 3,
      details: {
        runs,
        ours_min_ms: Math.min(...ours),
        ours_p90_ms: [...ours].sort((x, y) => x - y)[Math.floor(ours.length * 0.9)]!,
        absolute_target_ms: 3,
        absolute_pass: String(o <= 3),
        metrics_bytes: metrics.length,
      },
    });
  } finally {
    removeVault(dir);
  }

  // Python, through the package and one `specimen session`.
  const pyDir = sweepVault('sv-bench-sweep-py-');
  try {
    const python = process.env.SPECIMEN_BENCH_PYTHON ?? 'python3';
    const r = spawnSync(
      python,
      [
        path.join(import.meta.dirname, 'peers', 'specimen_sweep.py'),
        pyDir,
        SPECIMEN,
        String(runs),
        String(STEPS),
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          PYTHONPATH: path.join(ROOT, 'python'),
          SPECIMEN_CLI: `${process.execPath} ${CLI}`,
        },
      },
    );
    if (r.status !== 0) throw new Error(`sweep: python exited ${r.status}: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as { first_ms: number; ours_ms: number[]; plain_ms: number[] };
    const o = median(out.ours_ms);
    const b = median(out.plain_ms);
    results.push({
      name: 'sweep.short_run.python',
      description: `one short run from Python (sv.init, ${STEPS} × sv.log, finish) vs the same files with plain os calls + fsync`,
      value: o,
      baseline: b,
      unit: 'ms',
      ratio: o / b,
      target: '≤ 3.0',
      pass: o / b <= 3,
      details: {
        runs,
        ours_min_ms: Math.min(...out.ours_ms),
        first_run_ms: out.first_ms,
        absolute_target_ms: 5,
        absolute_pass: String(o <= 5),
      },
    });
  } finally {
    removeVault(pyDir);
  }
  return results;
}
