/**
 * One run on the specimen page: config and summary, a chart per numeric metric against step, the metrics
 * table, its system metrics (SystemCard), the code kept with it (CodeCard), its console output (RunConsole)
 * and the tensors; a metric's turn (from the catalog) is marked on its chart. A run in progress refreshes every 2 s (and says so) until it is sealed.
 */
import { useState } from 'preact/hooks';
import { getRun, getTurns, isRunning } from '../../api/index.js';
import { Card, ErrorBox, KeyValues, Loading, StatusBadge } from '../../components/common.js';
import { fmtBytes } from '../../format.js';
import { useData } from '../../hooks.js';
import { href } from '../../router.js';
import { nearestIndex, tensorQuery } from '../tensor/series-step.js';
import { CodeCard } from './CodeCard.js';
import { MetricChart } from './MetricChart.js';
import { MetricsTable } from './MetricsTable.js';
import { RunConsole } from './RunConsole.js';
import { SystemCard } from './SystemCard.js';

/** The manifest's `error` object (a failed run's type, message and traceback), or null. */
function runError(manifest: unknown): { type?: unknown; message?: unknown; traceback?: unknown } | null {
  if (manifest === null || typeof manifest !== 'object') return null;
  const e = (manifest as Record<string, unknown>).error;
  return e !== null && typeof e === 'object' && !Array.isArray(e) ? (e as Record<string, unknown>) : null;
}

export function RunDetail({ specimenId, runId }: { specimenId: string; runId: string }) {
  const { data, error } = useData(
    `run:${specimenId}/${runId}`,
    (signal) => getRun(specimenId, runId, signal),
    {
      live: (d) => isRunning(d.run),
    },
  );
  // Turns come from the catalog; without one (or without turn metrics) the charts simply have no marker.
  const turns = useData(`turns:${specimenId}`, (signal) => getTurns(specimenId, signal));
  // A step clicked on any chart: pinned on every chart, and the step the tensor series open at.
  const [step, setStep] = useState<number | null>(null);
  const turnOf = (metric: string) =>
    turns.data?.turns.find((t) => t.run_id === runId && t.metric === metric)?.step ?? null;
  if (error && !data) return <ErrorBox error={error} />;
  if (!data) return <Loading what="run" />;
  const run = data.run;
  const numeric = data.metrics?.columns.filter((c) => c.numeric) ?? [];
  const version = `${data.metrics?.rows ?? 0}:${run.status}`;
  return (
    <>
      <Card
        title={
          <span data-testid="run-heading">
            {/* A named run reads by its name; the ID stays beside it, secondary, for copying. */}
            {run.name ? (
              <>
                Run <span data-testid="run-heading-name">{run.name}</span>{' '}
                <span class="mono muted small" data-testid="run-heading-id">
                  {runId}
                </span>
              </>
            ) : (
              <>
                Run <span class="mono">{runId}</span>
              </>
            )}{' '}
            <StatusBadge status={run.status} />
            {isRunning(run) ? (
              <span class="live" data-testid="live">
                live · refreshing
              </span>
            ) : null}
          </span>
        }
        actions={<a href={href(['compare'], { run: `${specimenId}/${runId}` })}>Compare with other runs →</a>}
      >
        <div class="two-col">
          <div>
            <h3>Config</h3>
            <KeyValues value={run.config} />
          </div>
          <div>
            <h3>Summary</h3>
            <KeyValues value={run.summary} />
            {run.command ? (
              <p class="small">
                <b>command</b> <code>{run.command}</code>{' '}
                {run.exit_code !== null ? `(exit ${run.exit_code})` : ''}
              </p>
            ) : null}
          </div>
        </div>
      </Card>
      <Card
        title={
          <span data-testid="metrics-heading">{`Metrics${data.metrics ? ` (${data.metrics.rows} rows)` : ''}`}</span>
        }
      >
        {!data.metrics ? (
          <p class="muted">This run has no metrics.</p>
        ) : (
          <>
            <div class="chart-grid" data-testid="run-charts">
              {numeric.map((c) => (
                <MetricChart
                  key={c.name}
                  specimenId={specimenId}
                  runId={runId}
                  metric={c.name}
                  version={version}
                  turn={turnOf(c.name)}
                  pinned={step}
                  onPick={setStep}
                  xLabel={data.metrics?.has_step ? 'step' : 'row'}
                />
              ))}
            </div>
            <MetricsTable specimenId={specimenId} runId={runId} version={version} />
          </>
        )}
      </Card>
      <SystemCard specimenId={specimenId} runId={runId} version={version} live={isRunning(run)} />
      <CodeCard specimenId={specimenId} runId={runId} version={run.sealed ? 'sealed' : 'open'} />
      <RunConsole
        specimenId={specimenId}
        runId={runId}
        live={isRunning(run)}
        error={runError(run.manifest)}
      />
      <Card title={`Tensors (${data.tensors.length})`}>
        {data.tensors.length === 0 ? (
          <p class="muted">No tensors.</p>
        ) : (
          <table class="grid" data-testid="tensors-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Shape</th>
                <th>Dtype</th>
                <th>Chunks</th>
                <th>Size</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {data.tensors.map((t) => (
                <tr key={t.name}>
                  <td class="mono">{t.name}</td>
                  <td class="mono">({t.shape.join(', ')})</td>
                  <td>{t.dtype}</td>
                  <td class="mono">({t.chunks.join(', ')})</td>
                  <td>{fmtBytes(t.bytes)}</td>
                  <td>
                    <a
                      href={href(['tensor', specimenId, runId, t.name], tensorQuery(t, step))}
                      data-testid="view-tensor"
                    >
                      {t.steps && step !== null
                        ? `view at step ${t.steps[nearestIndex(t.steps, step)]} →`
                        : 'view →'}
                    </a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}
