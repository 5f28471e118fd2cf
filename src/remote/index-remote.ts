/**
 * `specimen index --remote`: makes the remote's committed runs part of the local catalog without
 * downloading their metrics or tensors. One listing of the remote's `specimens/` gives every key with its
 * ETag; only objects whose ETag moved since the last time are read:
 *
 * - **specimen files** (manifest, notes, supersessions, protocol) come down as `pull` brings them (a local
 *   edit is never overwritten; both sides changed → left for `sync` to merge);
 * - **run manifests** of runs the local vault lacks become *remote stubs*: `runs/<run_id>/` holding the
 *   manifest and a `.remote-stub` marker. A sealed run's manifest carries everything the catalog needs
 *   (times, config, summary, artifacts with sizes, shapes and every metric summary), so the ordinary
 *   indexer then catalogs the stub like any run; its metrics join the `exp_`/`metrics` views once
 *   `specimen fetch` has brought them through the object cache.
 *
 * The ETag of every object read is kept in `vault.duckdb.d/remote/<remote-hash>.json`, beside the catalog
 * state; deleting it only makes the next remote index read everything again. A stub whose run is no longer
 * committed on the remote is removed; a run pulled or made locally is never touched.
 *
 * @example
 * const { remote, store } = await connectRemote(vault)
 * const report = await indexRemote(vault, remote, store)   // then indexVault(vault.root)
 * report.runs   // { added: 10000, unchanged: 0, removed: 0 }
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { isVaultError } from '../errors.js';
import { writeFileAtomic } from '../format/atomic-write.js';
import { assertRunId, assertSpecimenId } from '../format/ids.js';
import {
  CATALOG_DIR,
  MANIFEST_FILE,
  REMOTE_INDEX_DIR,
  REMOTE_STUB_FILE,
  RUNS_DIR,
  SPECIMENS_DIR,
} from '../format/layout.js';
import { decodeManifest } from '../format/msgpack.js';
import { isRemoteStub } from '../storage/describe.js';
import type { Vault } from '../storage/vault.js';
import type { RemoteConfig } from './config.js';
import { groupRuns, isSafeName, MANIFEST_SHA_META, SPECIMEN_FILES, SPECIMENS_PREFIX } from './layout.js';
import type { ObjectInfo, ObjectStore } from './object-store.js';
import { limiter } from './pool.js';
import { pullSpecimenFile } from './specimen-files.js';
import { remoteId, sha256Hex, syncState } from './state.js';

/** What `indexRemote` did. */
export interface RemoteIndexReport {
  specimens: number;
  runs: { added: number; unchanged: number; removed: number; local: number };
  /** Specimen files brought down (new or changed on the remote). */
  specimenFiles: number;
  /** Objects read (GETs), besides the listing. */
  reads: number;
  /** Problems with single objects (a manifest that does not match its sha256, an unsafe name). */
  warnings: string[];
}

/** The marker of a remote stub. */
export interface RemoteStubMarker {
  remote: string;
  key: string;
  etag: string;
  sha256: string;
}

type EtagState = Record<string, string>;

function etagFile(root: string, remote: RemoteConfig): string {
  return path.join(root, CATALOG_DIR, REMOTE_INDEX_DIR, `${remoteId(remote)}.json`);
}

function readEtags(file: string): EtagState {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as EtagState;
  } catch {
    return {}; // absent or damaged: everything is read again
  }
}

/** Reads what moved on the remote into local specimen files and remote stubs; see the module comment. */
export async function indexRemote(
  vault: Vault,
  remote: RemoteConfig,
  store: ObjectStore,
  options: { onWarning?: (message: string) => void } = {},
): Promise<RemoteIndexReport> {
  const report: RemoteIndexReport = {
    specimens: 0,
    runs: { added: 0, unchanged: 0, removed: 0, local: 0 },
    specimenFiles: 0,
    reads: 0,
    warnings: [],
  };
  const warn = (m: string): void => {
    report.warnings.push(m);
    options.onWarning?.(m);
  };
  const state = syncState(vault.root, remote);
  const file = etagFile(vault.root, remote);
  const before = readEtags(file);
  const after: EtagState = {};
  const limit = limiter(remote.concurrency);
  const bySpecimen = new Map<string, ObjectInfo[]>();
  for (const o of await store.list(SPECIMENS_PREFIX)) {
    const rest = o.key.slice(SPECIMENS_PREFIX.length);
    const id = rest.slice(0, rest.indexOf('/'));
    if (!id) continue;
    const list = bySpecimen.get(id);
    if (list) list.push(o);
    else bySpecimen.set(id, [o]);
  }
  const onRemote = new Set<string>();
  for (const [specimenId, objects] of bySpecimen) {
    try {
      assertSpecimenId(specimenId);
    } catch (err) {
      if (!isVaultError(err)) throw err;
      warn(`remote: specimens/${specimenId}/ is not a specimen ID; skipped`);
      continue;
    }
    onRemote.add(specimenId);
    report.specimens++;
    const dir = vault.specimenDir(specimenId);
    // Specimen files whose ETag moved (or that are missing here) come down as a pull brings them.
    const etags = new Map(objects.map((o) => [o.key, o.etag] as const));
    await Promise.all(
      SPECIMEN_FILES.map((name) =>
        limit(async () => {
          const key = `${SPECIMENS_PREFIX}${specimenId}/${name}`;
          const etag = etags.get(key);
          if (etag === undefined) return;
          if (before[key] === etag && fs.existsSync(path.join(dir, name))) {
            after[key] = etag;
            return;
          }
          try {
            report.reads++;
            const outcome = await pullSpecimenFile({ store, state }, dir, specimenId, name);
            if (outcome === 'pulled' || outcome === 'merged') report.specimenFiles++;
            after[key] = etag;
          } catch (err) {
            if (!isVaultError(err, 'RemoteConflictError')) throw err;
            warn(`${err.message} (the catalog shows the local version)`);
          }
        }),
      ),
    );
    if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) {
      warn(`remote: specimen ${specimenId} has no manifest on the remote; its runs are not indexed`);
      continue;
    }
    const runsDir = path.join(dir, RUNS_DIR);
    await fsp.mkdir(runsDir, { recursive: true });
    const listing = groupRuns(specimenId, objects);
    const recorded: Record<string, string> = {};
    await Promise.all(
      [...listing.values()]
        .filter((r) => r.committed)
        .map(async (run) => {
          const { runId } = run;
          try {
            assertRunId(runId);
          } catch {
            warn(`remote: ${specimenId}/runs/${runId} is not a run ID; skipped`);
            return;
          }
          const runDir = path.join(runsDir, runId);
          const key = `${SPECIMENS_PREFIX}${specimenId}/${RUNS_DIR}/${runId}/${MANIFEST_FILE}`;
          const etag = run.objects.get(MANIFEST_FILE)!.etag;
          const exists = fs.existsSync(runDir);
          if (exists && !isRemoteStub(runDir)) {
            report.runs.local++; // pulled or made here: the local run is the catalog's source
            return;
          }
          if (exists && before[key] === etag) {
            after[key] = etag;
            report.runs.unchanged++;
            return;
          }
          report.reads++;
          const got = await limit(() => store.get(key));
          if (!got) return; // removed since the listing
          const sha256 = sha256Hex(got.body);
          const recordedSha = got.metadata[MANIFEST_SHA_META];
          if (recordedSha && recordedSha !== sha256) {
            warn(
              `remote: ${key} does not match its recorded sha256; run ${specimenId}/${runId} not indexed (run \`specimen verify --remote\`)`,
            );
            return;
          }
          try {
            decodeManifest(got.body, key);
          } catch (err) {
            warn(`remote: ${(err as Error).message}; run ${specimenId}/${runId} not indexed`);
            return;
          }
          const marker: RemoteStubMarker = { remote: remote.url, key, etag, sha256 };
          await writeStub(runsDir, runId, got.body, marker);
          after[key] = etag;
          recorded[runId] = sha256;
          report.runs.added++;
        }),
    );
    // Stubs of runs the remote no longer has committed go; nothing else of the specimen is touched.
    for (const name of await fsp.readdir(runsDir)) {
      const runDir = path.join(runsDir, name);
      if (!listing.get(name)?.committed && isSafeName(name) && isRemoteStub(runDir)) {
        await fsp.rm(runDir, { recursive: true, force: true });
        report.runs.removed++;
      }
    }
    // Pushes then know these runs are on the remote without asking.
    await state.recordRuns(specimenId, recorded);
  }
  // Specimens gone from the remote: only their stubs go.
  for (const specimenId of await vault.specimenIds()) {
    if (onRemote.has(specimenId)) continue;
    const runsDir = path.join(vault.root, SPECIMENS_DIR, specimenId, RUNS_DIR);
    for (const name of fs.existsSync(runsDir) ? await fsp.readdir(runsDir) : []) {
      const runDir = path.join(runsDir, name);
      if (isSafeName(name) && isRemoteStub(runDir)) {
        await fsp.rm(runDir, { recursive: true, force: true });
        report.runs.removed++;
      }
    }
  }
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, `${JSON.stringify(after)}\n`);
  return report;
}

/**
 * Puts a stub in place: built in a hidden directory, then renamed, so the indexer sees a whole stub or
 * none. `files` (run-relative path → local file) are copied in (a reflink where the file system can; a
 * hard link would alias the cache, which the catalog's confined queries refuse); `keep` are files of the
 * stub being replaced, moved over. No fsync: a stub is derived data that the next `index --remote` makes
 * again.
 */
export async function writeStub(
  runsDir: string,
  runId: string,
  manifest: Uint8Array,
  marker: RemoteStubMarker,
  files: Record<string, string> = {},
  keep: readonly string[] = [],
): Promise<void> {
  const tmp = path.join(runsDir, `.tmp-stub-${runId}-${randomBytes(4).toString('hex')}`);
  const runDir = path.join(runsDir, runId);
  await fsp.mkdir(tmp);
  try {
    await fsp.writeFile(path.join(tmp, MANIFEST_FILE), manifest, { mode: 0o444 });
    await fsp.writeFile(path.join(tmp, REMOTE_STUB_FILE), `${JSON.stringify(marker)}\n`);
    const place = async (rel: string, put: (target: string) => Promise<void>): Promise<void> => {
      const target = path.join(tmp, ...rel.split('/'));
      await fsp.mkdir(path.dirname(target), { recursive: true });
      await put(target);
    };
    for (const [rel, source] of Object.entries(files))
      await place(rel, (target) => fsp.copyFile(source, target, fs.constants.COPYFILE_FICLONE));
    for (const rel of keep)
      await place(rel, (target) => fsp.rename(path.join(runDir, ...rel.split('/')), target));
    // A stub being replaced is moved aside first (rename cannot replace a non-empty directory).
    const old = fs.existsSync(runDir) ? `${tmp}-old` : undefined;
    if (old) await fsp.rename(runDir, old);
    try {
      await fsp.rename(tmp, runDir);
    } catch (err) {
      if (old) await fsp.rename(old, runDir).catch(() => {});
      throw err;
    }
    if (old) await fsp.rm(old, { recursive: true, force: true });
  } finally {
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

/** The marker of the stub at `runDir`, or undefined when it is not a stub. */
export function readStubMarker(runDir: string): RemoteStubMarker | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(runDir, REMOTE_STUB_FILE), 'utf8')) as RemoteStubMarker;
  } catch {
    return undefined;
  }
}
