// Short runs: metrics encoded on the calling thread without the flush worker, read back by DuckDB and
// pyarrow-compatible readers exactly as the worker's files, and sealed with the same summaries.

import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parquetFileInfo } from '../../../src/duckdb/read-parquet.js';
import { METRICS_FILE, PARTS_DIR } from '../../../src/format/layout.js';
import { readParquetFooter } from '../../../src/parquet/footer.js';
import { convertMetricsJsonl } from '../../../src/runner/convert.js';
import { MetricsWriter, readRunMetrics } from '../../../src/storage/metrics/index.js';
import { DIRECT_MAX_ROWS } from '../../../src/storage/metrics/metrics-writer.js';
import { summarizeMetricsFile } from '../../../src/storage/metrics/summary.js';
import { claimRunDir } from '../../../src/storage/runs.js';
import { sealRunDir } from '../../../src/storage/seal.js';
import { tempDir } from '../../support/helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('sv-mdirect-');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    for (const f of fs.readdirSync(d, { recursive: true }) as string[])
      fs.chmodSync(path.join(d, f), fs.statSync(path.join(d, f)).isDirectory() ? 0o755 : 0o644);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

type Row = Record<string, number | bigint | boolean | string | null | undefined>;

function rowsOfEveryKind(n: number): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < n; i++) {
    const row: Row = { step: i, loss: i === 7 ? Number.NaN : 1 / (i + 1) };
    if (i % 3 !== 0) row.acc = i === 5 ? Number.POSITIVE_INFINITY : i / n;
    if (i % 2 === 0) row.ok = i % 4 === 0;
    if (i !== 9) row.tag = `phase-${i % 5}-é`;
    row.big = 2n ** 60n + BigInt(i);
    if (i > 50) row.late = i * 2; // appears mid-run: earlier rows are null
    row.never = null; // only ever null
    rows.push(row);
  }
  return rows;
}

async function readColumns(runDir: string, runId: string): Promise<Record<string, unknown[]>> {
  const table = await readRunMetrics(runDir, runId);
  const out: Record<string, unknown[]> = {};
  for (const f of table!.schema.fields) out[f.name] = [...table!.getChild(f.name)!];
  return out;
}

describe('short runs without the flush worker', () => {
  it('writes the same table the worker writes, for every column kind, nulls and late columns', async () => {
    const rows = rowsOfEveryKind(120);
    const direct = dir();
    const viaWorker = dir();
    const a = new MetricsWriter({ runDir: direct, runId: 'r1' });
    for (const r of rows) a.log(r);
    const infoA = await a.close();
    // flush() hands the rows to the worker, so this one is written by DuckDB.
    const b = new MetricsWriter({ runDir: viaWorker, runId: 'r1' });
    for (const r of rows) b.log(r);
    await b.flush();
    const infoB = await b.close();
    expect(fs.existsSync(path.join(direct, PARTS_DIR))).toBe(false);
    expect(infoA?.rows).toBe(120);
    expect(infoA?.columns).toEqual(infoB?.columns);
    // DuckDB reads both files to the same schema and values.
    expect((await parquetFileInfo(path.join(direct, METRICS_FILE))).columns).toEqual(
      (await parquetFileInfo(path.join(viaWorker, METRICS_FILE))).columns,
    );
    const colsA = await readColumns(direct, 'r1');
    const colsB = await readColumns(viaWorker, 'r1');
    expect(Object.keys(colsA)).toEqual([
      'step',
      'loss',
      'ok',
      'tag',
      'big',
      'never',
      'acc',
      'late',
      'run_id',
    ]);
    expect(colsA).toEqual(colsB);
    expect(colsA.acc![0]).toBeNull();
    expect(colsA.acc![5]).toBe(Number.POSITIVE_INFINITY);
    expect(Number.isNaN(colsA.loss![7] as number)).toBe(true);
    expect(colsA.tag![9]).toBeNull();
    expect(colsA.big![3]).toBe(2n ** 60n + 3n);
    // The file this thread wrote is not a DuckDB file: it is our encoder's.
    const footer = await readParquetFooter(path.join(direct, METRICS_FILE));
    expect(Number(footer.meta.numRows)).toBe(120);
  });

  it('writes integers held as doubles across the whole safe range as the worker does, with their min and max', async () => {
    const values = [
      0,
      -1,
      1,
      2 ** 32 - 1,
      2 ** 32,
      -(2 ** 32),
      -(2 ** 32) - 1,
      2 ** 53 - 1,
      -(2 ** 53 - 1),
      12345678901,
    ];
    const direct = dir();
    const viaWorker = dir();
    const a = new MetricsWriter({ runDir: direct, runId: 'r' });
    const b = new MetricsWriter({ runDir: viaWorker, runId: 'r' });
    for (const [i, v] of values.entries()) {
      a.log({ step: i, n: v, x: v / 2 });
      b.log({ step: i, n: v, x: v / 2 });
    }
    await a.close();
    await b.flush();
    await b.close();
    const cols = await readColumns(direct, 'r');
    expect(cols.n).toEqual(values.map((v) => BigInt(v)));
    expect(cols).toEqual(await readColumns(viaWorker, 'r'));
    const summary = await summarizeMetricsFile(path.join(direct, METRICS_FILE));
    expect(summary).toEqual(await summarizeMetricsFile(path.join(viaWorker, METRICS_FILE)));
    expect(summary.find((s) => s.column === 'n')).toMatchObject({ min: -(2 ** 53 - 1), max: 2 ** 53 - 1 });
  });

  it('seals with the summaries DuckDB computes from the file', async () => {
    const runsDir = path.join(dir(), 'runs');
    const { runId, dir: runDir } = await claimRunDir(runsDir);
    const w = new MetricsWriter({ runDir, runId });
    for (const r of rowsOfEveryKind(100)) w.log(r);
    await w.close();
    const sealed = await sealRunDir(runDir, { run_id: runId, status: 'running' } as never);
    const metrics = (sealed.artifacts as unknown as Record<string, { summary: unknown; rows: number }>)
      .metrics!;
    expect(metrics.rows).toBe(100);
    expect(metrics.summary).toEqual(
      (await summarizeMetricsFile(path.join(runDir, METRICS_FILE))).map((s) => ({ ...s })),
    );
    expect((metrics.summary as { column: string }[]).map((s) => s.column)).toEqual([
      'loss',
      'big',
      'never',
      'acc',
      'late',
    ]);
  });

  it('reads the file back when it changed after it was written, instead of trusting what was written', async () => {
    const runsDir = path.join(dir(), 'runs');
    const { runId, dir: runDir } = await claimRunDir(runsDir);
    const w = new MetricsWriter({ runDir, runId });
    for (let i = 0; i < 10; i++) w.log({ step: i, loss: i });
    await w.close();
    // Another writer replaces the file with 3 rows before the seal.
    const other = dir();
    const w2 = new MetricsWriter({ runDir: other, runId });
    for (let i = 0; i < 3; i++) w2.log({ step: i, loss: 100 + i });
    await w2.close();
    fs.copyFileSync(path.join(other, METRICS_FILE), path.join(runDir, METRICS_FILE));
    const sealed = await sealRunDir(runDir, { run_id: runId, status: 'running' } as never);
    const metrics = (
      sealed.artifacts as unknown as Record<string, { rows: number; summary: { max: number }[] }>
    ).metrics!;
    expect(metrics.rows).toBe(3);
    expect(metrics.summary[0]!.max).toBe(102);
  });

  it('goes through the worker beyond DIRECT_MAX_ROWS buffered rows', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r' });
    const n = DIRECT_MAX_ROWS + 5;
    for (let i = 0; i < n; i++) w.log({ step: i, loss: i / 2 });
    const info = await w.close();
    expect(info?.rows).toBe(n);
    const cols = await readColumns(runDir, 'r');
    expect(cols.step!.length).toBe(n);
    expect(cols.loss![n - 1]).toBe((n - 1) / 2);
  });

  it('converts a metrics.jsonl of more than DIRECT_MAX_ROWS rows on this thread, to the table the worker writes', async () => {
    const n = DIRECT_MAX_ROWS * 2 + 3;
    // JSON has no NaN, Infinity or BigInt: those rows' values are spelt as numbers it has.
    const lines = rowsOfEveryKind(n).map((r) =>
      JSON.stringify({ ...r, big: Number(r.big as bigint) - 2 ** 60 }, (_k, v) =>
        Number.isNaN(v) ? null : v === Number.POSITIVE_INFINITY ? 1e308 : v,
      ),
    );
    const converted = dir();
    fs.writeFileSync(path.join(converted, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    const report = await convertMetricsJsonl(converted, 'r1');
    expect(report).toMatchObject({ rows: n, rejectedLines: 0 });
    // One row group, no part files: our encoder wrote it, not DuckDB in the flush worker.
    expect(fs.existsSync(path.join(converted, PARTS_DIR))).toBe(false);
    const footer = await readParquetFooter(path.join(converted, METRICS_FILE));
    expect(Number(footer.meta.numRows)).toBe(n);
    expect(footer.meta.rowGroups.length).toBe(1);
    const bytes = fs.readFileSync(path.join(converted, METRICS_FILE));
    expect(bytes.includes('specimen-vault')).toBe(true); // created_by of our encoder's files
    expect(bytes.includes('DuckDB')).toBe(false);
    // The same rows through the worker (flushed as two parts, merged by DuckDB).
    const viaWorker = dir();
    const w = new MetricsWriter({ runDir: viaWorker, runId: 'r1' });
    for (const [i, line] of lines.entries()) {
      w.log(JSON.parse(line));
      if (i === DIRECT_MAX_ROWS) await w.flush();
    }
    await w.close();
    expect((await parquetFileInfo(path.join(converted, METRICS_FILE))).columns).toEqual(
      (await parquetFileInfo(path.join(viaWorker, METRICS_FILE))).columns,
    );
    expect(await readColumns(converted, 'r1')).toEqual(await readColumns(viaWorker, 'r1'));
  });
});

describe('claimRunDir', () => {
  it('gives runs started in the same second consecutive suffixes and skips names another process took', async () => {
    const runsDir = path.join(dir(), 'runs');
    const now = new Date('2026-01-02T03:04:05Z');
    const first = await claimRunDir(runsDir, now);
    const second = await claimRunDir(runsDir, now);
    // Another process claims the next name.
    fs.mkdirSync(path.join(runsDir, `${first.runId}_002`));
    const third = await claimRunDir(runsDir, now);
    expect([first.runId, second.runId, third.runId]).toEqual([
      '20260102_030405',
      '20260102_030405_001',
      '20260102_030405_003',
    ]);
    // The runs directory removed meanwhile is created again.
    fs.rmSync(runsDir, { recursive: true });
    expect((await claimRunDir(runsDir, now)).runId).toBe('20260102_030405');
  });
});
