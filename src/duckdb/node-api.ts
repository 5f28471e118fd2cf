/**
 * The DuckDB seam: this folder and the catalog are the only places that import `@duckdb/node-api`; storage
 * uses it as a Parquet engine and the catalog as a SQL engine. It is loaded lazily (dynamic import) because DuckDB
 * costs ~70 ms of start-up that `specimen --help` must not pay.
 * Beside this file: raw.ts (the C-API bindings, for bulk column moves), arrow.ts (results as apache-arrow
 * Tables) and read-parquet.ts (Parquet files as Tables, the per-thread shared database).
 */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';

export type DuckDBModule = typeof import('@duckdb/node-api');

let modulePromise: Promise<DuckDBModule> | undefined;

/** The `@duckdb/node-api` module, imported on first use. */
export function loadDuckDB(): Promise<DuckDBModule> {
  modulePromise ??= import('@duckdb/node-api');
  return modulePromise;
}

/** Quotes an SQL identifier (table, view or column name). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes an SQL string literal. Prefer bound parameters; this is for places DuckDB cannot bind (COPY targets). */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new TypeError('sql: string literal contains NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/** Opens an in-memory DuckDB instance and a connection; call `close()` when done. */
export async function openMemory(options: Record<string, string> = {}): Promise<{
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  close: () => void;
}> {
  const { DuckDBInstance } = await loadDuckDB();
  const instance = await DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  return {
    instance,
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
