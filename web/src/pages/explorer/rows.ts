/**
 * The explorer's rows, loaded a page at a time: the first page comes with the columns and the totals, and
 * the pages scrolled into view are asked for as the virtual table reports its range, so 100,000 runs cost
 * the browser only the rows looked at.
 *
 * @example
 * const { first, error, getRow, onRange } = useExplorerRows({ sort: 'loss.min', dir: 'asc' })
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type ExplorerQuery, type ExplorerResponse, getExplorer, type Json } from '../../api/index.js';
import { useData } from '../../hooks.js';

/** Rows per request: a few screens, small enough to answer at once. */
export const PAGE = 200;

/** A run (or, grouped, a group of runs) as the table shows it. */
export interface ExplorerRow {
  values: Json[];
  /** Grouped: runs in the group. */
  count?: number | undefined;
}

function toRows(r: ExplorerResponse): ExplorerRow[] {
  return r.rows.map((values, i) => ({ values, count: r.counts?.[i] }));
}

export function useExplorerRows(query: ExplorerQuery): {
  first: ExplorerResponse | undefined;
  error: unknown;
  getRow: (i: number) => ExplorerRow | undefined;
  onRange: (start: number, end: number) => void;
} {
  const key = JSON.stringify(query);
  const { data: first, error } = useData(`explorer:${key}`, (signal) =>
    getExplorer({ ...query, offset: 0, limit: PAGE }, signal),
  );
  const pages = useRef(new Map<number, ExplorerRow[] | null>());
  const [, setTick] = useState(0);
  const controller = useRef<AbortController | undefined>(undefined);
  useEffect(() => {
    pages.current = new Map();
    controller.current = new AbortController();
    return () => controller.current?.abort();
  }, [key]);
  const firstRows = first ? toRows(first) : undefined;
  const onRange = useCallback(
    (start: number, end: number) => {
      for (let p = Math.floor(start / PAGE); p <= Math.floor((end - 1) / PAGE); p++) {
        if (p === 0 || pages.current.has(p)) continue;
        const map = pages.current;
        map.set(p, null);
        getExplorer({ ...query, offset: p * PAGE, limit: PAGE }, controller.current?.signal).then(
          (r) => {
            map.set(p, toRows(r));
            setTick((n) => n + 1);
          },
          () => map.delete(p),
        );
      }
    },
    [key],
  );
  const getRow = (i: number) =>
    i < PAGE ? firstRows?.[i] : (pages.current.get(Math.floor(i / PAGE)) ?? undefined)?.[i % PAGE];
  return { first, error, getRow, onRange };
}
