/**
 * Zarr array metadata: building `.zarray` (v2) and `zarr.json` (v3) for writes, and parsing either for
 * reads into one internal description. Parsing also decides whether an array is *plain* (uncompressed,
 * little-endian, C order, no filters), which the reader serves straight from the chunk files.
 *
 * @example
 * const json = buildMetadata({ zarrFormat: 3, shape: [2, 3], chunks: [2, 3], dtype: 'float32', codec: null })
 * const meta = parseMetadata('zarr.json', JSON.parse(json), '/runs/x/a.zarr')
 */
import os from 'node:os';
import { TensorError } from '../../errors.js';
import { type CodecSpec, DECODERS, type DecoderId, v2CompressorConfig, v3CodecConfig } from './codecs.js';
import { assertDtype, dtypeInfo, parseV2Dtype, toHalfBits } from './dtypes.js';
import type { Dtype } from './types.js';

export interface BuildOptions {
  zarrFormat: 2 | 3;
  shape: readonly number[];
  chunks: readonly number[];
  dtype: Dtype;
  codec: CodecSpec | null;
  /** User attributes: v3 `attributes`, v2 `.zattrs` (written by the caller, see `attributesDocument`). */
  attributes?: Record<string, unknown>;
}

/** Metadata file name of each format. */
export function metadataKey(zarrFormat: 2 | 3): '.zarray' | 'zarr.json' {
  return zarrFormat === 2 ? '.zarray' : 'zarr.json';
}

/** The metadata document for a new array; fill value 0 (false for bool). */
export function buildMetadata(o: BuildOptions): string {
  const info = dtypeInfo(o.dtype);
  const fill = o.dtype === 'bool' ? false : 0;
  if (o.zarrFormat === 2) {
    // Keys sorted and indented like zarr-python 2 writes them; dimension_separator "." is its default.
    const meta = {
      chunks: o.chunks,
      compressor: v2CompressorConfig(o.codec),
      dimension_separator: '.',
      dtype: info.v2,
      fill_value: fill,
      filters: null,
      order: 'C',
      shape: o.shape,
      zarr_format: 2,
    };
    return JSON.stringify(meta, null, 4);
  }
  const codecs: unknown[] = [{ name: 'bytes', configuration: { endian: 'little' } }];
  if (o.codec) codecs.push(v3CodecConfig(o.codec, info.itemsize));
  const meta = {
    zarr_format: 3,
    node_type: 'array',
    shape: o.shape,
    data_type: o.dtype,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: o.chunks } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: fill,
    codecs,
    attributes: o.attributes ?? {},
  };
  return JSON.stringify(meta, null, 2);
}

/** Relative chunk file key for chunk coordinates. */
export type ChunkKeyFn = (coords: readonly number[]) => string;

/** Everything the reader needs to know about an array. */
export interface ArrayMeta {
  zarrFormat: 2 | 3;
  shape: number[];
  chunks: number[];
  dtype: Dtype;
  /** Fill value in storage units: half bits for float16, 0/1 for bool, bigint for 64-bit integers. */
  fill: number | bigint;
  chunkKey: ChunkKeyFn;
  /** Uncompressed, little-endian, C order, no filters: chunk files hold the raw elements. */
  plain: boolean;
  /**
   * Set when the chunks are exactly one compressor away from plain (little-endian, C order, no filters) and
   * that compressor is one `decodeChunk` knows: large reads then decode chunks in the codec workers.
   */
  decoder?: DecoderId;
  /**
   * The metadata document as zarrita should see it: float16 shown as uint16 and bool as uint8 (zarrita has
   * no float16 without Float16Array, and its bool arrays are not plain bytes); the reader converts.
   */
  zarritaDocument: Record<string, unknown>;
}

const HOST_LITTLE_ENDIAN = os.endianness() === 'LE';

function corrupt(where: string, why: string): TensorError {
  return new TensorError(`tensor: invalid Zarr metadata in ${where}: ${why}`);
}

function intList(value: unknown, what: string, where: string, min: number): number[] {
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v) && v >= min))
    throw corrupt(where, `${what} must be a list of integers ≥ ${min}, got ${JSON.stringify(value)}`);
  return value as number[];
}

/** Parses a `.zarray` or `zarr.json` document. */
export function parseMetadata(key: '.zarray' | 'zarr.json', doc: unknown, where: string): ArrayMeta {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw corrupt(where, 'not a JSON object');
  const m = doc as Record<string, unknown>;
  return key === '.zarray' ? parseV2(m, where) : parseV3(m, where);
}

function parseV2(m: Record<string, unknown>, where: string): ArrayMeta {
  if (m.zarr_format !== 2)
    throw corrupt(where, `zarr_format is ${JSON.stringify(m.zarr_format)}, expected 2`);
  const shape = intList(m.shape, 'shape', where, 0);
  const chunks = intList(m.chunks, 'chunks', where, 1);
  if (chunks.length !== shape.length) throw corrupt(where, 'chunks and shape differ in length');
  const { dtype, bigEndian } = parseV2Dtype(m.dtype);
  const order = m.order ?? 'C';
  if (order !== 'C' && order !== 'F')
    throw corrupt(where, `order must be "C" or "F", got ${JSON.stringify(order)}`);
  const sep = m.dimension_separator ?? '.';
  if (sep !== '.' && sep !== '/') throw corrupt(where, `dimension_separator ${JSON.stringify(sep)}`);
  const filters = m.filters;
  const compressor = m.compressor as { id?: unknown } | null | undefined;
  const fill = fillToStorage(dtype, m.fill_value, where);
  const rawLayout =
    HOST_LITTLE_ENDIAN &&
    !bigEndian &&
    order === 'C' &&
    (filters === null || filters === undefined || (Array.isArray(filters) && filters.length === 0));
  const plain = rawLayout && (compressor === null || compressor === undefined);
  const decoder = rawLayout && compressor ? knownDecoder(compressor.id) : undefined;
  const zarritaDocument = { ...m };
  if (dtype === 'float16' || dtype === 'bool') {
    const stored = dtype === 'float16' ? 'u2' : 'u1';
    zarritaDocument.dtype = `${bigEndian ? '>' : '<'}${stored}`;
    zarritaDocument.fill_value = Number(fill);
  }
  return {
    zarrFormat: 2,
    shape,
    chunks,
    dtype,
    fill,
    chunkKey: (coords) => coords.join(sep) || '0',
    plain,
    decoder,
    zarritaDocument,
  };
}

function parseV3(m: Record<string, unknown>, where: string): ArrayMeta {
  if (m.zarr_format !== 3)
    throw corrupt(where, `zarr_format is ${JSON.stringify(m.zarr_format)}, expected 3`);
  if (m.node_type !== 'array')
    throw corrupt(where, `node_type is ${JSON.stringify(m.node_type)}, not an array`);
  const shape = intList(m.shape, 'shape', where, 0);
  const grid = m.chunk_grid as { name?: unknown; configuration?: { chunk_shape?: unknown } } | undefined;
  if (grid?.name !== 'regular')
    throw corrupt(where, `chunk_grid ${JSON.stringify(grid?.name)} is not "regular"`);
  const chunks = intList(grid.configuration?.chunk_shape, 'chunk_shape', where, 1);
  if (chunks.length !== shape.length) throw corrupt(where, 'chunk_shape and shape differ in length');
  assertDtype(m.data_type);
  const dtype = m.data_type;
  const encoding = m.chunk_key_encoding as
    | { name?: unknown; configuration?: { separator?: unknown } }
    | undefined;
  const name = encoding?.name ?? 'default';
  const sep = encoding?.configuration?.separator ?? (name === 'v2' ? '.' : '/');
  if ((name !== 'default' && name !== 'v2') || (sep !== '.' && sep !== '/'))
    throw corrupt(where, `unsupported chunk_key_encoding ${JSON.stringify(encoding)}`);
  const chunkKey: ChunkKeyFn =
    name === 'v2'
      ? (coords) => coords.join(sep) || '0'
      : (coords) => (coords.length === 0 ? 'c' : `c${sep}${coords.join(sep)}`);
  const codecs = Array.isArray(m.codecs)
    ? (m.codecs as { name?: unknown; configuration?: Record<string, unknown> }[])
    : [];
  const fill = fillToStorage(dtype, m.fill_value, where);
  const first = codecs[0];
  const transformers = m.storage_transformers;
  const rawLayout =
    HOST_LITTLE_ENDIAN &&
    first?.name === 'bytes' &&
    (dtypeInfo(dtype).itemsize === 1 || (first.configuration?.endian ?? 'little') === 'little') &&
    (transformers === undefined || (Array.isArray(transformers) && transformers.length === 0));
  const plain = rawLayout && codecs.length === 1;
  const decoder = rawLayout && codecs.length === 2 ? knownDecoder(codecs[1]?.name) : undefined;
  const zarritaDocument = { ...m };
  if (dtype === 'float16' || dtype === 'bool') {
    zarritaDocument.data_type = dtype === 'float16' ? 'uint16' : 'uint8';
    zarritaDocument.fill_value = Number(fill);
  }
  return {
    zarrFormat: 3,
    shape,
    chunks,
    dtype,
    fill,
    chunkKey,
    plain,
    decoder,
    zarritaDocument,
  };
}

/** `zstd`, `numcodecs.zstd`… as a decoder we have, or undefined. */
function knownDecoder(name: unknown): DecoderId | undefined {
  const id = typeof name === 'string' ? name.replace(/^numcodecs\./, '') : '';
  return (DECODERS as readonly string[]).includes(id) ? (id as DecoderId) : undefined;
}

/** A JSON fill value (number, "NaN", "Infinity", "-Infinity", v3 hex bits, boolean, null) in storage units. */
function fillToStorage(dtype: Dtype, raw: unknown, where: string): number | bigint {
  const info = dtypeInfo(dtype);
  let value: number;
  if (raw === null || raw === undefined) value = 0;
  else if (typeof raw === 'boolean') value = raw ? 1 : 0;
  else if (typeof raw === 'number') value = raw;
  else if (raw === 'NaN') value = Number.NaN;
  else if (raw === 'Infinity') value = Number.POSITIVE_INFINITY;
  else if (raw === '-Infinity') value = Number.NEGATIVE_INFINITY;
  else if (typeof raw === 'string' && /^0x[0-9a-f]+$/i.test(raw)) {
    // v3 spells special floats as their raw bits.
    const bits = BigInt(raw);
    if (dtype === 'float16') return Number(bits);
    const view = new DataView(new ArrayBuffer(8));
    if (dtype === 'float32') {
      view.setUint32(0, Number(bits));
      value = view.getFloat32(0);
    } else {
      view.setBigUint64(0, bits);
      value = view.getFloat64(0);
    }
  } else throw corrupt(where, `fill_value ${JSON.stringify(raw)} is not valid for ${dtype}`);
  if (dtype === 'float16') return toHalfBits(value);
  if (info.itemsize === 8 && info.kind !== 'float') {
    if (!Number.isFinite(value))
      throw corrupt(where, `fill_value ${JSON.stringify(raw)} is not valid for ${dtype}`);
    return BigInt(Math.trunc(value));
  }
  return value;
}
