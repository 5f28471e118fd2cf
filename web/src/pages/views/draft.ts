/** Editing a view: a draft of the saved JSON, and the small text ↔ list conversions of its inputs. */
import type { SavedViewJson, ViewItemJson } from '../../api/index.js';

/** A view nobody has arranged yet. */
export function emptyView(): SavedViewJson {
  return { version: 1, title: '', runs: [], items: [] };
}

/** A new item of `kind` with its defaults. */
export function newItem(kind: ViewItemJson['kind']): ViewItemJson {
  switch (kind) {
    case 'chart':
      return { kind, metrics: [], x: 'step', group_by: [], log: false };
    case 'table':
      return { kind, sql: 'SELECT specimen_id, run_id, status FROM runs ORDER BY started' };
    case 'tensor':
      return { kind, run: '', tensor: '', index: [] };
    case 'text':
      return { kind, markdown: '' };
  }
}

/** `"a, b  c"` → `['a', 'b', 'c']`. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `items` with the item at `i` moved by `by` places (clamped). */
export function moveItem<T>(items: readonly T[], i: number, by: number): T[] {
  const j = Math.max(0, Math.min(items.length - 1, i + by));
  const out = items.slice();
  const [x] = out.splice(i, 1);
  out.splice(j, 0, x!);
  return out;
}

/** The pattern the server accepts for view names (src/format/view.ts). */
export const VIEW_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;
