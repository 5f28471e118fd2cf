// Metric summaries: the one implementation (storage/metrics/summary.ts) against DuckDB's own aggregates
// over the same Parquet file, including NaN, ±Infinity, nulls, null steps and all-NaN / all-null columns.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openMemory, quoteIdent, quoteLiteral } from '../../../src/duckdb/node-api.js';
import { readParquetFiles } from '../../../src/duckdb/read-parquet.js';
import {
  type MetricColumnSummary,
  summarizeColumn,
  summarizeMetricsFile,
  summarizeTable,
} from '../../../src/storage/metrics/summary.js';
import { tempDir } from '../../support/helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function tempFile(name: string): string {
  const dir = tempDir('sv-summary-');
  made.push(dir);
  return path.join(dir, name);
}

async function writeParquet(file: string, select: string): Promise<void> {
  const db = await openMemory();
  try {
    await db.connection.run(`COPY (${select}) TO ${quoteLiteral(file)} (FORMAT parquet)`);
  } finally {
    db.close();
  }
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  return Number(v);
}

/**
 * The reference: DuckDB's aggregates over the file, one thread so ties and sums go in file order. This is
 * the SQL the catalog used to run itself.
 */
async function duckSummaries(
  file: string,
  metrics: string[],
  hasStep: boolean,
): Promise<MetricColumnSummary[]> {
  const db = await openMemory({ threads: '1' });
  try {
    const source = `read_parquet(${quoteLiteral(file)}, file_row_number = true)`;
    const out: MetricColumnSummary[] = [];
    for (const m of metrics) {
      const c = quoteIdent(m);
      const v = `CAST(${c} AS DOUBLE)`;
      const reader = await db.connection.runAndReadAll(
        `SELECT count(${c}), min(${v}), max(${v}), avg(${v}),
           arg_min(${v}, file_row_number) FILTER (WHERE ${c} IS NOT NULL),
           arg_max(${v}, file_row_number) FILTER (WHERE ${c} IS NOT NULL),
           ${hasStep ? `CAST(arg_min(step, ${v}) AS BIGINT)` : 'NULL'},
           ${hasStep ? `CAST(arg_max(step, ${v}) AS BIGINT)` : 'NULL'}
         FROM ${source}`,
      );
      const r = reader.getRowsJS()[0]!;
      out.push({
        column: m,
        count: Number(r[0]),
        min: num(r[1]),
        max: num(r[2]),
        mean: num(r[3]),
        first: num(r[4]),
        last: num(r[5]),
        step_of_min: num(r[6]),
        step_of_max: num(r[7]),
      });
    }
    return out;
  } finally {
    db.close();
  }
}

describe('summarizeMetricsFile', () => {
  it('agrees with DuckDB on NaN, ±Infinity, nulls, null steps and all-NaN or all-null columns', async () => {
    const file = tempFile('metrics.parquet');
    await writeParquet(
      file,
      `SELECT * FROM (VALUES
         (0::BIGINT, NULL::DOUBLE, 'NaN'::DOUBLE, NULL::DOUBLE, 5::BIGINT, 'Infinity'::DOUBLE, 1.5::DOUBLE, 'a'),
         (1, 3.0, 'NaN', NULL, 1, 2.0, '-Infinity', 'b'),
         (NULL, -7.0, 'NaN', NULL, -3, 'Infinity', 2.5, 'c'),
         (3, 'NaN', NULL, NULL, 9, 1.0, 'NaN', 'd'),
         (4, '-Infinity', 'NaN', NULL, 9, NULL, 'Infinity', 'e'),
         (5, 7.5, 'NaN', NULL, NULL, 'Infinity', 0.25, 'f'),
         (6, -1.0, 'NaN', NULL, 1, 3.0, NULL, 'g')
       ) v(step, mixed, all_nan, all_null, ints, inf, mix_inf, txt)`,
    );
    const metrics = ['mixed', 'all_nan', 'all_null', 'ints', 'inf', 'mix_inf'];
    const expected = await duckSummaries(file, metrics, true);
    const ours = await summarizeMetricsFile(file);
    expect(ours.map((s) => s.column)).toEqual(metrics);
    // toEqual treats NaN as equal to NaN, so NaN figures are compared too.
    expect(ours).toEqual(expected);
    // Spelled out, so the rule is visible here as well as in the module comment.
    expect(ours[0]).toMatchObject({ count: 6, min: Number.NEGATIVE_INFINITY, first: 3, last: -1 });
    expect(ours[0]!.max).toBeNaN();
    expect(ours[0]!.step_of_max).toBe(3);
    expect(ours[1]).toMatchObject({ count: 6, step_of_min: 0, step_of_max: 0 });
    expect(ours[1]!.min).toBeNaN();
    expect(ours[2]).toEqual({
      column: 'all_null',
      count: 0,
      min: null,
      max: null,
      mean: null,
      first: null,
      last: null,
      step_of_min: null,
      step_of_max: null,
    });
    // -3 is the min, but its row has no step: the step of the min among rows with a step.
    expect(ours[3]).toMatchObject({ min: -3, step_of_min: 1, step_of_max: 3 });
    expect(ours[5]!.mean).toBeNaN();
  });

  it('agrees with DuckDB on the compensation-free mean, ties and a file without a step column', async () => {
    const file = tempFile('m.parquet');
    await writeParquet(
      file,
      `SELECT * FROM (VALUES (1e16::DOUBLE, 2::INTEGER), (1.0, 2), (1.0, 1), (-1e16, 1), (0.1, 2)) v(big, tie)`,
    );
    const expected = await duckSummaries(file, ['big', 'tie'], false);
    expect(await summarizeMetricsFile(file)).toEqual(expected);
  });

  it('counts non-null values, skips NaN for min, keeps file order for first and last', async () => {
    const file = tempFile('metrics.parquet');
    await writeParquet(
      file,
      `SELECT * FROM (VALUES
         (0::BIGINT, NULL::DOUBLE, 5::BIGINT, 'a', true),
         (1, 3.0, 1, 'b', false),
         (2, 'NaN'::DOUBLE, 9, 'c', true),
         (3, -2.0, 9, 'd', true),
         (4, 7.5, NULL, 'e', false)
       ) v(step, val, n, txt, flag)`,
    );
    const summary = await summarizeMetricsFile(file);
    expect(summary.map((s) => s.column)).toEqual(['val', 'n']);
    const [val, n] = summary;
    expect(val).toMatchObject({
      column: 'val',
      count: 4,
      min: -2,
      first: 3,
      last: 7.5,
      step_of_min: 3,
      step_of_max: 2,
    });
    expect(val?.max).toBeNaN();
    expect(val?.mean).toBeNaN();
    expect(n).toEqual({
      column: 'n',
      count: 4,
      min: 1,
      max: 9,
      mean: 6,
      first: 5,
      last: 9,
      step_of_min: 1,
      step_of_max: 2,
    });
    const [own] = await duckSummaries(file, ['val'], true);
    expect(val?.min).toBe(own?.min);
    expect(val?.count).toBe(own?.count);
  });

  it('leaves step_of_min and step_of_max null without a step column', async () => {
    const file = tempFile('m.parquet');
    await writeParquet(file, 'SELECT range * 1.5 AS x FROM range(4)');
    expect(await summarizeMetricsFile(file)).toEqual([
      {
        column: 'x',
        count: 4,
        min: 0,
        max: 4.5,
        mean: 2.25,
        first: 0,
        last: 4.5,
        step_of_min: null,
        step_of_max: null,
      },
    ]);
  });
});

describe('summarizeColumn and summarizeTable', () => {
  it('summarizes plain arrays and Arrow tables alike', async () => {
    const values = [2, Number.NaN, null, 1, Number.POSITIVE_INFINITY];
    const steps = [0, 1, 2, 3, 4];
    const s = summarizeColumn('loss', values, steps);
    expect(s).toMatchObject({ count: 4, min: 1, step_of_min: 3, step_of_max: 1, first: 2 });
    expect(s.max).toBeNaN();
    expect(s.last).toBe(Number.POSITIVE_INFINITY);
    const file = tempFile('t.parquet');
    await writeParquet(
      file,
      `SELECT * FROM (VALUES (0::BIGINT, 2.0::DOUBLE), (1, 'NaN'), (2, NULL), (3, 1.0), (4, 'Infinity')) v(step, loss)`,
    );
    expect(summarizeTable(await readParquetFiles([file]))).toEqual([s]);
  });
});
