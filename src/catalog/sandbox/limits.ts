/**
 * The resource limits of user SQL, in one place: how long a query may run, how much memory, how many
 * threads and how much temporary disk its DuckDB session may use, how large its result may be, and how many
 * run at once. `resolveQueryLimits` fills defaults and checks values from a serve option or the vault
 * config's `query` object (`{"query": {"timeout_ms": 10000}}` in specimen-vault.json).
 *
 * @example
 * const limits = resolveQueryLimits({ timeoutMs: 3000 })   // the rest are the defaults
 * const config = sessionLimitConfig(limits)                // DuckDB options for the sandboxed session
 */
import os from 'node:os';
import path from 'node:path';
import { ConfigError, UsageError } from '../../errors.js';

/** Limits applied to one user query. Every field is optional when given; see DEFAULT_QUERY_LIMITS. */
export interface QueryLimits {
  /** Wall-clock limit in milliseconds; the connection is interrupted when it passes. */
  timeoutMs: number;
  /** DuckDB `memory_limit` of the session, e.g. `512MiB`. */
  memoryLimit: string;
  /** DuckDB `threads` of the session. */
  threads: number;
  /** DuckDB `max_temp_directory_size`: how much a query may spill to disk. */
  maxTempDirectorySize: string;
  /** Most rows returned (`truncated` tells when there were more). */
  maxRows: number;
  /** Most bytes of JSON returned (approximate; `truncated` tells when there was more). */
  maxResultBytes: number;
  /** User queries running at once; more are refused with QueryBusyError. */
  maxConcurrent: number;
}

/** The defaults: a few seconds and a bounded share of the machine, enough for the catalog's own views. */
export const DEFAULT_QUERY_LIMITS: Readonly<QueryLimits> = {
  timeoutMs: 5_000,
  memoryLimit: '1GiB',
  threads: 2,
  maxTempDirectorySize: '1GiB',
  maxRows: 100_000,
  maxResultBytes: 32 * 1024 * 1024,
  maxConcurrent: 2,
};

/** Deepest nesting of a value a response carries (lists, structs, JSON). */
export const MAX_VALUE_DEPTH = 64;

const SIZE = /^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/;

/** Where the limits came from, for the error message. */
type Source = 'option' | 'config';

function fail(source: Source, field: string, message: string, file?: string): never {
  if (source === 'config')
    throw new ConfigError(`config: query.${field} ${message}`, file ?? 'specimen-vault.json');
  throw new UsageError(`query limits: ${field} ${message}`);
}

function int(source: Source, field: string, v: unknown, min: number, max: number, file?: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    fail(source, field, `must be an integer between ${min} and ${max}, got ${JSON.stringify(v)}`, file);
  return v;
}

function size(source: Source, field: string, v: unknown, file?: string): string {
  if (typeof v !== 'string' || !SIZE.test(v))
    fail(source, field, `must be a size such as "512MiB" or "2GB", got ${JSON.stringify(v)}`, file);
  return v;
}

/** Checks `given` and fills the rest from DEFAULT_QUERY_LIMITS; UsageError names a bad field. */
export function resolveQueryLimits(
  given: Partial<QueryLimits> = {},
  source: Source = 'option',
  file?: string,
): QueryLimits {
  const d = DEFAULT_QUERY_LIMITS;
  return {
    timeoutMs: int(source, 'timeoutMs', given.timeoutMs ?? d.timeoutMs, 1, 3_600_000, file),
    memoryLimit: size(source, 'memoryLimit', given.memoryLimit ?? d.memoryLimit, file),
    threads: int(source, 'threads', given.threads ?? d.threads, 1, 64, file),
    maxTempDirectorySize: size(
      source,
      'maxTempDirectorySize',
      given.maxTempDirectorySize ?? d.maxTempDirectorySize,
      file,
    ),
    maxRows: int(source, 'maxRows', given.maxRows ?? d.maxRows, 1, 10_000_000, file),
    maxResultBytes: int(
      source,
      'maxResultBytes',
      given.maxResultBytes ?? d.maxResultBytes,
      1024,
      1 << 30,
      file,
    ),
    maxConcurrent: int(source, 'maxConcurrent', given.maxConcurrent ?? d.maxConcurrent, 1, 64, file),
  };
}

/** Field names of the vault config's `query` object and the limit each sets. */
const CONFIG_FIELDS: Readonly<Record<string, keyof QueryLimits>> = {
  timeout_ms: 'timeoutMs',
  memory_limit: 'memoryLimit',
  threads: 'threads',
  max_temp_directory_size: 'maxTempDirectorySize',
  max_rows: 'maxRows',
  max_result_bytes: 'maxResultBytes',
  max_concurrent: 'maxConcurrent',
};

/** The limits a vault config's raw `query` object sets (snake_case fields); ConfigError for a bad one. */
export function limitsFromConfig(
  raw: Record<string, unknown>,
  file = 'specimen-vault.json',
): Partial<QueryLimits> {
  const q = raw.query;
  if (q === undefined) return {};
  if (q === null || typeof q !== 'object' || Array.isArray(q))
    throw new ConfigError('config: query must be an object of limits such as {"timeout_ms": 5000}', file);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(q)) {
    const field = CONFIG_FIELDS[k];
    if (!field)
      throw new ConfigError(
        `config: query.${k} is not a known limit; known: ${Object.keys(CONFIG_FIELDS).join(', ')}`,
        file,
      );
    out[field] = v;
  }
  resolveQueryLimits(out as Partial<QueryLimits>, 'config', file);
  return out as Partial<QueryLimits>;
}

/** Private spill directory of this process's sandboxed sessions (DuckDB removes its files on close). */
export function sandboxTempDirectory(): string {
  return path.join(os.tmpdir(), `specimen-sql-${process.pid}`);
}

/** DuckDB configuration options enforcing `limits` in a session. */
export function sessionLimitConfig(limits: QueryLimits): Record<string, string> {
  return {
    memory_limit: limits.memoryLimit,
    threads: String(limits.threads),
    max_temp_directory_size: limits.maxTempDirectorySize,
    temp_directory: sandboxTempDirectory(),
  };
}
