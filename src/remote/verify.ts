/**
 * `specimen verify --remote`: re-reads every committed run on the remote and checks each object's size
 * and sha256 against the run manifest (and the manifest against the sha256 stored with it). Objects are
 * streamed and hashed, never saved.
 *
 * @example
 * const report = await verifyRemote(remote, store)
 * report.runs.filter((r) => r.result === 'corrupt')   // [{ specimenId, runId, objects: [key…] }]
 */
import { MANIFEST_FILE } from '../format/layout.js';
import { decodeManifest } from '../format/msgpack.js';
import type { FileEntry } from '../storage/hashing.js';
import type { RemoteConfig } from './config.js';
import { groupRuns, isSafeName, MANIFEST_SHA_META, runKey, runsPrefix, SPECIMENS_PREFIX } from './layout.js';
import type { ObjectStore } from './object-store.js';
import { limiter } from './pool.js';
import { sha256Hex } from './state.js';
import { hashStream } from './streams.js';

/** Verification of one remote run. */
export interface RemoteRunVerification {
  specimenId: string;
  runId: string;
  /** `verified`; `corrupt` (some object wrong or missing); `uncommitted` (an interrupted push: ignored by readers). */
  result: 'verified' | 'corrupt' | 'uncommitted';
  files: number;
  /** Keys of the objects whose bytes are wrong or missing. */
  objects: string[];
}

export interface RemoteVerifyReport {
  ok: boolean;
  runs: RemoteRunVerification[];
}

/** Verifies the committed runs of the given (or all) specimens on the remote. */
export async function verifyRemote(
  remote: RemoteConfig,
  store: ObjectStore,
  ids: readonly string[] = [],
): Promise<RemoteVerifyReport> {
  const limit = limiter(remote.concurrency);
  const specimenIds = ids.length > 0 ? ids : (await store.listPrefixes(SPECIMENS_PREFIX)).filter(isSafeName);
  const runs: RemoteRunVerification[] = [];
  for (const specimenId of specimenIds) {
    const listing = groupRuns(specimenId, await store.list(runsPrefix(specimenId)));
    await Promise.all(
      [...listing.values()].map(async ({ runId, committed }) => {
        if (!committed) {
          runs.push({ specimenId, runId, result: 'uncommitted', files: 0, objects: [] });
          return;
        }
        const manifestKey = runKey(specimenId, runId, MANIFEST_FILE);
        const got = await limit(() => store.get(manifestKey));
        const recorded = got?.metadata[MANIFEST_SHA_META];
        let files: Record<string, FileEntry> | undefined;
        try {
          if (got && (!recorded || recorded === sha256Hex(got.body)))
            files = (decodeManifest(got.body, manifestKey).files ?? {}) as unknown as Record<
              string,
              FileEntry
            >;
        } catch {
          files = undefined;
        }
        if (!files) {
          runs.push({ specimenId, runId, result: 'corrupt', files: 0, objects: [manifestKey] });
          return;
        }
        const bad: string[] = [];
        await Promise.all(
          Object.entries(files).map(([rel, entry]) =>
            limit(async () => {
              const key = runKey(specimenId, runId, rel);
              const stream = await store.getStream(key);
              const got = stream && (await hashStream(stream));
              if (!got || got.sha256 !== entry.sha256 || got.bytes !== entry.bytes) bad.push(key);
            }),
          ),
        );
        runs.push({
          specimenId,
          runId,
          result: bad.length > 0 ? 'corrupt' : 'verified',
          files: Object.keys(files).length + 1,
          objects: bad.sort(),
        });
      }),
    );
  }
  runs.sort((a, b) => (a.specimenId + a.runId < b.specimenId + b.runId ? -1 : 1));
  return { ok: runs.every((r) => r.result !== 'corrupt'), runs };
}
