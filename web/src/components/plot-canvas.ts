/**
 * What the scatter and parallel-coordinates plots share: a canvas sized for the device's pixel ratio,
 * linear scales over numbers or categories (text values placed at evenly spaced positions), and a few
 * tick values.
 *
 * @example
 * const s = scaleOf([3, 1, 2]); s.pos(2) // 0.5 (fraction of the axis)
 */
import { fmtNumber } from '../format.js';

/** A value on an axis: a number, a category, or missing. */
export type PlotValue = number | string | null;

export interface Scale {
  /** Fraction 0–1 along the axis, or null for a missing value. */
  pos: (v: PlotValue) => number | null;
  /** Tick positions (fractions) with their labels. */
  ticks: { at: number; label: string }[];
}

/** A scale over `values`: numeric when every present value is a number, else categorical. */
export function scaleOf(values: readonly PlotValue[]): Scale {
  const present = values.filter((v): v is number | string => v !== null && v !== undefined);
  if (present.every((v) => typeof v === 'number')) {
    const nums = present as number[];
    let lo = Math.min(...nums);
    let hi = Math.max(...nums);
    if (!Number.isFinite(lo)) return { pos: () => null, ticks: [] };
    if (hi === lo) {
      lo -= 0.5;
      hi += 0.5;
    }
    const span = hi - lo;
    const ticks = Array.from({ length: 5 }, (_, i) => ({ at: i / 4, label: fmtNumber(lo + (span * i) / 4) }));
    return { pos: (v) => (typeof v === 'number' ? (v - lo) / span : null), ticks };
  }
  const cats = [...new Set(present.map(String))].sort((a, b) =>
    a.localeCompare(b, undefined, { numeric: true }),
  );
  const at = (i: number) => (cats.length === 1 ? 0.5 : i / (cats.length - 1));
  const index = new Map(cats.map((c, i) => [c, i]));
  return {
    pos: (v) => (v === null ? null : at(index.get(String(v)) ?? 0)),
    ticks: cats.slice(0, 20).map((c, i) => ({ at: at(i), label: c })),
  };
}

/** Sizes `canvas` to `width` × `height` CSS pixels at the device's pixel ratio and returns its context. */
export function prepareCanvas(
  canvas: HTMLCanvasElement,
  width: number,
  height: number,
): CanvasRenderingContext2D {
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const c = canvas.getContext('2d')!;
  c.setTransform(dpr, 0, 0, dpr, 0, 0);
  c.clearRect(0, 0, width, height);
  c.font = '11px system-ui, sans-serif';
  return c;
}

/** Distance from point p to the segment a–b (CSS pixels). */
export function segmentDistance(
  px: number,
  py: number,
  ax: number,
  ay: number,
  bx: number,
  by: number,
): number {
  const dx = bx - ax;
  const dy = by - ay;
  const len = dx * dx + dy * dy;
  const t = len === 0 ? 0 : Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}
