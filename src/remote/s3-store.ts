/**
 * The object store over `@aws-sdk/client-s3`: signing, retries, checksums and conditional writes come from
 * the SDK (loaded on first use, so commands that never talk to a remote do not pay for it). Every SDK
 * failure a user can fix is translated here into a RemoteError naming what to fix.
 *
 * @example
 * const store = await openS3Store(await readRemoteConfig(vault.root))
 * await store.check()            // RemoteBucketError / RemoteAuthError / RemoteUnreachableError
 * await store.put('specimens/x/field_notes.md', bytes, { ifNoneMatch: true })
 */
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import { Agent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Readable } from 'node:stream';
import type { ListObjectsV2Output, S3Client } from '@aws-sdk/client-s3';
import {
  RemoteAuthError,
  RemoteBucketError,
  RemoteIntegrityError,
  RemoteUnreachableError,
} from '../errors.js';
import type { RemoteConfig } from './config.js';
import type {
  MultipartOptions,
  ObjectInfo,
  ObjectStore,
  PutOptions,
  PutResult,
  StoredObject,
  UploadInfo,
} from './object-store.js';

/** S3's smallest part (but the last) and most parts of one upload. */
const MIN_PART = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;

type Sdk = typeof import('@aws-sdk/client-s3');

const AUTH_CODES = new Set([
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'AccessDenied',
  'InvalidToken',
  'ExpiredToken',
  'InvalidClientTokenId',
  'CredentialsProviderError',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

interface SdkError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/** Opens an S3 (or S3-compatible) store for `remote`. */
export async function openS3Store(remote: RemoteConfig): Promise<ObjectStore> {
  // The vault supports Node 20; the SDK's notice that its future releases will not would be printed by
  // every push and pull, so it is off unless the user set the variable.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sdk: Sdk = await import('@aws-sdk/client-s3');
  const keepAlive = { keepAlive: true, maxSockets: Math.max(8, remote.concurrency * 2) };
  const client = new sdk.S3Client({
    region: remote.region,
    ...(remote.endpoint ? { endpoint: remote.endpoint } : {}),
    ...(remote.profile ? { profile: remote.profile } : {}),
    forcePathStyle: remote.forcePathStyle,
    // Checksums are sent where we ask for them (sha256 of run files); the SDK's default of adding CRC32 to
    // every request is not understood by every S3-compatible server.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 4,
    // Failures reach the user as one RemoteError line; the SDK's own console notes would only repeat them.
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    requestHandler: {
      httpAgent: new Agent(keepAlive),
      httpsAgent: new HttpsAgent(keepAlive),
      connectionTimeout: 5_000,
      requestTimeout: 120_000,
    },
  });
  return new S3Store(sdk, client, remote);
}

class S3Store implements ObjectStore {
  readonly describe: string;

  constructor(
    private readonly sdk: Sdk,
    private readonly client: S3Client,
    private readonly remote: RemoteConfig,
  ) {
    this.describe = `${remote.url}${remote.endpoint ? ` at ${remote.endpoint}` : ''}`;
  }

  private get endpoint(): string {
    return this.remote.endpoint ?? `s3.${this.remote.region}.amazonaws.com`;
  }

  /** Turns SDK and socket failures a user can fix into RemoteErrors; anything else is rethrown as is. */
  private translate(err: unknown): never {
    const e = err as SdkError;
    const code = e?.name ?? e?.Code ?? '';
    const sysCode = e?.code ?? (e as { cause?: SdkError })?.cause?.code ?? '';
    const status = e?.$metadata?.httpStatusCode;
    if (AUTH_CODES.has(code) || status === 403)
      throw new RemoteAuthError(
        this.remote.url,
        code === 'CredentialsProviderError' ? 'no credentials found' : code || `HTTP ${status}`,
        { cause: err },
      );
    if (code === 'NoSuchBucket')
      throw new RemoteBucketError(this.remote.bucket, this.endpoint, { cause: err });
    if (
      NETWORK_CODES.has(code) ||
      NETWORK_CODES.has(sysCode) ||
      /ECONNREFUSED|socket hang up/.test(e?.message ?? '')
    )
      throw new RemoteUnreachableError(this.endpoint, sysCode || code || (e?.message ?? 'no answer'), {
        cause: err,
      });
    throw err;
  }

  private key(key: string): string {
    return this.remote.prefix ? `${this.remote.prefix}/${key}` : key;
  }

  async check(): Promise<void> {
    try {
      await this.client.send(new this.sdk.HeadBucketCommand({ Bucket: this.remote.bucket }));
    } catch (err) {
      const status = (err as SdkError).$metadata?.httpStatusCode;
      if (status === 404 || (err as SdkError).name === 'NotFound')
        throw new RemoteBucketError(this.remote.bucket, this.endpoint, { cause: err });
      this.translate(err);
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    try {
      const out = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.remote.bucket, Key: this.key(key) }),
      );
      const body = await out.Body!.transformToByteArray();
      return { body, etag: out.ETag ?? '', metadata: out.Metadata ?? {} };
    } catch (err) {
      if ((err as SdkError).name === 'NoSuchKey') return undefined;
      this.translate(err);
    }
  }

  async getStream(key: string): Promise<Readable | undefined> {
    try {
      const out = await this.client.send(
        new this.sdk.GetObjectCommand({ Bucket: this.remote.bucket, Key: this.key(key) }),
      );
      return out.Body as Readable;
    } catch (err) {
      if ((err as SdkError).name === 'NoSuchKey') return undefined;
      this.translate(err);
    }
  }

  async put(key: string, body: Uint8Array | (() => Readable), options: PutOptions = {}): Promise<PutResult> {
    const input = {
      Bucket: this.remote.bucket,
      Key: this.key(key),
      Body: typeof body === 'function' ? body() : body,
      ...(options.size !== undefined ? { ContentLength: options.size } : {}),
      ...(options.sha256 ? { ChecksumSHA256: Buffer.from(options.sha256, 'hex').toString('base64') } : {}),
      ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
      ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      ...(options.metadata ? { Metadata: options.metadata } : {}),
    };
    try {
      const out = await this.client.send(new this.sdk.PutObjectCommand(input));
      return { ok: true, etag: out.ETag ?? '' };
    } catch (err) {
      const e = err as SdkError;
      const status = e.$metadata?.httpStatusCode;
      // 412: the precondition failed; 409: a concurrent conditional write is in progress (AWS) — both mean
      // "someone else wrote first", which the caller resolves by re-reading.
      if (
        (options.ifMatch || options.ifNoneMatch) &&
        (status === 412 || status === 409 || e.name === 'PreconditionFailed')
      )
        return { ok: false };
      if (options.sha256 && status === 400 && /checksum|digest/i.test(`${e.name} ${e.message}`))
        throw new RemoteIntegrityError(
          [key],
          'the store refused bytes that do not match the sha256 recorded when the run was sealed (the local file changed since; run `specimen verify`)',
        );
      this.translate(err);
    }
  }

  async putMultipart(key: string, file: string, options: MultipartOptions): Promise<PutResult> {
    const Bucket = this.remote.bucket;
    const Key = this.key(key);
    // S3 takes at most 10,000 parts, each at least 5 MiB (but the last).
    const partSize = Math.max(options.partSize, MIN_PART, Math.ceil(options.size / MAX_PARTS));
    const count = Math.max(1, Math.ceil(options.size / partSize));
    let uploadId: string | undefined;
    try {
      const created = await this.client.send(
        new this.sdk.CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'SHA256' }),
      );
      uploadId = created.UploadId!;
      const parts: { PartNumber: number; ETag: string; ChecksumSHA256: string }[] = [];
      const whole = createHash('sha256');
      const inflight = new Set<Promise<void>>();
      let failure: unknown;
      const fh = await fsp.open(file, 'r');
      try {
        // Parts are read in order (the whole file's hash needs them so) and sent `lanes` at a time.
        for (let i = 0; i < count && failure === undefined; i++) {
          while (inflight.size >= (options.lanes ?? 4)) await Promise.race(inflight);
          if (failure !== undefined) break;
          const length = Math.min(partSize, options.size - i * partSize);
          const buf = Buffer.allocUnsafe(length);
          const { bytesRead } = await fh.read(buf, 0, length, i * partSize);
          if (bytesRead !== length)
            throw new RemoteIntegrityError(
              [key],
              `the local file is shorter than the ${options.size} bytes sealed for it (run \`specimen verify\`)`,
            );
          whole.update(buf);
          const checksum = createHash('sha256').update(buf).digest('base64');
          const PartNumber = i + 1;
          const id = uploadId;
          const task: Promise<void> = (async () => {
            const out = await this.client.send(
              new this.sdk.UploadPartCommand({
                Bucket,
                Key,
                UploadId: id,
                PartNumber,
                Body: buf,
                ContentLength: length,
                ChecksumSHA256: checksum,
              }),
            );
            parts[i] = { PartNumber, ETag: out.ETag ?? '', ChecksumSHA256: out.ChecksumSHA256 ?? checksum };
          })()
            .catch((err: unknown) => {
              failure ??= err;
            })
            .finally(() => inflight.delete(task));
          inflight.add(task);
        }
        await Promise.all(inflight);
      } finally {
        await fh.close();
      }
      if (failure !== undefined) throw failure;
      if (whole.digest('hex') !== options.sha256)
        throw new RemoteIntegrityError(
          [key],
          'the local file does not match the sha256 recorded when the run was sealed (it changed since; run `specimen verify`)',
        );
      try {
        const done = await this.client.send(
          new this.sdk.CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts },
            ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
          }),
        );
        uploadId = undefined;
        return { ok: true, etag: done.ETag ?? '' };
      } catch (err) {
        const status = (err as SdkError).$metadata?.httpStatusCode;
        if (options.ifNoneMatch && (status === 412 || status === 409)) return { ok: false };
        throw err;
      }
    } catch (err) {
      if (err instanceof RemoteIntegrityError) throw err;
      return this.translate(err);
    } finally {
      // Anything but a completed upload is aborted, so its parts do not linger (a crash is what
      // `push --cleanup` is for).
      if (uploadId)
        await this.client
          .send(new this.sdk.AbortMultipartUploadCommand({ Bucket, Key, UploadId: uploadId }))
          .catch(() => {});
    }
  }

  async listUploads(prefix: string): Promise<UploadInfo[]> {
    const out: UploadInfo[] = [];
    const strip = this.remote.prefix ? this.remote.prefix.length + 1 : 0;
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new this.sdk.ListMultipartUploadsCommand({
            Bucket: this.remote.bucket,
            Prefix: this.key(prefix),
            ...(keyMarker ? { KeyMarker: keyMarker } : {}),
            ...(idMarker ? { UploadIdMarker: idMarker } : {}),
          }),
        );
        for (const u of page.Uploads ?? [])
          if (u.Key && u.UploadId)
            out.push({ key: u.Key.slice(strip), uploadId: u.UploadId, initiated: u.Initiated });
        const more = page.IsTruncated === true;
        keyMarker = more ? page.NextKeyMarker : undefined;
        idMarker = more ? page.NextUploadIdMarker : undefined;
      } while (keyMarker);
    } catch (err) {
      this.translate(err);
    }
    return out;
  }

  async abortUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.AbortMultipartUploadCommand({
          Bucket: this.remote.bucket,
          Key: this.key(key),
          UploadId: uploadId,
        }),
      );
    } catch (err) {
      if ((err as SdkError).name === 'NoSuchUpload' || (err as SdkError).$metadata?.httpStatusCode === 404)
        return;
      this.translate(err);
    }
  }

  /** Every page of a listing under `prefix` (with `/` as delimiter when asked). */
  private async *pages(prefix: string, delimiter: boolean): AsyncGenerator<ListObjectsV2Output> {
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new this.sdk.ListObjectsV2Command({
            Bucket: this.remote.bucket,
            Prefix: this.key(prefix),
            ...(delimiter ? { Delimiter: '/' } : {}),
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
        yield page;
        const next = page.IsTruncated ? page.NextContinuationToken : undefined;
        // A store that hands back the token it was given would page forever.
        if (next !== undefined && next === token)
          throw new Error(`the store repeated the listing token of ${prefix}; listing stopped`);
        token = next;
      } while (token);
    } catch (err) {
      this.translate(err);
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    const strip = this.remote.prefix ? this.remote.prefix.length + 1 : 0;
    for await (const page of this.pages(prefix, false))
      for (const o of page.Contents ?? [])
        if (o.Key)
          out.push({
            key: o.Key.slice(strip),
            size: o.Size ?? 0,
            etag: o.ETag ?? '',
            ...(o.LastModified ? { modified: o.LastModified } : {}),
          });
    return out;
  }

  async listPrefixes(prefix: string): Promise<string[]> {
    const out: string[] = [];
    const full = this.key(prefix);
    for await (const page of this.pages(prefix, true))
      for (const p of page.CommonPrefixes ?? [])
        if (p.Prefix) out.push(p.Prefix.slice(full.length).replace(/\/$/, ''));
    return out;
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(
        new this.sdk.DeleteObjectCommand({ Bucket: this.remote.bucket, Key: this.key(key) }),
      );
    } catch (err) {
      this.translate(err);
    }
  }

  close(): void {
    this.client.destroy();
  }
}
