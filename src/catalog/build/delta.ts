/**
 * Updating the catalog without rewriting `vault.duckdb`.
 *
 * DuckDB loads and saves every catalog entry of a database file on each open and checkpoint: with one
 * `exp_` view per specimen, that alone is ~0.3 s for 10,000 specimens, whatever changed. So the common
 * update (runs added to existing specimens) does not touch the file. Beside it, `vault.duckdb.d/` holds:
 *
 * - `state.json`: what the catalog file holds (signature and runs of every specimen, the `metrics` view's
 *   branches), tied to that file by its inode, size and mtime; the generation `<gen>` it was written with.
 *   A header line, then one line per specimen with its stamps first (CATALOG_STATE_FORMAT).
 * - `<gen>/delta` → `delta-<n>/`: the rows of every specimen that changed since the file was written
 *   (`catalog.parquet`, `runs.parquet`, `artifacts.parquet`, `metric_summaries.parquet`, `turns.parquet`), the list of those
 *   specimens (`changed.parquet`), and per `metrics` view branch a tree of links to the metrics files added
 *   since (`m-<hash>/<id>/runs/<run>/metrics.parquet`, plus an empty file of the branch's columns so the
 *   pattern always matches). The views `catalog`, `runs`, `artifacts` and `metric_summaries` read
 *   `sv_base` minus the changed specimens plus the delta; each branch of `metrics` reads its file lists plus
 *   its links; `exp_` views read `runs/<any run>/metrics.parquet` of their specimen.
 *
 * An update compares every specimen with `state.json`, re-reads those that differ, writes a new delta
 * directory and switches the `delta` link to it with one rename: a reader sees the old delta or the new one,
 * never half of one. It falls back to rewriting the file (index-vault.ts) when the catalog file is not the
 * one `state.json` describes, when a specimen appeared, disappeared or became (un)indexable, when a run that
 * had metrics in the file changed or went, when a file brings a `metrics` branch or `exp_` view shape the
 * file does not have, or when more than `MAX_DELTA_SPECIMENS` specimens differ (the rewrite folds the delta
 * into the file). Every rewrite starts a new generation, so a reader still holding the previous file keeps
 * reading the delta that goes with it.
 *
 * @example
 * const report = await updateThroughDelta(root, target, options, t0, { turnMetrics, turnCache })   // undefined: rewrite
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { openMemory, quoteIdent, quoteLiteral } from '../../duckdb/node-api.js';
import {
  CATALOG_DIR,
  CATALOG_STATE_FILE,
  fileStamp,
  LEGACY_RUN_ID,
  METRICS_FILE,
  REMOTE_INDEX_DIR,
  RUNS_DIR,
  SPECIMENS_DIR,
} from '../../format/layout.js';
import type { RunRead } from '../read-vault.js';
import { specimenSignature } from '../read-vault.js';
import {
  clashingIds,
  completeFromFile,
  listSpecimenDirs,
  needsFiles,
  runsUnchanged,
  type SpecimenRecord,
  SpecimenState,
  type SpecimenWork,
  scanSpecimen,
} from '../scan.js';
import {
  branchesOfFile,
  branchKey,
  CATALOG_SCHEMA_VERSION,
  DELTA_TABLES,
  deltaBranchDir,
  expSources,
  expSourcesKey,
  type MetricBranch,
  SUMMARY_COLUMNS,
} from '../schema.js';
import { fillTurns, TURNS_CACHE_DIR, type TurnCache } from '../turns.js';
import { copyToParquetSql, RowLoader } from './loader.js';
import type { IndexOptions, IndexReport } from './report.js';

/** Beyond this many changed specimens, an index rewrites the catalog file and starts an empty delta. */
export const MAX_DELTA_SPECIMENS = 64;

const STATE_FILE = CATALOG_STATE_FILE;
const DELTA_LINK = 'delta';
const DELTA_MANIFEST = 'delta.json';
const SENTINELS = 'sentinels';

type Branch = Omit<MetricBranch, 'paths'>;

/** `state.json`: what the catalog file holds. */
export interface CatalogState {
  schema: number;
  /** Generation directory the file's views read their delta from. */
  gen: string;
  /** `ino:size:mtimeMs` of the catalog file described. */
  file: string;
  /** Branches of the file's `metrics` view. */
  branches: Branch[];
  /** The vault config's turn metrics the catalog was built with (absent: none). */
  turnMetrics?: string[];
  specimens: Record<string, SpecimenRecord>;
}

/** `delta.json` of a delta directory: the state of the specimens it holds rows for. */
interface DeltaManifest {
  specimens: Record<string, SpecimenRecord>;
  /** The links made for each specimen: run, vault-relative file, branch keys. */
  links: Record<string, { runId: string; file: string; branches: string[] }[]>;
}

export function catalogDir(root: string): string {
  return path.join(root, CATALOG_DIR);
}

/** `state.json`: what the last index recorded (its stamp moves with every index that changed something). */
export function catalogStatePath(root: string): string {
  return path.join(catalogDir(root), STATE_FILE);
}

/** A fresh generation name. */
export function newGeneration(): string {
  return `g${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Layout of `state.json`. Format 2: a JSON header line (everything but the specimens, with `format`),
 * then one line per specimen, `id␉signature␉indexed␉unsealed␉run count␉warning␉runs JSON` (warning as JSON or
 * empty). The stamps an incremental index compares come first and the run details stay unparsed text, so
 * loading the state of 100,000 runs is one file read and a split, not a parse of every run. An older state
 * file (format 1 was one JSON object) reads as absent: the next index rewrites the catalog.
 */
export const CATALOG_STATE_FORMAT = 2;

/** Reads `state.json`; undefined when absent, of another format or not of this schema. */
export function readCatalogState(root: string): CatalogState | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(catalogDir(root), STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return parseCatalogState(text);
}

function parseCatalogState(text: string): CatalogState | undefined {
  let end = text.indexOf('\n');
  // Format 1 has no line break: no header line of this format to find.
  if (end < 0) return undefined;
  let header: Omit<CatalogState, 'specimens'> & { format?: number };
  try {
    header = JSON.parse(text.slice(0, end)) as typeof header;
  } catch {
    return undefined;
  }
  if (header.format !== CATALOG_STATE_FORMAT || header.schema !== CATALOG_SCHEMA_VERSION) return undefined;
  const specimens: Record<string, SpecimenRecord> = {};
  let start = end + 1;
  while (start < text.length) {
    end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const f = text.slice(start, end).split('\t');
    start = end + 1;
    // A torn or foreign line: the state cannot be trusted, so the index starts afresh.
    if (f.length !== 7) return undefined;
    const [id, signature, indexed, unsealed, count, warning, runs] = f as [string, ...string[]];
    let warningText: string | null = null;
    if (warning !== '') {
      try {
        warningText = JSON.parse(warning!) as string;
      } catch {
        return undefined;
      }
    }
    specimens[id] = [
      signature!,
      indexed === '1' ? 1 : 0,
      warningText,
      runs!,
      unsealed === '1' ? 1 : 0,
      Number(count),
    ];
  }
  const { format: _format, ...rest } = header;
  return { ...rest, specimens };
}

/** The specimen lines of `state.json` (see CATALOG_STATE_FORMAT). */
export function serializeSpecimenRecords(specimens: Record<string, SpecimenRecord>): string {
  const lines: string[] = [];
  for (const [id, r] of Object.entries(specimens)) {
    // Signatures are stamps and IDs validated names; JSON text escapes tabs and line breaks.
    lines.push(
      `${id}\t${r[0]}\t${r[1]}\t${r[4]}\t${r[5]}\t${r[2] === null ? '' : JSON.stringify(r[2])}\t${r[3]}`,
    );
  }
  return lines.join('\n');
}

/**
 * Writes `state.json` (temporary file, then rename); `specimensText` is `state.specimens` already
 * serialized by serializeSpecimenRecords.
 */
export function writeCatalogState(root: string, state: CatalogState, specimensText?: string): void {
  const file = path.join(catalogDir(root), STATE_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const { specimens, ...rest } = state;
  const header = JSON.stringify({ ...rest, format: CATALOG_STATE_FORMAT });
  fs.writeFileSync(tmp, `${header}\n${specimensText ?? serializeSpecimenRecords(specimens)}`);
  fs.renameSync(tmp, file);
}

/** Removes generation directories other than `keep`, and state files of indexers that died. */
export function removeOldGenerations(root: string, keep: readonly string[]): void {
  const dir = catalogDir(root);
  for (const name of fs.readdirSync(dir)) {
    if (name === STATE_FILE || name === TURNS_CACHE_DIR || name === REMOTE_INDEX_DIR || keep.includes(name))
      continue;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/** Makes `link` a relative symbolic link to `target`, or a copy where links cannot be made. */
function linkTo(target: string, link: string): void {
  try {
    fs.symlinkSync(path.relative(path.dirname(link), target), link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    fs.copyFileSync(target, link);
  }
}

/** Where a branch's links go: `<delta>/<branch dir>/<id>/runs/<run>/metrics.parquet` (or `…/<id>/strata/…`). */
function branchLinkPath(delta: string, b: Branch, specimenId: string, runId: string): string {
  const base = path.join(delta, deltaBranchDir(b), specimenId);
  return b.layout === 'runs'
    ? path.join(base, RUNS_DIR, runId, METRICS_FILE)
    : path.join(base, LEGACY_RUN_ID, METRICS_FILE);
}

/** An empty Parquet file with a branch's columns, so that its pattern matches even with no file linked. */
function sentinelSql(b: Branch, file: string): string {
  const cols: string[] = [];
  if (b.stepType) cols.push(`CAST(NULL AS ${b.stepType}) AS step`);
  cols.push(`CAST(NULL AS ${b.type}) AS ${JSON.stringify(b.metric)}`);
  if (b.hasRunId) cols.push('CAST(NULL AS VARCHAR) AS run_id');
  return `COPY (SELECT ${cols.join(', ')} WHERE false) TO ${quoteLiteral(file)} (FORMAT parquet);`;
}

/** What a delta directory holds. */
export interface DeltaContent {
  /** Specimens whose rows in `sv_base` the delta replaces. */
  changed: string[];
  catalog: object[];
  runs: object[];
  artifacts: object[];
  summaries: object[];
  turns: object[];
  /** Metrics files added since the catalog file was written, with the branches they belong to. */
  links: { specimenId: string; runId: string; file: string; branches: Branch[] }[];
  /** Specimens whose rows are copied from the previous delta directory (unchanged since it was written). */
  carried: string[];
  manifest: DeltaManifest;
}

export function emptyDelta(): DeltaContent {
  return {
    changed: [],
    catalog: [],
    runs: [],
    artifacts: [],
    summaries: [],
    turns: [],
    links: [],
    carried: [],
    manifest: { specimens: {}, links: {} },
  };
}

/**
 * Writes generation `gen`'s sentinels for `branches` (once per generation) and a new delta directory with
 * `content`, then points `<gen>/delta` at it. Returns the directory's name.
 */
export async function writeDelta(
  con: DuckDBConnection,
  root: string,
  gen: string,
  branches: readonly Branch[],
  content: DeltaContent,
): Promise<string> {
  const genDir = path.join(catalogDir(root), gen);
  const sentinels = path.join(genDir, SENTINELS);
  fs.mkdirSync(sentinels, { recursive: true });
  const link = path.join(genDir, DELTA_LINK);
  const current = currentDeltaName(genDir);
  const next = `delta-${current === undefined ? 0 : Number(current.slice('delta-'.length)) + 1}`;
  const dir = path.join(genDir, next);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir);
  const loader = new RowLoader(`${dir}.rows`);
  try {
    const statements: string[] = [];
    for (const b of branches) {
      const sentinel = path.join(sentinels, `${deltaBranchDir(b)}.parquet`);
      if (!fs.existsSync(sentinel)) statements.push(sentinelSql(b, sentinel));
    }
    const rows = [content.catalog, content.runs, content.artifacts, content.summaries, content.turns];
    const carried = content.carried.map(quoteLiteral).join(', ');
    for (const [i, { name, columns }] of DELTA_TABLES.entries()) {
      const out = path.join(dir, `${name}.parquet`);
      const fresh = loader.sourceOrEmpty(columns, rows[i]!);
      if (content.carried.length === 0 || current === undefined) {
        statements.push(copyToParquetSql(fresh, columns, out));
        continue;
      }
      const names = columns.map(([n]) => quoteIdent(n)).join(', ');
      const old = `SELECT ${names} FROM read_parquet(${quoteLiteral(path.join(genDir, current, `${name}.parquet`))}) WHERE specimen_id IN (${carried})`;
      statements.push(
        `COPY (${fresh ? `SELECT ${names} FROM ${fresh} UNION ALL ` : ''}${old}) TO ${quoteLiteral(out)} (FORMAT parquet);`,
      );
    }
    const changedSpec = [SUMMARY_COLUMNS[0]!];
    statements.push(
      copyToParquetSql(
        loader.sourceOrEmpty(
          changedSpec,
          content.changed.map((specimen_id) => ({ specimen_id })),
        ),
        changedSpec,
        path.join(dir, 'changed.parquet'),
      ),
    );
    await con.run(statements.join('\n'));
  } finally {
    fs.rmSync(`${dir}.rows`, { recursive: true, force: true });
  }
  for (const b of branches) {
    const target = branchLinkPath(dir, b, '_', '_');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    linkTo(path.join(sentinels, `${deltaBranchDir(b)}.parquet`), target);
  }
  for (const l of content.links) {
    for (const b of l.branches) {
      const target = branchLinkPath(dir, b, l.specimenId, l.runId);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      linkTo(path.join(root, l.file), target);
    }
    const made = content.manifest.links[l.specimenId] ?? [];
    made.push({ runId: l.runId, file: l.file, branches: l.branches.map(branchKey) });
    content.manifest.links[l.specimenId] = made;
  }
  fs.writeFileSync(path.join(dir, DELTA_MANIFEST), JSON.stringify(content.manifest));
  // Switch with one rename; where links cannot be made the delta directory is renamed into place instead.
  const tmp = `${link}.${process.pid}.tmp`;
  fs.rmSync(tmp, { force: true });
  try {
    fs.symlinkSync(next, tmp);
    fs.renameSync(tmp, link);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM' || current !== undefined) throw err;
    fs.renameSync(dir, link);
    return DELTA_LINK;
  }
  // The previous delta stays for readers between binding and reading; older ones go.
  for (const name of fs.readdirSync(genDir)) {
    const stale =
      (name.startsWith('delta-') && name !== next && name !== current) ||
      (name.startsWith(`${DELTA_LINK}.`) && name.endsWith('.tmp'));
    if (stale) fs.rmSync(path.join(genDir, name), { recursive: true, force: true });
  }
  return next;
}

/** Name of the delta directory `<gen>/delta` points at, if it is a link. */
function currentDeltaName(genDir: string): string | undefined {
  try {
    return fs.readlinkSync(path.join(genDir, DELTA_LINK));
  } catch {
    return undefined;
  }
}

function readDeltaManifest(genDir: string): DeltaManifest | undefined {
  try {
    const m = JSON.parse(
      fs.readFileSync(path.join(genDir, DELTA_LINK, DELTA_MANIFEST), 'utf8'),
    ) as Partial<DeltaManifest>;
    return m.specimens && m.links ? (m as DeltaManifest) : undefined;
  } catch {
    return undefined;
  }
}

/** The name of the delta generation `gen` reads now (moves with every update through the delta). */
export function currentDelta(root: string, gen: string): string | undefined {
  return currentDeltaName(path.join(catalogDir(root), gen));
}

/** The specimen records of generation `gen`'s current delta (those override `state.json`'s). */
export function deltaSpecimenRecords(root: string, gen: string): Record<string, SpecimenRecord> {
  return readDeltaManifest(path.join(catalogDir(root), gen))?.specimens ?? {};
}

/** Why an update cannot go through the delta: the caller rewrites the catalog file. */
class NeedsRewrite extends Error {}

/**
 * Brings the catalog up to date through the delta directory when it can (see the module comment);
 * returns undefined when the catalog file must be rewritten instead. Called with the indexer's lock held.
 */
export async function updateThroughDelta(
  root: string,
  target: string,
  options: IndexOptions,
  t0: number,
  turns: { turnMetrics: readonly string[]; turnCache: TurnCache; state?: CatalogState | undefined },
): Promise<IndexReport | undefined> {
  const state = turns.state ?? readCatalogState(root);
  if (!state || fileStamp(target) !== state.file) return undefined;
  const genDir = path.join(catalogDir(root), state.gen);
  const current = currentDeltaName(genDir);
  const previousDelta = current === undefined ? undefined : readDeltaManifest(genDir);
  if (!previousDelta) return undefined;
  // Deltas older than the current one were kept for readers that bound them before the last switch; they
  // go on the thread pool while this thread compares the specimens (removing a delta's link tree is a few
  // dozen file-system calls, as long as the comparison itself on a loaded disk).
  const clearing = removeOlderDeltas(genDir, current!);
  try {
    return await compareAndUpdate(root, target, options, t0, turns, state, previousDelta);
  } finally {
    await clearing;
  }
}

/**
 * Removes `delta-<k>` for k below the current delta's number; a failure is left to the sweep after the
 * next switch (writeDelta), which reports it.
 */
async function removeOlderDeltas(genDir: string, current: string): Promise<void> {
  const n = Number(current.slice('delta-'.length));
  if (!current.startsWith('delta-') || !Number.isInteger(n)) return;
  let names: string[];
  try {
    names = await fs.promises.readdir(genDir);
  } catch {
    return;
  }
  const older = names.filter((name) => {
    const k = name.startsWith('delta-') ? Number(name.slice('delta-'.length)) : Number.NaN;
    return Number.isInteger(k) && k < n;
  });
  await Promise.all(
    older.map((name) =>
      fs.promises.rm(path.join(genDir, name), { recursive: true, force: true }).catch(() => {}),
    ),
  );
}

async function compareAndUpdate(
  root: string,
  target: string,
  options: IndexOptions,
  t0: number,
  turns: { turnMetrics: readonly string[]; turnCache: TurnCache },
  state: CatalogState,
  previousDelta: DeltaManifest,
): Promise<IndexReport | undefined> {
  // Warnings are held back until the update is sure to go this way; a rewrite reports them itself.
  const warnings: string[] = [];
  const warn = (m: string) => void warnings.push(m);
  const ids = listSpecimenDirs(root, warn);
  const base = state.specimens;
  if (ids.length !== Object.keys(base).length || ids.some((id) => base[id] === undefined)) return undefined;
  const clashes = clashingIds(ids, warn);

  // Specimens that differ from the catalog file, and among them those that moved since the last update.
  const differ: { id: string; signature: string; prev: SpecimenState }[] = [];
  const moved = new Set<string>();
  let opening: ReturnType<typeof openMemory> | undefined;
  let runsTotal = 0;
  const specimensDir = path.join(root, SPECIMENS_DIR);
  for (const id of ids) {
    const record = base[id]!;
    // IDs are validated names: joined by hand, as in specimenSignature.
    const dir = `${specimensDir}${path.sep}${id}`;
    const signature = specimenSignature(dir);
    // The common case, an indexed specimen whose runs are all sealed and whose directory did not move,
    // straight from the record.
    if (signature === record[0] && record[1] === 1 && record[4] === 0) {
      runsTotal += record[5];
      continue;
    }
    const prev = SpecimenState.fromRecord(record);
    if (signature === prev.signature && (!prev.indexed || runsUnchanged(dir, prev))) {
      if (!prev.indexed && prev.warning) warn(prev.warning);
      if (prev.indexed) runsTotal += prev.runCount;
      continue;
    }
    differ.push({ id, signature, prev });
    // DuckDB starts on its own threads while this one goes on comparing.
    opening ??= openMemory();
    const last = previousDelta.specimens[id];
    const lastState = last ? SpecimenState.fromRecord(last) : undefined;
    if (
      !lastState ||
      lastState.signature !== signature ||
      (lastState.indexed && !runsUnchanged(dir, lastState))
    )
      moved.add(id);
    if (differ.length > (options.maxDeltaSpecimens ?? MAX_DELTA_SPECIMENS)) {
      void opening.then((d) => d.close()).catch(() => {});
      return undefined;
    }
  }
  // The new delta is built from scratch from `differ`; it needs writing when something moved, or when a
  // specimen of the last delta no longer differs.
  const needsWrite =
    moved.size > 0 || Object.keys(previousDelta.specimens).some((id) => !differ.some((d) => d.id === id));
  const branchByKey = new Map(state.branches.map((b) => [branchKey(b), b]));
  const content = emptyDelta();
  let runsIndexed = 0;
  let db: Awaited<ReturnType<typeof openMemory>> | undefined;
  try {
    db = await opening;
    for (const { id, signature, prev } of differ) {
      const last = previousDelta.specimens[id];
      if (!moved.has(id) && last) {
        // Unchanged since the last delta was written: its rows and links are carried over, not re-read.
        content.manifest.specimens[id] = last;
        if (last[1] === 0) {
          // Still skipped for the same reason, which is reported again.
          if (last[2]) warn(last[2]);
          continue;
        }
        content.changed.push(id);
        content.carried.push(id);
        for (const l of previousDelta.links[id] ?? []) {
          const branches = l.branches.map((k) => branchByKey.get(k));
          if (branches.some((b) => b === undefined)) throw new NeedsRewrite();
          content.links.push({
            specimenId: id,
            runId: l.runId,
            file: l.file,
            branches: branches as Branch[],
          });
        }
        runsTotal += last[5];
        continue;
      }
      const w: SpecimenWork = scanSpecimen(root, id, undefined, signature, clashes.has(id), warn);
      if (w.state.indexed !== prev.indexed) throw new NeedsRewrite();
      if (!w.state.indexed) {
        // Still not indexable: nothing of it is in the file or the delta.
        content.manifest.specimens[id] = w.state.toRecord();
        continue;
      }
      for (const r of w.reads.filter(needsFiles)) {
        db ??= await openMemory();
        await completeFromFile(r, warn);
      }
      if (turns.turnMetrics.length > 0) {
        db ??= await openMemory();
        await fillTurns(db.connection, root, w.reads, turns.turnMetrics, turns.turnCache, warn);
      }
      if (expSourcesKey(expSources(w.state.runs)) !== expSourcesKey(expSources(prev.runs)))
        throw new NeedsRewrite();
      const known = last ? SpecimenState.fromRecord(last).runs : prev.runs;
      for (const r of w.reads) {
        content.links.push(...newLinks(r, prev, branchByKey));
        const was = known[r.run.run_id];
        if (was?.sig !== r.state.sig || was.status !== r.state.status) runsIndexed++;
      }
      for (const [runId, old] of Object.entries(prev.runs))
        if (old.metrics > 0 && !(runId in w.state.runs)) throw new NeedsRewrite();
      content.changed.push(id);
      content.catalog.push(w.catalog!);
      for (const r of w.reads) {
        content.runs.push(r.run);
        content.artifacts.push(...r.artifacts);
        content.summaries.push(...r.summaries);
        content.turns.push(...r.turns);
      }
      content.manifest.specimens[id] = w.state.toRecord();
      runsTotal += w.state.runCount;
    }
    if (needsWrite) {
      db ??= await openMemory();
      await writeDelta(db.connection, root, state.gen, state.branches, content);
    }
    turns.turnCache.save();
  } catch (err) {
    if (err instanceof NeedsRewrite) return undefined;
    throw err;
  } finally {
    db?.close();
  }
  for (const m of warnings) options.onWarning?.(m);
  options.onProgress?.(ids.length, ids.length);
  const skipped = ids.filter((id) => (content.manifest.specimens[id] ?? base[id]!)[1] === 0).length;
  const indexed = [...moved].filter((id) => content.manifest.specimens[id]?.[1] === 1).length;
  return {
    catalogPath: target,
    full: false,
    specimens: {
      total: ids.length,
      indexed,
      unchanged: ids.length - skipped - indexed,
      skipped,
      removed: 0,
    },
    runs: { total: runsTotal, indexed: runsIndexed, unchanged: runsTotal - runsIndexed, removed: 0 },
    warnings,
    nothingIndexable: ids.length - skipped === 0,
    durationMs: performance.now() - t0,
  };
}

/**
 * The links a re-read run needs: none when its metrics file is in the catalog file's lists (the run is
 * there with the same signature); its branches when the file is new. A run whose listed file may have
 * changed, or a file bringing a branch the `metrics` view lacks, needs a rewrite.
 */
function newLinks(r: RunRead, prev: SpecimenState, branches: Map<string, Branch>): DeltaContent['links'] {
  const old = prev.runs[r.run.run_id];
  if (old && old.metrics > 0) {
    if (old.sig !== r.state.sig) throw new NeedsRewrite();
    return [];
  }
  if (r.state.metrics === 0 || !r.metricsFile) return [];
  const m = r.artifacts.find((a) => a.kind === 'metrics');
  if (!m?.columns || !m.column_types) throw new NeedsRewrite();
  const own = branchesOfFile(r.metricsFile, m.columns, m.column_types).map((b) => {
    const known = branches.get(branchKey(b));
    if (!known) throw new NeedsRewrite();
    return known;
  });
  return [{ specimenId: r.run.specimen_id, runId: r.run.run_id, file: r.metricsFile, branches: own }];
}
