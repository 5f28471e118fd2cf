/**
 * Manifest encoding. Manifests are msgpack maps built only from maps, arrays, strings, numbers, booleans
 * and nil, so Python's `msgpack.unpack(f)` yields the same dict. No extension types are written: dates are
 * ISO-8601 strings. Integers beyond 2^53 decode as bigint and are written back as int64, so nothing is lost
 * on a round trip.
 *
 * @example
 * const bytes = encodeManifest({ specimen_id: '2025_01_02_x', tags: ['a'] })
 * decodeManifest(bytes, 'manifest.msgpack') // same object
 */
import fsp from 'node:fs/promises';
import { Decoder, Encoder } from '@msgpack/msgpack';
import { CorruptManifestError, ManifestError } from '../errors.js';
import { writeFileAtomic } from './atomic-write.js';

/** A JSON-like value, the only kind of value a manifest holds. */
export type PlainValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PlainValue[]
  | { [key: string]: PlainValue };
/** A manifest map. */
export type PlainObject = { [key: string]: PlainValue };

const encoder = new Encoder({
  useBigInt64: true,
  ignoreUndefined: true,
  sortKeys: false,
  forceFloat32: false,
});
// 64-bit integers decode as bigint so nothing is rounded; those within 2^53 are turned back into numbers.
const decoder = new Decoder({ useBigInt64: true });

/** Encodes a manifest. Throws TypeError on values msgpack-python could not read back as plain data. */
export function encodeManifest(value: PlainObject): Uint8Array {
  return encoder.encode(toEncodable(value, ''));
}

/**
 * Checks that `v` is plain data and returns a copy where integers beyond 32 bits are bigints: with int64
 * support on, @msgpack/msgpack would otherwise write them as float64, and Python would read `4294967296.0`.
 */
function toEncodable(v: unknown, at: string): unknown {
  if (v === null || typeof v === 'boolean' || typeof v === 'string' || typeof v === 'bigint') return v;
  if (typeof v === 'number')
    return Number.isSafeInteger(v) && (v > 0xffffffff || v < -0x80000000) ? BigInt(v) : v;
  if (v === undefined) return v; // dropped by ignoreUndefined
  if (Array.isArray(v)) return v.map((x, i) => toEncodable(x, `${at}[${i}]`));
  if (typeof v === 'object' && isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as object)) out[k] = toEncodable(x, at ? `${at}.${k}` : k);
    return out;
  }
  const kind =
    v instanceof Date
      ? 'Date (store an ISO-8601 string)'
      : typeof v === 'object'
        ? (v?.constructor?.name ?? 'object')
        : typeof v;
  // A user's config or summary value, so a tagged error (exit 2), not a TypeError reported as internal.
  throw new ManifestError(
    `manifest: field "${at || '(root)'}" holds a ${kind}; manifests hold only maps, arrays, strings, numbers, booleans and null`,
    at || '(root)',
  );
}

/** Decodes manifest bytes; `file` names the source in errors. */
export function decodeManifest(bytes: Uint8Array, file: string): PlainObject {
  let value: unknown;
  try {
    value = decoder.decode(bytes);
  } catch (err) {
    throw new CorruptManifestError(file, (err as Error).message, { cause: err });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array)
    throw new CorruptManifestError(file, 'top level is not a map');
  return narrowSafeInts(value) as PlainObject;
}

function narrowSafeInts(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = narrowSafeInts(v[i]);
    return v;
  }
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = narrowSafeInts(o[k]);
  }
  return v;
}

/** Reads and decodes a manifest file. */
export async function readManifestFile(file: string): Promise<PlainObject> {
  return decodeManifest(await fsp.readFile(file), file);
}

/** Encodes and atomically writes a manifest file. */
export async function writeManifestFile(
  file: string,
  value: PlainObject,
  options: { sync?: boolean } = {},
): Promise<void> {
  await writeFileAtomic(file, encodeManifest(value), options);
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}
