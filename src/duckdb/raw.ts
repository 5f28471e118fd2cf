/**
 * Low-level DuckDB access through `@duckdb/node-bindings`, the C API that `@duckdb/node-api` wraps. The
 * metrics paths use it because moving whole columns in and out of DuckDB data chunks (`copy_data_to_vector`,
 * `vector_get_data`) is several times faster than the per-value appender and value converters.
 * Loaded lazily for the same start-up reason as duckdb.ts.
 *
 * @example
 * const db = await openRawSession({ threads: '1' })
 * await db.run('SELECT 42')
 * db.close()
 */
import type * as Bindings from '@duckdb/node-bindings';

export type DuckDBBindings = typeof Bindings;

let bindingsPromise: Promise<DuckDBBindings> | undefined;

/** The `@duckdb/node-bindings` module, imported on first use. */
export function loadBindings(): Promise<DuckDBBindings> {
  // A CommonJS module: its exports are the default export of the ESM namespace.
  bindingsPromise ??= import('@duckdb/node-bindings').then((m) => m.default as unknown as DuckDBBindings);
  return bindingsPromise;
}

/** An in-memory database and one connection on it, through the raw bindings. */
export interface RawSession {
  readonly duckdb: DuckDBBindings;
  readonly db: Bindings.Database;
  readonly con: Bindings.Connection;
  /** Runs one statement and returns its (materialized) result. */
  run(sql: string): Promise<Bindings.Result>;
  /** Opens another connection on the same database (temp tables are per connection). */
  connect(): Promise<RawSession>;
  close(): void;
}

/** Opens an in-memory DuckDB database with `config` options (e.g. `{ threads: '1' }`). */
export async function openRawSession(config: Record<string, string> = {}): Promise<RawSession> {
  const duckdb = await loadBindings();
  const cfg = duckdb.create_config();
  for (const [k, v] of Object.entries(config)) duckdb.set_config(cfg, k, v);
  const db = await duckdb.open(':memory:', cfg);
  const session = async (owner: boolean): Promise<RawSession> => {
    const con = await duckdb.connect(db);
    return {
      duckdb,
      db,
      con,
      run: (sql) => duckdb.query(con, sql),
      connect: () => session(false),
      close: () => {
        duckdb.disconnect_sync(con);
        if (owner) duckdb.close_sync(db);
      },
    };
  };
  return session(true);
}

let shared: Promise<RawSession> | undefined;

/**
 * A process-wide (per thread) database for short jobs on the calling thread; callers take their own
 * connection from it with `connect()` and close only that.
 */
export function sharedRawSession(): Promise<RawSession> {
  shared ??= openRawSession().catch((err) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
