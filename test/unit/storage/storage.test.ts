import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { syntheticDemoData } from '../../../src/demo/synthetic.js';
import { isVaultError } from '../../../src/errors.js';
import { RUN_ID_PATTERN } from '../../../src/format/ids.js';
import { validateRunManifest } from '../../../src/format/manifest.js';
import { sha256File } from '../../../src/storage/hashing.js';
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';
import { Vault } from '../../../src/storage/vault.js';
import { copyTree, REFERENCE_VAULT, REPO_ROOT, tempDir } from '../../support/helpers.js';

async function freshVault(): Promise<Vault> {
  const vault = await Vault.init(tempDir());
  await vault.createSpecimen({
    specimenId: '2025_01_02_toy',
    domain: 'training',
    method: 'fine_tuning',
    tags: ['t'],
  });
  return vault;
}

function listTree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

function child(vault: string, id: string, mode: string): Promise<{ stdout: string; code: number | null }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'test/support/children/start-run.ts'), vault, id, mode],
      { cwd: REPO_ROOT },
      (err, stdout) => resolve({ stdout, code: err ? ((err as { code?: number }).code ?? 1) : 0 }),
    );
  });
}

describe('SpecimenStorage: runs', () => {
  it('writes metrics and tensors into a new run and seals it with every file hashed', async () => {
    const vault = await freshVault();
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    const runId = await s.startRun({ seeds: { global: 7 }, config: { lr: 0.1 } });
    expect(runId).toMatch(RUN_ID_PATTERN);
    await s.writeMetrics({ step: [0, 1, 2], loss: [1.5, 1.0, 0.5] });
    await s.writeTensors('w', new Float32Array([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
    const m = await s.finish({ summary: { final_loss: 0.5 } });
    expect(m?.status).toBe('succeeded');
    expect(validateRunManifest(m)).toBe(m);
    expect(m?.summary).toEqual({ final_loss: 0.5 });
    expect(m?.seeds).toEqual({ global: 7 });
    const files = m?.files as Record<string, { bytes: number; sha256: string }>;
    expect(Object.keys(files)).toContain('metrics.parquet');
    expect(Object.keys(files).some((f) => f.startsWith('w.zarr/'))).toBe(true);
    for (const [rel, entry] of Object.entries(files)) {
      expect(await sha256File(path.join(s.runDir!, rel))).toEqual(entry);
    }
    const arts = m?.artifacts as Record<string, Record<string, unknown>>;
    expect(arts.metrics).toMatchObject({ format: 'parquet', rows: 3, columns: ['step', 'loss', 'run_id'] });
    expect(arts.w).toMatchObject({ format: 'zarr', shape: [2, 3], dtype: 'float32' });
    // Sealed: writes are refused in-process, and files are read-only on disk.
    await expect(s.writeMetrics({ step: [3] })).rejects.toSatisfy((e: unknown) =>
      isVaultError(e, 'SealedRunError'),
    );
    await expect(s.writeTensors('x', new Float32Array(1), { shape: [1] })).rejects.toThrow(/sealed/);
    expect(() => s.metricsWriter()).toThrow(/sealed/);
    expect(fs.statSync(path.join(s.runDir!, 'metrics.parquet')).mode & 0o222).toBe(0);
    // Read back.
    const t = await s.readMetrics();
    expect(t.numRows).toBe(3);
    expect(t.getChild('run_id')?.get(0)).toBe(runId);
    expect([...(t.getChild('loss')?.toArray() ?? [])]).toEqual([1.5, 1.0, 0.5]);
    const w = await s.readTensorLazy('w');
    expect(w.shape).toEqual([2, 3]);
    expect([...(await w.read([1, null])).data]).toEqual([4, 5, 6]);
  });

  it('streams metrics through metricsWriter and closes it on finish', async () => {
    const vault = await freshVault();
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    await s.startRun();
    const w = s.metricsWriter({ flushRows: 100 });
    for (let i = 0; i < 1000; i++) w.log({ step: i, loss: 1 / (i + 1) });
    await s.finish();
    const t = await s.readMetrics();
    expect(t.numRows).toBe(1000);
    expect(Number(t.getChild('step')?.get(999))).toBe(999);
    expect(fs.existsSync(path.join(s.runDir!, 'metrics.parts'))).toBe(false);
  });

  it('gives distinct, time-sorted run IDs to runs started at once in one process', async () => {
    const vault = await freshVault();
    const ids = await Promise.all(
      Array.from({ length: 20 }, async () =>
        (await SpecimenStorage.open('2025_01_02_toy', { vault })).startRun(),
      ),
    );
    expect(new Set(ids).size).toBe(20);
    for (const id of ids) expect(id).toMatch(RUN_ID_PATTERN);
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    const listed = (await s.listRunInfo()).map((r) => r.runId);
    expect(listed).toEqual([...ids].sort());
  });

  it('gives distinct run IDs to parallel processes', async () => {
    const vault = await freshVault();
    const results = await Promise.all(
      Array.from({ length: 6 }, () => child(vault.root, '2025_01_02_toy', 'finish')),
    );
    const ids = results.map((r) => r.stdout.trim());
    expect(results.every((r) => r.code === 0)).toBe(true);
    expect(new Set(ids).size).toBe(6);
    const runs = await (await SpecimenStorage.open('2025_01_02_toy', { vault })).listRunInfo();
    expect(runs.map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
  }, 60_000);

  it('shows a run whose process exited without finish() as interrupted, and a killed one as incomplete', async () => {
    const vault = await freshVault();
    const exited = await child(vault.root, '2025_01_02_toy', 'exit');
    expect(exited.code).toBe(0);
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'test/support/children/start-run.ts'),
        vault.root,
        '2025_01_02_toy',
        'hang',
      ],
      {
        cwd: REPO_ROOT,
      },
    );
    const killedId = await new Promise<string>((resolve) =>
      proc.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
    );
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    expect((await s.getRun(killedId)).status).toBe('running');
    proc.kill('SIGKILL');
    await new Promise((r) => proc.once('exit', r));
    const runs = await s.listRunInfo();
    const byId = Object.fromEntries(runs.map((r) => [r.runId, r]));
    expect(byId[exited.stdout.trim()]?.status).toBe('interrupted');
    expect(byId[killedId]?.status).toBe('incomplete');
    // Their data is still there.
    expect((await s.readMetrics(killedId)).numRows).toBe(3);
  }, 60_000);
});

describe('SpecimenStorage: bad input writes nothing', () => {
  it.each([['../escape'], ['a/b'], ['/abs'], ['nul\0x'], ['..']])('tensor name %j', async (name) => {
    const vault = await freshVault();
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    await s.startRun();
    const before = listTree(vault.root);
    await expect(s.writeTensors(name, new Float32Array(1), { shape: [1] })).rejects.toSatisfy((e: unknown) =>
      isVaultError(e, 'InvalidNameError'),
    );
    expect(listTree(vault.root)).toEqual(before);
  });

  it('rejects tensor data that does not match its shape, and ragged metric columns', async () => {
    const vault = await freshVault();
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    await s.startRun();
    const before = listTree(vault.root);
    await expect(s.writeTensors('t', new Float32Array(5), { shape: [2, 3] })).rejects.toThrow(/5.*6|6.*5/);
    await expect(s.writeMetrics({ step: [1, 2, 3], loss: [1] })).rejects.toThrow(/step.*3|loss.*1/);
    expect(listTree(vault.root)).toEqual(before);
  });

  it('rejects specimen IDs that escape or break the rule, and duplicates', async () => {
    const vault = await freshVault();
    const before = listTree(vault.root);
    for (const id of ['../2025_01_02_x', '2025_01_02_x/../../y', '/tmp/2025_01_02_x', 'x\0']) {
      await expect(
        vault.createSpecimen({ specimenId: id, domain: 'training', method: 'fine_tuning' }),
      ).rejects.toSatisfy((e: unknown) => isVaultError(e, 'InvalidIdError'));
      await expect(SpecimenStorage.open(id, { vault })).rejects.toSatisfy((e: unknown) =>
        isVaultError(e, 'InvalidIdError'),
      );
    }
    await expect(
      vault.createSpecimen({ specimenId: '2025_01_02_toy', domain: 'training', method: 'fine_tuning' }),
    ).rejects.toSatisfy((e: unknown) => isVaultError(e, 'DuplicateSpecimenError'));
    await expect(
      vault.createSpecimen({ specimenId: '2025_01_02_new', domain: 'training', method: 'probe_training' }),
    ).rejects.toSatisfy((e: unknown) => isVaultError(e, 'TaxonomyError'));
    expect(listTree(vault.root)).toEqual(before);
  });

  it('names the closest specimens and runs when one is not found', async () => {
    const vault = await freshVault();
    await expect(SpecimenStorage.open('2025_01_02_tyo', { vault })).rejects.toThrow(
      /did you mean "2025_01_02_toy"/,
    );
    const s = await SpecimenStorage.open('2025_01_02_toy', { vault });
    const id = await s.startRun();
    await s.finish();
    const near = `${id.slice(0, -1)}${id.endsWith('9') ? '8' : '9'}`;
    await expect(s.readMetrics(near)).rejects.toThrow(new RegExp(`did you mean "${id}"`));
  });
});

describe('SpecimenStorage: the reference vault written by the Python implementation', () => {
  const copy = (): string => {
    const dir = tempDir();
    copyTree(REFERENCE_VAULT, dir);
    return dir;
  };

  it('lists specimens with a warning for the missing manifest and an error naming the corrupt one', async () => {
    const vault = await Vault.open(copy());
    const { specimens, problems } = await vault.listSpecimens();
    expect(specimens.map((s) => s.specimenId)).toEqual([
      '2025_12_22_vn_comprehensive_experiments',
      'example_2024_12_19_synthetic_demo',
    ]);
    const missing = problems.find((p) => p.specimenId === '2025_01_03_no_manifest');
    const corrupt = problems.find((p) => p.specimenId === '2025_01_02_corrupt_manifest');
    expect(missing?.severity).toBe('warning');
    expect(corrupt?.severity).toBe('error');
    expect(corrupt?.message).toContain(path.join('2025_01_02_corrupt_manifest', 'manifest.msgpack'));
    await expect(SpecimenStorage.open('2025_01_02_corrupt_manifest', { vault })).rejects.toSatisfy(
      (e: unknown) => isVaultError(e, 'CorruptManifestError'),
    );
  });

  it('reads the legacy strata run and the runs/ layout', async () => {
    const vault = await Vault.open(copy());
    const demo = await SpecimenStorage.open('example_2024_12_19_synthetic_demo', { vault });
    const runs = await demo.listRunInfo();
    expect(runs.map((r) => [r.runId, r.layout, r.status])).toEqual([['strata', 'strata', 'succeeded']]);
    const t = await demo.readMetrics();
    expect(t.numRows).toBe(100);
    expect(t.schema.fields.map((f) => f.name)).toEqual(['step', 'loss', 'accuracy', 'entropy', 'run_id']);
    expect(t.getChild('run_id')?.get(0)).toBe('strata');

    const vn = await SpecimenStorage.open('2025_12_22_vn_comprehensive_experiments', { vault });
    const vnRuns = await vn.listRunInfo();
    expect(vnRuns.map((r) => r.runId)).toEqual(['strata', '20251222_201718', '20251222_201819']);
    expect(vnRuns[1]?.started).toBe('2025-12-22T20:17:18.128873');
    expect(await vn.latestRunId()).toBe('20251222_201819');
    const all = await vn.readAllRuns();
    expect(all.numRows).toBe(225);
    const ids = new Set(all.getChild('run_id')?.toArray() as string[]);
    expect(ids).toEqual(new Set(['strata', '20251222_201718', '20251222_201819']));
    const listed = await vn.listRuns();
    expect(listed.numRows).toBe(3);
    expect(listed.getChild('status')?.get(2)).toBe('succeeded');
    await expect(demo.readTensorLazy('activation')).rejects.toSatisfy((e: unknown) =>
      isVaultError(e, 'NotFoundError'),
    );
  });
});

describe('the synthetic demo specimen', () => {
  it('is deterministic: two runs store identical metric values and tensor bytes', async () => {
    const { runSyntheticDemo } = await import('../../../src/demo/run-demo.js');
    const vault = await Vault.init(tempDir());
    const a = await runSyntheticDemo({ vault });
    const b = await runSyntheticDemo({ vault });
    expect(a.runId).not.toBe(b.runId);
    const s = await SpecimenStorage.open(a.specimenId, { vault });
    const ta = await s.readMetrics(a.runId);
    const tb = await s.readMetrics(b.runId);
    for (const c of ['step', 'loss', 'accuracy', 'entropy']) {
      expect([...(ta.getChild(c)?.toArray() ?? [])]).toEqual([...(tb.getChild(c)?.toArray() ?? [])]);
    }
    const fa = a.manifest!.files as Record<string, { sha256: string }>;
    const fb = b.manifest!.files as Record<string, { sha256: string }>;
    const tensorFiles = Object.keys(fa).filter((f) => f.startsWith('activations.zarr/'));
    expect(tensorFiles.length).toBeGreaterThan(0);
    for (const f of tensorFiles) expect(fb[f]?.sha256).toBe(fa[f]?.sha256);
    const act = await s.readTensorLazy('activations', a.runId);
    expect(act.shape).toEqual([100, 512]);
    expect(act.dtype).toBe('float32');
    const expected = syntheticDemoData(42);
    const all = await act.readAll();
    expect(
      Buffer.from((all.data as Float32Array).buffer).equals(Buffer.from(expected.activations.buffer)),
    ).toBe(true);
    // The curves have the documented shapes: loss falls, accuracy rises.
    const loss = [...(ta.getChild('loss')?.toArray() ?? [])] as number[];
    const acc = [...(ta.getChild('accuracy')?.toArray() ?? [])] as number[];
    expect(loss[0]! - loss[99]!).toBeGreaterThan(1.5);
    expect(acc[99]! - acc[0]!).toBeGreaterThan(0.7);
  });
});
