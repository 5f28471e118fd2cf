/**
 * The catalog: `GET /api/catalog` (every specimen, with facets for the filter menus), `GET
 * /api/catalog/version` (changes whenever an index changed the catalog: pages poll it), `GET /api/runs`
 * (runs of any specimen, for the compare page's picker) and `POST /api/index` (update the catalog).
 */
import {
  CATALOG_COLUMNS,
  type CatalogResponse,
  type CatalogVersionResponse,
  type IndexResponse,
  type RunListResponse,
} from '../api-types.js';
import type { ServerContext } from '../context.js';
import { intParam, readJsonBody, sendJson, sendJsonText, toJson } from '../http.js';
import type { Router } from '../router.js';

function countInto(map: Map<string, number>, key: unknown): void {
  if (typeof key !== 'string' || key === '') return;
  map.set(key, (map.get(key) ?? 0) + 1);
}

function sortedCounts(map: Map<string, number>): [string, number][] {
  return [...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

const DOMAIN = CATALOG_COLUMNS.indexOf('domain');
const METHOD = CATALOG_COLUMNS.indexOf('method');
const STATUS = CATALOG_COLUMNS.indexOf('status');
const TAGS = CATALOG_COLUMNS.indexOf('tags');

export function registerCatalogRoutes(router: Router, ctx: ServerContext): void {
  router.get('/api/catalog', async ({ res }) => {
    // Taken before the query: an index finishing during it moves the version, and the page asks again.
    const version = ctx.changes.version();
    const q = await ctx.catalog();
    const t0 = performance.now();
    const tags = new Map<string, number>();
    const domains = new Map<string, number>();
    const methods = new Map<string, number>();
    const statuses = new Map<string, number>();
    // Each row goes straight to its JSON text as DuckDB hands it over: no row object, no array per row,
    // no copy of the whole result (with 100,000 runs that garbage set the server's memory peak).
    let rows: string[] = [];
    await q.eachRow(
      `SELECT ${CATALOG_COLUMNS.join(', ')} FROM catalog ORDER BY created DESC, specimen_id`,
      undefined,
      {
        start: () => {
          rows = [];
          for (const m of [tags, domains, methods, statuses]) m.clear();
        },
        row: (values) => {
          countInto(domains, values[DOMAIN]);
          countInto(methods, values[METHOD]);
          countInto(statuses, values[STATUS]);
          const t = values[TAGS];
          if (Array.isArray(t)) for (const tag of t) countInto(tags, tag);
          rows.push(JSON.stringify(values));
        },
      },
    );
    const queryMs = performance.now() - t0;
    const body: Omit<CatalogResponse, 'rows'> = {
      columns: CATALOG_COLUMNS,
      total: rows.length,
      facets: {
        tags: sortedCounts(tags),
        domains: sortedCounts(domains),
        methods: sortedCounts(methods),
        statuses: sortedCounts(statuses),
      },
      queryMs,
      version,
    };
    const rest = toJson(body);
    sendJsonText(res, 200, `{"rows":[${rows.join(',')}],${rest.slice(1)}`);
  });

  router.get('/api/catalog/version', async ({ res }) => {
    const body: CatalogVersionResponse = { version: ctx.changes.version() };
    sendJson(res, 200, body);
  });

  router.get('/api/runs', async ({ query, res }) => {
    const limit = intParam(query, 'limit', 500, 1, 5000);
    const text = (query.get('q') ?? '').trim();
    const specimen = query.get('specimen') ?? '';
    const q = await ctx.catalog();
    const where = `($1 = '' OR r.specimen_id = $1) AND ($2 = '' OR r.specimen_id ILIKE '%' || $2 || '%'
      OR r.run_id ILIKE '%' || $2 || '%' OR coalesce(c.model, '') ILIKE '%' || $2 || '%'
      OR coalesce(c.domain, '') ILIKE '%' || $2 || '%' OR coalesce(c.method, '') ILIKE '%' || $2 || '%'
      OR array_to_string(c.tags, ' ') ILIKE '%' || $2 || '%')`;
    const rows = await q.rows(
      `SELECT r.specimen_id, r.run_id, r.status, r.started, c.domain, c.method, c.model
       FROM runs r LEFT JOIN catalog c USING (specimen_id)
       WHERE ${where}
       ORDER BY r.started DESC NULLS LAST, r.specimen_id, r.run_id LIMIT ${limit + 1}`,
      [specimen, text],
    );
    const totalRows = await q.rows(
      `SELECT count(*) AS n FROM runs r LEFT JOIN catalog c USING (specimen_id) WHERE ${where}`,
      [specimen, text],
    );
    const body: RunListResponse = {
      runs: rows.slice(0, limit).map((r) => ({
        specimen_id: String(r.specimen_id),
        run_id: String(r.run_id),
        status: String(r.status ?? ''),
        started: (r.started as string | null) ?? null,
        domain: (r.domain as string | null) ?? null,
        method: (r.method as string | null) ?? null,
        model: (r.model as string | null) ?? null,
      })),
      total: Number(totalRows[0]?.n ?? 0),
      truncated: rows.length > limit,
    };
    sendJson(res, 200, body);
  });

  router.post('/api/index', async ({ raw, res }) => {
    const body = await readJsonBody(raw);
    const report = await ctx.reindex({ full: body.full === true });
    const out: IndexResponse = {
      specimens: report.specimens,
      runs: report.runs,
      warnings: report.warnings.map((w) => ctx.secretPaths.reduce((s, p) => s.split(p).join('<vault>'), w)),
      durationMs: report.durationMs,
    };
    sendJson(res, 200, out);
  });
}
