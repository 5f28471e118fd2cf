/**
 * Reading catalog rows: the position of each column in a row (checked against the server's column tuple by
 * the compiler, so a reordered or renamed column fails the build instead of showing the wrong cell), and
 * the text and order of cells for search and sort.
 *
 * @example
 * str(row[COL.tags]) // 'sweep lr'
 */
import type { CatalogResponse, Json } from '../../api/index.js';

/** A catalog row: values in `CatalogResponse['columns']` order. */
export type Row = Json[];

type Columns = CatalogResponse['columns'];
/** A column of the catalog response. */
export type CatalogColumn = Columns[number];

/** Position of `V` in the tuple `T`. */
type IndexOf<T extends readonly unknown[], V, Seen extends unknown[] = []> = T extends readonly [
  infer Head,
  ...infer Rest,
]
  ? Head extends V
    ? Seen['length']
    : IndexOf<Rest, V, [...Seen, Head]>
  : never;

/** Each column's position in a row. */
export const COL = {
  specimen_id: 0,
  created: 1,
  domain: 2,
  method: 3,
  model: 4,
  tags: 5,
  status: 6,
  run_count: 7,
  latest_run: 8,
  latest_status: 9,
  description: 10,
  hypothesis: 11,
} as const satisfies { [K in CatalogColumn]: IndexOf<Columns, K> };

/** The columns the table sorts by (the sort key in the URL is the column's name). */
export const SORT_KEYS: ReadonlySet<CatalogColumn> = new Set([
  'specimen_id',
  'created',
  'domain',
  'method',
  'model',
  'tags',
  'status',
  'run_count',
  'latest_status',
]);

/** The column to sort by for the URL's `sort` (created when it names no sortable column). */
export function sortColumn(key: string): number {
  return SORT_KEYS.has(key as CatalogColumn) ? COL[key as CatalogColumn] : COL.created;
}

/** A cell as text (tags joined by spaces, empty for null). */
export function str(v: Json | undefined): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.join(' ');
  return String(v);
}

/** Sort order of two cells: numbers by value, text by code point, empty cells last. */
export function compare(a: Json | undefined, b: Json | undefined): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = str(a);
  const sb = str(b);
  if (sa === sb) return 0;
  if (sa === '') return 1;
  if (sb === '') return -1;
  return sa < sb ? -1 : 1;
}
