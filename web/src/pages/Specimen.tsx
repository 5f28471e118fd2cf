/**
 * A specimen: manifest, field notes (Markdown, sanitized), protocol, runs; and one run in detail — config,
 * summary, a chart per numeric metric against step, the metrics table and the tensors. A run still in
 * progress refreshes every 2 s until it is sealed.
 */
import { useCallback, useRef, useState } from 'preact/hooks';
import { getMetricsPage, getRun, getSeries, getSpecimen, type MetricsPage } from '../api/index.js';
import { Card, ErrorBox, KeyValues, Loading, StatusBadge, Tag, useData } from '../components/common.js';
import { LineChart } from '../components/LineChart.js';
import { Markdown } from '../components/Markdown.js';
import { type Column, VirtualTable } from '../components/VirtualTable.js';
import { colorAt, fmtBytes, fmtDate, fmtDuration, fmtValue } from '../format.js';
import { href, navigate, type Route } from '../router.js';

const LIVE = 'running';

export function SpecimenPage({ route }: { route: Route }) {
  const id = route.path[1] ?? '';
  const runParam = route.path[2] === 'run' ? route.path[3] : undefined;
  const { data, error } = useData(`specimen:${id}`, (signal) => getSpecimen(id, signal), {
    live: (d) => d.runs.some((r) => r.status === LIVE),
  });
  const [picked, setPicked] = useState<string[]>([]);

  if (error && !data)
    return (
      <div class="page">
        <ErrorBox error={error} />
      </div>
    );
  if (!data)
    return (
      <div class="page">
        <Loading what="specimen" />
      </div>
    );
  const m = data.manifest as Record<string, unknown>;
  const taxonomy = (m.taxonomy ?? {}) as { domain?: string; method?: string };
  const runId = runParam ?? data.runs.at(-1)?.run_id;
  const toggle = (r: string) => setPicked((p) => (p.includes(r) ? p.filter((x) => x !== r) : [...p, r]));

  return (
    <div class="page specimen-page">
      <div class="crumbs">
        <a href={href([])}>Catalog</a> / <span class="mono">{id}</span>
      </div>
      <h1 class="mono" data-testid="specimen-title">
        {id}
      </h1>
      <p class="lead">{String(m.description ?? '')}</p>
      <div class="facts">
        <span>
          <b>domain</b> <a href={href([], { domain: taxonomy.domain })}>{taxonomy.domain}</a>
        </span>
        <span>
          <b>method</b> <a href={href([], { method: taxonomy.method })}>{taxonomy.method}</a>
        </span>
        <span>
          <b>model</b> {String(m.model ?? '–')}
        </span>
        <span>
          <b>status</b> {String(m.status ?? '–')}
        </span>
        <span>
          <b>created</b> {fmtDate(m.created)}
        </span>
        <span class="tags">
          {((m.tags as string[]) ?? []).map((t) => (
            <Tag key={t} name={t} href={href([], { tag: t })} />
          ))}
        </span>
      </div>

      <Card
        title={`Runs (${data.runs.length})`}
        actions={
          <button
            type="button"
            disabled={picked.length === 0}
            data-testid="compare-selected"
            onClick={() => navigate(href(['compare'], { run: picked.map((r) => `${id}/${r}`) }))}
          >
            Compare selected ({picked.length})
          </button>
        }
      >
        {data.runs.length === 0 ? (
          <p class="muted">
            No runs yet. Record one with <code>specimen run {id}</code>.
          </p>
        ) : (
          <table class="grid" data-testid="runs-table">
            <thead>
              <tr>
                <th />
                <th>Run</th>
                <th>Status</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Commit</th>
                <th>Seed</th>
                <th>Superseded by</th>
                <th>Reproduce</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {[...data.runs].reverse().map((r) => (
                <tr key={r.run_id} class={r.run_id === runId ? 'selected' : ''}>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`select ${r.run_id} for comparison`}
                      checked={picked.includes(r.run_id)}
                      onChange={() => toggle(r.run_id)}
                    />
                  </td>
                  <td>
                    <a class="mono" href={href(['specimen', id, 'run', r.run_id])}>
                      {r.run_id}
                    </a>
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{fmtDate(r.started)}</td>
                  <td>{fmtDuration(r.duration_s)}</td>
                  <td class="mono" title={r.git_commit ?? ''}>
                    {r.git_commit ? r.git_commit.slice(0, 10) : '–'}
                  </td>
                  <td class="mono">{fmtValue(r.seed)}</td>
                  <td title={r.supersede_reason ?? ''}>
                    {r.superseded_by ? (
                      <a class="mono" href={href(['specimen', id, 'run', r.superseded_by])}>
                        {r.superseded_by}
                      </a>
                    ) : (
                      '–'
                    )}
                  </td>
                  <td>
                    {r.reproduce_verdict ? (
                      <span class={`badge verdict-${r.reproduce_verdict}`}>{r.reproduce_verdict}</span>
                    ) : r.reproduces ? (
                      `of ${r.reproduces}`
                    ) : (
                      '–'
                    )}
                  </td>
                  <td>
                    <a href={href(['compare'], { run: `${id}/${r.run_id}` })}>compare</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>

      {runId ? <RunDetail specimenId={id} runId={runId} /> : null}

      <div class="two-col">
        <Card title="Field notes">
          {data.field_notes ? <Markdown text={data.field_notes} /> : <p class="muted">No field_notes.md.</p>}
        </Card>
        <Card title="Manifest">
          <KeyValues value={data.manifest} />
          {data.protocol_file ? (
            <details class="protocol">
              <summary>
                Protocol <span class="mono">{data.protocol_file}</span>
              </summary>
              <pre>{data.protocol}</pre>
            </details>
          ) : null}
        </Card>
      </div>
    </div>
  );
}

function RunDetail({ specimenId, runId }: { specimenId: string; runId: string }) {
  const { data, error } = useData(
    `run:${specimenId}/${runId}`,
    (signal) => getRun(specimenId, runId, signal),
    {
      live: (d) => d.run.status === LIVE,
    },
  );
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
            Run <span class="mono">{runId}</span> <StatusBadge status={run.status} />
            {run.status === LIVE ? (
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
                  xLabel={data.metrics?.has_step ? 'step' : 'row'}
                />
              ))}
            </div>
            <MetricsTable specimenId={specimenId} runId={runId} version={version} />
          </>
        )}
      </Card>
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
                    <a href={href(['tensor', specimenId, runId, t.name])} data-testid="view-tensor">
                      view →
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

function MetricChart(props: {
  specimenId: string;
  runId: string;
  metric: string;
  version: string;
  xLabel: string;
}) {
  const { specimenId, runId, metric, version } = props;
  const [zoom, setZoom] = useState<[number, number] | null>(null);
  const [width, setWidth] = useState(0);
  const key = `${specimenId}/${runId}/${metric}/${version}/${width}/${zoom?.join(':') ?? ''}`;
  const { data, error } = useData(key, (signal) =>
    width === 0
      ? Promise.resolve(undefined)
      : getSeries(
          { runs: [`${specimenId}/${runId}`], metrics: [metric], width, from: zoom?.[0], to: zoom?.[1] },
          signal,
        ),
  );
  const s = data?.series[0];
  // Keep the previous curve on screen while a refresh or a zoom is loading.
  const last = useRef(s);
  if (s) last.current = s;
  const shown = s ?? last.current;
  return (
    <div class="metric-chart">
      <LineChart
        title={metric}
        series={shown ? [{ label: metric, color: colorAt(0), steps: shown.steps, values: shown.values }] : []}
        zoom={zoom}
        onZoom={setZoom}
        onWidth={(w) => setWidth(Math.min(2000, w))}
        xLabel={props.xLabel}
        testId="metric-chart"
      />
      <div class="chart-foot muted small">
        {shown
          ? `${shown.total} points${shown.downsampled ? `, min/max per pixel → ${shown.steps.length}` : ''}`
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

const PAGE = 200;

function MetricsTable({
  specimenId,
  runId,
  version,
}: {
  specimenId: string;
  runId: string;
  version: string;
}) {
  const pages = useRef(new Map<number, MetricsPage>());
  const inflight = useRef(new Set<number>());
  const [, force] = useState(0);
  const [meta, setMeta] = useState<
    { version: string; total: number; columns: MetricsPage['columns'] } | undefined
  >();
  if (meta && meta.version !== version) {
    pages.current.clear();
    inflight.current.clear();
  }
  const fetchPage = useCallback(
    (p: number) => {
      if (pages.current.has(p) || inflight.current.has(p)) return;
      inflight.current.add(p);
      getMetricsPage(specimenId, runId, { offset: p * PAGE, limit: PAGE }).then(
        (page) => {
          inflight.current.delete(p);
          pages.current.set(p, page);
          setMeta({ version, total: page.total, columns: page.columns });
          force((n) => n + 1);
        },
        () => inflight.current.delete(p),
      );
    },
    [specimenId, runId, version],
  );
  const onRange = useCallback(
    (start: number, end: number) => {
      for (let p = Math.floor(start / PAGE); p <= Math.floor((end - 1) / PAGE); p++) fetchPage(p);
    },
    [fetchPage],
  );
  if (!meta || meta.version !== version) {
    fetchPage(0);
    if (!meta) return <Loading what="metrics table" />;
  }
  const columns: Column<unknown[]>[] = meta.columns.map((c, k) => ({
    key: c.name,
    label: c.name,
    width: c.name === 'run_id' ? 170 : 130,
    align: c.numeric || c.name === 'step' ? 'right' : 'left',
    render: (r) => fmtValue(r[k]),
  }));
  return (
    <details class="metrics-table" open={meta.total <= 20}>
      <summary>Table ({meta.total} rows)</summary>
      <VirtualTable
        columns={columns}
        count={meta.total}
        getRow={(i) => pages.current.get(Math.floor(i / PAGE))?.rows[i % PAGE]}
        height="320px"
        onRange={onRange}
        rowHeight={26}
        testId="metrics"
      />
    </details>
  );
}
