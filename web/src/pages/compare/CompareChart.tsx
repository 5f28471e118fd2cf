/**
 * One metric's chart on the compare page: every run's line, from the series that came with the compare
 * response while they fit (unzoomed, about the width they were made for), else asked for at the chart's
 * width and zoom. Each run's turn of this metric is marked in the run's colour; aligned on a turn metric,
 * every run is drawn against step − its turn of that metric (runs without one are left out).
 */
import { useMemo, useState } from 'preact/hooks';
import { runRef, type SeriesEntry, type SeriesSource } from '../../api/index.js';
import { ErrorBox } from '../../components/common.js';
import { type ChartSeries, LineChart } from '../../components/LineChart.js';
import { colorAt } from '../../format.js';
import { useLastValue, useSeries } from '../../hooks.js';
import { systemAxis, systemHover } from '../system-hover.js';
import { runLabel } from './run-label.js';
import type { RunTurns } from './turns.js';

export function CompareChart(props: {
  refs: string[];
  metric: string;
  log: boolean;
  smoothing: number;
  zoom: [number, number] | null;
  onZoom: (z: [number, number] | null) => void;
  pinned: number | null;
  onPick: (step: number) => void;
  version: string;
  turns: RunTurns;
  /** Align runs on their turn of this metric (x = step − turn), or null. */
  alignOn: string | null;
  /** Run names by reference (runNames), shown instead of the reference. */
  names?: ReadonlyMap<string, string>;
  /** The whole-run series that came with the compare response, and the width they were made for. */
  initial?: { width: number; series: SeriesEntry[] } | undefined;
  /** `system`: the runs' system metrics over elapsed seconds (the System charts). */
  source?: SeriesSource;
  testId?: string;
}) {
  const { refs, metric, zoom, initial, turns, alignOn } = props;
  const [width, setWidth] = useState(0);
  // The embedded series serve while unzoomed and the chart is about the width they were made for.
  const useInitial =
    !zoom && initial !== undefined && (width === 0 || Math.abs(width - initial.width) <= initial.width * 0.1);
  // Aligned, the zoom is in shifted steps, which differ per run: the chart zooms the series it has.
  const fetchZoom = alignOn ? null : zoom;
  const { data, error } = useSeries(refs, metric, {
    width,
    zoom: fetchZoom,
    version: props.version,
    skip: useInitial,
    source: props.source ?? 'metrics',
  });
  const fetched = useInitial ? undefined : data;
  // Stable identities: a new object on every render would rebuild and redraw the chart each time.
  const initialSeries = initial?.series;
  const current = useMemo(
    () => (useInitial && initialSeries ? { series: initialSeries } : fetched),
    [useInitial, initialSeries, fetched],
  );
  const shown = useLastValue<{ series: SeriesEntry[] }>(current);
  const series: ChartSeries[] = useMemo(
    () =>
      (shown?.series ?? [])
        .filter((s) => !s.missing && (alignOn === null || turns.get(runRef(s))?.has(alignOn)))
        .map((s) => {
          const ref = runRef(s);
          const shift = alignOn === null ? 0 : turns.get(ref)!.get(alignOn)!;
          return {
            label: runLabel(ref, props.names),
            color: colorAt(refs.indexOf(ref)),
            steps: shift === 0 ? s.steps : s.steps.map((x) => x - shift),
            values: s.values,
            points: s.steps.length > 0 && s.steps.length < width / 12,
          };
        }),
    [shown, refs.join('|'), turns, alignOn, props.names, width],
  );
  const markers = useMemo(() => {
    if (alignOn !== null) return [{ step: 0, color: '#8a2be2', label: `turn of ${alignOn}` }];
    return refs.flatMap((ref, i) => {
      const step = turns.get(ref)?.get(metric);
      return step === undefined ? [] : [{ step, color: colorAt(i), label: 'turn' }];
    });
  }, [refs.join('|'), turns, alignOn, metric]);
  return (
    <div class="metric-chart">
      <LineChart
        title={metric}
        series={series}
        log={props.log}
        smoothing={props.smoothing}
        zoom={zoom}
        onZoom={props.onZoom}
        pinned={alignOn ? null : props.pinned}
        {...(alignOn ? {} : { onPick: props.onPick })}
        markers={markers}
        xLabel={props.source === 'system' ? 'seconds' : alignOn ? `step − turn of ${alignOn}` : 'step'}
        onWidth={(w) => setWidth(Math.min(2000, w))}
        testId={props.testId ?? 'compare-chart'}
        {...(props.source === 'system'
          ? { yFormat: systemAxis(metric), hoverDetail: systemHover(refs, props.names) }
          : {})}
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
