/**
 * What an item of a view shows, from the live API: a chart per metric over the view's runs (series
 * downsampled on the server per pixel bucket, refined on zoom), a query's or the runs' table, a tensor's
 * 2-D slice as a heatmap, or rendered Markdown.
 */
import { useMemo, useState } from 'preact/hooks';
import {
  getCompare,
  getSlice,
  getSpecimen,
  runQuery,
  type SavedViewJson,
  type ViewItemJson,
} from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { Heatmap } from '../../components/Heatmap.js';
import { LineChart } from '../../components/LineChart.js';
import { Markdown } from '../../components/Markdown.js';
import { colorAt, fmtValue } from '../../format.js';
import { useData, useSeries } from '../../hooks.js';

/** Run references of a run set: specimen IDs expand to every run of the specimen. */
export function useRuns(refs: readonly string[]): { runs: string[] | undefined; error: unknown } {
  const { data, error } = useData(`view-runs:${refs.join('|')}`, async (signal) => {
    const out: string[] = [];
    for (const ref of refs) {
      if (ref.includes('/')) out.push(ref);
      else out.push(...(await getSpecimen(ref, signal)).runs.map((r) => `${r.specimen_id}/${r.run_id}`));
    }
    return [...new Set(out)];
  });
  return { runs: data, error };
}

function MetricPreview(props: {
  runs: string[];
  metric: string;
  item: Extract<ViewItemJson, { kind: 'chart' }>;
}) {
  const { runs, metric, item } = props;
  const [width, setWidth] = useState(0);
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const { data, error } = useSeries(runs, metric, { width, zoom, version: '' });
  const groups = useData(`view-config:${runs.join('|')}:${item.group_by.join(',')}`, (signal) =>
    item.group_by.length === 0 ? Promise.resolve(undefined) : getCompare(runs, {}, signal),
  ).data;
  const series = useMemo(
    () =>
      (data?.series ?? [])
        .filter((s) => !s.missing)
        .map((s) => {
          const ref = `${s.specimen_id}/${s.run_id}`;
          const config = groups?.runs.find((r) => `${r.specimen_id}/${r.run_id}` === ref)?.config as
            | Record<string, unknown>
            | undefined;
          const group = item.group_by.map((k) => `${k}=${fmtValue(config?.[k] ?? null)}`).join(' ');
          return {
            label: group ? `${group} · ${ref}` : ref,
            color: colorAt(runs.indexOf(ref)),
            steps: s.steps,
            values: s.values,
          };
        }),
    [data, groups, runs],
  );
  if (error) return <ErrorBox error={error} />;
  return (
    <div class="metric-chart" data-testid="view-chart">
      <LineChart
        series={series}
        title={metric}
        log={item.log}
        zoom={zoom}
        onZoom={setZoom}
        onWidth={setWidth}
        xLabel={item.x}
      />
    </div>
  );
}

function ChartPreview({ item, runs }: { item: Extract<ViewItemJson, { kind: 'chart' }>; runs: string[] }) {
  if (item.metrics.length === 0) return <p class="muted">Name the metrics to chart.</p>;
  if (runs.length === 0) return <p class="muted">Name the runs (the view's or this chart's).</p>;
  if (item.x !== 'step')
    return <p class="muted">Charted against {item.x} in the exported report; here against step.</p>;
  return (
    <div class="chart-grid wide">
      {item.metrics.map((m) => (
        <MetricPreview key={m} runs={runs} metric={m} item={item} />
      ))}
    </div>
  );
}

function SqlPreview({ sql }: { sql: string }) {
  const { data, error, loading } = useData(`view-sql:${sql}`, (signal) =>
    runQuery({ sql, maxRows: 200 }, signal),
  );
  if (error) return <ErrorBox error={error} />;
  if (!data) return loading ? <Loading what="query" /> : null;
  return (
    <div class="scroll-x">
      <table class="grid" data-testid="view-table">
        <thead>
          <tr>
            {data.columns.map((c) => (
              <th key={c.name}>{c.name}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {data.rows.map((row, i) => (
            <tr key={i}>
              {row.map((v, j) => (
                <td key={j} class="mono">
                  {fmtValue(v)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TensorPreview({ item }: { item: Extract<ViewItemJson, { kind: 'tensor' }> }) {
  const slash = item.run.indexOf('/');
  const ready = slash > 0 && item.tensor !== '';
  const sel = `${item.index.map(String).join(',')}${item.index.length > 0 ? ',' : ''}:,:`;
  const { data, error } = useData(`view-tensor:${item.run}/${item.tensor}/${sel}`, (signal) =>
    ready
      ? getSlice(
          { specimenId: item.run.slice(0, slash), runId: item.run.slice(slash + 1), name: item.tensor },
          sel,
          signal,
        )
      : Promise.resolve(undefined),
  );
  if (!ready) return <p class="muted">Name a run (specimen/run) and a tensor.</p>;
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="slice" />;
  const rows = data.shape.length >= 2 ? data.shape[data.shape.length - 2]! : 1;
  const cols = data.shape[data.shape.length - 1] ?? 0;
  return (
    <Heatmap
      data={data.data}
      rows={rows}
      cols={cols}
      min={data.min}
      max={data.max}
      colormap="viridis"
      describe={(i, j) => `[${[...item.index, i, j].join(', ')}]`}
      maxWidth={520}
      testId="view-tensor"
    />
  );
}

export function ItemPreview({ item, view }: { item: ViewItemJson; view: SavedViewJson }) {
  // An item's own runs when it names any, else the view's.
  const own = item.kind === 'chart' || (item.kind === 'table' && 'runs' in item) ? item.runs : undefined;
  const refs = own && own.length > 0 ? own : view.runs;
  const { runs, error } = useRuns(item.kind === 'text' || item.kind === 'tensor' ? [] : refs);
  if (item.kind === 'text') return <Markdown text={item.markdown} />;
  if (item.kind === 'tensor') return <TensorPreview item={item} />;
  if (item.kind === 'table' && 'sql' in item) return <SqlPreview sql={item.sql} />;
  if (error) return <ErrorBox error={error} />;
  if (!runs) return <Loading what="runs" />;
  if (item.kind === 'chart') return <ChartPreview item={item} runs={runs} />;
  return (
    <ul class="mono small" data-testid="view-runs-table">
      {runs.map((r) => (
        <li key={r}>{r}</li>
      ))}
    </ul>
  );
}
