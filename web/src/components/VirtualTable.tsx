/**
 * A virtualised table: only the rows in view (plus a few either side) are in the DOM, so 10,000 rows or a
 * 1,000,000-row metrics file scroll smoothly. Rows have a fixed height; the header stays on top; columns
 * can be sortable. Rows not loaded yet (`getRow` returns undefined) show as placeholders and are asked for
 * with `onRange`.
 */
import type { ComponentChild } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Column<R> {
  key: string;
  label: string;
  /** Width in pixels. */
  width: number;
  render: (row: R, index: number) => ComponentChild;
  sortable?: boolean;
  align?: 'left' | 'right';
  title?: string;
  /** Takes the spare width when the table is wider than its columns. */
  grow?: boolean;
}

export interface VirtualTableProps<R> {
  columns: readonly Column<R>[];
  count: number;
  getRow: (index: number) => R | undefined;
  rowHeight?: number;
  /** CSS height of the scrolling area. */
  height: string;
  sort?: { key: string; dir: 'asc' | 'desc' } | undefined;
  onSort?: (key: string) => void;
  onRange?: (start: number, end: number) => void;
  rowClass?: (row: R, index: number) => string;
  testId?: string;
  empty?: ComponentChild;
}

const OVERSCAN = 8;

export function VirtualTable<R>(props: VirtualTableProps<R>) {
  const { columns, count, getRow, height, sort, onSort, onRange, rowClass, testId } = props;
  const rowHeight = props.rowHeight ?? 30;
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(600);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setViewHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A shorter list (new filter) must not leave the view scrolled past its end.
  useEffect(() => {
    const el = box.current;
    if (el && el.scrollTop > count * rowHeight) {
      el.scrollTop = 0;
      setScrollTop(0);
    }
  }, [count, rowHeight]);

  const headerHeight = rowHeight + 2;
  const start = Math.max(0, Math.floor((scrollTop - headerHeight) / rowHeight) - OVERSCAN);
  const end = Math.min(count, Math.ceil((scrollTop + viewHeight) / rowHeight) + OVERSCAN);

  useEffect(() => {
    if (onRange && end > start) onRange(start, end);
  }, [start, end, onRange]);

  const template = columns.map((c) => (c.grow ? `minmax(${c.width}px, 1fr)` : `${c.width}px`)).join(' ');
  const totalWidth = columns.reduce((a, c) => a + c.width, 0);
  const rows: ComponentChild[] = [];
  for (let i = start; i < end; i++) {
    const row = getRow(i);
    rows.push(
      <div
        key={i}
        class={`vt-row ${row && rowClass ? rowClass(row, i) : ''}`}
        data-testid={testId ? `${testId}-row` : undefined}
        data-index={i}
        style={{
          top: `${i * rowHeight}px`,
          height: `${rowHeight}px`,
          gridTemplateColumns: template,
          minWidth: `${totalWidth}px`,
        }}
      >
        {row
          ? columns.map((c) => (
              <div key={c.key} class={`vt-cell ${c.align === 'right' ? 'right' : ''}`}>
                {c.render(row, i)}
              </div>
            ))
          : columns.map((c) => (
              <div key={c.key} class="vt-cell placeholder">
                …
              </div>
            ))}
      </div>,
    );
  }

  return (
    <div
      class="vt"
      ref={box}
      style={{ height }}
      data-testid={testId}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLDivElement).scrollTop)}
    >
      <div
        class="vt-head"
        style={{ gridTemplateColumns: template, minWidth: `${totalWidth}px`, height: `${headerHeight}px` }}
      >
        {columns.map((c) => {
          const active = sort?.key === c.key;
          const arrow = active ? (sort?.dir === 'asc' ? ' ▲' : ' ▼') : '';
          return (
            <div
              key={c.key}
              class={`vt-hcell ${active ? 'active' : ''} ${c.align === 'right' ? 'right' : ''}`}
              title={c.title ?? c.label}
            >
              {c.sortable && onSort ? (
                <button
                  type="button"
                  class="vt-sort"
                  data-sort-key={c.key}
                  title={`sort by ${c.label}`}
                  onClick={() => onSort(c.key)}
                >
                  {c.label}
                  {arrow}
                </button>
              ) : (
                c.label
              )}
            </div>
          );
        })}
      </div>
      <div class="vt-body" style={{ height: `${count * rowHeight}px`, minWidth: `${totalWidth}px` }}>
        {rows}
      </div>
      {count === 0 && props.empty ? <div class="vt-empty">{props.empty}</div> : null}
    </div>
  );
}
