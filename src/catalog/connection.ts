/**
 * Opening the catalog. Every connection this library opens sets DuckDB's `file_search_path` to the vault
 * root, so the relative Parquet paths stored in the views resolve wherever the vault now lives, and sets
 * the `sv_root` variable to the root, which the catalog's macros prefix to those paths (a relative path is
 * refused once external access is disabled, an absolute one under `allowed_directories` is not).
 *
 * Other clients (Python's `duckdb`, the DuckDB CLI) should run from the vault root or
 * `SET file_search_path = '/path/to/vault'` before querying views.
 *
 * @example
 * const db = await openCatalog('/vault', { readOnly: true, sandbox: true })
 * const reader = await db.connection.runAndReadAll('SELECT count(*) FROM catalog')
 * db.close()
 */

import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadDuckDB, quoteLiteral } from '../duckdb/node-api.js';
import { CATALOG_FILE } from '../format/layout.js';
import { CatalogMissingError, toCatalogFileError } from './errors.js';

/** Name of the DuckDB variable holding the vault root (with a trailing slash) in our sessions. */
export const ROOT_VARIABLE = 'sv_root';

/** An open catalog database and one connection to it. */
export interface CatalogHandle {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
  /** Absolute path of the database file. */
  file: string;
  /** Closes the connection and the instance (idempotent). */
  close(): void;
}

/** Options of `openCatalog`. */
export interface OpenCatalogOptions {
  /** Open with `access_mode=READ_ONLY` (several processes may read at once). */
  readOnly?: boolean;
  /**
   * Lock the session down for untrusted SQL: no file access outside the vault, no extensions, no
   * configuration changes (`allowed_directories`, `enable_external_access=false`, `lock_configuration`).
   */
  sandbox?: boolean;
  /** Files a sandboxed session may still write (an export's output), in addition to reading the vault. */
  allowedPaths?: readonly string[];
  /** The database file; the vault's `vault.duckdb` unless given (the indexer opens its build file). */
  file?: string;
  /** Further DuckDB configuration options. */
  config?: Record<string, string>;
}

/** Absolute path of the vault's catalog. */
export function catalogPath(root: string): string {
  return path.join(path.resolve(root), CATALOG_FILE);
}

/** Opens the catalog of the vault at `root` (see the module comment for what each session sets). */
export async function openCatalog(root: string, options: OpenCatalogOptions = {}): Promise<CatalogHandle> {
  const absRoot = path.resolve(root);
  const file = options.file ?? catalogPath(absRoot);
  if (options.readOnly && !fs.existsSync(file)) throw new CatalogMissingError(file);
  const { DuckDBInstance } = await loadDuckDB();
  const config: Record<string, string> = {
    file_search_path: absRoot,
    // A query must never fetch an extension from the network; parquet and json are built in.
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...options.config,
  };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  // DuckDB's refusal of the file itself (damaged, not a database, no permission, locked by another
  // program) becomes a CatalogFileError that says what to do, never an internal error.
  const instance = await DuckDBInstance.create(file, config).catch((err: unknown) => {
    throw toCatalogFileError(err, file);
  });
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect().catch((err: unknown) => {
      throw toCatalogFileError(err, file);
    });
    await connection.run(`SET VARIABLE ${ROOT_VARIABLE} = ${quoteLiteral(`${absRoot}${path.sep}`)}`);
    if (options.sandbox) await lockDown(connection, absRoot, options.allowedPaths ?? []);
  } catch (err) {
    connection?.closeSync();
    instance.closeSync();
    throw err;
  }
  let closed = false;
  const con = connection;
  return {
    instance,
    connection: con,
    file,
    close: () => {
      if (closed) return;
      closed = true;
      con.closeSync();
      instance.closeSync();
    },
  };
}

/**
 * Restricts a session to reading the vault. The order matters: `allowed_directories` must be set while
 * configuration may still change, external access is then disabled (which also blocks COPY TO, ATTACH,
 * INSTALL and LOAD), and finally the configuration is locked so a query cannot undo either.
 *
 * With external access disabled, DuckDB 1.5 checks a path against `allowed_directories` as written,
 * before `file_search_path` applies: a relative path is refused, an absolute one under the vault root
 * (after normalizing `..`) is allowed. That is why the views' macros prefix the `sv_root` variable. The
 * root is given with a trailing separator so a sibling such as `/data/vault-old` does not match `/data/vault`.
 * Symbolic links inside the vault are followed; they are the vault owner's to make.
 */
async function lockDown(
  connection: DuckDBConnection,
  absRoot: string,
  allowedPaths: readonly string[],
): Promise<void> {
  await connection.run(`SET allowed_directories = [${quoteLiteral(`${absRoot}${path.sep}`)}]`);
  if (allowedPaths.length > 0)
    await connection.run(
      `SET allowed_paths = [${allowedPaths.map((p) => quoteLiteral(path.resolve(p))).join(', ')}]`,
    );
  await connection.run('SET enable_external_access = false');
  await connection.run('SET lock_configuration = true');
}
