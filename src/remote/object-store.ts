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
  /** When the object was written (as the store reports it). */
  modified?: Date;
}

/** A multipart upload begun and neither completed nor aborted. */
export interface UploadInfo {
  key: string;
  uploadId: string;
  initiated: Date | undefined;
}

/** Options of `putMultipart`. */
export interface MultipartOptions {
  /** Hex sha256 of the whole file, as sealed: checked while the parts are read, before completing. */
  sha256: string;
  size: number;
  /** Bytes per part (the last one may be smaller); at least 5 MiB, raised to fit S3's 10,000 parts. */
  partSize: number;
  /** Complete only if no object exists at the key (If-None-Match: * on the completion). */
  ifNoneMatch?: boolean;
  /** Parts in flight at once (each is held in memory while it goes). */
  lanes?: number;
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
  /**
   * Uploads the file at `file` in parts (each with its own `x-amz-checksum-sha256`, so the store checks
   * every part), for files too large for one PUT. The whole file's sha256 is computed as the parts are read;
   * when it differs from `sha256` the upload is aborted and RemoteIntegrityError thrown. Any failure aborts
   * the upload (what a crash leaves, `listUploads`/`abortUpload` clean up).
   */
  putMultipart(key: string, file: string, options: MultipartOptions): Promise<PutResult>;
  /** Multipart uploads under `prefix` that were begun and not completed or aborted. */
  listUploads(prefix: string): Promise<UploadInfo[]>;
  /** Aborts a multipart upload, freeing its parts (an unknown one is fine). */
  abortUpload(key: string, uploadId: string): Promise<void>;
  /** Every object under `prefix` (paged internally). */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** Immediate "sub-directories" under `prefix` (keys up to the next `/`), for listing specimens. */
  listPrefixes(prefix: string): Promise<string[]>;
  /** Deletes an object (absent is fine). */
  delete(key: string): Promise<void>;
  /** Releases sockets. */
  close(): void;
}
