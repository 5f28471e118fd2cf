/**
 * Read-only access to the SQLite files other tools write (MLflow's `mlflow.db`, Trackio's per-project
 * database), through sql.js: SQLite compiled to WebAssembly, so nothing is compiled or downloaded at install
 * time and it runs on every Node ≥ 20 (native bindings such as better-sqlite3 need a compiler or a prebuilt
 * binary fetched from outside the registry). The file is read into memory once; the source is never written.
 * sql.js is the only module that knows about it; it is loaded only when an import reads SQLite.
 *
 * @example
 * const db = await openSqlite('/data/mlflow.db')
 * try { const rows = db.all('SELECT name FROM experiments WHERE experiment_id = ?', [1]) } finally { db.close() }
 */
import fsp from 'node:fs/promises';
import type { Database, SqlValue } from 'sql.js';
import { ImportSourceError } from './errors.js';

/** A row as a plain object keyed by column name. */
export type SqliteRow = Record<string, SqlValue>;

/** The small surface the importers use. */
export interface SqliteFile {
  readonly path: string;
  /** Every row of a query with bound parameters. */
  all(sql: string, params?: readonly SqlValue[]): SqliteRow[];
  /** Calls `each` for every row without collecting them (large metric tables). */
  each(sql: string, params: readonly SqlValue[], each: (row: SqlValue[]) => void): void;
  /** Names of the tables. */
  tables(): Set<string>;
  /** Column names of a table. */
  columns(table: string): Set<string>;
  close(): void;
}

let engine: Promise<{ Database: new (data?: Uint8Array) => Database }> | undefined;

/**
 * Opens `file` and checks that SQLite can read it; a file that is not a database, or is damaged, throws
 * ImportSourceError naming it.
 */
export async function openSqlite(file: string): Promise<SqliteFile> {
  const bytes = await fsp.readFile(file);
  engine ??= import('sql.js').then((m) => (m.default as unknown as () => Promise<never>)());
  const { Database } = await engine;
  let db: Database;
  try {
    db = new Database(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    // Reading the schema touches the header and the first pages: a truncated or foreign file fails here.
    db.exec('SELECT count(*) FROM sqlite_master');
    const check = db.exec('PRAGMA quick_check');
    const verdict = check[0]?.values[0]?.[0];
    if (verdict !== 'ok') throw new Error(`integrity check: ${String(verdict)}`);
  } catch (err) {
    throw new ImportSourceError(file, `not a readable SQLite database (${(err as Error).message})`, {
      cause: err,
    });
  }
  const wrap = (sql: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      throw new ImportSourceError(
        file,
        `SQLite query failed: ${(err as Error).message} (in ${sql.slice(0, 80)})`,
        {
          cause: err,
        },
      );
    }
  };
  return {
    path: file,
    all(sql, params = []) {
      const out: SqliteRow[] = [];
      wrap(sql, () => {
        const stmt = db.prepare(sql);
        try {
          stmt.bind(params as SqlValue[]);
          while (stmt.step()) out.push(stmt.getAsObject());
        } finally {
          stmt.free();
        }
      });
      return out;
    },
    each(sql, params, each) {
      wrap(sql, () => {
        const stmt = db.prepare(sql);
        try {
          stmt.bind(params as SqlValue[]);
          while (stmt.step()) each(stmt.get());
        } finally {
          stmt.free();
        }
      });
    },
    tables() {
      const names = new Set<string>();
      wrap('sqlite_master', () => {
        for (const row of db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? [])
          names.add(String(row[0]));
      });
      return names;
    },
    columns(table) {
      const names = new Set<string>();
      wrap('table_info', () => {
        const stmt = db.prepare('SELECT name FROM pragma_table_info(?)');
        try {
          stmt.bind([table]);
          while (stmt.step()) names.add(String(stmt.get()[0]));
        } finally {
          stmt.free();
        }
      });
      return names;
    },
    close() {
      db.close();
    },
  };
}

/** Throws ImportSourceError unless every table has every listed column; names the first one missing. */
export function requireSchema(db: SqliteFile, schema: Record<string, readonly string[]>, what: string): void {
  const tables = db.tables();
  for (const [table, cols] of Object.entries(schema)) {
    if (!tables.has(table))
      throw new ImportSourceError(db.path, `${what}: no table ${JSON.stringify(table)}`);
    const have = db.columns(table);
    for (const c of cols)
      if (!have.has(c))
        throw new ImportSourceError(db.path, `${what}: table ${table} has no column ${JSON.stringify(c)}`);
  }
}
