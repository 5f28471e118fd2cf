// The error family: every tag has one class, and maps to an exit code the README documents and an HTTP
// status docs/api.md documents, through the CLI's and the server's one table each.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/exit.js';
import {
  type AnyVaultError,
  CatalogBusyError,
  CatalogFileError,
  CatalogMissingError,
  ConfigError,
  CorruptManifestError,
  DuplicateSpecimenError,
  InvalidIdError,
  InvalidNameError,
  isVaultError,
  ManifestError,
  MetricsSchemaError,
  NotFoundError,
  PathEscapeError,
  ProtocolStartError,
  QueryBusyError,
  QueryEngineError,
  QueryLimitError,
  QueryNotAllowedError,
  QueryTimeoutError,
  RemoteAuthError,
  RemoteBucketError,
  RemoteConfigError,
  RemoteConflictError,
  RemoteIntegrityError,
  RemoteUnreachableError,
  SealedRunError,
  SqlError,
  StorageFullError,
  TaxonomyError,
  TensorError,
  UnsupportedDtypeError,
  UsageError,
  VaultError,
  type VaultErrorTag,
  VaultNotFoundError,
} from '../../src/errors.js';
import * as api from '../../src/index.js';
import { errorResponse } from '../../src/server/errors.js';
import { REPO_ROOT } from '../support/helpers.js';

type Row<T extends VaultErrorTag> = {
  make: () => Extract<AnyVaultError, { _tag: T }>;
  exit: number;
  status: number;
};

// A Record over the tag union: a new tag fails to compile here until it has a row.
const TABLE: { [T in VaultErrorTag]: Row<T> } = {
  InvalidIdError: { make: () => new InvalidIdError('specimen', 'x', 'too short'), exit: 2, status: 400 },
  InvalidNameError: { make: () => new InvalidNameError('tensor', '..', 'a dot name'), exit: 2, status: 400 },
  TaxonomyError: {
    make: () => new TaxonomyError('taxonomy: unknown domain "traning"', 'traning', undefined, ['training']),
    exit: 2,
    status: 400,
  },
  ManifestError: { make: () => new ManifestError('manifest: bad', 'taxonomy.domain'), exit: 2, status: 400 },
  CorruptManifestError: {
    make: () => new CorruptManifestError('m.msgpack', 'truncated', { cause: new RangeError('eof') }),
    exit: 1,
    status: 500,
  },
  DuplicateSpecimenError: { make: () => new DuplicateSpecimenError('2025_01_02_x'), exit: 4, status: 409 },
  NotFoundError: { make: () => new NotFoundError('specimen', 'x', ['y']), exit: 3, status: 404 },
  SealedRunError: { make: () => new SealedRunError('2025_01_02_x', 'r', 'write'), exit: 4, status: 409 },
  MetricsSchemaError: { make: () => new MetricsSchemaError('metrics: bad', 'loss'), exit: 2, status: 400 },
  TensorError: { make: () => new TensorError('tensor: bad shape'), exit: 2, status: 400 },
  UnsupportedDtypeError: {
    make: () => new UnsupportedDtypeError('complex64', ['float32']),
    exit: 2,
    status: 400,
  },
  VaultNotFoundError: { make: () => new VaultNotFoundError('/tmp'), exit: 3, status: 404 },
  PathEscapeError: { make: () => new PathEscapeError('../x', '/vault'), exit: 2, status: 403 },
  ConfigError: { make: () => new ConfigError('config: bad', 'specimen-vault.json'), exit: 2, status: 500 },
  UsageError: { make: () => new UsageError('--seed must be a non-negative integer'), exit: 2, status: 400 },
  SqlError: {
    make: () => new SqlError('Parser Error', 'SELEC 1', 0, 1, 1, { cause: new Error('duckdb') }),
    exit: 2,
    status: 400,
  },
  QueryNotAllowedError: { make: () => new QueryNotAllowedError('COPY t TO x', 'COPY'), exit: 2, status: 403 },
  QueryTimeoutError: { make: () => new QueryTimeoutError('SELECT 1', 3000), exit: 2, status: 408 },
  QueryLimitError: {
    make: () => new QueryLimitError('nesting', 64, 'a value is nested deeper than 64 levels'),
    exit: 2,
    status: 400,
  },
  QueryBusyError: { make: () => new QueryBusyError(2), exit: 1, status: 429 },
  QueryEngineError: { make: () => new QueryEngineError('exited with SIGKILL'), exit: 70, status: 503 },
  StorageFullError: {
    make: () => new StorageFullError('metrics', '/v/r/metrics.parquet', 'ENOSPC', { cause: new Error('x') }),
    exit: 5,
    status: 507,
  },
  CatalogFileError: {
    make: () => new CatalogFileError('/v/vault.duckdb', 'corrupt', 'not a DuckDB file'),
    exit: 1,
    status: 503,
  },
  CatalogBusyError: { make: () => new CatalogBusyError('/v/.lock', undefined, 10), exit: 1, status: 503 },
  CatalogMissingError: { make: () => new CatalogMissingError('/v/vault.duckdb'), exit: 3, status: 404 },
  ProtocolStartError: {
    make: () => new ProtocolStartError(['python9'], 'r', 'cannot start "python9"', { cause: new Error('x') }),
    exit: 2,
    status: 400,
  },
  RemoteConfigError: {
    make: () => new RemoteConfigError('remote: no remote configured', 'remote'),
    exit: 2,
    status: 400,
  },
  RemoteAuthError: {
    make: () => new RemoteAuthError('s3://b/p', 'InvalidAccessKeyId', { cause: new Error('403') }),
    exit: 2,
    status: 502,
  },
  RemoteBucketError: {
    make: () => new RemoteBucketError('b', 'http://127.0.0.1:9000'),
    exit: 3,
    status: 502,
  },
  RemoteUnreachableError: {
    make: () => new RemoteUnreachableError('http://127.0.0.1:1', 'ECONNREFUSED'),
    exit: 2,
    status: 502,
  },
  RemoteIntegrityError: {
    make: () => new RemoteIntegrityError(['a/b'], 'sha256 mismatch'),
    exit: 1,
    status: 502,
  },
  RemoteConflictError: {
    make: () => new RemoteConflictError('remote: run taken', ['s/r']),
    exit: 4,
    status: 409,
  },
};
const ROWS = Object.entries(TABLE) as [VaultErrorTag, Row<VaultErrorTag>][];

/** The exit codes of the README's paragraph "Exit codes: 0 success, 1 …, 70 internal error". */
function documentedExitCodes(): Set<number> {
  const readme = fs.readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8').replace(/\s+/g, ' ');
  const paragraph = /Exit codes: (.*?); `specimen run`/.exec(readme)?.[1] ?? '';
  return new Set([...paragraph.matchAll(/(?:^|, )(\d+) /g)].map((m) => Number(m[1])));
}

/** The tags docs/api.md lists under each status in its Errors table. */
function documentedStatuses(): Map<string, number> {
  const doc = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'api.md'), 'utf8');
  const errors = doc.slice(doc.indexOf('## Errors'), doc.indexOf('## Routes'));
  const byTag = new Map<string, number>();
  for (const m of errors.matchAll(/^\| (\d{3}) \| (.*) \|$/gm)) {
    for (const t of m[2]!.matchAll(/`([A-Za-z]+)`/g)) byTag.set(t[1]!, Number(m[1]));
  }
  return byTag;
}

describe('error family', () => {
  it('has one exported class per tag, named after it', () => {
    const classes = Object.entries(api)
      .filter(([, v]) => typeof v === 'function' && v.prototype instanceof VaultError)
      .map(([name]) => name)
      .sort();
    expect(classes).toEqual(ROWS.map(([tag]) => tag).sort());
  });

  it('reads the documented exit codes from the README', () => {
    expect([...documentedExitCodes()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 70]);
  });

  it.each(ROWS)('%s: a tagged VaultError with the documented exit code and HTTP status', (tag, row) => {
    const err = row.make();
    expect(err).toBeInstanceOf(VaultError);
    expect(err._tag).toBe(tag);
    expect(err.name).toBe(tag);
    expect(isVaultError(err, tag)).toBe(true);
    expect(err.message).toMatch(/^(?:[a-z]+:|--[a-z]+) /); // starts with the subsystem, or the CLI option
    expect(exitCodeOf(err)).toBe(row.exit);
    expect(documentedExitCodes()).toContain(row.exit);
    const { status, body } = errorResponse(err, []);
    expect(status).toBe(row.status);
    expect(body.error.tag).toBe(tag);
    expect(documentedStatuses().get(tag)).toBe(row.status);
  });

  it('keeps the cause, and gives the SQL position in the HTTP body', () => {
    expect(TABLE.SqlError.make().cause).toBeInstanceOf(Error);
    expect(TABLE.CorruptManifestError.make().cause).toBeInstanceOf(RangeError);
    expect(TABLE.ProtocolStartError.make().cause).toBeInstanceOf(Error);
    expect(errorResponse(TABLE.SqlError.make(), []).body.error).toMatchObject({
      position: 0,
      line: 1,
      column: 1,
    });
  });

  it('maps anything else to exit 70 and a generic 500', () => {
    const err = Object.assign(new Error('boom'), { _tag: 'SqlError', exitCode: 2 });
    expect(exitCodeOf(err)).toBe(70);
    expect(errorResponse(err, [])).toEqual({
      status: 500,
      body: { error: { tag: 'InternalError', message: 'internal error' } },
    });
    expect(isVaultError(err)).toBe(false);
  });
});
