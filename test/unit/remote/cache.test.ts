// The content-addressed object cache on a real directory: entries keyed and verified by sha256, shared
// fills, LRU eviction to the size limit that spares entries in use.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { cacheRoot, openObjectCache } from '../../../src/remote/cache.js';
import { parseRemoteConfig } from '../../../src/remote/config.js';
import { tempDir } from '../../support/helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const body = (n: number, fill: number) => Buffer.alloc(n, fill);

describe('object cache', () => {
  it('fills an entry once, verified, and answers later lookups from disk', async () => {
    const cache = openObjectCache({ dir: path.join(tempDir('sv-oc-'), 'objects'), limitBytes: 1 << 20 });
    const bytes = body(1000, 7);
    let opened = 0;
    const open = async () => {
      opened++;
      return Readable.from([bytes.subarray(0, 400), bytes.subarray(400)]);
    };
    expect(await cache.lookup(sha(bytes))).toBeUndefined();
    const [a, b] = await Promise.all([
      cache.fill(sha(bytes), 1000, open),
      cache.fill(sha(bytes), 1000, open),
    ]);
    expect(a).toBe(path.join(cache.dir, sha(bytes)));
    expect(b).toBe(a);
    expect(opened).toBe(1); // concurrent fills share one download
    expect(fs.readFileSync(a)).toEqual(bytes);
    expect(await cache.lookup(sha(bytes))).toBe(a);
    await cache.fill(sha(bytes), 1000, open);
    expect(opened).toBe(1);
  });

  it('refuses bytes that do not match, naming the key, and keeps nothing of them', async () => {
    const cache = openObjectCache({ dir: path.join(tempDir('sv-oc-'), 'objects') });
    const good = body(64, 1);
    const err = await cache
      .fill(sha(good), 64, async () => Readable.from([body(64, 2)]), 'specimens/x/runs/r/metrics.parquet')
      .catch((e: unknown) => e);
    expect(isVaultError(err, 'RemoteIntegrityError')).toBe(true);
    expect((err as Error).message).toContain('specimens/x/runs/r/metrics.parquet');
    expect(fs.readdirSync(cache.dir)).toEqual([]);
    await expect(cache.fill('../../etc/passwd', 1, async () => Readable.from([]))).rejects.toThrow(/sha256/);
  });

  it('evicts least recently used entries down to the limit, never those in use', async () => {
    const cache = openObjectCache({ dir: path.join(tempDir('sv-oc-'), 'objects'), limitBytes: 2500 });
    const bodies = [1, 2, 3, 4].map((i) => body(1000, i));
    for (const b of bodies) await cache.fill(sha(b), 1000, async () => Readable.from([b]));
    // Used 4, 3, 2 and 1 hours ago, except the last, just now; then the first is used again.
    const hours = [4, 3, 2, 0];
    bodies.forEach((b, i) => {
      const t = new Date(Date.now() - hours[i]! * 3600_000);
      fs.utimesSync(path.join(cache.dir, sha(b)), t, t);
    });
    expect(await cache.lookup(sha(bodies[0]!))).toBeDefined();
    const report = await cache.evict();
    expect(report).toEqual({ removed: 2, freedBytes: 2000, keptBytes: 2000 });
    const left = fs.readdirSync(cache.dir).sort();
    expect(left).toEqual([sha(bodies[0]!), sha(bodies[3]!)].sort());
    // Everything left was used within the last minute: over the limit, it still stays.
    const tight = openObjectCache({ dir: cache.dir, limitBytes: 0 });
    expect((await tight.evict()).removed).toBe(0);
  });

  it('takes its limit from remote.cacheLimit, in bytes or with a unit', () => {
    const limit = (cacheLimit?: unknown) =>
      parseRemoteConfig({ url: 's3://bucket', ...(cacheLimit === undefined ? {} : { cacheLimit }) })
        .cacheLimit;
    expect(limit()).toBe(10 * 1024 ** 3);
    expect(limit(5000)).toBe(5000);
    expect(limit('500 MiB')).toBe(500 * 1024 ** 2);
    expect(limit('2GB')).toBe(2e9);
    expect(() => limit('lots')).toThrow(/remote\.cacheLimit/);
  });

  it('lives under SPECIMEN_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache', () => {
    expect(cacheRoot({ SPECIMEN_CACHE_DIR: '/tmp/c' })).toBe('/tmp/c');
    expect(cacheRoot({ XDG_CACHE_HOME: '/tmp/x' })).toBe('/tmp/x/specimen-vault');
    expect(cacheRoot({})).toMatch(/\.cache\/specimen-vault$/);
  });
});
