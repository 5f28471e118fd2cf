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
  decodeStruct,
  deleteField,
  encodeStruct,
  getField,
  setField,
  T,
  type ThriftList,
  type ThriftStruct,
} from './thrift-compact.js';

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]); // "PAR1"

/** A Parquet file's decoded footer and where its row-group data ends. */
export interface ParquetFooter {
  /** The decoded `FileMetaData` struct. */
  meta: ThriftStruct;
  /** Byte offset where the footer starts (row-group data is [4, dataEnd)). */
  dataEnd: number;
  size: number;
}

/** Reads and decodes the footer of a Parquet file. Throws if the file is truncated or not Parquet. */
export async function readParquetFooter(file: string): Promise<ParquetFooter> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 12) throw new Error(`parquet: ${file} is too short (${size} bytes) to be a Parquet file`);
    const tail = new Uint8Array(8);
    await fh.read(tail, 0, 8, size - 8);
    const head = new Uint8Array(4);
    await fh.read(head, 0, 4, 0);
    if (!sameBytes(tail.subarray(4), MAGIC) || !sameBytes(head, MAGIC)) {
      throw new Error(`parquet: ${file} lacks the PAR1 magic (unfinished or not Parquet)`);
    }
    const footerLen = new DataView(tail.buffer).getUint32(0, true);
    const dataEnd = size - 8 - footerLen;
    if (dataEnd < 4) throw new Error(`parquet: ${file} has a footer longer than the file`);
    const footer = new Uint8Array(footerLen);
    await fh.read(footer, 0, footerLen, dataEnd);
    return { meta: decodeStruct(footer).value, dataEnd, size };
  } finally {
    await fh.close();
  }
}

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
  const schemaBytes = (m: ThriftStruct) => {
    const schema = getField(m, 2);
    return schema ? encodeStruct({ kind: 'struct', fields: [schema] }) : new Uint8Array();
  };
  const schema0 = schemaBytes(first.meta);
  for (const f of footers) {
    if (!sameBytes(schemaBytes(f.meta), schema0)) return undefined;
    if (getField(f.meta, 8) || getField(f.meta, 9)) return undefined; // encrypted
  }

  const tmp = tempPathFor(target);
  const out = await fsp.open(tmp, 'wx');
  try {
    await out.write(MAGIC);
    let pos = 4;
    let rows = 0n;
    const rowGroups: ThriftStruct[] = [];
    const buf = new Uint8Array(8 << 20);
    for (let i = 0; i < files.length; i++) {
      const footer = footers[i]!;
      // Every absolute offset in this file's row groups moves by the same amount.
      const delta = BigInt(pos - 4);
      const groups = getField(footer.meta, 4)?.value as ThriftList | undefined;
      for (const g of groups?.items ?? []) {
        const rg = g as ThriftStruct;
        if (!shiftRowGroup(rg, delta)) return undefined;
        // The ordinal (optional) is an i16: past 32,767 row groups it is left out rather than wrapped.
        if (rowGroups.length <= 0x7fff) setField(rg, 7, T.I16, rowGroups.length);
        else deleteField(rg, 7);
        rowGroups.push(rg);
      }
      rows += BigInt((getField(footer.meta, 3)?.value as bigint | undefined) ?? 0n);
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
    const meta: ThriftStruct = { kind: 'struct', fields: first.meta.fields.map((f) => ({ ...f })) };
    setField(meta, 3, T.I64, rows);
    setField(meta, 4, T.LIST, { kind: 'list', elemType: T.STRUCT, items: rowGroups });
    const footerBytes = encodeStruct(meta);
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

/** Shifts every absolute offset of a RowGroup; false if a column chunk lives in another file. */
function shiftRowGroup(rg: ThriftStruct, delta: bigint): boolean {
  shiftI64(rg, 5, delta); // RowGroup.file_offset
  const columns = getField(rg, 1)?.value as ThriftList | undefined;
  for (const c of columns?.items ?? []) {
    const cc = c as ThriftStruct;
    if (getField(cc, 1)) return false; // file_path: data in another file
    if (getField(cc, 8) || getField(cc, 9)) return false; // encrypted column
    const fileOffset = getField(cc, 2);
    if (fileOffset && fileOffset.value !== 0n) shiftI64(cc, 2, delta);
    // Page indexes hold absolute page offsets of their own; drop them rather than rewrite them.
    for (const id of [4, 5, 6, 7]) deleteField(cc, id);
    const md = getField(cc, 3)?.value as ThriftStruct | undefined;
    if (md) for (const id of [9, 10, 11, 14]) shiftI64(md, id, delta);
  }
  return true;
}

function shiftI64(s: ThriftStruct, id: number, delta: bigint): void {
  const f = getField(s, id);
  if (f && typeof f.value === 'bigint') f.value += delta;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
