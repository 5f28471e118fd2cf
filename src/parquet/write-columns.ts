/**
 * Writes columns held in typed arrays to a Parquet file through DuckDB: the arrays are copied into DuckDB
 * data chunks 2,048 rows at a time (`copy_data_to_vector`), appended whole to a temp table, and the table
 * is `COPY`ed to Parquet. Per-value appender calls would cost most of the time for millions of rows.
 *
 * @example
 * await writeColumnsParquet(session, '/runs/r1/metrics.parquet', [
 *   { name: 'step', type: 'BIGINT', storage: 'f64', values: new Float64Array([0, 1, 2]) },
 *   { name: 'loss', type: 'DOUBLE', storage: 'f64', values: new Float64Array([0.9, 0.5, 0.4]) },
 * ], 3, { constants: [{ name: 'run_id', value: 'r1' }] })
 */
import fsp from 'node:fs/promises';
import { quoteIdent, quoteLiteral } from '../duckdb/node-api.js';
import type { RawSession } from '../duckdb/raw.js';
import { tempPathFor } from '../format/atomic-write.js';

/** DuckDB types of metrics columns. */
export type MetricsType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';

/**
 * How a column's values sit in memory. `f64` also carries BIGINT columns whose values are all safe integers
 * (logging them as doubles avoids a BigInt allocation per value; DuckDB casts them exactly).
 */
export type StorageKind = 'f64' | 'i64' | 'i32' | 'bool' | 'string';

/** One column to write. */
export interface ColumnData {
  name: string;
  /** The type the column has in the Parquet file. */
  type: MetricsType;
  storage: StorageKind;
  /** At least `rows` values; `bool` is one byte per row (0/1). Values of null rows are ignored. */
  values: Float64Array | BigInt64Array | Int32Array | Uint8Array | readonly (string | null)[];
  /** One byte per row, non-zero where the row is null; absent when no row is null. */
  nulls?: Uint8Array | undefined;
}

export interface WriteColumnsOptions {
  /** Constant VARCHAR columns appended after the data columns (e.g. run_id). */
  constants?: readonly { name: string; value: string }[];
  /**
   * fsync the file before renaming it into place (default false). The rename alone makes the write atomic
   * against process crashes; fsync adds durability against power loss at about the cost of the write itself.
   */
  sync?: boolean;
  /** Parquet compression codec (default zstd). */
  compression?: string;
}

const CHUNK = 2048;
const utf8 = new TextEncoder();

const SQL_STORAGE: Record<StorageKind, string> = {
  f64: 'DOUBLE',
  i64: 'BIGINT',
  i32: 'INTEGER',
  bool: 'BOOLEAN',
  string: 'VARCHAR',
};

let tableCounter = 0;

/**
 * Writes `rows` rows of `columns` to `file` atomically (temp file beside it, then rename). `session` must be
 * a connection that no other query uses concurrently.
 */
export async function writeColumnsParquet(
  session: RawSession,
  file: string,
  columns: readonly ColumnData[],
  rows: number,
  options: WriteColumnsOptions = {},
): Promise<void> {
  const { duckdb } = session;
  const T = duckdb.Type;
  const table = `_sv_cols_${process.pid}_${++tableCounter}`;
  // Rows without any data column (only constants) still count: the table then has a placeholder column.
  const defs =
    columns.length > 0 ? columns.map((c, i) => `c${i} ${SQL_STORAGE[c.storage]}`).join(', ') : 'c0 BOOLEAN';
  await session.run(`CREATE TEMP TABLE ${table} (${defs})`);
  const tmp = tempPathFor(file);
  try {
    if (rows > 0 && columns.length === 0) {
      await session.run(`INSERT INTO temp.main.${table} SELECT NULL FROM range(${rows})`);
    } else if (rows > 0) {
      const appender = duckdb.appender_create_ext(session.con, 'temp', 'main', table);
      try {
        const typeIds = { f64: T.DOUBLE, i64: T.BIGINT, i32: T.INTEGER, bool: T.BOOLEAN, string: T.VARCHAR };
        const chunk = duckdb.create_data_chunk(
          columns.map((c) => duckdb.create_logical_type(typeIds[c.storage])),
        );
        const vectors = columns.map((_, i) => duckdb.data_chunk_get_vector(chunk, i));
        const validity = new Uint8Array(CHUNK / 8);
        for (let off = 0; off < rows; off += CHUNK) {
          const n = Math.min(CHUNK, rows - off);
          for (let ci = 0; ci < columns.length; ci++) {
            const col = columns[ci]!;
            const vec = vectors[ci]!;
            const values = col.values;
            if (col.storage === 'string') {
              const strings = values as readonly (string | null)[];
              for (let j = 0; j < n; j++) {
                const s = strings[off + j];
                // By bytes, not as a C string: a string may contain NUL.
                if (typeof s === 'string' && !col.nulls?.[off + j]) {
                  duckdb.vector_assign_string_element_len(vec, j, utf8.encode(s));
                }
              }
            } else {
              const typed = values as Float64Array | BigInt64Array | Int32Array | Uint8Array;
              const width = typed.BYTES_PER_ELEMENT;
              duckdb.copy_data_to_vector(
                vec,
                0,
                typed.buffer as ArrayBuffer,
                typed.byteOffset + off * width,
                n * width,
              );
            }
            const nulls = col.nulls ?? (col.storage === 'string' ? stringNulls(values, off, n) : undefined);
            if (nulls) {
              fillValidity(validity, nulls, col.nulls ? off : 0, n);
              duckdb.vector_ensure_validity_writable(vec);
              duckdb.copy_data_to_vector_validity(vec, 0, validity.buffer, 0, Math.ceil(n / 8));
            }
          }
          duckdb.data_chunk_set_size(chunk, n);
          duckdb.append_data_chunk(appender, chunk);
          duckdb.data_chunk_reset(chunk);
        }
      } finally {
        duckdb.appender_close_sync(appender);
      }
    }
    const selectList = [
      ...columns.map((c, i) =>
        c.storage === 'f64' && c.type === 'BIGINT'
          ? `CAST(c${i} AS BIGINT) AS ${quoteIdent(c.name)}`
          : c.storage === 'i32' && c.type === 'BIGINT'
            ? `CAST(c${i} AS BIGINT) AS ${quoteIdent(c.name)}`
            : `c${i} AS ${quoteIdent(c.name)}`,
      ),
      ...(options.constants ?? []).map((k) => `${quoteLiteral(k.value)}::VARCHAR AS ${quoteIdent(k.name)}`),
    ];
    if (selectList.length === 0) selectList.push('c0 AS "value"');
    const select = selectList.join(', ');
    await session.run(
      `COPY (SELECT ${select} FROM ${table}) TO ${quoteLiteral(tmp)} ` +
        `(FORMAT parquet, COMPRESSION ${options.compression ?? 'zstd'})`,
    );
    if (options.sync ?? false) {
      const fh = await fsp.open(tmp, 'r');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  } finally {
    await session.run(`DROP TABLE IF EXISTS temp.main.${table}`).catch(() => {});
  }
}

/** Null bytes for a string column without a null mask: rows whose value is not a string. */
function stringNulls(values: ColumnData['values'], off: number, n: number): Uint8Array | undefined {
  const strings = values as readonly (string | null)[];
  let out: Uint8Array | undefined;
  for (let j = 0; j < n; j++) {
    if (typeof strings[off + j] !== 'string') {
      out ??= new Uint8Array(n);
      out[j] = 1;
    }
  }
  return out;
}

/** DuckDB validity bits (LSB first, 1 = valid) for rows [off, off+n) of a one-byte-per-row null mask. */
function fillValidity(validity: Uint8Array, nulls: Uint8Array, off: number, n: number): void {
  validity.fill(0);
  for (let j = 0; j < n; j++) if (!nulls[off + j]) validity[j >> 3]! |= 1 << (j & 7);
}
