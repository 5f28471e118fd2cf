/**
 * `specimen index --remote` against a real S3-compatible server (versitygw on loopback, started here): a
 * remote of N runs (10,000; 1,000 quick) in specimens of 500, each run with its metrics, a small tensor
 * and a log, is cataloged into a fresh vault (`indexRemote` + `indexVault`: listing, run manifests, stubs,
 * the DuckDB catalog) against the floor any remote index has to pay — listing the bucket and getting every
 * run manifest with the SDK at the same concurrency. A second figure: re-indexing when nothing moved
 * against the listing alone. Median of 3 rounds (fresh vault each).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { indexVault } from '../src/catalog/index.js';
import { runIdBase } from '../src/format/ids.js';
import { decodeManifest, encodeManifest } from '../src/format/msgpack.js';
import { parseRemoteConfig } from '../src/remote/config.js';
import { indexRemote } from '../src/remote/index-remote.js';
import { MANIFEST_SHA_META } from '../src/remote/layout.js';
import { limiter } from '../src/remote/pool.js';
import { openS3Store } from '../src/remote/s3-store.js';
import { sha256Hex } from '../src/remote/state.js';
import { listFiles } from '../src/storage/hashing.js';
import { Vault } from '../src/storage/vault.js';
import { addRuns, addSpecimen, SPECIMEN } from '../test/support/remote-vault.js';
import { s3ServerBinary, TestS3Server } from '../test/support/s3-server.js';
import type { BenchOptions, BenchResult } from './harness.js';

const CONCURRENCY = 16;
const PER_SPECIMEN = 500;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (s3ServerBinary() === false) {
    console.log('skipped: the S3 test server is not built (bash scripts/s3-server.sh --build)');
    return [];
  }
  const n = options.quick ? 1000 : 10_000;
  const server = await TestS3Server.start();
  Object.assign(process.env, server.env);
  const temp: string[] = [];
  const tmpVault = async (tag: string): Promise<Vault> => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sv-bench-${tag}-`));
    temp.push(dir);
    return Vault.init(dir);
  };
  try {
    await server.createBucket('bench');
    const remote = parseRemoteConfig({
      url: 's3://bench/index',
      endpoint: server.endpoint,
      concurrency: CONCURRENCY,
    });
    // One real sealed run is the template: every remote run is its files under a new run ID.
    const source = await tmpVault('remote-index-src');
    await addSpecimen(source);
    const [template] = await addRuns(source, 1, { steps: 1000 });
    const templateDir = path.join(source.specimenDir(SPECIMEN), 'runs', template!);
    const runFiles = (await listFiles(templateDir)).filter((f) => f !== 'manifest.msgpack');
    const bodies = new Map(runFiles.map((f) => [f, fs.readFileSync(path.join(templateDir, f))]));
    const manifest = decodeManifest(fs.readFileSync(path.join(templateDir, 'manifest.msgpack')), 'template');
    const specimenFiles = ['manifest.msgpack', 'field_notes.md'].map(
      (f) => [f, fs.readFileSync(path.join(source.specimenDir(SPECIMEN), f))] as const,
    );
    const store = await openS3Store(remote);
    const limit = limiter(64);
    const specimens = Math.ceil(n / PER_SPECIMEN);
    const puts: Promise<unknown>[] = [];
    const start = Date.UTC(2025, 0, 2, 0, 0, 0);
    for (let s = 0; s < specimens; s++) {
      const id = `2025_01_02_bench_${String(s).padStart(3, '0')}`;
      for (const [f, body] of specimenFiles) puts.push(limit(() => store.put(`specimens/${id}/${f}`, body)));
      for (let r = 0; r < PER_SPECIMEN && s * PER_SPECIMEN + r < n; r++) {
        const runId = runIdBase(new Date(start + r * 1000));
        for (const [f, body] of bodies)
          puts.push(limit(() => store.put(`specimens/${id}/runs/${runId}/${f}`, body)));
        const bytes = encodeManifest({ ...manifest, run_id: runId });
        const sha = sha256Hex(bytes);
        puts.push(
          limit(() =>
            store.put(`specimens/${id}/runs/${runId}/manifest.msgpack`, bytes, {
              metadata: { [MANIFEST_SHA_META]: sha },
            }),
          ),
        );
      }
    }
    await Promise.all(puts);
    const objects = puts.length;

    const ours: number[] = [];
    const oursAgain: number[] = [];
    const floor: number[] = [];
    const listOnly: number[] = [];
    for (let round = 0; round < 3; round++) {
      // Ours: the remote index of a fresh vault, then once more with nothing moved.
      const vault = await tmpVault('remote-index');
      let t0 = performance.now();
      const report = await indexRemote(vault, remote, store);
      const catalog = await indexVault(vault.root);
      ours.push(performance.now() - t0);
      if (report.runs.added !== n || catalog.runs.total !== n)
        throw new Error(`indexed ${report.runs.added} / ${catalog.runs.total} of ${n} runs`);
      t0 = performance.now();
      const again = await indexRemote(vault, remote, store);
      await indexVault(vault.root);
      oursAgain.push(performance.now() - t0);
      if (again.reads !== 0) throw new Error(`re-index read ${again.reads} objects`);
      fs.rmSync(vault.root, { recursive: true, force: true });

      // The floor: list the bucket and get every run manifest.
      t0 = performance.now();
      const listed = await store.list('specimens/');
      const manifests = listed.filter((o) => o.key.endsWith('/manifest.msgpack') && o.key.includes('/runs/'));
      const got = await Promise.all(manifests.map((o) => limit(() => store.get(o.key))));
      floor.push(performance.now() - t0);
      if (got.length !== n) throw new Error(`listed ${got.length} run manifests of ${n}`);
      t0 = performance.now();
      await store.list('specimens/');
      listOnly.push(performance.now() - t0);
    }
    store.close();
    const details = { runs: n, specimens, objects, concurrency: CONCURRENCY };
    const result = (
      name: string,
      description: string,
      value: number,
      baseline: number,
      target: number,
    ): BenchResult => ({
      name,
      description,
      value,
      baseline,
      unit: 'ms',
      ratio: value / baseline,
      target: `≤ ${target}`,
      pass: value / baseline <= target,
      details,
    });
    return [
      result(
        `remote.index.${n}`,
        `index --remote of ${n} runs into a fresh vault (listing, manifests, stubs, catalog) vs listing the bucket and getting every run manifest with the SDK`,
        median(ours),
        median(floor),
        3,
      ),
      result(
        `remote.index.unchanged.${n}`,
        `index --remote of ${n} runs when nothing moved vs listing the bucket alone`,
        median(oursAgain),
        median(listOnly),
        3,
      ),
    ];
  } finally {
    await server.dispose();
    for (const d of temp) fs.rmSync(d, { recursive: true, force: true });
  }
}
