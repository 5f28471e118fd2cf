/**
 * The catalog: every specimen, filtered by free text, tag, domain, method and status, sorted by any
 * column, in a virtualised table. The filters and the sort live in the URL, so a filtered view is a link.
 */
import { useMemo, useState } from 'preact/hooks';
import { type CatalogResponse, getCatalog, type Json, reindex } from '../api/index.js';
import { Card, ErrorBox, Loading, StatusBadge, Tag, useData } from '../components/common.js';
import { type Column, VirtualTable } from '../components/VirtualTable.js';
import { fmtDate } from '../format.js';
import { href, navigate, type Route } from '../router.js';

let pending: Promise<CatalogResponse> | undefined;

/** The catalog, fetched once and shared (started as early as possible by main.tsx). */
export function loadCatalog(fresh = false): Promise<CatalogResponse> {
  if (fresh || !pending) {
    pending = getCatalog();
    pending.catch(() => {
      pending = undefined;
    });
  }
  return pending;
}

type Row = Json[];

const COL = {
  id: 0,
  created: 1,
  domain: 2,
  method: 3,
  model: 4,
  tags: 5,
  status: 6,
  runs: 7,
  latestRun: 8,
  latestStatus: 9,
  description: 10,
} as const;

const SORT_KEYS: Record<string, number> = {
  specimen_id: COL.id,
  created: COL.created,
  domain: COL.domain,
  method: COL.method,
  model: COL.model,
  tags: COL.tags,
  status: COL.status,
  run_count: COL.runs,
  latest_status: COL.latestStatus,
};

const FILTERS = ['q', 'tag', 'domain', 'method', 'status'] as const;

function str(v: Json | undefined): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

function compare(a: Json | undefined, b: Json | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = str(a);
  const sb = str(b);
  if (sa === sb) return 0;
  if (sa === '') return 1;
  if (sb === '') return -1;
  return sa < sb ? -1 : 1;
}

export function CatalogPage({ route }: { route: Route }) {
  const [generation, setGeneration] = useState(0);
  const [indexing, setIndexing] = useState<string | undefined>();
  const { data, error } = useData(`catalog:${generation}`, () => loadCatalog(generation > 0));
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

  const setParam = (changes: Record<string, string>) => {
    const next: Record<string, string> = {};
    for (const [k, v] of q) next[k] = v;
    Object.assign(next, changes);
    navigate(href([], next), true);
  };

  const haystacks = useMemo(
    () =>
      data
        ? data.rows.map((r) =>
            [
              r[COL.id],
              r[COL.domain],
              r[COL.method],
              r[COL.model],
              r[COL.tags],
              r[COL.status],
              r[COL.description],
              r[COL.latestStatus],
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
      if (filters.status && r[COL.status] !== filters.status && r[COL.latestStatus] !== filters.status)
        return;
      if (words.length > 0) {
        const h = haystacks[i]!;
        for (const w of words) if (!h.includes(w)) return;
      }
      out.push(r);
    });
    const k = SORT_KEYS[sortKey] ?? COL.created;
    const sign = sortDir === 'asc' ? 1 : -1;
    out.sort((a, b) => sign * compare(a[k], b[k]) || compare(a[COL.id], b[COL.id]));
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

  const columns: Column<Row>[] = [
    {
      key: 'specimen_id',
      label: 'Specimen',
      width: 290,
      grow: true,
      sortable: true,
      render: (r) => (
        <a href={href(['specimen', String(r[COL.id])])} class="mono" title={str(r[COL.description])}>
          {str(r[COL.id])}
        </a>
      ),
    },
    { key: 'created', label: 'Created', width: 150, sortable: true, render: (r) => fmtDate(r[COL.created]) },
    { key: 'domain', label: 'Domain', width: 125, sortable: true, render: (r) => str(r[COL.domain]) },
    { key: 'method', label: 'Method', width: 130, sortable: true, render: (r) => str(r[COL.method]) },
    { key: 'model', label: 'Model', width: 115, sortable: true, render: (r) => str(r[COL.model]) || '–' },
    {
      key: 'tags',
      label: 'Tags',
      width: 200,
      sortable: true,
      render: (r) => (
        <span class="tags" title={str(r[COL.tags])}>
          {(Array.isArray(r[COL.tags]) ? (r[COL.tags] as string[]) : []).map((t) => (
            <Tag key={t} name={t} />
          ))}
        </span>
      ),
    },
    { key: 'status', label: 'Status', width: 80, sortable: true, render: (r) => str(r[COL.status]) },
    {
      key: 'run_count',
      label: 'Runs',
      width: 56,
      sortable: true,
      align: 'right',
      render: (r) => str(r[COL.runs]),
    },
    {
      key: 'latest_status',
      label: 'Latest run',
      width: 110,
      sortable: true,
      render: (r) =>
        r[COL.latestRun] ? (
          <StatusBadge status={str(r[COL.latestStatus])} />
        ) : (
          <span class="muted">none</span>
        ),
    },
  ];

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

  const facetSelect = (
    name: 'tag' | 'domain' | 'method' | 'status',
    label: string,
    values: [string, number][] | undefined,
  ) => (
    <label class="filter">
      <span>{label}</span>
      <select
        data-testid={`filter-${name}`}
        value={filters[name]}
        onChange={(e) => setParam({ [name]: (e.currentTarget as HTMLSelectElement).value })}
      >
        <option value="">any</option>
        {(values ?? []).map(([v, n]) => (
          <option key={v} value={v}>
            {v} ({n})
          </option>
        ))}
        {filters[name] && !(values ?? []).some(([v]) => v === filters[name]) ? (
          <option value={filters[name]}>{filters[name]}</option>
        ) : null}
      </select>
    </label>
  );

  const statusValues = useMemo(() => {
    if (!data) return undefined;
    const m = new Map<string, number>(data.facets.statuses);
    for (const r of data.rows) {
      const s = str(r[COL.latestStatus]);
      if (s && !m.has(s)) m.set(s, 0);
    }
    return [...m];
  }, [data]);

  const active = FILTERS.some((f) => filters[f] !== '');

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
          {facetSelect('tag', 'Tag', data?.facets.tags)}
          {facetSelect('domain', 'Domain', data?.facets.domains)}
          {facetSelect('method', 'Method', data?.facets.methods)}
          {facetSelect('status', 'Status', statusValues)}
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
            </div>
            <VirtualTable
              columns={columns}
              count={visible.length}
              getRow={(i) => visible[i]}
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
