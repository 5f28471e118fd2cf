/**
 * File inventories for sealing and verification: every file under a run directory with its size and
 * sha256, keyed by its path relative to the run (forward slashes).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';

/** Size and digest of one file. */
export interface FileEntry {
  bytes: number;
  sha256: string;
}

/** Files up to this size are read in one call: a stream costs more to set up than to hash them. */
const READ_WHOLE_MAX = 1 << 20;

/** sha256 of a file, streamed so large tensors never sit in memory whole. */
export async function sha256File(file: string): Promise<FileEntry> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size <= READ_WHOLE_MAX) {
      // One read of the size just taken (readFile would fstat again): a short run's files cost three calls.
      const buf = Buffer.allocUnsafe(size);
      let n = 0;
      while (n < size) {
        const { bytesRead } = await fh.read(buf, n, size - n, n);
        if (bytesRead === 0) break;
        n += bytesRead;
      }
      const bytes = buf.subarray(0, n);
      return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
    }
  } finally {
    await fh.close();
  }
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Relative paths of every regular file under `dir`, sorted; entries for which `skip` is true are left out. */
export async function listFiles(
  dir: string,
  skip: (rel: string) => boolean = () => false,
): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fsp.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() || e.isSymbolicLink()) out.push(r);
    }
  }
  await walk('');
  return out.sort();
}

/** Inventory of `dir`: relative path → size and sha256, hashing a few files at a time. */
export async function inventory(
  dir: string,
  skip?: (rel: string) => boolean,
): Promise<Record<string, FileEntry>> {
  const files = await listFiles(dir, skip);
  const out: Record<string, FileEntry> = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const rel = files[next++]!;
      out[rel] = await sha256File(path.join(dir, ...rel.split('/')));
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, files.length) }, worker));
  const sorted: Record<string, FileEntry> = {};
  for (const f of files) sorted[f] = out[f]!;
  return sorted;
}

/** A digest of a set of files (a Zarr directory): sha256 over "path\tsha256\n" lines in path order. */
export function digestOfEntries(entries: Record<string, FileEntry>): FileEntry {
  const hash = createHash('sha256');
  let bytes = 0;
  for (const [p, e] of Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(`${p}\t${e.sha256}\n`);
    bytes += e.bytes;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** Differences between a recorded inventory and the files now on disk. */
export interface InventoryDiff {
  changed: string[];
  missing: string[];
  extra: string[];
}

/** Compares two inventories. */
export function diffInventories(
  recorded: Record<string, FileEntry>,
  actual: Record<string, FileEntry>,
): InventoryDiff {
  const changed: string[] = [];
  const missing: string[] = [];
  const extra: string[] = [];
  for (const [p, e] of Object.entries(recorded)) {
    const a = actual[p];
    if (!a) missing.push(p);
    else if (a.sha256 !== e.sha256 || a.bytes !== e.bytes) changed.push(p);
  }
  for (const p of Object.keys(actual)) if (!(p in recorded)) extra.push(p);
  return { changed, missing, extra };
}
