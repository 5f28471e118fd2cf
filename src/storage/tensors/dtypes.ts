/**
 * Dtype table and data normalisation. Every dtype has a *storage* typed array whose bytes are exactly the
 * little-endian chunk bytes: float16 is stored through Uint16Array (IEEE half bits), bool through Uint8Array
 * (0/1). `toStorageArray` turns whatever the caller passed into that array, validating as it goes.
 *
 * @example
 * toStorageArray([true, false], undefined)      // { dtype: 'bool', array: Uint8Array [1, 0] }
 * toStorageArray(new Float32Array(4), 'float16') // Uint16Array of half bits
 */
import { TensorError, UnsupportedDtypeError } from '../../errors.js';
import { DTYPES, type Dtype, type TensorData, type TypedArrayOut } from './types.js';

/** A typed array constructor of the storage arrays. */
export type StorageCtor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

export interface DtypeInfo {
  dtype: Dtype;
  itemsize: number;
  /** Zarr v2 / NumPy type string, little-endian. */
  v2: string;
  /** Typed array holding the raw chunk bytes. */
  storage: StorageCtor;
  kind: 'float' | 'int' | 'uint' | 'bool';
}

const INFO: Record<Dtype, DtypeInfo> = {
  float16: { dtype: 'float16', itemsize: 2, v2: '<f2', storage: Uint16Array, kind: 'float' },
  float32: { dtype: 'float32', itemsize: 4, v2: '<f4', storage: Float32Array, kind: 'float' },
  float64: { dtype: 'float64', itemsize: 8, v2: '<f8', storage: Float64Array, kind: 'float' },
  int8: { dtype: 'int8', itemsize: 1, v2: '|i1', storage: Int8Array, kind: 'int' },
  int16: { dtype: 'int16', itemsize: 2, v2: '<i2', storage: Int16Array, kind: 'int' },
  int32: { dtype: 'int32', itemsize: 4, v2: '<i4', storage: Int32Array, kind: 'int' },
  int64: { dtype: 'int64', itemsize: 8, v2: '<i8', storage: BigInt64Array, kind: 'int' },
  uint8: { dtype: 'uint8', itemsize: 1, v2: '|u1', storage: Uint8Array, kind: 'uint' },
  uint16: { dtype: 'uint16', itemsize: 2, v2: '<u2', storage: Uint16Array, kind: 'uint' },
  uint32: { dtype: 'uint32', itemsize: 4, v2: '<u4', storage: Uint32Array, kind: 'uint' },
  uint64: { dtype: 'uint64', itemsize: 8, v2: '<u8', storage: BigUint64Array, kind: 'uint' },
  bool: { dtype: 'bool', itemsize: 1, v2: '|b1', storage: Uint8Array, kind: 'bool' },
};

/** Throws UnsupportedDtypeError unless `value` is one of DTYPES. */
export function assertDtype(value: unknown): asserts value is Dtype {
  if (typeof value !== 'string' || !(DTYPES as readonly string[]).includes(value))
    throw new UnsupportedDtypeError(String(value), DTYPES);
}

export function dtypeInfo(dtype: Dtype): DtypeInfo {
  return INFO[dtype];
}

/** Maps a Zarr v2 type string (`<f4`, `>i8`, `|b1`) to a dtype and its byte order; throws if unsupported. */
export function parseV2Dtype(value: unknown): { dtype: Dtype; bigEndian: boolean } {
  const m = typeof value === 'string' ? /^([<>|=])([a-z])(\d+)$/.exec(value) : null;
  const code = m ? `${m[2]}${m[3]}` : '';
  const dtype = (
    {
      f2: 'float16',
      f4: 'float32',
      f8: 'float64',
      i1: 'int8',
      i2: 'int16',
      i4: 'int32',
      i8: 'int64',
      u1: 'uint8',
      u2: 'uint16',
      u4: 'uint32',
      u8: 'uint64',
      b1: 'bool',
    } as Record<string, Dtype>
  )[code];
  if (!m || !dtype)
    throw new UnsupportedDtypeError(typeof value === 'string' ? value : JSON.stringify(value), DTYPES);
  return { dtype, bigEndian: m[1] === '>' && INFO[dtype].itemsize > 1 };
}

/** The dtype a typed array implies; undefined for plain arrays. */
function typedArrayDtype(data: TensorData): Dtype | undefined {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int8Array) return 'int8';
  if (data instanceof Int16Array) return 'int16';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Uint8Array) return 'uint8';
  if (data instanceof Uint16Array) return 'uint16';
  if (data instanceof Uint32Array) return 'uint32';
  if (data instanceof BigUint64Array) return 'uint64';
  return undefined;
}

const INT_RANGE: Partial<Record<Dtype, readonly [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-2147483648, 2147483647],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 4294967295],
};

/**
 * Converts `data` to the storage array of its dtype. Typed arrays whose element type already matches are
 * returned as they are (no copy); everything else is converted and checked value by value.
 */
export function toStorageArray(
  data: TensorData,
  requested: Dtype | undefined,
): { dtype: Dtype; array: TypedArrayOut } {
  if (requested !== undefined) assertDtype(requested);
  const implied = typedArrayDtype(data);
  if (implied !== undefined) {
    const typed = data as TypedArrayOut;
    const dtype = requested ?? implied;
    if (dtype === implied) return { dtype, array: typed };
    // The few deliberate conversions: half bits, numbers rounded to half, and 0/1 bytes as bool.
    if (dtype === 'float16' && implied === 'uint16') return { dtype, array: typed };
    if (dtype === 'float16' && (implied === 'float32' || implied === 'float64'))
      return { dtype, array: floatsToHalf(typed as Float32Array | Float64Array) };
    if (dtype === 'bool' && implied === 'uint8') {
      const bytes = typed as Uint8Array;
      for (let i = 0; i < bytes.length; i++)
        if (bytes[i]! > 1)
          throw new TensorError(
            `tensor: dtype "bool" needs 0/1 bytes, but element ${i} of the Uint8Array is ${bytes[i]}`,
          );
      return { dtype, array: bytes };
    }
    throw new TensorError(
      `tensor: dtype ${JSON.stringify(dtype)} contradicts the ${data.constructor.name} data (which holds ${implied}); ` +
        `pass a ${INFO[dtype].storage.name} or omit dtype`,
    );
  }
  return fromPlainArray(data as readonly unknown[], requested);
}

function fromPlainArray(
  data: readonly unknown[],
  requested: Dtype | undefined,
): { dtype: Dtype; array: TypedArrayOut } {
  if (!Array.isArray(data))
    throw new TensorError(`tensor: data must be a typed array or a plain array, got ${describe(data)}`);
  const first = data[0];
  let dtype = requested;
  if (dtype === undefined) {
    if (typeof first === 'boolean') dtype = 'bool';
    else if (typeof first === 'bigint') dtype = 'int64';
    else
      throw new TensorError(
        'tensor: dtype is required for plain number arrays (e.g. dtype: "float32"); ' +
          'only boolean[] (bool) and bigint[] (int64) infer it',
      );
  }
  const info = INFO[dtype];
  const n = data.length;
  const bad = (i: number, why: string): never => {
    throw new TensorError(
      `tensor: element ${i} (${describe(data[i])}) ${why} for dtype ${JSON.stringify(dtype)}`,
    );
  };
  if (dtype === 'bool') {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i];
      if (v === true || v === 1) out[i] = 1;
      else if (v !== false && v !== 0) bad(i, 'is not a boolean');
    }
    return { dtype, array: out };
  }
  if (dtype === 'int64' || dtype === 'uint64') {
    const out = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
    const [lo, hi] = dtype === 'int64' ? [-(2n ** 63n), 2n ** 63n - 1n] : [0n, 2n ** 64n - 1n];
    for (let i = 0; i < n; i++) {
      const v = data[i];
      let b: bigint;
      if (typeof v === 'bigint') b = v;
      else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
      else return bad(i, 'is not a safe integer or bigint');
      if (b < lo || b > hi) bad(i, 'is out of range');
      out[i] = b;
    }
    return { dtype, array: out };
  }
  const out = new info.storage(n) as Exclude<TypedArrayOut, BigInt64Array | BigUint64Array>;
  const range = INT_RANGE[dtype];
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (typeof v !== 'number') bad(i, 'is not a number');
    const x = v as number;
    if (range && (!Number.isInteger(x) || x < range[0] || x > range[1]))
      bad(i, Number.isInteger(x) ? `is outside ${range[0]}..${range[1]}` : 'is not an integer');
    out[i] = dtype === 'float16' ? toHalfBits(x) : x;
  }
  return { dtype, array: out };
}

function describe(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'object' && v !== null) return v.constructor?.name ?? 'object';
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

// ---------------------------------------------------------------- float16

/** Rounds a number to the nearest IEEE half (ties to even) and returns its bits. Works from the full double, so no double rounding. */
export function toHalfBits(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  // 65520 is halfway between the largest half (65504) and 2^16; ties go to even, i.e. to infinity.
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal (2^-24 units); 1024 carries into the smallest normal
  let e = Math.floor(Math.log2(a));
  // log2 may be off by one ulp next to powers of two; fix the exponent exactly.
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  let m = roundHalfEven((a / 2 ** e) * 1024); // in [1024, 2048]; exact scaling by powers of two
  if (m === 2048) {
    m = 1024;
    e++;
  }
  if (e + 15 >= 31) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | (m - 1024);
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function floatsToHalf(src: Float32Array | Float64Array): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = toHalfBits(src[i]!);
  return out;
}

let halfTable: Float32Array | undefined;

/** Half bits → Float32Array (every half is exact in float32), through a 64 Ki-entry table built once. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToNumber(h);
  }
  const table = halfTable;
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]!]!;
  return out;
}

/** Value of one IEEE half given its bits. */
export function halfToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1024 + m) * 2 ** (e - 25);
}
