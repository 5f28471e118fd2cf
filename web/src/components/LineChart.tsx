/**
 * A line chart of one metric against step for one or more runs, drawn with uPlot on a canvas.
 *
 * - Several runs are drawn in uPlot's faceted mode, each with its own steps (real gaps — null
 *   values — stay gaps).
 * - Hover shows every run's value nearest to the cursor's step, in a tooltip.
 * - Drag across the plot to zoom: `onZoom([from, to])` lets the caller fetch finer data for that range;
 *   double-click resets (`onZoom(null)`).
 * - Click pins a step (`onPick(step)`), drawn as a vertical line.
 * - `markers` draw vertical lines at given steps (a run's turn), in the run's colour, labelled at the top.
 * - `smoothing` (0–0.99) applies a debiased exponential moving average; `log` uses a log10 y axis.
 * - `hoverDetail(x, signal)`, when given, replaces the tooltip's lines once the cursor rests (~80 ms) at x:
 *   the System charts show every system metric of every run at that second, from the server.
 */
import { useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNumber } from '../format.js';

export interface ChartSeries {
  label: string;
  color: string;
  steps: readonly number[];
  values: readonly (number | null)[];
  /** A shaded band around the line (a group's spread), drawn under it at the same x values. */
  band?: { lower: readonly (number | null)[]; upper: readonly (number | null)[] } | undefined;
  /** Draw a marker at each point (a sparse series); the chart's `points` otherwise. */
  points?: boolean | undefined;
}

/** One line of a hover tooltip from `hoverDetail`: a run (its colour and label) and what to show for it. */
export interface HoverLine {
  color: string;
  label: string;
  text: string;
}

/** A vertical line at `step` with a short label (e.g. "turn"). */
export interface ChartMarker {
  step: number;
  color: string;
  label: string;
}

export interface LineChartProps {
  series: readonly ChartSeries[];
  title?: string;
  height?: number;
  log?: boolean;
  smoothing?: number;
  zoom?: readonly [number, number] | null;
  onZoom?: (range: [number, number] | null) => void;
  pinned?: number | null;
  onPick?: (step: number) => void;
  /** Vertical marks at steps, e.g. each run's turn. */
  markers?: readonly ChartMarker[];
  /** Report the plot's width in CSS pixels (for server-side downsampling). */
  onWidth?: (px: number) => void;
  xLabel?: string;
  points?: boolean;
  testId?: string;
  /** Formats the y axis' values (fmtNumber by default; bytes in human units for a memory chart). */
  yFormat?: (v: number) => string;
  /** The tooltip's heading and lines at x, fetched when the cursor rests (see the module comment). */
  hoverDetail?: (x: number, signal: AbortSignal) => Promise<{ heading: string; lines: HoverLine[] }>;
}

/** Debiased exponential moving average, skipping gaps. */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

/** Index of the element of `xs` (ascending) nearest to `x`. */
function nearest(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(xs[lo - 1]! - x) <= Math.abs(xs[lo]! - x)) return lo - 1;
  return lo;
}

export function LineChart(props: LineChartProps) {
  const { series, height = 220, log = false, smoothing = 0, zoom, pinned, testId } = props;
  const host = useRef<HTMLDivElement>(null);
  const tip = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [width, setWidth] = useState(0);
  const latest = useRef(props);
  latest.current = props;
  // The pending hover-detail request and its timer (a new cursor position cancels both).
  const detail = useRef<{ timer: number; ac: AbortController } | null>(null);
  const cancelDetail = () => {
    if (!detail.current) return;
    clearTimeout(detail.current.timer);
    detail.current.ac.abort();
    detail.current = null;
  };

  const prepared = useMemo(
    () =>
      series.map((s) => {
        let values = smooth(s.values, smoothing);
        if (log) values = values.map((v) => (v !== null && v > 0 ? v : null));
        const positive = (xs: readonly (number | null)[]) => xs.map((v) => (v !== null && v > 0 ? v : null));
        const band =
          s.band && log ? { lower: positive(s.band.lower), upper: positive(s.band.upper) } : s.band;
        return { ...s, values, band };
      }),
    [series, smoothing, log],
  );
  const data = useMemo(() => {
    if (prepared.length === 0) return [[]] as unknown as uPlot.AlignedData;
    if (prepared.length === 1)
      return [prepared[0]!.steps as number[], prepared[0]!.values] as uPlot.AlignedData;
    // Several runs: uPlot's faceted mode, each series with its own steps (no alignment on a shared x).
    return [null, ...prepared.map((s) => [s.steps, s.values])] as unknown as uPlot.AlignedData;
  }, [prepared]);
  const preparedRef = useRef(prepared);
  preparedRef.current = prepared;

  useLayoutEffect(() => {
    const el = host.current;
    if (!el) return;
    const measure = () => setWidth(Math.max(200, Math.floor(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  useLayoutEffect(() => {
    if (width > 0) props.onWidth?.(width);
  }, [width]);

  const configKey = `${prepared.map((s) => `${s.label}|${s.color}`).join(';')}|${log}|${height}|${props.points ? 1 : 0}`;

  // (Re)create the plot when its series or axes change.
  useLayoutEffect(() => {
    const el = host.current;
    // Nothing to draw yet (data loading): no plot, rather than an empty one recreated moments later.
    if (!el || width === 0 || preparedRef.current.length === 0) return;
    const multi = preparedRef.current.length > 1;
    const opts: uPlot.Options = {
      mode: multi ? 2 : 1,
      width,
      height,
      legend: { show: false },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        points: { show: !multi, size: 6 },
        bind: { dblclick: () => () => null },
      },
      scales: {
        x: {
          time: false,
          ...(multi ? { auto: true, range: (_u, min, max) => [min, max] as uPlot.Range.MinMax } : {}),
        },
        y: log ? { distr: 3, log: 10 } : {},
      },
      axes: [
        { label: props.xLabel ?? 'step', labelSize: 18, size: 36, stroke: '#555', grid: { stroke: '#eee' } },
        {
          size: 64,
          stroke: '#555',
          grid: { stroke: '#eee' },
          values: (_u, vals) => vals.map((v) => (latest.current.yFormat ?? fmtNumber)(v)),
        },
      ],
      series: [
        {},
        ...preparedRef.current.map((s) => ({
          label: s.label,
          stroke: s.color,
          // Thin lines when many runs overlap: clearer, and cheaper to rasterize.
          width: preparedRef.current.length > 4 ? 1 : 1.5,
          points: { show: s.points ?? props.points ?? false, size: 4 },
          spanGaps: false,
          ...(multi
            ? {
                facets: [
                  { scale: 'x', auto: true },
                  { scale: 'y', auto: true },
                ],
                paths: uPlot.paths.linear!(),
              }
            : {}),
        })),
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (u.select.width < 3) return;
            const a = u.posToVal(u.select.left, 'x');
            const b = u.posToVal(u.select.left + u.select.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            latest.current.onZoom?.([a, b]);
          },
        ],
        setCursor: [(u) => showTip(u)],

        draw: [
          (u) => {
            // How many points were last drawn (lets tests and benchmarks wait for a drawn chart).
            u.root.setAttribute(
              'data-points',
              String(preparedRef.current.reduce((a, s) => a + s.steps.length, 0)),
            );
            drawMarkers(u, latest.current.markers ?? []);
            drawBands(u, preparedRef.current);
            const p = latest.current.pinned;
            if (p === null || p === undefined) return;
            const x = u.valToPos(p, 'x', true);
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
            const c = u.ctx;
            c.save();
            c.strokeStyle = '#d33';
            c.setLineDash([4, 3]);
            c.lineWidth = 1.5 * devicePixelRatio;
            c.beginPath();
            c.moveTo(x, u.bbox.top);
            c.lineTo(x, u.bbox.top + u.bbox.height);
            c.stroke();
            c.restore();
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el.querySelector<HTMLDivElement>('.chart-canvas')!);
    plot.current = u;
    const z = latest.current.zoom;
    if (z) u.setScale('x', { min: z[0], max: z[1] });
    const over = u.over;
    const onClick = () => {
      if (u.select.width > 2 || u.cursor.left === undefined || u.cursor.left < 0) return;
      const x = u.posToVal(u.cursor.left, 'x');
      // Snap to the nearest step any run has.
      let best = x;
      let dist = Number.POSITIVE_INFINITY;
      for (const s of preparedRef.current) {
        const i = nearest(s.steps, x);
        if (i >= 0 && Math.abs(s.steps[i]! - x) < dist) {
          dist = Math.abs(s.steps[i]! - x);
          best = s.steps[i]!;
        }
      }
      latest.current.onPick?.(best);
    };
    const onDbl = () => latest.current.onZoom?.(null);
    const onLeave = () => {
      cancelDetail();
      if (tip.current) tip.current.style.display = 'none';
    };
    over.addEventListener('click', onClick);
    over.addEventListener('dblclick', onDbl);
    over.addEventListener('mouseleave', onLeave);
    return () => {
      over.removeEventListener('click', onClick);
      over.removeEventListener('dblclick', onDbl);
      over.removeEventListener('mouseleave', onLeave);
      cancelDetail();
      u.destroy();
      plot.current = null;
    };
  }, [configKey, width]);

  // New data (live refresh, zoom refinement, smoothing): keep the plot, swap the data.
  useLayoutEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data, !zoom);
    if (zoom) u.setScale('x', { min: zoom[0], max: zoom[1] });
  }, [data, zoom?.[0], zoom?.[1]]);

  const markerKey = (props.markers ?? []).map((m) => `${m.step}:${m.color}`).join(',');
  useLayoutEffect(() => {
    plot.current?.redraw(false, false);
  }, [pinned, markerKey]);

  function showTip(u: uPlot): void {
    const el = tip.current;
    if (!el) return;
    const left = u.cursor.left;
    if (left === undefined || left < 0) {
      cancelDetail();
      el.style.display = 'none';
      return;
    }
    const x = u.posToVal(left, 'x');
    const lines: string[] = [];
    for (const s of preparedRef.current) {
      const i = nearest(s.steps, x);
      if (i < 0) continue;
      const v = s.values[i];
      lines.push(
        `<div><span class="swatch" style="background:${s.color}"></span>${escapeHtml(s.label)}: <b>${v === null || v === undefined ? '–' : fmtNumber(v)}</b> <span class="muted">@ ${fmtNumber(s.steps[i])}</span></div>`,
      );
    }
    if (lines.length === 0) {
      el.style.display = 'none';
      return;
    }
    el.innerHTML = `<div class="muted">${escapeHtml(props.xLabel ?? 'step')} ≈ ${fmtNumber(Math.round(x))}</div>${lines.join('')}`;
    el.style.display = 'block';
    place(u, el);
    cancelDetail();
    const more = latest.current.hoverDetail;
    if (!more) return;
    const ac = new AbortController();
    const timer = window.setTimeout(() => {
      more(x, ac.signal).then(
        (d) => {
          if (ac.signal.aborted || d.lines.length === 0) return;
          el.innerHTML = `<div class="muted">${escapeHtml(d.heading)}</div>${d.lines
            .map(
              (l) =>
                `<div class="tip-line"><span class="swatch" style="background:${l.color}"></span>${escapeHtml(l.label)}: <b>${escapeHtml(l.text)}</b></div>`,
            )
            .join('')}`;
          el.setAttribute('data-detail', '1');
          place(u, el);
        },
        () => {},
      );
    }, 80);
    el.removeAttribute('data-detail');
    detail.current = { timer, ac };
  }

  /** Puts the tooltip beside the cursor, on its left when it would overflow the chart. */
  function place(u: uPlot, el: HTMLDivElement): void {
    const left = u.cursor.left ?? 0;
    const box = u.over.getBoundingClientRect();
    const hostBox = host.current!.getBoundingClientRect();
    const px = box.left - hostBox.left + left;
    // Never past the chart's left edge either: a wide tooltip overlaps the cursor rather than being cut.
    el.style.left = `${px + 12 + el.offsetWidth > hostBox.width ? Math.max(0, px - el.offsetWidth - 12) : px + 12}px`;
    el.style.top = `${box.top - hostBox.top + (u.cursor.top ?? 0) + 12}px`;
  }

  return (
    <div class="chart" ref={host} data-testid={testId}>
      {props.title ? <div class="chart-title">{props.title}</div> : null}
      <div class="chart-canvas" />
      <div class="chart-tip" ref={tip} />
      {series.length > 1 || props.title === undefined ? (
        <div class="chart-legend">
          {series.map((s) => (
            <span key={s.label} class="legend-item">
              <span class="swatch" style={{ background: s.color }} />
              {s.label}
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** Dotted vertical lines at the markers' steps, with their labels at the top of the plot. */
function drawMarkers(u: uPlot, markers: readonly ChartMarker[]): void {
  if (markers.length === 0) return;
  const c = u.ctx;
  c.save();
  c.lineWidth = devicePixelRatio;
  c.setLineDash([2, 3]);
  c.font = `${10 * devicePixelRatio}px sans-serif`;
  for (const m of markers) {
    const x = u.valToPos(m.step, 'x', true);
    if (!(x >= u.bbox.left && x <= u.bbox.left + u.bbox.width)) continue;
    c.strokeStyle = m.color;
    c.fillStyle = m.color;
    c.beginPath();
    c.moveTo(x, u.bbox.top);
    c.lineTo(x, u.bbox.top + u.bbox.height);
    c.stroke();
    c.fillText(m.label, x + 3 * devicePixelRatio, u.bbox.top + 10 * devicePixelRatio);
  }
  c.restore();
  // Lets tests see the markers without reading pixels.
  u.root.setAttribute('data-markers', markers.map((m) => m.step).join(','));
}

/** Each series' band as a translucent polygon in its colour, clipped to the plot area. */
function drawBands(u: uPlot, series: readonly ChartSeries[]): void {
  const c = u.ctx;
  for (const s of series) {
    const b = s.band;
    if (!b || s.steps.length === 0) continue;
    c.save();
    c.beginPath();
    c.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
    c.clip();
    c.fillStyle = s.color;
    c.globalAlpha = 0.18;
    // One polygon per run of finite points: along the upper edge, back along the lower.
    let start = -1;
    const flush = (end: number) => {
      if (start < 0) return;
      c.beginPath();
      for (let i = start; i < end; i++)
        c.lineTo(u.valToPos(s.steps[i]!, 'x', true), u.valToPos(b.upper[i]!, 'y', true));
      for (let i = end - 1; i >= start; i--)
        c.lineTo(u.valToPos(s.steps[i]!, 'x', true), u.valToPos(b.lower[i]!, 'y', true));
      c.closePath();
      c.fill();
      start = -1;
    };
    for (let i = 0; i < s.steps.length; i++) {
      const ok =
        b.upper[i] !== null && b.lower[i] !== null && b.upper[i] !== undefined && b.lower[i] !== undefined;
      if (ok && start < 0) start = i;
      if (!ok) flush(i);
    }
    flush(s.steps.length);
    c.restore();
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
