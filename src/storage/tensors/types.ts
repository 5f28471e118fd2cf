/**
 * Public types of the tensor layer. Kept apart from the implementation so that callers (run storage, the
 * CLI) can import them without pulling in the codecs.
 *
 * @example
 * const options: WriteTensorOptions = { shape: [100, 512], compressor: { id: 'zstd', level: 3 } }
 */

/** Element types a tensor can have. */
export type Dtype =
  | 'float16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

/** Every supported dtype, in documentation order. */
export const DTYPES: readonly Dtype[] = Object.freeze([
  'float16',
  'float32',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
] as const);

/**
 * Data accepted by `writeZarr`, flat in C (row-major) order. float16 data is given as raw IEEE half bits in a
 * Uint16Array, or as numbers (a Float32Array, Float64Array or number[]) that are rounded to half precision.
 * bool data is a boolean[] or a Uint8Array of 0/1.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array
  | readonly number[]
  | readonly boolean[]
  | readonly bigint[];

/**
 * What reads return. float16 comes back as Float32Array (Node 20 has no Float16Array; every half value is
 * exact in float32), bool as a Uint8Array of 0/1, int64/uint64 as BigInt64Array/BigUint64Array.
 */
export type TypedArrayOut =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** Chunk compressor: a name with its default level, or a name with an explicit level. */
export type Compressor =
  | 'none'
  | 'gzip'
  | 'zlib'
  | 'zstd'
  | 'blosc'
  | { id: 'gzip' | 'zlib' | 'zstd' | 'blosc'; level?: number };

export interface WriteTensorOptions {
  /** Dimensions, outermost first. `[]` is a 0-d (scalar) tensor holding one element. */
  shape: readonly number[];
  /** Inferred from a typed array; required for plain number/bigint arrays; boolean[] is always `bool`. */
  dtype?: Dtype;
  /** Chunk shape, one positive size per dimension. Default: trailing dimensions whole, ~1–4 MiB per chunk. */
  chunks?: readonly number[];
  /** Default `'zstd'` (level 1). Levels: gzip/zlib 0–9, zstd 1–22, blosc (lz4, byte shuffle) 0–9. */
  compressor?: Compressor;
  /** Default 3. Use 2 for readers that only speak Zarr v2 (zarr-python 2.x). */
  zarrFormat?: 2 | 3;
  /**
   * JSON attributes stored with the array (v3 `attributes`, v2 `.zattrs`), e.g. `{ steps: [0, 100] }` of a
   * tensor series (see `SpecimenStorage.writeTensorSeries`). Default none.
   */
  attributes?: Record<string, unknown>;
  /**
   * Default true: every file is fsynced before the array is renamed into place, so not even a power loss
   * leaves a truncated chunk behind the final name. `false` skips the syncs for scratch data.
   */
  fsync?: boolean;
}

/** What `writeZarr` wrote; the run manifest records it as the artifact's metadata. */
export interface TensorInfo {
  format: 'zarr';
  zarr_format: 2 | 3;
  shape: number[];
  dtype: Dtype;
  chunks: number[];
  /** `'none'`, `'zstd'`, `'gzip'`, `'zlib'` or `'blosc'`. */
  compressor: string;
  order: 'C';
}

/**
 * One entry per dimension: an index (the dimension is dropped), `null` (the whole dimension), `[start, stop)`
 * or `[start, stop, step]`. Negative indices and bounds count from the end, as in NumPy; slice bounds are
 * clamped, indices must be in range. Missing trailing entries mean the whole dimension.
 */
export type Selection = ReadonlyArray<
  number | null | readonly [number, number] | readonly [number, number, number]
>;

/** A lazily opened tensor: only its metadata has been read. */
export interface TensorHandle {
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly chunks: readonly number[];
  readonly zarrFormat: 2 | 3;
  /** The array directory. */
  readonly path: string;
  /**
   * Reads a hyper-slab, in C order. Touches only the chunk files the selection needs (and for uncompressed
   * arrays only the byte ranges it needs).
   */
  read(selection?: Selection): Promise<{ data: TypedArrayOut; shape: number[] }>;
  /** The whole array. */
  readAll(): Promise<{ data: TypedArrayOut; shape: number[] }>;
}

export interface OpenTensorOptions {
  /**
   * Called with the key of every file read from the array directory (`zarr.json`, `c/0/1`, `0.1`…), once per
   * read call on it. For diagnostics and tests that check how much a selection touches.
   */
  onRead?: (key: string) => void;
  /**
   * Where the file `key` of the array is, when not in the array directory: the path of a local copy, or
   * undefined when there is none (a chunk never written reads as the fill value). Remote stubs answer from
   * the object cache, fetching each chunk a read touches on demand.
   */
  resolve?: (key: string) => Promise<string | undefined>;
}
