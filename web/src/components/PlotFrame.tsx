/**
 * The frame of a canvas plot whose marks open something when clicked (the scatter and parallel-coordinates
 * plots): its measured width, the canvas with a pointer cursor over a mark, and a line naming the mark under
 * the pointer. The plot supplies `hit`, which finds the mark at a point in CSS pixels of the canvas.
 *
 * @example
 * const width = useWidth(host)
 * <PlotFrame host={host} canvas={canvas} hit={(x, y) => nearest(x, y)} onOpen={open} hover={hover} onHover={setHover} idle="9 runs" />
 */
import type { RefObject } from 'preact';
import { useLayoutEffect, useState } from 'preact/hooks';

/** A mark of a plot: what it opens and what it is called. */
export interface PlotMark {
  id: string;
  label: string;
}

/** The element's width in CSS pixels (at least 240), following resizes. */
export function useWidth(host: RefObject<HTMLElement | null>): number {
  const [width, setWidth] = useState(0);
  useLayoutEffect(() => {
    const el = host.current!;
    const measure = () => setWidth(Math.max(240, Math.floor(el.clientWidth)));
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return width;
}

export function PlotFrame(props: {
  host: RefObject<HTMLDivElement | null>;
  canvas: RefObject<HTMLCanvasElement | null>;
  hit: (x: number, y: number) => PlotMark | undefined;
  onOpen: (id: string) => void;
  hover: string | undefined;
  onHover: (label: string | undefined) => void;
  /** Shown while the pointer is over no mark. */
  idle: string;
  testId?: string | undefined;
}) {
  const at = (e: MouseEvent) => {
    const box = props.canvas.current!.getBoundingClientRect();
    return props.hit(e.clientX - box.left, e.clientY - box.top);
  };
  return (
    <div class="plot" ref={props.host} data-testid={props.testId}>
      <canvas
        ref={props.canvas}
        style={{ cursor: props.hover ? 'pointer' : 'default' }}
        onMouseMove={(e) => props.onHover(at(e)?.label)}
        onMouseLeave={() => props.onHover(undefined)}
        onClick={(e) => {
          const m = at(e);
          if (m) props.onOpen(m.id);
        }}
      />
      <div class="muted small plot-hover">{props.hover ?? props.idle}</div>
    </div>
  );
}
