/**
 * The compare page's summary table when runs are grouped: per metric and group, the run count and the
 * final value, minimum and maximum aggregated across the group's runs the way the chart's lines and bands
 * are (mean or median, with std, stderr or min–max).
 */
import type { CompareResponse, Json } from '../../api/index.js';
import { Card } from '../../components/common.js';
import { colorAt, fmtNumber } from '../../format.js';
import { aggregate, type BandKind, type Center, groupLabel } from './groups.js';

type Figure = 'last' | 'min' | 'max';

function configValue(config: Json, key: string): Json {
  return config && typeof config === 'object' && !Array.isArray(config) ? (config[key] ?? null) : null;
}

export function GroupSummary(props: {
  data: CompareResponse;
  group: string[];
  center: Center;
  band: BandKind;
}) {
  const { data, group, center, band } = props;
  const groups = new Map<string, { key: Json[]; runs: Set<string> }>();
  for (const r of data.runs) {
    const key = group.map((k) => configValue(r.config, k));
    const id = JSON.stringify(key);
    const g = groups.get(id) ?? { key, runs: new Set<string>() };
    g.runs.add(`${r.specimen_id}/${r.run_id}`);
    groups.set(id, g);
  }
  const ordered = [...groups.values()].sort((a, b) =>
    JSON.stringify(a.key).localeCompare(JSON.stringify(b.key), undefined, { numeric: true }),
  );
  const metrics = [...new Set(data.summaries.map((s) => s.metric))].sort();
  const cell = (xs: number[]) => {
    const a = aggregate(xs, center, band);
    return (
      <td class="right mono">
        {fmtNumber(a.center)}
        {a.lower !== null && a.upper !== null ? (
          <span class="muted small">
            {band === 'minmax'
              ? ` [${fmtNumber(a.lower)}, ${fmtNumber(a.upper)}]`
              : ` ± ${fmtNumber((a.upper - a.lower) / 2)}`}
          </span>
        ) : null}
      </td>
    );
  };
  return (
    <Card title={`Summary by ${group.join(', ')} (${center}${band === 'none' ? '' : ` ± ${band}`})`}>
      <div class="scroll-x">
        <table class="grid" data-testid="group-summary">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Group</th>
              <th class="right">Runs</th>
              <th class="right">Final</th>
              <th class="right">Min</th>
              <th class="right">Max</th>
            </tr>
          </thead>
          <tbody>
            {metrics.flatMap((metric) =>
              ordered.map((g, i) => {
                const rows = data.summaries.filter(
                  (s) => s.metric === metric && g.runs.has(`${s.specimen_id}/${s.run_id}`),
                );
                const of = (f: Figure) => rows.map((s) => s[f]).filter((v): v is number => v !== null);
                return (
                  <tr key={`${metric}/${JSON.stringify(g.key)}`} class={i === 0 ? 'group-start' : ''}>
                    <td class="mono">{i === 0 ? metric : ''}</td>
                    <td>
                      <span class="swatch" style={{ background: colorAt(i) }} />
                      {groupLabel(group, g.key)}
                    </td>
                    <td class="right mono">{rows.length}</td>
                    {cell(of('last'))}
                    {cell(of('min'))}
                    {cell(of('max'))}
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
