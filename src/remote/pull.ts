/**
 * `pull`: brings down what the local vault lacks. Only committed runs (those whose manifest object exists)
 * are read; every file is streamed to a hidden temporary directory, hashed on the way and compared with the
 * size and sha256 in the run manifest, and the directory is renamed into `runs/<run_id>/` only when all
 * match. A run with a wrong or missing object is refused whole and named; the others are still pulled.
 *
 * @example
 * const report = await pullVault(vault, remote, store)            // every specimen on the remote
 * report.corrupt   // [{ specimenId, runId, objects: ['specimens/…/metrics.parquet'] }]
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isVaultError, NotFoundError, RemoteConflictError } from '../errors.js';
import { MANIFEST_FILE, RUNS_DIR } from '../format/layout.js';
import { decodeManifest } from '../format/msgpack.js';
import { within } from '../format/paths.js';
import { isRemoteStub } from '../storage/describe.js';
import type { FileEntry } from '../storage/hashing.js';
import { listRunInfos } from '../storage/runs.js';
import type { Vault } from '../storage/vault.js';
import type { RemoteConfig } from './config.js';
import {
  groupRuns,
  isSafeName,
  MANIFEST_SHA_META,
  type RemoteRunListing,
  runKey,
  runsPrefix,
  SPECIMENS_PREFIX,
} from './layout.js';
import type { ObjectStore } from './object-store.js';
import { limiter } from './pool.js';
import { type FileOutcome, syncSpecimenFiles } from './specimen-files.js';
import { sha256Hex, syncState } from './state.js';
import { saveStream } from './streams.js';

/** Options of `pullVault`. */
export interface PullOptions {
  /** Specimens to pull; every specimen on the remote when empty. */
  specimenIds?: readonly string[];
  /** Skip named specimens the remote does not have (sync of a specimen not pushed yet) instead of failing. */
  skipMissing?: boolean;
}

/** What a pull did. */
export interface PullReport {
  pulled: { specimenId: string; runId: string; files: number; bytes: number }[];
  /** Committed runs the local vault already had. */
  present: number;
  specimenFiles: { specimenId: string; file: string; outcome: FileOutcome }[];
  conflicts: RemoteConflictError[];
  /** Runs refused because an object's bytes do not match the run manifest. */
  corrupt: { specimenId: string; runId: string; objects: string[] }[];
}

/** Pulls the given (or all) specimens of the remote into `vault`. */
export async function pullVault(
  vault: Vault,
  remote: RemoteConfig,
  store: ObjectStore,
  options: PullOptions = {},
): Promise<PullReport> {
  const state = syncState(vault.root, remote);
  const report: PullReport = { pulled: [], present: 0, specimenFiles: [], conflicts: [], corrupt: [] };
  const limit = limiter(remote.concurrency);
  const onRemote = (await store.listPrefixes(SPECIMENS_PREFIX)).filter(isSafeName);
  const ids = options.specimenIds?.length ? options.specimenIds : onRemote;
  for (const specimenId of ids) {
    if (!onRemote.includes(specimenId)) {
      if (options.skipMissing) continue;
      throw new NotFoundError(
        'specimen on the remote',
        specimenId,
        onRemote.filter((s) => s.startsWith(specimenId.slice(0, 10))),
      );
    }
    const dir = vault.specimenDir(specimenId);
    try {
      for (const f of await syncSpecimenFiles({ store, state }, dir, specimenId, 'pull'))
        if (f.outcome !== 'same') report.specimenFiles.push({ specimenId, ...f });
    } catch (err) {
      if (!isVaultError(err, 'RemoteConflictError')) throw err;
      report.conflicts.push(err);
    }
    const listing = groupRuns(specimenId, await store.list(runsPrefix(specimenId)));
    const local = new Map(
      fs.existsSync(dir) ? (await listRunInfos(specimenId, dir)).map((r) => [r.runId, r] as const) : [],
    );
    const known = await state.knownRuns(specimenId);
    const recorded: Record<string, string> = {};
    await fsp.mkdir(path.join(dir, RUNS_DIR), { recursive: true });
    await Promise.all(
      [...listing.values()]
        .filter((r) => r.committed)
        .map(async (run) => {
          const { runId } = run;
          // A remote stub (`index --remote`) stands for this very run: it is replaced by the run.
          const found = local.get(runId);
          const mine = found && !isRemoteStub(found.path) ? found : undefined;
          const manifestKey = runKey(specimenId, runId, MANIFEST_FILE);
          if (mine) {
            const localBytes = await fsp.readFile(path.join(mine.path, MANIFEST_FILE)).catch(() => undefined);
            const localSha = localBytes && sha256Hex(localBytes);
            if (mine.sealed && localSha && known[runId] === localSha) {
              report.present++;
              return;
            }
            const there = await limit(() => store.get(manifestKey));
            if (mine.sealed && there && localSha === sha256Hex(there.body)) {
              recorded[runId] = localSha;
              report.present++;
              return;
            }
            report.conflicts.push(
              new RemoteConflictError(
                `remote: run ${specimenId}/${runId} exists here and on the remote with different contents (two hosts started a run in the same second); both are kept where they are`,
                [`${specimenId}/${runId}`],
              ),
            );
            return;
          }
          const result = await pullRun(store, limit, dir, specimenId, run);
          if ('bad' in result) report.corrupt.push({ specimenId, runId, objects: result.bad });
          else {
            recorded[runId] = result.sha256;
            report.pulled.push({ specimenId, runId, files: result.files, bytes: result.bytes });
          }
        }),
    );
    await state.recordRuns(specimenId, recorded);
  }
  return report;
}

type PullRunResult = { sha256: string; files: number; bytes: number } | { bad: string[] };

/**
 * Downloads one committed run into a temporary directory, verifies it and renames it into place. The
 * objects the listing shows are fetched together with the manifest (one round trip per run, not two);
 * only what the manifest lists, with the size and sha256 it records, is kept.
 */
async function pullRun(
  store: ObjectStore,
  limit: <T>(task: () => Promise<T>) => Promise<T>,
  specimenDir: string,
  specimenId: string,
  listing: RemoteRunListing,
): Promise<PullRunResult> {
  const { runId } = listing;
  const manifestKey = runKey(specimenId, runId, MANIFEST_FILE);
  const runsDir = path.join(specimenDir, RUNS_DIR);
  const tmp = path.join(runsDir, `.tmp-pull-${runId}-${randomBytes(4).toString('hex')}`);
  const downloads = new Map<string, Promise<FileEntry | undefined>>();
  const download = (rel: string): Promise<FileEntry | undefined> => {
    let p = downloads.get(rel);
    if (!p) {
      p = limit(async () => {
        const target = within(tmp, ...rel.split('/'));
        const stream = await store.getStream(runKey(specimenId, runId, rel));
        // Created read-only, as `finish()` leaves a sealed run (the open descriptor can still write).
        return stream ? saveStream(stream, target, 0o444) : undefined;
      });
      p.catch(() => {}); // awaited below when the manifest lists it; a stray object's failure does not matter
      downloads.set(rel, p);
    }
    return p;
  };
  const manifest = limit(() => store.get(manifestKey));
  let renamed = false;
  for (const rel of listing.objects.keys()) if (rel !== MANIFEST_FILE) download(rel);
  try {
    const got = await manifest;
    if (!got) return { bad: [manifestKey] };
    const sha256 = sha256Hex(got.body);
    const recordedSha = got.metadata[MANIFEST_SHA_META];
    if (recordedSha && recordedSha !== sha256) return { bad: [manifestKey] };
    let files: Record<string, FileEntry>;
    try {
      files = (decodeManifest(got.body, manifestKey).files ?? {}) as unknown as Record<string, FileEntry>;
    } catch {
      return { bad: [manifestKey] };
    }
    const bad: string[] = [];
    let bytes = 0;
    await Promise.all(
      Object.entries(files).map(async ([rel, entry]) => {
        const saved = await download(rel);
        if (!saved || saved.sha256 !== entry.sha256 || saved.bytes !== entry.bytes)
          bad.push(runKey(specimenId, runId, rel));
        bytes += saved?.bytes ?? 0;
      }),
    );
    if (bad.length > 0) return { bad: bad.sort() };
    await Promise.allSettled(downloads.values());
    for (const rel of downloads.keys())
      if (!(rel in files)) await fsp.rm(within(tmp, ...rel.split('/')), { force: true });
    await fsp.writeFile(path.join(tmp, MANIFEST_FILE), got.body, { mode: 0o444 });
    const runDir = path.join(runsDir, runId);
    const stub = isRemoteStub(runDir) ? `${tmp}-stub` : undefined;
    if (stub) await fsp.rename(runDir, stub);
    try {
      await fsp.rename(tmp, runDir);
      renamed = true;
      if (stub) await fsp.rm(stub, { recursive: true, force: true });
    } catch (err) {
      if (stub) await fsp.rename(stub, runDir).catch(() => {});
      const code = (err as NodeJS.ErrnoException).code;
      // Another pull of this vault put the same run in place first.
      if (code !== 'EEXIST' && code !== 'ENOTEMPTY') throw err;
    }
    return { sha256, files: Object.keys(files).length + 1, bytes: bytes + got.body.length };
  } finally {
    // Nothing may still be writing into the directory when it is removed.
    await Promise.allSettled(downloads.values());
    if (!renamed) await fsp.rm(tmp, { recursive: true, force: true });
  }
}
