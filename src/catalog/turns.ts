/**
 * The turns of runs' metrics (src/analysis/turns.ts) as catalog rows: read the step and metric columns of a
 * run's metrics file, detect the turn of each, and keep the result so no later index computes it again.
 *
 * Sealed runs never change, so a turn is computed once per run and metric. The results are kept per
 * specimen in `vault.duckdb.d/turns/<specimen_id>.json` (`{ run_id: { sig, method, turns: { metric: turn
 * or null } } }`), beside the catalog state and never inside a run, which is sealed. An entry is used only
 * when the run's signature and the method match, so a re-sealed run or a new method computes afresh.
 * Unsealed runs get no rows: their metrics are still growing.
 *
 * @example
 * const cache = new TurnCache(root)
 * await fillTurns(con, root, reads, ['test_loss', 'test_acc'], cache)   // sets reads[i].turns
 * cache.save()
 */

import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { detectTurn, TURN_METHOD, type Turn } from '../analysis/turns.js';
import { openMemory, quoteIdent, quoteLiteral } from '../duckdb/node-api.js';
import { NotFoundError } from '../errors.js';
import { assertSpecimenId } from '../format/ids.js';
import { CATALOG_DIR, SPECIMENS_DIR } from '../format/layout.js';
import { listRunDirs } from '../storage/describe.js';
import { isNumericType, NON_METRIC_COLUMNS } from '../storage/metrics/summary.js';
import { type RunRead, readRun, type TurnRow } from './read-vault.js';
import { listSpecimenDirs } from './scan.js';

/** Folder of `vault.duckdb.d/` holding the kept turns; survives every rewrite of the catalog. */
export const TURNS_CACHE_DIR = 'turns';

/** A turn as kept: the fields of `Turn` without the method, which the entry records once. */
type KeptTurn = Omit<Turn, 'method'> | null;

interface KeptRun {
  sig: string;
  method: string;
  turns: Record<string, KeptTurn>;
}

/** The kept turns of a vault, loaded per specimen on first use and written back by `save`. */
export class TurnCache {
  private readonly dir: string;
  private readonly loaded = new Map<string, Record<string, KeptRun>>();
  private readonly dirty = new Set<string>();
  /** Turns computed (not found in the cache) since this cache was opened. */
  computed = 0;

  constructor(root: string) {
    this.dir = path.join(root, CATALOG_DIR, TURNS_CACHE_DIR);
  }

  private specimen(id: string): Record<string, KeptRun> {
    let entry = this.loaded.get(id);
    if (!entry) {
      try {
        entry = JSON.parse(fs.readFileSync(path.join(this.dir, `${id}.json`), 'utf8')) as Record<
          string,
          KeptRun
        >;
      } catch {
        // Absent or unreadable: computed again, which is only slower.
        entry = {};
      }
      this.loaded.set(id, entry);
    }
    return entry;
  }

  /** The kept turn of a run's metric: undefined when not kept, null when kept as "no turn". */
  get(specimenId: string, runId: string, sig: string, metric: string): KeptTurn | undefined {
    const run = this.specimen(specimenId)[runId];
    if (!run || run.sig !== sig || run.method !== TURN_METHOD) return undefined;
    return run.turns[metric];
  }

  set(specimenId: string, runId: string, sig: string, metric: string, turn: KeptTurn): void {
    const runs = this.specimen(specimenId);
    let run = runs[runId];
    if (!run || run.sig !== sig || run.method !== TURN_METHOD) {
      run = { sig, method: TURN_METHOD, turns: {} };
      runs[runId] = run;
    }
    run.turns[metric] = turn;
    this.dirty.add(specimenId);
  }

  /** Writes the specimens that changed (temporary file, then rename: a reader sees old or new). */
  save(): void {
    if (this.dirty.size === 0) return;
    fs.mkdirSync(this.dir, { recursive: true });
    for (const id of this.dirty) {
      const file = path.join(this.dir, `${id}.json`);
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.loaded.get(id) ?? {}));
      fs.renameSync(tmp, file);
    }
    this.dirty.clear();
  }
}

/** Steps and values of `metrics` in a metrics file, ordered by step; metrics the file lacks are left out. */
export async function readSeries(
  con: DuckDBConnection,
  file: string,
  metrics: readonly string[],
  columns: readonly string[],
): Promise<{ steps: number[]; values: Map<string, (number | null)[]> }> {
  const present = metrics.filter((m) => columns.includes(m) && m !== 'step');
  if (present.length === 0 || !columns.includes('step')) return { steps: [], values: new Map() };
  const cols = present.map((m, i) => `CAST(${quoteIdent(m)} AS DOUBLE) AS ${quoteIdent(`v${i}`)}`);
  // The file path is a literal: read_parquet takes no bound parameter for its file list.
  const reader = await con.runAndReadAll(
    `SELECT CAST(step AS DOUBLE) AS step, ${cols.join(', ')} FROM read_parquet(${quoteLiteral(file)}) ` +
      'WHERE step IS NOT NULL ORDER BY step',
  );
  const data = reader.getColumnsJS() as (number | null)[][];
  const steps = (data[0] ?? []).map((s) => Number(s));
  const values = new Map(present.map((m, i) => [m, data[i + 1] ?? []]));
  return { steps, values };
}

/** The turn of each of `metrics` in one metrics file (undefined: none found; absent key: no such column). */
export async function turnsOfFile(
  con: DuckDBConnection,
  file: string,
  metrics: readonly string[],
  columns: readonly string[],
): Promise<Map<string, Turn | undefined>> {
  const { steps, values } = await readSeries(con, file, metrics, columns);
  const out = new Map<string, Turn | undefined>();
  for (const [metric, v] of values) out.set(metric, detectTurn(steps, v, { metric }));
  return out;
}

function rowOf(specimenId: string, runId: string, metric: string, t: KeptTurn): TurnRow {
  return {
    specimen_id: specimenId,
    run_id: runId,
    metric,
    step: t?.step ?? null,
    onset_step: t?.onsetStep ?? null,
    end_step: t?.endStep ?? null,
    direction: t?.direction ?? null,
    score: t?.score ?? null,
    method: TURN_METHOD,
  };
}

/**
 * Sets `turns` of every sealed run in `reads` that has a metrics file with some of `metrics`, from the cache
 * where it can and by reading the file otherwise. A file that cannot be read is reported through `warn`.
 */
export async function fillTurns(
  con: DuckDBConnection,
  root: string,
  reads: readonly RunRead[],
  metrics: readonly string[],
  cache: TurnCache,
  warn: (m: string) => void,
): Promise<void> {
  if (metrics.length === 0) return;
  for (const r of reads) {
    if (!r.state.sealed || !r.metricsFile) continue;
    const columns = r.artifacts.find((a) => a.kind === 'metrics')?.columns ?? [];
    const wanted = metrics.filter((m) => columns.includes(m));
    if (wanted.length === 0) continue;
    const { specimen_id: sid, run_id: rid } = r.run;
    const missing = wanted.filter((m) => cache.get(sid, rid, r.state.sig, m) === undefined);
    if (missing.length > 0) {
      try {
        const found = await turnsOfFile(con, path.join(root, r.metricsFile), missing, columns);
        for (const m of missing) {
          const t = found.get(m);
          cache.set(sid, rid, r.state.sig, m, t ? keep(t) : null);
          cache.computed++;
        }
      } catch (err) {
        warn(`run ${sid}/${rid}: cannot read ${r.metricsFile} for turns: ${(err as Error).message}`);
        continue;
      }
    }
    r.turns = wanted.map((m) => rowOf(sid, rid, m, cache.get(sid, rid, r.state.sig, m) ?? null));
  }
}

function keep(t: Turn): Omit<Turn, 'method'> {
  const { method: _method, ...rest } = t;
  return rest;
}

/** One run's turns, as `specimen turns` reports them. */
export interface RunTurns {
  specimenId: string;
  runId: string;
  /** Per requested metric the run has: its turn, or null when it has none. */
  turns: Record<string, Turn | null>;
}

/**
 * The turns of every sealed run of `specimenIds` (default: every specimen) for `metrics` (default: every
 * numeric metric of each run), in run order. Uses and fills the same kept results as the indexer.
 */
export async function findTurns(
  root: string,
  options: { specimenIds?: readonly string[]; metrics?: readonly string[] } = {},
): Promise<RunTurns[]> {
  const ids = options.specimenIds?.length ? [...options.specimenIds] : listSpecimenDirs(root, () => {});
  const cache = new TurnCache(root);
  const out: RunTurns[] = [];
  const db = await openMemory();
  try {
    for (const id of ids) {
      assertSpecimenId(id);
      const dir = path.join(root, SPECIMENS_DIR, id);
      if (!fs.existsSync(dir)) throw new NotFoundError('specimen', id);
      const reads = listRunDirs(dir).map((rd) => readRun(id, rd));
      for (const r of reads) {
        const m = r.artifacts.find((a) => a.kind === 'metrics');
        const numeric = (m?.columns ?? []).filter(
          (c, i) => !NON_METRIC_COLUMNS.has(c) && isNumericType(m?.column_types?.[i] ?? ''),
        );
        await fillTurns(db.connection, root, [r], options.metrics ?? numeric, cache, () => {});
        if (r.turns.length === 0) continue;
        const turns: Record<string, Turn | null> = {};
        for (const t of r.turns)
          turns[t.metric] =
            t.step === null
              ? null
              : {
                  step: t.step,
                  onsetStep: t.onset_step!,
                  endStep: t.end_step!,
                  score: t.score!,
                  direction: t.direction as Turn['direction'],
                  method: TURN_METHOD,
                };
        out.push({ specimenId: id, runId: r.run.run_id, turns });
      }
    }
  } finally {
    db.close();
  }
  cache.save();
  return out;
}
