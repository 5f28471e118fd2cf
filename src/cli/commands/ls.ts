/**
 * `specimen ls [--domain D] [--method M] [--tag T] [--status S] [--json]`: lists specimens from the catalog,
 * with a status column; planned specimens (no run yet) are listed apart, after the others, with their
 * hypothesis.
 */
import { openVaultQuery } from '../catalog-access.js';
import { painter } from '../output.js';
import { makeTable } from '../table.js';

export interface LsOptions {
  domain?: string;
  method?: string;
  tag?: string;
  status?: string;
  json?: boolean;
  vault?: string;
}

export default async function ls(opts: LsOptions): Promise<number> {
  const { query: q } = await openVaultQuery(opts.vault);
  try {
    // Filters are bound parameters; a NULL parameter disables its filter.
    const rows = await q.rows(
      `SELECT c.specimen_id, c.created, c.domain, c.method, c.model, c.tags, c.status, c.run_count, c.latest_run, c.latest_status, c.hypothesis,
              (SELECT count(*) FROM runs r WHERE r.specimen_id = c.specimen_id AND r.superseded_by IS NOT NULL) AS superseded_runs
         FROM catalog c
        WHERE ($1::VARCHAR IS NULL OR c.domain = $1)
          AND ($2::VARCHAR IS NULL OR c.method = $2)
          AND ($3::VARCHAR IS NULL OR array_contains(c.tags, $3))
          AND ($4::VARCHAR IS NULL OR c.status = $4 OR c.latest_status = $4)
        ORDER BY c.created DESC, c.specimen_id`,
      [opts.domain ?? null, opts.method ?? null, opts.tag ?? null, opts.status ?? null],
    );
    if (opts.json) {
      console.log(JSON.stringify(rows, null, 2));
      return 0;
    }
    const paint = painter();
    const planned = rows.filter((r) => r.status === 'planned');
    const others = rows.filter((r) => r.status !== 'planned');
    if (others.length > 0 || planned.length === 0) {
      const t = makeTable([
        'specimen',
        'created',
        'status',
        'domain / method',
        'model',
        'tags',
        'runs',
        'latest run',
      ]);
      for (const r of others) {
        const latest = r.latest_status as string | null;
        const colour = latest === 'succeeded' ? 'green' : latest === 'failed' ? 'red' : 'yellow';
        t.push([
          String(r.specimen_id),
          String(r.created ?? '').slice(0, 10),
          String(r.status ?? '-'),
          `${r.domain} / ${r.method}`,
          String(r.model ?? '-'),
          ((r.tags as string[] | null) ?? []).join(', '),
          `${r.run_count}${Number(r.superseded_runs) > 0 ? ` (${r.superseded_runs} superseded)` : ''}`,
          latest ? `${r.latest_run} ${paint(colour, latest)}` : '-',
        ]);
      }
      console.log(t.toString());
    }
    if (planned.length > 0) {
      console.log(`${others.length > 0 ? '\n' : ''}${paint('bold', `Planned (${planned.length})`)}`);
      const t = makeTable(['specimen', 'created', 'domain / method', 'tags', 'hypothesis']);
      for (const r of planned) {
        const h = String(r.hypothesis ?? '-').split('\n')[0]!;
        t.push([
          String(r.specimen_id),
          String(r.created ?? '').slice(0, 10),
          `${r.domain} / ${r.method}`,
          ((r.tags as string[] | null) ?? []).join(', '),
          h.length > 60 ? `${h.slice(0, 59)}…` : h,
        ]);
      }
      console.log(t.toString());
    }
    const plannedNote = planned.length > 0 ? ` (${planned.length} planned)` : '';
    console.log(`${rows.length} specimen${rows.length === 1 ? '' : 's'}${plannedNote}`);
    return 0;
  } finally {
    q.close();
  }
}
