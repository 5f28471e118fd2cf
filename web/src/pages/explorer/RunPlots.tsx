/**
 * Config against outcome over the runs in the explorer's view (its filters, without grouping; at most
 * 5,000 runs): a scatter of any column against any other, or parallel coordinates over the shown columns.
 * Points and lines are coloured by the first group-by column (else by specimen); a click opens the run.
 */
import { useMemo } from 'preact/hooks';
import { type ExplorerQuery, getExplorer, type Json } from '../../api/index.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { ParallelCoordinates } from '../../components/ParallelCoordinates.js';
import type { PlotValue } from '../../components/plot-canvas.js';
import { ScatterPlot } from '../../components/ScatterPlot.js';
import { colorAt } from '../../format.js';
import { useData } from '../../hooks.js';
import { href, navigate } from '../../router.js';

/** Most runs plotted: one request's worth. */
const MAX_PLOTTED = 5000;

function plotValue(v: Json | undefined, numeric = false): PlotValue {
  // The API spells NaN and ±Infinity as text; on a numeric axis they are missing values.
  if (numeric) return typeof v === 'number' ? v : null;
  return typeof v === 'number' || typeof v === 'string'
    ? v
    : v === null || v === undefined
      ? null
      : JSON.stringify(v);
}

export function RunPlots(props: {
  query: ExplorerQuery;
  kind: 'scatter' | 'parallel';
  x: string | undefined;
  y: string | undefined;
  /** Columns shown in the table: the parallel axes (numbers and the group-by columns). */
  shown: readonly string[];
  colorBy: string | undefined;
  onAxes: (x: string, y: string) => void;
}) {
  const { query, kind } = props;
  const q = { ...query, group: [], offset: 0, limit: MAX_PLOTTED };
  const { data, error } = useData(`explorer-plot:${JSON.stringify(q)}`, (signal) => getExplorer(q, signal));
  const runs = useMemo(() => {
    if (!data) return [];
    const colorCol = props.colorBy ? data.columns.findIndex((c) => c.key === props.colorBy) : 0;
    const colors = new Map<string, string>();
    return data.rows.map((r) => {
      const k = JSON.stringify(r[colorCol] ?? null);
      if (!colors.has(k)) colors.set(k, colorAt(colors.size));
      return { id: `${r[0]}/${r[1]}`, row: r, color: colors.get(k)! };
    });
  }, [data, props.colorBy]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="plot" />;
  const index = new Map(data.columns.map((c, i) => [c.key, i]));
  const open = (id: string) => {
    const slash = id.indexOf('/');
    navigate(href(['specimen', id.slice(0, slash), 'run', id.slice(slash + 1)]));
  };
  const numeric = data.columns.filter((c) => c.kind === 'number').map((c) => c.key);
  const x =
    props.x && index.has(props.x)
      ? props.x
      : (numeric.find((k) => k.startsWith('config.')) ?? numeric[0] ?? 'run_id');
  const y =
    props.y && index.has(props.y)
      ? props.y
      : (numeric.find((k) => k.endsWith('.min')) ?? numeric[1] ?? 'status');
  const note =
    data.total > data.rows.length
      ? `first ${data.rows.length.toLocaleString()} of ${data.total.toLocaleString()} runs`
      : '';
  if (kind === 'scatter') {
    const xi = index.get(x)!;
    const yi = index.get(y)!;
    const xn = numeric.includes(x);
    const yn = numeric.includes(y);
    const axisSelect = (value: string, set: (v: string) => void, testId: string) => (
      <select
        aria-label={testId}
        value={value}
        data-testid={testId}
        onChange={(e) => set((e.currentTarget as HTMLSelectElement).value)}
      >
        {data.columns.map((c) => (
          <option key={c.key} value={c.key}>
            {c.key}
          </option>
        ))}
      </select>
    );
    return (
      <div class="card plot-card">
        <div class="controls">
          <span>x {axisSelect(x, (v) => props.onAxes(v, y), 'scatter-x')}</span>
          <span>y {axisSelect(y, (v) => props.onAxes(x, v), 'scatter-y')}</span>
          <span class="muted small">{note}</span>
        </div>
        <ScatterPlot
          testId="scatter"
          xLabel={x}
          yLabel={y}
          onOpen={open}
          points={runs.map((r) => ({
            id: r.id,
            x: plotValue(r.row[xi], xn),
            y: plotValue(r.row[yi], yn),
            color: r.color,
            label: r.id,
          }))}
        />
      </div>
    );
  }
  // Axes without a single value among these runs say nothing: left out.
  const axes = props.shown
    .filter((k) => numeric.includes(k) || k === props.colorBy)
    .filter((k) => runs.some((r) => plotValue(r.row[index.get(k)!], numeric.includes(k)) !== null))
    .slice(0, 10);
  const ai = axes.map((k) => index.get(k)!);
  return (
    <div class="card plot-card">
      <div class="controls">
        <span class="muted small">axes: the table's numeric columns (choose them with “columns”) {note}</span>
      </div>
      <ParallelCoordinates
        testId="parallel"
        axes={axes}
        onOpen={open}
        lines={runs.map((r) => ({
          id: r.id,
          label: r.id,
          color: r.color,
          values: ai.map((i, a) => plotValue(r.row[i], numeric.includes(axes[a]!))),
        }))}
      />
    </div>
  );
}
