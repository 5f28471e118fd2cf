/**
 * Exit codes and the single place where errors become messages. A user mistake prints one clear line on
 * stderr, never a stack trace; an unexpected failure prints its message and asks for SPECIMEN_DEBUG=1 to
 * show the stack.
 *
 * | code | meaning |
 * |------|---------|
 * | 0 | success |
 * | 1 | the command ran but its check failed (verify found changes, nothing could be indexed, run failed) |
 * | 2 | bad input: invalid ID, taxonomy, arguments (a required option missing, an unknown option), SQL error |
 * | 3 | not found: vault, specimen, run, tensor |
 * | 4 | conflict: duplicate specimen, sealed run |
 * | 5 | out of space: the disk (or quota) is full |
 * | 70 | internal error |
 *
 * `specimen run` exits with the protocol's own exit code instead, and 130 when interrupted (5 when the disk
 * filled while the run was being converted or sealed).
 */
import { isVaultError, type VaultErrorTag } from '../errors.js';
import { painter } from './output.js';

export const EXIT = {
  ok: 0,
  failed: 1,
  badInput: 2,
  notFound: 3,
  conflict: 4,
  storageFull: 5,
  internal: 70,
  interrupted: 130,
} as const;

/** The exit code of every error tag: the only place that decides one (the README lists the codes). */
const EXIT_CODE_BY_TAG: Readonly<Record<VaultErrorTag, number>> = {
  InvalidIdError: EXIT.badInput,
  InvalidNameError: EXIT.badInput,
  TaxonomyError: EXIT.badInput,
  ManifestError: EXIT.badInput,
  CorruptManifestError: EXIT.failed,
  DuplicateSpecimenError: EXIT.conflict,
  NotFoundError: EXIT.notFound,
  SealedRunError: EXIT.conflict,
  MetricsSchemaError: EXIT.badInput,
  TensorError: EXIT.badInput,
  UnsupportedDtypeError: EXIT.badInput,
  VaultNotFoundError: EXIT.notFound,
  PathEscapeError: EXIT.badInput,
  ConfigError: EXIT.badInput,
  UsageError: EXIT.badInput,
  SqlError: EXIT.badInput,
  QueryNotAllowedError: EXIT.badInput,
  QueryTimeoutError: EXIT.badInput,
  QueryLimitError: EXIT.badInput,
  QueryBusyError: EXIT.failed,
  QueryEngineError: EXIT.internal,
  StorageFullError: EXIT.storageFull,
  CatalogFileError: EXIT.failed,
  CatalogBusyError: EXIT.failed,
  CatalogMissingError: EXIT.notFound,
  ProtocolStartError: EXIT.badInput,
  RemoteConfigError: EXIT.badInput,
  RemoteAuthError: EXIT.badInput,
  RemoteBucketError: EXIT.notFound,
  RemoteUnreachableError: EXIT.badInput,
  RemoteIntegrityError: EXIT.failed,
  RemoteConflictError: EXIT.conflict,
};

// Commands raise it for a bad option value; it is one of the library's errors so that it maps like them.
export { UsageError } from '../errors.js';

/**
 * The exit code of a command that ran a protocol: 0 when it succeeded, 130 when interrupted, otherwise the
 * protocol's own exit code (1 when it has none: killed by a signal, or never started).
 */
export function protocolExitCode(
  status: 'succeeded' | 'failed' | 'interrupted',
  exitCode: number | null,
): number {
  if (status === 'succeeded') return EXIT.ok;
  if (status === 'interrupted') return EXIT.interrupted;
  return exitCode !== null && exitCode > 0 ? exitCode : EXIT.failed;
}

/**
 * The exit code after the argument parser gave up: that of help and version output as the parser says
 * (0, or 1 for help shown because no command was given), otherwise bad input (a missing required option,
 * an unknown option or command, a missing or excess argument).
 */
export function argumentErrorExitCode(err: { code: string; exitCode: number }): number {
  return HELP_CODES.has(err.code) ? err.exitCode : EXIT.badInput;
}

/** Codes of the argument parser's exits that are help or version output, not an error. */
const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** The exit code for `err`: its tag's, or 70 for anything the library did not raise on purpose. */
export function exitCodeOf(err: unknown): number {
  return isVaultError(err) ? EXIT_CODE_BY_TAG[err._tag] : EXIT.internal;
}

/** Prints `err` for a user and returns the exit code. */
export function reportError(err: unknown): number {
  const paint = painter(process.stderr);
  const prefix = paint('red', 'error:');
  if (isVaultError(err)) {
    process.stderr.write(`${prefix} ${err.message}\n`);
    return exitCodeOf(err);
  }
  const e = err as Error | undefined;
  process.stderr.write(`${prefix} ${e?.message ?? String(err)}\n`);
  if (process.env.SPECIMEN_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
  else process.stderr.write('(unexpected failure; set SPECIMEN_DEBUG=1 to see the stack trace)\n');
  return EXIT.internal;
}
