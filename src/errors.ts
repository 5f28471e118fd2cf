/**
 * Tagged errors, one family for the whole library: format, storage, catalog, runner and remote. Every failure a user
 * can cause has its own class with a literal `_tag`, a message that starts with the subsystem and names the
 * offending value, and typed fields. The errors say what went wrong, never how to report it: the CLI maps
 * tags to exit codes (src/cli/exit.ts) and the server to HTTP statuses (src/server/errors.ts), each in one
 * table.
 *
 * @example
 * try { await storage.writeMetrics(cols) } catch (err) {
 *   if (isVaultError(err, 'SealedRunError')) console.error(err.message)
 * }
 * try { await q.search('SELEC 1') } catch (err) {
 *   if (isVaultError(err, 'SqlError')) console.error(err.message, err.position) // position 0
 * }
 */

/** The tag of every error this library raises on purpose; the CLI and the server map each to a code. */
export type VaultErrorTag = AnyVaultError['_tag'];

/** Base class of every error this library raises on purpose. */
export abstract class VaultError extends Error {
  abstract readonly _tag: VaultErrorTag;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A specimen or run ID breaks the naming rule. */
export class InvalidIdError extends VaultError {
  readonly _tag = 'InvalidIdError' as const;
  constructor(
    readonly kind: 'specimen' | 'run',
    readonly value: string,
    readonly reason: string,
  ) {
    super(`id: invalid ${kind} id ${JSON.stringify(value)}: ${reason}`);
  }
}

/** A tensor, artifact or file name could escape its directory or is otherwise unusable. */
export class InvalidNameError extends VaultError {
  readonly _tag = 'InvalidNameError' as const;
  constructor(
    readonly kind: string,
    readonly value: string,
    readonly reason: string,
  ) {
    super(`name: invalid ${kind} name ${JSON.stringify(value)}: ${reason}`);
  }
}

/** A domain/method pair is not in the vault's taxonomy. */
export class TaxonomyError extends VaultError {
  readonly _tag = 'TaxonomyError' as const;
  constructor(
    message: string,
    readonly domain: string,
    readonly method: string | undefined,
    readonly allowed: readonly string[],
  ) {
    super(message);
  }
}

/** A manifest decodes but breaks the schema; `field` is a dotted path such as `taxonomy.domain`. */
export class ManifestError extends VaultError {
  readonly _tag = 'ManifestError' as const;
  constructor(
    message: string,
    readonly field: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** A manifest file cannot be decoded at all (truncated, not msgpack, not a map). */
export class CorruptManifestError extends VaultError {
  readonly _tag = 'CorruptManifestError' as const;
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`manifest: cannot decode ${file}: ${reason}`, options);
  }
}

/** `createSpecimen` was asked for an ID that already exists. */
export class DuplicateSpecimenError extends VaultError {
  readonly _tag = 'DuplicateSpecimenError' as const;
  constructor(readonly specimenId: string) {
    super(
      `specimen: ${JSON.stringify(specimenId)} already exists; choose another ID or open it with SpecimenStorage.open()`,
    );
  }
}

/** A specimen, run, tensor or metrics file does not exist. `suggestions` lists the closest names. */
export class NotFoundError extends VaultError {
  readonly _tag = 'NotFoundError' as const;
  constructor(
    readonly kind: string,
    readonly value: string,
    readonly suggestions: readonly string[] = [],
    detail?: string,
  ) {
    const hint =
      suggestions.length > 0 ? `; did you mean ${suggestions.map((s) => JSON.stringify(s)).join(', ')}?` : '';
    super(`${kind}: ${JSON.stringify(value)} not found${detail ? ` (${detail})` : ''}${hint}`);
  }
}

/** A write was attempted on a run that `finish()` has sealed. */
export class SealedRunError extends VaultError {
  readonly _tag = 'SealedRunError' as const;
  constructor(
    readonly specimenId: string,
    readonly runId: string,
    readonly action: string,
  ) {
    super(
      `run: cannot ${action}: run ${runId} of ${specimenId} is sealed; start a new run with SpecimenStorage.open() instead`,
    );
  }
}

/** Metrics data is malformed: ragged columns, a column mixing strings and numbers, and so on. */
export class MetricsSchemaError extends VaultError {
  readonly _tag = 'MetricsSchemaError' as const;
  constructor(
    message: string,
    readonly column?: string,
  ) {
    super(message);
  }
}

/** Tensor data does not fit its declared shape, chunks or compressor. */
export class TensorError extends VaultError {
  readonly _tag = 'TensorError' as const;
}

/** A dtype that the Zarr layer cannot store. */
export class UnsupportedDtypeError extends VaultError {
  readonly _tag = 'UnsupportedDtypeError' as const;
  constructor(
    readonly dtype: string,
    readonly allowed: readonly string[],
  ) {
    super(`tensor: unsupported dtype ${JSON.stringify(dtype)}; supported: ${allowed.join(', ')}`);
  }
}

/** No vault could be located from the given directory. */
export class VaultNotFoundError extends VaultError {
  readonly _tag = 'VaultNotFoundError' as const;
  constructor(readonly from: string) {
    super(
      `vault: no vault found at or above ${from} (looked for a specimens/ directory or specimen-vault.json); ` +
        'create one with `specimen init`, or pass --vault DIR or set SPECIMEN_VAULT',
    );
  }
}

/** A path built from user input would leave the vault. */
export class PathEscapeError extends VaultError {
  readonly _tag = 'PathEscapeError' as const;
  constructor(
    readonly value: string,
    readonly root: string,
  ) {
    super(`path: ${JSON.stringify(value)} resolves outside ${root}; refusing to touch it`);
  }
}

/** The vault config file is malformed. */
export class ConfigError extends VaultError {
  readonly _tag = 'ConfigError' as const;
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/**
 * A call the library cannot accept: an option or argument with a bad value (`--seed abc`, `flushRows: 0`),
 * or a call out of order (`log()` after `close()`).
 */
export class UsageError extends VaultError {
  readonly _tag = 'UsageError' as const;
}

/** DuckDB refused a query: syntax, unknown table, type or permission error. */
export class SqlError extends VaultError {
  readonly _tag = 'SqlError' as const;
  constructor(
    /** DuckDB's message, verbatim (with its `LINE n:` context and caret when it gave one). */
    readonly duckdbMessage: string,
    readonly sql: string,
    /** 0-based character offset into `sql` of the error, when DuckDB pointed at one. */
    readonly position: number | undefined,
    /** 1-based line and column of `position`. */
    readonly line: number | undefined,
    readonly column: number | undefined,
    options?: { cause?: unknown },
  ) {
    const where = line !== undefined && column !== undefined ? ` (line ${line}, column ${column})` : '';
    super(`sql: ${duckdbMessage}${where}`, options);
  }
}

/**
 * A user query was not a single read-only SELECT, or a SELECT using something user queries may not use
 * (a function that reveals this machine's paths, dynamic SQL); `reason` says which.
 */
export class QueryNotAllowedError extends VaultError {
  readonly _tag = 'QueryNotAllowedError' as const;
  constructor(
    readonly sql: string,
    /** DuckDB's statement type (`SELECT`, `COPY`, `ATTACH`…) or `MULTI` for several statements. */
    readonly statementType: string,
    /** For a SELECT that was refused: what in it is not allowed. */
    readonly reason?: string,
  ) {
    super(
      reason !== undefined
        ? `sql: ${reason}`
        : statementType === 'MULTI'
          ? 'sql: only one statement is allowed per query; remove the extra statements'
          : `sql: only SELECT queries are allowed here, got a ${statementType} statement`,
    );
  }
}

/** A user query ran longer than its time limit and was interrupted. */
export class QueryTimeoutError extends VaultError {
  readonly _tag = 'QueryTimeoutError' as const;
  constructor(
    readonly sql: string,
    /** The limit, in milliseconds. */
    readonly timeoutMs: number,
  ) {
    super(
      `sql: the query was interrupted after ${timeoutMs} ms, its time limit; add a LIMIT or a WHERE clause, ` +
        'or raise the limit (`specimen query --timeout MS`, `specimen serve --query-timeout MS`, or `query.timeout_ms` in specimen-vault.json)',
    );
  }
}

/**
 * A user query or its result went past a resource limit: the engine's memory, the result's size in bytes,
 * a value nested deeper or longer than a response can carry. `limit` names it, `value` is the limit.
 */
export class QueryLimitError extends VaultError {
  readonly _tag = 'QueryLimitError' as const;
  constructor(
    readonly limit: 'memory' | 'resultBytes' | 'valueBytes' | 'nesting' | 'tempSpace',
    readonly value: number | string,
    message: string,
  ) {
    super(`sql: ${message}`);
  }
}

/** As many user queries as allowed are already running; the caller should try again shortly. */
export class QueryBusyError extends VaultError {
  readonly _tag = 'QueryBusyError' as const;
  constructor(readonly maxConcurrent: number) {
    super(
      `sql: ${maxConcurrent} queries are already running, the most allowed at once; try again when one has finished`,
    );
  }
}

/**
 * The engine running a query failed on its own (the process running user queries stopped, DuckDB raised an
 * internal error); it is restarted for the next query.
 */
export class QueryEngineError extends VaultError {
  readonly _tag = 'QueryEngineError' as const;
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(
      `sql: the query engine failed (${reason}); it has been restarted, so the next query runs afresh`,
      options,
    );
  }
}

/**
 * The disk (or the user's quota) ran out while writing: metrics, a tensor, a manifest or the catalog. What
 * was written before is kept (flushed metrics rows, earlier files and runs); a run being written is marked
 * failed with this message when there is room to seal it.
 */
export class StorageFullError extends VaultError {
  readonly _tag = 'StorageFullError' as const;
  constructor(
    /** The subsystem that was writing: `metrics`, `tensor`, `run`, `catalog`. */
    readonly subsystem: string,
    /** The file or directory being written. */
    readonly file: string,
    /** `ENOSPC` (no space left on the device) or `EDQUOT` (disk quota exceeded). */
    readonly code: 'ENOSPC' | 'EDQUOT',
    options?: { cause?: unknown },
  ) {
    super(
      `${subsystem}: no space left on the disk while writing ${file} (${code === 'EDQUOT' ? 'disk quota exceeded' : 'disk full'}); ` +
        'free some space (or raise the quota) and try again; what was written before is kept',
      options,
    );
  }
}

/**
 * The catalog file `vault.duckdb` cannot be used: it is damaged or not a DuckDB database (`corrupt`), this
 * user may not read or write it (`permission`), another program holds DuckDB's lock on it (`locked`), or
 * DuckDB failed on it otherwise (`io`). `detail` is DuckDB's or the system's message.
 */
export class CatalogFileError extends VaultError {
  readonly _tag = 'CatalogFileError' as const;
  constructor(
    readonly file: string,
    readonly reason: 'corrupt' | 'permission' | 'locked' | 'io',
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    const advice = {
      corrupt:
        'it is damaged or not a catalog; rebuild it with `specimen index --full` (the runs are not touched)',
      permission: 'permission denied; make it (and its directory) readable and writable by this user',
      locked: 'another program holds it open for writing; close that program (or wait for it) and try again',
      io: 'rebuild it with `specimen index --full` if this persists',
    }[reason];
    super(`catalog: cannot use ${file}: ${advice} (${detail})`, options);
  }
}

/** Another process holds the catalog lock and did not release it in time. */
export class CatalogBusyError extends VaultError {
  readonly _tag = 'CatalogBusyError' as const;
  constructor(
    readonly lockFile: string,
    readonly holder: { pid: number; host: string; since?: string } | undefined,
    readonly waitedMs: number,
  ) {
    const who = holder
      ? `process ${holder.pid} on ${holder.host}${holder.since ? ` since ${holder.since}` : ''}`
      : 'another process';
    super(
      `catalog: ${who} is indexing this vault (lock ${lockFile}); waited ${Math.round(waitedMs)} ms. ` +
        'Try again when it has finished, or delete the lock file if that process no longer exists.',
    );
  }
}

/** The vault has no catalog yet. */
export class CatalogMissingError extends VaultError {
  readonly _tag = 'CatalogMissingError' as const;
  constructor(readonly file: string) {
    super(`catalog: ${file} does not exist; build it with \`specimen index\``);
  }
}

/** A protocol or its interpreter cannot be started; the run is recorded as failed with `start_error`. */
export class ProtocolStartError extends VaultError {
  readonly _tag = 'ProtocolStartError' as const;
  constructor(
    readonly command: readonly string[],
    readonly runId: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`run: ${reason}; run ${runId} recorded as failed`, options);
  }
}

/** The vault has no usable `remote` section. */
export class RemoteConfigError extends VaultError {
  readonly _tag = 'RemoteConfigError' as const;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** The store answered 403 or rejected the signature: wrong or missing credentials. */
export class RemoteAuthError extends VaultError {
  readonly _tag = 'RemoteAuthError' as const;
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
export class RemoteBucketError extends VaultError {
  readonly _tag = 'RemoteBucketError' as const;
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
export class RemoteUnreachableError extends VaultError {
  readonly _tag = 'RemoteUnreachableError' as const;
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
export class RemoteIntegrityError extends VaultError {
  readonly _tag = 'RemoteIntegrityError' as const;
  constructor(
    /** Object keys (or local paths) whose bytes are wrong. */
    readonly objects: readonly string[],
    detail: string,
  ) {
    super(`remote: ${detail}: ${objects.join(', ')}`);
  }
}

/** A concurrent change that cannot be merged without losing one side. */
export class RemoteConflictError extends VaultError {
  readonly _tag = 'RemoteConflictError' as const;
  constructor(
    message: string,
    /** `specimen/run` or `specimen/file` entries in conflict. */
    readonly items: readonly string[],
  ) {
    super(message);
  }
}

/** Type guard: is `err` a VaultError, optionally one of the given tags? */
export function isVaultError<T extends VaultErrorTag>(
  err: unknown,
  ...tags: T[]
): err is Extract<AnyVaultError, { _tag: T }> {
  if (!(err instanceof VaultError)) return false;
  return tags.length === 0 || (tags as string[]).includes(err._tag);
}

/** Every concrete error class; `_tag` tells them apart. */
export type AnyVaultError =
  | RemoteConfigError
  | RemoteAuthError
  | RemoteBucketError
  | RemoteUnreachableError
  | RemoteIntegrityError
  | RemoteConflictError
  | InvalidIdError
  | InvalidNameError
  | TaxonomyError
  | ManifestError
  | CorruptManifestError
  | DuplicateSpecimenError
  | NotFoundError
  | SealedRunError
  | MetricsSchemaError
  | TensorError
  | UnsupportedDtypeError
  | VaultNotFoundError
  | PathEscapeError
  | ConfigError
  | UsageError
  | SqlError
  | QueryNotAllowedError
  | QueryTimeoutError
  | QueryLimitError
  | QueryBusyError
  | QueryEngineError
  | StorageFullError
  | CatalogFileError
  | CatalogBusyError
  | CatalogMissingError
  | ProtocolStartError;
