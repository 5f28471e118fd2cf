/**
 * Crash-safe file writes: data goes to a unique temporary file beside the target, is fsynced, then renamed
 * over the target. A crash leaves either the old file or the new one, never a half-written one.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** A temp-file path beside `target`, unique across processes; names start with `.tmp-` so scans skip them. */
export function tempPathFor(target: string): string {
  return path.join(
    path.dirname(target),
    `.tmp-${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}`,
  );
}

/**
 * Writes `data` to `target` atomically. With `sync: false` the temp file is not fsynced: the write is still
 * atomic against process crashes, and a caller that makes a group of files durable later (sealing a run
 * fsyncs all its files at once, see `syncFiles`) saves a disk flush per file.
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array | string,
  options: { sync?: boolean } = {},
): Promise<void> {
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'wx');
  try {
    await fh.writeFile(data);
    if (options.sync ?? true) await fh.sync();
  } catch (err) {
    await fh.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/** Synchronous twin of writeFileAtomic, for exit handlers and other places that cannot await. */
export function writeFileAtomicSync(target: string, data: Uint8Array | string): void {
  const tmp = tempPathFor(target);
  const fd = fs.openSync(tmp, 'wx');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * fsyncs `files` concurrently. Concurrent fsyncs share the file system's journal commits (on ext4 three
 * fsyncs issued together cost about one), where one after another each waits for its own. With
 * `missingOk`, a file removed since it was written is skipped (a group commit flushing runs a user removed).
 */
export async function syncFiles(
  files: readonly string[],
  options: { concurrency?: number; missingOk?: boolean } = {},
): Promise<void> {
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < files.length) {
      let fh: fsp.FileHandle;
      try {
        fh = await fsp.open(files[next++]!, 'r');
      } catch (err) {
        if (options.missingOk && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  };
  // libuv runs four file-system requests at once by default; more would only queue.
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, files.length) }, one));
}

/** fsyncs a directory so that entries renamed into it survive a power loss; a no-op where not possible. */
export async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Windows cannot open a directory; some file systems refuse to fsync one (EINVAL): harmless there.
  } finally {
    await fh?.close().catch(() => {});
  }
}

const pendingDirSyncs = new Map<string, Promise<void>>();
let exitSyncInstalled = false;

/**
 * Starts an fsync of `dir` without waiting for it: the renames into it become durable within a few
 * milliseconds, and a sealed run's data (fsynced before its manifest was renamed) need not wait for a
 * second disk flush. A directory still pending when the process exits is fsynced synchronously then, so a
 * script that calls process.exit() right away loses nothing either.
 */
export function syncDirSoon(dir: string): void {
  if (!exitSyncInstalled) {
    exitSyncInstalled = true;
    process.on('exit', () => {
      for (const d of pendingDirSyncs.keys()) {
        try {
          const fd = fs.openSync(d, 'r');
          try {
            fs.fsyncSync(fd);
          } finally {
            fs.closeSync(fd);
          }
        } catch {
          // As in syncDir: not every platform can fsync a directory.
        }
      }
    });
  }
  // A rename after a pending fsync began may not be covered by it: chain another.
  const p: Promise<void> = (pendingDirSyncs.get(dir) ?? Promise.resolve())
    .then(() => syncDir(dir))
    .finally(() => {
      if (pendingDirSyncs.get(dir) === p) pendingDirSyncs.delete(dir);
    });
  pendingDirSyncs.set(dir, p);
}

/** Waits for every fsync started by syncDirSoon. */
export async function settleDirSyncs(): Promise<void> {
  await Promise.all(pendingDirSyncs.values());
}
