/**
 * The client script of a standalone report (src/report/html.ts inlines it): reads the report data from the
 * page's `#report-data` element and draws it — charts (uPlot, hover values, drag to zoom, double-click to
 * reset; each drawn with min/max per pixel bucket from the embedded points, so spikes survive), the runs
 * table, metric summaries, config diff, tensor thumbnails, query tables, field notes and provenance. It
 * fetches nothing.
 */
import { render } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import type { ReportData, ReportItem, ReportRun } from '../../../src/report/report-types.js';
import { downsampleMinMax } from '../../../src/server/downsample.js';
import { lut } from '../components/colormap.js';
import { Card, StatusBadge } from '../components/common.js';
import { type ChartSeries, LineChart } from '../components/LineChart.js';
import { colorAt, fmtDate, fmtDuration, fmtNumber, fmtValue } from '../format.js';
import '../styles.css';
import './report.css';
import { renderFieldNotes } from './field-notes.js';

function Html({ html, testId }: { html: string; testId?: string }) {
  // Sanitized by renderFieldNotes (DOMPurify).
  return <div class="markdown" data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />;
}

function ChartItem({
  item,
  colors,
}: {
  item: Extract<ReportItem, { kind: 'chart' }>;
  colors: Map<string, string>;
}) {
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [width, setWidth] = useState(800);
  const series: ChartSeries[] = useMemo(
    () =>
      item.series.map((s) => {
        const ys = Float64Array.from(s.values, (v) => (v === null ? Number.NaN : v));
        const d = downsampleMinMax(s.steps, ys, {
          width,
          ...(zoom ? { from: zoom[0], to: zoom[1] } : {}),
        });
        return { label: s.label, color: colors.get(s.run) ?? '#888', steps: d.steps, values: d.values };
      }),
    [item, width, zoom?.[0], zoom?.[1]],
  );
  const markers = item.markers.map((m) => ({
    step: m.step,
    color: colors.get(m.run) ?? '#888',
    label: m.label,
  }));
  const cut = item.series.filter((s) => s.downsampled);
  return (
    <div class="metric-chart" data-testid="report-chart" data-metric={item.metric}>
      <LineChart
        series={series}
        title={item.title}
        log={item.log}
        zoom={zoom}
        onZoom={setZoom}
        onWidth={setWidth}
        markers={markers}
        xLabel={item.x}
      />
      <div class="chart-foot small muted">
        <span>{zoom ? 'zoomed: double-click to reset' : 'drag to zoom'}</span>
        {cut.length > 0 ? (
          <span data-testid="report-downsampled">
            {cut
              .map((s) => `${s.run}: ${s.total} points embedded as ${s.steps.length} (min/max per bucket)`)
              .join('; ')}
          </span>
        ) : null}
        {item.series.length === 0 ? <span>No run has this metric.</span> : null}
      </div>
    </div>
  );
}

function Swatch({ color }: { color: string | undefined }) {
  return <span class="swatch" style={{ background: color ?? '#888' }} />;
}

function RunsTable({ runs, colors }: { runs: ReportRun[]; colors: Map<string, string> }) {
  return (
    <Card title={`Runs (${runs.length})`}>
      <div class="scroll-x">
        <table class="grid" data-testid="report-runs">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Started</th>
              <th>Duration</th>
              <th>Seed</th>
              <th>Commit</th>
              <th>Superseded by</th>
              <th>Reproduces</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.ref}>
                <td class="mono">
                  <Swatch color={colors.get(r.ref)} />
                  {r.ref}
                </td>
                <td>
                  <StatusBadge status={r.status} />
                  {r.failure ? <div class="small mono failure">{r.failure}</div> : null}
                </td>
                <td>{fmtDate(r.started)}</td>
                <td>{fmtDuration(r.durationS)}</td>
                <td class="mono">{r.seed ?? '–'}</td>
                <td class="mono">{r.git.commit ? r.git.commit.slice(0, 10) : '–'}</td>
                <td>
                  {r.supersededBy
                    ? `${r.supersededBy.by}${r.supersededBy.reason ? ` (${r.supersededBy.reason})` : ''}`
                    : '–'}
                </td>
                <td>{r.reproduces ? `${r.reproduces}: ${r.verdict ?? '–'}` : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Card>
  );
}

function Summaries({ runs, colors }: { runs: ReportRun[]; colors: Map<string, string> }) {
  const rows = runs.flatMap((r) => r.metrics.map((m) => ({ r, m })));
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.summary)))].sort();
  return (
    <Card title="Summaries">
      {keys.length > 0 ? (
        <div class="scroll-x">
          <table class="grid" data-testid="report-summary-values">
            <thead>
              <tr>
                <th>Run</th>
                {keys.map((k) => (
                  <th key={k} class="mono">
                    {k}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.ref}>
                  <td class="mono">
                    <Swatch color={colors.get(r.ref)} />
                    {r.ref}
                  </td>
                  {keys.map((k) => (
                    <td key={k} class="mono">
                      {k in r.summary ? fmtValue(r.summary[k]) : '–'}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {rows.length === 0 ? (
        <p class="muted">No metric summaries.</p>
      ) : (
        <div class="scroll-x">
          <table class="grid" data-testid="report-summaries">
            <thead>
              <tr>
                <th>Run</th>
                <th>Metric</th>
                <th>Last</th>
                <th>Min</th>
                <th>Step of min</th>
                <th>Max</th>
                <th>Step of max</th>
                <th>Mean</th>
                <th>Count</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ r, m }) => (
                <tr key={`${r.ref}|${m.column}`}>
                  <td class="mono">
                    <Swatch color={colors.get(r.ref)} />
                    {r.ref}
                  </td>
                  <td class="mono">{m.column}</td>
                  <td>{fmtNumber(m.last)}</td>
                  <td>{fmtNumber(m.min)}</td>
                  <td>{fmtNumber(m.stepOfMin)}</td>
                  <td>{fmtNumber(m.max)}</td>
                  <td>{fmtNumber(m.stepOfMax)}</td>
                  <td>{fmtNumber(m.mean)}</td>
                  <td>{m.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

/** `{a: {b: 1}}` → `{'a.b': 1}`. */
function flatten(v: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = {};
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) out[prefix] = v;
  return out;
}

function ConfigDiff({ runs, colors }: { runs: ReportRun[]; colors: Map<string, string> }) {
  const [all, setAll] = useState(false);
  const flat = runs.map((r) => flatten(r.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  const differs = (k: string) =>
    new Set(flat.map((f) => (k in f ? JSON.stringify(f[k]) : '\u0000'))).size > 1;
  const shown = keys.filter((k) => all || differs(k));
  return (
    <Card
      title={`Config (${keys.filter(differs).length} of ${keys.length} keys differ)`}
      actions={
        <label class="small">
          <input type="checkbox" checked={all} onChange={() => setAll(!all)} /> show all keys
        </label>
      }
    >
      {shown.length === 0 ? (
        <p class="muted">
          {keys.length === 0 ? 'No config recorded.' : 'Every config key is the same in all runs.'}
        </p>
      ) : (
        <div class="scroll-x">
          <table class="grid" data-testid="report-config-diff">
            <thead>
              <tr>
                <th>Key</th>
                {runs.map((r) => (
                  <th key={r.ref} class="mono">
                    <Swatch color={colors.get(r.ref)} />
                    {r.ref}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {shown.map((k) => (
                <tr key={k} class={differs(k) ? 'differs' : ''}>
                  <th class="mono">{k}</th>
                  {flat.map((f, i) => (
                    <td key={i} class={`mono ${differs(k) ? 'diff' : ''}`}>
                      {k in f ? fmtValue(f[k]) : <span class="muted">absent</span>}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Provenance({ runs }: { runs: ReportRun[] }) {
  return (
    <Card title="Provenance">
      <div data-testid="report-provenance">
        {runs.map((r) => (
          <details key={r.ref} class="provenance" open={runs.length <= 4}>
            <summary class="mono">{r.ref}</summary>
            <table class="kv">
              <tbody>
                <tr>
                  <th>Commit</th>
                  <td class="mono">
                    {r.git.commit ?? '–'}
                    {r.git.branch ? ` (${r.git.branch})` : ''}
                    {r.git.dirty ? ' with uncommitted changes' : ''}
                  </td>
                </tr>
                <tr>
                  <th>Command</th>
                  <td class="mono">{r.command ?? '–'}</td>
                </tr>
                <tr>
                  <th>Seed</th>
                  <td class="mono">{r.seed ?? '–'}</td>
                </tr>
                <tr>
                  <th>Outcome</th>
                  <td>
                    {r.status}
                    {r.exitCode === null ? '' : ` (exit ${r.exitCode})`}
                    {r.failure ? `: ${r.failure}` : ''}
                  </td>
                </tr>
                <tr>
                  <th>Reproduction</th>
                  <td>{r.reproduces ? `reproduces ${r.reproduces}: ${r.verdict ?? 'no verdict'}` : '–'}</td>
                </tr>
                <tr>
                  <th>Environment</th>
                  <td>
                    <pre class="mono small">
                      {Object.keys(r.environment).length > 0 ? JSON.stringify(r.environment, null, 2) : '–'}
                    </pre>
                  </td>
                </tr>
                {r.notes ? (
                  <tr>
                    <th>Run notes</th>
                    <td>
                      <Html html={renderFieldNotes(r.notes)} />
                    </td>
                  </tr>
                ) : null}
              </tbody>
            </table>
          </details>
        ))}
      </div>
    </Card>
  );
}

function TensorThumb({ item }: { item: Extract<ReportItem, { kind: 'tensor' }> }) {
  const [hover, setHover] = useState<string | null>(null);
  const url = useMemo(() => {
    const bytes = Uint8Array.from(atob(item.pixels), (c) => c.charCodeAt(0));
    const canvas = document.createElement('canvas');
    canvas.width = item.width;
    canvas.height = item.height;
    const ctx = canvas.getContext('2d')!;
    const img = ctx.createImageData(item.width, item.height);
    const table = lut('viridis');
    for (let i = 0; i < bytes.length; i++) {
      const v = bytes[i]!;
      const o = i * 4;
      if (v === 255) img.data.set([255, 255, 255, 255], o);
      else img.data.set([table[v * 3]!, table[v * 3 + 1]!, table[v * 3 + 2]!, 255], o);
    }
    ctx.putImageData(img, 0, 0);
    return canvas.toDataURL('image/png');
  }, [item]);
  const scale = Math.max(1, Math.floor(256 / Math.max(item.width, item.height)));
  const onMove = (e: MouseEvent) => {
    const el = e.currentTarget as HTMLImageElement;
    const x = Math.floor((e.offsetX / el.clientWidth) * item.width);
    const y = Math.floor((e.offsetY / el.clientHeight) * item.height);
    const bytes = atob(item.pixels).charCodeAt(y * item.width + x);
    const v =
      bytes === 255 || item.min === null || item.max === null
        ? 'not finite'
        : fmtNumber(item.min + (bytes / 254) * (item.max - item.min));
    setHover(`[${y}, ${x}] ≈ ${v}`);
  };
  return (
    <div class="metric-chart tensor-thumb" data-testid="report-tensor">
      <div class="chart-title">{item.title}</div>
      <img
        src={url}
        alt={`${item.tensor} ${item.slice}`}
        width={item.width * scale}
        height={item.height * scale}
        style={{ imageRendering: 'pixelated' }}
        onMouseMove={onMove}
        onMouseLeave={() => setHover(null)}
      />
      <div class="small muted">
        shape [{item.shape.join(', ')}] {item.dtype} · slice {item.slice} · range {fmtNumber(item.min)} …{' '}
        {fmtNumber(item.max)}
        {hover ? ` · ${hover}` : ''}
      </div>
    </div>
  );
}

function TableItem({ item }: { item: Extract<ReportItem, { kind: 'table' }> }) {
  return (
    <Card title={item.title}>
      {item.sql ? <pre class="mono small">{item.sql}</pre> : null}
      <div class="scroll-x">
        <table class="grid" data-testid="report-table">
          <thead>
            <tr>
              {item.columns.map((c) => (
                <th key={c}>{c}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {item.rows.map((row, i) => (
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
      {item.truncated ? (
        <p class="small muted">Only the first {item.rows.length} rows are in the report.</p>
      ) : null}
    </Card>
  );
}

function Notes({ data }: { data: ReportData }) {
  const withNotes = data.specimens.filter((s) => s.fieldNotes);
  if (withNotes.length === 0) return null;
  return (
    <Card title="Field notes">
      {withNotes.map((s) => (
        <section key={s.id}>
          {data.specimens.length > 1 ? <h3 class="mono">{s.id}</h3> : null}
          <Html html={renderFieldNotes(s.fieldNotes!)} testId="report-notes" />
        </section>
      ))}
    </Card>
  );
}

function Report({ data }: { data: ReportData }) {
  const colors = useMemo(() => new Map(data.runs.map((r, i) => [r.ref, colorAt(i)])), [data]);
  const blocks: preact.JSX.Element[] = [];
  let charts: preact.JSX.Element[] = [];
  let tensors: preact.JSX.Element[] = [];
  const flush = () => {
    if (charts.length > 0) blocks.push(<div class="chart-grid wide">{charts}</div>);
    if (tensors.length > 0) blocks.push(<div class="chart-grid">{tensors}</div>);
    charts = [];
    tensors = [];
  };
  data.items.forEach((item, i) => {
    if (item.kind === 'chart') {
      if (tensors.length > 0) flush();
      charts.push(<ChartItem key={i} item={item} colors={colors} />);
      return;
    }
    if (item.kind === 'tensor') {
      if (charts.length > 0) flush();
      tensors.push(<TensorThumb key={i} item={item} />);
      return;
    }
    flush();
    if (item.kind === 'text')
      blocks.push(
        <Card title={item.title ?? ''}>
          <Html html={renderFieldNotes(item.markdown)} testId="report-text" />
        </Card>,
      );
    else if (item.kind === 'table') blocks.push(<TableItem item={item} />);
    else if (item.kind === 'runs') {
      const refs = item.refs;
      blocks.push(
        <RunsTable runs={refs ? data.runs.filter((r) => refs.includes(r.ref)) : data.runs} colors={colors} />,
      );
    } else if (item.kind === 'summaries') blocks.push(<Summaries runs={data.runs} colors={colors} />);
    else if (item.kind === 'config-diff') blocks.push(<ConfigDiff runs={data.runs} colors={colors} />);
    else if (item.kind === 'notes') blocks.push(<Notes data={data} />);
    else if (item.kind === 'provenance') blocks.push(<Provenance runs={data.runs} />);
  });
  flush();
  const cut = data.items.some((i) => i.kind === 'chart' && i.series.some((s) => s.downsampled));
  return (
    <div class="page report">
      <h1>{data.title}</h1>
      <p class="small muted" data-testid="report-source">
        {data.source.view ? `View ${data.source.view}. ` : ''}
        {data.source.refs.length > 0 ? `Runs of ${data.source.refs.join(', ')}. ` : ''}
        Series of up to {data.limits.fullPoints.toLocaleString('en')} points are embedded in full; longer ones
        as {data.limits.buckets.toLocaleString('en')} min/max buckets{cut ? ' (some series here are)' : ''}.
      </p>
      {data.specimens.map((s) => (
        <div key={s.id} class="report-specimen" data-testid="report-specimen">
          <h2 class="mono">{s.id}</h2>
          <p class="small">
            {s.domain ?? '–'} / {s.method ?? '–'}
            {s.model ? ` · model ${s.model}` : ''}
            {s.status ? ` · ${s.status}` : ''}
            {s.tags.length > 0 ? ` · tags ${s.tags.join(', ')}` : ''}
          </p>
          {s.description ? <p>{s.description}</p> : null}
          {s.lab.map((l) => (
            <p key={l.field} data-testid={`report-lab-${l.field}`}>
              <b>{l.field.replace('_', ' ')}:</b> {l.text}
            </p>
          ))}
        </div>
      ))}
      {blocks}
    </div>
  );
}

const el = document.getElementById('report-data');
const data = JSON.parse(el?.textContent ?? '{}') as ReportData;
render(<Report data={data} />, document.getElementById('app')!);
