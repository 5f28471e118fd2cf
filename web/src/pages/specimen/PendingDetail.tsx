/**
 * A run staged in the specimen's pending/ — written where no specimen CLI was reachable (a cluster node) —
 * shown before it is sealed: its writer and state, config, a chart per numeric metric of its live
 * metrics.jsonl, its system metrics (system.jsonl) and its console, refreshed every 2 s while the writer runs. `specimen adopt` or
 * `specimen index` seals it once it has finished; it then leaves the pending list for the runs table.
 *
 * @example
 * <PendingDetail specimenId="2026_01_02_probe" run={pending.runs[0]} />
 */
import type { PendingRunSummary } from '../../api/index.js';
import { Card, KeyValues } from '../../components/common.js';
import { fmtDate } from '../../format.js';
import { MetricChart } from './MetricChart.js';
import { RunConsole } from './RunConsole.js';
import { SystemCard } from './SystemCard.js';

export function PendingDetail({ specimenId, run }: { specimenId: string; run: PendingRunSummary }) {
  const numeric = run.metrics?.columns.filter((c) => c.numeric) ?? [];
  const live = run.state === 'running';
  const version = `${run.metrics?.rows ?? 0}:${run.state}`;
  return (
    <>
      <Card
        title={
          <span data-testid="pending-heading">
            Pending run {run.name ? <span>{run.name}</span> : null}{' '}
            <span class="mono muted small">{run.stage}</span>{' '}
            <span class="badge status-pending">pending — not sealed yet</span>{' '}
            <span class={`badge status-${live ? 'running' : 'incomplete'}`}>{run.state}</span>
            {live ? (
              <span class="live" data-testid="live">
                live · refreshing
              </span>
            ) : null}
          </span>
        }
      >
        <p class="small muted">
          Staged in <code>pending/{run.stage}</code> by a writer on <b>{run.host ?? '?'}</b> (pid{' '}
          {run.pid ?? '?'}
          ), started {fmtDate(run.started)}.{' '}
          {run.state === 'running' ? (
            <>
              It is sealed by <code>specimen adopt</code> or <code>specimen index</code> once it finishes.
            </>
          ) : (
            <>
              <code>specimen adopt {specimenId}</code> or <code>specimen index</code> seals it now.
            </>
          )}
        </p>
        <h3>Config</h3>
        <KeyValues value={run.config} />
      </Card>
      <Card title={`Metrics${run.metrics ? ` (${run.metrics.rows} rows)` : ''}`}>
        {numeric.length === 0 ? (
          <p class="muted">No metrics logged yet.</p>
        ) : (
          <div class="chart-grid" data-testid="pending-charts">
            {numeric.map((c) => (
              <MetricChart
                key={c.name}
                specimenId={specimenId}
                runId={run.stage}
                metric={c.name}
                version={version}
                xLabel={run.metrics?.has_step ? 'step' : 'row'}
                pending
              />
            ))}
          </div>
        )}
      </Card>
      <SystemCard specimenId={specimenId} runId={run.stage} version={version} live={live} pending />
      <RunConsole specimenId={specimenId} runId={run.stage} live={live} error={null} pending />
    </>
  );
}
