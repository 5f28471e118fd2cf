/**
 * Reads Parquet files into apache-arrow Tables through DuckDB: the files' union by column name, with the
 * columns a run's Table needs added or moved, converted by arrow.ts into columns allocated once at the
 * row count. Also the per-thread shared DuckDB that storage uses as its Parquet engine.
 *
 * @example
 * const table = await readParquetFiles(['/runs/r1/metrics.parquet'])
 * table.getChild('loss')?.toArray() // Float64Array
 * const info = await parquetFileInfo('/runs/r1/metrics.parquet') // { rows, columns, bytes }
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { resultToArrow } from './arrow.js';
import { loadDuckDB, quoteIdent, quoteLiteral } from './node-api.js';

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

/**
 * The DuckDB types a Table read from Parquet carries as they are (see arrow.ts for how). HUGEINT and DECIMAL
 * become DOUBLE, and anything else (lists, structs, intervals, other timestamp units…) its text form, in
 * SQL before the converter sees them: metrics Tables are flat and keep the column types they always had.
 */
const AS_IS = new Set([
  'DOUBLE',
  'FLOAT',
  'BIGINT',
  'INTEGER',
  'SMALLINT',
  'TINYINT',
  'UBIGINT',
  'UINTEGER',
  'USMALLINT',
  'UTINYINT',
  'DATE',
  'TIMESTAMP',
  'TIMESTAMP WITH TIME ZONE',
  'BOOLEAN',
  'VARCHAR',
]);

/** The SQL expression selecting column `name` of DuckDB type `duckType` for a Table. */
function selectFor(name: string, duckType: string): string {
  const id = quoteIdent(name);
  if (AS_IS.has(duckType)) return id;
  if (duckType === 'HUGEINT' || duckType === 'UHUGEINT' || duckType.startsWith('DECIMAL'))
    return `CAST(${id} AS DOUBLE) AS ${id}`;
  return `CAST(${id} AS VARCHAR) AS ${id}`;
}

/** Reads `files` (union by column name, rows in file order) into one Arrow Table. */
export async function readParquetFiles(
  files: readonly string[],
  options: ReadParquetOptions = {},
): Promise<Table> {
  const arrow = await import('apache-arrow');
  if (files.length === 0) return new arrow.Table();
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
    const constants = new Map(added.map((m) => [m.name, m.value]));
    const selectList = columns
      .map((c) =>
        constants.has(c.name)
          ? `${quoteLiteral(constants.get(c.name)!)}::VARCHAR AS ${quoteIdent(c.name)}`
          : selectFor(c.name, c.type),
      )
      .join(', ');
    const countReader = await con.runAndReadAll(`SELECT count(*) FROM ${from}`);
    const total = Number(countReader.getRowsJS()[0]?.[0] ?? 0);
    // The count sizes every column once, so the copy out of DuckDB's chunks is the only one.
    const result = await con.stream(`SELECT ${selectList} FROM ${from}`);
    const table = await resultToArrow(result, { rows: total, names: columns.map((c) => c.name) });
    if (table.numRows !== total) throw new Error('parquet: files changed while being read');
    return table;
  } finally {
    con.closeSync();
  }
}
