// Reading remote-only runs on demand through the local object cache, against a real S3-compatible server
// (versitygw): `specimen fetch` puts a stub's metrics in the views, the web UI's server reads metrics and
// tensor chunks of stubs on access, and bytes that do not match the run manifest never enter the cache.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertSystemJsonl } from '../../src/runner/convert.js';
import type { SeriesResponse } from '../../src/server/api-types.js';
import { startServer } from '../../src/server/index.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import type { Vault } from '../../src/storage/vault.js';
import { tempDir } from '../support/helpers.js';
import { addRuns, addSpecimen, SPECIMEN, teamVault } from '../support/remote-vault.js';
import { s3ServerBinary, useS3Server } from '../support/s3-server.js';

const HAVE_SERVER = s3ServerBinary() !== false;

describe.skipIf(!HAVE_SERVER)('remote runs read on demand through the object cache', () => {
  const s3 = useS3Server('team');
  const cacheDir = tempDir('sv-cache-');
  const objects = path.join(cacheDir, 'objects');
  const cli = (args: string[]) => s3.cli(args, 200_000);
  const withCache = (args: string[]) => {
    process.env.SPECIMEN_CACHE_DIR = cacheDir;
    return cli(args);
  };
  const query = async (vault: Vault, sql: string): Promise<unknown> => {
    const q = await cli(['query', sql, '--format', 'json', '--vault', vault.root]);
    expect(q.code, q.stderr).toBe(0);
    return JSON.parse(q.stdout);
  };
  let a: Vault;
  let runs: string[];

  beforeAll(async () => {
    a = await teamVault(s3.server(), 'team', { prefix: 'cache' });
    await addSpecimen(a);
    runs = await addRuns(a, 3, { steps: 25, tensorRows: 8 });
    const pushed = await cli(['push', '--vault', a.root]);
    expect(pushed.code, pushed.stderr).toBe(0);
  }, 120_000);
  afterAll(() => {
    delete process.env.SPECIMEN_CACHE_DIR;
  });

  it('specimen fetch brings stub metrics through the cache into the views, once', async () => {
    const b = await teamVault(s3.server(), 'team', { prefix: 'cache' });
    expect((await cli(['index', '--remote', '--quiet', '--vault', b.root])).code).toBe(0);
    const fetched = await withCache(['fetch', '--vault', b.root]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toMatch(
      /fetched 3 file\(s\) of 3 remote run\(s\) \([\d.]+ \w+, [\d.]+ \w+ downloaded/,
    );
    expect(fetched.stdout).toContain(`cache ${objects}`);
    // Each metrics file is one cache entry named by its sha256, and copied into its stub.
    const entries = fs.readdirSync(objects).filter((n) => !n.startsWith('.'));
    expect(entries).toHaveLength(3);
    for (const run of runs) {
      const linked = path.join(b.specimenDir(SPECIMEN), 'runs', run, 'metrics.parquet');
      expect(fs.readFileSync(linked)).toEqual(
        fs.readFileSync(path.join(a.specimenDir(SPECIMEN), 'runs', run, 'metrics.parquet')),
      );
      expect(fs.statSync(linked).nlink).toBe(1); // a hard link would alias the cache from the vault
    }
    expect(
      await query(
        b,
        `SELECT run_id, min(value) AS best FROM metrics WHERE metric = 'loss' GROUP BY run_id ORDER BY run_id`,
      ),
    ).toEqual(runs.map((run_id, i) => ({ run_id, best: (i + 1) / 25 })));
    expect(await query(b, `SELECT count(*) AS n FROM exp_${SPECIMEN} WHERE run_id = '${runs[1]}'`)).toEqual([
      { n: 25 },
    ]);
    // A second vault on this host shares the cache: nothing is downloaded again.
    const c = await teamVault(s3.server(), 'team', { prefix: 'cache' });
    expect((await cli(['index', '--remote', '--quiet', '--vault', c.root])).code).toBe(0);
    const again = await withCache(['fetch', '--vault', c.root]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/fetched 3 file\(s\) of 3 remote run\(s\) \([\d.]+ \w+, 0 B downloaded/);
    expect((await withCache(['fetch', '--vault', c.root])).stdout).toContain(
      'fetched 0 file(s) of 0 remote run(s)',
    );
  }, 240_000);

  it('the web UI reads tensor chunks and metrics of a stub on demand', async () => {
    const b = await teamVault(s3.server(), 'team', { prefix: 'cache' });
    expect((await cli(['index', '--remote', '--quiet', '--vault', b.root])).code).toBe(0);
    // The server runs in this process: it takes credentials and the cache from the environment.
    const saved = { ...process.env };
    Object.assign(process.env, s3.server().env, { SPECIMEN_CACHE_DIR: tempDir('sv-cache-ui-') });
    const server = await startServer({ vaultRoot: b.root, port: 0, index: false });
    try {
      const run = runs[2]!; // seed 2: w[i] = 3 i
      const base = `${server.url}api/specimens/${SPECIMEN}/runs/${run}`;
      const detail = await fetch(base);
      expect(detail.status).toBe(200);
      const body = (await detail.json()) as { tensors: { name: string; shape: number[] }[] };
      expect(body.tensors.map((t) => [t.name, t.shape])).toEqual([['w', [8, 16]]]);
      const slice = await fetch(`${base}/tensors/w/slice?sel=5,:`);
      expect(slice.status).toBe(200);
      const values = new Float32Array(await slice.arrayBuffer());
      expect([...values]).toEqual(Array.from({ length: 16 }, (_, j) => (5 * 16 + j) * 3));
      // Metrics and chunks came through the cache; the vault is unchanged (a GET changes nothing).
      const stub = path.join(b.specimenDir(SPECIMEN), 'runs', run);
      expect(fs.readdirSync(stub).sort()).toEqual(['.remote-stub', 'manifest.msgpack']);
      const metrics = await fetch(`${server.url}api/specimens/${SPECIMEN}/runs/${run}/metrics`);
      expect(metrics.status).toBe(200);
      const table = JSON.stringify(await metrics.json());
      expect(table).toContain('"loss"');
      expect(table).toContain('"acc"');
      expect(fs.readdirSync(stub).sort()).toEqual(['.remote-stub', 'manifest.msgpack']);
      const cached = fs.readdirSync(path.join(process.env.SPECIMEN_CACHE_DIR!, 'objects'));
      expect(cached.length).toBeGreaterThanOrEqual(2); // zarr.json and the chunk (+ metrics)
    } finally {
      await server.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }, 240_000);

  it('refuses an object whose bytes differ from the run manifest, naming it, and caches nothing of it', async () => {
    const d = await teamVault(s3.server(), 'team', { prefix: 'cache' });
    expect((await cli(['index', '--remote', '--quiet', '--vault', d.root])).code).toBe(0);
    const run = runs[0]!;
    const file = s3.server().objectFile('team', `cache/specimens/${SPECIMEN}/runs/${run}/metrics.parquet`);
    const good = fs.readFileSync(file);
    const own = tempDir('sv-cache-bad-');
    try {
      const bad = Buffer.from(good);
      bad[bad.length >> 1]! ^= 0xff;
      fs.writeFileSync(file, bad);
      process.env.SPECIMEN_CACHE_DIR = own;
      const fetched = await cli(['fetch', '--vault', d.root]);
      expect(fetched.code).toBe(1);
      expect(fetched.stderr).toContain(`specimens/${SPECIMEN}/runs/${run}/metrics.parquet`);
      expect(fetched.stderr).not.toMatch(/\n\s+at /);
      // The two good runs arrived; the bad one is still a stub without metrics.
      expect(fs.readdirSync(path.join(own, 'objects')).filter((n) => !n.startsWith('.'))).toHaveLength(2);
      expect(fs.existsSync(path.join(d.specimenDir(SPECIMEN), 'runs', run, 'metrics.parquet'))).toBe(false);
    } finally {
      fs.writeFileSync(file, good);
    }
  }, 240_000);

  it('fetch brings system.parquet along, and the server reads a stub system series through the cache', async () => {
    // A run sampled system metrics (system.jsonl converted at seal, as the runner does).
    const src = await teamVault(s3.server(), 'team', { prefix: 'cache-system' });
    await addSpecimen(src);
    const storage = await SpecimenStorage.open(SPECIMEN, { vault: src });
    const runId = await storage.startRun({});
    const runDir = path.join(src.specimenDir(SPECIMEN), 'runs', runId);
    const w = storage.metricsWriter();
    for (let i = 0; i < 5; i++) w.log({ step: i, loss: 1 / (i + 1) });
    await w.close();
    const samples = [0, 1, 2].map((i) => ({
      time: 1e9 + i,
      elapsed_s: i,
      cpu_percent: 50 + i,
      rss_bytes: (i + 1) << 20,
    }));
    fs.writeFileSync(path.join(runDir, 'system.jsonl'), samples.map((r) => JSON.stringify(r)).join('\n'));
    await convertSystemJsonl(runDir, runId);
    fs.rmSync(path.join(runDir, 'system.jsonl'));
    await storage.finish({});
    expect((await cli(['push', '--vault', src.root])).code).toBe(0);
    const seriesPath = `/api/series?run=${SPECIMEN}/${runId}&metric=rss_bytes&width=100&source=system`;

    // The server reads the stub's system series through the object cache; the stub is unchanged.
    const b = await teamVault(s3.server(), 'team', { prefix: 'cache-system' });
    expect((await cli(['index', '--remote', '--quiet', '--vault', b.root])).code).toBe(0);
    const stub = path.join(b.specimenDir(SPECIMEN), 'runs', runId);
    const saved = { ...process.env };
    Object.assign(process.env, s3.server().env, { SPECIMEN_CACHE_DIR: tempDir('sv-cache-system-') });
    const server = await startServer({ vaultRoot: b.root, port: 0, index: false });
    try {
      const r = await fetch(`${server.url}${seriesPath.slice(1)}`);
      expect(r.status).toBe(200);
      const body = (await r.json()) as SeriesResponse;
      expect(body.series).toHaveLength(1);
      expect(JSON.stringify(body.series[0])).toContain(String(3 << 20));
      expect(fs.readdirSync(stub).sort()).toEqual(['.remote-stub', 'manifest.msgpack']);
    } finally {
      await server.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }

    // `specimen fetch` copies it into the stub with the metrics.
    const fetched = await withCache(['fetch', '--vault', b.root]);
    expect(fetched.code, fetched.stderr).toBe(0);
    expect(fetched.stdout).toMatch(/fetched 2 file\(s\) of 1 remote run\(s\)/);
    expect(fs.readFileSync(path.join(stub, 'system.parquet'))).toEqual(
      fs.readFileSync(path.join(runDir, 'system.parquet')),
    );
    expect(await query(b, `SELECT peak_rss_bytes FROM runs WHERE run_id = '${runId}'`)).toEqual([
      { peak_rss_bytes: 3 << 20 },
    ]);
  }, 240_000);
});
