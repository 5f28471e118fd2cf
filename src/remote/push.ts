/**
 * `push`: uploads what the remote lacks — the mutable specimen files (conditional writes, merged on a
 * concurrent change) and every sealed run not yet committed there. A run's files go up first, each with
 * its sealed sha256 as `x-amz-checksum-sha256` (the store refuses bytes that differ) and If-None-Match
 * (an object is written once, never replaced); the run manifest goes last and is the commit. An
 * interrupted push leaves only uncommitted objects, which readers ignore and the next push completes.
 *
 * @example
 * const report = await pushVault(vault, remote, { specimenIds: ['2025_01_02_x'] })
 * report.pushed.length   // runs committed by this push
 */

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isVaultError, RemoteConflictError } from '../errors.js';
import { MANIFEST_FILE } from '../format/layout.js';
import { decodeManifest } from '../format/msgpack.js';
import { isRemoteStub } from '../storage/describe.js';
import type { FileEntry } from '../storage/hashing.js';
import { listRunInfos, type RunInfo } from '../storage/runs.js';
import type { Vault } from '../storage/vault.js';
import type { RemoteConfig } from './config.js';
import { groupRuns, MANIFEST_SHA_META, type RemoteRunListing, runKey, runsPrefix } from './layout.js';
import type { ObjectStore } from './object-store.js';
import { limiter } from './pool.js';
import { type FileOutcome, syncSpecimenFiles } from './specimen-files.js';
import { sha256Hex, syncState } from './state.js';
import { hashStream } from './streams.js';

/** Options of `pushVault`. */
export interface PushOptions {
  /** Specimens to push; all local specimens when empty. */
  specimenIds?: readonly string[];
  /** Only these runs (the run just sealed, for `pushOnSeal`); all sealed runs when absent. */
  runIds?: readonly string[];
  /** Called after each run is committed. */
  onRun?: (specimenId: string, runId: string, result: 'pushed' | 'present') => void;
}

/** What a push did. */
export interface PushReport {
  /** Runs committed by this push. */
  pushed: { specimenId: string; runId: string; files: number; bytes: number }[];
  /** Sealed runs already committed on the remote with the same manifest. */
  present: number;
  /** Runs left local, with why (unsealed, legacy layout). */
  skipped: { specimenId: string; runId: string; reason: string }[];
  /** Specimen files written or merged. */
  specimenFiles: { specimenId: string; file: string; outcome: FileOutcome }[];
  /** Conflicts found; everything else was still pushed. */
  conflicts: RemoteConflictError[];
  /** Runs the store refused because a local file no longer matches the sha256 sealed for it. */
  refused: { specimenId: string; runId: string; objects: string[] }[];
  /** Objects uploaded and their bytes. */
  objects: number;
  bytes: number;
}

/** Files above this size are streamed from disk rather than read into memory. */
const STREAM_ABOVE = 16 * 1024 * 1024;

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** Pushes the given (or all) specimens of `vault` to the remote. */
export async function pushVault(
  vault: Vault,
  remote: RemoteConfig,
  store: ObjectStore,
  options: PushOptions = {},
): Promise<PushReport> {
  const state = syncState(vault.root, remote);
  const report: PushReport = {
    pushed: [],
    present: 0,
    skipped: [],
    specimenFiles: [],
    conflicts: [],
    refused: [],
    objects: 0,
    bytes: 0,
  };
  const limit = limiter(remote.concurrency);
  const ids = options.specimenIds?.length ? options.specimenIds : await vault.specimenIds();
  for (const specimenId of ids) {
    const dir = await vault.assertSpecimenExists(specimenId);
    try {
      for (const f of await syncSpecimenFiles({ store, state }, dir, specimenId, 'push'))
        if (f.outcome !== 'same') report.specimenFiles.push({ specimenId, ...f });
    } catch (err) {
      if (!isVaultError(err, 'RemoteConflictError')) throw err;
      report.conflicts.push(err);
    }
    const runs = (await listRunInfos(specimenId, dir)).filter(
      (r) => !options.runIds || options.runIds.includes(r.runId),
    );
    const toPush: RunInfo[] = [];
    for (const r of runs) {
      // A remote stub (`index --remote`) is a run the remote has committed already.
      if (isRemoteStub(r.path)) report.present++;
      else if (r.layout === 'strata')
        report.skipped.push({
          specimenId,
          runId: r.runId,
          reason: 'legacy strata/ layout; run `specimen migrate` first',
        });
      else if (!r.sealed)
        report.skipped.push({ specimenId, runId: r.runId, reason: `not sealed (${r.status})` });
      else toPush.push(r);
    }
    if (toPush.length === 0) continue;
    const listing = groupRuns(specimenId, await store.list(runsPrefix(specimenId)));
    const known = await state.knownRuns(specimenId);
    const recorded: Record<string, string> = {};
    await Promise.all(
      toPush.map(async (run) => {
        try {
          const result = await pushRun(
            store,
            remote,
            limit,
            specimenId,
            run,
            listing.get(run.runId),
            known,
            report,
          );
          recorded[run.runId] = result.sha256;
          if (result.pushed)
            report.pushed.push({ specimenId, runId: run.runId, files: result.files, bytes: result.bytes });
          else report.present++;
          options.onRun?.(specimenId, run.runId, result.pushed ? 'pushed' : 'present');
        } catch (err) {
          // One run's trouble does not hold back the others; each is reported.
          if (isVaultError(err, 'RemoteConflictError')) report.conflicts.push(err);
          else if (isVaultError(err, 'RemoteIntegrityError'))
            report.refused.push({ specimenId, runId: run.runId, objects: [...err.objects] });
          else throw err;
        }
      }),
    );
    await state.recordRuns(specimenId, recorded);
  }
  return report;
}

/** Uploads one sealed run unless the remote already has it committed; the manifest goes last. */
async function pushRun(
  store: ObjectStore,
  remote: RemoteConfig,
  limit: <T>(task: () => Promise<T>) => Promise<T>,
  specimenId: string,
  run: RunInfo,
  listing: RemoteRunListing | undefined,
  known: Record<string, string>,
  report: PushReport,
): Promise<{ pushed: boolean; sha256: string; files: number; bytes: number }> {
  const manifestBytes = await fsp.readFile(path.join(run.path, MANIFEST_FILE));
  const sha256 = sha256Hex(manifestBytes);
  const manifestKey = runKey(specimenId, run.runId, MANIFEST_FILE);
  // Two hosts that start a run in the same second give it the same ID (IDs are claimed by a local mkdir):
  // the remote keeps the first, and this one stays local with an error naming both hosts.
  const collision = async (there?: Uint8Array): Promise<RemoteConflictError> => {
    const theirs = there ?? (await limit(() => store.get(manifestKey)).catch(() => undefined))?.body;
    return new RemoteConflictError(
      `remote: run ID ${specimenId}/${run.runId} is already taken on the remote by a different run ` +
        `(${theirs ? describeOrigin(theirs, manifestKey) : 'its manifest is not committed yet'}; this one ${describeOrigin(manifestBytes, manifestKey)}): ` +
        'two hosts started a run in the same second. This run stays local, nothing was overwritten; ' +
        'rerun it (a new run gets a new ID) and push that',
      [`${specimenId}/${run.runId}`],
    );
  };
  if (listing?.committed) {
    if (known[run.runId] === sha256) return { pushed: false, sha256, files: 0, bytes: 0 };
    const there = await limit(() => store.get(manifestKey));
    if (there && equalBytes(there.body, manifestBytes)) return { pushed: false, sha256, files: 0, bytes: 0 };
    throw await collision(there?.body);
  }
  const files = Object.entries((run.manifest?.files ?? {}) as unknown as Record<string, FileEntry>);
  let bytes = 0;
  await Promise.all(
    files.map(([rel, entry]) =>
      limit(async () => {
        const key = runKey(specimenId, run.runId, rel);
        const existing = listing?.objects.get(rel);
        // An object left by an interrupted push of this run is kept if its bytes are right.
        if (existing && existing.size === entry.bytes && (await remoteSha(store, key)) === entry.sha256)
          return;
        const file = path.join(run.path, ...rel.split('/'));
        // Small files go as one buffer (retried by the SDK); larger ones stream, so a checkpoint never sits
        // in memory; above the multipart threshold (5 GiB at most, one PUT's limit) they go in parts, each
        // checked by the store, the whole file's sha256 checked while the parts are read.
        const put =
          entry.bytes > remote.multipartThreshold
            ? await store.putMultipart(key, file, {
                sha256: entry.sha256,
                size: entry.bytes,
                partSize: remote.partSize,
                ifNoneMatch: true,
              })
            : await store.put(
                key,
                entry.bytes <= STREAM_ABOVE ? await fsp.readFile(file) : () => fs.createReadStream(file),
                { sha256: entry.sha256, ifNoneMatch: true, size: entry.bytes },
              );
        if (!put.ok) {
          // Written meanwhile: by an earlier attempt of ours (same bytes), or by another run with this ID.
          if ((await remoteSha(store, key)) !== entry.sha256) throw await collision();
          return;
        }
        report.objects++;
        report.bytes += entry.bytes;
        bytes += entry.bytes;
      }),
    ),
  );
  const commit = await limit(() =>
    store.put(manifestKey, manifestBytes, {
      sha256,
      ifNoneMatch: true,
      metadata: { [MANIFEST_SHA_META]: sha256 },
    }),
  );
  if (!commit.ok) {
    const there = await limit(() => store.get(manifestKey));
    if (!there || !equalBytes(there.body, manifestBytes)) throw await collision(there?.body);
    return { pushed: false, sha256, files: 0, bytes: 0 };
  }
  report.objects++;
  report.bytes += manifestBytes.length;
  return { pushed: true, sha256, files: files.length + 1, bytes: bytes + manifestBytes.length };
}

/** Where and when a run was made, from its manifest: `started on <host> at <time>`. */
function describeOrigin(manifest: Uint8Array, label: string): string {
  try {
    const m = decodeManifest(manifest, label);
    const owner = m.owner as { host?: unknown } | undefined;
    const provenance = m.provenance as { hostname?: unknown } | undefined;
    const host = typeof owner?.host === 'string' ? owner.host : provenance?.hostname;
    return `started on ${typeof host === 'string' ? host : 'an unnamed host'}${typeof m.started === 'string' ? ` at ${m.started}` : ''}`;
  } catch {
    return 'with an unreadable manifest';
  }
}

/** sha256 of a remote object, streamed; undefined when it is absent. */
async function remoteSha(store: ObjectStore, key: string): Promise<string | undefined> {
  const stream: Readable | undefined = await store.getStream(key);
  return stream ? (await hashStream(stream)).sha256 : undefined;
}
