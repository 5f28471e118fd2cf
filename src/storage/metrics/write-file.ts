/**
 * Bulk metrics write: a whole table at once, column- or row-oriented. Typed-array columns (Float64Array,
 * BigInt64Array, Int32Array) go to DuckDB without conversion; other arrays and rows go through the same
 * type inference as MetricsWriter.log().
 *
 * @example
 * await writeMetricsFile(`${runDir}/metrics.parquet`, {
 *   step: new Int32Array([0, 1, 2]),
 *   loss: new Float64Array([0.9, 0.7, 0.6]),
 * }, '20250101_120000')
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { sharedRawSession } from '../../duckdb/raw.js';
import { MetricsSchemaError } from '../../errors.js';
import { type ColumnData, writeColumnsParquet } from '../../parquet/write-columns.js';
import { assertColumnNames, Column, directColumn, type MetricsValue, RowBuffer } from './columns.js';
import type { MetricsFileInfo, MetricsInput } from './types.js';

const RUN_ID = 'run_id';

/**
 * Writes `file` atomically (temp file + rename) with a constant `run_id` column added last. Throws
 * MetricsSchemaError, without creating `file`, for columns of different lengths, a column mixing strings
 * and numbers, a `run_id` column holding anything but `runId`, or an empty input.
 */
export async function writeMetricsFile(
  file: string,
  data: MetricsInput,
  runId: string,
): Promise<MetricsFileInfo> {
  const abs = path.resolve(file);
  const { rows, columns } = toColumns(data, runId);
  const session = await (await sharedRawSession()).connect();
  try {
    await writeColumnsParquet(session, abs, columns, rows, { constants: [{ name: RUN_ID, value: runId }] });
  } finally {
    session.close();
  }
  const { size } = await fs.stat(abs);
  return {
    path: abs,
    rows,
    columns: [...columns.map((c) => ({ name: c.name, type: c.type })), { name: RUN_ID, type: 'VARCHAR' }],
    bytes: size,
  };
}

/** Validates `data` and turns it into writable columns (run_id removed: the writer adds it). */
export function toColumns(data: MetricsInput, runId: string): { rows: number; columns: ColumnData[] } {
  if (Array.isArray(data)) return fromRows(data as Extract<MetricsInput, readonly unknown[]>, runId);
  if (typeof data !== 'object' || data === null) {
    throw new MetricsSchemaError('metrics: expected an object of columns or an array of rows');
  }
  return fromColumns(data as Record<string, ArrayLike<MetricsValue>>, runId);
}

function fromRows(
  rows: ReadonlyArray<Record<string, MetricsValue>>,
  runId: string,
): { rows: number; columns: ColumnData[] } {
  if (rows.length === 0) throw new MetricsSchemaError('metrics: empty input: no rows');
  const buf = new RowBuffer(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    if (typeof row !== 'object' || row === null || Array.isArray(row)) {
      throw new MetricsSchemaError(`metrics: row ${i} is not an object of column values`);
    }
    buf.append(row);
  }
  const batch = buf.take(false);
  const columns = batch.columns.filter((c) => {
    if (c.name !== RUN_ID) return true;
    checkRunIdColumn(c.values as ArrayLike<unknown>, c.nulls, batch.rows, runId);
    return false;
  });
  if (columns.length === 0) throw new MetricsSchemaError('metrics: empty input: the rows have no columns');
  return { rows: batch.rows, columns };
}

function fromColumns(
  data: Record<string, ArrayLike<MetricsValue>>,
  runId: string,
): { rows: number; columns: ColumnData[] } {
  const entries = Object.entries(data);
  if (entries.length === 0) throw new MetricsSchemaError('metrics: empty input: no columns');
  assertColumnNames(entries.map(([name]) => name));
  for (const [name, values] of entries) {
    if (typeof values !== 'object' || values === null || typeof values.length !== 'number') {
      throw new MetricsSchemaError(`metrics: column ${JSON.stringify(name)} is not an array`, name);
    }
  }
  const lengths = entries.map(([name, values]) => ({ name, length: values.length }));
  const rows = lengths[0]!.length;
  if (lengths.some((l) => l.length !== rows)) {
    throw new MetricsSchemaError(
      `metrics: columns have different lengths: ${lengths.map((l) => `${JSON.stringify(l.name)} has ${l.length}`).join(', ')}`,
    );
  }
  if (rows === 0) throw new MetricsSchemaError('metrics: empty input: the columns have no rows');
  const columns: ColumnData[] = [];
  for (const [name, values] of entries) {
    if (name === RUN_ID) {
      checkRunIdColumn(values, undefined, rows, runId);
      continue;
    }
    const direct = directColumn(values);
    if (direct) {
      columns.push({ name, ...direct });
      continue;
    }
    const col = new Column(name, rows, (bytes) => new ArrayBuffer(bytes));
    for (let i = 0; i < rows; i++) col.set(i, values[i]);
    col.last = rows - 1;
    columns.push(col.take(rows, false));
  }
  if (columns.length === 0) throw new MetricsSchemaError('metrics: empty input: only a run_id column');
  return { rows, columns };
}

function checkRunIdColumn(
  values: ArrayLike<unknown>,
  nulls: Uint8Array | undefined,
  rows: number,
  runId: string,
) {
  for (let i = 0; i < rows; i++) {
    const v = values[i];
    if (v !== runId || nulls?.[i]) {
      throw new MetricsSchemaError(
        `metrics: column "run_id" holds ${show(nulls?.[i] ? null : v)} at row ${i}, but this is run ` +
          `${JSON.stringify(runId)}; run_id is added from the run, drop the column or rename it`,
        RUN_ID,
      );
    }
  }
}

function show(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : v === undefined ? 'undefined' : JSON.stringify(v);
}
