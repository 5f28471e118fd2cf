/**
 * `POST /api/query` with `{"sql": "...", "maxRows": 10000}`: runs one user query through `runUserQuery` —
 * a separate read-only DuckDB session that accepts a single SELECT-type statement only and can read no
 * file outside the vault (no COPY, ATTACH, INSTALL, LOAD or SET). Errors keep DuckDB's message and the
 * position it pointed at.
 */
import { runUserQuery } from '../../catalog/index.js';
import type { Json, QueryResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, readJsonBody, sendJson } from '../http.js';
import type { Router } from '../router.js';

/** Longest query text accepted. */
export const MAX_SQL_LENGTH = 100_000;
/** Default and largest row limits of a query. */
export const DEFAULT_MAX_ROWS = 10_000;
export const MAX_ROWS = 100_000;

export function registerQueryRoutes(router: Router, ctx: ServerContext): void {
  router.post('/api/query', async ({ raw, res }) => {
    const body = await readJsonBody(raw);
    const sql = body.sql;
    if (typeof sql !== 'string' || sql.trim() === '')
      throw new HttpError(400, 'BadRequest', 'sql must be a non-empty string');
    if (sql.length > MAX_SQL_LENGTH)
      throw new HttpError(400, 'BadRequest', `sql is longer than ${MAX_SQL_LENGTH} characters`);
    const maxRows = body.maxRows ?? DEFAULT_MAX_ROWS;
    if (typeof maxRows !== 'number' || !Number.isInteger(maxRows) || maxRows < 1 || maxRows > MAX_ROWS)
      throw new HttpError(400, 'BadRequest', `maxRows must be an integer between 1 and ${MAX_ROWS}`);
    const t0 = performance.now();
    const result = await runUserQuery(ctx.root, sql, { readOnly: true, maxRows });
    const names = result.columns.map((c) => c.name);
    const out: QueryResponse = {
      columns: result.columns,
      rows: result.rows.map((r) => names.map((n) => (r[n] ?? null) as Json)),
      truncated: result.truncated,
      elapsedMs: performance.now() - t0,
    };
    sendJson(res, 200, out);
  });
}
