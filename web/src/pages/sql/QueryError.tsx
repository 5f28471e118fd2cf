/**
 * A failed query: the error's tag and message, and for a SQL error the line and column DuckDB pointed at,
 * with that line of the query repeated and a caret under the column.
 */
import { isRequestError } from '../../api/index.js';

export function QueryError({ error, sql }: { error: Error; sql: string }) {
  const at = isRequestError(error) ? error : undefined;
  const caret =
    at?.line !== undefined && at.column !== undefined
      ? { line: sql.split('\n')[at.line - 1] ?? '', col: at.column }
      : undefined;
  return (
    <div class="error-box" data-testid="sql-error">
      <b>{at ? at.tag : 'Error'}</b>
      {at?.line !== undefined ? ` at line ${at.line}, column ${at.column}` : ''}
      <pre>{error.message}</pre>
      {caret ? (
        <pre class="caret" data-testid="sql-error-caret">
          {caret.line}
          {'\n'}
          {`${' '.repeat(Math.max(0, caret.col - 1))}^`}
        </pre>
      ) : null}
    </div>
  );
}
