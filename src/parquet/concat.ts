/**
 * Concatenates Parquet files that share one schema into a single file by copying their row groups byte
 * for byte and writing one combined footer. This is why the streaming metrics writer can keep a part file
 * per flush (crash safety) and still finish with one `metrics.parquet` at close() for roughly the cost of
 * a file copy: re-encoding 10M rows through DuckDB costs as much as writing them in the first place.
 *
 * @example
 * const done = await concatParquetFiles(['part-000001.parquet', 'part-000002.parquet'], 'metrics.parquet')
 * if (!done) { ...schemas differ: merge with DuckDB union_by_name instead }
 */
import fsp from 'node:fs/promises';
import { tempPathFor } from '../format/atomic-write.js';
import {
  ColumnMetaData,
  type FileMetaData,
  MAGIC,
  type ParquetFooter,
  type RowGroup,
  readParquetFooter,
  sameBytes,
} from './footer.js';

/**
 * Writes `target` (atomically: temp file, rename; fsync first with `sync`) holding every row group of `files` in order.
 * Returns the row count, or `undefined` without writing anything when the files cannot be concatenated
 * as they are (different schemas, encryption, external column chunks); callers then re-encode instead.
 */
export async function concatParquetFiles(
  files: readonly string[],
  target: string,
  options: { sync?: boolean } = {},
): Promise<{ rows: number; bytes: number } | undefined> {
  if (files.length === 0) return undefined;
  const footers: ParquetFooter[] = [];
  for (const f of files) footers.push(await readParquetFooter(f));
  const first = footers[0]!;
  const schema0 = first.meta.schemaBytes;
  for (const f of footers) {
    if (!sameBytes(f.meta.schemaBytes, schema0)) return undefined;
    if (f.meta.encrypted) return undefined;
  }

  const tmp = tempPathFor(target);
  const out = await fsp.open(tmp, 'wx');
  try {
    await out.write(MAGIC);
    let pos = 4;
    let rows = 0n;
    const rowGroups: RowGroup[] = [];
    const buf = new Uint8Array(8 << 20);
    for (let i = 0; i < files.length; i++) {
      const footer = footers[i]!;
      // Every absolute offset in this file's row groups moves by the same amount.
      const delta = BigInt(pos - 4);
      for (const rg of footer.meta.rowGroups) {
        if (!shiftRowGroup(rg, delta)) return undefined;
        // The ordinal (optional) is an i16: past 32,767 row groups it is left out rather than wrapped.
        rg.ordinal = rowGroups.length <= 0x7fff ? rowGroups.length : undefined;
        rowGroups.push(rg);
      }
      rows += footer.meta.numRows ?? 0n;
      const src = await fsp.open(files[i]!, 'r');
      try {
        let at = 4;
        while (at < footer.dataEnd) {
          const { bytesRead } = await src.read(buf, 0, Math.min(buf.length, footer.dataEnd - at), at);
          if (bytesRead === 0) throw new Error(`parquet: ${files[i]} shrank while being read`);
          await out.write(buf, 0, bytesRead);
          at += bytesRead;
          pos += bytesRead;
        }
      } finally {
        await src.close();
      }
    }
    const meta: FileMetaData = first.meta.copy();
    meta.numRows = rows;
    meta.rowGroups = rowGroups;
    const footerBytes = meta.encode();
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footerBytes.length, true);
    tail.set(MAGIC, 4);
    await out.write(footerBytes);
    await out.write(tail);
    if (options.sync) await out.sync();
    await out.close();
    await fsp.rename(tmp, target);
    return { rows: Number(rows), bytes: pos + footerBytes.length + 8 };
  } catch (err) {
    await out.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
    throw err;
  } finally {
    // The early `return undefined` inside the loop leaves the temp file open and behind; both are no-ops
    // after a successful rename.
    await out.close().catch(() => {});
    await fsp.rm(tmp, { force: true });
  }
}

/** Shifts every absolute offset of a row group; false if a column chunk lives in another file. */
function shiftRowGroup(rg: RowGroup, delta: bigint): boolean {
  const shift = (offset: bigint | undefined) => (offset === undefined ? undefined : offset + delta);
  rg.fileOffset = shift(rg.fileOffset);
  for (const cc of rg.columns) {
    if (cc.external || cc.encrypted) return false;
    const fileOffset = cc.fileOffset;
    if (fileOffset !== undefined && fileOffset !== 0n) cc.fileOffset = fileOffset + delta;
    // Page indexes hold absolute page offsets of their own; drop them rather than rewrite them.
    cc.removePageIndexes();
    const md = cc.metaData;
    if (md) for (const name of ColumnMetaData.OFFSETS) md.setOffset(name, shift(md.offset(name)));
  }
  return true;
}
