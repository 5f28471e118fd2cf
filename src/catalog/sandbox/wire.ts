/**
 * The messages between the server and the process that runs user SQL (process-entry.ts), and the errors
 * that cross between them: a tagged error is sent as its tag and fields and rebuilt as the same class on the
 * other side, so the server maps it to its status as if the query had run in-process.
 *
 * @example
 * child.send({ id: 1, root, sql, maxRows: 100 } satisfies QueryRequest)
 * // ← { id: 1, ok: false, error: { tag: 'SqlError', ... } } → errorFromWire(reply.error)
 */
import {
  CatalogFileError,
  CatalogMissingError,
  isVaultError,
  QueryEngineError,
  QueryLimitError,
  QueryNotAllowedError,
  QueryTimeoutError,
  SqlError,
} from '../../errors.js';
import type { QueryParams, RowsResult } from '../query.js';
import type { QueryLimits } from './limits.js';

/** One query for the child process. */
export interface QueryRequest {
  id: number;
  root: string;
  sql: string;
  params?: QueryParams;
  maxRows?: number;
  timeoutMs?: number;
  limits: QueryLimits;
}

/** The child's answer. */
export type QueryReply =
  | { id: number; ok: true; result: RowsResult }
  | { id: number; ok: false; error: WireError };

/** An error as it crosses the process boundary. */
export interface WireError {
  tag: string;
  message: string;
  fields: Record<string, unknown>;
}

/** Flattens `err` for sending. */
export function errorToWire(err: unknown): WireError {
  if (isVaultError(err)) {
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err)) if (k !== 'cause') fields[k] = v;
    return { tag: err._tag, message: err.message, fields };
  }
  return { tag: 'Error', message: err instanceof Error ? err.message : String(err), fields: {} };
}

/** Rebuilds an error sent by `errorToWire`; one it does not know becomes a QueryEngineError. */
export function errorFromWire(w: WireError): Error {
  // The fields were written by errorToWire from an error of the same tag.
  // biome-ignore lint/suspicious/noExplicitAny: rebuilt field by field from the class that sent them
  const f = w.fields as Record<string, any>;
  switch (w.tag) {
    case 'SqlError':
      return new SqlError(f.duckdbMessage, f.sql, f.position, f.line, f.column);
    case 'QueryNotAllowedError':
      return new QueryNotAllowedError(f.sql, f.statementType, f.reason);
    case 'QueryTimeoutError':
      return new QueryTimeoutError(f.sql, f.timeoutMs);
    case 'QueryLimitError':
      return new QueryLimitError(f.limit, f.value, w.message.replace(/^sql: /, ''));
    case 'CatalogMissingError':
      return new CatalogMissingError(f.file);
    case 'CatalogFileError':
      return new CatalogFileError(f.file, f.reason, f.detail);
    default:
      return new QueryEngineError(w.message);
  }
}
