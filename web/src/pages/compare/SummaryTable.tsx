/**
 * The compare page's summary table: per metric and run the final value, the minimum and maximum with their
 * steps and the count, from the catalog for sealed runs or computed live (marked) for the others.
 */
import { type CompareResponse, runRef } from '../../api/index.js';
import { Card, StatusBadge } from '../../components/common.js';
import { colorAt, fmtNumber } from '../../format.js';
import { runLabel, runNames } from './run-label.js';

export function SummaryTable({ data, refs }: { data: CompareResponse; refs: string[] }) {
  const names = runNames(data.runs);
  const byMetric = new Map<string, CompareResponse['summaries']>();
  for (const s of data.summaries) {
    const list = byMetric.get(s.metric) ?? [];
    list.push(s);
    byMetric.set(s.metric, list);
  }
  return (
    <Card title="Summary">
      <div class="scroll-x">
        <table class="grid" data-testid="summary-table">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Run</th>
              <th>Status</th>
              <th class="right">Final</th>
              <th class="right">Min</th>
              <th class="right">at step</th>
              <th class="right">Max</th>
              <th class="right">at step</th>
              <th class="right">Count</th>
            </tr>
          </thead>
          <tbody>
            {[...byMetric].flatMap(([metric, list]) =>
              list.map((s, i) => {
                const ref = runRef(s);
                const run = data.runs.find((r) => r.specimen_id === s.specimen_id && r.run_id === s.run_id);
                return (
                  <tr key={`${metric}/${ref}`} class={i === 0 ? 'group-start' : ''}>
                    <td class="mono">{i === 0 ? metric : ''}</td>
                    <td>
                      <span class="swatch" style={{ background: colorAt(refs.indexOf(ref)) }} />
                      {runLabel(ref, names)}
                    </td>
                    <td>
                      <StatusBadge status={run?.status} />
                      {s.source === 'live' ? <span class="muted small"> live</span> : null}
                    </td>
                    <td class="right mono">{fmtNumber(s.last)}</td>
                    <td class="right mono">{fmtNumber(s.min)}</td>
                    <td class="right mono">{fmtNumber(s.step_of_min)}</td>
                    <td class="right mono">{fmtNumber(s.max)}</td>
                    <td class="right mono">{fmtNumber(s.step_of_max)}</td>
                    <td class="right mono">{fmtNumber(s.count)}</td>
                  </tr>
                );
              }),
            )}
          </tbody>
        </table>
      </div>
    </Card>
  );
}
