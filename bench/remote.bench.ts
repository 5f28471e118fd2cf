/**
 * Team-vault benchmarks against a real S3-compatible server (versitygw on loopback, started here):
 * - push of N runs × 1,000 steps (`pushVault`: checksummed, conditional, manifest last) against the AWS SDK
 *   putting the same files as plain objects with the same concurrency;
 * - pull of those runs into a fresh vault (`pullVault`: listing, streaming, sha256 checks, rename into
 *   place) against listing and getting the same objects into files.
 * Median of 3 rounds, each into a fresh key prefix. Skipped (with a message) when the server is not built.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseRemoteConfig } from '../src/remote/config.js';
import { limiter } from '../src/remote/pool.js';
import { pullVault } from '../src/remote/pull.js';
import { pushVault } from '../src/remote/push.js';
import { openS3Store } from '../src/remote/s3-store.js';
import { listFiles } from '../src/storage/hashing.js';
import { Vault } from '../src/storage/vault.js';
import { addRuns, addSpecimen, cloneRuns, SPECIMEN } from '../test/support/remote-vault.js';
import { s3ServerBinary, TestS3Server } from '../test/support/s3-server.js';
import type { BenchOptions, BenchResult } from './harness.js';

const CONCURRENCY = 16;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(options: BenchOptions): Promise<BenchResult[]> {
  if (s3ServerBinary() === false) {
    console.log('skipped: the S3 test server is not built (bash scripts/s3-server.sh --build)');
    return [];
  }
  const n = options.quick ? 20 : 100;
  const server = await TestS3Server.start();
  Object.assign(process.env, server.env);
  try {
    await server.createBucket('bench');
    const remoteFor = (prefix: string) =>
      parseRemoteConfig({ url: `s3://bench/${prefix}`, endpoint: server.endpoint, concurrency: CONCURRENCY });
    const vault = await Vault.init(fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-remote-')));
    await addSpecimen(vault);
    const [template] = await addRuns(vault, 1, { steps: 1000, tensorRows: 0 });
    await cloneRuns(vault, template!, n - 1);
    const specimenDir = vault.specimenDir(SPECIMEN);
    const files = await listFiles(specimenDir);
    const sizes = await Promise.all(files.map(async (f) => (await fsp.stat(path.join(specimenDir, f))).size));
    const totalBytes = sizes.reduce((a, b) => a + b, 0);

    const ours = { push: [] as number[], pull: [] as number[] };
    const base = { push: [] as number[], pull: [] as number[] };
    for (let round = 0; round < 3; round++) {
      // Ours: push into a fresh prefix, then pull it into a fresh vault.
      const remote = remoteFor(`ours-${round}`);
      const store = await openS3Store(remote);
      let t0 = performance.now();
      const pushed = await pushVault(vault, remote, store, {});
      ours.push.push(performance.now() - t0);
      if (pushed.pushed.length !== n) throw new Error(`pushed ${pushed.pushed.length} of ${n} runs`);
      const target = await Vault.init(fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-pull-')));
      t0 = performance.now();
      const pulled = await pullVault(target, remote, store, {});
      ours.pull.push(performance.now() - t0);
      if (pulled.pulled.length !== n) throw new Error(`pulled ${pulled.pulled.length} of ${n} runs`);
      store.close();
      fs.rmSync(target.root, { recursive: true, force: true });
      fs.rmSync(path.join(vault.root, '.specimen-remote'), { recursive: true, force: true });

      // Baseline: the same files as plain objects with the SDK, then listed and fetched into files.
      const plain = await openS3Store(remoteFor(`plain-${round}`));
      const limit = limiter(CONCURRENCY);
      t0 = performance.now();
      await Promise.all(
        files.map((f) =>
          limit(async () =>
            plain.put(`specimens/${SPECIMEN}/${f}`, await fsp.readFile(path.join(specimenDir, f))),
          ),
        ),
      );
      base.push.push(performance.now() - t0);
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-bench-plain-'));
      t0 = performance.now();
      const listed = await plain.list('specimens/');
      await Promise.all(
        listed.map((o) =>
          limit(async () => {
            const file = path.join(out, ...o.key.split('/'));
            await fsp.mkdir(path.dirname(file), { recursive: true });
            await pipeline((await plain.getStream(o.key)) as Readable, fs.createWriteStream(file));
          }),
        ),
      );
      base.pull.push(performance.now() - t0);
      plain.close();
      fs.rmSync(out, { recursive: true, force: true });
    }
    const details = {
      runs: n,
      steps: 1000,
      objects: files.length,
      bytes: totalBytes,
      concurrency: CONCURRENCY,
    };
    return (['push', 'pull'] as const).map((op) => {
      const value = median(ours[op]);
      const baseline = median(base[op]);
      return {
        name: `remote.${op}.${n}x1000`,
        description: `${op} of ${n} runs × 1,000 steps vs the AWS SDK ${op === 'push' ? 'putting' : 'listing and getting'} the same bytes as plain objects`,
        value,
        baseline,
        unit: 'ms',
        ratio: value / baseline,
        target: '≤ 1.5',
        pass: value / baseline <= 1.5,
        details,
      };
    });
  } finally {
    await server.dispose();
  }
}
