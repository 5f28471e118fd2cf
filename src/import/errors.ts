/**
 * Errors of `specimen import`. Like the catalog's, they carry their own `_tag` and `exitCode` (the
 * `VaultErrorTag` union in src/errors.ts is closed), and the CLI prints any error that has both.
 * Most import failures are not thrown to the user at all: a reader throws `ImportSourceError` for one item,
 * the importer records it as a problem (path and reason) and goes on with the rest.
 *
 * @example
 * throw new ImportSourceError('/data/mlruns/1/ab12/meta.yaml', 'meta.yaml has no run_id')
 */

/** Tags of the errors raised by the importers. */
export type ImportErrorTag = 'ImportSourceError';

/** A source file cannot be read: corrupt, truncated, of an unknown schema version, or missing. */
export class ImportSourceError extends Error {
  readonly _tag = 'ImportSourceError' as const;
  /** Bad input, per the CLI's exit-code table. */
  readonly exitCode = 2;
  constructor(
    /** The file concerned. */
    readonly path: string,
    /** Why it cannot be read, for a person. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`import: ${path}: ${reason}`, options);
    this.name = 'ImportSourceError';
  }
}

/** Type guard for the importers' errors. */
export function isImportError(err: unknown): err is ImportSourceError {
  return err instanceof ImportSourceError;
}
