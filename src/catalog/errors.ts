/**
 * DuckDB's error messages turned into SqlErrors that point at the offending character. The catalog's error
 * classes belong to the library's one error family (src/errors.ts) and are re-exported here for the
 * catalog's own modules.
 *
 * @example
 * try { await con.run(sql) } catch (err) { throw toSqlError(err, sql) }
 * // SqlError: sql: Parser Error: syntax error at or near "SELEC" (line 1, column 1), position 0
 */
import { SqlError, VaultError } from '../errors.js';

export { CatalogBusyError, CatalogMissingError, QueryNotAllowedError, SqlError } from '../errors.js';

/**
 * Wraps an error thrown by DuckDB for `sql` into a SqlError, locating the position DuckDB marked with its
 * `LINE n: …` context line and caret. Errors that are not DuckDB's are returned unchanged.
 */
export function toSqlError(err: unknown, sql: string): unknown {
  if (err instanceof VaultError || !(err instanceof Error)) return err;
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
