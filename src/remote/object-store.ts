/**
 * The object-store seam: the handful of operations the team path needs, so push, pull and the commit
 * protocol are written against this interface and the AWS SDK stays inside `s3-store.ts`.
 *
 * @example
 * const store = await openS3Store(remote)
 * const put = await store.put('a/b', bytes, { sha256, ifNoneMatch: true })  // { ok: false } when it exists
 * const got = await store.get('a/b')                                         // undefined when absent
 */
import type { Readable } from 'node:stream';

/** One listed object. */
export interface ObjectInfo {
  key: string;
  size: number;
  etag: string;
}

/** An object read whole, with the ETag to make a conditional write against. */
export interface StoredObject {
  body: Uint8Array;
  etag: string;
  /** User metadata (`x-amz-meta-*`, keys lowercase). */
  metadata: Record<string, string>;
}

/** Options of `put`. */
export interface PutOptions {
  /** Hex sha256 of the body; sent as `x-amz-checksum-sha256`, so the store refuses bytes that differ. */
  sha256?: string;
  /** Write only if the current object's ETag is this one (If-Match). */
  ifMatch?: string;
  /** Write only if no object exists at the key (If-None-Match: *). */
  ifNoneMatch?: boolean;
  /** User metadata (`x-amz-meta-*`). */
  metadata?: Record<string, string>;
  /** Content length, required when the body is a stream. */
  size?: number;
}

/** Result of a (possibly conditional) write: `ok: false` means the precondition failed and nothing was written. */
export type PutResult = { ok: true; etag: string } | { ok: false };

/** What the remote-path code needs from an object store. */
export interface ObjectStore {
  /** Human-readable location for messages (`s3://bucket/prefix at http://…`). */
  readonly describe: string;
  /** Checks that the bucket exists and the credentials work; throws a RemoteError saying what to fix. */
  check(): Promise<void>;
  /** The whole object, or undefined when there is none. */
  get(key: string): Promise<StoredObject | undefined>;
  /** The object as a stream (for hashing or saving large files without holding them). */
  getStream(key: string): Promise<Readable | undefined>;
  /** Writes an object; with a precondition, `{ ok: false }` when it does not hold. */
  put(key: string, body: Uint8Array | (() => Readable), options?: PutOptions): Promise<PutResult>;
  /** Every object under `prefix` (paged internally). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Immediate "sub-directories" under `prefix` (keys up to the next `/`), for listing specimens. */
  listPrefixes(prefix: string): Promise<string[]>;
  /** Deletes an object (absent is fine). */
  delete(key: string): Promise<void>;
  /** Releases sockets. */
  close(): void;
}
