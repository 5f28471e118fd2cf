/**
 * What `indexVault` takes and returns: its options, its report, and the tally the full rebuild keeps as
 * specimens go by (the delta update counts for itself, see delta.ts).
 *
 * @example
 * const tally = new Tally()
 * for (const w of batch) tally.add(w)
 * return tally.report(target, full, ids.length, removed, warnings, t0)
 */
import type { SpecimenState, SpecimenWork } from '../scan.js';

/** Options of `indexVault`. */
export interface IndexOptions {
  /** Rebuild from scratch instead of updating what changed. */
  full?: boolean;
  /** Called as specimens are processed: `done` of `total` specimen directories. */
  onProgress?: (done: number, total: number) => void;
  /** Called once per problem (missing or corrupt manifest, unreadable file…), as it is found. */
  onWarning?: (message: string) => void;
  /** How long to wait for another indexer to finish, in milliseconds (default 60 s). */
  lockTimeoutMs?: number;
  /**
   * Most specimens that may differ from the catalog file before an index rewrites it rather than
   * updating its delta (default 64; 0 always rewrites). See delta.ts.
   */
  maxDeltaSpecimens?: number;
}

/** What an index did. */
export interface IndexReport {
  /** Absolute path of the catalog written. */
  catalogPath: string;
  /** True when the catalog was rebuilt from scratch. */
  full: boolean;
  specimens: {
    /** Specimen directories found. */
    total: number;
    /** Read (new or changed) and indexed. */
    indexed: number;
    /** Unchanged since the last index and not re-read. */
    unchanged: number;
    /** Skipped because of a missing or corrupt manifest (see `warnings`). */
    skipped: number;
    /** Indexed before, gone now (or no longer indexable). */
    removed: number;
  };
  runs: {
    /** Runs in the catalog now. */
    total: number;
    /** Read (new or changed). */
    indexed: number;
    /** Carried over without re-reading. */
    unchanged: number;
    /** Indexed before, gone now. */
    removed: number;
  };
  /** Every problem found, in order. */
  warnings: string[];
  /** True when not a single specimen could be indexed (the CLI exits 1). */
  nothingIndexable: boolean;
  durationMs: number;
}

/** Counts for the report, kept as specimens go by (their rows are not kept). */
export class Tally {
  indexed = 0;
  unchanged = 0;
  skipped = 0;
  noLongerIndexed = 0;
  runsTotal = 0;
  runsIndexed = 0;
  runsRemoved = 0;

  add(w: SpecimenWork): void {
    if (!w.state.indexed) this.skipped++;
    else if (w.unchanged) this.unchanged++;
    else this.indexed++;
    if (w.wasIndexed && !w.state.indexed) this.noLongerIndexed++;
    if (w.state.indexed) this.runsTotal += w.state.runCount;
    if (!w.unchanged && w.state.indexed) this.runsIndexed += w.reads.length;
    this.runsRemoved += w.dropRuns.filter((id) => !(w.state.indexed && id in w.state.runs)).length;
  }

  report(
    target: string,
    full: boolean,
    total: number,
    removed: [string, SpecimenState][],
    warnings: string[],
    t0: number,
  ): IndexReport {
    return {
      catalogPath: target,
      full,
      specimens: {
        total,
        indexed: this.indexed,
        unchanged: this.unchanged,
        skipped: this.skipped,
        removed: removed.filter(([, s]) => s.indexed).length + this.noLongerIndexed,
      },
      runs: {
        total: this.runsTotal,
        indexed: this.runsIndexed,
        unchanged: this.runsTotal - this.runsIndexed,
        removed: this.runsRemoved + removed.reduce((n, [, s]) => n + (s.indexed ? s.runCount : 0), 0),
      },
      warnings,
      nothingIndexable: this.indexed + this.unchanged === 0,
      durationMs: performance.now() - t0,
    };
  }
}
