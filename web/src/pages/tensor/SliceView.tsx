/**
 * The heatmap of one 2-D slice: the selection built from the chosen dimensions, indices and ranges (long
 * axes strided), transposed when the row dimension comes after the column one, coloured over the slice's
 * finite range (or symmetric around 0: when asked, and always for the diverging map on values that cross 0).
 */
import { useMemo } from 'preact/hooks';
import { getSlice, type TensorInfo, type TensorRef } from '../../api/index.js';
import { type ColormapName, colourScale } from '../../components/colormap.js';
import { ErrorBox, Loading } from '../../components/common.js';
import { Heatmap } from '../../components/Heatmap.js';
import { fmtNumber } from '../../format.js';
import { useData, useLastValue } from '../../hooks.js';
import { axisSel, MAX_AXIS, tensorKey } from './view.js';

export function SliceView(props: {
  tensor: TensorRef;
  info: TensorInfo;
  rowDim: number;
  colDim: number;
  at: number[];
  rowRange: [number, number];
  colRange: [number, number];
  cmap: ColormapName;
  symmetric: boolean;
}) {
  const { tensor, info, rowDim, colDim, at, cmap, symmetric } = props;
  const r = axisSel(info.shape[rowDim]!, MAX_AXIS, props.rowRange);
  const c = axisSel(info.shape[colDim]!, MAX_AXIS, props.colRange);
  const sel = info.shape
    .map((_, d) => (d === rowDim ? r.text : d === colDim ? c.text : String(at[d])))
    .join(',');
  const {
    data: fresh,
    error,
    loading,
  } = useData(`slice:${tensorKey(tensor)}:${sel}`, (signal) => getSlice(tensor, sel, signal));
  // The previous slice stays on screen while the next one loads (no flash, no new canvas).
  const last = useLastValue(fresh ? { sel, data: fresh } : undefined);
  const data = last?.data;
  const shownSel = last?.sel ?? sel;
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
  const [lo, hi] = colourScale(
    Number.isFinite(data.min) ? data.min : 0,
    Number.isFinite(data.max) ? data.max : 1,
    cmap,
    symmetric,
  );
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
