/**
 * A 2-D heatmap of a slice on a canvas, one canvas pixel per element (scaled up with crisp pixels), with a
 * colour-scale legend. Hover shows the element's index in the full tensor and its value.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';
import { fmtNumber } from '../format.js';
import { type ColormapName, cssGradient, lut } from './colormap.js';

export interface HeatmapProps {
  data: Float32Array | Float64Array;
  rows: number;
  cols: number;
  /** Colour range. */
  min: number;
  max: number;
  colormap: ColormapName;
  /** Index in the full tensor of row `i` / column `j` of the slice, formatted for the tooltip. */
  describe: (i: number, j: number) => string;
  /** Set as the canvas's `data-drawn` attribute once drawn (lets tests and benchmarks wait for it). */
  drawKey?: string;
  /** Largest displayed width in CSS pixels. */
  maxWidth?: number;
  testId?: string;
}

export function Heatmap(props: HeatmapProps) {
  const { data, rows, cols, min, max, colormap, testId } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const tip = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const c = canvas.current;
    if (!c || rows === 0 || cols === 0) return;
    c.width = cols;
    c.height = rows;
    const ctx = c.getContext('2d')!;
    const img = ctx.createImageData(cols, rows);
    // One 32-bit store per pixel (RGBA bytes in memory order, little-endian: 0xAABBGGRR).
    const px = new Uint32Array(img.data.buffer);
    const table = lut(colormap);
    const packed = new Uint32Array(256);
    for (let t = 0; t < 256; t++)
      packed[t] = (255 << 24) | (table[t * 3 + 2]! << 16) | (table[t * 3 + 1]! << 8) | table[t * 3]!;
    const missing = (255 << 24) | (255 << 16) | 255; // magenta: NaN or infinite
    const scale = 255 / (max > min ? max - min : 1);
    // Hot loop (a quarter of a million pixels per slider step): `v - v !== 0` holds for NaN and ±Inf
    // alone, and `(t + 0.5) | 0` rounds the clamped, non-negative t.
    const n = rows * cols;
    for (let k = 0; k < n; k++) {
      const v = data[k]!;
      const t = (v - min) * scale;
      px[k] = v - v !== 0 ? missing : t <= 0 ? packed[0]! : t >= 255 ? packed[255]! : packed[(t + 0.5) | 0]!;
    }
    ctx.putImageData(img, 0, 0);
    c.dataset.drawn = props.drawKey ?? '1';
  }, [data, rows, cols, min, max, colormap, props.drawKey]);

  const maxWidth = props.maxWidth ?? 900;
  const scale = Math.max(1, Math.min(maxWidth / Math.max(1, cols), 640 / Math.max(1, rows)));
  const cssW = Math.max(1, Math.round(cols * Math.min(scale, maxWidth / Math.max(1, cols))));
  const cssH = Math.max(1, Math.round(rows * (cssW / Math.max(1, cols))));

  const onMove = (e: MouseEvent) => {
    const c = canvas.current;
    const t = tip.current;
    if (!c || !t) return;
    const r = c.getBoundingClientRect();
    const j = Math.floor(((e.clientX - r.left) / r.width) * cols);
    const i = Math.floor(((e.clientY - r.top) / r.height) * rows);
    if (i < 0 || j < 0 || i >= rows || j >= cols) {
      t.style.display = 'none';
      return;
    }
    t.textContent = `${props.describe(i, j)} = ${fmtNumber(data[i * cols + j])}`;
    t.style.display = 'block';
    t.style.left = `${e.clientX - r.left + 14}px`;
    t.style.top = `${e.clientY - r.top + 14}px`;
  };

  return (
    <div class="heatmap" data-testid={testId}>
      <div class="heatmap-plot">
        <canvas
          ref={canvas}
          style={{ width: `${cssW}px`, height: `${cssH}px` }}
          onMouseMove={onMove}
          onMouseLeave={() => {
            if (tip.current) tip.current.style.display = 'none';
          }}
        />
        <div class="chart-tip heatmap-tip" ref={tip} data-testid={testId ? `${testId}-tip` : undefined} />
      </div>
      <div class="colorbar" style={{ width: `${Math.min(cssW, 360)}px` }}>
        <div class="colorbar-ramp" style={{ background: cssGradient(colormap) }} />
        <div class="colorbar-labels">
          <span>{fmtNumber(min)}</span>
          <span>{fmtNumber((min + max) / 2)}</span>
          <span>{fmtNumber(max)}</span>
        </div>
      </div>
    </div>
  );
}
