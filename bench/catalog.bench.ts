/**
 * Catalog benchmarks on a generated vault of 10,000 specimens × 3 sealed runs (1,000 with --quick), each run
 * a 1,000-row metrics file (step, loss, acc, lr, run_id) and a manifest carrying `artifacts.metrics.summary`
 * as sealing writes it. Each figure is measured against a baseline in the same run:
 *
 * - cold index vs a bare loop that lists the same directories, reads and decodes the same manifests and
 *   reads and decodes every metrics file's Parquet footer (target ≤ 2.5×), idle and with the other core busy;
 * - incremental index after one specimen gained a run vs the cold index (target ≤ 5%);
 * - `min(value)` per run for metric 'loss' over the `metrics` view (through VaultQuery, Arrow result) vs
 *   the same aggregation by raw DuckDB over the Parquet files with a glob (target ≤ 1.2×).
 *
 * The vault is generated once into os.tmpdir() (Parquet by DuckDB COPY, manifests with the library's
 * msgpack encoder) and reused by later runs. Imports the built library: run `npx tsc -p tsconfig.json` first.
 *
 * @example
 * node --expose-gc --import tsx bench/run.ts --only catalog --quick
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { encodeManifest } from '../dist/format/msgpack.js';
import {
  addRun,
  coldIndexResults,
  indexFigures,
  metricQueryFigure,
  metricSummaries,
  removeAddedRuns,
  runId,
  runManifest,
  specimenManifest,
} from './generated-vault.js';
import type { BenchOptions, BenchResult } from './harness.js';

const RUNS_PER_SPECIMEN = 3;
const ROWS_PER_RUN = 1000;
const GENERATOR_VERSION = 1;

export { bareLoop } from './generated-vault.js';

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  const specimens = options.quick ? 1_000 : 10_000;
  const root = await benchVault(specimens);
  const repeats = 3;
  const index = await indexFigures(root, {
    cold: repeats,
    incremental: repeats,
    addRun: (i) => addRun(root, specimenId(Math.floor(specimens / 2)), i),
  });
  const query = await metricQueryFigure(root, { repeats: repeats + 1 });
  return [
    ...coldIndexResults(
      index,
      `catalog.index.cold.${specimens}`,
      `${specimens} specimens × ${RUNS_PER_SPECIMEN} runs`,
      { runs: index.runs, catalogBytes: index.catalogBytes },
    ),
    {
      name: `catalog.index.incremental.${specimens}`,
      description: 'incremental index after one specimen gained a run vs the cold index',
      value: index.incrementalMs,
      baseline: index.coldMs,
      unit: 'ms',
      ratio: index.incrementalMs / index.coldMs,
      target: '≤ 0.05',
      pass: index.incrementalMs / index.coldMs <= 0.05,
      details: { runsReread: index.runsReread },
    },
    {
      name: `catalog.query.metric.${specimens * RUNS_PER_SPECIMEN}`,
      description:
        "min(value) per run for metric 'loss' over the metrics view (VaultQuery, Arrow) vs raw DuckDB read_parquet with a glob",
      value: query.oursMs,
      baseline: query.rawMs,
      unit: 'ms',
      ratio: query.oursMs / query.rawMs,
      target: '≤ 1.2',
      pass: query.oursMs / query.rawMs <= 1.2,
      details: { groups: query.groups },
    },
  ];
}

function specimenId(s: number): string {
  return `2025_01_01_bench_${String(s).padStart(5, '0')}`;
}

/** The generated vault for `specimens` specimens, created on first use and reused afterwards. */
export async function benchVault(specimens: number): Promise<string> {
  const root = path.join(os.tmpdir(), `sv-bench-catalog-v${GENERATOR_VERSION}-${specimens}`);
  const done = path.join(root, '.complete');
  if (fs.existsSync(done)) {
    removeAddedRuns(root);
    return root;
  }
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(path.join(root, 'specimens'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'specimen-vault.json'),
    JSON.stringify({ format_version: 1, name: 'bench' }),
  );
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run('SET partitioned_write_max_open_files = 100000');
  const batch = 1000;
  for (let from = 0; from < specimens; from += batch) {
    const to = Math.min(specimens, from + batch);
    const scratch = path.join(root, '.gen');
    fs.rmSync(scratch, { recursive: true, force: true });
    await con.run(`CREATE OR REPLACE TEMP TABLE gen AS
      SELECT s, r, i AS step,
        2.0 * exp(-i / 300.0) + 0.05 + (hash(s, r, i) % 1000) / 100000.0 AS loss,
        1.0 - 0.9 * exp(-i / 250.0) + (hash(s, r, i, 1) % 1000) / 200000.0 AS acc,
        0.001 * (1.0 - i / ${ROWS_PER_RUN}.0) AS lr,
        '20250101_12000' || r::VARCHAR AS run_id
      FROM range(${from}, ${to}) a(s), range(${RUNS_PER_SPECIMEN}) b(r), range(${ROWS_PER_RUN}) c(i)`);
    await con.run(
      `COPY (SELECT * FROM gen ORDER BY s, r, step) TO '${scratch}' (FORMAT parquet, PARTITION_BY (s, r), COMPRESSION zstd)`,
    );
    const summaries = await metricSummaries(con, 'gen', ['s', 'r']);
    for (let s = from; s < to; s++) {
      const sid = specimenId(s);
      const dir = path.join(root, 'specimens', sid);
      fs.mkdirSync(path.join(dir, 'runs'), { recursive: true });
      fs.writeFileSync(
        path.join(dir, 'manifest.msgpack'),
        encodeManifest(specimenManifest(sid, s, 'fine_tuning', 'bench')),
      );
      for (let r = 0; r < RUNS_PER_SPECIMEN; r++) {
        const rid = runId(r);
        const runDir = path.join(dir, 'runs', rid);
        fs.mkdirSync(runDir);
        const partDir = path.join(scratch, `s=${s}`, `r=${r}`);
        const parts = fs.readdirSync(partDir);
        if (parts.length !== 1) throw new Error(`generator: ${partDir} holds ${parts.length} files`);
        const file = path.join(runDir, 'metrics.parquet');
        fs.renameSync(path.join(partDir, parts[0]!), file);
        const bytes = fs.readFileSync(file);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const facts = {
          bytes: bytes.length,
          sha256,
          rows: ROWS_PER_RUN,
          summary: summaries.get(`${s}/${r}`) ?? [],
        };
        const config = { lr: 0.001, batch_size: 32, width: 64 * (1 + (s % 4)) };
        fs.writeFileSync(
          path.join(runDir, 'manifest.msgpack'),
          encodeManifest(runManifest(rid, s, r, facts, config)),
        );
      }
    }
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  con.closeSync();
  db.closeSync();
  fs.writeFileSync(done, `generated in ${Math.round(performance.now() - t0)} ms\n`);
  return root;
}
