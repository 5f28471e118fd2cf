// writeMetricsFile / readParquetTable / parquetInfo: round trips through real Parquet files on disk.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectShared } from '../../../src/duckdb/read-parquet.js';
import { isVaultError } from '../../../src/errors.js';
import {
  type MetricsInput,
  parquetInfo,
  readParquetTable,
  readRunMetrics,
  writeMetricsFile,
} from '../../../src/storage/metrics/index.js';
import { tempDir } from '../../support/helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('sv-metrics-');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Rows of a table as plain objects (bigints kept). */
function rowsOf(table: Awaited<ReturnType<typeof readParquetTable>>): Record<string, unknown>[] {
  return table.toArray().map((r) => ({ ...r.toJSON() }));
}

/** The same file read by a direct DuckDB query, independent of the Arrow reading path. */
async function duckRows(file: string): Promise<Record<string, unknown>[]> {
  const con = await connectShared();
  try {
    const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${file.replaceAll("'", "''")}')`);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
  }
}

describe('writeMetricsFile', () => {
  it('round-trips typed-array columns with run_id added last', async () => {
    const file = path.join(dir(), 'metrics.parquet');
    const step = new Int32Array([0, 1, 2, 3]);
    const loss = new Float64Array([0.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    const big = new BigInt64Array([2n ** 62n, -(2n ** 63n), 0n, 7n]);
    const info = await writeMetricsFile(file, { step, loss, big }, 'run-a');
    expect(info).toEqual({
      path: file,
      rows: 4,
      columns: [
        { name: 'step', type: 'BIGINT' },
        { name: 'loss', type: 'DOUBLE' },
        { name: 'big', type: 'BIGINT' },
        { name: 'run_id', type: 'VARCHAR' },
      ],
      bytes: fs.statSync(file).size,
    });
    expect(await parquetInfo(file)).toEqual(info);
    const table = await readParquetTable([file]);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'step:Int64',
      'loss:Float64',
      'big:Int64',
      'run_id:Utf8',
    ]);
    expect(Array.from(table.getChild('step')!.toArray() as BigInt64Array)).toEqual([0n, 1n, 2n, 3n]);
    const l = table.getChild('loss')!.toArray() as Float64Array;
    expect(l[0]).toBe(0.5);
    expect(Number.isNaN(l[1])).toBe(true);
    expect(l[2]).toBe(Number.POSITIVE_INFINITY);
    expect(l[3]).toBe(Number.NEGATIVE_INFINITY);
    expect(table.getChild('loss')!.nullCount).toBe(0);
    expect(Array.from(table.getChild('big')!.toArray() as BigInt64Array)).toEqual([
      2n ** 62n,
      -(2n ** 63n),
      0n,
      7n,
    ]);
    expect([...table.getChild('run_id')!]).toEqual(['run-a', 'run-a', 'run-a', 'run-a']);
  });

  it('round-trips plain-array columns of every type with nulls', async () => {
    const file = path.join(dir(), 'm.parquet');
    await writeMetricsFile(
      file,
      {
        i: [1, null, 3],
        f: [1, 2.5, null],
        b: [true, null, false],
        s: ['a', 'é ü "q"', null],
        n: [null, null, null],
        bi: [1n, null, 2n ** 60n],
      },
      'r',
    );
    const table = await readParquetTable([file]);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'i:Int64',
      'f:Float64',
      'b:Bool',
      's:Utf8',
      'n:Float64',
      'bi:Int64',
      'run_id:Utf8',
    ]);
    expect(rowsOf(table)).toEqual([
      { i: 1n, f: 1, b: true, s: 'a', n: null, bi: 1n, run_id: 'r' },
      { i: null, f: 2.5, b: null, s: 'é ü "q"', n: null, bi: null, run_id: 'r' },
      { i: 3n, f: null, b: false, s: null, n: null, bi: 2n ** 60n, run_id: 'r' },
    ]);
    expect(table.getChild('i')!.nullCount).toBe(1);
    // A DuckDB query straight on the file agrees with the Arrow path.
    const direct = await duckRows(file);
    expect(direct.map((r) => r.s)).toEqual(['a', 'é ü "q"', null]);
    expect(direct.map((r) => r.i)).toEqual([1n, null, 3n]);
  });

  it('round-trips rows with missing keys, NaN/±Infinity distinct from null, and widening', async () => {
    const file = path.join(dir(), 'm.parquet');
    const info = await writeMetricsFile(
      file,
      [
        { step: 0, loss: 1, tag: 'warm' },
        { step: 1, loss: Number.NaN },
        { step: 2, loss: 0.25, ok: true, tag: undefined },
        { step: 3, loss: Number.NEGATIVE_INFINITY, extra: null },
        { step: 4, loss: null, ok: false },
      ],
      'r1',
    );
    expect(info.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'step:BIGINT',
      'loss:DOUBLE',
      'tag:VARCHAR',
      'ok:BOOLEAN',
      'extra:DOUBLE',
      'run_id:VARCHAR',
    ]);
    const table = await readParquetTable([file]);
    const loss = table.getChild('loss')!;
    expect(loss.get(0)).toBe(1);
    expect(Number.isNaN(loss.get(1))).toBe(true);
    expect(loss.isValid(1)).toBe(true);
    expect(loss.get(2)).toBe(0.25);
    expect(loss.get(3)).toBe(Number.NEGATIVE_INFINITY);
    expect(loss.get(4)).toBeNull();
    expect(loss.nullCount).toBe(1);
    expect([...table.getChild('tag')!]).toEqual(['warm', null, null, null, null]);
    expect([...table.getChild('ok')!]).toEqual([null, null, true, null, false]);
    expect(table.getChild('extra')!.nullCount).toBe(5);
  });

  it('keeps a run_id column that matches the run, and rejects one that does not', async () => {
    const d = dir();
    const ok = path.join(d, 'ok.parquet');
    const info = await writeMetricsFile(ok, { x: [1, 2], run_id: ['r', 'r'] }, 'r');
    expect(info.columns.map((c) => c.name)).toEqual(['x', 'run_id']);
    const bad = path.join(d, 'bad.parquet');
    const err = await writeMetricsFile(bad, { x: [1, 2], run_id: ['r', 'other'] }, 'r').catch((e) => e);
    expect(isVaultError(err, 'MetricsSchemaError')).toBe(true);
    expect(err.message).toContain('"other"');
    expect(fs.existsSync(bad)).toBe(false);
    const err2 = await writeMetricsFile(bad, [{ x: 1, run_id: 'zzz' }], 'r').catch((e) => e);
    expect(isVaultError(err2, 'MetricsSchemaError')).toBe(true);
    expect(fs.existsSync(bad)).toBe(false);
  });

  it('rejects ragged columns naming every column and length, without creating the file', async () => {
    const file = path.join(dir(), 'm.parquet');
    const err = await writeMetricsFile(
      file,
      { step: new Int32Array(3), loss: new Float64Array(2), acc: [1, 2, 3] },
      'r',
    ).catch((e) => e);
    expect(isVaultError(err, 'MetricsSchemaError')).toBe(true);
    expect(err.message).toContain('"step" has 3');
    expect(err.message).toContain('"loss" has 2');
    expect(err.message).toContain('"acc" has 3');
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(path.dirname(file))).toEqual([]);
  });

  it('rejects a column mixing strings and numbers, naming it', async () => {
    const file = path.join(dir(), 'm.parquet');
    for (const data of [{ a: [1, 2], mixed: [1, 'two'] }, [{ mixed: 'x' }, { mixed: 2 }]]) {
      const err = await writeMetricsFile(file, data, 'r').catch((e) => e);
      expect(isVaultError(err, 'MetricsSchemaError')).toBe(true);
      expect(err.column).toBe('mixed');
      expect(err.message).toContain('"mixed"');
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('rejects column names that cannot be written (empty, NUL, differing only in case), naming them', async () => {
    const file = path.join(dir(), 'm.parquet');
    const cases: [MetricsInput, RegExp][] = [
      [{ '': [1] }, /a column name is empty/],
      [{ 'a\0b': [1] }, /"a\\u0000b" contains a NUL/],
      [{ Loss: [1], loss: [2] }, /"loss" differs from column "Loss" only in case/],
      [[{ step: 1, STEP: 2 }], /"STEP" differs from column "step" only in case/],
      [{ x: [1], Run_Id: ['r'] }, /"Run_Id" differs from column "run_id" only in case/],
    ];
    for (const [data, message] of cases) {
      const err = await writeMetricsFile(file, data, 'r').catch((e) => e);
      expect(isVaultError(err, 'MetricsSchemaError'), JSON.stringify(data)).toBe(true);
      expect(err.message).toMatch(message);
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('rejects empty inputs', async () => {
    const file = path.join(dir(), 'm.parquet');
    const empties: MetricsInput[] = [{}, [], { a: [] }, [{}, {}], { run_id: ['r'] }];
    for (const data of empties) {
      const err = await writeMetricsFile(file, data, 'r').catch((e) => e);
      expect(isVaultError(err, 'MetricsSchemaError'), JSON.stringify(data)).toBe(true);
      expect(err.message).toContain('empty');
    }
    expect(fs.existsSync(file)).toBe(false);
  });

  it('replaces an existing file atomically', async () => {
    const file = path.join(dir(), 'm.parquet');
    await writeMetricsFile(file, { a: [1, 2, 3] }, 'r');
    await writeMetricsFile(file, { b: [true] }, 'r');
    const info = await parquetInfo(file);
    expect(info.rows).toBe(1);
    expect(info.columns.map((c) => c.name)).toEqual(['b', 'run_id']);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['m.parquet']);
  });
});

describe('readParquetTable and readRunMetrics', () => {
  it('unions several files by column name, widening BIGINT to DOUBLE', async () => {
    const d = dir();
    const a = path.join(d, 'a.parquet');
    const b = path.join(d, 'b.parquet');
    await writeMetricsFile(a, { step: [0, 1], x: [1, 2] }, 'r');
    await writeMetricsFile(b, { step: [2], x: [2.5], y: ['new'] }, 'r');
    const table = await readParquetTable([a, b]);
    expect(table.numRows).toBe(3);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'step:Int64',
      'x:Float64',
      'run_id:Utf8',
      'y:Utf8',
    ]);
    expect([...table.getChild('x')!]).toEqual([1, 2, 2.5]);
    expect([...table.getChild('y')!]).toEqual([null, null, 'new']);
  });

  it('reads an empty list of files as an empty table', async () => {
    const table = await readParquetTable([]);
    expect(table.numRows).toBe(0);
  });

  it('adds run_id to a legacy file without one, and returns undefined for a run without metrics', async () => {
    const d = dir();
    const con = await connectShared();
    try {
      await con.run(
        `COPY (SELECT range AS step, range * 0.5 AS loss FROM range(5)) TO '${path.join(d, 'metrics.parquet')}' (FORMAT parquet)`,
      );
    } finally {
      con.closeSync();
    }
    const table = await readRunMetrics(d, 'legacy-run');
    expect(table?.schema.fields.map((f) => f.name)).toEqual(['step', 'loss', 'run_id']);
    expect([...table!.getChild('run_id')!]).toEqual(Array(5).fill('legacy-run'));
    expect([...table!.getChild('loss')!]).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(await readRunMetrics(dir(), 'none')).toBeUndefined();
  });

  it('reads nulls spread over many DuckDB chunks at unaligned offsets', async () => {
    const file = path.join(dir(), 'm.parquet');
    const n = 10_007;
    const v: (number | null)[] = Array.from({ length: n }, (_, i) =>
      i % 3 === 0 || i % 1000 === 999 ? null : i,
    );
    const b: (boolean | null)[] = Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i % 2 === 0));
    await writeMetricsFile(file, { v, b }, 'r');
    const table = await readParquetTable([file, file]);
    expect(table.numRows).toBe(2 * n);
    const col = table.getChild('v')!;
    const bc = table.getChild('b')!;
    expect(col.nullCount).toBe(2 * v.filter((x) => x === null).length);
    for (let i = 0; i < 2 * n; i++) {
      const want = v[i % n];
      expect(col.get(i) === null ? null : Number(col.get(i))).toBe(want);
      expect(bc.get(i)).toBe(b[i % n]);
    }
  });
});
