/**
 * A specimen: the lab notebook (status, hypothesis, expected results, conclusion, tags — editable), runs
 * (pick some to compare), one run in detail (the latest unless the URL names one), field notes (Markdown,
 * sanitized, editable), manifest and protocol. Refreshes every 2 s while a run is in progress.
 */
import { useEffect, useState } from 'preact/hooks';
import { getSpecimen, isRunning, listPending } from '../../api/index.js';
import { Card, ErrorBox, KeyValues, Loading, StatusBadge, Tag } from '../../components/common.js';
import { fmtDate, fmtDuration, fmtValue } from '../../format.js';
import { useData } from '../../hooks.js';
import { href, navigate, type Route } from '../../router.js';
import { FieldNotes, LabNotebook } from './Notebook.js';
import { PendingDetail } from './PendingDetail.js';
import { RunDetail } from './RunDetail.js';

export function SpecimenPage({ route }: { route: Route }) {
  const id = route.path[1] ?? '';
  const runParam = route.path[2] === 'run' ? route.path[3] : undefined;
  const stageParam = route.path[2] === 'pending' ? route.path[3] : undefined;
  const { data, error, reload } = useData(`specimen:${id}`, (signal) => getSpecimen(id, signal), {
    live: (d) => d.runs.some(isRunning),
  });
  // Runs staged in pending/ (not sealed yet): followed every 2 s while there are any, and the specimen
  // with them, so an adopted run moves into the runs table.
  const pending = useData(`pending:${id}`, (signal) => listPending(id, signal), {
    live: (d) => d.runs.length > 0,
  });
  const pendingRuns = pending.data?.runs ?? [];
  const pendingCount = pendingRuns.length;
  useEffect(() => {
    if (pending.data) reload();
  }, [pendingCount]);
  const [picked, setPicked] = useState<string[]>([]);
  const shownRun = runParam ?? data?.runs.at(-1)?.run_id;
  const runName = data?.runs.find((r) => r.run_id === shownRun)?.name ?? null;
  // The tab says which run is open, by its name when it has one.
  useEffect(() => {
    const prev = document.title;
    document.title = runParam ? `${runName ?? runParam} · ${id} — Specimen Vault` : `${id} — Specimen Vault`;
    return () => {
      document.title = prev;
    };
  }, [id, runParam, runName]);

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
  const openStage = stageParam ? pendingRuns.find((p) => p.stage === stageParam) : undefined;
  const runId = stageParam ? undefined : (runParam ?? data.runs.at(-1)?.run_id);
  const toggle = (r: string) => setPicked((p) => (p.includes(r) ? p.filter((x) => x !== r) : [...p, r]));

  return (
    <div class="page specimen-page">
      <div class="crumbs" data-testid="crumbs">
        <a href={href([])}>Catalog</a> /{' '}
        {runParam ? (
          <>
            <a class="mono" href={href(['specimen', id])}>
              {id}
            </a>{' '}
            /{' '}
            {runName ? (
              <span data-testid="crumb-run">
                {runName} <span class="mono muted">{runParam}</span>
              </span>
            ) : (
              <span class="mono" data-testid="crumb-run">
                {runParam}
              </span>
            )}
          </>
        ) : (
          <span class="mono">{id}</span>
        )}
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
          <b>status</b> <StatusBadge status={data.status} />
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

      <LabNotebook data={data} onSaved={reload} />

      <Card
        title={`Runs (${data.runs.length}${pendingRuns.length > 0 ? ` + ${pendingRuns.length} pending` : ''})`}
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
        {data.runs.length === 0 && pendingRuns.length === 0 ? (
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
              {[...pendingRuns].reverse().map((p) => (
                <tr key={p.stage} class={p.stage === stageParam ? 'selected' : ''} data-testid="pending-row">
                  <td />
                  <td>
                    <a href={href(['specimen', id, 'pending', p.stage])}>{p.name ?? p.stage}</a>{' '}
                    {p.name ? <span class="muted small mono">{p.stage}</span> : null}
                  </td>
                  <td>
                    <span class="badge status-pending">pending — not sealed yet</span>
                  </td>
                  <td>{fmtDate(p.started)}</td>
                  <td colSpan={6} class="muted small">
                    {p.state} · {p.metrics ? `${p.metrics.rows} rows` : 'no rows yet'} · {p.host ?? '?'} pid{' '}
                    {p.pid ?? '?'}
                  </td>
                </tr>
              ))}
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
                  <td title={r.notes ?? undefined}>
                    {r.name ? (
                      <>
                        <a href={href(['specimen', id, 'run', r.run_id])} data-testid="run-name">
                          {r.name}
                        </a>{' '}
                        <span class="muted small mono">{r.run_id}</span>
                      </>
                    ) : (
                      <a class="mono" href={href(['specimen', id, 'run', r.run_id])}>
                        {r.run_id}
                      </a>
                    )}
                    {r.tags.map((t) => (
                      <span key={t} class="tag">
                        {t}
                      </span>
                    ))}
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
      {openStage ? <PendingDetail specimenId={id} run={openStage} /> : null}
      {stageParam && !openStage && pending.data ? (
        <Card title="Pending run">
          <p class="muted" data-testid="pending-gone">
            <span class="mono">{stageParam}</span> is no longer pending: it has been sealed (see the runs
            above) or removed.
          </p>
        </Card>
      ) : null}

      <div class="two-col">
        <FieldNotes data={data} onSaved={reload} />
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
