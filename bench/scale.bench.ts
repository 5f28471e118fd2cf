/**
 * 100,000-run vault benchmarks: a generated vault of 20,000 specimens × 5 sealed runs (2,000 × 5 with
 * --quick), each run a 200-row metrics file (step, loss, acc, lr, run_id) with a manifest as sealing writes
 * it. Each figure is a ratio against a baseline measured in the same run:
 *
 * - cold `index` vs the bare loop that lists the same directories and reads and decodes the same manifests
 *   and Parquet footers (target ≤ 3×);
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
 * after measuring. Imports the built library and runs the built CLI: `npm run build` first.
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
import { indexVault, VaultQuery } from '../dist/catalog/index.js';
import { encodeManifest, type PlainObject } from '../dist/format/msgpack.js';
import type { RunningServer } from '../dist/server/index.js';
import { bareLoop } from './catalog.bench.js';
import type { BenchOptions, BenchResult } from './harness.js';
import { MARKS_SCRIPT } from './page-marks.js';
import { catalogBench } from './web.bench.js';
import { explorerBench } from './workbench.bench.js';

const RUNS_PER_SPECIMEN = 5;
const ROWS_PER_RUN = 200;
const VARIANTS = 8;
const METRICS = ['loss', 'acc', 'lr'] as const;
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
    const generated = await generate(root, specimens);
    verifySample(root, specimens);
    const results = await indexBench(root, specimens, generated);
    results.push(await queryBench(root, runs));
    results.push(...(await serveBench(root, specimens, runs)));
    return results;
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

const gc = () => (globalThis as { gc?: () => void }).gc?.();

async function indexBench(
  root: string,
  specimens: number,
  generated: { ms: number; bytes: number },
): Promise<BenchResult[]> {
  const catalog = path.join(root, 'vault.duckdb');
  let cold = Number.POSITIVE_INFINITY;
  let bare = Number.POSITIVE_INFINITY;
  let total = 0;
  for (let i = 0; i < 2; i++) {
    gc();
    const t0 = performance.now();
    const counted = bareLoop(root);
    bare = Math.min(bare, performance.now() - t0);
    fs.rmSync(catalog, { force: true });
    gc();
    const t1 = performance.now();
    const report = await indexVault(root, { full: true });
    cold = Math.min(cold, performance.now() - t1);
    total = report.runs.total;
    if (report.runs.total !== counted.runs)
      throw new Error(`scale bench: indexed ${report.runs.total} runs, expected ${counted.runs}`);
  }
  const results: BenchResult[] = [
    {
      name: `scale.index.cold.${total}`,
      description: `cold index of ${specimens} specimens × ${RUNS_PER_SPECIMEN} runs vs a bare loop reading and decoding the same manifests and Parquet footers`,
      value: cold,
      baseline: bare,
      unit: 'ms',
      ratio: cold / bare,
      target: '≤ 3.0',
      pass: cold / bare <= 3,
      details: {
        catalogBytes: fs.statSync(catalog).size,
        generateMs: generated.ms,
        vaultBytes: generated.bytes,
      },
    },
  ];
  let incremental = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    const added = addRun(root, specimens, i);
    gc();
    const t0 = performance.now();
    const report = await indexVault(root);
    incremental = Math.min(incremental, performance.now() - t0);
    if (report.specimens.indexed !== 1 || report.runs.indexed !== 1)
      throw new Error(
        `scale bench: incremental index re-read ${report.specimens.indexed} specimens, ${report.runs.indexed} runs`,
      );
    fs.rmSync(added, { recursive: true, force: true });
    await indexVault(root);
  }
  results.push({
    name: `scale.index.incremental.${total}`,
    description: 'incremental index after one specimen gained a run vs the cold index',
    value: incremental,
    baseline: cold,
    unit: 'ms',
    ratio: incremental / cold,
    target: '≤ 0.02',
    pass: incremental / cold <= 0.02,
  });
  return results;
}

async function queryBench(root: string, runs: number): Promise<BenchResult> {
  const ours = `SELECT specimen_id, run_id, min(value) AS min_loss FROM metrics WHERE metric = 'loss' GROUP BY ALL`;
  const raw =
    `SELECT string_split(filename, '/')[-4] AS specimen_id, run_id, min(loss) AS min_loss ` +
    `FROM read_parquet('${root}/specimens/*/runs/*/metrics.parquet', filename = true) GROUP BY ALL`;
  const rawDb = await DuckDBInstance.create(':memory:');
  const rawCon = await rawDb.connect();
  const q = await VaultQuery.open(root);
  let oursMs = Number.POSITIVE_INFINITY;
  let rawMs = Number.POSITIVE_INFINITY;
  try {
    for (let i = 0; i < 3; i++) {
      gc();
      const t0 = performance.now();
      const reader = await rawCon.runAndReadAll(raw);
      rawMs = Math.min(rawMs, performance.now() - t0);
      gc();
      const t1 = performance.now();
      const table = await q.search(ours);
      oursMs = Math.min(oursMs, performance.now() - t1);
      if (table.numRows !== runs || reader.currentRowCount !== runs)
        throw new Error(
          `scale bench: ${table.numRows} groups from the metrics view, ${reader.currentRowCount} from raw DuckDB, expected ${runs}`,
        );
    }
  } finally {
    q.close();
    rawCon.closeSync();
    rawDb.closeSync();
  }
  return {
    name: `scale.query.metric.${runs}`,
    description:
      "min(value) per run for metric 'loss' over the metrics view (VaultQuery, Arrow) vs raw DuckDB read_parquet with a glob",
    value: oursMs,
    baseline: rawMs,
    unit: 'ms',
    ratio: oursMs / rawMs,
    target: '≤ 1.2',
    pass: oursMs / rawMs <= 1.2,
  };
}

/** `specimen serve` as a child process, both pages in Chromium, then the child's resident memory. */
async function serveBench(root: string, specimens: number, runs: number): Promise<BenchResult[]> {
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

function runId(r: number): string {
  return `20250101_12000${r}`;
}

/** Adds a sealed run to one specimen (a copy of its first run under a new ID); returns its directory. */
function addRun(root: string, specimens: number, i: number): string {
  const sid = specimenId(Math.floor(specimens / 2));
  const runsDir = path.join(root, 'specimens', sid, 'runs');
  const rid = `20250102_0000${String(i).padStart(2, '0')}`;
  const dir = path.join(runsDir, rid);
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(runsDir, runId(0), 'metrics.parquet'), path.join(dir, 'metrics.parquet'));
  fs.writeFileSync(
    path.join(dir, 'manifest.msgpack'),
    encodeManifest(runManifest(rid, 0, 0, templates.get(`${Math.floor(specimens / 2) % VARIANTS}/0`)!)),
  );
  return dir;
}

interface Template {
  file: string;
  bytes: number;
  sha256: string;
  summary: PlainObject[];
}

const templates = new Map<string, Template>();

/** Writes the vault: templates by DuckDB, then every specimen's folders, copies and manifests. */
async function generate(root: string, specimens: number): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  fs.mkdirSync(path.join(root, 'specimens'));
  fs.writeFileSync(
    path.join(root, 'specimen-vault.json'),
    JSON.stringify({ format_version: 1, name: 'scale-bench' }),
  );
  const scratch = path.join(root, '.templates');
  fs.mkdirSync(scratch);
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
    const summaries = new Map<string, PlainObject[]>();
    for (const m of METRICS) {
      const reader = await con.runAndReadAll(
        `SELECT v, r, count(${m}), min(${m}), max(${m}), avg(${m}), arg_min(${m}, step), arg_max(${m}, step),
                arg_min(step, ${m}), arg_max(step, ${m}) FROM gen GROUP BY v, r`,
      );
      for (const [v, r, count, min, max, mean, first, last, smin, smax] of reader.getRowsJS()) {
        const key = `${v}/${r}`;
        const list = summaries.get(key) ?? [];
        list.push({
          column: m,
          count: Number(count),
          min: Number(min),
          max: Number(max),
          mean: Number(mean),
          first: Number(first),
          last: Number(last),
          step_of_min: Number(smin),
          step_of_max: Number(smax),
        });
        summaries.set(key, list);
      }
    }
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
    const specimen = encodeManifest({
      specimen_id: sid,
      created: '2025-01-01T09:00:00.000Z',
      taxonomy: { domain: 'training', method: 'hyperparameter_sweep' },
      model: 'gpt2',
      status: 'active',
      tags: ['scale', `group_${s % 10}`],
      description: `Generated specimen ${s}`,
      dependencies: { node: '>=20' },
      artifacts: {},
    });
    fs.writeFileSync(path.join(dir, 'manifest.msgpack'), specimen);
    bytes += specimen.length;
    for (let r = 0; r < RUNS_PER_SPECIMEN; r++) {
      const t = templates.get(`${s % VARIANTS}/${r}`)!;
      const runDir = path.join(dir, 'runs', runId(r));
      fs.mkdirSync(runDir);
      fs.copyFileSync(t.file, path.join(runDir, 'metrics.parquet'));
      const manifest = encodeManifest(runManifest(runId(r), s, r, t));
      fs.writeFileSync(path.join(runDir, 'manifest.msgpack'), manifest);
      bytes += t.bytes + manifest.length;
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  return { ms: performance.now() - t0, bytes };
}

function runManifest(rid: string, s: number, r: number, t: Template): PlainObject {
  const at = `2025-01-01T12:00:0${r}.000Z`;
  return {
    run_id: rid,
    run_timestamp: at,
    started: at,
    ended: `2025-01-01T12:10:0${r}.000Z`,
    status: 'succeeded',
    seeds: { global: s * 10 + r },
    config: { lr: 0.001 * (1 + (s % 5)), batch_size: 32, width: 64 * (1 + (s % 4)), seed: r },
    summary: { final_loss: (t.summary[0]?.last as number | undefined) ?? null },
    artifacts: {
      metrics: {
        path: 'metrics.parquet',
        format: 'parquet',
        bytes: t.bytes,
        sha256: t.sha256,
        rows: ROWS_PER_RUN,
        columns: ['step', 'loss', 'acc', 'lr', 'run_id'],
        column_types: { step: 'BIGINT', loss: 'DOUBLE', acc: 'DOUBLE', lr: 'DOUBLE', run_id: 'VARCHAR' },
        summary: t.summary,
      },
    },
    owner: { pid: 1, host: 'bench-host' },
    files: { 'metrics.parquet': { bytes: t.bytes, sha256: t.sha256 } },
    sealed_at: `2025-01-01T12:10:0${r}.500Z`,
    command: ['node', 'protocol.ts'],
    git: { commit: '0123456789abcdef0123456789abcdef01234567' },
    exit_code: 0,
  };
}
