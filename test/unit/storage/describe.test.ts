// The one description of a run (storage/describe.ts): run order and lookup, the sync reader the indexer
// uses and the async one the storage API and the server use, which must agree on everything they decide.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeManifest, type PlainObject } from '../../../src/format/msgpack.js';
import {
  describeSpecimen,
  findMetricsFiles,
  listRunDirs,
  listTensorNames,
  type RunDescription,
  readRunDescription,
  readRunInfo,
  runDirOf,
} from '../../../src/storage/describe.js';
import { copyTree, REFERENCE_VAULT, tempDir } from '../../support/helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function specimenDir(): string {
  const dir = tempDir('sv-describe-');
  made.push(dir);
  return dir;
}

function writeRun(dir: string, manifest: PlainObject | Uint8Array): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'manifest.msgpack'),
    manifest instanceof Uint8Array ? manifest : encodeManifest(manifest),
  );
}

/** What the sync and the async reader both decide (the async one adds the schema-checked manifest). */
function decided(d: RunDescription): RunDescription {
  const { manifest: _m, error: _e, ...rest } = d as RunDescription & { manifest?: unknown; error?: unknown };
  return rest;
}

describe('listRunDirs and runDirOf', () => {
  it('lists strata/ first, then runs/* by time, skipping names that are not run IDs and a clashing runs/strata', () => {
    const dir = specimenDir();
    for (const name of ['20250102_100000_001', '20250102_100000', 'not a run', 'strata', '.tmp'])
      fs.mkdirSync(path.join(dir, 'runs', name), { recursive: true });
    fs.mkdirSync(path.join(dir, 'strata'));
    const warnings: string[] = [];
    const runs = listRunDirs(dir, warnings);
    expect(runs.map((r) => [r.runId, r.layout])).toEqual([
      ['strata', 'strata'],
      ['20250102_100000', 'runs'],
      ['20250102_100000_001', 'runs'],
    ]);
    expect(warnings).toHaveLength(2);
    expect(warnings.some((w) => w.includes('clashes with the legacy strata/ run'))).toBe(true);
    expect(runDirOf(dir, 'strata')).toEqual(runs[0]);
    expect(runDirOf(dir, '20250102_100000')).toEqual(runs[1]);
    expect(() => runDirOf(dir, '../x')).toThrow();
  });
});

describe('readRunDescription and readRunInfo', () => {
  it('agree on a sealed run, a running run whose writer is gone, and a run without a manifest', async () => {
    const dir = specimenDir();
    writeRun(path.join(dir, 'runs', '20250102_100000'), {
      run_id: '20250102_100000',
      run_timestamp: '2025-01-02T10:00:00Z',
      started: '2025-01-02T10:00:00.000001Z',
      ended: '2025-01-02T10:01:30.5Z',
      status: 'succeeded',
      seeds: { global: 3 },
      config: { lr: 0.1 },
      summary: { loss: 0.5 },
      artifacts: { w: { path: 'w.zarr', format: 'zarr', bytes: 12 } },
      files: {},
      sealed_at: '2025-01-02T10:01:31Z',
      git: { commit: 'abc' },
      command: ['node', 'protocol.ts'],
      exit_code: 0,
      reproduction: { of: '20250101_000000', verdict: 'identical' },
    });
    writeRun(path.join(dir, 'runs', '20250102_100001'), {
      run_id: '20250102_100001',
      run_timestamp: '2025-01-02T10:00:01Z',
      started: '2025-01-02T10:00:01Z',
      ended: null,
      status: 'running',
      seeds: {},
      config: {},
      summary: {},
      artifacts: {},
      owner: { pid: 2 ** 22 + 12345, host: os.hostname() },
    });
    fs.mkdirSync(path.join(dir, 'runs', '20250102_100002'), { recursive: true });
    const [sealed, running, empty] = listRunDirs(dir);
    const syncs = [sealed!, running!, empty!].map((rd) => readRunDescription('x', rd).info);
    const asyncs = await Promise.all([sealed!, running!, empty!].map((rd) => readRunInfo('x', rd)));
    expect(asyncs.map(decided)).toEqual(syncs);
    expect(syncs[0]).toMatchObject({
      status: 'succeeded',
      sealed: true,
      legacy: false,
      // Microseconds are kept.
      durationS: 90.499999,
      seeds: { global: 3 },
      gitCommit: 'abc',
      command: 'node protocol.ts',
      exitCode: 0,
      reproduces: '20250101_000000',
      reproduceVerdict: 'identical',
    });
    expect(syncs[1]).toMatchObject({ status: 'incomplete', sealed: false, ended: null, durationS: null });
    expect(syncs[2]).toMatchObject({ status: 'incomplete', started: null });
    expect(asyncs[2]!.manifest).toBeUndefined();
  });

  it('reads the Python layout: strata/ and runs without status as succeeded legacy runs', async () => {
    const root = specimenDir();
    copyTree(REFERENCE_VAULT, root);
    const dir = path.join(root, 'specimens', '2025_12_22_vn_comprehensive_experiments');
    const dirs = listRunDirs(dir);
    expect(dirs.map((r) => r.runId)).toEqual(['strata', '20251222_201718', '20251222_201819']);
    for (const rd of dirs) {
      const sync = readRunDescription('vn', rd).info;
      const info = await readRunInfo('vn', rd);
      expect(decided(info)).toEqual(sync);
      expect(sync).toMatchObject({ status: 'succeeded', legacy: true, sealed: false });
      expect(Object.keys(sync.config).length).toBeGreaterThan(0);
    }
    expect(readRunDescription('vn', dirs[1]!).info.started).toBe('2025-12-22T20:17:18.128873');
    // A strata/ without a manifest is a finished run, dated by its directory.
    const bare = path.join(root, 'specimens', '2025_01_03_no_manifest');
    const [strata] = listRunDirs(bare);
    const read = readRunDescription('bare', strata!);
    expect(read.manifestSig).toBe('-');
    expect(read.info).toMatchObject({ status: 'succeeded', legacy: true });
    expect(read.info.started).toBe(fs.statSync(strata!.dir).mtime.toISOString());
    expect(read.info.ended).toBe(read.info.started);
  });

  it('reports an undecodable manifest (sync: a warning) and a schema failure (async: an error), both incomplete', async () => {
    const dir = specimenDir();
    writeRun(path.join(dir, 'runs', '20250102_100000'), new Uint8Array([0xc1, 0x00]));
    writeRun(path.join(dir, 'runs', '20250102_100001'), { status: 'succeeded', started: 42 });
    const [bad, wrong] = listRunDirs(dir);
    const read = readRunDescription('x', bad!);
    expect(read.warning).toContain('run x/20250102_100000');
    expect(read.info.status).toBe('incomplete');
    const info = await readRunInfo('x', bad!);
    expect(info.error?._tag).toBe('CorruptManifestError');
    expect(info.status).toBe('incomplete');
    // Cataloguing is lenient (the wrong field is missing), the storage API is not.
    expect(readRunDescription('x', wrong!).info).toMatchObject({ status: 'succeeded', started: null });
    const strict = await readRunInfo('x', wrong!);
    expect(strict.error?.message).toContain('got 42');
    expect(strict.status).toBe('incomplete');
  });
});

describe('findMetricsFiles, listTensorNames and describeSpecimen', () => {
  it('finds the metrics file, else the parts in write order, and the tensors', async () => {
    const run = path.join(specimenDir(), 'run');
    fs.mkdirSync(path.join(run, 'metrics.parts'), { recursive: true });
    expect(await findMetricsFiles(run)).toBeUndefined();
    for (const n of ['part-000002.parquet', 'part-000001.parquet', '.tmp-part-000003.parquet'])
      fs.writeFileSync(path.join(run, 'metrics.parts', n), '');
    const parts = await findMetricsFiles(run);
    expect(parts).toMatchObject({ kind: 'parts', signature: 'p:part-000001.parquet,part-000002.parquet' });
    expect(parts?.files.map((f) => path.basename(f))).toEqual(['part-000001.parquet', 'part-000002.parquet']);
    fs.writeFileSync(path.join(run, 'metrics.parquet'), '');
    expect(await findMetricsFiles(run)).toMatchObject({
      kind: 'file',
      files: [path.join(run, 'metrics.parquet')],
    });
    fs.mkdirSync(path.join(run, 'b.zarr'));
    fs.mkdirSync(path.join(run, 'a.zarr'));
    fs.writeFileSync(path.join(run, 'c.zarr'), '');
    expect(await listTensorNames(run)).toEqual(['a', 'b']);
  });

  it('describes a specimen from its manifest, null where a field is not text', () => {
    expect(
      describeSpecimen('x', {
        taxonomy: { domain: 'training', method: 'fine_tuning' },
        model: null,
        tags: ['a', 3, 'b'],
        status: 'active',
        hypothesis: 'h',
        conclusion: 7,
      }),
    ).toEqual({
      specimenId: 'x',
      domain: 'training',
      method: 'fine_tuning',
      model: null,
      tags: ['a', 'b'],
      status: 'active',
      description: null,
      hypothesis: 'h',
      expectedResults: null,
      conclusion: null,
    });
  });
});
