/**
 * TFRecord framing, the container of TensorBoard event files: each record is a little-endian uint64 length,
 * a masked CRC-32C of the length, the data, and a masked CRC-32C of the data. Both checksums are verified,
 * so a truncated or damaged file is detected at the first bad record instead of yielding garbage.
 *
 * @example
 * const { records, problem } = readTfRecords(bytes)
 * // records: Uint8Array[] of every complete record; problem: 'truncated record at byte 4096' or undefined
 */

const CRC_TABLE = (() => {
  // CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, as TensorFlow's record writer uses.
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C of `bytes`. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** TensorFlow's masked CRC: rotated right by 15 bits plus a constant, so CRCs of CRCs stay distinct. */
export function maskedCrc32c(bytes: Uint8Array): number {
  const c = crc32c(bytes);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Every complete, intact record of a TFRecord file, and why reading stopped early (if it did). */
export function readTfRecords(buf: Uint8Array): { records: Uint8Array[]; problem?: string } {
  const records: Uint8Array[] = [];
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    if (pos + 12 > buf.length) return { records, problem: `truncated record header at byte ${pos}` };
    const len = Number(view.getBigUint64(pos, true));
    if (view.getUint32(pos + 8, true) !== maskedCrc32c(buf.subarray(pos, pos + 8)))
      return { records, problem: `corrupt record length (checksum mismatch) at byte ${pos}` };
    const start = pos + 12;
    if (start + len + 4 > buf.length)
      return { records, problem: `truncated record at byte ${pos} (${len} bytes announced)` };
    const data = buf.subarray(start, start + len);
    if (view.getUint32(start + len, true) !== maskedCrc32c(data))
      return { records, problem: `corrupt record data (checksum mismatch) at byte ${pos}` };
    records.push(data);
    pos = start + len + 4;
  }
  return { records };
}
