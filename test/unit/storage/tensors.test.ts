// Zarr tensors: fixtures written by zarr-python, round trips of every dtype/format/compressor, selections
// (property-based), chunk access counting, fill values, layouts from other writers, and input validation.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { halfToNumber, toHalfBits } from '../../../src/storage/tensors/dtypes.js';
import {
  type Compressor,
  DTYPES,
  type Dtype,
  openTensor,
  type Selection,
  type TensorData,
  type TypedArrayOut,
  writeZarr,
} from '../../../src/storage/tensors/index.js';
import { defaultChunks } from '../../../src/storage/tensors/layout.js';
import { tempDir, ZARR_PYTHON } from '../../support/helpers.js';

let root: string;
let seq = 0;
beforeAll(() => {
  root = tempDir('sv-tensors-');
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});
/** A fresh, not yet existing array path. */
function target(name = 'tensor'): string {
  return path.join(root, `${name}-${++seq}.zarr`);
}

// ------------------------------------------------------------------------------------------- .npy reader

interface Npy {
  descr: string;
  shape: number[];
  /** Values in C order: numbers, bigints or booleans. */
  values: (number | bigint | boolean)[];
}

/** Minimal .npy parser: magic, version, header dict (descr, fortran_order, shape), then the raw data. */
function readNpy(file: string): Npy {
  const buf = fs.readFileSync(file);
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY');
  const major = buf[6]!;
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.subarray(start, start + headerLen).toString('latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1] === 'True';
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) throw new Error(`bad npy header ${header}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  if (!m) throw new Error(`unsupported npy descr ${descr}`);
  const little = m[1] !== '>';
  const kind = m[2]!;
  const size = Number(m[3]);
  const n = shape.reduce((a, b) => a * b, 1);
  const view = new DataView(buf.buffer, buf.byteOffset + start + headerLen, n * size);
  const get = (i: number): number | bigint | boolean => {
    const o = i * size;
    if (kind === 'b') return view.getUint8(o) !== 0;
    if (kind === 'f') {
      if (size === 2) return halfToNumber(view.getUint16(o, little));
      return size === 4 ? view.getFloat32(o, little) : view.getFloat64(o, little);
    }
    if (kind === 'i')
      return size === 1
        ? view.getInt8(o)
        : size === 2
          ? view.getInt16(o, little)
          : size === 4
            ? view.getInt32(o, little)
            : view.getBigInt64(o, little);
    return size === 1
      ? view.getUint8(o)
      : size === 2
        ? view.getUint16(o, little)
        : size === 4
          ? view.getUint32(o, little)
          : view.getBigUint64(o, little);
  };
  const values = new Array<number | bigint | boolean>(n);
  const cStr = strides(shape);
  const fStr = [...shape.keys()].map((d) => shape.slice(0, d).reduce((a, b) => a * b, 1));
  for (let i = 0; i < n; i++) {
    // Fortran-ordered files hold the same elements column-major: map each C index to its file position.
    let j = i;
    if (fortran) {
      j = 0;
      let rest = i;
      for (let d = 0; d < shape.length; d++) {
        const k = Math.floor(rest / cStr[d]!);
        rest -= k * cStr[d]!;
        j += k * fStr[d]!;
      }
    }
    values[i] = get(j);
  }
  return { descr, shape, values };
}

function strides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d]!;
  }
  return s;
}

/** Element values in a form toEqual compares exactly (bigints kept, bool bytes as booleans when asked). */
function plain(data: TypedArrayOut | readonly (number | bigint | boolean)[], asBool = false): unknown[] {
  return Array.from(data as ArrayLike<number | bigint | boolean>, (v) =>
    asBool ? v === true || v === 1 : v,
  );
}

describe('zarr-python fixtures', () => {
  const arrays = fs.readdirSync(ZARR_PYTHON).filter((f) => f.endsWith('.zarr'));

  it('has fixtures to check', () => {
    expect(arrays.length).toBeGreaterThan(0);
  });

  it.each(arrays)('%s equals its .npy sibling exactly', async (name) => {
    const npy = readNpy(path.join(ZARR_PYTHON, name.replace(/\.zarr$/, '.npy')));
    const t = await openTensor(path.join(ZARR_PYTHON, name));
    expect(t.shape).toEqual(npy.shape);
    expect(t.zarrFormat).toBe(2);
    const { data, shape } = await t.readAll();
    expect(shape).toEqual(npy.shape);
    expect(data.length).toBe(npy.values.length);
    expect(plain(data, t.dtype === 'bool')).toEqual(npy.values);
  });
});

// ------------------------------------------------------------------------------------------- round trips

/** Test data of `n` elements for a dtype, with extremes, as the writer input and the expected read output. */
function sample(dtype: Dtype, n: number): { input: TensorData; expected: unknown[] } {
  const idx = Array.from({ length: n }, (_, i) => i);
  switch (dtype) {
    case 'float16': {
      const xs = idx.map((i) => [65504, -65504, 2 ** -24, -0, 0.5][i % 7] ?? (i % 50) * 0.25 - 6);
      return { input: xs, expected: xs };
    }
    case 'float32': {
      const a = new Float32Array(
        idx.map((i) => [Number.NaN, Number.POSITIVE_INFINITY, -3.4e38][i % 11] ?? i * 0.1 - 3),
      );
      return { input: a, expected: plain(a) };
    }
    case 'float64': {
      const a = new Float64Array(
        idx.map((i) => [1e300, -1e-300, Number.NEGATIVE_INFINITY][i % 13] ?? i * 1.1 - 7),
      );
      return { input: a, expected: plain(a) };
    }
    case 'int8':
      return typed(new Int8Array(idx.map((i) => ((i * 37) % 256) - 128)));
    case 'int16':
      return typed(new Int16Array(idx.map((i) => ((i * 1237) % 65536) - 32768)));
    case 'int32':
      return typed(new Int32Array(idx.map((i) => (i * 123456789) | 0)));
    case 'int64':
      return typed(
        new BigInt64Array(idx.map((i) => [-(2n ** 63n), 2n ** 63n - 1n][i % 5] ?? BigInt(i) * -3000000007n)),
      );
    case 'uint8':
      return typed(new Uint8Array(idx.map((i) => (i * 7) % 256)));
    case 'uint16':
      return typed(new Uint16Array(idx.map((i) => (i * 4099) % 65536)));
    case 'uint32':
      return typed(new Uint32Array(idx.map((i) => (i * 2654435761) >>> 0)));
    case 'uint64':
      return typed(new BigUint64Array(idx.map((i) => (i % 4 === 1 ? 2n ** 64n - 1n : BigInt(i) << 40n))));
    case 'bool': {
      const xs = idx.map((i) => i % 3 === 0);
      return { input: xs, expected: xs.map((b) => (b ? 1 : 0)) };
    }
  }
}

function typed(a: TensorData): { input: TensorData; expected: unknown[] } {
  return { input: a, expected: plain(a as TypedArrayOut) };
}

const COMPRESSORS: Compressor[] = ['none', 'zstd', 'gzip', 'zlib', 'blosc'];

describe('round trips', () => {
  for (const zarrFormat of [2, 3] as const) {
    for (const compressor of COMPRESSORS) {
      it(`every dtype, 3-d with ragged edge chunks, v${zarrFormat} ${String(compressor)}`, async () => {
        for (const dtype of DTYPES) {
          const shape = [5, 7, 3];
          const { input, expected } = sample(dtype, 105);
          const dir = target(dtype);
          const info = await writeZarr(dir, input, {
            shape,
            chunks: [2, 3, 2],
            dtype,
            compressor,
            zarrFormat,
            fsync: false,
          });
          expect(info).toEqual({
            format: 'zarr',
            zarr_format: zarrFormat,
            shape,
            dtype,
            chunks: [2, 3, 2],
            compressor: String(compressor),
            order: 'C',
          });
          const t = await openTensor(dir);
          expect([t.dtype, t.zarrFormat, t.shape, t.chunks]).toEqual([dtype, zarrFormat, shape, [2, 3, 2]]);
          const { data, shape: outShape } = await t.readAll();
          expect(outShape).toEqual(shape);
          expect(plain(data), `${dtype}`).toEqual(expected);
          expect(data.constructor.name).toBe(outputType(dtype));
          // A row across the ragged last chunks, with a dropped dimension.
          const row = await t.read([4, [1, 7], 2]);
          expect(row.shape).toEqual([6]);
          expect(plain(row.data)).toEqual([1, 2, 3, 4, 5, 6].map((j) => expected[4 * 21 + j * 3 + 2]));
        }
      });
    }
  }

  it.each([2, 3] as const)('0-d and 1-d tensors of every dtype (v%i)', async (zarrFormat) => {
    for (const dtype of DTYPES) {
      const one = sample(dtype, 3);
      const scalar = target('scalar');
      await writeZarr(scalar, sliceInput(one.input, 2, 3), { shape: [], dtype, zarrFormat, fsync: false });
      const s = await openTensor(scalar);
      expect(s.shape).toEqual([]);
      expect(await s.readAll().then((r) => [r.shape, plain(r.data)])).toEqual([[], [one.expected[2]]]);
      const vec = target('vector');
      const many = sample(dtype, 37);
      await writeZarr(vec, many.input, {
        shape: [37],
        chunks: [8],
        dtype,
        zarrFormat,
        compressor: 'zstd',
        fsync: false,
      });
      const v = await openTensor(vec);
      expect(plain((await v.readAll()).data)).toEqual(many.expected);
      expect(plain((await v.read([[30, 40]])).data)).toEqual(many.expected.slice(30));
      expect(plain((await v.read([-1])).data)).toEqual([many.expected[36]]);
    }
  });

  it('writes the chunk files and metadata zarr-python expects (v2) and the v3 spec describes', async () => {
    const v2 = target('meta2');
    await writeZarr(v2, new Float32Array(6), {
      shape: [2, 3],
      chunks: [1, 3],
      zarrFormat: 2,
      compressor: 'blosc',
    });
    expect(fs.readdirSync(v2).sort()).toEqual(['.zarray', '0.0', '1.0']);
    expect(JSON.parse(fs.readFileSync(path.join(v2, '.zarray'), 'utf8'))).toEqual({
      chunks: [1, 3],
      compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 },
      dimension_separator: '.',
      dtype: '<f4',
      fill_value: 0,
      filters: null,
      order: 'C',
      shape: [2, 3],
      zarr_format: 2,
    });
    const v3 = target('meta3');
    await writeZarr(v3, [true, false], { shape: [2], compressor: { id: 'gzip', level: 6 } });
    expect(fs.readdirSync(v3, { recursive: true }).map(String).sort()).toEqual([
      'c',
      path.join('c', '0'),
      'zarr.json',
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(v3, 'zarr.json'), 'utf8'))).toEqual({
      zarr_format: 3,
      node_type: 'array',
      shape: [2],
      data_type: 'bool',
      chunk_grid: { name: 'regular', configuration: { chunk_shape: [2] } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
      fill_value: false,
      codecs: [
        { name: 'bytes', configuration: { endian: 'little' } },
        { name: 'gzip', configuration: { level: 6 } },
      ],
      attributes: {},
    });
    // No temporary directory is left beside the arrays.
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('compresses large tensors in the worker pool and reads them back (zstd, gzip, blosc, zlib)', async () => {
    const n = 1536 * 1024; // 6 MiB of float32 per array, more with float64 below
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.round(Math.sin(i / 1000) * 100) + (i % 7) / 4;
    for (const compressor of ['zstd', 'gzip', 'blosc', 'zlib'] as const) {
      const dir = target(`big-${compressor}`);
      const info = await writeZarr(dir, a, { shape: [1536, 1024], compressor, fsync: false });
      expect(info.chunks).toEqual([256, 1024]); // 2 MiB chunks, rows whole
      const files = fs.readdirSync(path.join(dir, 'c'));
      expect(files).toHaveLength(6);
      const onDisk = fs
        .readdirSync(dir, { recursive: true })
        .map((f) => fs.statSync(path.join(dir, String(f))))
        .reduce((s, st) => s + (st.isFile() ? st.size : 0), 0);
      expect(onDisk).toBeLessThan(a.byteLength); // really compressed
      const keys: string[] = [];
      const t = await openTensor(dir, { onRead: (k) => keys.push(k) });
      const back = await t.readAll(); // 12 MiB: decoded in the codec workers
      expect(
        Buffer.from(back.data.buffer, back.data.byteOffset, back.data.byteLength).equals(
          Buffer.from(a.buffer),
        ),
      ).toBe(true);
      // A large slice (also decoded in the workers) that skips the first chunk, and a chunk gone missing.
      fs.rmSync(path.join(dir, 'c', '5', '0'));
      keys.length = 0;
      const part = await t.read([
        [300, 1536],
        [1, 1024],
      ]);
      expect(part.shape).toEqual([1236, 1023]);
      expect(keys.sort()).toEqual(['c/1/0', 'c/2/0', 'c/3/0', 'c/4/0', 'c/5/0']);
      const got = part.data as Float64Array;
      for (const [r, c] of [
        [0, 0],
        [979, 1022],
        [980, 3],
        [1235, 100],
      ] as const) {
        const want = r + 300 >= 1280 ? 0 : a[(r + 300) * 1024 + 1 + c]!;
        expect(got[r * 1023 + c], `${compressor} ${r},${c}`).toBe(want);
      }
    }
  });

  it('reads small slices of compressed arrays exactly, many at once, sharing chunk-file buffers', async () => {
    // Below the worker threshold chunks are decoded in this thread from file buffers lent by a shared
    // pool: concurrent reads of different arrays and compressors must never see each other's bytes.
    const rows = 96;
    const cols = 256;
    const arrays = (['zstd', 'gzip', 'blosc', 'zlib'] as const).map((compressor, k) => {
      const data = Float32Array.from(
        { length: rows * cols },
        (_, i) => Math.sin(i * (k + 1) * 0.37) * 1000 + k,
      );
      return { compressor, data, dir: target(`small-${compressor}`) };
    });
    for (const a of arrays) {
      await writeZarr(a.dir, a.data, {
        shape: [rows, cols],
        chunks: [8, 64],
        compressor: a.compressor,
        fsync: false,
      });
    }
    const handles = await Promise.all(arrays.map((a) => openTensor(a.dir)));
    const reads = [];
    for (let r = 0; r < 40; r++) {
      const k = r % arrays.length;
      const r0 = (r * 7) % (rows - 20);
      const c0 = (r * 13) % (cols - 70);
      const step = 1 + (r % 3);
      reads.push(
        handles[k]!.read([
          [r0, r0 + 20],
          [c0, c0 + 70, step],
        ]).then(({ data, shape }) => ({ k, r0, c0, step, data, shape })),
      );
    }
    for (const { k, r0, c0, step, data, shape } of await Promise.all(reads)) {
      const width = Math.ceil(70 / step);
      expect(shape).toEqual([20, width]);
      const src = arrays[k]!.data;
      for (let i = 0; i < 20; i++)
        for (let j = 0; j < width; j++) {
          if (data[i * width + j] !== src[(r0 + i) * cols + c0 + j * step]) {
            expect.fail(`${arrays[k]!.compressor} [${r0 + i}, ${c0 + j * step}] differs`);
          }
        }
    }
    // A missing chunk reads as the fill value; a damaged one is named.
    const zstd = arrays[0]!;
    fs.rmSync(path.join(zstd.dir, 'c', '0', '0'));
    fs.writeFileSync(path.join(zstd.dir, 'c', '1', '0'), 'not zstd');
    const t = await openTensor(zstd.dir);
    const first = await t.read([
      [0, 8],
      [0, 64],
    ]);
    expect(Array.from(first.data as Float32Array).every((v) => v === 0)).toBe(true);
    await expect(
      t.read([
        [8, 16],
        [0, 64],
      ]),
    ).rejects.toThrow(/cannot decode chunk c\/1\/0 of /);
    const later = await t.read([
      [16, 17],
      [0, 3],
    ]);
    expect(Array.from(later.data as Float32Array)).toEqual(
      Array.from(zstd.data.subarray(16 * cols, 16 * cols + 3)),
    );
  });

  it('accepts Node Buffers as uint8 data, including ragged edge chunks', async () => {
    const dir = target('buffer');
    const info = await writeZarr(dir, Buffer.from([1, 2, 3, 4, 5]), {
      shape: [5],
      chunks: [2],
      compressor: 'none',
    });
    expect(info.dtype).toBe('uint8');
    const { data } = await (await openTensor(dir)).readAll();
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data as Uint8Array)).toEqual([1, 2, 3, 4, 5]);
    expect(fs.statSync(path.join(dir, 'c', '2')).size).toBe(2); // the edge chunk is stored full size
  });

  it('float16 rounds to nearest even and reads back as Float32Array', async () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // ties to even overflows to infinity
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and the next half: even wins
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(2 ** -25)).toBe(0); // halfway to the smallest subnormal: even (0) wins
    expect(toHalfBits(-0)).toBe(0x8000);
    for (let h = 0; h < 0x10000; h++) {
      const v = halfToNumber(h);
      if (!Number.isNaN(v)) expect(toHalfBits(v)).toBe(h);
    }
    const dir = target('half');
    await writeZarr(dir, new Uint16Array([0x3c00, 0xc000, 0x7e00, 0x0001]), { shape: [4], dtype: 'float16' });
    const { data } = await (await openTensor(dir)).readAll();
    expect(data).toBeInstanceOf(Float32Array);
    expect(plain(data)).toEqual([1, -2, Number.NaN, 2 ** -24]);
    // Float32Array data given as float16 is rounded to half precision (70000 overflows to infinity).
    const rounded = target('half-rounded');
    await writeZarr(rounded, new Float32Array([1.5, 70000, 0.1]), { shape: [3], dtype: 'float16' });
    expect(plain((await (await openTensor(rounded)).readAll()).data)).toEqual([
      1.5,
      Number.POSITIVE_INFINITY,
      halfToNumber(toHalfBits(0.1)),
    ]);
    expect(halfToNumber(toHalfBits(0.1))).toBeCloseTo(0.1, 3);
  });
});

function sliceInput(input: TensorData, from: number, to: number): TensorData {
  return (input as { slice(a: number, b: number): TensorData }).slice(from, to);
}

function outputType(dtype: Dtype): string {
  return {
    float16: 'Float32Array',
    float32: 'Float32Array',
    float64: 'Float64Array',
    int8: 'Int8Array',
    int16: 'Int16Array',
    int32: 'Int32Array',
    int64: 'BigInt64Array',
    uint8: 'Uint8Array',
    uint16: 'Uint16Array',
    uint32: 'Uint32Array',
    uint64: 'BigUint64Array',
    bool: 'Uint8Array',
  }[dtype];
}

// ------------------------------------------------------------------------------------------- selections

/** The selection computed naively on the flat source: every output index mapped back one by one. */
function naiveSelect(
  src: ArrayLike<number>,
  shape: number[],
  sel: Selection,
): { values: number[]; shape: number[] } {
  const axes = shape.map((n, d) => {
    const s = sel[d];
    const norm = (v: number) => Math.min(n, Math.max(0, v < 0 ? v + n : v));
    if (s === null || s === undefined) return { idx: [...Array(n).keys()], drop: false };
    if (typeof s === 'number') return { idx: [s < 0 ? s + n : s], drop: true };
    const [a, b, step = 1] = s as readonly number[];
    const idx: number[] = [];
    for (let i = norm(a!); i < norm(b!); i += step) idx.push(i);
    return { idx, drop: false };
  });
  const st = strides(shape);
  const values: number[] = [];
  const rec = (d: number, off: number) => {
    if (d === shape.length) {
      values.push(src[off]!);
      return;
    }
    for (const i of axes[d]!.idx) rec(d + 1, off + i * st[d]!);
  };
  rec(0, 0);
  return { values, shape: axes.filter((a) => !a.drop).map((a) => a.idx.length) };
}

describe('selections', () => {
  const dimSel = (n: number) =>
    fc.oneof(
      fc.constant(null),
      fc.integer({ min: -n, max: n - 1 }),
      fc.tuple(fc.integer({ min: -n - 2, max: n + 2 }), fc.integer({ min: -n - 2, max: n + 2 })),
      fc.tuple(
        fc.integer({ min: -n - 2, max: n + 2 }),
        fc.integer({ min: -n - 2, max: n + 2 }),
        fc.integer({ min: 1, max: n + 1 }),
      ),
    );
  const caseArb = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 3 }).chain((shape) =>
    fc.record({
      shape: fc.constant(shape),
      chunks: fc.tuple(...shape.map((n) => fc.integer({ min: 1, max: n + 1 }))),
      selection: fc.tuple(...shape.map((n) => dimSel(n))),
      zarrFormat: fc.constantFrom(2 as const, 3 as const),
      compressor: fc.constantFrom<Compressor>('none', 'zstd'),
    }),
  );

  it('read(selection) equals the naive selection on the source data (property)', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ shape, chunks, selection, zarrFormat, compressor }) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const src = new Int32Array(n).map((_, i) => i * 3 - 7);
        const dir = target('prop');
        await writeZarr(dir, src, { shape, chunks, zarrFormat, compressor, fsync: false });
        const got = await (await openTensor(dir)).read(selection as Selection);
        const want = naiveSelect(src, shape, selection as Selection);
        expect(got.shape).toEqual(want.shape);
        expect(Array.from(got.data as Int32Array)).toEqual(want.values);
      }),
      { numRuns: 150 },
    );
  });

  it('rejects out-of-range indices, extra entries and bad steps', async () => {
    const dir = target('sel');
    await writeZarr(dir, new Float32Array(12), { shape: [3, 4] });
    const t = await openTensor(dir);
    await expect(t.read([3])).rejects.toThrow(/index 3 is out of range for dimension 0 of size 3/);
    await expect(t.read([0, 0, 0])).rejects.toThrow(/3 entries but the array has 2 dimension/);
    await expect(t.read([[0, 3, 0]])).rejects.toThrow(/step must be a positive integer/);
    await expect(t.read([1.5])).rejects.toThrow(/not an integer/);
    const err = await t.read([-4]).catch((e: unknown) => e);
    expect(isVaultError(err, 'TensorError')).toBe(true);
  });
});

// ------------------------------------------------------------------------------------------- chunk access

describe('chunk access', () => {
  it.each([
    ['none', 2],
    ['none', 3],
    ['zstd', 2],
    ['gzip', 3],
  ] as const)('a slice reads only the chunks it intersects (%s, v%i)', async (compressor, zarrFormat) => {
    const dir = target('count');
    // 10 x 12 in 3 x 4 chunks: a 4 x 3 grid of chunks.
    await writeZarr(
      dir,
      new Float64Array(120).map((_, i) => i),
      {
        shape: [10, 12],
        chunks: [3, 4],
        compressor,
        zarrFormat,
      },
    );
    const keys: string[] = [];
    const t = await openTensor(dir, { onRead: (k) => keys.push(k) });
    const chunkKeys = () => keys.filter((k) => k !== '.zarray' && k !== 'zarr.json');
    const key = (i: number, j: number) => (zarrFormat === 2 ? `${i}.${j}` : `c/${i}/${j}`);

    // Rows 4..6 (chunk row 1 and 2), columns 5..6 (chunk column 1).
    const r = await t.read([
      [4, 7],
      [5, 7],
    ]);
    expect(Array.from(r.data as Float64Array)).toEqual([53, 54, 65, 66, 77, 78]);
    expect(chunkKeys().sort()).toEqual([key(1, 1), key(2, 1)]);

    keys.length = 0;
    await t.read([9, null]); // one row: the three chunks of chunk row 3
    expect(chunkKeys().sort()).toEqual([0, 1, 2].map((j) => key(3, j)));

    keys.length = 0;
    await t.read([null, [0, 12, 8]]); // columns 0 and 8: chunk columns 0 and 2 only
    expect(new Set(chunkKeys())).toEqual(new Set([0, 1, 2, 3].flatMap((i) => [key(i, 0), key(i, 2)])));
    expect(chunkKeys()).toHaveLength(8);
  });

  it('opening reads only the metadata', async () => {
    const dir = target('lazy');
    await writeZarr(dir, new Uint8Array(64), { shape: [8, 8], chunks: [2, 2] });
    const keys: string[] = [];
    const t = await openTensor(dir, { onRead: (k) => keys.push(k) });
    expect(t.shape).toEqual([8, 8]);
    expect(keys).toEqual(['zarr.json']);
  });

  it('reads a row of an uncompressed array with one read of just that row', async () => {
    const dir = target('rowread');
    const a = new Float32Array(64 * 256).map((_, i) => i);
    await writeZarr(dir, a, { shape: [64, 256], chunks: [16, 256], compressor: 'none' });
    const keys: string[] = [];
    const t = await openTensor(dir, { onRead: (k) => keys.push(k) });
    const { data } = await t.read([37]);
    expect(Array.from(data as Float32Array)).toEqual(Array.from(a.subarray(37 * 256, 38 * 256)));
    expect(keys.filter((k) => k.startsWith('c/'))).toEqual(['c/2/0']);
  });
});

// ------------------------------------------------------------------------------------------- fill values and foreign layouts

describe('fill values and layouts written elsewhere', () => {
  it.each(['none', 'zstd'] as const)('missing chunks read as the fill value (%s)', async (compressor) => {
    const dir = target('missing');
    await writeZarr(dir, new Int16Array(16).fill(5), {
      shape: [4, 4],
      chunks: [2, 2],
      compressor,
      zarrFormat: 2,
    });
    fs.rmSync(path.join(dir, '1.0'));
    // Rewrite fill_value as zarr-python would for an array created with fill_value=-1.
    const meta = JSON.parse(fs.readFileSync(path.join(dir, '.zarray'), 'utf8'));
    fs.writeFileSync(path.join(dir, '.zarray'), JSON.stringify({ ...meta, fill_value: -1 }));
    const { data } = await (await openTensor(dir)).readAll();
    expect(Array.from(data as Int16Array)).toEqual([5, 5, 5, 5, 5, 5, 5, 5, -1, -1, 5, 5, -1, -1, 5, 5]);
  });

  it('reads NaN fill values of float16 and float32 arrays', async () => {
    for (const dtype of ['float16', 'float32'] as const) {
      const dir = target(`nanfill-${dtype}`);
      await writeZarr(dir, [1, 2, 3, 4], { shape: [4], chunks: [2], dtype, compressor: 'none' });
      fs.rmSync(path.join(dir, 'c', '1'));
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'zarr.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'zarr.json'), JSON.stringify({ ...meta, fill_value: 'NaN' }));
      const { data } = await (await openTensor(dir)).readAll();
      expect(Array.from(data as Float32Array)).toEqual([1, 2, Number.NaN, Number.NaN]);
    }
  });

  /** Writes a v2 array by hand: raw uncompressed chunks in the given byte order and memory order. */
  function writeV2ByHand(
    dir: string,
    dtype: string,
    order: 'C' | 'F',
    chunks: Buffer[],
    shape: number[],
    chunkShape: number[],
  ) {
    fs.mkdirSync(dir);
    const meta = {
      zarr_format: 2,
      shape,
      chunks: chunkShape,
      dtype,
      compressor: null,
      fill_value: 0,
      order,
      filters: null,
    };
    fs.writeFileSync(path.join(dir, '.zarray'), JSON.stringify(meta));
    chunks.forEach((b, i) => {
      fs.writeFileSync(path.join(dir, `${i}.0`), b);
    });
  }

  it('reads big-endian chunks', async () => {
    const dir = target('bigendian');
    const b = Buffer.alloc(4 * 8);
    [1.5, -2, 3, 1e9].forEach((v, i) => {
      b.writeDoubleBE(v, i * 8);
    });
    writeV2ByHand(dir, '>f8', 'C', [b], [4], [4]);
    fs.renameSync(path.join(dir, '0.0'), path.join(dir, '0'));
    const { data } = await (await openTensor(dir)).readAll();
    expect(Array.from(data as Float64Array)).toEqual([1.5, -2, 3, 1e9]);
  });

  it('reads F-order chunks into C order, also through slices', async () => {
    const dir = target('forder');
    // Logical 4 x 3 array a[i][j] = 10 i + j, chunks of 2 x 3 stored column-major.
    const chunk = (i0: number) => {
      const b = Buffer.alloc(2 * 3 * 4);
      let k = 0;
      for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) b.writeInt32LE(10 * (i0 + i) + j, 4 * k++);
      return b;
    };
    writeV2ByHand(dir, '<i4', 'F', [chunk(0), chunk(2)], [4, 3], [2, 3]);
    const t = await openTensor(dir);
    expect(Array.from((await t.readAll()).data as Int32Array)).toEqual([
      0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32,
    ]);
    expect(Array.from((await t.read([[1, 4], 2])).data as Int32Array)).toEqual([12, 22, 32]);
  });

  it('reports a truncated chunk instead of returning garbage', async () => {
    const dir = target('truncated');
    await writeZarr(dir, new Float32Array(8), { shape: [8], chunks: [4], compressor: 'none' });
    fs.truncateSync(path.join(dir, 'c', '1'), 6);
    await expect((await openTensor(dir)).readAll()).rejects.toThrow(/chunk c\/1 .* is truncated/);
  });

  it('names the missing array', async () => {
    const err = await openTensor(path.join(root, 'nope.zarr')).catch((e: unknown) => e);
    expect(isVaultError(err, 'NotFoundError')).toBe(true);
    expect((err as Error).message).toContain('nope.zarr');
  });

  it('rejects unsupported dtypes in foreign metadata', async () => {
    const dir = target('complex');
    fs.mkdirSync(dir);
    fs.writeFileSync(
      path.join(dir, '.zarray'),
      JSON.stringify({
        zarr_format: 2,
        shape: [2],
        chunks: [2],
        dtype: '<c8',
        compressor: null,
        fill_value: 0,
        order: 'C',
        filters: null,
      }),
    );
    const err = await openTensor(dir).catch((e: unknown) => e);
    expect(isVaultError(err, 'UnsupportedDtypeError')).toBe(true);
    expect((err as Error).message).toContain('<c8');
  });
});

// ------------------------------------------------------------------------------------------- validation

describe('bad input', () => {
  /** Runs a failing write and checks the error tag, the message, and that nothing was left on disk. */
  async function rejects(
    data: TensorData,
    options: Parameters<typeof writeZarr>[2],
    tag: 'TensorError' | 'UnsupportedDtypeError',
    ...fragments: string[]
  ): Promise<void> {
    const dir = target('bad');
    const err = await writeZarr(dir, data, options).catch((e: unknown) => e);
    expect(isVaultError(err, tag), String(err)).toBe(true);
    for (const f of fragments) expect((err as Error).message).toContain(f);
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  }

  it('data length that is not the product of the shape', async () => {
    await rejects(new Float32Array(10), { shape: [3, 4] }, 'TensorError', '10', '12', '[3, 4]');
    await rejects([1, 2, 3], { shape: [2], dtype: 'int32' }, 'TensorError', '3', '2');
  });

  it('chunks of the wrong rank or with non-positive sizes', async () => {
    await rejects(new Float32Array(12), { shape: [3, 4], chunks: [3] }, 'TensorError', 'rank 1', 'rank 2');
    await rejects(
      new Float32Array(12),
      { shape: [3, 4], chunks: [3, 0] },
      'TensorError',
      'chunk size 0',
      'dimension 1',
    );
    await rejects(new Float32Array(12), { shape: [3, 4], chunks: [-1, 2] }, 'TensorError', 'chunk size -1');
    await rejects(
      new Float32Array(12),
      { shape: [3, 4], chunks: [1.5, 2] },
      'TensorError',
      'positive integer',
    );
  });

  it('unsupported dtype, listing the supported ones', async () => {
    await rejects(
      [1, 2],
      { shape: [2], dtype: 'complex64' as Dtype },
      'UnsupportedDtypeError',
      '"complex64"',
      DTYPES.join(', '),
    );
  });

  it('a dtype that contradicts the typed array', async () => {
    await rejects(
      new Float32Array(4),
      { shape: [4], dtype: 'int32' },
      'TensorError',
      'int32',
      'Float32Array',
      'float32',
    );
    await rejects(
      new Int32Array(4),
      { shape: [4], dtype: 'float64' },
      'TensorError',
      'float64',
      'Int32Array',
    );
    await rejects(new Uint8Array([0, 2]), { shape: [2], dtype: 'bool' }, 'TensorError', '0/1', 'element 1');
  });

  it('values that do not fit the dtype, and plain numbers without a dtype', async () => {
    await rejects([1, 300], { shape: [2], dtype: 'uint8' }, 'TensorError', 'element 1', '0..255');
    await rejects([1.5], { shape: [1], dtype: 'int32' }, 'TensorError', 'not an integer');
    await rejects([1, 2], { shape: [2] }, 'TensorError', 'dtype is required');
    await rejects([2n ** 64n], { shape: [1], dtype: 'uint64' }, 'TensorError', 'out of range');
  });

  it('bad shapes, compressors and formats', async () => {
    await rejects(new Float32Array(2), { shape: [2, -1] }, 'TensorError', 'shape must be');
    await rejects(
      new Float32Array(2),
      { shape: [2], compressor: 'lzma' as Compressor },
      'TensorError',
      'lzma',
      'zstd',
    );
    await rejects(
      new Float32Array(2),
      { shape: [2], compressor: { id: 'gzip', level: 12 } },
      'TensorError',
      '0 to 9',
    );
    await rejects(new Float32Array(2), { shape: [2], zarrFormat: 4 as 2 }, 'TensorError', 'zarrFormat');
  });

  it('an existing target is never overwritten', async () => {
    const dir = target('exists');
    await writeZarr(dir, new Float32Array([1, 2]), { shape: [2] });
    const err = await writeZarr(dir, new Float32Array([3, 4]), { shape: [2] }).catch((e: unknown) => e);
    expect(isVaultError(err, 'TensorError')).toBe(true);
    expect((err as Error).message).toContain('already exists');
    expect(Array.from((await (await openTensor(dir)).readAll()).data as Float32Array)).toEqual([1, 2]);
  });

  it('a write that fails midway leaves neither the array nor its temporary directory', async () => {
    const dir = target('midway');
    const data = new Float32Array(64 * 1024).fill(1);
    const pending = writeZarr(dir, data, { shape: [64, 1024], chunks: [1, 1024], compressor: 'none' });
    // Detaching the caller's buffer while chunks are being written makes the next chunk fail.
    await new Promise((r) => setTimeout(r, 1));
    structuredClone(data.buffer, { transfer: [data.buffer] });
    await expect(pending).rejects.toThrow();
    expect(fs.existsSync(dir)).toBe(false);
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  });

  it('unsafe names and missing parents', async () => {
    for (const name of ['.hidden.zarr', 'a b.zarr', '-x.zarr']) {
      const err = await writeZarr(path.join(root, name), new Float32Array(1), { shape: [1] }).catch(
        (e: unknown) => e,
      );
      expect(isVaultError(err, 'InvalidNameError'), name).toBe(true);
      expect(fs.existsSync(path.join(root, name))).toBe(false);
    }
    const missing = path.join(root, 'no-such-run', 'a.zarr');
    await expect(writeZarr(missing, new Float32Array(1), { shape: [1] })).rejects.toThrow(
      /parent directory .* does not exist/,
    );
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });
});

describe('default chunks', () => {
  it('keeps small arrays in one chunk and trailing dimensions whole', () => {
    expect(defaultChunks([100, 512], 4)).toEqual([100, 512]);
    const big = defaultChunks([20000, 4096], 4);
    expect(big[1]).toBe(4096);
    const bytes = big[0]! * 4096 * 4;
    expect(bytes).toBeGreaterThanOrEqual(1024 * 1024);
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(defaultChunks([], 8)).toEqual([]);
    expect(defaultChunks([0, 10], 4)).toEqual([1, 10]);
    // A single row larger than 4 MiB splits the last dimension.
    const wide = defaultChunks([3, 4_000_000], 4);
    expect(wide[0]).toBe(1);
    expect(wide[1]! * 4).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('reads and writes arrays with a zero-length dimension', async () => {
    const dir = target('empty');
    const info = await writeZarr(dir, new Float32Array(0), { shape: [0, 3] });
    expect(info.chunks).toEqual([1, 3]);
    const r = await (await openTensor(dir)).readAll();
    expect(r.shape).toEqual([0, 3]);
    expect(r.data.length).toBe(0);
  });
});
