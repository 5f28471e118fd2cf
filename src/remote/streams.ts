/**
 * Hashing remote objects as they stream in, so a multi-gigabyte tensor is checked (and saved) without
 * being held in memory.
 *
 * @example
 * const { sha256, bytes } = await saveStream(await store.getStream(key), '/vault/runs/.tmp/x')
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileEntry } from '../storage/hashing.js';

/** sha256 and size of a stream's bytes. */
export async function hashStream(stream: Readable): Promise<FileEntry> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Writes a stream to `file` (creating its directory; the new file gets `mode`) and returns the sha256 and
 * size of what was written.
 */
export async function saveStream(stream: Readable, file: string, mode = 0o644): Promise<FileEntry> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    stream,
    async function* (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
    },
    fs.createWriteStream(file, { mode }),
  );
  return { bytes, sha256: hash.digest('hex') };
}
