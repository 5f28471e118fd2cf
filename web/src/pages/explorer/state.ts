/**
 * The explorer's view state as the URL holds it: free text `q`, filters `f=<column><op><value>`
 * (repeatable), `sort` and `dir`, group-by columns `g` (repeatable), visible columns `cols` (comma-joined;
 * a default set when absent) and the plot `plot=scatter|parallel` with its axes `x`, `y`.
 *
 * @example
 * const s = readExplorerState(route.query)   // #/explorer?g=config.prime&sort=loss.min&dir=asc
 */
import type { ExplorerColumnInfo } from '../../api/index.js';

export interface ExplorerState {
  q: string;
  filters: string[];
  sort: string | undefined;
  dir: 'asc' | 'desc';
  group: string[];
  cols: string[] | undefined;
  plot: 'scatter' | 'parallel' | undefined;
  x: string | undefined;
  y: string | undefined;
}

export function readExplorerState(q: URLSearchParams): ExplorerState {
  const plot = q.get('plot');
  return {
    q: q.get('q') ?? '',
    filters: q.getAll('f').filter((f) => f !== ''),
    sort: q.get('sort') || undefined,
    dir: q.get('dir') === 'desc' ? 'desc' : 'asc',
    group: q.getAll('g').filter((g) => g !== ''),
    cols: q.get('cols') ? q.get('cols')!.split(',').filter(Boolean) : undefined,
    plot: plot === 'scatter' || plot === 'parallel' ? plot : undefined,
    x: q.get('x') || undefined,
    y: q.get('y') || undefined,
  };
}

/** The columns shown when the URL names none: run facts, config and summary keys, final and min of metrics. */
export function defaultColumns(columns: readonly ExplorerColumnInfo[]): string[] {
  const out: string[] = [];
  let config = 0;
  let summary = 0;
  for (const c of columns) {
    if (c.source === 'run' && ['specimen_id', 'run_id', 'status', 'started', 'duration_s'].includes(c.key))
      out.push(c.key);
    else if (c.source === 'config' && config++ < 8) out.push(c.key);
    else if (c.source === 'summary' && summary++ < 4) out.push(c.key);
    else if (c.source === 'metric' && (c.key.endsWith('.final') || c.key.endsWith('.min'))) out.push(c.key);
  }
  return out;
}
