/**
 * The local content-addressed cache of remote objects: `~/.cache/specimen-vault/objects/<sha256>` (or
 * `$SPECIMEN_CACHE_DIR/objects`, `$XDG_CACHE_HOME/specimen-vault/objects`). A run manifest records every
 * file's sha256, so the hash is the key: one copy per content whichever run or remote it came from, and a
 * filled entry is verified once, on the way in (streamed to a temporary file, hashed, renamed into place
 * only when size and sha256 match).
 *
 * **Size limit, LRU.** Every hit refreshes the entry's mtime; `evict()` removes the least recently used
 * entries until the total is under the limit (`remote.cacheLimit`, 10 GiB by default). Entries used in the
 * last minute are never evicted, so a reader that has just been handed a path can still open it. Files
 * `specimen fetch` copies into remote stubs (for the catalog's views) are the vault's, like pulled files:
 * evicting the cache never takes a file from a view.
 *
 * @example
 * const cache = openObjectCache({ limitBytes: 1 << 30 })
 * const file = await cache.fill(entry.sha256, entry.bytes, () => store.getStream(key))
 * await cache.evict()
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { RemoteIntegrityError } from '../errors.js';
import { OBJECT_CACHE_DIR } from '../format/layout.js';
import { saveStream } from './streams.js';

/** Default size limit of the cache. */
export const DEFAULT_CACHE_LIMIT = 10 * 1024 ** 3;
/** Entries used more recently than this are never evicted (ms). */
const IN_USE_MS = 60_000;

/** The cache's root directory (`…/specimen-vault`), from the environment. */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPECIMEN_CACHE_DIR) return path.resolve(env.SPECIMEN_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? path.resolve(env.XDG_CACHE_HOME) : path.join(os.homedir(), '.cache');
  return path.join(base, 'specimen-vault');
}

/** What `evict` did. */
export interface EvictReport {
  removed: number;
  freedBytes: number;
  /** Bytes of the entries left. */
  keptBytes: number;
}

export interface ObjectCache {
  readonly dir: string;
  readonly limitBytes: number;
  /** The entry's path when cached (and marks it used), else undefined. */
  lookup(sha256: string): Promise<string | undefined>;
  /**
   * The entry's path, filling it first from `open()` when absent; concurrent fills of one entry share one
   * download. RemoteIntegrityError naming `key` when the bytes do not match.
   */
  fill(
    sha256: string,
    bytes: number,
    open: () => Promise<Readable | undefined>,
    key?: string,
  ): Promise<string>;
  /** Removes least recently used entries until the total is within the limit. */
  evict(): Promise<EvictReport>;
}

const SHA = /^[0-9a-f]{64}$/;

/** Opens (creating on first fill) the cache at `dir` (default: `cacheRoot()/objects`). */
export function openObjectCache(options: { dir?: string; limitBytes?: number } = {}): ObjectCache {
  const dir = options.dir ?? path.join(cacheRoot(), OBJECT_CACHE_DIR);
  const limitBytes = options.limitBytes ?? DEFAULT_CACHE_LIMIT;
  const filling = new Map<string, Promise<string>>();
  const entry = (sha256: string): string => {
    // The key comes from a manifest: only a sha256 may name a file here.
    if (!SHA.test(sha256)) throw new RemoteIntegrityError([sha256], 'not a sha256 digest');
    return path.join(dir, sha256);
  };
  const touch = async (file: string): Promise<boolean> => {
    const now = new Date();
    try {
      await fsp.utimes(file, now, now);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  };
  const cache: ObjectCache = {
    dir,
    limitBytes,
    async lookup(sha256) {
      const file = entry(sha256);
      return (await touch(file)) ? file : undefined;
    },
    fill(sha256, bytes, open, key = sha256) {
      let file: string;
      try {
        file = entry(sha256);
      } catch (err) {
        return Promise.reject(err);
      }
      const running = filling.get(sha256);
      if (running) return running;
      const task = (async () => {
        if (await touch(file)) return file;
        await fsp.mkdir(dir, { recursive: true });
        const stream = await open();
        if (!stream) throw new RemoteIntegrityError([key], 'the object is missing on the remote');
        const tmp = path.join(dir, `.tmp-${sha256}-${process.pid}-${randomBytes(4).toString('hex')}`);
        try {
          const got = await saveStream(stream, tmp, 0o444);
          if (got.sha256 !== sha256 || got.bytes !== bytes)
            throw new RemoteIntegrityError(
              [key],
              `its bytes do not match the run manifest (sha256 ${got.sha256.slice(0, 12)}…, ${got.bytes} bytes; expected ${sha256.slice(0, 12)}…, ${bytes} bytes); run \`specimen verify --remote\``,
            );
          await fsp.rename(tmp, file);
          return file;
        } finally {
          await fsp.rm(tmp, { force: true });
        }
      })();
      filling.set(sha256, task);
      return task.finally(() => filling.delete(sha256));
    },
    async evict() {
      const report: EvictReport = { removed: 0, freedBytes: 0, keptBytes: 0 };
      let names: string[];
      try {
        names = await fsp.readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
        throw err;
      }
      const entries: { file: string; size: number; used: number }[] = [];
      const now = Date.now();
      for (const name of names) {
        const file = path.join(dir, name);
        const st = fs.statSync(file, { throwIfNoEntry: false });
        if (!st?.isFile()) continue;
        if (name.startsWith('.tmp-')) {
          // A fill that died long ago (a live one renames within its download).
          if (now - st.mtimeMs > 24 * 3600_000) await fsp.rm(file, { force: true });
          continue;
        }
        if (!SHA.test(name)) continue;
        entries.push({ file, size: st.size, used: st.mtimeMs });
      }
      let total = entries.reduce((n, e) => n + e.size, 0);
      entries.sort((a, b) => a.used - b.used);
      for (const e of entries) {
        if (total <= limitBytes) break;
        if (now - e.used < IN_USE_MS) break; // the rest are newer still
        await fsp.rm(e.file, { force: true });
        total -= e.size;
        report.removed++;
        report.freedBytes += e.size;
      }
      report.keptBytes = total;
      return report;
    },
  };
  return cache;
}
