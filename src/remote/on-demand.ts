/**
 * Reading the files of remote stubs (runs `index --remote` cataloged without downloading them) on demand,
 * through the object cache: a file's sha256 and size come from the stub's run manifest, the bytes from the
 * remote (one GET per file, checked on the way into the cache). Used by the web UI's server for tensor
 * chunks and metrics, and by `specimen fetch`, which copies metrics into stubs so the catalog's views read
 * them.
 *
 * @example
 * const files = openRemoteFiles(vault.root)                   // connects on first use
 * const t = await openTensor(dir, { resolve: (k) => files.file(runDir, `w.zarr/${k}`) })
 * await files.fetchIntoStub(runDir, ['metrics.parquet'])      // then `indexVault`
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { RemoteConfigError, RemoteIntegrityError } from '../errors.js';
import { MANIFEST_FILE, REMOTE_STUB_FILE, RUNS_DIR } from '../format/layout.js';
import { decodeManifest } from '../format/msgpack.js';
import type { FileEntry } from '../storage/hashing.js';
import { type ObjectCache, openObjectCache } from './cache.js';
import { type RemoteConfig, readRemoteConfig } from './config.js';
import { readStubMarker, writeStub } from './index-remote.js';
import type { ObjectStore } from './object-store.js';
import { limiter } from './pool.js';

/** On-demand fills evict at most this often (ms). */
const EVICT_EVERY_MS = 5_000;

/** What `fetchIntoStub` did. */
export interface FetchReport {
  files: number;
  /** Bytes that had to come from the remote (the rest were cached). */
  downloaded: number;
  bytes: number;
}

export interface RemoteFiles {
  readonly cache: Promise<ObjectCache>;
  /**
   * The local path of file `rel` of the stub at `runDir` (in the stub when linked there, else in the cache,
   * filled first); undefined when the run manifest lists no such file.
   */
  file(runDir: string, rel: string): Promise<string | undefined>;
  /** Copies `rels` (those the manifest lists) into the stub, filling the cache first; the catalog then sees them. */
  fetchIntoStub(runDir: string, rels: readonly string[]): Promise<FetchReport>;
  /** Evicts what exceeds the cache's limit. */
  evict(): ReturnType<ObjectCache['evict']>;
  close(): void;
}

/**
 * On-demand reads for the vault at `root`. The remote is read from the vault config and connected on first
 * use (`connect` may be given an open store instead, as `specimen fetch` does).
 */
export function openRemoteFiles(
  root: string,
  options: { remote?: RemoteConfig; store?: ObjectStore; cache?: ObjectCache } = {},
): RemoteFiles {
  let connecting: Promise<{ remote: RemoteConfig; store: ObjectStore }> | undefined;
  const connect = (): Promise<{ remote: RemoteConfig; store: ObjectStore }> => {
    connecting ??= (async () => {
      const remote = options.remote ?? (await readRemoteConfig(root));
      if (options.store) return { remote, store: options.store };
      const { openS3Store } = await import('./s3-store.js');
      return { remote, store: await openS3Store(remote) };
    })();
    connecting.catch(() => {
      connecting = undefined;
    });
    return connecting;
  };
  const cache = (async () =>
    options.cache ?? openObjectCache({ limitBytes: (await connect()).remote.cacheLimit }))();
  cache.catch(() => {});
  const manifests = new Map<string, { stamp: string; files: Record<string, FileEntry>; key: string }>();
  const limit = limiter(16);
  let lastEvict = 0;

  /** The stub's file list and the remote key prefix of its run. */
  const stubOf = async (
    runDir: string,
  ): Promise<{ files: Record<string, FileEntry>; prefix: string; manifest: Buffer }> => {
    const file = path.join(runDir, MANIFEST_FILE);
    const bytes = await fsp.readFile(file);
    const marker = readStubMarker(runDir);
    if (!marker) throw new RemoteIntegrityError([runDir], `not a remote stub (no ${REMOTE_STUB_FILE})`);
    const { remote } = await connect();
    if (marker.remote !== remote.url)
      throw new RemoteConfigError(
        `remote: run ${runDir} was indexed from ${marker.remote}, but the vault's remote is now ${remote.url}; run \`specimen index --remote\` again`,
        'remote.url',
      );
    const st = fs.statSync(file);
    const stamp = `${st.ino}:${st.mtimeMs}`;
    let hit = manifests.get(runDir);
    if (!hit || hit.stamp !== stamp) {
      const decoded = decodeManifest(bytes, marker.key);
      hit = {
        stamp,
        files: (decoded.files ?? {}) as unknown as Record<string, FileEntry>,
        key: marker.key,
      };
      if (manifests.size >= 1024) manifests.delete(manifests.keys().next().value!);
      manifests.set(runDir, hit);
    }
    return { files: hit.files, prefix: hit.key.slice(0, -MANIFEST_FILE.length), manifest: bytes };
  };

  const fromCache = async (
    files: Record<string, FileEntry>,
    prefix: string,
    rel: string,
  ): Promise<{ file: string; downloaded: number } | undefined> => {
    const entry = files[rel];
    if (!entry) return undefined;
    const c = await cache;
    const hit = await c.lookup(entry.sha256);
    if (hit) return { file: hit, downloaded: 0 };
    const { store } = await connect();
    const key = `${prefix}${rel}`;
    const file = await limit(() => c.fill(entry.sha256, entry.bytes, () => store.getStream(key), key));
    // The cache grew: keep it within its limit, at most every few seconds (eviction lists the cache).
    if (Date.now() - lastEvict > EVICT_EVERY_MS) {
      lastEvict = Date.now();
      c.evict().catch(() => {}); // a failed eviction only leaves the cache larger until the next one
    }
    return { file, downloaded: entry.bytes };
  };

  return {
    cache,
    async file(runDir, rel) {
      const local = path.join(runDir, ...rel.split('/'));
      if (fs.existsSync(local)) return local;
      const { files, prefix } = await stubOf(runDir);
      return (await fromCache(files, prefix, rel))?.file;
    },
    async fetchIntoStub(runDir, rels) {
      const { files, prefix, manifest } = await stubOf(runDir);
      const report: FetchReport = { files: 0, downloaded: 0, bytes: 0 };
      const wanted = rels.filter((r) => files[r] && !fs.existsSync(path.join(runDir, ...r.split('/'))));
      if (wanted.length === 0) return report;
      const links: Record<string, string> = {};
      // What the stub holds already is moved into the new one.
      const keep = Object.keys(files).filter((rel) => fs.existsSync(path.join(runDir, ...rel.split('/'))));
      await Promise.all(
        wanted.map(async (rel) => {
          const got = (await fromCache(files, prefix, rel))!;
          links[rel] = got.file;
          report.files++;
          report.downloaded += got.downloaded;
          report.bytes += files[rel]!.bytes;
        }),
      );
      // Rebuilt whole and renamed into place: the indexer notices the changed stub.
      await writeStub(
        path.dirname(runDir),
        path.basename(runDir),
        manifest,
        readStubMarker(runDir)!,
        links,
        keep,
      );
      return report;
    },
    async evict() {
      return (await cache).evict();
    },
    close() {
      void connecting?.then(({ store }) => {
        if (!options.store) store.close();
      });
    },
  };
}

/** Stub run directories of a specimen directory (run IDs sorted). */
export function stubRunDirs(specimenDir: string): string[] {
  const runsDir = path.join(specimenDir, RUNS_DIR);
  if (!fs.existsSync(runsDir)) return [];
  return fs
    .readdirSync(runsDir)
    .filter((n) => !n.startsWith('.') && fs.existsSync(path.join(runsDir, n, REMOTE_STUB_FILE)))
    .sort()
    .map((n) => path.join(runsDir, n));
}
