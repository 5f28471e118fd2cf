/**
 * A cold tensor slice of a remote-only run through the object cache, against a real S3-compatible server
 * (versitygw on loopback, started here). A 2,048 × 2,048 float32 tensor (256 × 256 chunks, zstd) is pushed;
 * a fresh vault catalogs it with `index --remote` and reads rows 0–511 (16 chunks) the way the web UI does:
 * `openTensor` with the stub resolver, each chunk fetched, verified by sha256 and stored in an empty cache,
 * then decoded. The baseline is the SDK getting the same objects (zarr.json and the 16 chunks) with ranged
 * GETs at the same concurrency, into memory, without decoding. Median of 5 rounds, each with a new cache.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { decodeManifest } from '../src/format/msgpack.js';
import { openObjectCache } from '../src/remote/cache.js';
import { parseRemoteConfig } from '../src/remote/config.js';
import { indexRemote } from '../src/remote/index-remote.js';
import { openRemoteFiles } from '../src/remote/on-demand.js';
import { limiter } from '../src/remote/pool.js';
import { pushVault } from '../src/remote/push.js';
import { openS3Store } from '../src/remote/s3-store.js';
import { SpecimenStorage } from '../src/storage/specimen-storage.js';
import { openTensor } from '../src/storage/tensors/index.js';
import { Vault } from '../src/storage/vault.js';
import { addSpecimen, SPECIMEN } from '../test/support/remote-vault.js';
import { S3_ACCESS_KEY, S3_SECRET_KEY, s3ServerBinary, TestS3Server } from '../test/support/s3-server.js';
import type { BenchOptions, BenchResult } from './harness.js';

const CONCURRENCY = 16;
const SIDE = 2048;
const CHUNK = 256;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (s3ServerBinary() === false) {
    console.log('skipped: the S3 test server is not built (bash scripts/s3-server.sh --build)');
    return [];
  }
  const rows = options.quick ? 256 : 512;
  const rounds = options.quick ? 3 : 5;
  const server = await TestS3Server.start();
  Object.assign(process.env, server.env);
  const temp: string[] = [];
  const tmp = (tag: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sv-bench-${tag}-`));
    temp.push(dir);
    return dir;
  };
  try {
    await server.createBucket('bench');
    const remote = parseRemoteConfig({
      url: 's3://bench/cache',
      endpoint: server.endpoint,
      concurrency: CONCURRENCY,
    });
    const store = await openS3Store(remote);
    const source = await Vault.init(tmp('cache-src'));
    await addSpecimen(source);
    const s = await SpecimenStorage.open(SPECIMEN, { vault: source });
    const runId = await s.startRun({ seeds: { global: 1 } });
    const data = Float32Array.from({ length: SIDE * SIDE }, (_, i) => Math.sin(i / 97) * 100);
    await s.writeTensors('w', data, { shape: [SIDE, SIDE], chunks: [CHUNK, CHUNK], compressor: 'zstd' });
    await s.finish({});
    await pushVault(source, remote, store);

    const reader = await Vault.init(tmp('cache-reader'));
    await indexRemote(reader, remote, store);
    const stub = path.join(reader.specimenDir(SPECIMEN), 'runs', runId);
    const files = decodeManifest(fs.readFileSync(path.join(stub, 'manifest.msgpack')), 'bench')
      .files as Record<string, { bytes: number }>;
    const rowChunks = rows / CHUNK;
    const keys = ['w.zarr/zarr.json'];
    for (let r = 0; r < rowChunks; r++)
      for (let c = 0; c < SIDE / CHUNK; c++) keys.push(`w.zarr/c/${r}/${c}`);
    for (const k of keys) if (!files[k]) throw new Error(`the run has no ${k}`);
    const bytes = keys.reduce((n, k) => n + files[k]!.bytes, 0);

    const sdk = new S3Client({
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_SECRET_KEY },
    });
    const ours: number[] = [];
    const base: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Ours: an empty cache, the tensor opened through the stub resolver, the slice read and decoded.
      const cache = openObjectCache({ dir: path.join(tmp('cache-objects'), 'objects') });
      const remoteFiles = openRemoteFiles(reader.root, { remote, store, cache });
      let t0 = performance.now();
      const t = await openTensor(path.join(stub, 'w.zarr'), {
        resolve: (key) => remoteFiles.file(stub, `w.zarr/${key}`),
      });
      const got = await t.read([[0, rows], null]);
      ours.push(performance.now() - t0);
      if (got.shape[0] !== rows || got.data[SIDE + 5] !== data[SIDE + 5]) throw new Error('wrong slice');
      if (fs.readdirSync(cache.dir).length !== keys.length)
        throw new Error(`cached ${fs.readdirSync(cache.dir).length} objects, expected ${keys.length}`);

      // Baseline: ranged GETs of the same objects, into memory.
      const limit = limiter(CONCURRENCY);
      t0 = performance.now();
      await Promise.all(
        keys.map((k) =>
          limit(async () => {
            const out = await sdk.send(
              new GetObjectCommand({
                Bucket: 'bench',
                Key: `cache/specimens/${SPECIMEN}/runs/${runId}/${k}`,
                Range: `bytes=0-${files[k]!.bytes - 1}`,
              }),
            );
            await out.Body!.transformToByteArray();
          }),
        ),
      );
      base.push(performance.now() - t0);
    }
    sdk.destroy();
    store.close();
    const value = median(ours);
    const baseline = median(base);
    return [
      {
        name: `remote.cache.slice.${rows}x${SIDE}`,
        description: `cold slice of ${rows} × ${SIDE} float32 (${keys.length - 1} zstd chunks) of a remote-only run through the object cache vs ranged GETs of the same objects`,
        value,
        baseline,
        unit: 'ms',
        ratio: value / baseline,
        target: '≤ 2',
        pass: value / baseline <= 2,
        details: { objects: keys.length, bytes, concurrency: CONCURRENCY },
      },
    ];
  } finally {
    await server.dispose();
    for (const d of temp) fs.rmSync(d, { recursive: true, force: true });
  }
}
