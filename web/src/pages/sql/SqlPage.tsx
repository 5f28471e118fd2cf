/**
 * The SQL console: an editor (Ctrl+Enter or ⌘+Enter runs), the result grid, a chart of two chosen result
 * columns, and errors with the position DuckDB pointed at (marked under the line and selected in the
 * editor). Queries run read-only in a locked-down session on the server. The query is kept in the URL.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { isRequestError, type QueryResponse, runQuery } from '../../api/index.js';
import { Card } from '../../components/common.js';
import { LineChart } from '../../components/LineChart.js';
import { type Column, VirtualTable } from '../../components/VirtualTable.js';
import { colorAt, fmtValue } from '../../format.js';
import { href, navigate, type Route } from '../../router.js';
import { ColumnSelect } from './ColumnSelect.js';
import { chartPoints } from './chart-points.js';
import { isNumericType } from './column-types.js';
import { EXAMPLES } from './examples.js';
import { QueryError } from './QueryError.js';

export function SqlPage({ route }: { route: Route }) {
  const initial = route.query.get('q') ?? EXAMPLES[0]![1];
  const [sql, setSql] = useState(initial);
  const [result, setResult] = useState<QueryResponse | undefined>();
  const [error, setError] = useState<Error | undefined>();
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
      const pos = isRequestError(e) ? e.position : undefined;
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

  const chart = useMemo(() => (result ? chartPoints(result, x, y) : undefined), [result, x, y]);

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
        {error ? <QueryError error={error} sql={failedSql} /> : null}
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
                <ColumnSelect label="x" columns={result.columns} value={x} testId="chart-x" onChange={setX} />
                <ColumnSelect
                  label="y"
                  columns={result.columns}
                  value={y}
                  testId="chart-y"
                  onChange={setY}
                  none
                />
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
