// Tensor series as zarr-python opens them: a series written by `writeTensorSeries` (Zarr v3, the default)
// read by zarr-python 3 from the Python client's virtual environment, and one written as Zarr v2 read by
// zarr-python 2.13 (Debian's python3-zarr). Both see the leading step axis, one step per chunk, the steps
// attribute, and every value; one step is looked up by its step number as the docs show.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { DEBIAN_PYTHON, REPO_ROOT, tempDir } from '../support/helpers.js';

/** An interpreter that imports zarr at `major`, or why there is none. */
function zarrPython(candidates: string[], major: number): { python?: string; problem?: string } {
  const problems: string[] = [];
  for (const python of candidates) {
    try {
      const v = execFileSync(python, ['-c', 'import zarr, numpy; print(zarr.__version__)'], { stdio: 'pipe' })
        .toString()
        .trim();
      if (Number.parseInt(v, 10) === major) return { python };
      problems.push(`${python} has zarr ${v}`);
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim().split('\n').at(-1);
      problems.push(`${python}: ${stderr || (err as Error).message}`);
    }
  }
  return { problem: problems.join('; ') || 'no interpreter to try' };
}

const venvs = process.env.SPECIMEN_TEST_PYTHON
  ? [process.env.SPECIMEN_TEST_PYTHON]
  : fs
      .readdirSync(REPO_ROOT)
      .filter((d) => d.startsWith('.venv'))
      .sort()
      .map((d) => path.join(REPO_ROOT, d, 'bin', 'python'))
      .filter((p) => fs.existsSync(p));
const v3 = zarrPython(venvs, 3);
const v2 = zarrPython([DEBIAN_PYTHON], 2);
for (const [which, found, hint] of [
  ['zarr-python 3', v3, 'set $SPECIMEN_TEST_PYTHON to a Python with zarr>=3 and numpy'],
  ['zarr-python 2', v2, 'apt-get install python3-zarr python3-numpy'],
] as const) {
  if (!found.problem) continue;
  if (process.env.CI) throw new Error(`${which} tensor-series tests cannot run on CI: ${found.problem}`);
  console.warn(`\n!!! SKIPPING the ${which} tensor-series test: ${found.problem} (${hint}).\n`);
}

/** What zarr-python sees: shape, chunks, attributes, every value, and the array at one step by number. */
const READ_SCRIPT = `
import json, sys, zarr, numpy as np
z = zarr.open_array(sys.argv[1], mode='r')
steps = list(z.attrs['steps'])
at = int(sys.argv[2])
print(json.dumps({
    'dtype': str(z.dtype), 'shape': list(z.shape), 'chunks': list(z.chunks),
    'steps': steps, 'step_axis': z.attrs['step_axis'], 'dims': list(z.attrs['dims']),
    'values': z[...].astype('float64').ravel().tolist(),
    'at': z[steps.index(at)].astype('float64').ravel().tolist(),
}))
`;

function python(interpreter: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      interpreter,
      ['-c', READ_SCRIPT, ...args],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, out, stderr) =>
        err ? reject(new Error(`${interpreter}: ${stderr || err.message}`)) : resolve(out),
    );
  });
}

const STEPS = [0, 250, 500, 1250];
const SHAPE = [6, 5, 4];
const SIZE = SHAPE.reduce((a, b) => a * b, 1);
// Quarter steps: exact in float32, so Python's float64 view of them equals ours.
const ARRAYS = STEPS.map((s, k) => Float32Array.from({ length: SIZE }, (_, i) => s / 4 + i * 0.25 - k * 7));

let root: string;
const written: Record<2 | 3, string> = { 2: '', 3: '' };
beforeAll(async () => {
  root = tempDir('sv-series-py-');
  const vault = await Vault.init(root);
  await vault.createSpecimen({ specimenId: '2025_01_02_series', domain: 'training', method: 'fine_tuning' });
  const storage = await SpecimenStorage.open('2025_01_02_series', { vault });
  await storage.startRun({});
  for (const format of [3, 2] as const) {
    await storage.writeTensorSeries(`acts_v${format}`, STEPS, ARRAYS, {
      shape: SHAPE,
      zarrFormat: format,
      attributes: { dims: ['step', 'neuron', 'a', 'b'] },
    });
  }
  await storage.finish();
  for (const format of [3, 2] as const)
    written[format] = (await storage.readTensorLazy(`acts_v${format}`)).path;
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe.each([
  [3, v3.python],
  [2, v2.python],
] as const)('a tensor series written as Zarr v%i', (format, interpreter) => {
  it.runIf(interpreter !== undefined)(
    'opens in zarr-python with its steps attribute and values',
    async () => {
      const seen = JSON.parse(await python(interpreter!, [written[format], '500'])) as {
        dtype: string;
        shape: number[];
        chunks: number[];
        steps: number[];
        step_axis: number;
        dims: string[];
        values: number[];
        at: number[];
      };
      expect(seen.dtype).toBe('float32');
      expect(seen.shape).toEqual([STEPS.length, ...SHAPE]);
      expect(seen.chunks).toEqual([1, ...SHAPE]);
      expect(seen.steps).toEqual(STEPS);
      expect(seen.step_axis).toBe(0);
      expect(seen.dims).toEqual(['step', 'neuron', 'a', 'b']);
      expect(seen.values).toEqual(ARRAYS.flatMap((a) => Array.from(a)));
      expect(seen.at).toEqual(Array.from(ARRAYS[2]!));
    },
  );
});
