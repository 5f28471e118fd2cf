/**
 * Small multiples: every index of one dimension of a tensor as a small heatmap of the (rows, columns)
 * slice there (e.g. all neurons of `(neuron, a, b)` activations), on one shared colour scale. The slices are
 * fetched in blocks of whole chunks along that dimension (one request per block, not per slice) and drawn
 * each into its own canvas at native resolution, scaled by CSS, so hundreds of them draw and scroll fast.
 * The grid can be sorted by a per-slice statistic; hovering a cell shows the series' step, the slice's index
 * and the element under the pointer; a click opens that slice large.
 *
 * @example
 * <SmallMultiples tensor={ref} info={info} gridDim={1} rowDim={2} colDim={3} at={[4, 0, 0, 0]} cmap="viridis"
 *   onOpen={(i) => setAt(1, i)} />
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getSlice, type TensorInfo, type TensorRef } from '../../api/index.js';
import { type ColormapName, lut } from '../../components/colormap.js';
import { ErrorBox } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { SLICE_STATS, type SliceStat, sliceStat } from './stats.js';

/** Elements per request: well under the slice route's limit of 4,194,304. */
const BLOCK_ELEMENTS = 1 << 21;

/** The element under the pointer: slice index, row and column in it, and its value. */
interface Hover {
  index: number;
  row: number;
  col: number;
  value: number;
}

interface Slices {
  /** One row-major rows × cols slice per index of the grid dimension. */
  data: Float32Array[];
  rows: number;
  cols: number;
  min: number;
  max: number;
}

/** The `sel` of indices [from, to) of `gridDim`, whole `rowDim`/`colDim`, the others at `at`. */
function blockSel(
  nd: number,
  gridDim: number,
  rowDim: number,
  colDim: number,
  at: readonly number[],
  from: number,
  to: number,
): string {
  return Array.from({ length: nd }, (_, d) =>
    d === gridDim ? `${from}:${to}` : d === rowDim || d === colDim ? ':' : String(at[d] ?? 0),
  ).join(',');
}

export function SmallMultiples(props: {
  tensor: TensorRef;
  info: TensorInfo;
  gridDim: number;
  rowDim: number;
  colDim: number;
  at: readonly number[];
  cmap: ColormapName;
  onOpen: (index: number) => void;
}) {
  const { tensor, info, gridDim, rowDim, colDim, at, cmap } = props;
  const [slices, setSlices] = useState<Slices | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [stat, setStat] = useState<SliceStat>('index');
  const [hover, setHover] = useState<Hover | null>(null);
  // A tensor series' step, unless the grid runs along the step axis itself (then each cell has its own).
  const stepOf = (index: number): number | undefined =>
    info.steps ? info.steps[gridDim === 0 ? index : (at[0] ?? 0)] : undefined;
  const n = info.shape[gridDim]!;
  const rows = info.shape[rowDim]!;
  const cols = info.shape[colDim]!;
  const atKey = at.map((v, d) => (d === gridDim || d === rowDim || d === colDim ? '' : v)).join(',');

  useEffect(() => {
    const ctl = new AbortController();
    setSlices(null);
    setError(null);
    (async () => {
      // Blocks are whole chunks along the grid dimension, so no chunk is read twice.
      const chunk = info.chunks[gridDim] ?? 1;
      const per = Math.max(chunk, Math.floor(BLOCK_ELEMENTS / (rows * cols) / chunk) * chunk);
      const data: Float32Array[] = [];
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      const blocks: Promise<void>[] = [];
      for (let from = 0; from < n; from += per) {
        const to = Math.min(n, from + per);
        const sel = blockSel(info.shape.length, gridDim, rowDim, colDim, at, from, to);
        blocks.push(
          getSlice(tensor, sel, ctl.signal).then((s) => {
            // The slice keeps the selected dimensions in tensor order: find where each of ours went.
            const kept = [gridDim, rowDim, colDim].sort((a, b) => a - b);
            const stride = [1, 1, 1];
            for (let k = 1; k >= 0; k--) stride[k] = stride[k + 1]! * s.shape[k + 1]!;
            const sg = stride[kept.indexOf(gridDim)]!;
            const sr = stride[kept.indexOf(rowDim)]!;
            const sc = stride[kept.indexOf(colDim)]!;
            const inOrder = sg === rows * cols && sr === cols && sc === 1;
            for (let g = 0; g < to - from; g++) {
              // Already (grid, rows, cols): views into the response, no copy.
              if (inOrder && s.data instanceof Float32Array) {
                data[from + g] = s.data.subarray(g * sg, (g + 1) * sg);
                continue;
              }
              const out = new Float32Array(rows * cols);
              for (let r = 0; r < rows; r++)
                for (let c = 0; c < cols; c++) out[r * cols + c] = s.data[g * sg + r * sr + c * sc]!;
              data[from + g] = out;
            }
            if (s.min < min) min = s.min;
            if (s.max > max) max = s.max;
          }),
        );
      }
      await Promise.all(blocks);
      if (!ctl.signal.aborted) setSlices({ data, rows, cols, min, max });
    })().catch((err: unknown) => {
      if (!ctl.signal.aborted) setError(err);
    });
    return () => ctl.abort();
  }, [tensor.specimenId, tensor.runId, tensor.name, gridDim, rowDim, colDim, atKey]);

  const order = useMemo(() => {
    const idx = Array.from({ length: slices?.data.length ?? 0 }, (_, i) => i);
    if (!slices || stat === 'index') return idx;
    const values = slices.data.map((d) => sliceStat(d, slices.rows, slices.cols, stat));
    return idx.sort((a, b) => values[b]! - values[a]!);
  }, [slices, stat]);

  return (
    <div class="small-multiples" data-testid="small-multiples">
      <div class="controls">
        <label>
          sort by
          <select
            value={stat}
            data-testid="sm-sort"
            onChange={(e) => setStat((e.currentTarget as HTMLSelectElement).value as SliceStat)}
          >
            {SLICE_STATS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        <span class="muted small">
          {n} slices of {rows} × {cols} along dim {gridDim} · click one to open it
        </span>
        <span class="mono small" data-testid="sm-hover">
          {hover
            ? `${stepOf(hover.index) !== undefined ? `step ${stepOf(hover.index)} · ` : ''}index ${hover.index} · [${hover.row}, ${hover.col}] = ${fmtNumber(hover.value)}`
            : ''}
        </span>
      </div>
      <ErrorBox error={error} />
      {slices ? (
        <div class="sm-grid" data-testid="sm-grid" data-order={order.join(',')}>
          {order.map((i) => (
            <SmallHeatmap
              key={i}
              index={i}
              step={stepOf(i)}
              slices={slices}
              cmap={cmap}
              onOpen={props.onOpen}
              onHover={setHover}
            />
          ))}
        </div>
      ) : error ? null : (
        <p class="muted">Loading {n} slices…</p>
      )}
    </div>
  );
}

function SmallHeatmap(props: {
  index: number;
  step: number | undefined;
  slices: Slices;
  cmap: ColormapName;
  onOpen: (i: number) => void;
  onHover: (h: Hover | null) => void;
}) {
  const { index, slices, cmap } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const { rows, cols, min, max } = slices;
    el.width = cols;
    el.height = rows;
    const ctx = el.getContext('2d')!;
    const img = ctx.createImageData(cols, rows);
    const table = lut(cmap);
    const scale = max > min ? 255 / (max - min) : 0;
    const d = slices.data[index]!;
    for (let p = 0; p < rows * cols; p++) {
      const v = d[p]!;
      const o = p * 4;
      if (!Number.isFinite(v)) {
        img.data[o + 3] = 0;
        continue;
      }
      const k = Math.max(0, Math.min(255, Math.round((v - min) * scale))) * 3;
      img.data[o] = table[k]!;
      img.data[o + 1] = table[k + 1]!;
      img.data[o + 2] = table[k + 2]!;
      img.data[o + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [slices, index, cmap]);
  return (
    <button
      type="button"
      class="sm-cell"
      title={`${props.step !== undefined ? `step ${props.step} · ` : ''}index ${index}`}
      data-index={index}
      onClick={() => props.onOpen(index)}
      onMouseLeave={() => props.onHover(null)}
    >
      <canvas
        ref={canvas}
        onMouseMove={(e) => {
          // The canvas holds the slice at native size, scaled by CSS: map the pointer back to an element.
          const box = e.currentTarget.getBoundingClientRect();
          const { rows, cols } = slices;
          const col = Math.min(
            cols - 1,
            Math.max(0, Math.floor(((e.clientX - box.left) / box.width) * cols)),
          );
          const row = Math.min(
            rows - 1,
            Math.max(0, Math.floor(((e.clientY - box.top) / box.height) * rows)),
          );
          props.onHover({ index, row, col, value: slices.data[index]![row * cols + col]! });
        }}
      />
      <span class="sm-label mono">{index}</span>
    </button>
  );
}
