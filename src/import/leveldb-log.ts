/**
 * The record log of W&B's transaction files (`run-<id>.wandb`): LevelDB's log format behind a 7-byte
 * header (`:W&B`, magic 0xBEE1, version 0). The file is cut into 32 KiB blocks; each physical record has a
 * CRC-32 (IEEE, seeded with its type byte), a 16-bit length and a type — FULL, or FIRST/MIDDLE/LAST pieces
 * of a record that spans blocks. Checksums are verified, so reading stops at the first damaged record.
 *
 * @example
 * const { records, problem } = readLevelDbLog(bytes)   // Uint8Array[] of protobuf `Record`s
 */

const HEADER = [0x3a, 0x57, 0x26, 0x42]; // ":W&B"
const MAGIC = 0xbee1;
const BLOCK = 32 * 1024;
const RECORD_HEADER = 7;
const FULL = 1;
const FIRST = 2;
const MIDDLE = 3;
const LAST = 4;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib computes it) of `bytes`, continuing from `seed`. */
export function crc32(bytes: Uint8Array, seed = 0): number {
  let c = (seed ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Throws the reason when `buf` does not start with a W&B log header of a version this reader knows. */
export function checkHeader(buf: Uint8Array): string | undefined {
  if (buf.length < RECORD_HEADER || HEADER.some((b, i) => buf[i] !== b))
    return 'not a W&B transaction log (no ":W&B" header)';
  const magic = buf[4]! | (buf[5]! << 8);
  if (magic !== MAGIC) return `not a W&B transaction log (magic 0x${magic.toString(16)})`;
  if (buf[6] !== 0) return `unknown W&B transaction log version ${buf[6]}`;
  return undefined;
}

/** Every complete record after the header, and why reading stopped early (if it did). */
export function readLevelDbLog(buf: Uint8Array): { records: Uint8Array[]; problem?: string } {
  const records: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = RECORD_HEADER;
  let pieces: Uint8Array[] | undefined;
  while (pos < buf.length) {
    const left = BLOCK - (pos % BLOCK);
    // A block's last few bytes cannot hold a record header: the writer pads them with zeros.
    if (left < RECORD_HEADER) {
      pos += left;
      continue;
    }
    if (pos + RECORD_HEADER > buf.length)
      return { records, problem: `truncated record header at byte ${pos}` };
    const crc = view.getUint32(pos, true);
    const len = view.getUint16(pos + 4, true);
    const type = buf[pos + 6]!;
    if (type === 0 && len === 0 && crc === 0) {
      // Zero padding (a preallocated or flushed-early file): nothing more in this block.
      pos += left;
      continue;
    }
    const start = pos + RECORD_HEADER;
    if (start + len > buf.length)
      return { records, problem: `truncated record at byte ${pos} (${len} bytes announced)` };
    const data = buf.subarray(start, start + len);
    if (crc32(data, crc32(Uint8Array.of(type))) !== crc)
      return { records, problem: `corrupt record (checksum mismatch) at byte ${pos}` };
    pos = start + len;
    if (type === FULL) records.push(data);
    else if (type === FIRST) pieces = [data];
    else if (type === MIDDLE && pieces) pieces.push(data);
    else if (type === LAST && pieces) {
      pieces.push(data);
      records.push(concat(pieces));
      pieces = undefined;
    } else return { records, problem: `unexpected record type ${type} at byte ${pos - len - RECORD_HEADER}` };
  }
  if (pieces) return { records, problem: 'the last record is incomplete (file ends inside it)' };
  return { records };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
