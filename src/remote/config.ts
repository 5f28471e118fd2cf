/**
 * The vault's remote: the optional `remote` section of specimen-vault.json, validated with zod. It is read
 * only by the commands that talk to the remote, so every other command's start-up stays as it is.
 *
 * ```json
 * { "remote": { "url": "s3://team-vault/ml", "endpoint": "http://127.0.0.1:9000", "region": "us-east-1",
 *               "pushOnSeal": true } }
 * ```
 * Credentials are never stored here: the AWS SDK's usual chain reads `AWS_ACCESS_KEY_ID` /
 * `AWS_SECRET_ACCESS_KEY` (or `AWS_PROFILE`, `remote.profile`, ~/.aws/credentials, instance roles).
 *
 * @example
 * const remote = await readRemoteConfig(vault.root)   // RemoteConfigError naming the field when malformed
 * remote.bucket; remote.prefix                         // 'team-vault', 'ml'
 */
import { z } from 'zod';
import { RemoteConfigError } from '../errors.js';
import { readVaultConfig } from '../format/vault-config.js';
import { DEFAULT_CACHE_LIMIT } from './cache.js';

/** Schema of `remote` in specimen-vault.json. Unknown fields are kept so newer settings survive older readers. */
export const RemoteConfigSchema = z.looseObject({
  /** `s3://bucket` or `s3://bucket/prefix`: where the team vault lives. */
  url: z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, {
    message:
      'must look like s3://bucket or s3://bucket/prefix (bucket: 3-63 lowercase letters, digits, "." or "-")',
  }),
  /** Endpoint of an S3-compatible store (MinIO, versitygw, Ceph, R2…); AWS's own when absent. */
  endpoint: z.url().optional(),
  /** Region; `us-east-1` when absent (what most S3-compatible servers expect). */
  region: z.string().min(1).optional(),
  /** Named AWS profile for the credentials; the SDK's default chain when absent. */
  profile: z.string().min(1).optional(),
  /** Path-style addressing (`endpoint/bucket/key`); default true with a custom endpoint, false on AWS. */
  forcePathStyle: z.boolean().optional(),
  /** Push each run as soon as it is sealed (`specimen run`); default false. */
  pushOnSeal: z.boolean().optional(),
  /** Attempts of a push on seal while the endpoint is unreachable (exponential back-off); default 5. */
  pushRetries: z.int().min(1).max(20).optional(),
  /** Requests in flight at once; default 16. */
  concurrency: z.int().min(1).max(256).optional(),
  /** Size limit of the local object cache: bytes, or text like "500 MiB" / "20GB"; default 10 GiB. */
  cacheLimit: size().optional(),
  /** Files larger than this are uploaded in parts (multipart); default 64 MiB, at most 5 GiB. */
  multipartThreshold: size().optional(),
  /** Bytes per part of a multipart upload; default 64 MiB, at least 5 MiB. */
  partSize: size().optional(),
});

/** A size: bytes, or text with a unit. */
function size() {
  return z.union([
    z.int().min(0),
    z.string().regex(/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i, {
      message: 'must be a number of bytes or a size like "500 MiB" or "20 GB"',
    }),
  ]);
}

const MIB = 1024 * 1024;

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** Bytes of a `cacheLimit` value (already validated). */
function sizeBytes(value: number | string): number {
  if (typeof value === 'number') return value;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value)!;
  return Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
}

/** The effective remote settings. */
export interface RemoteConfig {
  /** The configured URL, as written (used in messages). */
  url: string;
  bucket: string;
  /** Key prefix without leading or trailing slash; '' for the bucket root. */
  prefix: string;
  /** Endpoint URL, or undefined for AWS. */
  endpoint: string | undefined;
  region: string;
  profile: string | undefined;
  forcePathStyle: boolean;
  pushOnSeal: boolean;
  pushRetries: number;
  concurrency: number;
  /** Size limit of the local object cache, in bytes. */
  cacheLimit: number;
  /** Files above this many bytes go up as multipart uploads of `partSize`-byte parts. */
  multipartThreshold: number;
  partSize: number;
}

/** Parses a `remote` section (already JSON); throws RemoteConfigError naming the offending field. */
export function parseRemoteConfig(value: unknown, file = 'specimen-vault.json'): RemoteConfig {
  const parsed = RemoteConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = ['remote', ...issue.path.map(String)].join('.');
    throw new RemoteConfigError(`config: ${file}: field "${field}" ${issue.message}`, field);
  }
  const c = parsed.data;
  const bad = (field: string, message: string): never => {
    throw new RemoteConfigError(`config: ${file}: field "remote.${field}" ${message}`, `remote.${field}`);
  };
  const multipartThreshold = c.multipartThreshold === undefined ? 64 * MIB : sizeBytes(c.multipartThreshold);
  const partSize = c.partSize === undefined ? 64 * MIB : sizeBytes(c.partSize);
  // S3's limits: one PUT takes at most 5 GiB; every part but the last at least 5 MiB.
  if (multipartThreshold > 5 * 1024 * MIB)
    bad('multipartThreshold', 'must be at most 5 GiB (the largest single PUT)');
  if (partSize < 5 * MIB) bad('partSize', 'must be at least 5 MiB (the smallest part S3 accepts)');
  const rest = c.url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  return {
    url: c.url,
    bucket,
    prefix,
    endpoint: c.endpoint,
    region: c.region ?? 'us-east-1',
    profile: c.profile,
    forcePathStyle: c.forcePathStyle ?? c.endpoint !== undefined,
    pushOnSeal: c.pushOnSeal ?? false,
    pushRetries: c.pushRetries ?? 5,
    concurrency: c.concurrency ?? 16,
    cacheLimit: c.cacheLimit === undefined ? DEFAULT_CACHE_LIMIT : sizeBytes(c.cacheLimit),
    multipartThreshold,
    partSize,
  };
}

/** Reads the remote of the vault at `root`; RemoteConfigError when the vault has none. */
export async function readRemoteConfig(root: string): Promise<RemoteConfig> {
  const config = await readVaultConfig(root);
  const file = `${root}/specimen-vault.json`;
  if (config.raw.remote === undefined)
    throw new RemoteConfigError(
      `config: ${file} has no "remote"; add { "remote": { "url": "s3://bucket/prefix", "endpoint": "…" } }`,
      'remote',
    );
  return parseRemoteConfig(config.raw.remote, file);
}

/** The remote of the vault at `root`, or undefined when none is configured (a malformed one still throws). */
export async function readOptionalRemoteConfig(root: string): Promise<RemoteConfig | undefined> {
  const config = await readVaultConfig(root);
  return config.raw.remote === undefined
    ? undefined
    : parseRemoteConfig(config.raw.remote, `${root}/specimen-vault.json`);
}
