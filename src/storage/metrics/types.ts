/**
 * Public types of the metrics store.
 *
 * @example
 * const cols: MetricsInput = { step: new Int32Array([0, 1]), loss: new Float64Array([0.9, 0.7]) }
 * const rows: MetricsInput = [{ step: 0, loss: 0.9 }, { step: 1, loss: 0.7, note: 'warm-up done' }]
 */

/** Column-oriented (Record<name, ArrayLike>) or row-oriented (array of records) metrics. */
export type MetricsInput =
  | Record<
      string,
      ArrayLike<number | bigint | boolean | string | null> | Float64Array | Int32Array | BigInt64Array
    >
  | ReadonlyArray<Record<string, number | bigint | boolean | string | null | undefined>>;

/** A metrics Parquet file: absolute path, row count, columns with DuckDB types, size in bytes. */
export interface MetricsFileInfo {
  /** Absolute path. */
  path: string;
  rows: number;
  /** DuckDB types: BIGINT, DOUBLE, BOOLEAN, VARCHAR (other types in files written elsewhere). */
  columns: { name: string; type: string }[];
  bytes: number;
}
