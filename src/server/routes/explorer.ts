/**
 * The runs explorer: `GET /api/explorer` — every run of every specimen as one table (run facts, config and
 * summary keys, metric summaries), filtered, sorted, grouped and paged by the catalog in DuckDB.
 *
 * Parameters: `q` free text; `filter=<column><op><value>` (repeatable; op `~` contains, `=`, `!=`, `<`,
 * `<=`, `>`, `>=`); `sort=<column>` and `dir=asc|desc`; `group=<column>` (repeatable); `metric=<name>`
 * (repeatable; which metrics get summary columns); `offset`, `limit` (1–5,000, default 200).
 *
 * @example
 * GET /api/explorer?filter=config.lr%3E0.001&sort=loss.min&dir=asc&limit=100
 */
import { type ExplorerFilter, ExplorerParamError, explorerTable } from '../../catalog/index.js';
import type { ExplorerResponse } from '../api-types.js';
import type { ServerContext } from '../context.js';
import { HttpError, intParam, sendJson } from '../http.js';
import type { Router } from '../router.js';

/** Longest filter, text or column name accepted. */
const MAX_PARAM = 500;
const MAX_FILTERS = 32;

/** Operators, longest first so `<=` is not read as `<` followed by `=…`. */
const OPS = ['<=', '>=', '!=', '~', '=', '<', '>'] as const;

/** `config.lr>=0.001` → key, op, value. The key is checked against the table's columns by the catalog. */
export function parseFilter(text: string): ExplorerFilter {
  let best: { at: number; op: ExplorerFilter['op'] } | undefined;
  for (const op of OPS) {
    const at = text.indexOf(op, 1);
    if (at > 0 && (best === undefined || at < best.at)) best = { at, op };
  }
  if (!best)
    throw new HttpError(400, 'BadRequest', `filter must be <column><op><value>, got ${JSON.stringify(text)}`);
  return { key: text.slice(0, best.at), op: best.op, value: text.slice(best.at + best.op.length) };
}

function bounded(query: URLSearchParams, name: string): string[] {
  const all = query.getAll(name);
  for (const v of all)
    if (v.length > MAX_PARAM) throw new HttpError(400, 'BadRequest', `${name} is longer than ${MAX_PARAM}`);
  return all;
}

export function registerExplorerRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/explorer', async ({ query, res }) => {
    const filters = bounded(query, 'filter');
    if (filters.length > MAX_FILTERS)
      throw new HttpError(400, 'BadRequest', `at most ${MAX_FILTERS} filters per request`);
    const dir = query.get('dir') ?? 'asc';
    if (dir !== 'asc' && dir !== 'desc')
      throw new HttpError(400, 'BadRequest', `dir must be asc or desc, got ${JSON.stringify(dir)}`);
    const sort = bounded(query, 'sort').at(-1);
    const metrics = bounded(query, 'metric');
    const q = await ctx.catalog();
    const t0 = performance.now();
    try {
      const table = await explorerTable(q, {
        text: bounded(query, 'q').at(-1) ?? '',
        filters: filters.map(parseFilter),
        sort: sort ? { key: sort, dir } : undefined,
        group: bounded(query, 'group').slice(0, 8),
        ...(metrics.length > 0 ? { metrics: metrics.slice(0, 32) } : {}),
        offset: intParam(query, 'offset', 0, 0, 1e9),
        limit: intParam(query, 'limit', 200, 1, 5000),
      });
      const body: ExplorerResponse = { ...table, queryMs: performance.now() - t0 };
      sendJson(res, 200, body);
    } catch (err) {
      if (err instanceof ExplorerParamError) throw new HttpError(400, 'BadRequest', err.message);
      throw err;
    }
  });
}
