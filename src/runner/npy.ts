/**
 * Reading NumPy `.npy` files (format versions 1–3), so tensors saved by Python protocols become Zarr arrays.
 * Supports the dtypes the vault stores (float16/32/64, int8–64, uint8–64, bool), either byte order, and C or
 * Fortran order (Fortran arrays are transposed into C order).
 *
 * @example
 * const { data, shape, dtype } = readNpy(fs.readFileSync('weights.npy'))
 */
import { TensorError, UnsupportedDtypeError } from '../errors.js';
import { dtypeInfo, parseV2Dtype } from '../storage/tensors/dtypes.js';
import { DTYPES, type Dtype, type TensorData } from '../storage/tensors/index.js';

/** A decoded `.npy` array in C order. */
export interface NpyArray {
  data: TensorData;
  shape: number[];
  dtype: Dtype;
}

/** Decodes `.npy` bytes; `name` appears in errors. */
export function readNpy(bytes: Uint8Array, name = 'array.npy'): NpyArray {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (magic !== '\x93NUMPY') throw new TensorError(`npy: ${name} is not a .npy file (bad magic)`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = Buffer.from(bytes.subarray(headerStart, headerStart + headerLen)).toString(
    major >= 3 ? 'utf8' : 'latin1',
  );
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined)
    throw new TensorError(`npy: ${name} has an unreadable header: ${header.trim()}`);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  // A .npy descr is the same type string as Zarr v2's dtype (`<f4`, `>i8`, `|b1`).
  let parsed: ReturnType<typeof parseV2Dtype>;
  try {
    parsed = parseV2Dtype(descr);
  } catch {
    throw new UnsupportedDtypeError(`${descr} (in ${name})`, DTYPES);
  }
  const { dtype, bigEndian } = parsed;
  const itemsize = dtypeInfo(dtype).itemsize;
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLen;
  // A copy (Buffer#slice would share the file buffer), so the typed view below is aligned and owned.
  const raw = new Uint8Array(bytes.subarray(start, start + count * itemsize));
  if (raw.byteLength !== count * itemsize)
    throw new TensorError(
      `npy: ${name} is truncated: expected ${count * itemsize} data bytes, found ${raw.byteLength}`,
    );
  if (bigEndian && itemsize > 1) {
    for (let i = 0; i < raw.length; i += itemsize) raw.subarray(i, i + itemsize).reverse();
  }
  let data = typedView(dtype, raw.buffer as ArrayBuffer);
  if (fortran && shape.length > 1) data = fortranToC(data, shape);
  return { data, shape, dtype };
}

function typedView(dtype: Dtype, buf: ArrayBuffer): TensorData {
  switch (dtype) {
    case 'float16':
      return new Uint16Array(buf) as unknown as TensorData;
    case 'float32':
      return new Float32Array(buf);
    case 'float64':
      return new Float64Array(buf);
    case 'int8':
      return new Int8Array(buf);
    case 'int16':
      return new Int16Array(buf);
    case 'int32':
      return new Int32Array(buf);
    case 'int64':
      return new BigInt64Array(buf);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buf);
    case 'uint16':
      return new Uint16Array(buf);
    case 'uint32':
      return new Uint32Array(buf);
    case 'uint64':
      return new BigUint64Array(buf);
  }
}

/** Reorders Fortran-order data into C order. */
function fortranToC(src: TensorData, shape: number[]): TensorData {
  const n = shape.length;
  const count = shape.reduce((a, b) => a * b, 1);
  const out = new (src.constructor as new (n: number) => TensorData & { [i: number]: number | bigint })(
    count,
  );
  const input = src as unknown as { [i: number]: number | bigint };
  const fStrides = new Array<number>(n);
  fStrides[0] = 1;
  for (let d = 1; d < n; d++) fStrides[d] = fStrides[d - 1]! * shape[d - 1]!;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < count; c++) {
    let f = 0;
    for (let d = 0; d < n; d++) f += idx[d]! * fStrides[d]!;
    out[c] = input[f]!;
    for (let d = n - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}
