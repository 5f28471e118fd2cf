/**
 * The rows of changed specimens in a full rebuild or file rewrite: gathered batch by batch into scratch
 * NDJSON files (see loader.ts) and written at the end, after the old rows of those specimens, and of
 * specimens that are gone, are deleted from `sv_base`.
 *
 * @example
 * const sinks = new Sinks(`${build}.rows`)
 * const views = sinks.collect(changedWork)     // per batch; returns the `exp_` view statements
 * await sinks.deleteChanged(con, loader)       // incremental rewrite only
 * await sinks.insert(con, loader)
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { quoteIdent } from '../../duckdb/node-api.js';
import type { SpecimenState, SpecimenWork } from '../scan.js';
import {
  ARTIFACT_COLUMNS,
  BASE_SCHEMA,
  CATALOG_COLUMNS,
  type ColumnSpec,
  expSources,
  expViewName,
  expViewSql,
  RUN_COLUMNS,
  SUMMARY_COLUMNS,
  TURN_COLUMNS,
} from '../schema.js';
import { type RowLoader, RowSink } from './loader.js';

/** Deletes everything of specimens that are gone. */
export async function dropRemoved(
  con: DuckDBConnection,
  loader: RowLoader,
  removed: [string, SpecimenState][],
): Promise<void> {
  const src = loader.source(
    [['specimen_id', 'VARCHAR']],
    removed.map(([specimen_id]) => ({ specimen_id })),
  );
  await con.run(`CREATE OR REPLACE TEMP TABLE gone AS SELECT * FROM ${src}`);
  for (const table of [
    'sv_base.catalog',
    'sv_base.runs',
    'sv_base.artifacts',
    'sv_base.metric_summaries',
    'sv_base.turns',
  ])
    await con.run(`DELETE FROM ${table} WHERE specimen_id IN (SELECT specimen_id FROM gone)`);
  const drops = removed
    .filter(([, s]) => s.indexed)
    .map(([id]) => `DROP VIEW IF EXISTS ${quoteIdent(expViewName(id))};`);
  if (drops.length > 0) await con.run(drops.join('\n'));
}

/** The rows of changed specimens, gathered batch by batch and written at the end. */
export class Sinks {
  private readonly catalog: RowSink;
  private readonly runs: RowSink;
  private readonly artifacts: RowSink;
  private readonly summaries: RowSink;
  private readonly turns: RowSink;
  private readonly changedIds: { specimen_id: string }[] = [];
  private readonly droppedRuns: { specimen_id: string; run_id: string }[] = [];
  private readonly kept: {
    specimen_id: string;
    run_id: string;
    is_latest: boolean;
    superseded_by: string | null;
  }[] = [];

  constructor(dir: string) {
    this.catalog = new RowSink(dir, 'catalog', CATALOG_COLUMNS, BASE_SCHEMA);
    this.runs = new RowSink(dir, 'runs', RUN_COLUMNS, BASE_SCHEMA);
    this.artifacts = new RowSink(dir, 'artifacts', ARTIFACT_COLUMNS, BASE_SCHEMA);
    this.summaries = new RowSink(dir, 'metric_summaries', SUMMARY_COLUMNS, BASE_SCHEMA);
    this.turns = new RowSink(dir, 'turns', TURN_COLUMNS, BASE_SCHEMA);
  }

  /** Number of changed specimens collected. */
  get changed(): number {
    return this.changedIds.length;
  }

  /** Appends the rows of changed specimens; returns their view statements. */
  collect(changed: SpecimenWork[]): string[] {
    const catalogRows: object[] = [];
    const runRows: object[] = [];
    const artifactRows: object[] = [];
    const summaryRows: object[] = [];
    const turnRows: object[] = [];
    const views: string[] = [];
    for (const w of changed) {
      this.changedIds.push({ specimen_id: w.specimenId });
      for (const run_id of w.dropRuns) this.droppedRuns.push({ specimen_id: w.specimenId, run_id });
      this.kept.push(...w.keptRuns);
      if (w.catalog) catalogRows.push(w.catalog);
      for (const r of w.reads) {
        runRows.push(r.run);
        artifactRows.push(...r.artifacts);
        summaryRows.push(...r.summaries);
        turnRows.push(...r.turns);
      }
      if (w.viewClash) continue;
      if (w.order) {
        views.push(expViewSql(w.specimenId, expSources(w.state.runs)));
      } else if (w.wasIndexed) views.push(`DROP VIEW IF EXISTS ${quoteIdent(expViewName(w.specimenId))};`);
    }
    this.catalog.append(catalogRows);
    this.runs.append(runRows);
    this.artifacts.append(artifactRows);
    this.summaries.append(summaryRows);
    this.turns.append(turnRows);
    return views;
  }

  /** Deletes the old rows of changed specimens and of their changed or removed runs (incremental index). */
  async deleteChanged(con: DuckDBConnection, loader: RowLoader): Promise<void> {
    if (this.changedIds.length === 0) return;
    const ids = loader.source([['specimen_id', 'VARCHAR']], this.changedIds);
    await con.run(`CREATE OR REPLACE TEMP TABLE changed AS SELECT * FROM ${ids}`);
    await con.run('DELETE FROM sv_base.catalog WHERE specimen_id IN (SELECT specimen_id FROM changed)');
    if (this.droppedRuns.length === 0) return;
    const spec: ColumnSpec = [
      ['specimen_id', 'VARCHAR'],
      ['run_id', 'VARCHAR'],
    ];
    await con.run(
      `CREATE OR REPLACE TEMP TABLE dropped AS SELECT * FROM ${loader.source(spec, this.droppedRuns)}`,
    );
    for (const table of ['runs', 'artifacts', 'metric_summaries', 'turns'])
      await con.run(
        `DELETE FROM ${BASE_SCHEMA}.${table} t WHERE EXISTS (SELECT 1 FROM dropped d ` +
          'WHERE d.specimen_id = t.specimen_id AND d.run_id = t.run_id)',
      );
  }

  /** Inserts every row collected, then sets is_latest and superseded_by of the runs carried over. */
  async insert(con: DuckDBConnection, loader: RowLoader): Promise<void> {
    for (const sink of [this.catalog, this.runs, this.artifacts, this.summaries, this.turns])
      await sink.insert(con);
    if (this.kept.length === 0) return;
    const spec: ColumnSpec = [
      ['specimen_id', 'VARCHAR'],
      ['run_id', 'VARCHAR'],
      ['is_latest', 'BOOLEAN'],
      ['superseded_by', 'VARCHAR'],
    ];
    await con.run(
      `UPDATE ${BASE_SCHEMA}.runs SET is_latest = k.is_latest, superseded_by = k.superseded_by FROM ${loader.source(spec, this.kept)} k ` +
        'WHERE runs.specimen_id = k.specimen_id AND runs.run_id = k.run_id',
    );
  }
}
