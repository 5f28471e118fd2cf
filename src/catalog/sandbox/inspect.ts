/**
 * What a user SELECT may use, checked on DuckDB's own parse tree (`json_serialize_sql`) before the statement
 * is prepared, so nothing is bound or read until it passes:
 *
 * - **No path disclosure, no dynamic SQL.** Functions that reveal this machine's paths or settings
 *   (`duckdb_settings()`, `duckdb_databases()`, `getvariable`, `glob`, …) and `query()`/`query_table()` are
 *   refused by name; `current_setting` only for a literal setting whose value is not a path. The catalog's
 *   own macros (`sv_…`) are not for users either.
 * - **Table functions from an allow-list**: generators (`range`, `unnest`, …), the catalog's metadata tables
 *   and the file readers.
 * - **Files.** A file reader (`read_parquet`, `read_csv`, `read_text`, a quoted path after FROM, …) takes
 *   literal paths only, without wildcards. Each must be a regular file inside the vault whose real path
 *   (symbolic links resolved) is inside the vault's real root and that has exactly one link: a hard link
 *   inside the vault to a file outside is refused, as is a path through a symlinked directory. The files'
 *   identities are checked again after the query (`recheckFiles`), so a file replaced between the check and
 *   the read fails the query instead of returning what was swapped in.
 *
 * Refusals of files are SqlErrors saying `Permission Error`, like DuckDB's own for a path outside
 * `allowed_directories`, with the position of the offending literal; refusals of functions are
 * QueryNotAllowedErrors naming the function.
 *
 * @example
 * const files = await inspectUserSelect(con, sql, { root, realRoot })   // throws when refused
 * const result = await prepared.run()
 * recheckFiles(files, sql)                                            // throws when a file changed
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { QueryNotAllowedError, SqlError } from '../../errors.js';

/** Scalar and table functions user queries may not call, with the reason shown. */
const DENIED: ReadonlyMap<string, string> = new Map([
  ...[
    'duckdb_settings',
    'duckdb_databases',
    'duckdb_extensions',
    'duckdb_secrets',
    'duckdb_secret_types',
    'which_secret',
    'duckdb_temporary_files',
    'duckdb_variables',
    'duckdb_external_file_cache',
    'duckdb_logs',
    'duckdb_log_contexts',
    'duckdb_prepared_statements',
    'pragma_database_list',
    'pragma_database_size',
    'pragma_user_agent',
    'pragma_platform',
    'getvariable',
    'glob',
    'read_duckdb',
    'enable_logging',
  ].map((f) => [f, 'it reveals paths or settings of this machine'] as const),
  ...['query', 'query_table'].map(
    (f) => [f, 'it runs SQL built at run time, which cannot be checked'] as const,
  ),
]);

/** Table functions user queries may call besides the file readers. */
const TABLE_FUNCTIONS: ReadonlySet<string> = new Set([
  'range',
  'generate_series',
  'unnest',
  'repeat',
  'repeat_row',
  'json_each',
  'json_tree',
  'test_all_types',
  'duckdb_tables',
  'duckdb_views',
  'duckdb_columns',
  'duckdb_schemas',
  'duckdb_types',
  'duckdb_functions',
  'duckdb_keywords',
  'duckdb_constraints',
  'duckdb_indexes',
  'duckdb_dependencies',
  'duckdb_sequences',
  'duckdb_optimizers',
  'pragma_table_info',
  'pragma_show',
  'pragma_version',
]);

/** File readers: their first argument is one path or a list of paths. */
const READERS: ReadonlySet<string> = new Set([
  'read_parquet',
  'parquet_scan',
  'parquet_metadata',
  'parquet_schema',
  'parquet_file_metadata',
  'parquet_kv_metadata',
  'parquet_bloom_probe',
  'read_csv',
  'read_csv_auto',
  'sniff_csv',
  'read_text',
  'read_blob',
  'read_json',
  'read_json_auto',
  'read_ndjson',
  'read_ndjson_auto',
  'read_json_objects',
  'read_json_objects_auto',
  'read_ndjson_objects',
]);

/** Settings whose values are paths (or may hold one): `current_setting` refuses them. */
const PATH_SETTING = /director|path|repository|file|output|home|secret|user_agent|api/i;

/** A file a query may read, as it was when checked. */
export interface CheckedFile {
  /** The path as written in the query. */
  path: string;
  /** `dev:ino:nlink:size:mtimeMs`, or `absent`. */
  identity: string;
}

/** The vault root as given and with symlinks resolved. */
export interface VaultRoots {
  root: string;
  realRoot: string;
}

interface Node {
  [key: string]: unknown;
}

function isNode(v: unknown): v is Node {
  return v !== null && typeof v === 'object';
}

function lower(v: unknown): string {
  return typeof v === 'string' ? v.toLowerCase() : '';
}

/** Location of a node as a 0-based offset, when DuckDB recorded one. */
function locationOf(n: Node): number | undefined {
  const at = n.query_location;
  return typeof at === 'number' && at < Number.MAX_SAFE_INTEGER ? at : undefined;
}

/** Line and column of `position` in `sql`. */
function lineColumn(sql: string, position: number): { line: number; column: number } {
  const before = sql.slice(0, position).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

function permission(sql: string, file: string, why: string, at: number | undefined): SqlError {
  const message = `Permission Error: Cannot access file ${JSON.stringify(file)} - ${why}`;
  if (at === undefined) return new SqlError(message, sql, undefined, undefined, undefined);
  const { line, column } = lineColumn(sql, at);
  return new SqlError(message, sql, at, line, column);
}

function refuse(sql: string, reason: string): QueryNotAllowedError {
  return new QueryNotAllowedError(sql, 'SELECT', reason);
}

/** A string constant node's value. */
function constantString(n: unknown): string | undefined {
  if (!isNode(n) || n.class !== 'CONSTANT') return undefined;
  const v = n.value as Node | undefined;
  return v && !v.is_null && typeof v.value === 'string' ? v.value : undefined;
}

/** The literal paths of a reader's first argument: a string, or a list of strings. */
function literalPaths(sql: string, name: string, arg: unknown): { path: string; at: number | undefined }[] {
  const one = constantString(arg);
  if (one !== undefined) return [{ path: one, at: isNode(arg) ? locationOf(arg) : undefined }];
  if (isNode(arg) && arg.class === 'FUNCTION' && lower(arg.function_name) === 'list_value') {
    const children = (arg.children as unknown[]) ?? [];
    const out = children.map((c) => ({ path: constantString(c), at: isNode(c) ? locationOf(c) : undefined }));
    if (out.length > 0 && out.every((p) => p.path !== undefined))
      return out as { path: string; at: number | undefined }[];
  }
  throw refuse(sql, `${name}() takes literal file paths in a user query, not an expression or a parameter`);
}

/** Identity of a file for the check after the query. */
function identityOf(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.nlink}:${st.size}:${st.mtimeMs}` : 'absent';
}

/** Checks one path a query reads (see the module comment); returns its identity. */
function checkFile(sql: string, file: string, at: number | undefined, roots: VaultRoots): CheckedFile {
  if (/[*?[\]{}]/.test(file))
    throw permission(
      sql,
      file,
      'file patterns are not allowed in user queries; read many files through the views (metrics, exp_<id>)',
      at,
    );
  const abs = path.resolve(roots.root, file);
  const inside = (p: string, root: string) => p === root || p.startsWith(`${root}${path.sep}`);
  if (!inside(abs, roots.root) && !inside(abs, roots.realRoot))
    throw permission(sql, file, 'user queries read only files inside the vault', at);
  let real: string;
  try {
    real = fs.realpathSync(abs);
  } catch {
    // Absent: DuckDB says so; the check after the query catches a file that appeared meanwhile.
    return { path: abs, identity: 'absent' };
  }
  if (!inside(real, roots.realRoot))
    throw permission(sql, file, 'it resolves outside the vault (through a symbolic link)', at);
  const st = fs.statSync(real);
  if (st.isFile() && st.nlink > 1)
    throw permission(
      sql,
      file,
      `it has ${st.nlink} hard links; user queries read only files with a single link, which cannot alias a file outside the vault`,
      at,
    );
  return { path: abs, identity: identityOf(abs) };
}

/**
 * Walks the parse tree of `sql`, refusing what the module comment lists, and returns the files it reads.
 * Undefined when DuckDB cannot serialize the statement (not a SELECT, or a SELECT form such as PIVOT); the
 * caller refuses a SELECT it could not inspect.
 */
export async function inspectUserSelect(
  con: DuckDBConnection,
  sql: string,
  roots: VaultRoots,
): Promise<Inspection | undefined> {
  const reader = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [sql]);
  const tree = JSON.parse(String(reader.getRowsJS()[0]?.[0] ?? '{}')) as { error?: boolean };
  if (tree.error) return undefined;
  const files: CheckedFile[] = [];
  const tables = new Set<string>();
  const readFiles = (name: string, arg: unknown) => {
    for (const p of literalPaths(sql, name, arg)) files.push(checkFile(sql, p.path, p.at, roots));
  };
  // An explicit stack: a deeply nested query must not overflow this walk.
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const n = stack.pop();
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
      continue;
    }
    if (!isNode(n)) continue;
    if (n.class === 'FUNCTION' && typeof n.function_name === 'string') {
      const name = n.function_name.toLowerCase();
      const denied = DENIED.get(name);
      if (denied) throw refuse(sql, `${name}() is not available to user queries: ${denied}`);
      if (name.startsWith('sv_'))
        throw refuse(sql, `${name}() is internal to the catalog and not available to user queries`);
      const children = (n.children as unknown[]) ?? [];
      if (name === 'current_setting') {
        const setting = constantString(children[0]);
        if (setting === undefined || PATH_SETTING.test(setting))
          throw refuse(
            sql,
            `current_setting(${setting === undefined ? '…' : JSON.stringify(setting)}) is not available to user queries: it reveals paths of this machine`,
          );
      }
      if (READERS.has(name)) readFiles(name, children[0]);
    }
    if (n.type === 'TABLE_FUNCTION' && isNode(n.function)) {
      const name = lower(n.function.function_name);
      if (!TABLE_FUNCTIONS.has(name) && !READERS.has(name) && !DENIED.has(name) && !name.startsWith('sv_'))
        throw refuse(sql, `table function ${name}() is not available to user queries`);
    }
    if (n.type === 'BASE_TABLE' && typeof n.table_name === 'string') tables.add(n.table_name.toLowerCase());
    if (
      n.type === 'BASE_TABLE' &&
      typeof n.table_name === 'string' &&
      !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n.table_name)
    ) {
      // `FROM 'file.csv'`: DuckDB reads a file named like this when no table is (a replacement scan).
      files.push(checkFile(sql, n.table_name, locationOf(n), roots));
    }
    for (const v of Object.values(n)) if (isNode(v)) stack.push(v);
  }
  return { files, tables: [...tables] };
}

/** What a user SELECT reads: files it names, and the tables and views it names (lower case). */
export interface Inspection {
  files: CheckedFile[];
  tables: string[];
}

/**
 * Checks the metrics files behind the views a query names (`metrics`: every run's; `exp_<id>`: that
 * specimen's), as listed in the catalog's `artifacts`, by the same rules as files a query names: a metrics
 * file hard-linked to, or replaced by a link to, a file outside the vault after it was indexed is refused.
 */
export async function checkViewFiles(
  con: DuckDBConnection,
  sql: string,
  tables: readonly string[],
  roots: VaultRoots,
): Promise<CheckedFile[]> {
  const all = tables.includes('metrics');
  const specimens = tables.filter((t) => t.startsWith('exp_')).map((t) => t.slice('exp_'.length));
  if (!all && specimens.length === 0) return [];
  const reader = all
    ? await con.runAndReadAll("SELECT path FROM artifacts WHERE kind = 'metrics'")
    : await con.runAndReadAll(
        // Specimen IDs hold no comma (format/ids.ts), so a joined list splits back exactly.
        "SELECT path FROM artifacts WHERE kind = 'metrics' AND list_contains(string_split($1, ','), lower(specimen_id))",
        [specimens.join(',')],
      );
  return reader.getRowsJS().map((r) => checkFile(sql, String(r[0]), undefined, roots));
}

/** Throws when a file checked before the query is no longer the one that was checked. */
export function recheckFiles(files: readonly CheckedFile[], sql: string): void {
  for (const f of files) {
    if (identityOf(f.path) !== f.identity)
      throw permission(sql, f.path, 'it changed while the query read it; run the query again', undefined);
  }
}
