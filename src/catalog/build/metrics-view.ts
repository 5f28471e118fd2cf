/**
 * The `metrics` view's file lists: which metrics files entered or left the catalog in this index
 * (`MetricsFiles`), and bringing `metric_branches`, the per-chunk list macros and the view itself up to
 * date (`updateMetricsView`). See metricsViewSql in schema.ts for the shape of the view.
 *
 * @example
 * const files = new MetricsFiles()
 * for (const r of work.reads) files.add(r)
 * await updateMetricsView(con, loader, full, files, prepare)
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RunRead } from '../read-vault.js';
import {
  branchesOfFile,
  branchFilesMacro,
  branchFilesMacroSql,
  branchKey,
  type ColumnSpec,
  chunkCount,
  chunkOf,
  type MetricBranch,
  metricsViewSql,
} from '../schema.js';
import type { RowLoader } from './loader.js';

/** The metrics files that entered or left the catalog in this index, by `metrics` view branch. */
export class MetricsFiles {
  readonly added = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }>();
  readonly dropped = new Set<string>();
  changed = false;

  /** Branch entries by file shape (layout, columns, types): most runs of a vault share a few shapes. */
  private readonly shapes = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }[]>();

  add(r: RunRead): void {
    const m = r.artifacts.find((a) => a.kind === 'metrics');
    if (!r.metricsFile || !m?.columns || !m.column_types) return;
    this.changed = true;
    const layout = r.metricsFile.includes('/runs/') ? 'runs' : 'strata';
    const shape = `${layout}\u0000${m.columns.join('\u0001')}\u0000${m.column_types.join('\u0001')}`;
    let entries = this.shapes.get(shape);
    if (!entries) {
      entries = branchesOfFile(r.metricsFile, m.columns, m.column_types).map((branch) => {
        const key = branchKey(branch);
        let entry = this.added.get(key);
        if (!entry) {
          entry = { branch, paths: [] };
          this.added.set(key, entry);
        }
        return entry;
      });
      this.shapes.set(shape, entries);
    }
    for (const entry of entries) entry.paths.push(r.metricsFile);
  }

  drop(files: readonly string[]): void {
    for (const f of files) this.dropped.add(f);
    if (files.length > 0) this.changed = true;
  }
}

/** A branch of the `metrics` view as stored in `metric_branches`: its chunks' file lists. */
interface StoredBranch {
  branch: Omit<MetricBranch, 'paths'>;
  /** Files per chunk; `undefined` for chunks whose list was not read. */
  chunks: (string[] | undefined)[];
  /** Files per chunk, as counted when written. */
  counts: number[];
}

const BRANCH_SPEC: ColumnSpec = [
  ['position', 'INTEGER'],
  ['chunk', 'INTEGER'],
  ['chunks', 'INTEGER'],
  ['metric', 'VARCHAR'],
  ['type', 'VARCHAR'],
  ['layout', 'VARCHAR'],
  ['step_type', 'VARCHAR'],
  ['has_run_id', 'BOOLEAN'],
  ['files', 'INTEGER'],
  ['paths', 'VARCHAR'],
];

/** Specimen ID of a vault-relative path `specimens/<id>/…`. */
function specimenOfPath(p: string): string {
  return p.split('/')[1] ?? '';
}

/** Reads `metric_branches`: every branch with its chunk counts, and the file lists of the chunks asked for. */
export async function readBranches(
  con: DuckDBConnection,
  want: (position: number, chunk: number) => boolean,
): Promise<StoredBranch[]> {
  const reader = await con.runAndReadAll(
    'SELECT position, chunk, chunks, metric, type, layout, step_type, has_run_id, files, NULL AS paths ' +
      'FROM metric_branches ORDER BY position, chunk',
  );
  const out: StoredBranch[] = [];
  const needed: { position: number; chunk: number }[] = [];
  for (const [
    position,
    chunk,
    chunks,
    metric,
    type,
    layout,
    stepType,
    hasRunId,
    files,
  ] of reader.getRowsJS()) {
    const i = Number(position);
    const c = Number(chunk);
    out[i] ??= {
      branch: {
        metric: String(metric),
        type: String(type),
        layout: layout === 'runs' ? 'runs' : 'strata',
        stepType: stepType === null ? null : String(stepType),
        hasRunId: hasRunId === true,
      },
      chunks: new Array(Number(chunks)).fill(undefined),
      counts: new Array(Number(chunks)).fill(0),
    };
    out[i]!.counts[c] = Number(files);
    if (want(i, c)) needed.push({ position: i, chunk: c });
  }
  for (const { position, chunk } of needed) out[position]!.chunks[chunk] = [];
  if (needed.length > 0) {
    // Integers only, so they can be inlined: position and chunk as one number (chunks < 1000).
    const ids = needed.map((n) => n.position * 1000 + n.chunk).join(', ');
    const lists = await con.runAndReadAll(
      `SELECT position, chunk, paths FROM metric_branches WHERE paths <> '' AND position * 1000 + chunk IN (${ids})`,
    );
    for (const [position, chunk, paths] of lists.getRowsJS())
      out[Number(position)]!.chunks[Number(chunk)] = String(paths).split(',');
  }
  return out.filter(Boolean);
}

/**
 * Brings the `metrics` view up to date. Its file lists live in `metric_branches` and in one macro per
 * chunk of each branch (see metricsViewSql). When no branch appears or empties, only the chunks holding
 * the specimens whose files came or went are rewritten; otherwise the view is created again, against
 * one-file lists so that creating it reads one footer per branch, not all.
 */
export async function updateMetricsView(
  con: DuckDBConnection,
  loader: RowLoader,
  full: boolean,
  files: MetricsFiles,
  /** Called with the view's branches before the view is created or its lists change. */
  prepare: (branches: Omit<MetricBranch, 'paths'>[]) => Promise<void>,
): Promise<void> {
  if (!full) {
    const headers = await readBranches(con, () => false);
    const byKey = new Map(headers.map((h, i) => [branchKey(h.branch), i]));
    const shapeKept = [...files.added.keys()].every((k) => byKey.has(k));
    if (shapeKept) {
      // The chunks that hold a specimen whose files came or went.
      const touched = new Set<string>();
      for (const [key, { paths }] of files.added) {
        const i = byKey.get(key)!;
        for (const p of paths) touched.add(`${i}/${chunkOf(specimenOfPath(p), headers[i]!.chunks.length)}`);
      }
      for (const p of files.dropped) {
        for (const [i, h] of headers.entries())
          touched.add(`${i}/${chunkOf(specimenOfPath(p), h.chunks.length)}`);
      }
      const branches = await readBranches(con, (i, c) => touched.has(`${i}/${c}`));
      for (const b of branches)
        for (let c = 0; c < b.chunks.length; c++) {
          const list = b.chunks[c];
          if (list) b.chunks[c] = list.filter((p) => !files.dropped.has(p));
        }
      for (const [key, { paths }] of files.added) {
        const b = branches[byKey.get(key)!]!;
        for (const p of paths) b.chunks[chunkOf(specimenOfPath(p), b.chunks.length)]!.push(p);
      }
      const emptied = branches.some((b) =>
        b.chunks.every((list, c) => (list ? list.length : b.counts[c]!) === 0),
      );
      if (!emptied) {
        await prepare(branches.map((b) => b.branch));
        const rows: object[] = [];
        for (const [i, b] of branches.entries()) {
          for (const [c, list] of b.chunks.entries()) {
            if (!list) continue;
            await con.run(branchFilesMacroSql(i, c, list));
            rows.push(branchRow(i, c, b, list));
          }
        }
        const keys = loader.source(
          [
            ['position', 'INTEGER'],
            ['chunk', 'INTEGER'],
          ],
          rows,
        );
        await con.run(
          `DELETE FROM metric_branches m WHERE EXISTS (SELECT 1 FROM ${keys} k WHERE k.position = m.position AND k.chunk = m.chunk)`,
        );
        await con.run(`INSERT INTO metric_branches SELECT * FROM ${loader.source(BRANCH_SPEC, rows)}`);
        return;
      }
    }
  }
  // Rebuild: every list, from what was stored (all chunks) and what came or went in this index.
  const old = full ? [] : await readBranches(con, () => true);
  const all = new Map<string, { branch: Omit<MetricBranch, 'paths'>; paths: string[] }>();
  for (const b of old) {
    const paths = b.chunks.flatMap((list) => list ?? []).filter((p) => !files.dropped.has(p));
    all.set(branchKey(b.branch), { branch: b.branch, paths });
  }
  for (const [key, { branch, paths }] of files.added) {
    const entry = all.get(key);
    if (entry) entry.paths.push(...paths);
    else all.set(key, { branch, paths: [...paths] });
  }
  const next = [...all.entries()]
    .filter(([, b]) => b.paths.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, b]) => {
      const chunks: string[][] = Array.from({ length: chunkCount(b.paths.length) }, () => []);
      for (const p of b.paths) chunks[chunkOf(specimenOfPath(p), chunks.length)]!.push(p);
      return { branch: b.branch, chunks, counts: chunks.map((c) => c.length) };
    });
  const statements: string[] = [];
  for (const [i, b] of old.entries())
    for (let c = 0; c < b.chunks.length; c++)
      statements.push(`DROP MACRO IF EXISTS ${branchFilesMacro(i, c)};`);
  // Created against one file per branch: binding the view opens only that file.
  for (const [i, b] of next.entries()) {
    const first = b.chunks.find((list) => list.length > 0)!.slice(0, 1);
    for (let c = 0; c < b.chunks.length; c++)
      statements.push(branchFilesMacroSql(i, c, c === 0 ? first : []));
  }
  statements.push(
    metricsViewSql(
      next.map((b) => b.branch),
      next.map((b) => b.chunks.length),
    ),
  );
  for (const [i, b] of next.entries())
    for (const [c, list] of b.chunks.entries()) statements.push(branchFilesMacroSql(i, c, list));
  await prepare(next.map((b) => b.branch));
  for (const sql of statements) await con.run(sql);
  await con.run('DELETE FROM metric_branches');
  const rows = next.flatMap((b, i) => b.chunks.map((list, c) => branchRow(i, c, b, list)));
  if (rows.length > 0)
    await con.run(`INSERT INTO metric_branches SELECT * FROM ${loader.source(BRANCH_SPEC, rows)}`);
}

function branchRow(
  position: number,
  chunk: number,
  b: { branch: Omit<MetricBranch, 'paths'>; chunks: unknown[] },
  list: string[],
): object {
  return {
    position,
    chunk,
    chunks: b.chunks.length,
    metric: b.branch.metric,
    type: b.branch.type,
    layout: b.branch.layout,
    step_type: b.branch.stepType,
    has_run_id: b.branch.hasRunId,
    files: list.length,
    paths: list.join(','),
  };
}
