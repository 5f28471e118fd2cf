/**
 * One metric of a run against step (or row), zoomable, its series downsampled to the chart's width, with
 * the metric's turn marked when the catalog found one.
 */
import { useState } from 'preact/hooks';
import { runRef, type SeriesSource } from '../../api/index.js';
import { ErrorBox } from '../../components/common.js';
import { LineChart } from '../../components/LineChart.js';
import { colorAt } from '../../format.js';
import { useLastValue, useSeries } from '../../hooks.js';
import { systemAxis, systemHover } from '../system-hover.js';

export function MetricChart(props: {
  specimenId: string;
  runId: string;
  metric: string;
  version: string;
  xLabel: string;
  /** The metric's turn step, or null. */
  turn?: number | null;
  /** The step picked on any chart of the run (drawn as a line), and where a click picks one. */
  pinned?: number | null;
  onPick?: (step: number) => void;
  /** `system`: the run's system metrics over elapsed seconds (the System card). */
  source?: SeriesSource;
  /** A run staged in pending/: `runId` is its stage name, read through the pending routes. */
  pending?: boolean;
  testId?: string;
}) {
  const { specimenId, runId, metric, version } = props;
  const ref = runRef({ specimen_id: specimenId, run_id: runId });
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [width, setWidth] = useState(0);
  const { data, error } = useSeries([ref], metric, {
    width,
    zoom,
    version,
    source: props.source ?? 'metrics',
    ...(props.pending ? { pending: { specimenId, stage: runId } } : {}),
  });
  // Keep the previous curve on screen while a refresh or a zoom is loading.
  const shown = useLastValue(data?.series[0]);
  return (
    <div class="metric-chart">
      <LineChart
        title={metric}
        series={
          shown
            ? [
                {
                  label: metric,
                  color: colorAt(0),
                  steps: shown.steps,
                  values: shown.values,
                  // Markers when points are far apart: a metric logged every N steps reads as measurements.
                  points: shown.steps.length > 0 && shown.steps.length < width / 12,
                },
              ]
            : []
        }
        zoom={zoom}
        onZoom={setZoom}
        pinned={props.pinned ?? null}
        {...(props.onPick ? { onPick: props.onPick } : {})}
        markers={
          props.turn !== null && props.turn !== undefined
            ? [{ step: props.turn, color: '#8a2be2', label: 'turn' }]
            : []
        }
        onWidth={(w) => setWidth(Math.min(2000, w))}
        xLabel={props.xLabel}
        testId={props.testId ?? 'metric-chart'}
        {...(props.source === 'system' ? { yFormat: systemAxis(metric) } : {})}
        {...(props.source === 'system' && !props.pending ? { hoverDetail: systemHover([ref]) } : {})}
      />
      <div class="chart-foot muted small">
        {shown
          ? `${shown.total} value${shown.total === 1 ? '' : 's'}${shown.downsampled ? `, min/max per pixel → ${shown.steps.length}` : ''}`
          : ''}
        {zoom ? (
          <button type="button" class="link" onClick={() => setZoom(null)}>
            reset zoom
          </button>
        ) : null}
      </div>
      <ErrorBox error={error} />
    </div>
  );
}
