/**
 * Compare runs of any specimens: overlaid line charts per metric (legend per run; hover shows every run's
 * value at that step; click pins a step and lists all runs' values there), smoothing and log scale, a
 * config diff showing only the keys that differ, and a summary table (final, min and its step, max).
 * Series are downsampled on the server to the chart's pixel width and fetched again, finer, on zoom.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import {
  type CompareResponse,
  getCompare,
  getSeries,
  getValues,
  listRuns,
  type SeriesEntry,
} from '../api/index.js';
import { Card, ErrorBox, Loading, StatusBadge, useData } from '../components/common.js';
import { type ChartSeries, LineChart } from '../components/LineChart.js';
import { colorAt, fmtDate, fmtNumber, fmtValue } from '../format.js';
import { href, navigate, type Route } from '../router.js';

/**
 * The width a compare chart will have (the grid's columns are at least 560 px, 14 px apart; a chart's box has
 * 8 px padding and a 1 px border), so the compare response can bring series of the right resolution.
 */
function estimateChartWidth(): number {
  const main = document.querySelector('main');
  const inner = (main?.clientWidth ?? window.innerWidth) - 40;
  const cols = Math.max(1, Math.floor((inner + 14) / (560 + 14)));
  return Math.max(200, Math.min(2000, Math.floor((inner - (cols - 1) * 14) / cols - 18)));
}

function shortLabel(ref: string): string {
  const [spec, run] = ref.split('/');
  const s = spec ?? '';
  return `${s.length > 28 ? `${s.slice(0, 26)}…` : s}/${run ?? ''}`;
}

/** `{a: {b: 1}}` → `{'a.b': 1}`. */
function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

export function ComparePage({ route }: { route: Route }) {
  const q = route.query;
  const refs = q.getAll('run');
  const pinned = q.get('step') === null || q.get('step') === '' ? null : Number(q.get('step'));
  const log = q.get('log') === '1';
  const smoothing = Math.min(0.99, Math.max(0, Number(q.get('smooth') ?? 0) || 0));
  const showAll = q.get('all') === '1';
  const [zoom, setZoom] = useState<[number, number] | null>(null);

  const update = (changes: Record<string, string | string[] | null>, replace = true) => {
    const next: Record<string, string | string[]> = { run: refs };
    for (const [k, v] of q) if (k !== 'run') next[k] = v;
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    navigate(href(['compare'], next), replace);
  };

  const key = refs.join('|');
  const { data, error } = useData(
    `compare:${key}`,
    (signal) =>
      refs.length === 0
        ? Promise.resolve(undefined)
        : getCompare(refs, { width: estimateChartWidth() }, signal),
    {
      live: (d) => d?.runs.some((r) => r.status === 'running') ?? false,
    },
  );
  const liveVersion = data
    ? data.runs.map((r) => r.status).join(',') + data.summaries.map((s) => s.count).join(',')
    : '';

  useEffect(() => setZoom(null), [key]);

  return (
    <div class="page compare-page">
      <h1>Compare runs</h1>
      <RunPicker
        selected={refs}
        onAdd={(r) => update({ run: [...refs, r] }, false)}
        onRemove={(r) => update({ run: refs.filter((x) => x !== r) }, false)}
      />
      {refs.length === 0 ? (
        <p class="muted">Pick runs above (or from a specimen's run table) to compare them.</p>
      ) : null}
      <ErrorBox error={error} />
      {refs.length > 0 && !data && !error ? <Loading what="runs" /> : null}
      {data ? (
        <>
          <div class="controls">
            <label>
              smoothing
              <input
                type="range"
                min="0"
                max="0.99"
                step="0.01"
                value={smoothing}
                data-testid="smoothing"
                onInput={(e) => update({ smooth: (e.currentTarget as HTMLInputElement).value })}
              />
              <span class="mono">{smoothing.toFixed(2)}</span>
            </label>
            <label>
              <input
                type="checkbox"
                checked={log}
                data-testid="log-scale"
                onChange={(e) => update({ log: (e.currentTarget as HTMLInputElement).checked ? '1' : null })}
              />
              log scale
            </label>
            {zoom ? (
              <span>
                steps {fmtNumber(zoom[0])}–{fmtNumber(zoom[1])}{' '}
                <button type="button" class="link" onClick={() => setZoom(null)}>
                  reset zoom
                </button>
              </span>
            ) : (
              <span class="muted small">
                drag on a chart to zoom · click to pin a step · double-click to reset
              </span>
            )}
          </div>
          {pinned !== null ? (
            <PinnedValues
              refs={refs}
              step={pinned}
              metrics={data.metrics.map((m) => m.name)}
              onClear={() => update({ step: null })}
            />
          ) : null}
          <div class="chart-grid wide" data-testid="compare-charts">
            {data.metrics.map((m) => (
              <CompareChart
                key={m.name}
                refs={refs}
                metric={m.name}
                log={log}
                smoothing={smoothing}
                zoom={zoom}
                onZoom={setZoom}
                pinned={pinned}
                onPick={(step) => update({ step: String(step) })}
                version={liveVersion}
                initial={
                  data.series?.[m.name] && data.width
                    ? { width: data.width, series: data.series[m.name]! }
                    : undefined
                }
              />
            ))}
          </div>
          <ConfigDiff
            data={data}
            refs={refs}
            showAll={showAll}
            onToggle={() => update({ all: showAll ? null : '1' })}
          />
          <SummaryTable data={data} refs={refs} />
        </>
      ) : null}
    </div>
  );
}

function CompareChart(props: {
  refs: string[];
  metric: string;
  log: boolean;
  smoothing: number;
  zoom: [number, number] | null;
  onZoom: (z: [number, number] | null) => void;
  pinned: number | null;
  onPick: (step: number) => void;
  version: string;
  /** The whole-run series that came with the compare response, and the width they were made for. */
  initial?: { width: number; series: SeriesEntry[] } | undefined;
}) {
  const { refs, metric, zoom, initial } = props;
  const [width, setWidth] = useState(0);
  // The embedded series serve while unzoomed and the chart is about the width they were made for.
  const useInitial =
    !zoom && initial !== undefined && (width === 0 || Math.abs(width - initial.width) <= initial.width * 0.1);
  const { data, error } = useData(
    `${refs.join('|')}/${metric}/${width}/${zoom?.join(':') ?? ''}/${props.version}`,
    (signal) =>
      width === 0 || useInitial
        ? Promise.resolve(undefined)
        : getSeries({ runs: refs, metrics: [metric], width, from: zoom?.[0], to: zoom?.[1] }, signal),
  );
  const fetched = useInitial ? undefined : data;
  const last = useRef<{ series: SeriesEntry[] } | undefined>(fetched);
  // Stable identities: a new object on every render would rebuild and redraw the chart each time.
  const initialSeries = initial?.series;
  const current = useMemo(
    () => (useInitial && initialSeries ? { series: initialSeries } : fetched),
    [useInitial, initialSeries, fetched],
  );
  if (current) last.current = current;
  const shown = current ?? last.current;
  const series: ChartSeries[] = useMemo(
    () =>
      (shown?.series ?? [])
        .filter((s) => !s.missing)
        .map((s) => {
          const ref = `${s.specimen_id}/${s.run_id}`;
          return {
            label: shortLabel(ref),
            color: colorAt(refs.indexOf(ref)),
            steps: s.steps,
            values: s.values,
          };
        }),
    [shown, refs.join('|')],
  );
  return (
    <div class="metric-chart">
      <LineChart
        title={metric}
        series={series}
        log={props.log}
        smoothing={props.smoothing}
        zoom={zoom}
        onZoom={props.onZoom}
        pinned={props.pinned}
        onPick={props.onPick}
        onWidth={(w) => setWidth(Math.min(2000, w))}
        testId="compare-chart"
      />
      <div class="chart-foot muted small">
        {shown
          ? `${shown.series.reduce((a, s) => a + s.steps.length, 0)} points drawn of ${shown.series.reduce((a, s) => a + s.total, 0)}`
          : ''}
      </div>
      <ErrorBox error={error} />
    </div>
  );
}

function PinnedValues({
  refs,
  step,
  metrics,
  onClear,
}: {
  refs: string[];
  step: number;
  metrics: string[];
  onClear: () => void;
}) {
  const { data, error } = useData(`values:${refs.join('|')}@${step}`, (signal) =>
    getValues(refs, step, signal),
  );
  return (
    <Card
      title={`Values at step ${fmtNumber(step)}`}
      actions={
        <button type="button" class="link" onClick={onClear}>
          unpin
        </button>
      }
    >
      <ErrorBox error={error} />
      {data ? (
        <div class="scroll-x">
          <table class="grid" data-testid="pinned-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Step</th>
                {metrics.map((m) => (
                  <th key={m} class="right">
                    {m}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.runs.map((r) => {
                const ref = `${r.specimen_id}/${r.run_id}`;
                return (
                  <tr key={ref}>
                    <td>
                      <span class="swatch" style={{ background: colorAt(refs.indexOf(ref)) }} />
                      <a class="mono" href={href(['specimen', r.specimen_id, 'run', r.run_id])}>
                        {shortLabel(ref)}
                      </a>
                    </td>
                    <td class="mono">{r.step === null ? '–' : fmtNumber(r.step)}</td>
                    {metrics.map((m) => (
                      <td key={m} class="right mono">
                        {fmtNumber(r.values[m] ?? null)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <Loading />
      )}
    </Card>
  );
}

function ConfigDiff({
  data,
  refs,
  showAll,
  onToggle,
}: {
  data: CompareResponse;
  refs: string[];
  showAll: boolean;
  onToggle: () => void;
}) {
  const flat = data.runs.map((r) => flatten(r.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differs = (k: string) =>
    new Set(flat.map((f) => (k in f ? JSON.stringify(f[k]) : '\u0000missing'))).size > 1;
  const rows = keys.filter((k) => showAll || differs(k));
  return (
    <Card
      title={`Config (${keys.filter(differs).length} of ${keys.length} keys differ)`}
      actions={
        <label class="small">
          <input type="checkbox" checked={showAll} onChange={onToggle} /> show all keys
        </label>
      }
    >
      {rows.length === 0 ? (
        <p class="muted">
          {keys.length === 0 ? 'No config recorded.' : 'Every config key is the same in all runs.'}
        </p>
      ) : (
        <div class="scroll-x">
          <table class="grid" data-testid="config-diff">
            <thead>
              <tr>
                <th>Key</th>
                {data.runs.map((r, i) => (
                  <th key={`${r.specimen_id}/${r.run_id}`}>
                    <span
                      class="swatch"
                      style={{
                        background: colorAt(
                          refs.indexOf(`${r.specimen_id}/${r.run_id}`) >= 0
                            ? refs.indexOf(`${r.specimen_id}/${r.run_id}`)
                            : i,
                        ),
                      }}
                    />
                    {shortLabel(`${r.specimen_id}/${r.run_id}`)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((k) => {
                const d = differs(k);
                return (
                  <tr key={k} class={d ? 'differs' : ''}>
                    <th class="mono">{k}</th>
                    {flat.map((f, i) => (
                      <td key={i} class={`mono ${d ? 'diff' : ''}`}>
                        {k in f ? fmtValue(f[k]) : <span class="muted">absent</span>}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function SummaryTable({ data, refs }: { data: CompareResponse; refs: string[] }) {
  const byMetric = new Map<string, CompareResponse['summaries']>();
  for (const s of data.summaries) {
    const list = byMetric.get(s.metric) ?? [];
    list.push(s);
    byMetric.set(s.metric, list);
  }
  return (
    <Card title="Summary">
      <div class="scroll-x">
        <table class="grid" data-testid="summary-table">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Run</th>
              <th>Status</th>
              <th class="right">Final</th>
              <th class="right">Min</th>
              <th class="right">at step</th>
              <th class="right">Max</th>
              <th class="right">at step</th>
              <th class="right">Count</th>
            </tr>
          </thead>
          <tbody>
            {[...byMetric].flatMap(([metric, list]) =>
              list.map((s, i) => {
                const ref = `${s.specimen_id}/${s.run_id}`;
                const run = data.runs.find((r) => r.specimen_id === s.specimen_id && r.run_id === s.run_id);
                return (
                  <tr key={`${metric}/${ref}`} class={i === 0 ? 'group-start' : ''}>
                    <td class="mono">{i === 0 ? metric : ''}</td>
                    <td>
                      <span class="swatch" style={{ background: colorAt(refs.indexOf(ref)) }} />
                      {shortLabel(ref)}
                    </td>
                    <td>
                      <StatusBadge status={run?.status} />
                      {s.source === 'live' ? <span class="muted small"> live</span> : null}
                    </td>
                    <td class="right mono">{fmtNumber(s.last)}</td>
                    <td class="right mono">{fmtNumber(s.min)}</td>
                    <td class="right mono">{fmtNumber(s.step_of_min)}</td>
                    <td class="right mono">{fmtNumber(s.max)}</td>
                    <td class="right mono">{fmtNumber(s.step_of_max)}</td>
                    <td class="right mono">{fmtNumber(s.count)}</td>
                  </tr>
                );
              }),
            )}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function RunPicker({
  selected,
  onAdd,
  onRemove,
}: {
  selected: string[];
  onAdd: (ref: string) => void;
  onRemove: (ref: string) => void;
}) {
  const [text, setText] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setDebounced(text), 200);
    return () => clearTimeout(t);
  }, [text]);
  const [open, setOpen] = useState(selected.length === 0);
  const { data, error } = useData(`runs:${debounced}:${open}`, (signal) =>
    open ? listRuns({ q: debounced, limit: 50 }, signal) : Promise.resolve(undefined),
  );
  return (
    <Card
      title={`Runs (${selected.length})`}
      actions={
        <button type="button" onClick={() => setOpen(!open)} data-testid="toggle-picker">
          {open ? 'Hide picker' : 'Add runs…'}
        </button>
      }
    >
      <div class="chips">
        {selected.map((r, i) => (
          <span key={r} class="chip" data-testid="selected-run">
            <span class="swatch" style={{ background: colorAt(i) }} />
            <a class="mono" href={href(['specimen', r.split('/')[0] ?? '', 'run', r.split('/')[1] ?? ''])}>
              {r}
            </a>
            <button type="button" class="chip-x" aria-label={`remove ${r}`} onClick={() => onRemove(r)}>
              ×
            </button>
          </span>
        ))}
      </div>
      {open ? (
        <div class="picker">
          <input
            type="search"
            placeholder="search runs by specimen, run id, model, tag…"
            value={text}
            data-testid="run-search"
            onInput={(e) => setText((e.currentTarget as HTMLInputElement).value)}
          />
          <ErrorBox error={error} />
          <div class="picker-list">
            <table class="grid compact">
              <tbody>
                {(data?.runs ?? []).map((r) => {
                  const ref = `${r.specimen_id}/${r.run_id}`;
                  const has = selected.includes(ref);
                  return (
                    <tr key={ref}>
                      <td>
                        <button type="button" disabled={has} onClick={() => onAdd(ref)} data-testid="add-run">
                          {has ? 'added' : 'add'}
                        </button>
                      </td>
                      <td class="mono">{r.specimen_id}</td>
                      <td class="mono">{r.run_id}</td>
                      <td>
                        <StatusBadge status={r.status} />
                      </td>
                      <td class="muted small">{fmtDate(r.started)}</td>
                      <td class="muted small">{[r.domain, r.method, r.model].filter(Boolean).join(' · ')}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            {data ? (
              <div class="muted small">
                {data.truncated ? `first ${data.runs.length} of ${data.total} runs` : `${data.total} runs`}
              </div>
            ) : null}
          </div>
        </div>
      ) : null}
    </Card>
  );
}
