/**
 * The runs explorer: one virtualised table of every run across specimens — run facts, config and summary
 * keys, and final/min/max/step-of-min of the common metrics — sorted, filtered (free text and per column,
 * `config.lr>0.001`) and grouped by any columns on the server, a page at a time. Selected runs open in
 * compare; a group opens as its runs. A scatter or parallel-coordinates plot of the runs in view sets config
 * against outcome; a click on a point or line opens that run. Everything but the selection lives in the URL.
 */
import type { ComponentChild } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { ExplorerColumnInfo, ExplorerResponse, Json } from '../../api/index.js';
import { ErrorBox, Loading, StatusBadge } from '../../components/common.js';
import { type Column, VirtualTable } from '../../components/VirtualTable.js';
import { fmtDate, fmtDuration, fmtNumber } from '../../format.js';
import { href, navigate, type Route, withQuery } from '../../router.js';
import { RunPlots } from './RunPlots.js';
import { type ExplorerRow, useExplorerRows } from './rows.js';
import { defaultColumns, readExplorerState } from './state.js';

const LISTS = ['f', 'g'];

function cellOf(c: ExplorerColumnInfo, v: Json, row: ExplorerRow): ComponentChild {
  if (v === null) return <span class="muted">–</span>;
  const specimen = typeof row.values[0] === 'string' ? row.values[0] : undefined;
  switch (c.key) {
    case 'specimen_id':
      return (
        <a class="mono" href={href(['specimen', String(v)])}>
          {String(v)}
        </a>
      );
    case 'run_id':
      return specimen ? (
        <a class="mono" href={href(['specimen', specimen, 'run', String(v)])}>
          {String(v)}
        </a>
      ) : (
        String(v)
      );
    case 'status':
      return <StatusBadge status={String(v)} />;
    case 'started':
      return fmtDate(v);
    case 'duration_s':
      return typeof v === 'number' ? fmtDuration(v) : String(v);
    default:
      return c.kind === 'number' ? <span class="mono">{fmtNumber(v)}</span> : String(v);
  }
}

/** Header text of a column: the key without its source prefix (the source shows as a tooltip). */
function labelOf(c: ExplorerColumnInfo): string {
  return c.source === 'config' || c.source === 'summary' ? c.key.slice(c.source.length + 1) : c.key;
}

export function ExplorerPage({ route }: { route: Route }) {
  const q = route.query;
  const state = readExplorerState(q);
  const update = (changes: Record<string, string | string[] | null>) =>
    navigate(href(['explorer'], withQuery(q, changes, LISTS)), true);
  const query = {
    q: state.q,
    filters: state.filters,
    sort: state.sort,
    dir: state.sort ? state.dir : undefined,
    group: state.group,
  };
  const { first, error, getRow, onRange } = useExplorerRows(query);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [draft, setDraft] = useState('');
  const grouped = state.group.length > 0;

  const shownKeys = useMemo(
    () => (first ? (state.cols ?? defaultColumns(first.columns)) : []),
    [first?.columns, state.cols?.join(',')],
  );

  const columns = useMemo(() => {
    if (!first) return [] as Column<ExplorerRow>[];
    const index = new Map(first.columns.map((c, i) => [c.key, i]));
    const out: Column<ExplorerRow>[] = [];
    if (grouped) {
      out.push({
        key: '__runs',
        label: 'runs',
        width: 110,
        render: (r) => (
          <span>
            <span class="mono" data-testid="group-count">
              {r.count}
            </span>{' '}
            <button
              type="button"
              class="link small"
              title="show this group's runs"
              onClick={() => update(openGroup(first, state.group, r, state.filters))}
            >
              open
            </button>
          </span>
        ),
      });
    } else {
      out.push({
        key: '__sel',
        label: '',
        width: 34,
        render: (r) => {
          const ref = `${r.values[0]}/${r.values[1]}`;
          return (
            <input
              type="checkbox"
              aria-label={`select ${ref}`}
              checked={selected.has(ref)}
              onChange={(e) => {
                const next = new Set(selected);
                if ((e.currentTarget as HTMLInputElement).checked) next.add(ref);
                else next.delete(ref);
                setSelected(next);
              }}
            />
          );
        },
      });
    }
    const keys = grouped ? [...state.group, ...shownKeys.filter((k) => !state.group.includes(k))] : shownKeys;
    for (const key of keys) {
      const i = index.get(key);
      if (i === undefined) continue;
      const c = first.columns[i]!;
      out.push({
        key,
        label: labelOf(c),
        title: `${c.key} (${c.source})`,
        width: c.key === 'specimen_id' ? 230 : c.key === 'run_id' ? 150 : c.kind === 'number' ? 110 : 120,
        sortable: true,
        align: c.kind === 'number' ? 'right' : 'left',
        render: (r) => cellOf(c, r.values[i] ?? null, r),
      });
    }
    return out;
  }, [first, shownKeys, grouped, selected, state.group.join(',')]);

  const onSort = (key: string) =>
    update({
      sort: key,
      dir: state.sort === key && state.dir === 'asc' ? 'desc' : 'asc',
    });
  const addFilter = () => {
    const f = draft.trim();
    if (f === '') return;
    update({ f: [...state.filters, f] });
    setDraft('');
  };

  return (
    <div class="page explorer-page">
      <h1>Runs explorer</h1>
      <div class="controls">
        <input
          type="search"
          placeholder="search runs…"
          value={state.q}
          data-testid="explorer-q"
          onInput={(e) => update({ q: (e.currentTarget as HTMLInputElement).value || null })}
        />
        <input
          type="search"
          placeholder="filter: config.lr>0.001, status=sealed, model~mlp"
          value={draft}
          size={36}
          data-testid="explorer-filter"
          onInput={(e) => setDraft((e.currentTarget as HTMLInputElement).value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') addFilter();
          }}
        />
        <label>
          group by{' '}
          <select
            data-testid="explorer-group"
            value=""
            onChange={(e) => {
              const v = (e.currentTarget as HTMLSelectElement).value;
              if (v) update({ g: [...state.group, v] });
            }}
          >
            <option value="">—</option>
            {(first?.columns ?? [])
              .filter((c) => !state.group.includes(c.key) && c.source !== 'metric')
              .map((c) => (
                <option key={c.key} value={c.key}>
                  {c.key}
                </option>
              ))}
          </select>
        </label>
        {first ? (
          <ColumnChooser
            columns={first.columns}
            shown={shownKeys}
            onChange={(cols) => update({ cols: cols.join(',') })}
          />
        ) : null}
        <label>
          plot{' '}
          <select
            data-testid="explorer-plot"
            value={state.plot ?? ''}
            onChange={(e) => update({ plot: (e.currentTarget as HTMLSelectElement).value || null })}
          >
            <option value="">none</option>
            <option value="scatter">scatter</option>
            <option value="parallel">parallel coordinates</option>
          </select>
        </label>
        <button
          type="button"
          class="primary"
          data-testid="explorer-compare"
          disabled={selected.size === 0}
          onClick={() => navigate(href(['compare'], { run: [...selected] }))}
        >
          Compare {selected.size > 0 ? selected.size : ''} selected
        </button>
      </div>
      <div class="controls chips">
        {state.filters.map((f, i) => (
          <span class="chip" key={f} data-testid="filter-chip">
            <span class="mono">{f}</span>
            <button
              type="button"
              class="link"
              aria-label={`remove filter ${f}`}
              onClick={() => update({ f: state.filters.filter((_, j) => j !== i) })}
            >
              ×
            </button>
          </span>
        ))}
        {state.group.map((g) => (
          <span class="chip group" key={g} data-testid="group-chip">
            group: <span class="mono">{g}</span>
            <button
              type="button"
              class="link"
              aria-label={`stop grouping by ${g}`}
              onClick={() => update({ g: state.group.filter((x) => x !== g) })}
            >
              ×
            </button>
          </span>
        ))}
        {first ? (
          <span class="muted small" data-testid="explorer-total">
            {grouped
              ? `${first.total.toLocaleString()} groups of ${first.runs.toLocaleString()} runs`
              : `${first.total.toLocaleString()} runs`}{' '}
            · {first.queryMs.toFixed(0)} ms
          </span>
        ) : null}
      </div>
      <ErrorBox error={error} />
      {first && state.plot ? (
        <RunPlots
          query={query}
          kind={state.plot}
          x={state.x}
          y={state.y}
          shown={shownKeys}
          colorBy={state.group[0]}
          onAxes={(x, y) => update({ x, y })}
        />
      ) : null}
      {!first && !error ? <Loading what="runs" /> : null}
      {first ? (
        <VirtualTable
          columns={columns}
          count={first.total}
          getRow={getRow}
          onRange={onRange}
          height="calc(100vh - 260px)"
          sort={state.sort ? { key: state.sort, dir: state.dir } : undefined}
          onSort={onSort}
          testId="explorer-table"
          empty="No run matches."
        />
      ) : null}
    </div>
  );
}

/** The URL change that shows a group's runs: a `=` filter per group key, no grouping. */
function openGroup(
  first: ExplorerResponse,
  group: readonly string[],
  row: ExplorerRow,
  filters: readonly string[],
): Record<string, string | string[] | null> {
  const extra: string[] = [];
  for (const key of group) {
    const i = first.columns.findIndex((c) => c.key === key);
    const v = row.values[i];
    if (v !== null && v !== undefined) extra.push(`${key}=${String(v)}`);
  }
  return { g: null, f: [...filters, ...extra] };
}

function ColumnChooser(props: {
  columns: readonly ExplorerColumnInfo[];
  shown: readonly string[];
  onChange: (cols: string[]) => void;
}) {
  const shown = new Set(props.shown);
  return (
    <details class="column-chooser" data-testid="column-chooser">
      <summary>columns ({props.shown.length})</summary>
      <div class="column-list">
        {props.columns.map((c) => (
          <label key={c.key} class="small">
            <input
              type="checkbox"
              checked={shown.has(c.key)}
              onChange={(e) => {
                const on = (e.currentTarget as HTMLInputElement).checked;
                // Keep the table's order: the columns' own order, not the order of clicks.
                props.onChange(
                  props.columns.map((x) => x.key).filter((k) => (k === c.key ? on : shown.has(k))),
                );
              }}
            />{' '}
            <span class="mono">{c.key}</span>
          </label>
        ))}
      </div>
    </details>
  );
}
