// Interoperability with zarr-python 2.x (Debian's python3-zarr): it reads the Zarr v2 arrays writeZarr
// writes, and we read the layouts it writes (Blosc variants, Zstd, GZip, LZ4, big-endian, F order, "/"
// separators, NaN fill values with missing chunks).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Compressor,
  type Dtype,
  openTensor,
  type TensorData,
  writeZarr,
} from '../../src/storage/tensors/index.js';
import { DEBIAN_PYTHON, runPython, tempDir } from '../support/helpers.js';

/** Why zarr-python cannot be used here, or undefined when it can. */
function pythonProblem(): string | undefined {
  try {
    execFileSync(DEBIAN_PYTHON, ['-c', 'import zarr, numpy'], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `${DEBIAN_PYTHON} cannot "import zarr, numpy": ${stderr || (err as Error).message}`;
  }
}

const problem = pythonProblem();
if (problem) {
  if (process.env.CI) throw new Error(`zarr-python interoperability tests cannot run on CI: ${problem}`);
  console.warn(
    `\n!!! SKIPPING zarr-python interoperability tests: ${problem}.\n` +
      '!!! Install python3-zarr and python3-numpy (apt) to run them; on CI this is a failure.\n',
  );
}

let root: string;
beforeAll(() => {
  root = tempDir('sv-tensors-py-');
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Prints what zarr-python sees in each array: dtype, shape, chunks, compressor and every value. */
const READ_SCRIPT = `
import json, sys, zarr, numpy as np
out = {}
for p in sys.argv[1:]:
    a = zarr.open(p, mode='r')
    v = a[...]
    out[p] = {
        'dtype': a.dtype.str, 'shape': list(a.shape), 'chunks': list(a.chunks),
        'compressor': a.compressor.codec_id if a.compressor is not None else 'none',
        'values': [str(x) for x in v.ravel().tolist()],
        'sum': str(v.astype('float64').sum()),
    }
print(json.dumps(out))
`;

function sample(dtype: Dtype, n: number): TensorData {
  const idx = Array.from({ length: n }, (_, i) => i);
  switch (dtype) {
    case 'float32':
      return new Float32Array(idx.map((i) => i * 0.5 - 20.25));
    case 'int64':
      return new BigInt64Array(idx.map((i) => (i % 9 === 4 ? -(2n ** 62n) : BigInt(i) * 10000000007n)));
    case 'bool':
      return idx.map((i) => i % 3 !== 1);
    case 'uint8':
      return new Uint8Array(idx.map((i) => (i * 13) % 256));
    case 'float16':
      return idx.map((i) => i * 0.25 - 3);
    case 'float64':
      return new Float64Array(idx.map((i) => i / 3));
    case 'int8':
      return new Int8Array(idx.map((i) => (i % 256) - 128));
    case 'uint64':
      return new BigUint64Array(idx.map((i) => 2n ** 63n + BigInt(i)));
    default:
      throw new Error(`no sample for ${dtype}`);
  }
}

/** The value text Python's str() gives for each element of our data. */
function pythonStrings(dtype: Dtype, data: TensorData): string[] {
  return Array.from(data as ArrayLike<number | bigint | boolean>, (v) => {
    if (dtype === 'bool') return v ? 'True' : 'False';
    if (typeof v === 'bigint') return v.toString();
    if (dtype.startsWith('float')) {
      // Python prints floats with repr: always a decimal point or exponent.
      const s = String(v);
      return /[.e]/.test(s) || !Number.isFinite(v) ? s : `${s}.0`;
    }
    return String(v);
  });
}

describe.skipIf(problem !== undefined)('zarr-python 2.x', () => {
  const cases: [Dtype, Compressor][] = [];
  for (const dtype of ['float32', 'int64', 'bool', 'uint8'] as Dtype[])
    for (const c of ['zstd', 'gzip', 'blosc', 'none', 'zlib'] as Compressor[]) cases.push([dtype, c]);
  for (const dtype of ['float16', 'float64', 'int8', 'uint64'] as Dtype[]) cases.push([dtype, 'zstd']);

  it(`reads the Zarr v2 arrays we write (${cases.length} dtype/compressor pairs) with equal values`, async () => {
    const shape = [7, 5, 3];
    const expected = new Map<string, { dtype: Dtype; compressor: Compressor; values: string[] }>();
    for (const [dtype, compressor] of cases) {
      const dir = path.join(root, `${dtype}-${String(compressor)}.zarr`);
      const data = sample(dtype, 105);
      await writeZarr(dir, data, { shape, chunks: [3, 2, 3], dtype, compressor, zarrFormat: 2 });
      // float16 samples are quarter steps in -3..23, exact in half precision, so they print as given.
      expected.set(dir, { dtype, compressor, values: pythonStrings(dtype, data) });
    }
    const seen = JSON.parse(await runPython(READ_SCRIPT, [...expected.keys()])) as Record<
      string,
      { dtype: string; shape: number[]; chunks: number[]; compressor: string; values: string[]; sum: string }
    >;
    const numpyType: Record<string, string> = {
      float32: '<f4',
      int64: '<i8',
      bool: '|b1',
      uint8: '|u1',
      float16: '<f2',
      float64: '<f8',
      int8: '|i1',
      uint64: '<u8',
    };
    for (const [dir, want] of expected) {
      const got = seen[dir];
      expect(got, dir).toBeDefined();
      expect([got!.dtype, got!.shape, got!.chunks, got!.compressor], dir).toEqual([
        numpyType[want.dtype],
        shape,
        [3, 2, 3],
        String(want.compressor),
      ]);
      expect(got!.values, dir).toEqual(want.values);
    }
    // Sums as an independent check on a few arrays.
    expect(Number(seen[path.join(root, 'float32-zstd.zarr')]!.sum)).toBe(
      Array.from(sample('float32', 105) as Float32Array).reduce((a, b) => a + b, 0),
    );
    expect(Number(seen[path.join(root, 'bool-blosc.zarr')]!.sum)).toBe(70);
  });

  it('we read what zarr-python writes: compressors, byte orders, F order, "/" keys, NaN fill', async () => {
    const script = `
import json, sys, zarr, numpy as np
from numcodecs import Blosc, Zstd, GZip, LZ4, Zlib
root = sys.argv[1]
specs = {
  'blosc_zstd_bitshuffle': dict(dtype='<f8', compressor=Blosc(cname='zstd', clevel=3, shuffle=Blosc.BITSHUFFLE)),
  'blosc_lz4_noshuffle': dict(dtype='<i4', compressor=Blosc(cname='lz4', clevel=1, shuffle=Blosc.NOSHUFFLE)),
  'zstd_be': dict(dtype='>i8', compressor=Zstd(level=5)),
  'gzip_f_order': dict(dtype='<f4', compressor=GZip(level=4), order='F'),
  'lz4': dict(dtype='<u2', compressor=LZ4()),
  'zlib_slash': dict(dtype='<i2', compressor=Zlib(level=2), dimension_separator='/'),
  'raw_be_f2': dict(dtype='>f2', compressor=None),
  'bool_gzip': dict(dtype='|b1', compressor=GZip()),
}
out = {}
for name, kw in specs.items():
    a = zarr.open(root + '/' + name + '.zarr', mode='w', shape=(9, 6), chunks=(4, 4), fill_value=0, **kw)
    v = (np.arange(54).reshape(9, 6) * 3 - 40)
    if kw['dtype'] == '|b1':
        v = v % 4 == 0
    a[...] = v.astype(kw['dtype'])
    out[name] = [str(x) for x in a[...].ravel().tolist()]
nan = zarr.open(root + '/nanfill.zarr', mode='w', shape=(6,), chunks=(2,), dtype='<f4', fill_value=np.nan, compressor=Zstd())
nan[0:2] = [1.5, 2.5]
out['nanfill'] = ['nan' if np.isnan(x) else str(x) for x in nan[...].tolist()]
s = zarr.open(root + '/scalar.zarr', mode='w', shape=(), dtype='<i4', compressor=None)
s[...] = 7
out['scalar'] = ['7']
print(json.dumps(out))
`;
    const written = JSON.parse(await runPython(script, [root])) as Record<string, string[]>;
    expect(Object.keys(written)).toHaveLength(10);
    for (const [name, values] of Object.entries(written)) {
      const t = await openTensor(path.join(root, `${name}.zarr`));
      expect(t.zarrFormat).toBe(2);
      const { data } = await t.readAll();
      const got = Array.from(data as ArrayLike<number | bigint>, (v) =>
        t.dtype === 'bool' ? (v ? 'True' : 'False') : Number.isNaN(v) ? 'nan' : pythonFloatOrInt(t.dtype, v),
      );
      expect(got, name).toEqual(values);
      if (name !== 'scalar' && name !== 'nanfill') {
        // A strided slice across chunk borders agrees too.
        const slice = await t.read([[1, 9, 3], 4]);
        expect(Array.from(slice.data as ArrayLike<unknown>).length).toBe(3);
        const want = [1, 4, 7].map((i) => values[i * 6 + 4]);
        expect(
          Array.from(slice.data as ArrayLike<number | bigint>, (v) =>
            t.dtype === 'bool' ? (v ? 'True' : 'False') : pythonFloatOrInt(t.dtype, v),
          ),
          name,
        ).toEqual(want);
      }
    }
  });

  it('large zarr-python arrays (decoded in the codec workers) read back exactly', async () => {
    const script = `
import json, sys, zarr, numpy as np
from numcodecs import Blosc, Zstd, GZip, LZ4
root = sys.argv[1]
v = ((np.arange(1536 * 1024) * 7919) % 100003).reshape(1536, 1024).astype('<f8') / 8
out = {}
for name, comp in [('big_blosc', Blosc()), ('big_zstd', Zstd(level=3)), ('big_gzip', GZip(level=1)), ('big_lz4', LZ4())]:
    a = zarr.open(root + '/' + name + '.zarr', mode='w', shape=v.shape, chunks=(200, 1024), dtype='<f8', compressor=comp)
    a[...] = v
    out[name] = {'sum': float(v.sum()), 'picks': [float(v[i, j]) for i, j in [(0, 0), (777, 1023), (1535, 5)]]}
print(json.dumps(out))
`;
    const written = JSON.parse(await runPython(script, [root])) as Record<
      string,
      { sum: number; picks: number[] }
    >;
    expect(Object.keys(written)).toHaveLength(4);
    for (const [name, want] of Object.entries(written)) {
      const { data, shape } = await (await openTensor(path.join(root, `${name}.zarr`))).readAll();
      expect(shape, name).toEqual([1536, 1024]);
      const a = data as Float64Array;
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += a[i]!;
      // Every value is a multiple of 1/8 below 12501, so both sums are exact and must agree.
      expect(sum, name).toBe(want.sum);
      expect([a[0], a[777 * 1024 + 1023], a[1535 * 1024 + 5]], name).toEqual(want.picks);
    }
  });
});

function pythonFloatOrInt(dtype: Dtype, v: number | bigint): string {
  if (typeof v === 'bigint' || !dtype.startsWith('float')) return String(v);
  const s = String(v);
  return /[.e]/.test(s) || !Number.isFinite(v) ? s : `${s}.0`;
}
