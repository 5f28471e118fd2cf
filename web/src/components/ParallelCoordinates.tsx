/**
 * Parallel coordinates on a canvas: one vertical axis per column (numbers scaled to their range, text as
 * evenly spaced categories), one polyline per run across them. A click near a line (within 5 px) calls
 * `onOpen` with its id; hovering names the run and draws its line on top.
 */
import { useLayoutEffect, useRef, useState } from 'preact/hooks';
import { PlotFrame, useWidth } from './PlotFrame.js';
import { type PlotValue, prepareCanvas, type Scale, scaleOf, segmentDistance } from './plot-canvas.js';

export interface ParallelLine {
  id: string;
  values: readonly PlotValue[];
  color: string;
  label: string;
}

const M = { left: 40, right: 40, top: 28, bottom: 16 };

export function ParallelCoordinates(props: {
  axes: readonly string[];
  lines: readonly ParallelLine[];
  height?: number;
  onOpen: (id: string) => void;
  testId?: string;
}) {
  const { axes, lines, height = 360 } = props;
  const host = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const placed = useRef<{ id: string; label: string; pts: [number, number][] }[]>([]);
  const [hover, setHover] = useState<string | undefined>();
  const width = useWidth(host);

  useLayoutEffect(() => {
    if (!canvas.current || width === 0 || axes.length === 0) return;
    const c = prepareCanvas(canvas.current, width, height);
    const scales: Scale[] = axes.map((_, a) => scaleOf(lines.map((l) => l.values[a] ?? null)));
    const w = width - M.left - M.right;
    const h = height - M.top - M.bottom;
    const ax = (a: number) => M.left + (axes.length === 1 ? w / 2 : (a * w) / (axes.length - 1));
    const out: typeof placed.current = [];
    c.lineWidth = 1.2;
    for (const l of lines) {
      const pts: [number, number][] = [];
      c.beginPath();
      let open = false;
      for (let a = 0; a < axes.length; a++) {
        const f = scales[a]!.pos(l.values[a] ?? null);
        if (f === null) {
          open = false;
          continue;
        }
        const p: [number, number] = [ax(a), M.top + (1 - f) * h];
        pts.push(p);
        if (open) c.lineTo(p[0], p[1]);
        else c.moveTo(p[0], p[1]);
        open = true;
      }
      c.strokeStyle = l.color;
      c.globalAlpha = hover && hover !== l.label ? 0.25 : 0.75;
      c.stroke();
      out.push({ id: l.id, label: l.label, pts });
    }
    c.globalAlpha = 1;
    c.strokeStyle = '#333';
    c.fillStyle = '#333';
    c.textAlign = 'center';
    axes.forEach((name, a) => {
      const x = ax(a);
      c.beginPath();
      c.moveTo(x, M.top);
      c.lineTo(x, M.top + h);
      c.stroke();
      c.fillText(name, x, M.top - 14);
      c.textAlign = a === axes.length - 1 ? 'right' : 'left';
      for (const t of scales[a]!.ticks)
        c.fillText(t.label, x + (a === axes.length - 1 ? -4 : 4), M.top + (1 - t.at) * h + 4);
      c.textAlign = 'center';
    });
    placed.current = out;
    canvas.current.setAttribute('data-lines', String(out.length));
  }, [axes, lines, width, height, hover]);

  const hit = (x: number, y: number) => {
    let best: (typeof placed.current)[number] | undefined;
    let dist = 5;
    for (const l of placed.current) {
      for (let i = 1; i < l.pts.length; i++) {
        const d = segmentDistance(x, y, l.pts[i - 1]![0], l.pts[i - 1]![1], l.pts[i]![0], l.pts[i]![1]);
        if (d <= dist) {
          dist = d;
          best = l;
        }
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
      idle={`${lines.length} runs · click a line to open its run`}
      testId={props.testId}
    />
  );
}
