/**
 * Small multiples: every index of one dimension of a tensor as a small heatmap of the (rows, columns)
 * slice there (e.g. all neurons of `(neuron, a, b)` activations), on one shared colour scale (centred on 0,
 * blue–white–red by default, when the values cross 0). The slices
 * come from the multiples route as colour codes, mean-pooled by the server to the cell's device pixels when
 * the slice is larger (plus each slice's range), and are drawn into one canvas at the display's
 * resolution: what is left of the scaling (a slice smaller than its cell, or pooled for the next size up)
 * is nearest neighbour as it goes
 * through a shared colour table, into an ImageData put at the cell's place. No element per
 * cell: the grid answers the pointer from its coordinates, so thousands of cells cost one canvas.
 * The grid can be sorted by a per-slice statistic (computed by the server over every slice); hovering a
 * cell shows the series' step, the slice's index and the element under the pointer; a click opens that
 * slice large.
 *
 * @example
 * <SmallMultiples tensor={ref} info={info} gridDim={1} rowDim={2} colDim={3} at={[4, 0, 0, 0]} cmap={null}
 *   onOpen={(i) => setAt(1, i)} />
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { poolSide } from '../../../../src/analysis/slice-pool.js';
import { SLICE_STATS, type SliceStat } from '../../../../src/analysis/slice-stats.js';
import {
  type GridSpec,
  getMultiplesStats,
  getSlice,
  type Slice,
  type TensorInfo,
  type TensorRef,
} from '../../api/index.js';
import { type ColormapName, codeColours, colourScale, defaultColormap } from '../../components/colormap.js';
import { ErrorBox } from '../../components/common.js';
import { fmtNumber } from '../../format.js';
import { SliceBlocks } from './blocks.js';

/** Cell sizes the control offers, and the size the default layout aims at (CSS pixels). */
export const MIN_CELL = 32;
export const MAX_CELL = 256;
export const AIM_CELL = 72;
/** The gap between cells, in CSS pixels; cells have a 1 px border. */
const GAP = 4;
const BORDER = 1;

/**
 * The side (device pixels) slices are asked at for cells of `cell` CSS pixels: the cell's inside, rounded
 * up to a pooling step (the server sends slices longer than that mean-pooled to it).
 */
export function cellSide(cell: number): number {
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  return poolSide(Math.round((Math.min(MAX_CELL, Math.max(MIN_CELL, cell)) - 2 * BORDER) * dpr));
}

/**
 * Where cells go in a grid `width` px wide: `cell` px each when given (as many per row as fit), else the
 * default, cells near AIM_CELL sized so that whole rows fill the width exactly.
 */
export function gridLayout(width: number, cell: number | null): Layout {
  if (cell !== null) {
    const c = Math.min(MAX_CELL, Math.max(MIN_CELL, Math.round(cell)));
    return { perRow: Math.max(1, Math.floor((width + GAP) / (c + GAP))), cell: c, pitch: c + GAP };
  }
  const perRow = Math.max(1, Math.floor((width + GAP) / (AIM_CELL + GAP)));
  const c = Math.min(MAX_CELL, Math.max(MIN_CELL, Math.floor((width + GAP) / perRow) - GAP));
  return { perRow, cell: c, pitch: c + GAP };
}

/** How the grid is ordered: by a statistic of each slice, largest first unless `descending` is false. */
export interface GridSort {
  stat: SliceStat;
  descending: boolean;
}

/**
 * The grid's sort from the URL: `sort` names a statistic (anything else: index order), `-` before it
 * means smallest first (`sort=-variance`).
 */
export function parseGridSort(text: string | null): GridSort {
  const descending = !text?.startsWith('-');
  const id = descending ? text : text!.slice(1);
  const known = SLICE_STATS.find((s) => s.id === id);
  return { stat: known ? known.id : 'index', descending };
}

/** The `sort` URL value of a grid sort (null for index order, the default). */
export function gridSortParam(sort: GridSort): string | null {
  if (sort.stat === 'index') return null;
  return sort.descending ? sort.stat : `-${sort.stat}`;
}

/**
 * Slice indices ordered by `values` (largest first when `descending`), slices without a finite statistic
 * last in either direction, ties in index order.
 */
export function sortedOrder(values: readonly (number | null)[], descending: boolean): number[] {
  const sign = descending ? -1 : 1;
  return Array.from(values, (_, i) => i).sort((a, b) => {
    const va = values[a] ?? null;
    const vb = values[b] ?? null;
    if (va === null || vb === null) return va === vb ? a - b : va === null ? 1 : -1;
    return sign * (va - vb) || a - b;
  });
}

/** The element under the pointer: slice index, row and column in it. */
interface Hover {
  index: number;
  row: number;
  col: number;
  /** The cell's place in the grid (CSS pixels), for the hover box. */
  x: number;
  y: number;
}

/** Where cells go: `perRow` cells of `cell` px, `pitch` px apart. */
interface Layout {
  perRow: number;
  cell: number;
  pitch: number;
}

export function SmallMultiples(props: {
  tensor: TensorRef;
  info: TensorInfo;
  gridDim: number;
  rowDim: number;
  colDim: number;
  at: readonly number[];
  /** The colour map chosen, or null: blue–white–red when the grid's values cross 0, else viridis. */
  cmap: ColormapName | null;
  /** Centre the scale on 0 (always so for a diverging map on values that cross 0). */
  symmetric: boolean;
  /** Cell size in CSS pixels (MIN_CELL–MAX_CELL), or null for the default that fits the width. */
  cell: number | null;
  onCell: (cell: number | null) => void;
  /** The grid's order: a statistic and its direction (kept in the URL by the page). */
  sort: GridSort;
  onSort: (sort: GridSort) => void;
  onOpen: (index: number) => void;
}) {
  const { tensor, info, gridDim, rowDim, colDim, at, cmap } = props;
  const [statError, setStatError] = useState<unknown>(null);
  const { stat, descending } = props.sort;
  const [values, setValues] = useState<{ stat: SliceStat; values: (number | null)[] } | null>(null);
  const [hover, setHover] = useState<Hover | null>(null);
  // The grid holds colour codes; the numbers of the slice under the pointer are asked for when it is
  // hovered (one slice, kept for the next hover of it).
  const [exact, setExact] = useState<{ key: string; index: number; slice: Slice } | null>(null);
  const exactCache = useRef(new Map<string, Promise<Slice>>());
  // A tensor series' step, unless the grid runs along the step axis itself (then each cell has its own).
  const stepOf = (index: number): number | undefined =>
    info.steps ? info.steps[gridDim === 0 ? index : (at[0] ?? 0)] : undefined;
  const n = info.shape[gridDim]!;
  const rows = info.shape[rowDim]!;
  const cols = info.shape[colDim]!;
  const atKey = at.map((v, d) => (d === gridDim || d === rowDim || d === colDim ? '' : v)).join(',');
  const spec: GridSpec = { grid: gridDim, rows: rowDim, cols: colDim, at };
  const gridKey = `${tensor.specimenId}/${tensor.runId}/${tensor.name}/${gridDim}/${rowDim}/${colDim}/${atKey}`;

  // The slices, block by block as the grid's window needs them; the store is made in render so that its
  // first requests go out right after it, not a frame later (the first block may be prefetched).
  const [, setVersion] = useState(0);
  const store = useMemo(
    () =>
      new SliceBlocks(tensor, spec, { n, rows, cols, chunk: info.chunks[gridDim] ?? 1 }, () =>
        setVersion((v) => v + 1),
      ),
    [gridKey],
  );
  useLayoutEffect(() => {
    setValues(null);
    return () => store.close();
  }, [store]);
  const error = store.error ?? statError;

  // Statistics come from the server, over every slice, once per statistic and grid.
  useLayoutEffect(() => {
    if (stat === 'index' || values?.stat === stat) return;
    const ctl = new AbortController();
    getMultiplesStats(tensor, spec, stat, ctl.signal)
      .then((s) => {
        if (!ctl.signal.aborted) setValues({ stat, values: s.values });
      })
      .catch((err: unknown) => {
        if (!ctl.signal.aborted) setStatError(err);
      });
    return () => ctl.abort();
  }, [gridKey, stat]);

  const hovered = hover?.index;
  useEffect(() => {
    if (hovered === undefined) return;
    const key = `${gridKey}/${hovered}`;
    const cache = exactCache.current;
    let p = cache.get(key);
    if (!p) {
      const sel = at
        .map((v, d) => (d === gridDim ? String(hovered) : d === rowDim || d === colDim ? ':' : String(v)))
        .join(',');
      p = getSlice(tensor, sel);
      if (cache.size >= 16) cache.delete(cache.keys().next().value!);
      cache.set(key, p);
      p.catch(() => cache.delete(key));
    }
    let live = true;
    p.then(
      (slice) => {
        if (live) setExact({ key: gridKey, index: hovered, slice });
      },
      () => {},
    );
    return () => {
      live = false;
    };
  }, [gridKey, hovered]);
  /** The number under the pointer, once its slice is in (the slice keeps rows and columns in tensor order). */
  const hoverValue = (h: Hover): string => {
    if (!exact || exact.key !== gridKey || exact.index !== h.index) return '…';
    const v =
      rowDim < colDim ? exact.slice.data[h.row * cols + h.col] : exact.slice.data[h.col * rows + h.row];
    return v === undefined ? '…' : fmtNumber(v);
  };

  const order = useMemo(() => {
    const idx = Array.from({ length: n }, (_, i) => i);
    if (stat === 'index' || values?.stat !== stat) return idx;
    return sortedOrder(values.values, descending);
  }, [n, stat, descending, values]);

  return (
    <div class="small-multiples" data-testid="small-multiples">
      <div class="controls">
        <label>
          sort by
          <select
            value={stat}
            data-testid="sm-sort"
            onChange={(e) =>
              props.onSort({ stat: (e.currentTarget as HTMLSelectElement).value as SliceStat, descending })
            }
          >
            {SLICE_STATS.map((s) => (
              <option key={s.id} value={s.id}>
                {s.label}
              </option>
            ))}
          </select>
        </label>
        {stat !== 'index' ? (
          <button
            type="button"
            class="small"
            data-testid="sm-sort-dir"
            title="reverse the order"
            onClick={() => props.onSort({ stat, descending: !descending })}
          >
            {descending ? 'largest first' : 'smallest first'}
          </button>
        ) : null}
        <label>
          cell
          <input
            type="range"
            min={String(MIN_CELL)}
            max={String(MAX_CELL)}
            step="4"
            value={String(props.cell ?? AIM_CELL)}
            data-testid="sm-cell"
            onInput={(e) => props.onCell(Number((e.currentTarget as HTMLInputElement).value))}
          />
          <span class="mono small">{props.cell === null ? 'fit' : `${props.cell} px`}</span>
        </label>
        {props.cell !== null ? (
          <button type="button" class="small" data-testid="sm-cell-fit" onClick={() => props.onCell(null)}>
            fit width
          </button>
        ) : null}
        <span class="muted small">
          {n} slices of {rows} × {cols} along dim {gridDim} · click one to open it
        </span>
        <span class="mono small" data-testid="sm-hover">
          {hover
            ? `${stepOf(hover.index) !== undefined ? `step ${stepOf(hover.index)} · ` : ''}index ${hover.index} · [${hover.row}, ${hover.col}] = ${hoverValue(hover)}`
            : ''}
        </span>
      </div>
      <ErrorBox error={error} />
      {store.range !== undefined || !error ? (
        <Grid
          store={store}
          order={order}
          cmap={cmap}
          symmetric={props.symmetric}
          cell={props.cell}
          hover={hover}
          onHover={setHover}
          onOpen={props.onOpen}
        />
      ) : null}
    </div>
  );
}

/** Most device pixels the grid's canvas holds (32 MB): a longer grid draws only a window of rows. */
const CANVAS_BUDGET_PX = 8 * 1024 * 1024;

/**
 * The grid: one canvas with the slices in their cells, in `order`. A grid whose canvas would pass
 * CANVAS_BUDGET_PX is virtualised: the canvas covers the rows in view plus a view's height above and below,
 * moves when the view leaves them, and the store fetches only those rows' slices (the ones in view first).
 * The pointer is mapped to a cell and an element from its coordinates.
 */
function Grid(props: {
  store: SliceBlocks;
  order: number[];
  cmap: ColormapName | null;
  symmetric: boolean;
  cell: number | null;
  hover: Hover | null;
  onHover: (h: Hover | null) => void;
  onOpen: (index: number) => void;
}) {
  const { store, order, cmap, hover } = props;
  const { rows, cols } = store.shape;
  const scroller = useRef<HTMLDivElement>(null);
  const grid = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [width, setWidth] = useState(0);
  const [view, setView] = useState({ top: 0, height: 0 });
  useLayoutEffect(() => {
    const el = grid.current;
    const sc = scroller.current;
    if (!el || !sc) return;
    const measure = () => {
      setWidth(el.clientWidth);
      setView({ top: sc.scrollTop, height: sc.clientHeight });
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    ro.observe(sc);
    return () => ro.disconnect();
  }, []);
  const layout = gridLayout(width, props.cell);
  const { perRow, pitch } = layout;
  const lines = Math.ceil(order.length / perRow);
  const cssW = perRow * pitch - GAP;
  const cssH = Math.max(0, lines * pitch - GAP);
  const dpr = typeof window === 'undefined' ? 1 : window.devicePixelRatio || 1;
  const virtual = lines * pitch * cssW * dpr * dpr > CANVAS_BUDGET_PX;
  // The rows drawn: all of them, or the view's plus a view's height each side. The window only moves
  // when the rows in view leave it, so scrolling inside it redraws nothing.
  const win = useRef<[number, number]>([0, 0]);
  let [l0, l1] = win.current;
  if (!virtual) [l0, l1] = [0, lines];
  else {
    const first = Math.floor(view.top / pitch);
    const last = Math.min(lines, Math.ceil((view.top + view.height) / pitch));
    const budgetLines = Math.max(1, Math.floor(CANVAS_BUDGET_PX / (pitch * cssW * dpr * dpr)));
    if (first < l0 || last > l1 || l1 > lines || l1 - l0 > budgetLines) {
      const margin = Math.max(
        1,
        Math.min(Math.ceil(view.height / pitch), Math.floor((budgetLines - (last - first)) / 2)),
      );
      l0 = Math.max(0, first - margin);
      l1 = Math.min(lines, Math.max(last, first + 1) + margin);
    }
  }
  win.current = [l0, l1];
  const j0 = l0 * perRow;
  const j1 = Math.min(order.length, l1 * perRow);
  const top = l0 * pitch;
  const winH = Math.max(0, (l1 - l0) * pitch - GAP);

  useLayoutEffect(() => {
    const el = canvas.current;
    const g = grid.current;
    if (!el || !g || width === 0) return;
    // The slices in view first, then the rest of the window.
    const firstInView = Math.min(j1, Math.max(j0, Math.floor(view.top / pitch) * perRow));
    const lastInView = Math.min(j1, Math.ceil((view.top + view.height) / pitch) * perRow);
    const wanted = [
      ...order.slice(firstInView, lastInView),
      ...order.slice(j0, firstInView),
      ...order.slice(lastInView, j1),
    ];
    store.side = cellSide(layout.cell);
    store.want(wanted);
    el.width = Math.ceil(cssW * dpr);
    el.height = Math.ceil(winH * dpr);
    const ctx = el.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    // Slices are scaled by nearest neighbour as they are coloured (drawCells); nothing drawn later smooths.
    ctx.imageSmoothingEnabled = false;
    const range = store.range;
    let drawn = 0;
    if (range !== undefined) {
      // Codes are made on the grid's range; the colours put it on the scale (centred on 0 for diverging data).
      const [min, max] = range ?? [0, 1];
      const map = cmap ?? defaultColormap(min, max);
      const colours = codeColours(map, [min, max], colourScale(min, max, map, props.symmetric));
      drawn = drawCells(ctx, layout, dpr, store, order, j0, j1, colours);
      g.dataset.colormap = map;
    }
    g.dataset.drawn = String(drawn);
    g.dataset.window = `${j0},${j1}`;
    g.dataset.blocks = String(store.held);
  });

  /** The cell and element under a pointer event, or null between cells. */
  const at = (e: MouseEvent): Hover | null => {
    const box = grid.current!.getBoundingClientRect();
    const x = e.clientX - box.left;
    const y = e.clientY - box.top;
    const cx = Math.floor(x / pitch);
    const cy = Math.floor(y / pitch);
    const j = cy * perRow + cx;
    if (cx < 0 || cx >= perRow || cy < 0 || j >= order.length) return null;
    const index = order[j]!;
    // The slice fills the cell's inside along its longer side, from the top left.
    const unit = (layout.cell - 2 * BORDER) / Math.max(rows, cols);
    const col = Math.floor((x - cx * pitch - BORDER) / unit);
    const row = Math.floor((y - cy * pitch - BORDER) / unit);
    if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
    return { index, row, col, x: cx * pitch, y: cy * pitch };
  };

  return (
    <div
      class="sm-scroll"
      ref={scroller}
      data-testid="sm-scroll"
      onScroll={(e) => {
        const sc = e.currentTarget as HTMLDivElement;
        setView({ top: sc.scrollTop, height: sc.clientHeight });
      }}
    >
      <div
        class="sm-grid"
        ref={grid}
        data-testid="sm-grid"
        data-order={order.length <= 4096 ? order.join(',') : undefined}
        data-per-row={perRow}
        data-cell={layout.cell}
        data-pitch={pitch}
        data-lines={lines}
        style={{ height: `${cssH}px` }}
        // One control for the whole grid: the pointer picks the cell; Enter opens the one under it.
        role="application"
        aria-label={`${order.length} small heatmaps; click one to open it`}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && hover) props.onOpen(hover.index);
        }}
        onMouseMove={(e) => props.onHover(at(e))}
        onMouseLeave={() => props.onHover(null)}
        onClick={(e) => {
          const h = at(e);
          if (h) props.onOpen(h.index);
        }}
      >
        <canvas
          ref={canvas}
          class="sm-atlas"
          data-testid="sm-atlas"
          style={{ top: `${top}px`, width: `${cssW}px`, height: `${winH}px` }}
        />
        {hover ? (
          <div
            class="sm-hover-box"
            title={`index ${hover.index}`}
            style={{
              left: `${hover.x}px`,
              top: `${hover.y}px`,
              width: `${layout.cell}px`,
              height: `${layout.cell}px`,
            }}
          />
        ) : null}
      </div>
    </div>
  );
}

/**
 * Draws the cells at positions [j0, j1) of `order` (their slices from `slices`), positions counted from
 * the canvas's top row of cells, `dpr` device pixels per CSS pixel; returns how many were drawn. Each
 * slice is scaled to its cell by nearest neighbour while it goes through the colour table (only the
 * cell's device pixels are computed: a 113 × 113 slice in a 70 px cell is 4,900 of them, not 12,769),
 * into one ImageData reused for every cell and put at the cell's place. Borders go in one path, labels on
 * top.
 */
function drawCells(
  ctx: CanvasRenderingContext2D,
  layout: Layout,
  dpr: number,
  store: SliceBlocks,
  order: readonly number[],
  j0: number,
  j1: number,
  rgba: Uint32Array,
): number {
  const { rows, cols } = store.shape;
  // Rows of cells are counted from the window's first one.
  const l0 = Math.floor(j0 / layout.perRow);
  // The slice spans the cell's inside along its longer side, from the top left.
  const inner = Math.max(1, Math.round((layout.cell - 2 * BORDER) * dpr));
  const w = Math.max(1, Math.round((inner * cols) / Math.max(rows, cols)));
  const h = Math.max(1, Math.round((inner * rows) / Math.max(rows, cols)));
  // Blocks may hold slices at different sizes (pooled for another cell size until replaced): the source
  // pixel of each cell pixel, per size.
  let mapped = { rows: -1, cols: -1 };
  const colAt = new Int32Array(w);
  const rowAt = new Int32Array(h);
  const img = ctx.createImageData(w, h);
  const words = new Uint32Array(img.data.buffer);
  let drawn = 0;
  for (let j = j0; j < j1; j++) {
    const slice = store.slice(order[j]!);
    if (!slice) continue;
    const { codes, base } = slice;
    if (slice.rows !== mapped.rows || slice.cols !== mapped.cols) {
      const sr = slice.rows;
      const sc = slice.cols;
      for (let x = 0; x < w; x++) colAt[x] = Math.min(sc - 1, Math.floor(((x + 0.5) * sc) / w));
      for (let y = 0; y < h; y++) rowAt[y] = Math.min(sr - 1, Math.floor(((y + 0.5) * sr) / h)) * sc;
      mapped = slice;
    }
    for (let y = 0; y < h; y++) {
      const src = base + rowAt[y]!;
      const o = y * w;
      for (let x = 0; x < w; x++) words[o + x] = rgba[codes[src + colAt[x]!]!]!;
    }
    const x = (j % layout.perRow) * layout.pitch + BORDER;
    const y = (Math.floor(j / layout.perRow) - l0) * layout.pitch + BORDER;
    ctx.putImageData(img, Math.round(x * dpr), Math.round(y * dpr));
    drawn++;
  }
  ctx.beginPath();
  for (let j = j0; j < j1; j++) {
    const x = (j % layout.perRow) * layout.pitch;
    const y = (Math.floor(j / layout.perRow) - l0) * layout.pitch;
    ctx.rect(x + 0.5, y + 0.5, layout.cell - 1, layout.cell - 1);
  }
  ctx.strokeStyle = '#ddd';
  ctx.lineWidth = 1;
  ctx.stroke();
  if (layout.cell >= 40) {
    ctx.font = '9px ui-monospace, monospace';
    ctx.textBaseline = 'top';
    ctx.fillStyle = '#fff';
    for (let j = j0; j < j1; j++) {
      const x = (j % layout.perRow) * layout.pitch + 3;
      const y = (Math.floor(j / layout.perRow) - l0) * layout.pitch + 2;
      ctx.fillText(String(order[j]), x, y);
    }
  }
  return drawn;
}
