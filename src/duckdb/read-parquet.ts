/**
 * Reads Parquet files into apache-arrow Tables through DuckDB. Numeric columns are copied out of DuckDB's
 * vectors in bulk (`vector_get_data`) into one preallocated typed array per column, validity bits are
 * copied alongside, and Arrow vectors are built over those arrays without another copy. apache-arrow is
 * imported lazily (it costs ~90 ms of start-up).
 *
 * @example
 * const table = await readParquetFiles(['/runs/r1/metrics.parquet'])
 * table.getChild('loss')?.toArray() // Float64Array
 * const info = await parquetFileInfo('/runs/r1/metrics.parquet') // { rows, columns, bytes }
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Data, DataType, Field, Float64, Table } from 'apache-arrow';
import { loadDuckDB, quoteIdent, quoteLiteral } from './node-api.js';
import { loadBindings } from './raw.js';

/** Rows, columns (DuckDB types) and size of a Parquet file. */
export interface ParquetFileInfo {
  /** Absolute path. */
  path: string;
  rows: number;
  columns: { name: string; type: string }[];
  bytes: number;
}

let instance: Promise<DuckDBInstance> | undefined;

/** A new connection on this thread's shared in-memory DuckDB (created on first use). */
export async function connectShared(): Promise<DuckDBConnection> {
  instance ??= loadDuckDB()
    .then(({ DuckDBInstance }) => DuckDBInstance.create(':memory:'))
    .catch((err) => {
      instance = undefined;
      throw err;
    });
  return (await instance).connect();
}

/** Closes this thread's shared DuckDB, if open (a worker thread does so before it exits). */
export async function closeShared(): Promise<void> {
  const pending = instance;
  instance = undefined;
  const db = await pending?.catch(() => undefined);
  db?.closeSync();
}

/** `read_parquet([...], union_by_name = true)` over `files`. */
export function readParquetSql(files: readonly string[]): string {
  return `read_parquet([${files.map((f) => quoteLiteral(path.resolve(f))).join(', ')}], union_by_name = true)`;
}

/** Column names and DuckDB types of a query, from DuckDB's DESCRIBE (reads Parquet footers only). */
export async function describeQuery(
  con: DuckDBConnection,
  sql: string,
): Promise<{ name: string; type: string }[]> {
  const reader = await con.runAndReadAll(`DESCRIBE ${sql}`);
  return reader.getRowObjectsJS().map((r) => ({ name: String(r.column_name), type: String(r.column_type) }));
}

/** Row count and column names/types from the Parquet footer only. */
export async function parquetFileInfo(file: string): Promise<ParquetFileInfo> {
  const abs = path.resolve(file);
  const { size } = await fs.stat(abs);
  const con = await connectShared();
  try {
    const columns = await describeQuery(con, `SELECT * FROM read_parquet(${quoteLiteral(abs)})`);
    const reader = await con.runAndReadAll('SELECT num_rows FROM parquet_file_metadata($1)', [abs]);
    const rows = Number(reader.getRowsJS()[0]?.[0] ?? 0);
    return { path: abs, rows, columns, bytes: size };
  } finally {
    con.closeSync();
  }
}

export interface ReadParquetOptions {
  /** Constant VARCHAR columns to add (after the others) when the files lack them, e.g. a legacy run_id. */
  addMissing?: readonly { name: string; value: string }[];
  /** Columns to move to the end, in this order, if present (e.g. run_id). */
  last?: readonly string[];
  /**
   * A VARCHAR column whose value is given per file (`values[i]` for `files[i]`) where that file lacks it;
   * files that have the column keep their own values. Used to tell runs apart when legacy files lack run_id.
   */
  perFile?: { name: string; values: readonly string[] };
}

/** The FROM source for `files`: one read_parquet, or a UNION ALL BY NAME adding per-file constants. */
async function sourceSql(
  con: DuckDBConnection,
  files: readonly string[],
  perFile: ReadParquetOptions['perFile'],
): Promise<string> {
  if (!perFile) return readParquetSql(files);
  const parts: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const one = `read_parquet(${quoteLiteral(path.resolve(files[i]!))})`;
    const has = (await describeQuery(con, `SELECT * FROM ${one}`)).some((c) => c.name === perFile.name);
    const value = perFile.values[i] ?? '';
    parts.push(
      has
        ? `SELECT * FROM ${one}`
        : `SELECT *, ${quoteLiteral(value)}::VARCHAR AS ${quoteIdent(perFile.name)} FROM ${one}`,
    );
  }
  return `(${parts.join(' UNION ALL BY NAME ')})`;
}

/** How a DuckDB type is carried into Arrow. */
interface Plan {
  name: string;
  /** SQL expression selecting the column (with a cast for types read as another one). */
  select: string;
  kind: 'fixed' | 'bool' | 'string';
  width: number;
  makeType: (arrow: ArrowModule) => DataType;
  makeArray: (
    n: number,
  ) =>
    | Float64Array
    | Float32Array
    | BigInt64Array
    | BigUint64Array
    | Int32Array
    | Uint32Array
    | Int16Array
    | Uint16Array
    | Int8Array
    | Uint8Array;
}

type ArrowModule = typeof import('apache-arrow');

function planFor(name: string, duckType: string): Plan {
  const id = quoteIdent(name);
  const fixed = (
    width: number,
    makeType: Plan['makeType'],
    makeArray: Plan['makeArray'],
    select = id,
  ): Plan => ({ name, select, kind: 'fixed', width, makeType, makeArray });
  switch (duckType) {
    case 'DOUBLE':
      return fixed(
        8,
        (a) => new a.Float64(),
        (n) => new Float64Array(n),
      );
    case 'FLOAT':
      return fixed(
        4,
        (a) => new a.Float32(),
        (n) => new Float32Array(n),
      );
    case 'BIGINT':
      return fixed(
        8,
        (a) => new a.Int64(),
        (n) => new BigInt64Array(n),
      );
    case 'INTEGER':
      return fixed(
        4,
        (a) => new a.Int32(),
        (n) => new Int32Array(n),
      );
    case 'SMALLINT':
      return fixed(
        2,
        (a) => new a.Int16(),
        (n) => new Int16Array(n),
      );
    case 'TINYINT':
      return fixed(
        1,
        (a) => new a.Int8(),
        (n) => new Int8Array(n),
      );
    case 'UBIGINT':
      return fixed(
        8,
        (a) => new a.Uint64(),
        (n) => new BigUint64Array(n),
      );
    case 'UINTEGER':
      return fixed(
        4,
        (a) => new a.Uint32(),
        (n) => new Uint32Array(n),
      );
    case 'USMALLINT':
      return fixed(
        2,
        (a) => new a.Uint16(),
        (n) => new Uint16Array(n),
      );
    case 'UTINYINT':
      return fixed(
        1,
        (a) => new a.Uint8(),
        (n) => new Uint8Array(n),
      );
    case 'DATE':
      return fixed(
        4,
        (a) => new a.DateDay(),
        (n) => new Int32Array(n),
      );
    case 'TIMESTAMP':
      return fixed(
        8,
        (a) => new a.TimestampMicrosecond(),
        (n) => new BigInt64Array(n),
      );
    case 'TIMESTAMP WITH TIME ZONE':
      return fixed(
        8,
        (a) => new a.TimestampMicrosecond('UTC'),
        (n) => new BigInt64Array(n),
      );
    case 'BOOLEAN':
      return {
        name,
        select: id,
        kind: 'bool',
        width: 1,
        makeType: (a) => new a.Bool(),
        makeArray: (n) => new Uint8Array(n),
      };
    default:
      if (duckType === 'HUGEINT' || duckType === 'UHUGEINT' || duckType.startsWith('DECIMAL')) {
        return fixed(
          8,
          (a) => new a.Float64(),
          (n) => new Float64Array(n),
          `CAST(${id} AS DOUBLE) AS ${id}`,
        );
      }
      // VARCHAR, and anything else (lists, structs, intervals, …) as its text form.
      return {
        name,
        select: duckType === 'VARCHAR' ? id : `CAST(${id} AS VARCHAR) AS ${id}`,
        kind: 'string',
        width: 0,
        makeType: (a) => new a.Utf8(),
        makeArray: () => new Uint8Array(0),
      };
  }
}

/** Reads `files` (union by column name, rows in file order) into one Arrow Table. */
export async function readParquetFiles(
  files: readonly string[],
  options: ReadParquetOptions = {},
): Promise<Table> {
  const arrow = await import('apache-arrow');
  if (files.length === 0) return new arrow.Table();
  const duckdb = await loadBindings();
  const con = await connectShared();
  try {
    const from = await sourceSql(con, files, options.perFile);
    const source = `SELECT * FROM ${from}`;
    let columns = await describeQuery(con, source);
    const names = new Set(columns.map((c) => c.name));
    const added = (options.addMissing ?? []).filter((m) => !names.has(m.name));
    columns = [...columns, ...added.map((m) => ({ name: m.name, type: 'VARCHAR' }))];
    for (const name of options.last ?? []) {
      const at = columns.findIndex((c) => c.name === name);
      if (at >= 0) columns.push(...columns.splice(at, 1));
    }
    const plans = columns.map((c) => planFor(c.name, c.type));
    const constants = new Map(added.map((m) => [m.name, m.value]));
    const selectList = plans
      .map((p) =>
        constants.has(p.name)
          ? `${quoteLiteral(constants.get(p.name)!)}::VARCHAR AS ${quoteIdent(p.name)}`
          : p.select,
      )
      .join(', ');
    const countReader = await con.runAndReadAll(`SELECT count(*) FROM ${from}`);
    const total = Number(countReader.getRowsJS()[0]?.[0] ?? 0);

    const outs = plans.map((p) => p.makeArray(p.kind === 'string' ? 0 : total));
    const strings: (string | null)[][] = plans.map(() => []);
    const bitmaps: (Uint8Array | undefined)[] = plans.map(() => undefined);
    const nullCounts = plans.map(() => 0);
    const result = await con.stream(`SELECT ${selectList} FROM ${from}`);
    let offset = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const n = chunk.rowCount;
      if (offset + n > total) throw new Error('parquet: files changed while being read');
      for (let ci = 0; ci < plans.length; ci++) {
        const plan = plans[ci]!;
        const vec = duckdb.data_chunk_get_vector(chunk.chunk, ci);
        const validity = duckdb.vector_get_validity(vec, Math.ceil(n / 64) * 8);
        if (validity) {
          const nulls = countNulls(validity, n);
          if (nulls > 0) {
            bitmaps[ci] ??= new Uint8Array(Math.ceil(total / 8)).fill(0xff);
            copyBits(bitmaps[ci]!, offset, validity, n);
            nullCounts[ci]! += nulls;
          }
        }
        if (plan.kind === 'string') {
          const v = chunk.getColumnVector(ci);
          const out = strings[ci]!;
          for (let j = 0; j < n; j++) out.push(v.getItem(j) as string | null);
        } else {
          const bytes = duckdb.vector_get_data(vec, n * plan.width);
          const out = outs[ci]!;
          new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes, offset * plan.width);
        }
      }
      offset += n;
    }
    if (offset !== total) throw new Error('parquet: files changed while being read');

    const fields: Field[] = [];
    const children: Data[] = [];
    for (let ci = 0; ci < plans.length; ci++) {
      const plan = plans[ci]!;
      const type = plan.makeType(arrow);
      const nullCount = nullCounts[ci]!;
      const nullBitmap = nullCount > 0 ? bitmaps[ci] : undefined;
      let data: Data;
      if (plan.kind === 'string') {
        data = arrow.vectorFromArray(strings[ci]!, new arrow.Utf8()).data[0]!;
      } else if (plan.kind === 'bool') {
        data = arrow.makeData({
          type: new arrow.Bool(),
          length: total,
          nullCount,
          nullBitmap,
          data: packBits(outs[ci] as Uint8Array, total),
        });
      } else {
        // makeData builds the same fixed-width Data for every numeric type; its overloads are keyed on the
        // concrete type, hence the casts.
        data = arrow.makeData({
          type: type as Float64,
          length: total,
          nullCount,
          nullBitmap,
          data: outs[ci] as unknown as Float64Array,
        });
      }
      fields.push(new arrow.Field(plan.name, type, true));
      children.push(data);
    }
    const schema = new arrow.Schema(fields);
    const struct = arrow.makeData({ type: new arrow.Struct(fields), length: total, nullCount: 0, children });
    return new arrow.Table([new arrow.RecordBatch(schema, struct)]);
  } finally {
    con.closeSync();
  }
}

/** Number of zero bits among the first `n` of a DuckDB validity mask. */
function countNulls(validity: Uint8Array, n: number): number {
  let nulls = 0;
  const full = n >> 3;
  for (let b = 0; b < full; b++) {
    const byte = validity[b]!;
    if (byte !== 0xff) nulls += 8 - popcount8(byte);
  }
  for (let j = full << 3; j < n; j++) if ((validity[j >> 3]! & (1 << (j & 7))) === 0) nulls++;
  return nulls;
}

function popcount8(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** Copies `n` validity bits to `target` starting at bit `at` (both LSB-first, 1 = valid). */
function copyBits(target: Uint8Array, at: number, src: Uint8Array, n: number): void {
  if ((at & 7) === 0) {
    const full = n >> 3;
    target.set(src.subarray(0, full), at >> 3);
    for (let j = full << 3; j < n; j++) setBit(target, at + j, (src[j >> 3]! & (1 << (j & 7))) !== 0);
    return;
  }
  for (let j = 0; j < n; j++) setBit(target, at + j, (src[j >> 3]! & (1 << (j & 7))) !== 0);
}

function setBit(target: Uint8Array, bit: number, on: boolean): void {
  const i = bit >> 3;
  const mask = 1 << (bit & 7);
  target[i] = on ? target[i]! | mask : target[i]! & ~mask;
}

/** Arrow's bit-packed booleans from DuckDB's one byte per value. */
function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let j = 0; j < n; j++) if (bytes[j]) out[j >> 3] = out[j >> 3]! | (1 << (j & 7));
  return out;
}
