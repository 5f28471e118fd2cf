/**
 * One metric's chart on the compare page: every run's line, from the series that came with the compare
 * response while they fit (unzoomed, about the width they were made for), else asked for at the chart's
 * width and zoom.
 */
import { useMemo, useState } from 'preact/hooks';
import { runRef, type SeriesEntry } from '../../api/index.js';
import { ErrorBox } from '../../components/common.js';
import { type ChartSeries, LineChart } from '../../components/LineChart.js';
import { colorAt } from '../../format.js';
import { useLastValue, useSeries } from '../../hooks.js';
import { shortLabel } from './run-label.js';

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
  /** The whole-run series that came with the compare response, and the width they were made for. */
  initial?: { width: number; series: SeriesEntry[] } | undefined;
}) {
  const { refs, metric, zoom, initial } = props;
  const [width, setWidth] = useState(0);
  // The embedded series serve while unzoomed and the chart is about the width they were made for.
  const useInitial =
    !zoom && initial !== undefined && (width === 0 || Math.abs(width - initial.width) <= initial.width * 0.1);
  const { data, error } = useSeries(refs, metric, { width, zoom, version: props.version, skip: useInitial });
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
        .filter((s) => !s.missing)
        .map((s) => {
          const ref = runRef(s);
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
