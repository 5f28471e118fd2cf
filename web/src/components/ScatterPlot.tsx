/**
 * A scatter plot of runs (any column against any other, numbers or categories) on a canvas; a click on a
 * point calls `onOpen` with that point's id. Hit testing is exact (nearest point within 8 px), which is
 * why it is drawn here rather than with uPlot, whose cursor snaps along x only.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { PlotFrame, useWidth } from './PlotFrame.js';
import { type PlotValue, prepareCanvas, scaleOf } from './plot-canvas.js';

export interface ScatterPoint {
  id: string;
  x: PlotValue;
  y: PlotValue;
  color: string;
  label: string;
}

const M = { left: 64, right: 16, top: 12, bottom: 40 };

export function ScatterPlot(props: {
  points: readonly ScatterPoint[];
  xLabel: string;
  yLabel: string;
  height?: number;
  onOpen: (id: string) => void;
  testId?: string;
}) {
  const { points, height = 360 } = props;
  const host = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const placed = useRef<{ id: string; px: number; py: number; label: string }[]>([]);
  const [hover, setHover] = useState<string | undefined>();
  const width = useWidth(host);

  useLayoutEffect(() => {
    if (!canvas.current || width === 0) return;
    const c = prepareCanvas(canvas.current, width, height);
    const sx = scaleOf(points.map((p) => p.x));
    const sy = scaleOf(points.map((p) => p.y));
    const w = width - M.left - M.right;
    const h = height - M.top - M.bottom;
    c.strokeStyle = '#ddd';
    c.fillStyle = '#555';
    c.textAlign = 'center';
    for (const t of sx.ticks) {
      const x = M.left + t.at * w;
      c.beginPath();
      c.moveTo(x, M.top);
      c.lineTo(x, M.top + h);
      c.stroke();
      c.fillText(t.label, x, M.top + h + 14);
    }
    c.textAlign = 'right';
    for (const t of sy.ticks) {
      const y = M.top + (1 - t.at) * h;
      c.beginPath();
      c.moveTo(M.left, y);
      c.lineTo(M.left + w, y);
      c.stroke();
      c.fillText(t.label, M.left - 6, y + 4);
    }
    c.textAlign = 'center';
    c.fillText(props.xLabel, M.left + w / 2, height - 6);
    c.save();
    c.translate(12, M.top + h / 2);
    c.rotate(-Math.PI / 2);
    c.fillText(props.yLabel, 0, 0);
    c.restore();
    const out: typeof placed.current = [];
    for (const p of points) {
      const fx = sx.pos(p.x);
      const fy = sy.pos(p.y);
      if (fx === null || fy === null) continue;
      const px = M.left + fx * w;
      const py = M.top + (1 - fy) * h;
      c.beginPath();
      c.arc(px, py, 4, 0, 2 * Math.PI);
      c.fillStyle = p.color;
      c.globalAlpha = 0.8;
      c.fill();
      c.globalAlpha = 1;
      out.push({ id: p.id, px, py, label: p.label });
    }
    placed.current = out;
    canvas.current.setAttribute('data-points', String(out.length));
  }, [points, width, height, props.xLabel, props.yLabel]);

  const hit = (x: number, y: number) => {
    let best: (typeof placed.current)[number] | undefined;
    let dist = 8;
    for (const p of placed.current) {
      const d = Math.hypot(p.px - x, p.py - y);
      if (d <= dist) {
        dist = d;
        best = p;
      }
    }
    return best;
  };

  return (
    <PlotFrame
      host={host}
      canvas={canvas}
      hit={hit}
      onOpen={props.onOpen}
      hover={hover}
      onHover={setHover}
      idle={`${placed.current.length} runs · click a point to open its run`}
      testId={props.testId}
    />
  );
}
