/**
 * The catalog: every specimen, filtered by free text, tag, domain, method and status, sorted by any
 * column, in a virtualised table. Planned specimens (recorded before any run) are listed apart above it,
 * with their hypothesis. The filters and the sort live in the URL, so a filtered view is a link.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getCatalogVersion, type Json, reindex } from '../../api/index.js';
import { Card, ErrorBox, Loading } from '../../components/common.js';
import { VirtualTable } from '../../components/VirtualTable.js';
import { fmtDate } from '../../format.js';
import { useData, useLastValue } from '../../hooks.js';
import { href, navigate, type Route, withQuery } from '../../router.js';
import { CATALOG_TABLE_COLUMNS } from './columns.js';
import { FacetSelect } from './FacetSelect.js';
import { loadCatalog } from './load.js';
import { COL, compare, type Row, sortColumn, str } from './rows.js';

/** Planned specimens, apart from the table: they have no run to show yet, but a hypothesis. */
function PlannedList({ rows }: { rows: Row[] }) {
  return (
    <div class="planned-section" data-testid="planned-specimens">
      <h3>Planned ({rows.length})</h3>
      <table class="grid">
        <thead>
          <tr>
            <th>Specimen</th>
            <th>Created</th>
            <th>Domain / method</th>
            <th>Hypothesis</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={str(r[COL.specimen_id])}>
              <td>
                <a class="mono" href={href(['specimen', str(r[COL.specimen_id])])}>
                  {str(r[COL.specimen_id])}
                </a>
              </td>
              <td>{fmtDate(r[COL.created])}</td>
              <td>
                {str(r[COL.domain])} / {str(r[COL.method])}
              </td>
              <td class="pre">{str(r[COL.hypothesis]) || '–'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const FILTERS = ['q', 'tag', 'domain', 'method', 'status'] as const;

/** How often the page asks whether the catalog changed (the server keeps it current by itself). */
const VERSION_POLL_MS = 1000;

/**
 * Calls `onChange` whenever the server's catalog version differs from `shown`'s (the catalog on screen):
 * a specimen or run was indexed since it was read.
 */
function useCatalogVersion(shown: string | undefined, onChange: () => void): void {
  const shownRef = useRef(shown);
  shownRef.current = shown;
  useEffect(() => {
    let asked: string | undefined;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ac = new AbortController();
    const poll = async () => {
      try {
        const { version } = await getCatalogVersion(ac.signal);
        // Once per new version: the reload it starts takes a moment to replace what is shown.
        if (shownRef.current !== undefined && version !== shownRef.current && version !== asked) {
          asked = version;
          onChange();
        }
      } catch {
        // The server restarting or a dropped request: ask again at the next tick.
      }
      if (!stopped) timer = setTimeout(poll, VERSION_POLL_MS);
    };
    void poll();
    return () => {
      stopped = true;
      clearTimeout(timer);
      ac.abort();
    };
  }, []);
}

export function CatalogPage({ route }: { route: Route }) {
  const [generation, setGeneration] = useState(0);
  const [indexing, setIndexing] = useState<string | undefined>();
  const loaded = useData(`catalog:${generation}`, () => loadCatalog(generation > 0));
  // The previous catalog stays on screen while the next one loads (no flash on an automatic refresh).
  const data = useLastValue(loaded.data);
  const error = loaded.error;
  useCatalogVersion(data?.version, () => setGeneration((g) => g + 1));
  const q = route.query;
  const filters = Object.fromEntries(FILTERS.map((f) => [f, q.get(f) ?? ''])) as Record<
    (typeof FILTERS)[number],
    string
  >;
  const sortKey = q.get('sort') ?? 'created';
  const sortDir: 'asc' | 'desc' =
    q.get('dir') === 'asc'
      ? 'asc'
      : q.get('dir') === 'desc'
        ? 'desc'
        : sortKey === 'created'
          ? 'desc'
          : 'asc';

  const setParam = (changes: Record<string, string>) => navigate(href([], withQuery(q, changes)), true);

  const haystacks = useMemo(
    () =>
      data
        ? data.rows.map((r) =>
            [
              r[COL.specimen_id],
              r[COL.domain],
              r[COL.method],
              r[COL.model],
              r[COL.tags],
              r[COL.status],
              r[COL.description],
              r[COL.latest_status],
              r[COL.hypothesis],
            ]
              .map(str)
              .join('\u0001')
              .toLowerCase(),
          )
        : [],
    [data],
  );

  const visible = useMemo(() => {
    if (!data) return [] as Row[];
    const words = filters.q.toLowerCase().split(/\s+/).filter(Boolean);
    const out: Row[] = [];
    data.rows.forEach((r, i) => {
      if (filters.tag && !(Array.isArray(r[COL.tags]) && (r[COL.tags] as Json[]).includes(filters.tag)))
        return;
      if (filters.domain && r[COL.domain] !== filters.domain) return;
      if (filters.method && r[COL.method] !== filters.method) return;
      if (filters.status && r[COL.status] !== filters.status && r[COL.latest_status] !== filters.status)
        return;
      if (words.length > 0) {
        const h = haystacks[i]!;
        for (const w of words) if (!h.includes(w)) return;
      }
      out.push(r);
    });
    const k = sortColumn(sortKey);
    const sign = sortDir === 'asc' ? 1 : -1;
    out.sort((a, b) => sign * compare(a[k], b[k]) || compare(a[COL.specimen_id], b[COL.specimen_id]));
    return out;
  }, [
    data,
    haystacks,
    filters.q,
    filters.tag,
    filters.domain,
    filters.method,
    filters.status,
    sortKey,
    sortDir,
  ]);

  const onSort = (key: string) => {
    const dir = key === sortKey ? (sortDir === 'asc' ? 'desc' : 'asc') : key === 'created' ? 'desc' : 'asc';
    setParam({ sort: key, dir });
  };

  const onReindex = async () => {
    setIndexing('indexing…');
    try {
      const rep = await reindex();
      setIndexing(
        `indexed ${rep.specimens.indexed}, unchanged ${rep.specimens.unchanged} (${Math.round(rep.durationMs)} ms)`,
      );
      setGeneration((g) => g + 1);
    } catch (e) {
      setIndexing(`index failed: ${(e as Error).message}`);
    }
  };

  const statusValues = useMemo(() => {
    if (!data) return undefined;
    const m = new Map<string, number>(data.facets.statuses);
    for (const r of data.rows) {
      const s = str(r[COL.latest_status]);
      if (s && !m.has(s)) m.set(s, 0);
    }
    return [...m];
  }, [data]);

  // The filter menus, in order: URL parameter, label, values with counts.
  const facets = [
    ['tag', 'Tag', data?.facets.tags],
    ['domain', 'Domain', data?.facets.domains],
    ['method', 'Method', data?.facets.methods],
    ['status', 'Status', statusValues],
  ] as const;

  const active = FILTERS.some((f) => filters[f] !== '');
  const planned = visible.filter((r) => r[COL.status] === 'planned');
  const listed = planned.length > 0 ? visible.filter((r) => r[COL.status] !== 'planned') : visible;

  return (
    <div class="page catalog-page">
      <Card
        title="Catalog"
        actions={
          <>
            {indexing ? <span class="muted small">{indexing}</span> : null}
            <button type="button" onClick={onReindex} title="update vault.duckdb from the specimens on disk">
              Re-index
            </button>
          </>
        }
      >
        <div class="filters">
          <label class="filter grow">
            <span>Search</span>
            <input
              type="search"
              data-testid="filter-q"
              placeholder="id, model, tag, description…"
              value={filters.q}
              onInput={(e) => setParam({ q: (e.currentTarget as HTMLInputElement).value })}
            />
          </label>
          {facets.map(([name, label, values]) => (
            <FacetSelect
              key={name}
              name={name}
              label={label}
              values={values}
              value={filters[name]}
              onChange={(v) => setParam({ [name]: v })}
            />
          ))}
          {active ? (
            <button
              type="button"
              class="link"
              onClick={() => navigate(href([], { sort: q.get('sort'), dir: q.get('dir') }), true)}
            >
              clear filters
            </button>
          ) : null}
        </div>
        <ErrorBox error={error} />
        {!data && !error ? <Loading what="catalog" /> : null}
        {data ? (
          <>
            <div class="muted small count" data-testid="catalog-count">
              {visible.length === data.total
                ? `${data.total} specimens`
                : `${visible.length} of ${data.total} specimens`}
              {planned.length > 0 ? `, ${planned.length} planned` : ''}
            </div>
            {planned.length > 0 ? <PlannedList rows={planned} /> : null}
            <VirtualTable
              columns={CATALOG_TABLE_COLUMNS}
              count={listed.length}
              getRow={(i) => listed[i]}
              height="calc(100vh - 235px)"
              sort={{ key: sortKey, dir: sortDir }}
              onSort={onSort}
              testId="catalog"
              empty={
                data.total === 0
                  ? 'The catalog is empty: create a specimen, then Re-index.'
                  : 'No specimen matches these filters.'
              }
            />
          </>
        ) : null}
      </Card>
    </div>
  );
}
