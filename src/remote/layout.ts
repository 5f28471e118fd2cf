/**
 * Where things live on the remote, under `s3://bucket/prefix/` — the same tree as a local vault, so any
 * engine that reads a local vault's Parquet reads the remote's with an `s3://` path:
 *
 * ```
 * specimens/<id>/manifest.msgpack | field_notes.md | supersessions.msgpack | protocol.*   (mutable, conditional writes)
 * specimens/<id>/runs/<run_id>/<file>                                                    (immutable, If-None-Match)
 * specimens/<id>/runs/<run_id>/manifest.msgpack                                          (written last: the commit)
 * ```
 * A run is committed — visible to readers — exactly when its manifest object exists: every other file of
 * the run is uploaded before it, and the manifest lists each file's size and sha256.
 *
 * @example
 * runKey('2025_01_02_x', '20250102_101500', 'metrics.parquet')
 * // 'specimens/2025_01_02_x/runs/20250102_101500/metrics.parquet'
 */

/** Specimen-level files that can change after creation, in the order they are synced. */
export const SPECIMEN_FILES = [
  'manifest.msgpack',
  'field_notes.md',
  'supersessions.msgpack',
  'protocol.ts',
  'protocol.js',
  'protocol.mjs',
  'protocol.py',
] as const;
export type SpecimenFileName = (typeof SPECIMEN_FILES)[number];

/** The run manifest: uploaded last, so its presence is the run's commit. */
export const RUN_COMMIT_FILE = 'manifest.msgpack';

/** User-metadata key carrying the run manifest's own sha256 (the manifest lists every other file's). */
export const MANIFEST_SHA_META = 'manifest-sha256';

export const SPECIMENS_PREFIX = 'specimens/';

export function specimenKey(specimenId: string, file: string): string {
  return `specimens/${specimenId}/${file}`;
}

export function runsPrefix(specimenId: string): string {
  return `specimens/${specimenId}/runs/`;
}

export function runKey(specimenId: string, runId: string, file: string): string {
  return `specimens/${specimenId}/runs/${runId}/${file}`;
}

/** True for a name that can be one path component of a vault (no `..`, separators, NUL or dot-files). */
export function isSafeName(name: string): boolean {
  return name.length > 0 && name.length <= 255 && !name.startsWith('.') && !/[\\/\0]/.test(name);
}

/** What a listing of `runsPrefix(id)` says about each run: its objects and whether it is committed. */
export interface RemoteRunListing {
  runId: string;
  committed: boolean;
  /** Run-relative path → size, for every object under the run (the manifest included). */
  objects: Map<string, { size: number; etag: string }>;
}

/** Groups the keys listed under `runsPrefix(specimenId)` by run. */
export function groupRuns(
  specimenId: string,
  listed: readonly { key: string; size: number; etag: string }[],
): Map<string, RemoteRunListing> {
  const prefix = runsPrefix(specimenId);
  const runs = new Map<string, RemoteRunListing>();
  for (const o of listed) {
    if (!o.key.startsWith(prefix)) continue;
    const rest = o.key.slice(prefix.length);
    const slash = rest.indexOf('/');
    if (slash <= 0) continue;
    const runId = rest.slice(0, slash);
    const rel = rest.slice(slash + 1);
    // Keys are whatever a bucket holds: a run whose name could not be a local directory is never read.
    if (
      !isSafeName(runId) ||
      rel.split('/').some((p) => p === '' || p === '.' || p === '..' || /[\\\0]/.test(p))
    )
      continue;
    let run = runs.get(runId);
    if (!run) {
      run = { runId, committed: false, objects: new Map() };
      runs.set(runId, run);
    }
    run.objects.set(rel, { size: o.size, etag: o.etag });
    if (rel === RUN_COMMIT_FILE) run.committed = true;
  }
  return runs;
}
