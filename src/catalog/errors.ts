/**
 * DuckDB's error messages turned into SqlErrors that point at the offending character. The catalog's error
 * classes belong to the library's one error family (src/errors.ts) and are re-exported here for the
 * catalog's own modules.
 *
 * @example
 * try { await con.run(sql) } catch (err) { throw toSqlError(err, sql) }
 * // SqlError: sql: Parser Error: syntax error at or near "SELEC" (line 1, column 1), position 0
 */
import path from 'node:path';
import { CatalogFileError, SqlError, VaultError } from '../errors.js';
import { CATALOG_FILE } from '../format/layout.js';
import { asStorageFull } from '../storage/disk-full.js';

export {
  CatalogBusyError,
  CatalogFileError,
  CatalogMissingError,
  QueryNotAllowedError,
  SqlError,
} from '../errors.js';

/**
 * What DuckDB (or the system) said when the catalog file could not be opened, as a tagged error: a file
 * that is not a DuckDB database or fails its checksums is `corrupt`, EACCES is `permission`, DuckDB's file
 * lock held by another program is `locked`, a full disk a StorageFullError; any other failure is `io`.
 * Tagged errors pass unchanged.
 */
export function toCatalogFileError(err: unknown, file: string): VaultError {
  if (err instanceof VaultError) return err;
  const full = asStorageFull(err, 'catalog', file);
  if (full) return full;
  const e = err as NodeJS.ErrnoException | undefined;
  const message = (e?.message ?? String(err)).split('\n')[0]!;
  const reason: CatalogFileError['reason'] =
    e?.code === 'EACCES' || e?.code === 'EPERM' || /Permission denied/i.test(message)
      ? 'permission'
      : /Could not set lock|Conflicting lock|lock on file/i.test(message)
        ? 'locked'
        : /not a valid DuckDB database|checksum|Could not read enough bytes|Corrupt|database header|is not a DuckDB|Serialization Error|INTERNAL Error|truncated|version number|storage version/i.test(
              message,
            )
          ? 'corrupt'
          : 'io';
  return new CatalogFileError(file, reason, message, { cause: err });
}

/**
 * Wraps an error thrown by DuckDB for `sql` into a SqlError, locating the position DuckDB marked with its
 * `LINE n: …` context line and caret. Errors that are not DuckDB's are returned unchanged.
 */
export function toSqlError(err: unknown, sql: string): unknown {
  if (err instanceof VaultError || !(err instanceof Error)) return err;
  // The client library prefixes parse errors met while splitting statements; DuckDB's own text follows.
  const message = err.message.replace(/^Failed to extract statements: /, '');
  // The catalog file itself failing a read mid-query (a damaged block, a truncated file) is not the query's
  // fault: say what to do about the file.
  const damaged = /^IO Error: (?:Corrupt database file|Could not read enough bytes from file "([^"]+)")/.exec(
    message,
  );
  if (damaged && (damaged[1] === undefined || path.basename(damaged[1]) === CATALOG_FILE))
    return toCatalogFileError(err, damaged[1] ?? CATALOG_FILE);
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
