/**
 * Compare runs of any specimens: overlaid line charts per metric (legend per run; hover shows every run's
 * value at that step; click pins a step on every chart, lists all runs' values there and links each run's
 * tensor series at the nearest checkpoint), smoothing and log scale, a
 * config diff showing only the keys that differ, and a summary table (final, min and its step, max).
 * Series are downsampled on the server to the chart's pixel width and fetched again, finer, on zoom.
 * Each run's turn (from the catalog) is marked, and the runs can be aligned on their turn of one metric.
 * Runs can be grouped by config keys (`group=prime`): each group draws its mean or median with a band
 * (std, stderr or min–max) aggregated on the server, and the summary aggregates the same way. The x axis
 * can be any logged column (`x=tokens`, `rel=1` from each run's start).
 * The runs, the pinned step, smoothing, scale, alignment, grouping and x axis live in the URL.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { type CompareResponse, getCompare, isRunning, runRef } from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { useData } from '../../hooks.js';
import { href, navigate, type Route, withQuery } from '../../router.js';
import { CompareChart } from './CompareChart.js';
import { CompareSystem } from './CompareSystem.js';
import { ConfigDiff } from './ConfigDiff.js';
import { EnvDiff } from './EnvDiff.js';
import { GroupChart } from './GroupChart.js';
import { GroupSummary } from './GroupSummary.js';
import { BANDS, type BandKind, type Center, groupableKeys } from './groups.js';
import { PinnedTensors } from './PinnedTensors.js';
import { PinnedValues } from './PinnedValues.js';
import { RunPicker } from './RunPicker.js';
import { runNames } from './run-label.js';
import { SummaryTable } from './SummaryTable.js';
import { turnMetrics, useRunTurns } from './turns.js';

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

export function ComparePage({ route }: { route: Route }) {
  const q = route.query;
  const refs = q.getAll('run');
  const pinned = q.get('step') === null || q.get('step') === '' ? null : Number(q.get('step'));
  const log = q.get('log') === '1';
  const smoothing = Math.min(0.99, Math.max(0, Number(q.get('smooth') ?? 0) || 0));
  const showAll = q.get('all') === '1';
  const group = q.getAll('group').filter((g) => g !== '');
  const center: Center = q.get('center') === 'median' ? 'median' : 'mean';
  const band: BandKind = (BANDS as readonly string[]).includes(q.get('band') ?? '')
    ? (q.get('band') as BandKind)
    : 'std';
  const xAxis = q.get('x') || 'step';
  const relative = q.get('rel') === '1';
  // Grouped runs, or any x axis but the step, are drawn from the aggregated series.
  const aggregated = group.length > 0 || xAxis !== 'step' || relative;
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const turns = useRunTurns(refs);
  const withTurns = turnMetrics(turns);
  const alignOn = withTurns.includes(q.get('align') ?? '') ? q.get('align') : null;

  const update = (changes: Record<string, string | string[] | null>, replace = true) =>
    navigate(href(['compare'], withQuery(q, changes, ['run', 'group'])), replace);

  const key = refs.join('|');
  const { data, error } = useData(
    `compare:${key}`,
    (signal) =>
      refs.length === 0
        ? Promise.resolve(undefined)
        : getCompare(refs, { width: estimateChartWidth() }, signal),
    {
      live: (d) => d?.runs.some(isRunning) ?? false,
    },
  );
  const runs = data?.runs;
  // A stable map while the runs are the same: the charts memoize on it.
  const names = useMemo(() => runNames(runs ?? []), [runs?.map((r) => `${runRef(r)}=${r.name}`).join('|')]);
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
            {withTurns.length > 0 ? (
              <label>
                align on turn of
                <select
                  data-testid="align-turn"
                  value={alignOn ?? ''}
                  onChange={(e) => {
                    setZoom(null);
                    update({ align: (e.currentTarget as HTMLSelectElement).value || null });
                  }}
                >
                  <option value="">— (x = step)</option>
                  {withTurns.map((m) => (
                    <option key={m} value={m}>
                      {m}
                    </option>
                  ))}
                </select>
              </label>
            ) : null}
            <label>
              group by{' '}
              <select
                data-testid="group-by"
                value=""
                onChange={(e) => {
                  const v = (e.currentTarget as HTMLSelectElement).value;
                  if (v) update({ group: [...group, v] });
                }}
              >
                <option value="">—</option>
                {groupableKeys(data.runs)
                  .filter((k) => !group.includes(k))
                  .map((k) => (
                    <option key={k} value={k}>
                      {k}
                    </option>
                  ))}
              </select>
            </label>
            {group.map((g) => (
              <span class="chip group" key={g}>
                <span class="mono">{g}</span>
                <button
                  type="button"
                  class="link"
                  aria-label={`stop grouping by ${g}`}
                  onClick={() => update({ group: group.filter((x) => x !== g) })}
                >
                  ×
                </button>
              </span>
            ))}
            {group.length > 0 ? (
              <>
                <select
                  data-testid="group-center"
                  value={center}
                  onChange={(e) => update({ center: (e.currentTarget as HTMLSelectElement).value })}
                >
                  <option value="mean">mean</option>
                  <option value="median">median</option>
                </select>
                <select
                  data-testid="group-band"
                  value={band}
                  onChange={(e) => update({ band: (e.currentTarget as HTMLSelectElement).value })}
                >
                  <option value="std">± std</option>
                  <option value="stderr">± stderr</option>
                  <option value="minmax">min–max</option>
                  <option value="none">no band</option>
                </select>
              </>
            ) : null}
            <label>
              x{' '}
              <select
                data-testid="x-axis"
                value={xAxis}
                onChange={(e) => {
                  const v = (e.currentTarget as HTMLSelectElement).value;
                  update({ x: v === 'step' ? null : v });
                }}
              >
                <option value="step">step</option>
                {monotoneMetrics(data).map((m) => (
                  <option key={m} value={m}>
                    {m}
                  </option>
                ))}
              </select>
            </label>
            <label>
              <input
                type="checkbox"
                checked={relative}
                data-testid="x-relative"
                onChange={(e) => update({ rel: (e.currentTarget as HTMLInputElement).checked ? '1' : null })}
              />
              relative
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
              names={names}
              step={pinned}
              metrics={data.metrics.map((m) => m.name)}
              onClear={() => update({ step: null })}
            />
          ) : null}
          {pinned !== null ? <PinnedTensors refs={refs} step={pinned} /> : null}
          <div class="chart-grid wide" data-testid="compare-charts">
            {data.metrics.map((m) =>
              aggregated ? (
                <GroupChart
                  key={m.name}
                  refs={refs}
                  names={names}
                  metric={m.name}
                  group={group}
                  center={center}
                  band={band}
                  x={xAxis}
                  relative={relative}
                  log={log}
                  smoothing={smoothing}
                  zoom={zoom}
                  onZoom={setZoom}
                  pinned={pinned}
                  onPick={(step) => update({ step: String(step) })}
                  version={liveVersion}
                />
              ) : (
                <CompareChart
                  key={m.name}
                  refs={refs}
                  names={names}
                  metric={m.name}
                  log={log}
                  smoothing={smoothing}
                  zoom={zoom}
                  onZoom={setZoom}
                  pinned={pinned}
                  onPick={(step) => update({ step: String(step) })}
                  version={liveVersion}
                  turns={turns}
                  alignOn={alignOn}
                  initial={
                    data.series?.[m.name] && data.width
                      ? { width: data.width, series: data.series[m.name]! }
                      : undefined
                  }
                />
              ),
            )}
          </div>
          <CompareSystem
            refs={refs}
            names={names}
            version={liveVersion}
            live={data.runs.some(isRunning)}
            log={log}
            smoothing={smoothing}
          />
          <ConfigDiff
            data={data}
            refs={refs}
            showAll={showAll}
            onToggle={() => update({ all: showAll ? null : '1' })}
          />
          <EnvDiff data={data} refs={refs} />
          {group.length > 0 ? <GroupSummary data={data} group={group} center={center} band={band} /> : null}
          <SummaryTable data={data} refs={refs} />
        </>
      ) : null}
    </div>
  );
}

/**
 * Metrics that never decrease in any run (min is the first value, max the last): the columns that can serve
 * as an x axis (tokens, epoch, a wall clock).
 */
function monotoneMetrics(data: CompareResponse): string[] {
  const ok = new Map<string, boolean>();
  for (const s of data.summaries) {
    const mono = s.min !== null && s.min === s.first && s.max === s.last && (s.count ?? 0) > 1;
    ok.set(s.metric, (ok.get(s.metric) ?? true) && mono);
  }
  return [...ok]
    .filter(([, v]) => v)
    .map(([k]) => k)
    .sort();
}
