/**
 * Compare runs of any specimens: overlaid line charts per metric (legend per run; hover shows every run's
 * value at that step; click pins a step and lists all runs' values there), smoothing and log scale, a
 * config diff showing only the keys that differ, and a summary table (final, min and its step, max).
 * Series are downsampled on the server to the chart's pixel width and fetched again, finer, on zoom.
 * Each run's turn (from the catalog) is marked, and the runs can be aligned on their turn of one metric.
 * The runs, the pinned step, smoothing, scale and alignment live in the URL.
 */
import { useEffect, useState } from 'preact/hooks';
import { getCompare, isRunning } from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { useData } from '../../hooks.js';
import { href, navigate, type Route, withQuery } from '../../router.js';
import { CompareChart } from './CompareChart.js';
import { ConfigDiff } from './ConfigDiff.js';
import { PinnedValues } from './PinnedValues.js';
import { RunPicker } from './RunPicker.js';
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
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const turns = useRunTurns(refs);
  const withTurns = turnMetrics(turns);
  const alignOn = withTurns.includes(q.get('align') ?? '') ? q.get('align') : null;

  const update = (changes: Record<string, string | string[] | null>, replace = true) =>
    navigate(href(['compare'], withQuery(q, changes, ['run'])), replace);

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
                turns={turns}
                alignOn={alignOn}
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
