/**
 * The compared runs' system metrics (CPU %, RSS, GPU where sampled), one chart per metric with a line per
 * run over elapsed seconds since each run began; nothing at all when no run has system metrics (a sealed
 * `system.parquet`, or the `system.jsonl` of a running run). While `live`, the samples are counted again
 * every 2 s and the charts redraw when they grew.
 *
 * @example
 * <CompareSystem refs={['S/R1', 'S/R2']} names={names} version={v} live={false} log={false} smoothing={0} />
 */
import { useState } from 'preact/hooks';
import { getSeries, SYSTEM_METRICS } from '../../api/index.js';
import { Card, ErrorBox } from '../../components/common.js';
import { useData } from '../../hooks.js';
import { CompareChart } from './CompareChart.js';

/** Turns do not apply to seconds: the system charts mark none. */
const NO_TURNS = new Map<string, ReadonlyMap<string, number>>();

export function CompareSystem(props: {
  refs: string[];
  names: ReadonlyMap<string, string>;
  version: string;
  live: boolean;
  log: boolean;
  smoothing: number;
}) {
  const { refs, live } = props;
  // Seconds, not steps: these charts zoom together, apart from the metric charts.
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  // One narrow request tells which metrics any run has; each chart then asks at its own width.
  const { data, error } = useData(
    `compare-system:${refs.join('|')}/${props.version}`,
    (signal) => getSeries({ runs: refs, metrics: SYSTEM_METRICS, width: 16, source: 'system' }, signal),
    { live: () => live },
  );
  const version = `${props.version}:${data?.series.reduce((a, s) => a + s.total, 0) ?? 0}`;
  if (error) return <ErrorBox error={error} />;
  const present = SYSTEM_METRICS.filter((m) =>
    data?.series.some((s) => s.metric === m && !s.missing && s.total > 0),
  );
  if (present.length === 0) return null;
  return (
    <Card title={<span data-testid="compare-system-heading">System</span>}>
      <div class="chart-grid wide" data-testid="compare-system-charts">
        {present.map((metric) => (
          <CompareChart
            key={metric}
            refs={refs}
            names={props.names}
            metric={metric}
            log={props.log}
            smoothing={props.smoothing}
            zoom={zoom}
            onZoom={setZoom}
            pinned={null}
            onPick={() => {}}
            version={version}
            turns={NO_TURNS}
            alignOn={null}
            source="system"
            testId="compare-system-chart"
          />
        ))}
      </div>
    </Card>
  );
}
