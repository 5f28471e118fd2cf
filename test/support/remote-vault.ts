// Builders for the remote tests: local vaults whose specimen-vault.json points at a test S3 server, and
// sealed runs with real metrics and tensors.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { tempDir } from './helpers.js';
import type { TestS3Server } from './s3-server.js';

export const SPECIMEN = '2025_01_02_team_sweep';

/** A new local vault whose remote is `s3://<bucket>/<prefix>` on `server`. */
export async function teamVault(
  server: TestS3Server,
  bucket: string,
  options: { prefix?: string; remote?: Record<string, unknown> } = {},
): Promise<Vault> {
  const dir = tempDir('sv-host-');
  await Vault.init(dir);
  const file = path.join(dir, 'specimen-vault.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  config.remote = {
    url: `s3://${bucket}${options.prefix ? `/${options.prefix}` : ''}`,
    endpoint: server.endpoint,
    region: 'us-east-1',
    ...options.remote,
  };
  fs.writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`);
  return Vault.open(dir);
}

/** Creates the test specimen with field notes. */
export async function addSpecimen(vault: Vault, id = SPECIMEN): Promise<void> {
  await vault.createSpecimen({
    specimenId: id,
    domain: 'training',
    method: 'fine_tuning',
    model: 'mlp',
    tags: ['team'],
  });
  fs.writeFileSync(path.join(vault.specimenDir(id), 'field_notes.md'), '# Field notes\n\n## Observations\n');
}

/** Adds `n` sealed runs (metrics of `steps` rows, a small tensor) to the specimen; returns their IDs. */
export async function addRuns(
  vault: Vault,
  n: number,
  options: { id?: string; steps?: number; tensorRows?: number; seed?: number } = {},
): Promise<string[]> {
  const ids: string[] = [];
  for (let r = 0; r < n; r++) {
    const s = await SpecimenStorage.open(options.id ?? SPECIMEN, { vault });
    const seed = (options.seed ?? 0) + r;
    ids.push(await s.startRun({ seeds: { global: seed } }));
    const w = s.metricsWriter();
    const steps = options.steps ?? 20;
    for (let i = 0; i < steps; i++) w.log({ step: i, loss: (seed + 1) / (i + 1), acc: i / steps });
    const rows = options.tensorRows ?? 4;
    await s.writeTensors(
      'w',
      Float32Array.from({ length: rows * 16 }, (_, i) => i * (seed + 1)),
      {
        shape: [rows, 16],
      },
    );
    await s.finish({ summary: { seed } });
  }
  return ids;
}

/** Run IDs present in a local vault's specimen. */
export function localRunIds(vault: Vault, id = SPECIMEN): string[] {
  const dir = path.join(vault.specimenDir(id), 'runs');
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((n) => !n.startsWith('.'))
        .sort()
    : [];
}

/**
 * `n` more sealed runs made quickly from the sealed run `template`: its files copied, plus a `seed.txt` of
 * its own (and `blobs` random files if asked), each inventoried and sealed under a fresh run ID (sealing through the library re-reads the
 * metrics, which would make hundreds of runs slow to build).
 */
export async function cloneRuns(
  vault: Vault,
  template: string,
  n: number,
  options: { id?: string; blobs?: number; blobBytes?: number } = {},
): Promise<string[]> {
  const id = options.id ?? SPECIMEN;
  const { claimRunDir } = await import('../../src/storage/runs.js');
  const { SPACE_RESERVE_FILE } = await import('../../src/format/layout.js');
  const { inventory } = await import('../../src/storage/hashing.js');
  const { readManifestFile, writeManifestFile } = await import('../../src/format/msgpack.js');
  const runsDir = path.join(vault.specimenDir(id), 'runs');
  const src = path.join(runsDir, template);
  const manifest = await readManifestFile(path.join(src, 'manifest.msgpack'));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const { runId, dir } = await claimRunDir(runsDir);
    // A claimed run holds space for its seal; this clone seals by hand, so it lets that go first.
    fs.rmSync(path.join(dir, SPACE_RESERVE_FILE), { force: true });
    for (const f of fs.readdirSync(src))
      if (f !== 'manifest.msgpack') fs.cpSync(path.join(src, f), path.join(dir, f), { recursive: true });
    fs.writeFileSync(path.join(dir, 'seed.txt'), `seed ${i} of ${runId}\n`);
    // Optional bulk: many objects per run, so an upload takes long enough to be interrupted.
    if (options.blobs) fs.mkdirSync(path.join(dir, 'blobs'));
    for (let b = 0; b < (options.blobs ?? 0); b++)
      fs.writeFileSync(path.join(dir, 'blobs', `${b}.bin`), randomBytes(options.blobBytes ?? 1024));
    const files = await inventory(dir, (rel) => rel === 'manifest.msgpack');
    await writeManifestFile(path.join(dir, 'manifest.msgpack'), {
      ...manifest,
      run_id: runId,
      summary: { seed: i },
      files: files as unknown as Record<string, never>,
    });
    ids.push(runId);
  }
  return ids;
}
