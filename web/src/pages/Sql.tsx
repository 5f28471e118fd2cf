/**
 * The SQL console: an editor (Ctrl+Enter or ⌘+Enter runs), the result grid, a chart of two chosen result
 * columns, and errors with the position DuckDB pointed at (marked under the line and selected in the
 * editor). Queries run read-only in a locked-down session on the server. The query is kept in the URL.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { type QueryResponse, RequestError, runQuery } from '../api/index.js';
import { Card } from '../components/common.js';
import { LineChart } from '../components/LineChart.js';
import { type Column, VirtualTable } from '../components/VirtualTable.js';
import { colorAt, fmtValue } from '../format.js';
import { href, navigate, type Route } from '../router.js';

const EXAMPLES: [string, string][] = [
  [
    'Specimens',
    'SELECT specimen_id, domain, method, model, tags, run_count, latest_status\nFROM catalog\nORDER BY created DESC',
  ],
  [
    'Runs',
    'SELECT specimen_id, run_id, status, duration_s, git_commit, config\nFROM runs\nORDER BY started DESC',
  ],
  [
    'Best loss per run',
    "SELECT specimen_id, run_id, min AS best_loss, step_of_min\nFROM metric_summaries\nWHERE metric = 'loss'\nORDER BY best_loss",
  ],
  [
    'Loss across runs',
    "SELECT step, value AS loss, specimen_id || '/' || run_id AS run\nFROM metrics\nWHERE metric = 'loss'\nORDER BY run, step",
  ],
  ['Tensors', "SELECT specimen_id, run_id, name, shape, dtype, bytes\nFROM artifacts\nWHERE kind = 'tensor'"],
];

function isNumericType(t: string): boolean {
  return /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(
    t,
  );
}

export function SqlPage({ route }: { route: Route }) {
  const initial = route.query.get('q') ?? EXAMPLES[0]![1];
  const [sql, setSql] = useState(initial);
  const [result, setResult] = useState<QueryResponse | undefined>();
  const [error, setError] = useState<RequestError | Error | undefined>();
  const [failedSql, setFailedSql] = useState('');
  const [running, setRunning] = useState(false);
  const [x, setX] = useState('');
  const [y, setY] = useState('');
  const editor = useRef<HTMLTextAreaElement>(null);
  const abort = useRef<AbortController | undefined>(undefined);

  const run = async (text = sql) => {
    abort.current?.abort();
    const ac = new AbortController();
    abort.current = ac;
    setRunning(true);
    setError(undefined);
    navigate(href(['sql'], { q: text }), true);
    try {
      const res = await runQuery({ sql: text }, ac.signal);
      if (ac.signal.aborted) return;
      setResult(res);
      const numeric = res.columns.filter((c) => isNumericType(c.type)).map((c) => c.name);
      setX((cur) =>
        res.columns.some((c) => c.name === cur) ? cur : (numeric[0] ?? res.columns[0]?.name ?? ''),
      );
      setY((cur) => (numeric.includes(cur) ? cur : (numeric[1] ?? numeric[0] ?? '')));
    } catch (e) {
      if (ac.signal.aborted) return;
      setResult(undefined);
      setFailedSql(text);
      setError(e as Error);
      const pos = e instanceof RequestError ? e.position : undefined;
      if (pos !== undefined && editor.current) {
        editor.current.focus();
        editor.current.setSelectionRange(pos, Math.min(text.length, pos + 1));
      }
    } finally {
      if (!ac.signal.aborted) setRunning(false);
    }
  };

  // Run the query from the URL once when the page opens with one.
  useEffect(() => {
    if (route.query.get('q')) run(initial);
  }, []);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run((e.currentTarget as HTMLTextAreaElement).value);
    }
  };

  const columns: Column<unknown[]>[] = useMemo(
    () =>
      (result?.columns ?? []).map((c, k) => ({
        key: `${k}`,
        label: c.name,
        title: `${c.name} (${c.type})`,
        width: Math.min(
          360,
          Math.max(90, c.name.length * 9 + 24, c.type.startsWith('VARCHAR') || c.type === 'JSON' ? 200 : 0),
        ),
        align: isNumericType(c.type) ? 'right' : 'left',
        render: (r: unknown[]) => fmtValue(r[k]),
      })),
    [result],
  );

  const chart = useMemo(() => {
    if (!result || !x || !y) return undefined;
    const xi = result.columns.findIndex((c) => c.name === x);
    const yi = result.columns.findIndex((c) => c.name === y);
    if (xi < 0 || yi < 0) return undefined;
    const pts: [number, number | null][] = [];
    for (const r of result.rows) {
      const xv = Number(r[xi]);
      if (!Number.isFinite(xv)) continue;
      const yv = r[yi] === null ? null : Number(r[yi]);
      pts.push([xv, yv !== null && Number.isFinite(yv) ? yv : null]);
    }
    pts.sort((a, b) => a[0] - b[0]);
    // uPlot needs unique x values: keep the last y at each x.
    const steps: number[] = [];
    const values: (number | null)[] = [];
    for (const [a, b] of pts) {
      if (steps.length > 0 && steps[steps.length - 1] === a) values[values.length - 1] = b;
      else {
        steps.push(a);
        values.push(b);
      }
    }
    return { steps, values };
  }, [result, x, y]);

  const errPos = error instanceof RequestError ? error : undefined;
  const caret =
    errPos?.line !== undefined && errPos.column !== undefined
      ? { line: failedSql.split('\n')[errPos.line - 1] ?? '', col: errPos.column }
      : undefined;

  return (
    <div class="page sql-page">
      <h1>SQL</h1>
      <Card
        title="Query"
        actions={
          <>
            <select
              aria-label="example queries"
              value=""
              onChange={(e) => {
                const v = (e.currentTarget as HTMLSelectElement).value;
                if (v) setSql(v);
              }}
            >
              <option value="">Examples…</option>
              {EXAMPLES.map(([label, text]) => (
                <option key={label} value={text}>
                  {label}
                </option>
              ))}
            </select>
            <button
              type="button"
              class="primary"
              onClick={() => run()}
              disabled={running}
              data-testid="sql-run"
            >
              {running ? 'Running…' : 'Run'} <span class="kbd">Ctrl+Enter</span>
            </button>
          </>
        }
      >
        <textarea
          ref={editor}
          class="sql-editor"
          spellcheck={false}
          data-testid="sql-editor"
          value={sql}
          onInput={(e) => setSql((e.currentTarget as HTMLTextAreaElement).value)}
          onKeyDown={onKey}
          rows={Math.min(16, Math.max(5, sql.split('\n').length + 1))}
        />
        <p class="muted small">
          Read-only: tables <code>catalog</code>, <code>runs</code>, <code>artifacts</code>,{' '}
          <code>metric_summaries</code>; views <code>metrics</code> (long format) and{' '}
          <code>exp_&lt;specimen_id&gt;</code>.
        </p>
        {error ? (
          <div class="error-box" data-testid="sql-error">
            <b>{error instanceof RequestError ? error.tag : 'Error'}</b>
            {errPos?.line !== undefined ? ` at line ${errPos.line}, column ${errPos.column}` : ''}
            <pre>{error.message}</pre>
            {caret ? (
              <pre class="caret" data-testid="sql-error-caret">
                {caret.line}
                {'\n'}
                {`${' '.repeat(Math.max(0, caret.col - 1))}^`}
              </pre>
            ) : null}
          </div>
        ) : null}
      </Card>
      {result ? (
        <Card
          title={`Result: ${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ' (truncated)' : ''} in ${Math.round(result.elapsedMs)} ms`}
        >
          <VirtualTable
            columns={columns}
            count={result.rows.length}
            getRow={(i) => result.rows[i]}
            height={`${Math.min(420, 34 + result.rows.length * 28)}px`}
            rowHeight={28}
            testId="result"
            empty="No rows."
          />
          {result.columns.length >= 2 ? (
            <div class="sql-chart">
              <div class="controls">
                <label>
                  x
                  <select
                    value={x}
                    data-testid="chart-x"
                    onChange={(e) => setX((e.currentTarget as HTMLSelectElement).value)}
                  >
                    {result.columns.map((c) => (
                      <option key={c.name} value={c.name}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  y
                  <select
                    value={y}
                    data-testid="chart-y"
                    onChange={(e) => setY((e.currentTarget as HTMLSelectElement).value)}
                  >
                    <option value="">none</option>
                    {result.columns.map((c) => (
                      <option key={c.name} value={c.name}>
                        {c.name}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              {chart && chart.steps.length > 0 ? (
                <LineChart
                  series={[{ label: y, color: colorAt(0), steps: chart.steps, values: chart.values }]}
                  xLabel={x}
                  points={chart.steps.length < 500}
                  testId="sql-chart"
                />
              ) : (
                <p class="muted small">Pick two numeric columns to chart them.</p>
              )}
            </div>
          ) : null}
        </Card>
      ) : null}
    </div>
  );
}
