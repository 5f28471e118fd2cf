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
import type { DuckDBPreparedStatement, DuckDBResult } from '@duckdb/node-api';
import type { Table } from 'apache-arrow';
import { resultToArrow } from '../duckdb/arrow.js';
import { loadDuckDB } from '../duckdb/node-api.js';
import { QueryLimitError, QueryTimeoutError, VaultError } from '../errors.js';
import { CATALOG_DIR, CATALOG_LOCK_FILE, CATALOG_STATE_FILE, fileStamp } from '../format/layout.js';
import { type CatalogHandle, catalogPath, openCatalog } from './connection.js';
import { CatalogMissingError, QueryNotAllowedError, SqlError, toSqlError } from './errors.js';
import {
  type JsonValue,
  type ResultColumn,
  type RowVisitor,
  resultColumns,
  resultToRows,
  valueText,
  visitResultRows,
} from './results.js';
import { type CheckedFile, checkViewFiles, inspectUserSelect, recheckFiles } from './sandbox/inspect.js';
import {
  MAX_VALUE_DEPTH,
  type QueryLimits,
  resolveQueryLimits,
  sessionLimitConfig,
} from './sandbox/limits.js';

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
  /**
   * Resource limits of a sandboxed session (time, memory, threads, spill space, result size); the defaults
   * of DEFAULT_QUERY_LIMITS when not given. Ignored without `sandbox`.
   */
  limits?: Partial<QueryLimits>;
  /**
   * DuckDB settings of a session that is not sandboxed (`threads`, `memory_limit`,
   * `allocator_flush_threshold`, …); a sandboxed session takes its settings from `limits`.
   */
  settings?: Readonly<Record<string, string>>;
}

/** A JSON-safe result: columns (name, DuckDB type) and rows. */
export interface RowsResult {
  columns: ResultColumn[];
  rows: Record<string, JsonValue>[];
  /** True when `maxRows` or the byte limit cut the result short. */
  truncated: boolean;
  /** Which limit cut it short. */
  truncatedBy?: 'rows' | 'bytes';
}

/** Read-only access to a vault's catalog; see the module comment. */
export class VaultQuery {
  private handle: CatalogHandle | undefined;
  private identity: string | undefined;
  /** Queries run one at a time, so a reopen never pulls the session from under another query. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The limits of a sandboxed session. */
  readonly limits: QueryLimits;
  /** The vault root with symbolic links resolved (files a sandboxed query reads must resolve under it). */
  private readonly realRoot: string;

  private constructor(
    /** Absolute vault root. */
    readonly root: string,
    private readonly options: VaultQueryOptions,
  ) {
    this.limits = resolveQueryLimits(options.limits);
    this.realRoot = fs.realpathSync(root);
  }

  /** Opens the catalog of the vault at `root` read-only; CatalogMissingError when it was never indexed. */
  static async open(root: string, options: VaultQueryOptions = {}): Promise<VaultQuery> {
    const abs = path.resolve(root);
    if (!fs.existsSync(abs)) throw new CatalogMissingError(catalogPath(abs));
    const q = new VaultQuery(abs, options);
    await q.reopenIfSwapped();
    return q;
  }

  /** Absolute path of `vault.duckdb`. */
  get catalogPath(): string {
    return catalogPath(this.root);
  }

  /**
   * What the catalog is now: changes whenever an index changes what queries see (a rewritten file or a new
   * delta), so derived results (the explorer's columns) can be kept until then.
   */
  async generation(): Promise<string> {
    const [row] = await this.rows('SELECT sv_delta_dir() AS d');
    let delta = '';
    try {
      delta = fs.realpathSync(path.join(this.root, String(row?.d ?? '')));
    } catch {
      // No delta directory yet: the file's identity alone says which catalog this is.
    }
    return `${fileStamp(this.catalogPath) ?? ''}|${delta}`;
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

  /**
   * Runs `sql` and returns its columns and JSON-safe rows, at most `maxRows` of them; in a sandboxed session
   * also at most the limits' `maxResultBytes`, and within `timeoutMs` (the session's limit by default).
   */
  query(
    sql: string,
    params?: QueryParams,
    options: { maxRows?: number; timeoutMs?: number } = {},
  ): Promise<RowsResult> {
    const sandboxed = this.options.sandbox === true;
    const limits = sandboxed
      ? {
          maxRows: Math.min(options.maxRows ?? this.limits.maxRows, this.limits.maxRows),
          maxBytes: this.limits.maxResultBytes,
          maxDepth: MAX_VALUE_DEPTH,
        }
      : options.maxRows === undefined
        ? {}
        : { maxRows: options.maxRows };
    return this.run(sql, params, (r) => resultToRows(r, limits), options.timeoutMs);
  }

  /**
   * Runs `sql` and hands its rows to `visitor` as they are fetched (results.ts), for results too large to
   * hold as row objects. A sandboxed session runs it as query() does, within the session's limits.
   */
  async eachRow(sql: string, params: QueryParams | undefined, visitor: RowVisitor): Promise<void> {
    if (this.options.sandbox === true) {
      const { columns, rows } = await this.query(sql, params);
      visitor.start(columns);
      for (const r of rows) visitor.row(columns.map((c) => r[c.name] ?? null));
      return;
    }
    await this.run(sql, params, (r) => visitResultRows(r, visitor));
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
    collect: (r: DuckDBResult) => Promise<T>,
    timeoutMs?: number,
  ): Promise<T> {
    const next = this.queue.then(async () => {
      const before = this.indexStamp();
      try {
        return await this.runOnce(sql, params, collect, timeoutMs);
      } catch (err) {
        // An index that switched its delta (or started a new generation) between this session binding a view
        // and reading its files: the files it bound are gone, the new ones are in place. Once more, afresh.
        // A Parquet file that read as damaged while an index ran is the same race seen from the reader.
        if (!isDeltaRace(err) && !(isParquetReadError(err) && this.indexStamp() !== before)) throw err;
        this.identity = undefined;
        return await this.runOnce(sql, params, collect, timeoutMs);
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }

  private async runOnce<T>(
    sql: string,
    params: QueryParams | undefined,
    collect: (r: DuckDBResult) => Promise<T>,
    timeoutMs: number | undefined,
  ): Promise<T> {
    await this.reopenIfSwapped();
    const con = this.handle!.connection;
    const values = params === undefined ? undefined : (params as Parameters<typeof con.run>[1]);
    if (!this.options.sandbox) {
      try {
        // Streamed, not materialized: DuckDB then holds one chunk at a time rather than the whole result
        // beside the copy `collect` makes, and what it holds is freed when the JavaScript wrapper is
        // collected, which V8 does not hurry (it does not see native memory).
        return await collect(await con.stream(sql, values));
      } catch (err) {
        throw toSqlError(err, sql);
      }
    }
    const limit = timeoutMs ?? this.limits.timeoutMs;
    let timedOut = false;
    // DuckDB checks for an interrupt between vectors on its own threads, so a cross join stops within
    // milliseconds of the limit; the timer is armed before parsing so that planning counts too.
    const timer = setTimeout(() => {
      timedOut = true;
      con.interrupt();
    }, limit);
    try {
      let files: CheckedFile[] = [];
      // The statement that was checked is the one that runs (preparing twice would bind views twice).
      const prepared = await prepareSingleSelect(
        con,
        sql,
        { root: this.root, realRoot: this.realRoot },
        (f) => {
          files = f;
        },
      );
      if (values !== undefined) prepared.bind(values);
      const out = await collect(await prepared.stream());
      recheckFiles(files, sql);
      return out;
    } catch (err) {
      if (timedOut && !(err instanceof VaultError)) throw new QueryTimeoutError(sql, limit);
      throw limitError(err, this.limits) ?? toSqlError(err, sql);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Changes whenever an index changes the catalog file or its delta (a stat of each), and differs from any
   * other stamp while an index holds its lock (`vault.duckdb.lock`), which it does from start to switch.
   */
  private indexStamp(): string {
    const state = fileStamp(path.join(this.root, CATALOG_DIR, CATALOG_STATE_FILE)) ?? '';
    const indexing = fs.existsSync(path.join(this.root, CATALOG_LOCK_FILE))
      ? `|indexing ${Math.random()}`
      : '';
    return `${fileStamp(this.catalogPath) ?? ''}|${state}${indexing}`;
  }

  /** Reopens the catalog when `vault.duckdb` is no longer the file this session opened. */
  private async reopenIfSwapped(): Promise<void> {
    const file = this.catalogPath;
    const identity = fileStamp(file);
    if (identity === undefined) {
      if (this.handle) return; // The open snapshot stays usable until a new catalog appears.
      throw new CatalogMissingError(file);
    }
    if (this.handle && identity === this.identity) return;
    this.close();
    const sandbox = this.options.sandbox === true;
    this.handle = await openCatalog(this.root, {
      readOnly: true,
      sandbox,
      ...(sandbox
        ? { config: sessionLimitConfig(this.limits) }
        : this.options.settings
          ? { config: { ...this.options.settings } }
          : {}),
    });
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
  roots?: { root: string; realRoot: string },
  onFiles?: (files: CheckedFile[]) => void,
): Promise<DuckDBPreparedStatement> {
  const { StatementType } = await loadDuckDB();
  const extracted = await con.extractStatements(sql);
  if (extracted.count === 0) throw new SqlError('no statement to run', sql, undefined, undefined, undefined);
  if (extracted.count > 1) throw new QueryNotAllowedError(sql, 'MULTI');
  // Checked before preparing: binding already opens the files a statement names.
  const inspection = roots ? await inspectUserSelect(con, sql, roots) : { files: [], tables: [] };
  if (inspection && roots)
    onFiles?.([...inspection.files, ...(await checkViewFiles(con, sql, inspection.tables, roots))]);
  const files = inspection?.files;
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
  if (files === undefined)
    throw new QueryNotAllowedError(
      sql,
      'SELECT',
      'this form of SELECT (PIVOT, UNPIVOT) cannot be checked for user queries; write it with GROUP BY and FILTER',
    );
  return prepared;
}

/** True for DuckDB's error when files a bound view named under the catalog's delta directory went away. */
function isDeltaRace(err: unknown): boolean {
  const message = err instanceof SqlError ? err.duckdbMessage : err instanceof Error ? err.message : '';
  return (
    message.includes(CATALOG_DIR) &&
    /No files found that match|No such file|Cannot open file|does not exist/i.test(message)
  );
}

/**
 * True for DuckDB's errors of a Parquet file it could not decode (its footer's Thrift, magic bytes, size),
 * e.g. `Invalid Error: TProtocolException: Invalid data` for a footer read while the file was replaced.
 */
function isParquetReadError(err: unknown): boolean {
  const message = err instanceof SqlError ? err.duckdbMessage : err instanceof Error ? err.message : '';
  return /don't know what type|No magic bytes found|too small to be a Parquet file|TProtocolException|Invalid (Input )?Error.*(Thrift|parquet)/i.test(
    message,
  );
}

/** DuckDB's out-of-memory and out-of-spill-space errors as QueryLimitErrors naming the limit. */
function limitError(err: unknown, limits: QueryLimits): QueryLimitError | undefined {
  if (!(err instanceof Error) || err instanceof VaultError) return undefined;
  if (/max_temp_directory_size|temporary director/i.test(err.message))
    return new QueryLimitError(
      'tempSpace',
      limits.maxTempDirectorySize,
      `the query needed more than ${limits.maxTempDirectorySize} of temporary disk space, its limit; make it smaller (fewer rows, fewer columns)`,
    );
  if (/^Out of Memory Error|could not allocate|failed to allocate/i.test(err.message))
    return new QueryLimitError(
      'memory',
      limits.memoryLimit,
      `the query needed more than ${limits.memoryLimit} of memory, its limit; make it smaller (fewer rows, fewer columns, a LIMIT)`,
    );
  return undefined;
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
  /** Interrupt the query after this many milliseconds (the session's limit by default). */
  timeoutMs?: number;
  /** Limits of the session, fixed when it is first opened for this vault (DEFAULT_QUERY_LIMITS otherwise). */
  limits?: Partial<QueryLimits>;
}

/** Locked-down sessions kept per vault root between user queries (opening one loads every view). */
const sessions = new Map<string, { query: Promise<VaultQuery>; active: number; timer?: NodeJS.Timeout }>();

/** How long an idle user-query session stays open. */
const SESSION_IDLE_MS = 30_000;

/**
 * Runs one untrusted query against the catalog of the vault at `root` in this process: a single SELECT, in
 * a read-only session that can read files only under the vault root (views keep working), cannot load
 * extensions, attach databases, write files or change settings. The session is kept for 30 s after the
 * last query; it follows catalog swaps by itself. This is what the query process (sandbox/process-entry.ts)
 * runs; callers use `runUserQuery`, which runs it there.
 */
export async function runUserQueryInSession(
  root: string,
  sql: string,
  options: UserQueryOptions,
): Promise<RowsResult> {
  if (options.readOnly !== true) throw new TypeError('runUserQuery: only read-only queries are supported');
  const key = path.resolve(root);
  let entry = sessions.get(key);
  if (!entry) {
    const opened = VaultQuery.open(key, {
      sandbox: true,
      ...(options.limits ? { limits: options.limits } : {}),
    });
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
    return await q.query(sql, options.params, {
      ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
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

/**
 * Runs one untrusted query against the catalog of the vault at `root` (the rules of runUserQueryInSession)
 * in a separate process with the server's limits (sandbox/limits.ts: time, DuckDB memory, threads, spill,
 * result size, two at a time), so a runaway query is interrupted at its time limit and a native failure
 * of DuckDB cannot take the caller's process down: it fails with QueryEngineError and the next query gets a
 * fresh process. The process is kept for the next query and never keeps the caller alive.
 */
export async function runUserQuery(
  root: string,
  sql: string,
  options: UserQueryOptions,
): Promise<RowsResult> {
  if (options.readOnly !== true) throw new TypeError('runUserQuery: only read-only queries are supported');
  // Loaded here: the pool imports this module's types, and an in-process caller never needs it.
  const { sharedQueryPool } = await import('./sandbox/pool.js');
  return sharedQueryPool(root, options.limits ?? {}).run(sql, {
    ...(options.params === undefined ? {} : { params: options.params }),
    ...(options.maxRows === undefined ? {} : { maxRows: options.maxRows }),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
}

/** Closes the sessions and query processes `runUserQuery` keeps (for a server shutting down, or tests). */
export async function closeUserQuerySessions(): Promise<void> {
  const { closeSharedQueryPools } = await import('./sandbox/pool.js');
  await closeSharedQueryPools();
  const all = [...sessions.values()];
  sessions.clear();
  for (const entry of all) {
    if (entry.timer) clearTimeout(entry.timer);
    (await entry.query.catch(() => undefined))?.close();
  }
}
