/**
 * The tensor viewer: a 2-D heatmap of any slice of an N-D tensor. Two dimensions are the image's rows and
 * columns; every other dimension has a slider. Each slice is fetched on its own (the server reads only the
 * chunks it needs); dimensions longer than 1,024 are shown with a stride. Colour scale with legend; hover
 * shows the element's full index and value. 1-D tensors are drawn as a line, 0-D as a value.
 */
import { useMemo, useRef } from 'preact/hooks';
import { getSlice, getTensor, type Slice, type TensorInfo, type TensorRef } from '../api/index.js';
import type { ColormapName } from '../components/colormap.js';
import { Card, ErrorBox, Loading, useData } from '../components/common.js';
import { Heatmap } from '../components/Heatmap.js';
import { LineChart } from '../components/LineChart.js';
import { colorAt, fmtBytes, fmtNumber } from '../format.js';
import { href, navigate, type Route } from '../router.js';

/** Longest axis drawn at full resolution. */
const MAX_AXIS = 1024;
const MAX_LINE = 100_000;

/** Parses a `start:stop` range of an axis of length `n` (the whole axis when absent or malformed). */
function parseRange(text: string | null, n: number): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(text ?? '');
  if (!m) return [0, n];
  const a = Math.min(n - 1, Number(m[1]));
  const b = Math.min(n, Number(m[2]));
  return b > a ? [a, b] : [0, n];
}

/** Selection text of an axis range, with a stride when it is longer than `max`. */
function axisSel(
  n: number,
  max: number,
  range: [number, number] = [0, n],
): { text: string; step: number; start: number } {
  const [a, b] = range;
  const step = b - a <= max ? 1 : Math.ceil((b - a) / max);
  if (a === 0 && b === n && step === 1) return { text: ':', step, start: 0 };
  return { text: step === 1 ? `${a}:${b}` : `${a}:${b}:${step}`, step, start: a };
}

export function TensorPage({ route }: { route: Route }) {
  const [, specimenId = '', runId = '', name = ''] = route.path;
  const q = route.query;
  const tensor: TensorRef = { specimenId, runId, name };
  // The tensor's identity in data keys.
  const base = `${specimenId}/${runId}/${name}`;
  const { data: info, error } = useData(`tensor:${base}`, (signal) => getTensor(tensor, signal));

  const update = (changes: Record<string, string | null>) => {
    const next: Record<string, string> = {};
    for (const [k, v] of q) next[k] = v;
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    navigate(href(['tensor', specimenId, runId, name], next), true);
  };

  const header = (
    <>
      <div class="crumbs">
        <a href={href([])}>Catalog</a> / <a href={href(['specimen', specimenId])}>{specimenId}</a> /{' '}
        <a href={href(['specimen', specimenId, 'run', runId])}>{runId}</a> / <span class="mono">{name}</span>
      </div>
      <h1 class="mono">{name}</h1>
    </>
  );
  if (error)
    return (
      <div class="page">
        {header}
        <ErrorBox error={error} />
      </div>
    );
  if (!info)
    return (
      <div class="page">
        {header}
        <Loading what="tensor" />
      </div>
    );

  const nd = info.shape.length;
  const rowDim = clampDim(Number(q.get('r') ?? nd - 2), nd);
  let colDim = clampDim(Number(q.get('c') ?? nd - 1), nd);
  if (colDim === rowDim) colDim = rowDim === nd - 1 ? nd - 2 : nd - 1;
  const at = info.shape.map((n, d) =>
    Math.min(n - 1, Math.max(0, Number((q.get('at') ?? '').split(',')[d] ?? 0) || 0)),
  );
  const cmap = (q.get('cmap') ?? 'viridis') as ColormapName;
  const symmetric = q.get('sym') === '1';
  const rowRange = parseRange(q.get('rr'), info.shape[rowDim] ?? 1);
  const colRange = parseRange(q.get('cr'), info.shape[colDim] ?? 1);
  const rangeInput = (key: 'rr' | 'cr', range: [number, number], n: number, label: string) => (
    <label>
      {label}
      <input
        type="number"
        min="0"
        max={String(n - 1)}
        value={String(range[0])}
        data-testid={`${key}-start`}
        onChange={(e) =>
          update({ [key]: `${Number((e.currentTarget as HTMLInputElement).value) || 0}:${range[1]}` })
        }
      />
      to
      <input
        type="number"
        min="1"
        max={String(n)}
        value={String(range[1])}
        data-testid={`${key}-stop`}
        onChange={(e) =>
          update({ [key]: `${range[0]}:${Number((e.currentTarget as HTMLInputElement).value) || n}` })
        }
      />
      {range[0] !== 0 || range[1] !== n ? (
        <button type="button" class="link" onClick={() => update({ [key]: null })}>
          all
        </button>
      ) : null}
    </label>
  );
  const setAt = (d: number, v: number) => {
    const next = [...at];
    next[d] = v;
    update({ at: next.join(',') });
  };

  return (
    <div class="page tensor-page">
      {header}
      <div class="facts">
        <span>
          <b>shape</b> <span class="mono">({info.shape.join(', ')})</span>
        </span>
        <span>
          <b>dtype</b> {info.dtype}
        </span>
        <span>
          <b>chunks</b> <span class="mono">({info.chunks.join(', ')})</span>
        </span>
        <span>
          <b>zarr</b> v{info.zarr_format}
        </span>
        <span>
          <b>size</b> {fmtBytes(info.bytes)}
        </span>
      </div>
      {nd >= 2 ? (
        <Card title="Slice">
          <div class="controls">
            <label>
              rows
              <select
                value={String(rowDim)}
                data-testid="row-dim"
                onChange={(e) => update({ r: (e.currentTarget as HTMLSelectElement).value })}
              >
                {info.shape.map((n, d) => (
                  <option key={d} value={String(d)}>
                    dim {d} ({n})
                  </option>
                ))}
              </select>
            </label>
            <label>
              columns
              <select
                value={String(colDim)}
                data-testid="col-dim"
                onChange={(e) => update({ c: (e.currentTarget as HTMLSelectElement).value })}
              >
                {info.shape.map((n, d) =>
                  d === rowDim ? null : (
                    <option key={d} value={String(d)}>
                      dim {d} ({n})
                    </option>
                  ),
                )}
              </select>
            </label>
            <label>
              colours
              <select
                value={cmap}
                data-testid="colormap"
                onChange={(e) => update({ cmap: (e.currentTarget as HTMLSelectElement).value })}
              >
                <option value="viridis">viridis</option>
                <option value="magma">magma</option>
                <option value="rdbu">blue–white–red</option>
                <option value="gray">grey</option>
              </select>
            </label>
            <label>
              <input
                type="checkbox"
                checked={symmetric}
                onChange={(e) => update({ sym: (e.currentTarget as HTMLInputElement).checked ? '1' : null })}
              />
              symmetric around 0
            </label>
          </div>
          <div class="controls">
            {rangeInput('rr', rowRange, info.shape[rowDim]!, 'rows')}
            {rangeInput('cr', colRange, info.shape[colDim]!, 'columns')}
          </div>
          {info.shape.map((n, d) =>
            d === rowDim || d === colDim ? null : (
              <div class="slider" key={d}>
                <span class="mono">dim {d}</span>
                <input
                  type="range"
                  min="0"
                  max={String(n - 1)}
                  value={String(at[d])}
                  data-testid={`slider-${d}`}
                  onInput={(e) => setAt(d, Number((e.currentTarget as HTMLInputElement).value))}
                />
                <input
                  type="number"
                  min="0"
                  max={String(n - 1)}
                  value={String(at[d])}
                  onChange={(e) => setAt(d, Number((e.currentTarget as HTMLInputElement).value))}
                />
                <span class="muted small">of {n}</span>
              </div>
            ),
          )}
          <SliceView
            tensor={tensor}
            base={base}
            info={info}
            rowDim={rowDim}
            colDim={colDim}
            at={at}
            rowRange={rowRange}
            colRange={colRange}
            cmap={cmap}
            symmetric={symmetric}
          />
        </Card>
      ) : nd === 1 ? (
        <Card title="Values">
          <VectorView tensor={tensor} base={base} n={info.shape[0]!} />
        </Card>
      ) : (
        <Card title="Value">
          <ScalarView tensor={tensor} base={base} />
        </Card>
      )}
    </div>
  );
}

function clampDim(d: number, nd: number): number {
  return Number.isInteger(d) && d >= 0 && d < nd ? d : Math.max(0, nd - 1);
}

function SliceView(props: {
  tensor: TensorRef;
  base: string;
  info: TensorInfo;
  rowDim: number;
  colDim: number;
  at: number[];
  rowRange: [number, number];
  colRange: [number, number];
  cmap: ColormapName;
  symmetric: boolean;
}) {
  const { tensor, base, info, rowDim, colDim, at, cmap, symmetric } = props;
  const r = axisSel(info.shape[rowDim]!, MAX_AXIS, props.rowRange);
  const c = axisSel(info.shape[colDim]!, MAX_AXIS, props.colRange);
  const sel = info.shape
    .map((_, d) => (d === rowDim ? r.text : d === colDim ? c.text : String(at[d])))
    .join(',');
  const {
    data: fresh,
    error,
    loading,
  } = useData(`slice:${base}:${sel}`, (signal) => getSlice(tensor, sel, signal));
  // The previous slice stays on screen while the next one loads (no flash, no new canvas).
  const last = useRef<{ sel: string; data: Slice } | undefined>(undefined);
  if (fresh) last.current = { sel, data: fresh };
  const data = fresh ?? last.current?.data;
  const shownSel = fresh ? sel : (last.current?.sel ?? sel);
  const view = useMemo(() => {
    if (!data) return undefined;
    const [a = 1, b = 1] = data.shape;
    if (rowDim < colDim) return { values: data.data, rows: a, cols: b };
    // The slice comes in dimension order: transpose so the chosen row dimension runs down.
    const out = new Float64Array(a * b);
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) out[j * a + i] = data.data[i * b + j]!;
    return { values: out, rows: b, cols: a };
  }, [data, rowDim, colDim]);
  if (error) return <ErrorBox error={error} />;
  if (!data || !view) return <Loading what="slice" />;
  let lo = Number.isFinite(data.min) ? data.min : 0;
  let hi = Number.isFinite(data.max) ? data.max : 1;
  if (symmetric) {
    const m = Math.max(Math.abs(lo), Math.abs(hi));
    lo = -m;
    hi = m;
  }
  const describe = (i: number, j: number) =>
    `[${info.shape.map((_, d) => (d === rowDim ? r.start + i * r.step : d === colDim ? c.start + j * c.step : at[d])).join(', ')}]`;
  return (
    <div>
      <div class={`muted small ${loading ? 'stale' : ''}`}>
        slice <span class="mono">[{shownSel}]</span> · {view.rows} × {view.cols}
        {r.step > 1 || c.step > 1
          ? ` (every ${r.step > 1 ? `${r.step}th row` : ''}${r.step > 1 && c.step > 1 ? ', ' : ''}${c.step > 1 ? `${c.step}th column` : ''})`
          : ''}{' '}
        · min {fmtNumber(data.min)} · max {fmtNumber(data.max)}
      </div>
      <Heatmap
        data={view.values}
        rows={view.rows}
        cols={view.cols}
        min={lo}
        max={hi}
        colormap={cmap}
        describe={describe}
        drawKey={shownSel}
        testId="heatmap"
      />
    </div>
  );
}

function VectorView({ tensor, base, n }: { tensor: TensorRef; base: string; n: number }) {
  const s = axisSel(n, MAX_LINE);
  const { data, error } = useData(`vec:${base}:${s.text}`, (signal) => getSlice(tensor, s.text, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  const steps = Array.from({ length: data.data.length }, (_, i) => i * s.step);
  const values = Array.from(data.data, (v) => (Number.isFinite(v) ? v : null));
  return (
    <LineChart
      series={[{ label: 'value', color: colorAt(0), steps, values }]}
      xLabel="index"
      testId="vector-chart"
    />
  );
}

function ScalarView({ tensor, base }: { tensor: TensorRef; base: string }) {
  const { data, error } = useData(`scalar:${base}`, (signal) => getSlice(tensor, '', signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading />;
  return <div class="scalar mono">{fmtNumber(data.data[0])}</div>;
}
