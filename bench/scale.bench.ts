/**
 * 100,000-run vault benchmarks: a generated vault of 20,000 specimens × 5 sealed runs (2,000 × 5 with
 * --quick), each run a 200-row metrics file (step, loss, acc, lr, run_id) with a manifest as sealing writes
 * it. Each figure is a ratio against a baseline measured in the same run:
 *
 * - cold `index` vs the bare loop that lists the same directories and reads and decodes the same manifests
 *   and Parquet footers (target ≤ 2.5×), idle and with the other core busy;
 * - incremental index after one specimen gained a run vs the cold index (target ≤ 2 %);
 * - `min(value)` per run for metric 'loss' over the `metrics` view vs raw DuckDB `read_parquet` over the
 *   same files (target ≤ 1.2×);
 * - in Chromium against `specimen serve` (a child process): the catalog page's first row vs
 *   `GET /api/catalog` alone, and the runs explorer's first row vs its first `GET /api/explorer` page alone
 *   (targets ≤ 3×);
 * - the resident memory of that `specimen serve` after both pages were loaded (VmRSS and its peak VmHWM
 *   from /proc; target < 500 MB).
 *
 * The generator writes the real format without running 100,000 protocols: DuckDB writes one Parquet file
 * per (variant, run slot) — 8 variants × 5 slots — with its summaries; every run copies the template of its
 * slot and variant and gets its own manifest (run ID, seeds, config, the template's hash and summaries).
 * A sample of specimens is checked with `specimen verify`. The vault lives in os.tmpdir() and is deleted
 * after measuring. The manifests, the bare loop and the index and query measurements are shared with the
 * catalog bench (generated-vault.ts). Imports the built library and runs the built CLI: `npm run build` first.
 *
 * @example
 * npm run build && nice -n 15 node --expose-gc --import tsx bench/run.ts --only scale --quick
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { chromium } from 'playwright-core';
import { encodeManifest } from '../dist/format/msgpack.js';
import type { RunningServer } from '../dist/server/index.js';
import {
  addRun,
  coldIndexResults,
  type IndexFigures,
  indexFigures,
  type MetricsFileFacts,
  metricQueryFigure,
  metricSummaries,
  runId,
  runManifest,
  specimenManifest,
} from './generated-vault.js';
import type { BenchOptions, BenchResult } from './harness.js';
import { MARKS_SCRIPT } from './page-marks.js';
import { catalogBench } from './web.bench.js';
import { explorerBench } from './workbench.bench.js';

const RUNS_PER_SPECIMEN = 5;
const ROWS_PER_RUN = 200;
const VARIANTS = 8;
const VERIFY_SAMPLE = 20;
const RSS_LIMIT = 500 * 1024 * 1024;
const CHROMIUM = '/usr/bin/chromium';
const CLI = path.resolve(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (!fs.existsSync(CLI)) throw new Error('scale bench: run `npm run build` first');
  const specimens = options.quick ? 2_000 : 20_000;
  const runs = specimens * RUNS_PER_SPECIMEN;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-scale-'));
  try {
    const generated = await generateScaleVault(root, specimens);
    verifySample(root, specimens);
    const index = await indexFigures(root, {
      cold: 2,
      incremental: 3,
      addRun: (i) => addRun(root, specimenId(Math.floor(specimens / 2)), i),
    });
    const results = indexResults(index, specimens, generated);
    const query = await metricQueryFigure(root, { repeats: 3, groups: runs });
    results.push({
      name: `scale.query.metric.${runs}`,
      description:
        "min(value) per run for metric 'loss' over the metrics view (VaultQuery, Arrow) vs raw DuckDB read_parquet with a glob",
      value: query.oursMs,
      baseline: query.rawMs,
      unit: 'ms',
      ratio: query.oursMs / query.rawMs,
      target: '≤ 1.2',
      pass: query.oursMs / query.rawMs <= 1.2,
    });
    results.push(...(await serveBench(root, specimens, runs)));
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function indexResults(
  index: IndexFigures,
  specimens: number,
  generated: { ms: number; bytes: number },
): BenchResult[] {
  return [
    ...coldIndexResults(
      index,
      `scale.index.cold.${index.runs}`,
      `${specimens} specimens × ${RUNS_PER_SPECIMEN} runs`,
      { catalogBytes: index.catalogBytes, generateMs: generated.ms, vaultBytes: generated.bytes },
    ),
    {
      name: `scale.index.incremental.${index.runs}`,
      description: 'incremental index after one specimen gained a run vs the cold index',
      value: index.incrementalMs,
      baseline: index.coldMs,
      unit: 'ms',
      ratio: index.incrementalMs / index.coldMs,
      target: '≤ 0.02',
      pass: index.incrementalMs / index.coldMs <= 0.02,
      details: { runsReread: index.runsReread },
    },
  ];
}

/** `specimen serve` as a child process, both pages in Chromium, then the child's resident memory. */
export async function serveBench(root: string, specimens: number, runs: number): Promise<BenchResult[]> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-watch', '--vault', root], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  try {
    const url = await listening(child);
    const rssStart = procMemory(child.pid!);
    const server = { url } as RunningServer;
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(MARKS_SCRIPT);
    const catalog = await catalogBench(page, server, { specimens, steps: 0, shape: [0, 0, 0] });
    catalog.name = `scale.web.catalog.${specimens}`;
    const explorer = await explorerBench(page, server, runs, 0);
    explorer.name = `scale.web.explorer.${runs}`;
    const mem = procMemory(child.pid!);
    return [
      catalog,
      explorer,
      {
        name: `scale.serve.rss.${runs}`,
        description: `resident memory of specimen serve over ${runs} runs after the catalog and explorer pages loaded vs 500 MB`,
        value: mem.rss / 2 ** 20,
        baseline: RSS_LIMIT / 2 ** 20,
        unit: 'MB',
        ratio: mem.rss / RSS_LIMIT,
        target: '< 1.0',
        pass: mem.rss < RSS_LIMIT && mem.hwm < RSS_LIMIT,
        details: { peakRssMB: mem.hwm / 2 ** 20, rssAtStartMB: rssStart.rss / 2 ** 20 },
      },
    ];
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** Resolves the URL `specimen serve` prints once it listens. */
function listening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`scale bench: specimen serve exited ${code}: ${err}`)));
  });
}

/** VmRSS and VmHWM of a process, in bytes (Linux /proc). */
function procMemory(pid: number): { rss: number; hwm: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** Checks a spread of specimens with the CLI's `verify` (hashes recomputed from the files). */
function verifySample(root: string, specimens: number): void {
  const ids = Array.from({ length: VERIFY_SAMPLE }, (_, k) =>
    specimenId(Math.floor((k * specimens) / VERIFY_SAMPLE)),
  );
  const out = execFileSync(process.execPath, [CLI, 'verify', ...ids, '--json', '--vault', root], {
    encoding: 'utf8',
  });
  const report = JSON.parse(out) as { ok: boolean; runs: { result: string }[] };
  const verified = report.runs.filter((r) => r.result === 'verified').length;
  if (!report.ok || verified !== VERIFY_SAMPLE * RUNS_PER_SPECIMEN)
    throw new Error(`scale bench: specimen verify found ${verified} verified runs: ${out.slice(0, 2000)}`);
}

function specimenId(s: number): string {
  return `2025_01_01_scale_${String(s).padStart(5, '0')}`;
}

interface Template extends MetricsFileFacts {
  file: string;
}

/**
 * Writes the vault: templates by DuckDB, then every specimen's folders, copies and manifests. Exported for
 * profiling scripts that want the same vault.
 */
export async function generateScaleVault(
  root: string,
  specimens: number,
): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  fs.mkdirSync(path.join(root, 'specimens'));
  fs.writeFileSync(
    path.join(root, 'specimen-vault.json'),
    JSON.stringify({ format_version: 1, name: 'scale-bench' }),
  );
  const scratch = path.join(root, '.templates');
  fs.mkdirSync(scratch);
  const templates = new Map<string, Template>();
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  try {
    await con.run(`CREATE TEMP TABLE gen AS
      SELECT v, r, i AS step,
        2.0 * exp(-i / 60.0) + 0.05 + (hash(v, r, i) % 1000) / 100000.0 AS loss,
        1.0 - 0.9 * exp(-i / 50.0) + (hash(v, r, i, 1) % 1000) / 200000.0 AS acc,
        0.001 * (1.0 - i / ${ROWS_PER_RUN}.0) AS lr,
        '20250101_12000' || r::VARCHAR AS run_id
      FROM range(${VARIANTS}) a(v), range(${RUNS_PER_SPECIMEN}) b(r), range(${ROWS_PER_RUN}) c(i)`);
    const summaries = await metricSummaries(con, 'gen', ['v', 'r']);
    for (let v = 0; v < VARIANTS; v++) {
      for (let r = 0; r < RUNS_PER_SPECIMEN; r++) {
        const file = path.join(scratch, `${v}_${r}.parquet`);
        await con.run(
          `COPY (SELECT step, loss, acc, lr, run_id FROM gen WHERE v = ${v} AND r = ${r} ORDER BY step) TO '${file}' (FORMAT parquet, COMPRESSION zstd)`,
        );
        const bytes = fs.readFileSync(file);
        templates.set(`${v}/${r}`, {
          file,
          bytes: bytes.length,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          rows: ROWS_PER_RUN,
          summary: summaries.get(`${v}/${r}`) ?? [],
        });
      }
    }
  } finally {
    con.closeSync();
    db.closeSync();
  }
  let bytes = 0;
  for (let s = 0; s < specimens; s++) {
    const sid = specimenId(s);
    const dir = path.join(root, 'specimens', sid);
    fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
    const specimen = encodeManifest(specimenManifest(sid, s, 'hyperparameter_sweep', 'scale'));
    fs.writeFileSync(path.join(dir, 'manifest.msgpack'), specimen);
    bytes += specimen.length;
    for (let r = 0; r < RUNS_PER_SPECIMEN; r++) {
      const t = templates.get(`${s % VARIANTS}/${r}`)!;
      const runDir = path.join(dir, 'runs', runId(r));
      fs.mkdirSync(runDir);
      fs.copyFileSync(t.file, path.join(runDir, 'metrics.parquet'));
      const config = { lr: 0.001 * (1 + (s % 5)), batch_size: 32, width: 64 * (1 + (s % 4)), seed: r };
      const manifest = encodeManifest(runManifest(runId(r), s, r, t, config));
      fs.writeFileSync(path.join(runDir, 'manifest.msgpack'), manifest);
      bytes += t.bytes + manifest.length;
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  return { ms: performance.now() - t0, bytes };
}
