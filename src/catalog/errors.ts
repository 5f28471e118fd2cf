/**
 * Errors of the catalog. `VaultErrorTag` in src/errors.ts is a closed union that the CLI maps to exit codes,
 * so these classes carry their own `_tag` and `exitCode` instead; the CLI prints any error that has both.
 *
 * @example
 * try { await q.search('SELEC 1') } catch (err) {
 *   if (isCatalogError(err, 'SqlError')) console.error(err.message, err.position) // position 0
 * }
 */

/** Tags of the errors raised by the catalog. */
export type CatalogErrorTag =
  | 'SqlError'
  | 'QueryNotAllowedError'
  | 'CatalogBusyError'
  | 'CatalogMissingError';

/** Base class of the catalog's errors: a literal `_tag` and the exit code the CLI uses for it. */
export abstract class CatalogError extends Error {
  abstract readonly _tag: CatalogErrorTag;
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** DuckDB refused a query: syntax, unknown table, type or permission error. */
export class SqlError extends CatalogError {
  readonly _tag = 'SqlError' as const;
  readonly exitCode = 2;
  constructor(
    /** DuckDB's message, verbatim (with its `LINE n:` context and caret when it gave one). */
    readonly duckdbMessage: string,
    readonly sql: string,
    /** 0-based character offset into `sql` of the error, when DuckDB pointed at one. */
    readonly position: number | undefined,
    /** 1-based line and column of `position`. */
    readonly line: number | undefined,
    readonly column: number | undefined,
    options?: { cause?: unknown },
  ) {
    const where = line !== undefined && column !== undefined ? ` (line ${line}, column ${column})` : '';
    super(`sql: ${duckdbMessage}${where}`, options);
  }
}

/** A user query was not a single read-only SELECT. */
export class QueryNotAllowedError extends CatalogError {
  readonly _tag = 'QueryNotAllowedError' as const;
  readonly exitCode = 2;
  constructor(
    readonly sql: string,
    /** DuckDB's statement type (`SELECT`, `COPY`, `ATTACH`…) or `MULTI` for several statements. */
    readonly statementType: string,
  ) {
    super(
      statementType === 'MULTI'
        ? 'sql: only one statement is allowed per query; remove the extra statements'
        : `sql: only SELECT queries are allowed here, got a ${statementType} statement`,
    );
  }
}

/** Another process holds the catalog lock and did not release it in time. */
export class CatalogBusyError extends CatalogError {
  readonly _tag = 'CatalogBusyError' as const;
  readonly exitCode = 1;
  constructor(
    readonly lockFile: string,
    readonly holder: { pid: number; host: string; since?: string } | undefined,
    readonly waitedMs: number,
  ) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host}${holder.since ? ` since ${holder.since}` : ''}`
      : 'another process';
    super(
      `catalog: ${who} is indexing this vault (lock ${lockFile}); waited ${Math.round(waitedMs)} ms. ` +
        'Try again when it has finished, or delete the lock file if that process no longer exists.',
    );
  }
}

/** The vault has no catalog yet. */
export class CatalogMissingError extends CatalogError {
  readonly _tag = 'CatalogMissingError' as const;
  readonly exitCode = 3;
  constructor(readonly file: string) {
    super(`catalog: ${file} does not exist; build it with \`specimen index\``);
  }
}

/** Type guard: is `err` a CatalogError, optionally one of the given tags? */
export function isCatalogError<T extends CatalogErrorTag>(
  err: unknown,
  ...tags: T[]
): err is Extract<SqlError | QueryNotAllowedError | CatalogBusyError | CatalogMissingError, { _tag: T }> {
  if (!(err instanceof CatalogError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}

/**
 * Wraps an error thrown by DuckDB for `sql` into a SqlError, locating the position DuckDB marked with its
 * `LINE n: …` context line and caret. Errors that are not DuckDB's are returned unchanged.
 */
export function toSqlError(err: unknown, sql: string): unknown {
  if (err instanceof CatalogError || !(err instanceof Error)) return err;
  // The client library prefixes parse errors met while splitting statements; DuckDB's own text follows.
  const message = err.message.replace(/^Failed to extract statements: /, '');
  const located = locateCaret(message, sql);
  return new SqlError(message, sql, located?.position, located?.line, located?.column, { cause: err });
}

/**
 * DuckDB reports a position as `LINE 3: <part of that line>` followed by a line with a caret under the
 * offending character. Long lines are shortened with `...` on either side, so the shown text is searched for
 * in the original line to recover the offset.
 */
export function locateCaret(
  message: string,
  sql: string,
): { position: number; line: number; column: number } | undefined {
  const lines = message.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    const m = /^LINE (\d+): (.*)$/.exec(lines[i]!);
    if (!m) continue;
    const caretLine = lines[i + 1]!;
    const caret = caretLine.indexOf('^');
    if (caret < 0) continue;
    const lineNo = Number(m[1]);
    const prefixLen = `LINE ${m[1]}: `.length;
    let shown = m[2]!;
    let shownOffset = caret - prefixLen;
    if (shown.startsWith('...')) {
      shown = shown.slice(3);
      shownOffset -= 3;
    }
    if (shown.endsWith('...')) shown = shown.slice(0, -3);
    const sqlLines = sql.split('\n');
    const original = sqlLines[lineNo - 1];
    if (original === undefined) return undefined;
    const at = original.indexOf(shown.trimEnd());
    const columnIndex = Math.max(0, Math.max(at, 0) + shownOffset);
    let position = columnIndex;
    for (let k = 0; k < lineNo - 1; k++) position += sqlLines[k]!.length + 1;
    return { position, line: lineNo, column: columnIndex + 1 };
  }
  return undefined;
}
