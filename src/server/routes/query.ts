/**
 * `POST /api/query` with `{"sql": "...", "maxRows": 10000, "timeoutMs": 5000}`: runs one user query in the
 * server's UserQueryPool — a separate process whose read-only DuckDB session accepts a single SELECT-type
 * statement only, reads no file outside the vault (no COPY, ATTACH, INSTALL, LOAD or SET), and runs within
 * the time, memory and result limits (catalog/sandbox/limits.ts). The rows are streamed as the client reads
 * them. Errors keep DuckDB's message and the position it pointed at.
 *
 * @example
 * registerQueryRoutes(router, ctx, new UserQueryPool(ctx.root, { timeoutMs: 3000 }))
 */
import type { UserQueryPool } from '../../catalog/sandbox/pool.js';
import type { Json } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, readJsonBody, sendJsonStream } from '../http.js';
import type { Router } from '../router.js';

/** Longest query text accepted. */
export const MAX_SQL_LENGTH = 100_000;
/** Default and largest row limits of a query. */
export const DEFAULT_MAX_ROWS = 10_000;
export const MAX_ROWS = 100_000;

export function registerQueryRoutes(router: Router, ctx: ServerContext, pool: UserQueryPool): void {
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
    const timeoutMs = body.timeoutMs ?? pool.limits.timeoutMs;
    if (
      typeof timeoutMs !== 'number' ||
      !Number.isInteger(timeoutMs) ||
      timeoutMs < 1 ||
      timeoutMs > pool.limits.timeoutMs
    )
      throw new HttpError(
        400,
        'BadRequest',
        `timeoutMs must be an integer between 1 and ${pool.limits.timeoutMs} (the server's limit)`,
      );
    const t0 = performance.now();
    const result = await pool.run(sql, { maxRows, timeoutMs });
    const names = result.columns.map((c) => c.name);
    const head = {
      columns: result.columns,
      truncated: result.truncated,
      ...(result.truncatedBy ? { truncatedBy: result.truncatedBy } : {}),
      elapsedMs: performance.now() - t0,
    };
    const rows = result.rows.map((r) => names.map((n) => (r[n] ?? null) as Json));
    await sendJsonStream(res, 200, head, 'rows', rows, ctx.secretPaths);
  });
}
