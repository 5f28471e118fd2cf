/**
 * Sweeps: the cost of one short run (start, log 100 rows of step + 4 metrics, no tensors, seal with
 * hashes) from TypeScript (`SpecimenStorage`) and from Python (the `specimen_vault` package, whose runs
 * are begun and sealed by one `specimen session`), in both durability modes, alternating in the same
 * process with two plain-fs baselines that write the same files — running manifest, metrics.parquet,
 * sealed manifest: one fsyncs every file and the directory (the fair comparison for `run` mode, durable
 * when sealed), one does not fsync at all (the fair comparison for `batch` mode, which fsyncs in the
 * background once a second — as the trackers users compare us with never do). Medians; the absolute
 * per-run times are in the details (targets 3 ms from TypeScript, 5 ms from Python, in batch mode).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { settleDirSyncs } from '../src/format/atomic-write.js';
import { type Durability, flushGroupCommits } from '../src/storage/durability.js';
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

/**
 * The plain-fs baseline of one run: the same files written one by one, then the sealed manifest by temp
 * file + rename; with `sync`, each fsynced and then the directory.
 */
function plainRun(root: string, i: number, manifest: Uint8Array, metrics: Uint8Array, sync: boolean): void {
  const d = path.join(root, `run_${String(i).padStart(6, '0')}`);
  fs.mkdirSync(d);
  for (const [name, data] of [
    ['manifest.msgpack', manifest],
    ['metrics.parquet', metrics],
  ] as const) {
    const fd = fs.openSync(path.join(d, name), 'wx');
    fs.writeSync(fd, data);
    if (sync) fs.fsyncSync(fd);
    fs.closeSync(fd);
  }
  const tmp = path.join(d, '.tmp-manifest');
  const fd = fs.openSync(tmp, 'wx');
  fs.writeSync(fd, manifest);
  if (sync) fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, path.join(d, 'manifest.msgpack'));
  if (!sync) return;
  const dfd = fs.openSync(d, 'r');
  fs.fsyncSync(dfd);
  fs.closeSync(dfd);
}

async function tsRun(vault: Vault, i: number, durability: Durability): Promise<string> {
  const storage = await SpecimenStorage.open(SPECIMEN, { vault, durability });
  await storage.startRun({ seeds: { global: i }, config: { lr: 0.001 * (i + 1), width: 64 } });
  const log = storage.metricsWriter();
  for (let step = 0; step < STEPS; step++)
    log.log({ step, loss: 1 / (step + 1 + i), acc: step / STEPS, lr: 0.1, grad_norm: 1.5 });
  await storage.finish({ summary: { final_loss: 1 / (STEPS + i) } });
  return storage.runDir!;
}

function p90(xs: readonly number[]): number {
  return [...xs].sort((x, y) => x - y)[Math.floor(xs.length * 0.9)]!;
}

/** The two results of one language: `run` mode against the fsync baseline, `batch` against the plain one. */
function results(
  lang: 'ts' | 'python',
  what: string,
  m: { run: number[]; batch: number[]; plainSync: number[]; plain: number[] },
  absoluteMs: number,
  details: Record<string, number | string>,
): BenchResult[] {
  const run = median(m.run);
  const batch = median(m.batch);
  const sync = median(m.plainSync);
  const plain = median(m.plain);
  return [
    {
      name: `sweep.short_run.${lang}`,
      description: `${what}, durability "run" (seal fsyncs) vs the same files with plain fs + fsync`,
      value: run,
      baseline: sync,
      unit: 'ms',
      ratio: run / sync,
      target: '≤ 3.0',
      pass: run / sync <= 3,
      details: { ...details, ours_min_ms: Math.min(...m.run), ours_p90_ms: p90(m.run) },
    },
    {
      name: `sweep.short_run.${lang}.batch`,
      description: `${what}, durability "batch" (group commit) vs the same files with plain fs, no fsync`,
      value: batch,
      baseline: plain,
      unit: 'ms',
      ratio: batch / plain,
      // Judged by the absolute time: the plain baseline without fsync is a few system calls.
      target: `absolute ≤ ${absoluteMs} ms`,
      pass: batch <= absoluteMs,
      details: {
        ...details,
        ours_min_ms: Math.min(...m.batch),
        ours_p90_ms: p90(m.batch),
        vs_fsync_baseline_ratio: batch / sync,
        absolute_target_ms: absoluteMs,
        absolute_pass: String(batch <= absoluteMs),
      },
    },
  ];
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const runs = options.quick ? 30 : 200;
  const out: BenchResult[] = [];

  // TypeScript, in this process.
  const dir = sweepVault('sv-bench-sweep-');
  try {
    const vault = await Vault.open(dir);
    const baselineRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-sweep-plain-'));
    const m = {
      run: [] as number[],
      batch: [] as number[],
      plainSync: [] as number[],
      plain: [] as number[],
    };
    let manifest = new Uint8Array();
    let metrics = new Uint8Array();
    const time = async (f: () => unknown): Promise<number> => {
      const t0 = performance.now();
      await f();
      return performance.now() - t0;
    };
    try {
      // The first runs load the code; the files they write give the baselines their bytes.
      const first = await tsRun(vault, 0, 'run');
      await tsRun(vault, 0, 'batch');
      manifest = fs.readFileSync(path.join(first, 'manifest.msgpack'));
      metrics = fs.readFileSync(path.join(first, 'metrics.parquet'));
      // One mode after the other, each alternating with its baseline run by run: a batch's background
      // flush then weighs on the batch runs and their baseline only, and run mode's directory fsyncs
      // (started, not awaited, by each seal) on run mode's.
      for (let i = 1; i <= runs; i++) {
        m.run.push(await time(() => tsRun(vault, i, 'run')));
        m.plainSync.push(await time(() => plainRun(baselineRoot, 2 * i, manifest, metrics, true)));
      }
      await settleDirSyncs();
      for (let i = 1; i <= runs; i++) {
        m.batch.push(await time(() => tsRun(vault, i, 'batch')));
        m.plain.push(await time(() => plainRun(baselineRoot, 2 * i + 1, manifest, metrics, false)));
      }
      await flushGroupCommits();
    } finally {
      fs.rmSync(baselineRoot, { recursive: true, force: true });
    }
    out.push(
      ...results('ts', `one short run from TypeScript (start, ${STEPS} rows, seal)`, m, 3, {
        runs,
        metrics_bytes: metrics.length,
      }),
    );
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
    const py = JSON.parse(r.stdout) as {
      first_ms: number;
      run_ms: number[];
      batch_ms: number[];
      plain_sync_ms: number[];
      plain_ms: number[];
      batch_no_system_ms: number[];
    };
    out.push(
      ...results(
        'python',
        `one short run from Python (sv.init, ${STEPS} × sv.log, finish)`,
        { run: py.run_ms, batch: py.batch_ms, plainSync: py.plain_sync_ms, plain: py.plain_ms },
        5,
        { runs, first_run_ms: py.first_ms, batch_without_system_metrics_ms: median(py.batch_no_system_ms) },
      ),
    );
  } finally {
    removeVault(pyDir);
  }
  return out;
}
