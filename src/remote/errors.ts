/**
 * Errors of the remote (team) path. Like the catalog's, they carry their own `_tag` and the `exitCode` the
 * CLI uses, so `specimen push/pull/sync` print one line that names what to fix and never a stack trace.
 *
 * | tag | exit | when |
 * |-----|------|------|
 * | RemoteConfigError | 2 | no `remote` in specimen-vault.json, or a malformed one |
 * | RemoteAuthError | 2 | the object store refused the credentials |
 * | RemoteBucketError | 3 | the bucket does not exist |
 * | RemoteUnreachableError | 2 | nothing answers at the endpoint |
 * | RemoteIntegrityError | 1 | an object's bytes do not match the sha256 its run manifest records |
 * | RemoteConflictError | 4 | a concurrent change could not be merged (a run ID taken by another run, a manifest field changed on both sides) |
 *
 * @example
 * try { await pushVault(vault, remote) } catch (err) {
 *   if (isRemoteError(err, 'RemoteAuthError')) console.error(err.message) // names the variables to set
 * }
 */

/** Tags of the remote path's errors. */
export type RemoteErrorTag =
  | 'RemoteConfigError'
  | 'RemoteAuthError'
  | 'RemoteBucketError'
  | 'RemoteUnreachableError'
  | 'RemoteIntegrityError'
  | 'RemoteConflictError';

/** Base class: a literal `_tag` and the CLI's exit code for it. */
export abstract class RemoteError extends Error {
  abstract readonly _tag: RemoteErrorTag;
  abstract readonly exitCode: number;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The vault has no usable `remote` section. */
export class RemoteConfigError extends RemoteError {
  readonly _tag = 'RemoteConfigError' as const;
  readonly exitCode = 2;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The store answered 403 or rejected the signature: wrong or missing credentials. */
export class RemoteAuthError extends RemoteError {
  readonly _tag = 'RemoteAuthError' as const;
  readonly exitCode = 2;
  constructor(
    readonly url: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(
      `remote: ${url} refused the credentials (${code}); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ` +
        '(or AWS_PROFILE / remote.profile) to a key that may read and write the bucket',
      options,
    );
  }
}

/** The bucket named by `remote.url` does not exist. */
export class RemoteBucketError extends RemoteError {
  readonly _tag = 'RemoteBucketError' as const;
  readonly exitCode = 3;
  constructor(
    readonly bucket: string,
    readonly endpoint: string,
    options?: { cause?: unknown },
  ) {
    super(
      `remote: bucket ${JSON.stringify(bucket)} does not exist at ${endpoint}; create it or fix remote.url in specimen-vault.json`,
      options,
    );
  }
}

/** No connection to the endpoint (refused, DNS failure, time-out). */
export class RemoteUnreachableError extends RemoteError {
  readonly _tag = 'RemoteUnreachableError' as const;
  readonly exitCode = 2;
  constructor(
    readonly endpoint: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `remote: cannot reach ${endpoint} (${reason}); check remote.endpoint in specimen-vault.json and the network — local runs are kept and can be pushed later`,
      options,
    );
  }
}

/** Bytes read from (or about to be written to) the remote do not match the recorded sha256. */
export class RemoteIntegrityError extends RemoteError {
  readonly _tag = 'RemoteIntegrityError' as const;
  readonly exitCode = 1;
  constructor(
    /** Object keys (or local paths) whose bytes are wrong. */
    readonly objects: readonly string[],
    detail: string,
  ) {
    super(`remote: ${detail}: ${objects.join(', ')}`);
  }
}

/** A concurrent change that cannot be merged without losing one side. */
export class RemoteConflictError extends RemoteError {
  readonly _tag = 'RemoteConflictError' as const;
  readonly exitCode = 4;
  constructor(
    message: string,
    /** `specimen/run` or `specimen/file` entries in conflict. */
    readonly items: readonly string[],
  ) {
    super(message);
  }
}

/** Every concrete remote error, for narrowing by tag. */
export type AnyRemoteError =
  | RemoteConfigError
  | RemoteAuthError
  | RemoteBucketError
  | RemoteUnreachableError
  | RemoteIntegrityError
  | RemoteConflictError;

/** Type guard: is `err` a RemoteError, optionally one of the given tags? */
export function isRemoteError<T extends RemoteErrorTag>(
  err: unknown,
  ...tags: T[]
): err is Extract<AnyRemoteError, { _tag: T }> {
  if (!(err instanceof RemoteError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}
