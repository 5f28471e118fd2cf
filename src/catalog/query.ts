/**
 * Querying the catalog. `VaultQuery` keeps one read-only DuckDB session on `vault.duckdb` and notices when
 * an index has swapped in a new file (it compares the file's inode, size and mtime before each query) and
 * reopens it. `runUserQuery` runs one untrusted statement in a locked-down session: a single SELECT (by
 * DuckDB's own statement type), no file access outside the vault, no extensions, no settings.
 *
 * Views read Parquet through relative paths, resolved against the vault root, so a moved or copied vault
 * still answers (see connection.ts).
 *
 * @example
 * const q = await VaultQuery.open('/vault')
 * const table = await q.search('SELECT step, loss FROM exp_2025_01_02_x WHERE step >= $1', [50])
 * const rows = await q.rows("SELECT specimen_id, run_id, min(value) AS best FROM metrics WHERE metric = 'loss' GROUP BY ALL")
 * q.close()
 *
 * const { rows: safe } = await runUserQuery('/vault', 'SELECT * FROM catalog', { readOnly: true })
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBMaterializedResult, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { resultToArrow } from '../duckdb/arrow.js';
import { loadDuckDB } from '../duckdb/node-api.js';
import { type CatalogHandle, catalogPath, openCatalog } from './connection.js';
import { CatalogMissingError, QueryNotAllowedError, SqlError, toSqlError } from './errors.js';
import { type JsonValue, type ResultColumn, resultColumns, resultToRows, valueText } from './results.js';

/** Values bound to `$1, $2, …` (an array) or `$name` (an object). */
export type QueryParams =
  | readonly (string | number | boolean | bigint | null)[]
  | Readonly<Record<string, string | number | boolean | bigint | null>>;

/** Options of `VaultQuery.open`. */
export interface VaultQueryOptions {
  /**
   * Treat every query as untrusted: only single SELECT statements, and a session that cannot read files
   * outside the vault, load extensions or change settings (what `runUserQuery` uses).
   */
  sandbox?: boolean;
}

/** A JSON-safe result: columns (name, DuckDB type) and rows. */
export interface RowsResult {
  columns: ResultColumn[];
  rows: Record<string, JsonValue>[];
  /** True when `maxRows` cut the result short. */
  truncated: boolean;
}

function fileIdentity(file: string): string | undefined {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : undefined;
}

/** Read-only access to a vault's catalog; see the module comment. */
export class VaultQuery {
  private handle: CatalogHandle | undefined;
  private identity: string | undefined;
  /** Queries run one at a time, so a reopen never pulls the session from under another query. */
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    /** Absolute vault root. */
    readonly root: string,
    private readonly options: VaultQueryOptions,
  ) {}

  /** Opens the catalog of the vault at `root` read-only; CatalogMissingError when it was never indexed. */
  static async open(root: string, options: VaultQueryOptions = {}): Promise<VaultQuery> {
    const q = new VaultQuery(path.resolve(root), options);
    await q.reopenIfSwapped();
    return q;
  }

  /** Absolute path of `vault.duckdb`. */
  get catalogPath(): string {
    return catalogPath(this.root);
  }

  /** Runs `sql` and returns the result as an apache-arrow Table. */
  search(sql: string, params?: QueryParams): Promise<Table> {
    return this.run(sql, params, async (r) => {
      const m = await loadDuckDB();
      return resultToArrow(r, { text: (v) => valueText(v, m) });
    });
  }

  /** Specimens carrying `tag` (catalog rows, by specimen ID). */
  findByTag(tag: string): Promise<Table> {
    return this.search('SELECT * FROM catalog WHERE array_contains(tags, $1) ORDER BY specimen_id', [tag]);
  }

  /** The `turns` rows of a specimen's runs (docs/analysis.md), by run and metric. */
  turnsOf(specimenId: string): Promise<Record<string, JsonValue>[]> {
    return this.rows(
      'SELECT run_id, metric, step, onset_step, end_step, score, method FROM turns WHERE specimen_id = $1 ORDER BY run_id, metric',
      [specimenId],
    );
  }

  /** Runs `sql` and returns JSON-safe row objects (see results.ts). */
  async rows(sql: string, params?: QueryParams): Promise<Record<string, JsonValue>[]> {
    return (await this.query(sql, params)).rows;
  }

  /** Runs `sql` and returns its columns and JSON-safe rows, at most `maxRows` of them. */
  query(sql: string, params?: QueryParams, options: { maxRows?: number } = {}): Promise<RowsResult> {
    return this.run(sql, params, (r) => resultToRows(r, options.maxRows));
  }

  /** Column names and DuckDB types of a query's result, without fetching its rows. */
  describe(sql: string): Promise<ResultColumn[]> {
    return this.run(`SELECT * FROM (${sql}) LIMIT 0`, undefined, async (r) => resultColumns(r));
  }

  /** Closes the session. */
  close(): void {
    this.handle?.close();
    this.handle = undefined;
  }

  private run<T>(
    sql: string,
    params: QueryParams | undefined,
    collect: (r: DuckDBMaterializedResult) => Promise<T>,
  ): Promise<T> {
    const next = this.queue.then(async () => {
      await this.reopenIfSwapped();
      const con = this.handle!.connection;
      const values = params === undefined ? undefined : (params as Parameters<typeof con.run>[1]);
      try {
        if (!this.options.sandbox) return await collect(await con.run(sql, values));
        // The statement that was checked is the one that runs (preparing twice would bind views twice).
        const prepared = await prepareSingleSelect(con, sql);
        if (values !== undefined) prepared.bind(values);
        return await collect(await prepared.run());
      } catch (err) {
        throw toSqlError(err, sql);
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }

  /** Reopens the catalog when `vault.duckdb` is no longer the file this session opened. */
  private async reopenIfSwapped(): Promise<void> {
    const file = this.catalogPath;
    const identity = fileIdentity(file);
    if (identity === undefined) {
      if (this.handle) return; // The open snapshot stays usable until a new catalog appears.
      throw new CatalogMissingError(file);
    }
    if (this.handle && identity === this.identity) return;
    this.close();
    this.handle = await openCatalog(this.root, { readOnly: true, sandbox: this.options.sandbox === true });
    this.identity = identity;
  }
}

/**
 * Prepares `sql`, throwing QueryNotAllowedError unless it is exactly one statement whose DuckDB statement type is SELECT
 * (which includes `FROM t`, `WITH … SELECT`, `DESCRIBE`, `SHOW`, `PIVOT`). A statement DuckDB cannot prepare
 * (syntax, unknown table, a file outside the vault) raises its SqlError here.
 */
export async function prepareSingleSelect(
  con: CatalogHandle['connection'],
  sql: string,
): Promise<DuckDBPreparedStatement> {
  const { StatementType } = await loadDuckDB();
  const extracted = await con.extractStatements(sql);
  if (extracted.count === 0) throw new SqlError('no statement to run', sql, undefined, undefined, undefined);
  if (extracted.count > 1) throw new QueryNotAllowedError(sql, 'MULTI');
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (err) {
    // DuckDB binds before it tells the type: `DELETE FROM catalog` fails as "can only delete from base
    // table" (catalog is a view). The parser alone says whether it is a SELECT at all.
    const kind = await nonSelectKind(con, sql);
    if (kind) throw new QueryNotAllowedError(sql, kind);
    throw err;
  }
  const type = prepared.statementType;
  if (type !== StatementType.SELECT) throw new QueryNotAllowedError(sql, StatementType[type] ?? String(type));
  return prepared;
}

/**
 * The first keyword of `sql` when DuckDB's parser says it is not a SELECT (json_serialize_sql serializes
 * SELECT statements only), else undefined.
 */
async function nonSelectKind(con: CatalogHandle['connection'], sql: string): Promise<string | undefined> {
  const reader = await con.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR) AS j', [sql]);
  const out = JSON.parse(String(reader.getRowsJS()[0]?.[0] ?? '{}')) as {
    error?: boolean;
    error_message?: string;
  };
  if (!out.error || !/only SELECT/i.test(out.error_message ?? '')) return undefined;
  return /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? 'UNKNOWN';
}

/** Options of `runUserQuery`. */
export interface UserQueryOptions {
  /** Must be true: user queries only ever read. */
  readOnly: true;
  /** Values for `$1…` or `$name` placeholders. */
  params?: QueryParams;
  /** Stop after this many rows (`truncated` tells). */
  maxRows?: number;
}

/** Locked-down sessions kept per vault root between user queries (opening one loads every view). */
const sessions = new Map<string, { query: Promise<VaultQuery>; active: number; timer?: NodeJS.Timeout }>();

/** How long an idle user-query session stays open. */
const SESSION_IDLE_MS = 30_000;

/**
 * Runs one untrusted query against the catalog of the vault at `root`: a single SELECT, in a read-only
 * session that can read files only under the vault root (views keep working), cannot load extensions,
 * attach databases, write files or change settings. The session is kept for 30 s after the last query, so
 * a web UI does not pay for opening the catalog on every request; it follows catalog swaps by itself.
 */
export async function runUserQuery(
  root: string,
  sql: string,
  options: UserQueryOptions,
): Promise<RowsResult> {
  if (options.readOnly !== true) throw new TypeError('runUserQuery: only read-only queries are supported');
  const key = path.resolve(root);
  let entry = sessions.get(key);
  if (!entry) {
    const opened = VaultQuery.open(key, { sandbox: true });
    entry = { query: opened, active: 0 };
    sessions.set(key, entry);
    opened.catch(() => sessions.delete(key));
  }
  const current = entry;
  current.active++;
  if (current.timer) clearTimeout(current.timer);
  current.timer = undefined;
  try {
    const q = await current.query;
    return await q.query(
      sql,
      options.params,
      options.maxRows === undefined ? {} : { maxRows: options.maxRows },
    );
  } finally {
    current.active--;
    if (current.active === 0) {
      current.timer = setTimeout(() => {
        if (sessions.get(key) === current) sessions.delete(key);
        void current.query.then(
          (q) => q.close(),
          () => {},
        );
      }, SESSION_IDLE_MS);
      // An idle session never keeps the process alive.
      current.timer.unref();
    }
  }
}

/** Closes the sessions `runUserQuery` keeps (for a server shutting down, or tests). */
export async function closeUserQuerySessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  for (const entry of all) {
    if (entry.timer) clearTimeout(entry.timer);
    (await entry.query.catch(() => undefined))?.close();
  }
}
