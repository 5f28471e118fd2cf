/**
 * Small multiples: every index of one dimension of a tensor as a small heatmap of the (rows, columns)
 * slice there (e.g. all neurons of `(neuron, a, b)` activations), on one shared colour scale. The slices are
 * fetched in blocks of whole chunks along that dimension (one request per block, not per slice) and drawn
 * at native resolution into one canvas under the grid of cells (an atlas: one image and one putImageData
 * for all of them, since a canvas and 2-D context per cell cost more than drawing), scaled by CSS, so
 * hundreds of them draw and scroll fast.
 * The grid can be sorted by a per-slice statistic; hovering a cell shows the series' step, the slice's index
 * and the element under the pointer; a click opens that slice large.
 *
 * @example
 * <SmallMultiples tensor={ref} info={info} gridDim={1} rowDim={2} colDim={3} at={[4, 0, 0, 0]} cmap="viridis"
 *   onOpen={(i) => setAt(1, i)} />
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { getSlice, type TensorInfo, type TensorRef } from '../../api/index.js';
import { type ColormapName, lut } from '../../components/colormap.js';
import { ErrorBox } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { SLICE_STATS, type SliceStat, sliceStat } from './stats.js';

/** Elements per request: the slice route's limit of 4,194,304 (fewer, larger reads use its codec workers best). */
const BLOCK_ELEMENTS = 1 << 22;
/** A cell's size and the gap between cells, in CSS pixels (styles.css `.sm-grid`); cells have a 1 px border. */
const CELL = 72;
const GAP = 4;
const BORDER = 1;

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
        <Atlas slices={slices} order={order} cmap={cmap}>
          {order.map((i) => (
            <SmallCell
              key={i}
              index={i}
              step={stepOf(i)}
              slices={slices}
              onOpen={props.onOpen}
              onHover={setHover}
            />
          ))}
        </Atlas>
      ) : error ? null : (
        <p class="muted">Loading {n} slices…</p>
      )}
    </div>
  );
}

/**
 * The grid: cells (buttons) laid out by CSS in fixed-size columns, over one canvas holding every slice at
 * its cell's place. The canvas is redrawn when the order, the colour map or the number of columns changes.
 */
function Atlas(props: { slices: Slices; order: number[]; cmap: ColormapName; children: ComponentChildren }) {
  const { slices, order, cmap } = props;
  const grid = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = grid.current;
    if (!el) return;
    setWidth(el.clientWidth);
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const perRow = Math.max(1, Math.floor((width + GAP) / (CELL + GAP)));
  const lines = Math.ceil(order.length / perRow);
  const cssW = perRow * (CELL + GAP) - GAP;
  const cssH = lines * (CELL + GAP) - GAP;
  useLayoutEffect(() => {
    const el = canvas.current;
    const g = grid.current;
    if (!el || !g || width === 0) return;
    const { rows, cols, min, max } = slices;
    // Atlas pixels per CSS pixel: a slice's longer side spans a cell's inside at native resolution.
    const k = Math.max(rows, cols) / (CELL - 2 * BORDER);
    const w = Math.ceil(cssW * k);
    const h = Math.ceil(cssH * k);
    el.width = w;
    el.height = h;
    const ctx = el.getContext('2d')!;
    const img = ctx.createImageData(w, h);
    // One 32-bit write per pixel from a table of the 256 colours as RGBA words (in the platform's byte
    // order, which is ImageData's memory order read as words).
    const words = new Uint32Array(img.data.buffer);
    const table = lut(cmap);
    const rgba = new Uint32Array(256);
    const bytes = new Uint8Array(rgba.buffer);
    for (let t = 0; t < 256; t++) {
      bytes[t * 4] = table[t * 3]!;
      bytes[t * 4 + 1] = table[t * 3 + 1]!;
      bytes[t * 4 + 2] = table[t * 3 + 2]!;
      bytes[t * 4 + 3] = 255;
    }
    const scale = max > min ? 255 / (max - min) : 0;
    order.forEach((index, j) => {
      const ox = Math.round(((j % perRow) * (CELL + GAP) + BORDER) * k);
      const oy = Math.round((Math.floor(j / perRow) * (CELL + GAP) + BORDER) * k);
      const d = slices.data[index]!;
      const cw = Math.min(cols, w - ox);
      for (let r = 0; r < rows && oy + r < h; r++) {
        const o = (oy + r) * w + ox;
        const src = r * cols;
        for (let c = 0; c < cw; c++) {
          const v = d[src + c]!;
          // NaN and ±∞ stay transparent; the rest round into the table (clamped at both ends).
          if (v - v !== 0) continue;
          const t = ((v - min) * scale + 0.5) | 0;
          words[o + c] = rgba[Math.max(0, Math.min(255, t))]!;
        }
      }
    });
    ctx.putImageData(img, 0, 0);
    g.dataset.drawn = String(order.length);
  }, [slices, order, cmap, perRow, width]);
  return (
    <div class="sm-grid" ref={grid} data-testid="sm-grid" data-order={order.join(',')} data-per-row={perRow}>
      <canvas
        ref={canvas}
        class="sm-atlas"
        data-testid="sm-atlas"
        style={{ width: `${cssW}px`, height: `${cssH}px` }}
      />
      {props.children}
    </div>
  );
}

/** One cell over the atlas: its label, a click that opens it, and the element under the pointer. */
function SmallCell(props: {
  index: number;
  step: number | undefined;
  slices: Slices;
  onOpen: (i: number) => void;
  onHover: (h: Hover | null) => void;
}) {
  const { index, slices } = props;
  return (
    <button
      type="button"
      class="sm-cell"
      title={`${props.step !== undefined ? `step ${props.step} · ` : ''}index ${index}`}
      data-index={index}
      onClick={() => props.onOpen(index)}
      onMouseLeave={() => props.onHover(null)}
      onMouseMove={(e) => {
        // The slice fills the cell's inside along its longer side, from the top left.
        const box = e.currentTarget.getBoundingClientRect();
        const { rows, cols } = slices;
        const unit = (box.width - 2 * BORDER) / Math.max(rows, cols);
        const col = Math.floor((e.clientX - box.left - BORDER) / unit);
        const row = Math.floor((e.clientY - box.top - BORDER) / unit);
        if (row < 0 || col < 0 || row >= rows || col >= cols) return props.onHover(null);
        props.onHover({ index, row, col, value: slices.data[index]![row * cols + col]! });
      }}
    >
      <span class="sm-label mono">{index}</span>
    </button>
  );
}
