/**
 * Reading Zarr arrays, v2 or v3, from this library or from zarr-python. Opening reads only the metadata.
 * Plain arrays (uncompressed, little-endian, C order) are read straight from the chunk files: each chunk
 * the selection touches is read with one positional read of just the byte span it needs, directly into the
 * output when that span is contiguous there too. Arrays that are one common compressor (Blosc, Zstd, GZip,
 * Zlib, LZ4) away from plain are decoded chunk by chunk by our own loop: in the codec worker pool for large
 * reads (≥ 8 MiB), in this thread from pooled file buffers otherwise. Everything else (big-endian, F order,
 * filters, sharding) is decoded by zarrita. Every path fetches only the chunk files holding selected
 * elements.
 *
 * @example
 * const t = await openTensor(path.join(runDir, 'activations.zarr'))
 * t.shape                                         // [100, 512]
 * const { data, shape } = await t.read([3, null]) // row 3: shape [512]
 * const rows = await t.read([[0, 10], [0, 512, 2]]) // shape [10, 256]
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as zarr from 'zarrita';
import { NotFoundError, TensorError } from '../../errors.js';
import { codecPool } from './codec-pool.js';
import { type DecoderId, decodeChunk } from './codecs.js';
import { dtypeInfo, halfBitsToFloat32 } from './dtypes.js';
import { forEachConcurrently, readFully } from './io.js';
import {
  chunkParts,
  copyWithPlan,
  cStrides,
  type DimSelection,
  type Flat,
  isSingleRun,
  normalizeSelection,
  offsetOf,
  planCopy,
  product,
} from './layout.js';
import { type ArrayMeta, parseMetadata } from './metadata.js';
import type { Dtype, OpenTensorOptions, Selection, TensorHandle, TypedArrayOut } from './types.js';

/** Chunk reads in flight at once for the direct path. */
const READ_LANES = 8;
/** Reads of compressed arrays at least this large (uncompressed) decode in the codec workers. */
export const POOL_THRESHOLD_BYTES = 8 * 1024 * 1024;

/**
 * Opens the Zarr array at `dir` (v3 `zarr.json` or v2 `.zarray`). Throws NotFoundError when neither
 * exists, UnsupportedDtypeError for dtypes outside DTYPES and TensorError for malformed metadata.
 */
export async function openTensor(dir: string, options: OpenTensorOptions = {}): Promise<TensorHandle> {
  const root = path.resolve(dir);
  const store = new DirStore(root, options.onRead, options.resolve);
  for (const key of ['zarr.json', '.zarray'] as const) {
    const bytes = await store.read(key);
    if (!bytes) continue;
    let doc: unknown;
    try {
      doc = JSON.parse(Buffer.from(bytes).toString('utf8'));
    } catch (err) {
      throw new TensorError(`tensor: invalid Zarr metadata in ${path.join(root, key)}: not JSON`, {
        cause: err,
      });
    }
    const meta = parseMetadata(key, doc, path.join(root, key));
    // zarrita asks for the metadata again: answer from memory, in the form it can handle.
    store.overrides.set(key, Buffer.from(JSON.stringify(meta.zarritaDocument)));
    return new ZarrTensor(root, meta, store);
  }
  throw new NotFoundError('tensor', dir, [], 'no zarr.json or .zarray in it');
}

/** Files of one array directory, for zarrita (get/getRange) and for the direct path (readInto). */
class DirStore {
  readonly overrides = new Map<string, Uint8Array>();

  constructor(
    readonly root: string,
    readonly onRead?: (key: string) => void,
    readonly resolve?: (key: string) => Promise<string | undefined>,
  ) {}

  /**
   * Tells a resolver every chunk a read is about to take, so remote chunks are fetched all at once rather
   * than as the read lanes reach them; the lanes then find them resolved.
   */
  prefetch(keys: readonly string[]): void {
    const resolve = this.resolve;
    if (!resolve || keys.length < 2) return;
    const pending = new Map(keys.map((k) => [k, resolve(k)] as const));
    for (const p of pending.values()) p.catch(() => {}); // awaited (and reported) by the read itself
    this.prefetched = pending;
  }

  private prefetched: Map<string, Promise<string | undefined>> | undefined;

  /** The file holding `key` (undefined: none, read as missing). */
  async #file(key: string): Promise<string | undefined> {
    const file = path.join(this.root, key);
    // Keys come from metadata we parsed; still, never read outside the array directory.
    if (!file.startsWith(this.root + path.sep))
      throw new TensorError(`tensor: chunk key ${JSON.stringify(key)} escapes the array`);
    if (!this.resolve) return file;
    const early = this.prefetched?.get(key);
    if (early) {
      this.prefetched!.delete(key);
      return early;
    }
    return this.resolve(key);
  }

  /** Whole file, or undefined when it does not exist. */
  async read(key: string): Promise<Uint8Array | undefined> {
    const override = this.overrides.get(key);
    if (override) return override;
    this.onRead?.(key);
    const file = await this.#file(key);
    return file === undefined ? undefined : fsp.readFile(file).catch(missingAsUndefined);
  }

  /**
   * Whole file in a buffer borrowed from the shared pool (call `release` once done with `bytes`), or
   * undefined when it does not exist.
   */
  async readPooled(key: string): Promise<{ bytes: Uint8Array; release: () => void } | undefined> {
    const override = this.overrides.get(key);
    if (override) return { bytes: override, release: () => {} };
    this.onRead?.(key);
    const file = await this.#file(key);
    const fh = file === undefined ? undefined : await fsp.open(file, 'r').catch(missingAsUndefined);
    if (!fh) return undefined;
    let buf: Uint8Array | undefined;
    try {
      const { size } = await fh.stat();
      buf = borrowFileBuffer(size);
      const n = await readFully(fh, buf.subarray(0, size), 0);
      const lent = buf;
      buf = undefined;
      return { bytes: lent.subarray(0, n), release: () => returnFileBuffer(lent) };
    } finally {
      if (buf) returnFileBuffer(buf);
      await fh.close();
    }
  }

  /** Reads from `position` into `target`; bytes read, or undefined when the file does not exist. */
  async readInto(key: string, position: number, target: Uint8Array): Promise<number | undefined> {
    this.onRead?.(key);
    const file = await this.#file(key);
    const fh = file === undefined ? undefined : await fsp.open(file, 'r').catch(missingAsUndefined);
    if (!fh) return undefined;
    try {
      return await readFully(fh, target, position);
    } finally {
      await fh.close();
    }
  }

  // zarrita's AsyncReadable: keys are absolute ("/c/0/0").
  get = (key: zarr.AbsolutePath): Promise<Uint8Array | undefined> => this.read(key.slice(1));

  getRange = async (key: zarr.AbsolutePath, range: zarr.RangeQuery): Promise<Uint8Array | undefined> => {
    const rel = key.slice(1);
    if ('suffixLength' in range) {
      const whole = await this.read(rel);
      return whole?.subarray(Math.max(0, whole.length - range.suffixLength));
    }
    const out = new Uint8Array(range.length);
    const n = await this.readInto(rel, range.offset, out);
    return n === undefined ? undefined : out.subarray(0, n);
  };
}

/** Runs `decode`; a failure becomes a TensorError naming the chunk `key` of `array`. */
async function decodeOrExplain<T>(decode: () => Promise<T>, key: string, array: string): Promise<T> {
  try {
    return await decode();
  } catch (err) {
    throw new TensorError(`tensor: cannot decode chunk ${key} of ${array}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Chunk-file buffers lent to inline decodes: a decoder copies its input before it returns, so a buffer is
 * free again as soon as its chunk is decoded. At most FILE_POOL_MAX buffers of at most FILE_POOL_MAX_BYTES
 * are kept; larger files get a buffer of their own.
 */
const FILE_POOL_MAX = 8;
const FILE_POOL_MAX_BYTES = 16 * 1024 * 1024;
const filePool: Uint8Array[] = [];

function borrowFileBuffer(size: number): Uint8Array {
  for (let i = filePool.length - 1; i >= 0; i--) {
    if (filePool[i]!.byteLength >= size) return filePool.splice(i, 1)[0]!;
  }
  // Round up so that chunks of one array, which differ a little in compressed size, reuse each other's.
  return new Uint8Array(Math.max(size, Math.min(FILE_POOL_MAX_BYTES, 2 ** Math.ceil(Math.log2(size || 1)))));
}

function returnFileBuffer(buf: Uint8Array): void {
  if (buf.byteLength > FILE_POOL_MAX_BYTES) return;
  if (filePool.length >= FILE_POOL_MAX) {
    // Keep the larger buffers: they serve every smaller request too.
    let smallest = 0;
    for (let i = 1; i < filePool.length; i++)
      if (filePool[i]!.byteLength < filePool[smallest]!.byteLength) smallest = i;
    if (filePool[smallest]!.byteLength >= buf.byteLength) return;
    filePool.splice(smallest, 1);
  }
  filePool.push(buf);
}

function missingAsUndefined(err: NodeJS.ErrnoException): undefined {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
  throw err;
}

class ZarrTensor implements TensorHandle {
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly chunks: readonly number[];
  readonly zarrFormat: 2 | 3;
  readonly path: string;
  readonly #meta: ArrayMeta;
  readonly #store: DirStore;
  #zarrita: Promise<zarr.Array<zarr.DataType, DirStore>> | undefined;

  constructor(root: string, meta: ArrayMeta, store: DirStore) {
    this.path = root;
    this.#meta = meta;
    this.#store = store;
    this.shape = Object.freeze([...meta.shape]);
    this.chunks = Object.freeze([...meta.chunks]);
    this.dtype = meta.dtype;
    this.zarrFormat = meta.zarrFormat;
  }

  async read(selection?: Selection): Promise<{ data: TypedArrayOut; shape: number[] }> {
    const dims = normalizeSelection(selection, this.#meta.shape);
    const counts = dims.map((d) => d.count);
    const shape = dims.filter((d) => !d.drop).map((d) => d.count);
    const meta = this.#meta;
    const large = product(counts) * dtypeInfo(this.dtype).itemsize >= POOL_THRESHOLD_BYTES;
    const raw = meta.plain
      ? await this.#readDirect(dims, counts)
      : meta.decoder
        ? await this.#readDecoded(dims, counts, meta.decoder, !large)
        : await this.#readZarrita(dims, counts);
    const data = this.dtype === 'float16' ? halfBitsToFloat32(raw as Uint16Array) : raw;
    return { data, shape };
  }

  readAll(): Promise<{ data: TypedArrayOut; shape: number[] }> {
    return this.read();
  }

  /** Storage-typed output (half bits for float16, 0/1 bytes for bool), prefilled with the fill value. */
  #allocate(n: number): TypedArrayOut {
    const Storage = dtypeInfo(this.dtype).storage;
    const out = new Storage(n);
    const fill = this.#meta.fill;
    if (fill !== 0 && fill !== 0n) (out as unknown as Flat).fill(fill);
    return out;
  }

  async #readDirect(dims: DimSelection[], counts: number[]): Promise<TypedArrayOut> {
    const meta = this.#meta;
    const out = this.#allocate(product(counts));
    if (out.length === 0) return out;
    const Storage = dtypeInfo(this.dtype).storage;
    const bpe = Storage.BYTES_PER_ELEMENT;
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const outStrides = cStrides(counts);
    const chunkStrides = cStrides(meta.chunks);
    const chunkBytes = product(meta.chunks) * bpe;
    const stepped = chunkStrides.map((s, d) => s * dims[d]!.step);
    const parts = chunkParts(dims, meta.shape, meta.chunks);
    this.#store.prefetch(parts.map((p) => meta.chunkKey(p.coords)));
    await forEachConcurrently(parts.length, READ_LANES, async (i) => {
      const part = parts[i]!;
      const key = meta.chunkKey(part.coords);
      const plan = planCopy(part.counts, stepped, outStrides);
      const src = offsetOf(part.local, chunkStrides);
      const dst = offsetOf(part.out, outStrides);
      const last = src + part.counts.reduce((acc, c, d) => acc + (c - 1) * stepped[d]!, 0);
      const spanBytes = (last - src + 1) * bpe;
      const truncated = (got: number) =>
        new TensorError(
          `tensor: chunk ${key} of ${this.path} is truncated: needed bytes up to ${src * bpe + spanBytes} of ${chunkBytes}, file has ${got}`,
        );
      if (isSingleRun(plan)) {
        // One contiguous span on both sides: read it straight into the output, no copy.
        const target = outBytes.subarray(dst * bpe, dst * bpe + spanBytes);
        const got = await this.#store.readInto(key, src * bpe, target);
        if (got !== undefined && got < spanBytes) throw truncated(src * bpe + got);
        return;
      }
      const tmp = new Storage(spanBytes / bpe);
      const got = await this.#store.readInto(key, src * bpe, new Uint8Array(tmp.buffer));
      if (got === undefined) return; // missing chunk: the output already holds the fill value
      if (got < spanBytes) throw truncated(src * bpe + got);
      copyWithPlan(plan, tmp as unknown as Flat, 0, out as unknown as Flat, dst);
    });
    return out;
  }

  /**
   * Arrays that are one known compressor away from plain: whole chunk files are read and decoded, then
   * copied into the output. Large reads decode in the codec workers, several at a time (each file's buffer
   * is transferred there); smaller ones decode here (`inline`), reading each file into a buffer borrowed
   * from a shared pool, so a slice costs no new file buffers: a 512 × 512 slice of four ~2 MB zstd chunks
   * otherwise allocates 8 MB of them, which in a busy process means a full GC every read or two.
   */
  async #readDecoded(
    dims: DimSelection[],
    counts: number[],
    decoder: DecoderId,
    inline: boolean,
  ): Promise<TypedArrayOut> {
    const meta = this.#meta;
    const out = this.#allocate(product(counts));
    if (out.length === 0) return out;
    const Storage = dtypeInfo(this.dtype).storage;
    const chunkElems = product(meta.chunks);
    const chunkBytes = chunkElems * Storage.BYTES_PER_ELEMENT;
    const outStrides = cStrides(counts);
    const chunkStrides = cStrides(meta.chunks);
    const stepped = chunkStrides.map((s, d) => s * dims[d]!.step);
    const parts = chunkParts(dims, meta.shape, meta.chunks);
    this.#store.prefetch(parts.map((p) => meta.chunkKey(p.coords)));
    const pool = inline ? undefined : codecPool();
    await forEachConcurrently(parts.length, pool ? pool.size * 2 + 2 : READ_LANES, async (i) => {
      const part = parts[i]!;
      const key = meta.chunkKey(part.coords);
      let decoded: Uint8Array;
      if (pool) {
        const file = await this.#store.read(key);
        if (!file) return; // missing chunk: the output already holds the fill value
        // The file's buffer is transferred to the worker, so it must own all of it.
        const owned =
          file.byteOffset === 0 && file.byteLength === file.buffer.byteLength ? file : file.slice();
        decoded = await decodeOrExplain(() => pool.decode(decoder, owned), key, this.path);
      } else {
        const file = await this.#store.readPooled(key);
        if (!file) return;
        try {
          decoded = await decodeOrExplain(() => decodeChunk(decoder, file.bytes), key, this.path);
        } finally {
          file.release();
        }
      }
      if (decoded.byteLength !== chunkBytes)
        throw new TensorError(
          `tensor: chunk ${key} of ${this.path} decodes to ${decoded.byteLength} bytes, expected ${chunkBytes}`,
        );
      const chunk = new Storage(decoded.buffer as ArrayBuffer, decoded.byteOffset, chunkElems);
      const plan = planCopy(part.counts, stepped, outStrides);
      copyWithPlan(
        plan,
        chunk as unknown as Flat,
        offsetOf(part.local, chunkStrides),
        out as unknown as Flat,
        offsetOf(part.out, outStrides),
      );
    });
    return out;
  }

  /**
   * Everything that is not plain: zarrita decodes each chunk the selection needs (codecs, byte order,
   * transpose, shards); the indexing and copy into the output are ours, so chunks that hold no selected
   * element (a step wider than a chunk) are never fetched.
   */
  async #readZarrita(dims: DimSelection[], counts: number[]): Promise<TypedArrayOut> {
    const out = this.#allocate(product(counts));
    if (out.length === 0) return out;
    this.#zarrita ??= this.#openZarrita();
    const arr = await this.#zarrita;
    const outStrides = cStrides(counts);
    const parts = chunkParts(dims, this.#meta.shape, arr.chunks);
    await forEachConcurrently(parts.length, READ_LANES, async (i) => {
      const part = parts[i]!;
      const chunk: { data: unknown; stride: number[] } = await decodeOrExplain(
        () => arr.getChunk(part.coords),
        this.#meta.chunkKey(part.coords),
        this.path,
      );
      // Strides come from the chunk: F-order chunks are transposed to C order by the copy itself.
      const stepped = chunk.stride.map((s, d) => s * dims[d]!.step);
      const plan = planCopy(part.counts, stepped, outStrides);
      copyWithPlan(
        plan,
        chunk.data as Flat,
        offsetOf(part.local, chunk.stride),
        out as unknown as Flat,
        offsetOf(part.out, outStrides),
      );
    });
    return out;
  }

  async #openZarrita(): Promise<zarr.Array<zarr.DataType, DirStore>> {
    const location = zarr.root(this.#store);
    try {
      return this.zarrFormat === 2
        ? await zarr.open.v2(location, { kind: 'array', attrs: false })
        : await zarr.open.v3(location, { kind: 'array' });
    } catch (err) {
      throw new TensorError(`tensor: cannot open ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
