/**
 * A run's system metrics (CPU %, process-tree RSS, GPU utilisation and memory where sampled) charted over
 * elapsed seconds, one chart per column its `system.parquet` holds (or, while the run is running, the
 * `system.jsonl` its sampler appends to); nothing at all when it has none. While `live`, the card asks
 * every 2 s how many samples there are and redraws when they grew, whether or not the metrics did.
 *
 * @example
 * <SystemCard specimenId="2025_01_02_x" runId="20250102_101010" version="sealed" live={false} />
 */
import { getPendingSeries, getSeries, runRef, SYSTEM_METRICS } from '../../api/index.js';
import { Card, ErrorBox } from '../../components/common.js';
import { useData } from '../../hooks.js';
import { MetricChart } from './MetricChart.js';

export function SystemCard(props: {
  specimenId: string;
  /** The run ID, or a staged run's stage name with `pending`. */
  runId: string;
  version: string;
  live: boolean;
  /** A run staged in pending/: read through the pending routes. */
  pending?: boolean;
}) {
  const { specimenId, runId, live, pending = false } = props;
  const ref = runRef({ specimen_id: specimenId, run_id: runId });
  // One narrow request tells which columns the run has; each chart then asks at its own width.
  const { data, error } = useData(
    `system:${pending ? 'pending:' : ''}${ref}/${props.version}`,
    (signal) => {
      const probe = { metrics: SYSTEM_METRICS, width: 16, source: 'system' } as const;
      return pending
        ? getPendingSeries(specimenId, runId, probe, signal)
        : getSeries({ runs: [ref], ...probe }, signal);
    },
    { live: () => live },
  );
  if (error) return <ErrorBox error={error} />;
  const present = data?.series.filter((s) => !s.missing && s.total > 0).map((s) => s.metric) ?? [];
  // The charts ask again when the samples grew (or the run was sealed: the parquet replaces the lines).
  const version = `${props.version}:${data?.series.reduce((a, s) => a + s.total, 0) ?? 0}`;
  if (present.length === 0) return null;
  return (
    <Card title={<span data-testid="system-heading">System</span>}>
      <div class="chart-grid" data-testid="system-charts">
        {present.map((metric) => (
          <MetricChart
            key={metric}
            specimenId={specimenId}
            runId={runId}
            metric={metric}
            version={version}
            source="system"
            pending={pending}
            xLabel="seconds"
            testId="system-chart"
          />
        ))}
      </div>
    </Card>
  );
}
