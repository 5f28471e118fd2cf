/**
 * Positional file I/O loops. FileHandle.writeFile splits large buffers into 512 KiB writes, each a separate
 * threadpool round trip; these issue one call per buffer and loop only on short transfers.
 *
 * @example
 * await writeFully(fh, bytes, 0)
 * const n = await readFully(fh, target, 4096) // bytes read; fewer than target.length only at end of file
 */
import type { FileHandle } from 'node:fs/promises';

/** Writes all of `bytes` at `position`. */
export async function writeFully(fh: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Fills `target` from `position`; returns how many bytes were read (short only at end of file). */
export async function readFully(fh: FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const { bytesRead } = await fh.read(target, done, target.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Runs `task(0..n-1)` with at most `limit` in flight; the first failure stops new tasks and is rethrown. */
export async function forEachConcurrently(
  n: number,
  limit: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const lane = async () => {
    while (next < n && !failure) {
      const i = next++;
      try {
        await task(i);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, limit) }, lane));
  if (failure) throw failure.err;
}
