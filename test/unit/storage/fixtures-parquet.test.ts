// Every Parquet file in the reference vault (written by Polars: ZSTD, dictionary pages) loads through
// parquetInfo / readParquetTable / readRunMetrics, and agrees value for value with a direct DuckDB query.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectShared } from '../../../src/duckdb/read-parquet.js';
import { parquetInfo, readParquetTable, readRunMetrics } from '../../../src/storage/metrics/index.js';
import { REFERENCE_VAULT } from '../../support/helpers.js';

function parquetFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...parquetFiles(p));
    else if (e.name.endsWith('.parquet')) out.push(p);
  }
  return out.sort();
}

const files = parquetFiles(path.join(REFERENCE_VAULT, 'specimens'));
const SYNTHETIC = path.join(
  REFERENCE_VAULT,
  'specimens/example_2024_12_19_synthetic_demo/strata/metrics.parquet',
);
const RUN_DIR = path.join(
  REFERENCE_VAULT,
  'specimens/2025_12_22_vn_comprehensive_experiments/runs/20251222_201718',
);

async function direct(
  file: string,
): Promise<{ columns: { name: string; type: string }[]; rows: unknown[][] }> {
  const con = await connectShared();
  try {
    const src = `read_parquet('${file.replaceAll("'", "''")}')`;
    const d = await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
    const columns = d
      .getRowObjectsJS()
      .map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
    const rows = (await con.runAndReadAll(`SELECT * FROM ${src}`)).getRowsJS() as unknown[][];
    return { columns, rows };
  } finally {
    con.closeSync();
  }
}

describe('reference vault Parquet files', () => {
  it('finds the five fixture files', () => {
    expect(files.length).toBe(5);
    expect(files).toContain(SYNTHETIC);
  });

  for (const file of files) {
    it(`reads ${path.relative(REFERENCE_VAULT, file)}`, async () => {
      const expected = await direct(file);
      const info = await parquetInfo(file);
      expect(info.path).toBe(file);
      expect(info.bytes).toBe(fs.statSync(file).size);
      expect(info.rows).toBe(expected.rows.length);
      expect(info.columns).toEqual(expected.columns);
      const table = await readParquetTable([file]);
      expect(table.numRows).toBe(expected.rows.length);
      expect(table.schema.fields.map((f) => f.name)).toEqual(expected.columns.map((c) => c.name));
      const got = table.toArray().map((r) => expected.columns.map((c) => r[c.name]));
      expect(got).toEqual(expected.rows);
    });
  }

  it('reads the synthetic demo as step BIGINT and three DOUBLE columns of 100 rows', async () => {
    const info = await parquetInfo(SYNTHETIC);
    expect(info.rows).toBe(100);
    expect(info.columns).toEqual([
      { name: 'step', type: 'BIGINT' },
      { name: 'loss', type: 'DOUBLE' },
      { name: 'accuracy', type: 'DOUBLE' },
      { name: 'entropy', type: 'DOUBLE' },
    ]);
    const table = await readParquetTable([SYNTHETIC]);
    expect(table.getChild('step')!.toArray()).toBeInstanceOf(BigInt64Array);
    expect(table.getChild('loss')!.toArray()).toBeInstanceOf(Float64Array);
  });

  it('reads a run with 18 columns including VARCHARs and its own run_id', async () => {
    const table = await readRunMetrics(RUN_DIR, '20251222_201718');
    expect(table?.numRows).toBe(75);
    expect(table?.numCols).toBe(18);
    expect(String(table?.schema.fields.find((f) => f.name === 'case_id')?.type)).toBe('Utf8');
    expect(new Set(table?.getChild('run_id'))).toEqual(new Set(['20251222_201718']));
  });
});
