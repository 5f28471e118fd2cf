/**
 * Writing a tensor as a Zarr array. Everything is validated before the disk is touched; the array is then
 * written into a temporary directory beside the target (`.tmp-<name>.<pid>.<random>`) and renamed into
 * place, so readers and crashes only ever see a complete array or none. Chunks whose bytes are contiguous
 * in the caller's data are written straight from it; compressed chunks are encoded by the codec worker
 * pool (one worker per core) while the main thread slices the next chunks and writes finished ones.
 *
 * @example
 * const info = await writeZarr(path.join(runDir, 'activations.zarr'), new Float32Array(100 * 512), {
 *   shape: [100, 512],
 *   compressor: 'zstd',
 * })
 * // info: { format: 'zarr', zarr_format: 3, shape: [100, 512], dtype: 'float32', chunks: [100, 512], … }
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { TensorError } from '../../errors.js';
import { tempPathFor } from '../../format/atomic-write.js';
import { assertSafeName } from '../../format/ids.js';
import { asStorageFull } from '../disk-full.js';
import { codecPool } from './codec-pool.js';
import { type CodecSpec, encodeChunk, parseCompressor } from './codecs.js';
import { assertDtype, dtypeInfo, toStorageArray } from './dtypes.js';
import { forEachConcurrently, writeFully } from './io.js';
import {
  copyWithPlan,
  cStrides,
  defaultChunks,
  type Flat,
  gridShape,
  isSingleRun,
  offsetOf,
  planCopy,
  product,
} from './layout.js';
import { buildMetadata, metadataKey } from './metadata.js';
import type { Dtype, TensorData, TensorInfo, TypedArrayOut, WriteTensorOptions } from './types.js';

/** Below this many uncompressed bytes, compressing on the main thread beats starting workers. */
const POOL_THRESHOLD_BYTES = 8 * 1024 * 1024;
/**
 * Concurrent file writes. Node's threadpool has four threads by default; keeping twice that many requests
 * queued means a thread never waits on the event loop between a chunk's write, fsync and close.
 */
const IO_LANES = 8;

/**
 * Writes `data` (flat, C order) as a Zarr array at `dir`, which must not exist yet (its parent must).
 * Throws InvalidNameError for an unsafe directory name, UnsupportedDtypeError for an unknown dtype and
 * TensorError for data that does not fit the shape, bad chunks or compressor, or an existing `dir`; on any
 * of these nothing is written. A full disk is a StorageFullError, and the partial array is removed.
 */
export async function writeZarr(
  dir: string,
  data: TensorData,
  options: WriteTensorOptions,
): Promise<TensorInfo> {
  const target = path.resolve(dir);
  assertSafeName('tensor', path.basename(target));
  if (typeof options !== 'object' || options === null)
    throw new TensorError('tensor: options with at least a shape are required');
  const zarrFormat = options.zarrFormat ?? 3;
  if (zarrFormat !== 2 && zarrFormat !== 3)
    throw new TensorError(`tensor: zarrFormat must be 2 or 3, got ${JSON.stringify(zarrFormat)}`);
  const shape = checkShape(options.shape);
  if (options.dtype !== undefined) assertDtype(options.dtype);
  const length = (data as { length?: unknown } | null)?.length;
  if (typeof length !== 'number')
    throw new TensorError(
      'tensor: data must be a typed array or a plain array of numbers, booleans or bigints',
    );
  const size = product(shape);
  if (length !== size)
    throw new TensorError(
      `tensor: data has ${length} elements but shape [${shape.join(', ')}] needs ${size} (the product of the shape)`,
    );
  const codec = parseCompressor(options.compressor);
  const { dtype, array } = toStorageArray(data, options.dtype);
  const info = dtypeInfo(dtype);
  const chunks =
    options.chunks === undefined ? defaultChunks(shape, info.itemsize) : checkChunks(options.chunks, shape);
  const fsync = options.fsync ?? true;

  await assertWritable(target);
  const tmp = tempPathFor(target);
  await fsp.mkdir(tmp).catch((err: unknown) => {
    throw asStorageFull(err, 'tensor', target) ?? err;
  });
  try {
    const { attributes } = options;
    const metadata = Buffer.from(buildMetadata({ zarrFormat, shape, chunks, dtype, codec, attributes }));
    // zarr-python 2 keeps attributes in their own file.
    const zattrs =
      zarrFormat === 2 && attributes
        ? [writeFile(path.join(tmp, '.zattrs'), Buffer.from(JSON.stringify(attributes, null, 4)), fsync)]
        : [];
    // allSettled, not all: cleanup below must not start while the other write is still creating files.
    const settled = await Promise.allSettled([
      ...zattrs,
      writeFile(path.join(tmp, metadataKey(zarrFormat)), metadata, fsync),
      writeChunks(tmp, array, dtype, shape, chunks, zarrFormat, codec, fsync),
    ]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    if (fsync) await syncDir(tmp);
    try {
      await fsp.rename(tmp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'EISDIR' || code === 'ENOTDIR')
        throw new TensorError(`tensor: ${target} already exists; tensors are immutable, choose another name`);
      throw err;
    }
  } catch (err) {
    // The partial array goes, which also gives back the space a full disk needs to seal the run.
    await fsp.rm(tmp, { recursive: true, force: true });
    throw asStorageFull(err, 'tensor', target) ?? err;
  }
  if (fsync) await syncDir(path.dirname(target));
  return {
    format: 'zarr',
    zarr_format: zarrFormat,
    shape,
    dtype,
    chunks,
    compressor: codec?.id ?? 'none',
    order: 'C',
  };
}

function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new TensorError(
      `tensor: shape must be a list of non-negative integers, got ${JSON.stringify(shape) ?? String(shape)}`,
    );
  return [...shape];
}

function checkChunks(chunks: unknown, shape: readonly number[]): number[] {
  if (!Array.isArray(chunks))
    throw new TensorError(`tensor: chunks must be a list of positive integers, got ${String(chunks)}`);
  if (chunks.length !== shape.length)
    throw new TensorError(
      `tensor: chunks [${chunks.join(', ')}] have rank ${chunks.length} but shape [${shape.join(', ')}] has rank ${shape.length}`,
    );
  chunks.forEach((c, d) => {
    if (!Number.isSafeInteger(c) || c < 1)
      throw new TensorError(`tensor: chunk size ${String(c)} in dimension ${d} must be a positive integer`);
  });
  return [...chunks];
}

async function assertWritable(target: string): Promise<void> {
  const exists = await fsp.lstat(target).then(
    () => true,
    () => false,
  );
  if (exists)
    throw new TensorError(`tensor: ${target} already exists; tensors are immutable, choose another name`);
  const parent = path.dirname(target);
  const ok = await fsp.stat(parent).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (!ok) throw new TensorError(`tensor: cannot write ${target}: parent directory ${parent} does not exist`);
}

async function writeFile(file: string, bytes: Uint8Array, fsync: boolean): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    await writeFully(fh, bytes, 0);
    if (fsync) await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync a directory so new entries in it survive a power loss; some platforms cannot, which is harmless. */
async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r').catch(() => undefined);
  if (!fh) return;
  try {
    await fh.sync();
  } catch {
    // EINVAL/EPERM/EISDIR on platforms without directory fsync.
  } finally {
    await fh.close();
  }
}

function bytesOf(a: TypedArrayOut): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

async function writeChunks(
  root: string,
  array: TypedArrayOut,
  dtype: Dtype,
  shape: readonly number[],
  chunks: readonly number[],
  zarrFormat: 2 | 3,
  codec: CodecSpec | null,
  fsync: boolean,
): Promise<void> {
  const grid = gridShape(shape, chunks);
  const count = product(grid);
  if (count === 0) return;
  // The dtype's own storage class, not array.constructor: a Buffer is a Uint8Array but `new Buffer(n)` is deprecated.
  const Storage = dtypeInfo(dtype).storage;
  const arrayStrides = cStrides(shape);
  const chunkStrides = cStrides(chunks);
  const chunkElems = product(chunks);
  const gridStrides = cStrides(grid);
  const coordsOf = (i: number) => grid.map((_, d) => Math.floor(i / gridStrides[d]!) % grid[d]!);
  const keyOf = (coords: number[]) =>
    zarrFormat === 2 ? coords.join('.') || '0' : coords.length === 0 ? 'c' : `c/${coords.join('/')}`;

  // v3 keys are nested directories (c/0/0): each parent is created once, by the first chunk that needs it,
  // so directory creation overlaps with chunk writes instead of preceding them.
  const parents = new Map<string, Promise<unknown>>();
  const ensureParent = (key: string): Promise<unknown> | undefined => {
    const dir = path.dirname(key);
    if (dir === '.') return undefined;
    let made = parents.get(dir);
    if (!made) {
      made = fsp.mkdir(path.join(root, dir), { recursive: true });
      parents.set(dir, made);
    }
    return made;
  };

  /** The raw bytes of chunk `i`: a view of the caller's data when contiguous and whole, else a padded copy. */
  const rawChunk = (i: number): { bytes: Uint8Array; owned: boolean } => {
    const coords = coordsOf(i);
    const origin = coords.map((c, d) => c * chunks[d]!);
    const counts = origin.map((o, d) => Math.min(chunks[d]!, shape[d]! - o));
    const plan = planCopy(counts, arrayStrides, chunkStrides);
    const start = offsetOf(origin, arrayStrides);
    const whole = counts.every((c, d) => c === chunks[d]);
    if (whole && isSingleRun(plan) && plan.run === chunkElems)
      return { bytes: bytesOf(array.subarray(start, start + chunkElems)), owned: false };
    // Edge chunks are stored full size; the padding is the fill value 0 a new typed array already holds.
    const buf = new Storage(chunkElems);
    copyWithPlan(plan, array as unknown as Flat, start, buf as unknown as Flat, 0);
    return { bytes: bytesOf(buf), owned: true };
  };

  const useWorkers = codec !== null && count > 1 && array.byteLength >= POOL_THRESHOLD_BYTES;
  const pool = useWorkers ? codecPool() : undefined;
  const encode = async (i: number): Promise<Uint8Array> => {
    const { bytes, owned } = rawChunk(i);
    if (!codec) return bytes;
    if (!pool) return encodeChunk(codec, bytes);
    // The chunk's buffer is transferred to the worker: never hand over the caller's memory.
    return pool.encode(codec, owned ? bytes : bytes.slice());
  };
  const lanes = pool ? pool.size * 2 + IO_LANES : IO_LANES;
  await forEachConcurrently(count, lanes, async (i) => {
    const key = keyOf(coordsOf(i));
    const parent = ensureParent(key);
    // Settle the mkdir before failing, so cleanup never races a directory still being created.
    const bytes = await encode(i).finally(() => parent);
    await writeFile(path.join(root, key), bytes, fsync);
  });
}
