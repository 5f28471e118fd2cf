/**
 * Recognising a full disk. Node reports it as an errno code (`ENOSPC`, `EDQUOT`), DuckDB only in its
 * message (`IO Error: Could not write file "…": No space left on device`), and a worker thread only as the
 * name and message it posts back; every writer turns all of them into one StorageFullError, so the CLI
 * exits 5 and the server answers 507 whatever was writing.
 *
 * @example
 * try { await fsp.writeFile(file, bytes) } catch (err) { throw asStorageFull(err, 'tensor', file) ?? err }
 */
import { StorageFullError } from '../errors.js';

/** The errno code of a full disk in `err` (its own, in its message, or in its causes), if any. */
export function diskFullCode(err: unknown): 'ENOSPC' | 'EDQUOT' | undefined {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    if (e instanceof StorageFullError) return e.code;
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (code === 'ENOSPC' || code === 'EDQUOT') return code;
    if (typeof message === 'string') {
      if (/No space left on device|ENOSPC/i.test(message)) return 'ENOSPC';
      if (/Disk quota exceeded|EDQUOT/i.test(message)) return 'EDQUOT';
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** `err` as a StorageFullError of `subsystem` writing `file` when it says the disk is full; else undefined. */
export function asStorageFull(err: unknown, subsystem: string, file: string): StorageFullError | undefined {
  if (err instanceof StorageFullError) return err;
  const code = diskFullCode(err);
  return code ? new StorageFullError(subsystem, file, code, { cause: err }) : undefined;
}
