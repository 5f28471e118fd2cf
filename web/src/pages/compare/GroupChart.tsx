/**
 * One metric's chart on the compare page when runs are grouped or drawn on another x axis: each group's
 * mean (or median) with its band, from `GET /api/groups` (aggregated and downsampled on the server, asked
 * for again at the chart's width and zoom), the group's run count in the legend. Sparse series (an eval
 * metric logged every N steps) are joined into a line with a marker at each point.
 */
import { useMemo, useState } from 'preact/hooks';
import { type GroupsResponse, getGroups } from '../../api/index.js';
import { ErrorBox } from '../../components/common.js';
import { type ChartSeries, LineChart } from '../../components/LineChart.js';
import { colorAt } from '../../format.js';
import { useData, useLastValue } from '../../hooks.js';
import { type BandKind, bandOf, type Center, centerOf, groupLabel } from './groups.js';
import { runLabel } from './run-label.js';

/** Group key for one group per run (single runs on another x axis). */
export const RUN_GROUP = ':run';

export function GroupChart(props: {
  refs: string[];
  metric: string;
  group: string[];
  center: Center;
  band: BandKind;
  x: string;
  relative: boolean;
  log: boolean;
  smoothing: number;
  zoom: [number, number] | null;
  onZoom: (z: [number, number] | null) => void;
  /** The pinned step and where a click pins one: only on the step axis (absolute), where x is a step. */
  pinned: number | null;
  onPick: (step: number) => void;
  version: string;
  /** Run names by reference (runNames), shown instead of the reference. */
  names?: ReadonlyMap<string, string>;
}) {
  const { refs, metric, group, zoom } = props;
  const onSteps = props.x === 'step' && !props.relative;
  const [width, setWidth] = useState(0);
  const perRun = group.length === 0;
  const keys = perRun ? [RUN_GROUP] : group;
  const { data, error } = useData(
    `groups:${refs.join('|')}/${metric}/${keys.join(',')}/${props.center}/${props.x}/${props.relative}/${width}/${zoom?.join(':') ?? ''}/${props.version}`,
    (signal) =>
      width === 0
        ? Promise.resolve(undefined)
        : getGroups(
            {
              runs: refs,
              metric,
              group: keys,
              width,
              center: props.center,
              x: props.x,
              relative: props.relative,
              from: zoom?.[0],
              to: zoom?.[1],
            },
            signal,
          ),
  );
  const shown = useLastValue<GroupsResponse>(data);
  const series: ChartSeries[] = useMemo(
    () =>
      (shown?.groups ?? []).map((g, i) => {
        const label = perRun
          ? runLabel(String(g.key[0]), props.names)
          : `${groupLabel(group, g.key)} (${g.runs.length} run${g.runs.length === 1 ? '' : 's'})`;
        const color = colorAt(perRun ? refs.indexOf(String(g.key[0])) : i);
        // Markers when points are far apart: a metric logged every N steps reads as measurements.
        const sparse = g.x.length > 0 && g.x.length < width / 12;
        return {
          label,
          color,
          steps: g.x,
          values: centerOf(g, props.center),
          band: perRun ? undefined : bandOf(g, props.band, props.center),
          points: sparse,
        };
      }),
    [shown, props.center, props.band, refs.join('|'), group.join(','), width],
  );
  return (
    <div class="metric-chart" data-testid="group-chart">
      <LineChart
        title={metric}
        series={series}
        log={props.log}
        smoothing={props.smoothing}
        zoom={zoom}
        onZoom={props.onZoom}
        pinned={onSteps ? props.pinned : null}
        {...(onSteps ? { onPick: props.onPick } : {})}
        onWidth={(w) => setWidth(Math.min(2000, w))}
        xLabel={props.relative ? `${props.x} (relative)` : props.x}
        testId="compare-chart"
      />
      <div class="chart-foot muted small">
        {shown
          ? `${shown.groups.reduce((a, g) => a + g.x.length, 0)} points drawn of ${shown.total} ${shown.x}${shown.relative ? ' (relative)' : ''} values${perRun ? '' : ` · ${props.center} ± ${props.band}`}`
          : ''}
      </div>
      <ErrorBox error={error} />
    </div>
  );
}
