/**
 * The one place where errors become HTTP responses. Known errors keep their message (with the vault's
 * absolute path shortened to `<vault>`), their `_tag`, and for SQL errors the position DuckDB pointed at;
 * anything else is a 500 with a generic message, logged on the server's stderr only.
 *
 * | error | status |
 * |---|---|
 * | HttpError | its own |
 * | InvalidIdError, InvalidNameError, TensorError, MetricsSchemaError, SqlError, UsageError, … (bad input) | 400 |
 * | PathEscapeError, QueryNotAllowedError | 403 |
 * | NotFoundError, VaultNotFoundError, CatalogMissingError | 404 |
 * | DuplicateSpecimenError, SealedRunError | 409 |
 * | QueryTimeoutError | 408 |
 * | QueryLimitError (memory, result bytes, nesting, value size) | 400 |
 * | QueryBusyError | 429 |
 * | CatalogBusyError, QueryEngineError, CatalogFileError | 503 |
 * | StorageFullError | 507 |
 * | CorruptManifestError, ConfigError | 500, with its message (it names the broken file) |
 * | anything else | 500 `internal error` |
 *
 * @example
 * catch (err) { sendError(res, err, vaultRoot) }
 */
import type { ServerResponse } from 'node:http';
import { isVaultError, type VaultErrorTag } from '../errors.js';
import { HttpError, sendJson } from './http.js';

/** The HTTP status of every error tag: the only place that decides one (docs/api.md lists them). */
const STATUS_BY_TAG: Readonly<Record<VaultErrorTag, number>> = {
  InvalidIdError: 400,
  InvalidNameError: 400,
  TaxonomyError: 400,
  ManifestError: 400,
  CorruptManifestError: 500,
  DuplicateSpecimenError: 409,
  NotFoundError: 404,
  SealedRunError: 409,
  MetricsSchemaError: 400,
  TensorError: 400,
  UnsupportedDtypeError: 400,
  VaultNotFoundError: 404,
  PathEscapeError: 403,
  ConfigError: 500,
  UsageError: 400,
  SqlError: 400,
  QueryNotAllowedError: 403,
  QueryTimeoutError: 408,
  QueryLimitError: 400,
  QueryBusyError: 429,
  QueryEngineError: 503,
  StorageFullError: 507,
  CatalogFileError: 503,
  CatalogBusyError: 503,
  CatalogMissingError: 404,
  // The server never starts a protocol; were it to, a protocol that cannot start is the request's fault.
  ProtocolStartError: 400,
  RemoteConfigError: 400,
  RemoteAuthError: 502,
  RemoteBucketError: 502,
  RemoteUnreachableError: 502,
  RemoteIntegrityError: 502,
  RemoteConflictError: 409,
};

/** The JSON body of every error response. */
export interface ErrorBody {
  error: {
    tag: string;
    message: string;
    /** SqlError: 0-based offset into the query, and 1-based line/column. */
    position?: number;
    line?: number;
    column?: number;
    [key: string]: unknown;
  };
}

/** Replaces every occurrence of the vault root (and its real path) in `text`. */
function redact(text: string, roots: readonly string[]): string {
  let out = text;
  for (const r of roots) if (r.length > 1) out = out.split(r).join('<vault>');
  return out;
}

/** Status and body for `err`. `roots` are absolute paths never to reveal. */
export function errorResponse(err: unknown, roots: readonly string[]): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: { error: { ...err.details, tag: err.tag, message: redact(err.message, roots) } },
    };
  }
  if (isVaultError(err)) {
    const body: ErrorBody = { error: { tag: err._tag, message: redact(err.message, roots) } };
    if (err._tag === 'SqlError') {
      for (const k of ['position', 'line', 'column'] as const) {
        if (err[k] !== undefined) body.error[k] = err[k];
      }
    }
    return { status: STATUS_BY_TAG[err._tag], body };
  }
  return { status: 500, body: { error: { tag: 'InternalError', message: 'internal error' } } };
}

/** Sends the response for `err`, logging unexpected failures (with their stack) to stderr. */
export function sendError(res: ServerResponse, err: unknown, roots: readonly string[]): void {
  const { status, body } = errorResponse(err, roots);
  if (status === 500 && body.error.tag === 'InternalError') {
    process.stderr.write(`specimen serve: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  if (res.headersSent) {
    // A streamed body failed part-way (a slice's later chunk): the status is gone, so say it here and cut
    // the connection, which the client sees as a failed request rather than a short body.
    if (status !== 500) process.stderr.write(`specimen serve: response cut short: ${body.error.message}\n`);
    res.destroy();
    return;
  }
  // A refusal for load says when to come back; the SQL console retries on its own after that.
  sendJson(res, status, body, status === 429 ? { 'Retry-After': '1' } : {});
}
