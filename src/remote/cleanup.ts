/**
 * Cleaning up after abandoned pushes (`specimen push --cleanup`): a push killed mid-way leaves multipart
 * uploads that were begun and never completed (their parts are stored, and billed, but are no object) and
 * objects of runs that were never committed (no manifest). Readers ignore both and the next push of the
 * same run completes it, but a run that will never be pushed again leaves them for good. This removes:
 *
 * - every incomplete multipart upload under `specimens/` begun before the cutoff (aborted, freeing its parts);
 * - the objects of every uncommitted run whose objects are *all* older than the cutoff (a push still under
 *   way keeps writing, so its run has recent objects; the cutoff, 24 hours by default, must exceed the
 *   longest pause of a live push — a run deleted under a push that then commits would be missing files,
 *   which `pull` refuses and `verify --remote` reports).
 *
 * Committed runs and specimen files are never touched.
 *
 * @example
 * const report = await cleanupRemote(store, { olderThanMs: 24 * 3600_000 })
 * report.abortedUploads; report.removedObjects; report.runs   // ['2025_01_02_x/20250102_101500']
 */
import { groupRuns, isSafeName, runKey, SPECIMENS_PREFIX } from './layout.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import { limiter } from './pool.js';

/** What a cleanup removed. */
export interface CleanupReport {
  abortedUploads: number;
  /** Uncommitted runs whose objects were removed, as `<specimen>/<run>`. */
  runs: string[];
  removedObjects: number;
  removedBytes: number;
  /** Uncommitted runs left because some object is newer than the cutoff. */
  recentRuns: number;
}

/** Default age before an abandoned upload is removed. */
export const DEFAULT_CLEANUP_AGE_MS = 24 * 3600_000;

export async function cleanupRemote(
  store: ObjectStore,
  options: { olderThanMs?: number; concurrency?: number; now?: number } = {},
): Promise<CleanupReport> {
  const cutoff = (options.now ?? Date.now()) - (options.olderThanMs ?? DEFAULT_CLEANUP_AGE_MS);
  const report: CleanupReport = {
    abortedUploads: 0,
    runs: [],
    removedObjects: 0,
    removedBytes: 0,
    recentRuns: 0,
  };
  const limit = limiter(options.concurrency ?? 16);
  const old = (d: Date | undefined): boolean => d !== undefined && d.getTime() <= cutoff;

  const uploads = await store.listUploads(SPECIMENS_PREFIX);
  await Promise.all(
    uploads
      .filter((u) => old(u.initiated))
      .map((u) =>
        limit(async () => {
          await store.abortUpload(u.key, u.uploadId);
          report.abortedUploads++;
        }),
      ),
  );

  const bySpecimen = new Map<string, ObjectInfo[]>();
  for (const o of await store.list(SPECIMENS_PREFIX)) {
    const rest = o.key.slice(SPECIMENS_PREFIX.length);
    const id = rest.slice(0, rest.indexOf('/'));
    if (!id || !isSafeName(id)) continue;
    const list = bySpecimen.get(id);
    if (list) list.push(o);
    else bySpecimen.set(id, [o]);
  }
  for (const [specimenId, objects] of bySpecimen) {
    const modified = new Map(objects.map((o) => [o.key, o.modified] as const));
    for (const run of groupRuns(specimenId, objects).values()) {
      if (run.committed) continue;
      const keys = [...run.objects.keys()].map((rel) => runKey(specimenId, run.runId, rel));
      if (!keys.every((k) => old(modified.get(k)))) {
        report.recentRuns++;
        continue;
      }
      await Promise.all(
        keys.map((k) =>
          limit(async () => {
            await store.delete(k);
            report.removedObjects++;
          }),
        ),
      );
      report.removedBytes += [...run.objects.values()].reduce((n, o) => n + o.size, 0);
      report.runs.push(`${specimenId}/${run.runId}`);
    }
  }
  report.runs.sort();
  return report;
}
