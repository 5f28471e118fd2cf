// Tensor series: tensors logged at steps as one Zarr array with a leading step axis, one step per chunk,
// the steps in its attributes; a slice at one step reads only that step's chunks.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { SpecimenStorage } from '../../../src/storage/specimen-storage.js';
import { openTensor } from '../../../src/storage/tensors/index.js';
import { Vault } from '../../../src/storage/vault.js';
import { tempDir } from '../../support/helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

async function openRun(): Promise<SpecimenStorage> {
  const dir = tempDir('sv-series-');
  made.push(dir);
  const vault = await Vault.init(dir);
  await vault.createSpecimen({ specimenId: '2025_01_02_series', domain: 'training', method: 'fine_tuning' });
  const storage = await SpecimenStorage.open('2025_01_02_series', { vault });
  await storage.startRun({});
  return storage;
}

describe('writeTensorSeries', () => {
  it('stacks arrays on a leading step axis, one step per chunk, with the steps as an attribute', async () => {
    const storage = await openRun();
    const steps = [0, 100, 250];
    const arrays = steps.map((s) => Float32Array.from({ length: 4 * 3 }, (_, i) => s + i));
    await storage.writeTensorSeries('acts', steps, arrays, {
      shape: [4, 3],
      attributes: { dims: ['step', 'n', 'x'] },
    });
    await storage.finish();
    const t = await storage.readTensorLazy('acts');
    expect(t.shape).toEqual([3, 4, 3]);
    expect(t.chunks).toEqual([1, 4, 3]);
    const meta = JSON.parse(fs.readFileSync(path.join(t.path, 'zarr.json'), 'utf8'));
    expect(meta.attributes).toEqual({ dims: ['step', 'n', 'x'], steps, step_axis: 0 });
    const keys: string[] = [];
    const counted = await openTensor(t.path, { onRead: (k) => keys.push(k) });
    const at100 = await counted.read([1, null, null]);
    expect(Array.from(at100.data as Float32Array)).toEqual(Array.from(arrays[1]!));
    expect(keys.filter((k) => k.startsWith('c/'))).toEqual(['c/1/0/0']);
  });

  it('rejects steps that do not match the arrays or do not increase', async () => {
    const storage = await openRun();
    const a = new Float32Array(2);
    await expect(storage.writeTensorSeries('x', [0, 1], [a], { shape: [2] })).rejects.toSatisfy((e) =>
      isVaultError(e, 'TensorError'),
    );
    await expect(storage.writeTensorSeries('y', [5, 5], [a, a], { shape: [2] })).rejects.toThrow(
      /increasing/,
    );
    await expect(storage.writeTensorSeries('z', [0], [new Float32Array(3)], { shape: [2] })).rejects.toThrow(
      /at step 0 has 3 elements/,
    );
  });
});
