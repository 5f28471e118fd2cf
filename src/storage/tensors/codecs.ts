/**
 * Chunk compressors: option parsing, encoding and decoding (shared by the main thread and the codec
 * workers) and the Zarr v2 / v3 metadata that describes them. gzip and zlib use node:zlib; zstd, blosc and
 * lz4 use the numcodecs WebAssembly builds, which is also what zarrita decodes them with.
 *
 * @example
 * const spec = parseCompressor({ id: 'zstd', level: 3 }) // { id: 'zstd', level: 3 }
 * const bytes = await encodeChunk(spec, raw)
 * const back = await decodeChunk('zstd', bytes)
 */
import zlib from 'node:zlib';
import { TensorError } from '../../errors.js';
import type { Compressor } from './types.js';

export type CodecId = 'gzip' | 'zlib' | 'zstd' | 'blosc';

/** A validated compressor with its level filled in. */
export interface CodecSpec {
  id: CodecId;
  level: number;
}

/** Default levels, as in numcodecs (Python): fast settings, since float tensors compress little anyway. */
const DEFAULT_LEVEL: Record<CodecId, number> = { gzip: 1, zlib: 1, zstd: 1, blosc: 5 };
const LEVEL_RANGE: Record<CodecId, readonly [number, number]> = {
  gzip: [0, 9],
  zlib: [0, 9],
  zstd: [1, 22],
  blosc: [0, 9],
};
const NAMES = ['none', 'gzip', 'zlib', 'zstd', 'blosc'];

/** Validates the `compressor` option; null means uncompressed. */
export function parseCompressor(c: Compressor | undefined): CodecSpec | null {
  if (c === undefined) return { id: 'zstd', level: DEFAULT_LEVEL.zstd };
  if (c === 'none') return null;
  const id = typeof c === 'string' ? c : typeof c === 'object' && c !== null ? c.id : undefined;
  if (typeof id !== 'string' || !(id in DEFAULT_LEVEL))
    throw new TensorError(
      `tensor: unknown compressor ${JSON.stringify(typeof c === 'object' ? c : String(c))}; supported: ${NAMES.join(', ')}`,
    );
  const codec = id as CodecId;
  const level = typeof c === 'object' && c.level !== undefined ? c.level : DEFAULT_LEVEL[codec];
  const [lo, hi] = LEVEL_RANGE[codec];
  if (!Number.isInteger(level) || level < lo || level > hi)
    throw new TensorError(`tensor: ${codec} level must be an integer from ${lo} to ${hi}, got ${level}`);
  return { id: codec, level };
}

type Encoder = {
  encode(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
  decode(data: Uint8Array): Uint8Array | Promise<Uint8Array>;
};
const wasmEncoders = new Map<string, Promise<Encoder>>();

/**
 * numcodecs modules load their WebAssembly lazily; keep one encoder per configuration. The numcodecs.js
 * Blosc build always shuffles with a 4-byte element size (its header records that, and every Blosc
 * decoder follows the header), so blosc chunks of 1-, 2- and 8-byte dtypes are valid but compress a little
 * worse than zarr-python's would.
 */
function wasmEncoder(spec: CodecSpec): Promise<Encoder> {
  const key = `${spec.id}:${spec.level}`;
  let enc = wasmEncoders.get(key);
  if (!enc) {
    enc =
      spec.id === 'zstd'
        ? import('numcodecs/zstd').then((m) => m.default.fromConfig({ id: 'zstd', level: spec.level }))
        : import('numcodecs/blosc').then((m) =>
            m.default.fromConfig({ id: 'blosc', cname: 'lz4', clevel: spec.level, shuffle: 1, blocksize: 0 }),
          );
    wasmEncoders.set(key, enc);
  }
  return enc;
}

/** Compresses one chunk. */
export async function encodeChunk(spec: CodecSpec, raw: Uint8Array): Promise<Uint8Array> {
  switch (spec.id) {
    case 'gzip':
      return zlib.gzipSync(raw, { level: spec.level });
    case 'zlib':
      return zlib.deflateSync(raw, { level: spec.level });
    default:
      // numcodecs copies its result out of the WebAssembly heap, so the bytes stay valid after the next call.
      return (await wasmEncoder(spec)).encode(raw);
  }
}

/** Compressors whose chunks `decodeChunk` can decode (the ones zarr-python uses by default and ours). */
export type DecoderId = CodecId | 'lz4';
export const DECODERS: readonly DecoderId[] = ['gzip', 'zlib', 'zstd', 'blosc', 'lz4'];

let lz4: Promise<Encoder> | undefined;

/** Decompresses one chunk; the compressor's own framing says how (levels and shuffles are not needed). */
export async function decodeChunk(id: DecoderId, bytes: Uint8Array): Promise<Uint8Array> {
  switch (id) {
    case 'gzip':
      return zlib.gunzipSync(bytes);
    case 'zlib':
      return zlib.inflateSync(bytes);
    case 'lz4':
      lz4 ??= import('numcodecs/lz4').then((m) => m.default.fromConfig({ id: 'lz4' }));
      return (await lz4).decode(bytes);
    default:
      return (await wasmEncoder({ id, level: DEFAULT_LEVEL[id] })).decode(bytes);
  }
}

/** The `compressor` field of a v2 `.zarray`, in numcodecs' own spelling so zarr-python 2 reads it. */
export function v2CompressorConfig(spec: CodecSpec | null): Record<string, unknown> | null {
  if (!spec) return null;
  if (spec.id === 'blosc') return { id: 'blosc', cname: 'lz4', clevel: spec.level, shuffle: 1, blocksize: 0 };
  return { id: spec.id, level: spec.level };
}

/**
 * The bytes-to-bytes codec of a v3 `zarr.json`. zlib is not a core v3 codec; `numcodecs.zlib` is the name
 * zarr-python 3 (through numcodecs) and zarrita both resolve.
 */
export function v3CodecConfig(
  spec: CodecSpec,
  itemsize: number,
): { name: string; configuration: Record<string, unknown> } {
  switch (spec.id) {
    case 'gzip':
      return { name: 'gzip', configuration: { level: spec.level } };
    case 'zlib':
      return { name: 'numcodecs.zlib', configuration: { level: spec.level } };
    case 'zstd':
      return { name: 'zstd', configuration: { level: spec.level, checksum: false } };
    case 'blosc':
      return {
        name: 'blosc',
        configuration: {
          typesize: itemsize,
          cname: 'lz4',
          clevel: spec.level,
          shuffle: 'shuffle',
          blocksize: 0,
        },
      };
  }
}
