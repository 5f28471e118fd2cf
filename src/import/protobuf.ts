/**
 * A minimal protocol-buffers wire-format reader: enough to walk the fields of TensorBoard's `Event` and
 * W&B's `Record` messages without their .proto files or generated code. Field numbers are named once in
 * each reader (`tensorboard.ts`, `wandb.ts`); this module knows only the wire format.
 *
 * @example
 * for (const f of fields(bytes)) {
 *   if (f.no === 1 && f.wire === WIRE.fixed64) wallTime = f.view.getFloat64(0, true)
 *   if (f.no === 5 && f.wire === WIRE.bytes) summary = f.bytes
 * }
 */

/** Wire types. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

/** One field as it appears on the wire. */
export interface Field {
  /** Field number. */
  no: number;
  wire: number;
  /** The varint value (wire 0), as a number (exact below 2^53; larger ones via `big`). */
  int: number;
  /** The varint value as a bigint (wire 0). */
  big: bigint;
  /** The payload of wire 1, 2 and 5. */
  bytes: Uint8Array;
}

/** Thrown for bytes that are not a protobuf message; readers turn it into a per-item problem. */
export class WireError extends Error {}

/** Reads a varint at `pos`; returns the value and the position after it. */
export function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new WireError('varint runs past the end');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new WireError('varint longer than 10 bytes');
}

/** Iterates the fields of a message. */
export function* fields(buf: Uint8Array): Generator<Field> {
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    pos = p;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === WIRE.varint) {
      const [v, q] = readVarint(buf, pos);
      pos = q;
      yield { no, wire, int: Number(BigInt.asIntN(64, v)), big: BigInt.asIntN(64, v), bytes: EMPTY };
    } else if (wire === WIRE.fixed64 || wire === WIRE.fixed32) {
      const n = wire === WIRE.fixed64 ? 8 : 4;
      if (pos + n > buf.length) throw new WireError('fixed field runs past the end');
      yield { no, wire, int: 0, big: 0n, bytes: buf.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === WIRE.bytes) {
      const [len, q] = readVarint(buf, pos);
      const end = q + Number(len);
      if (end > buf.length) throw new WireError('length-delimited field runs past the end');
      yield { no, wire, int: 0, big: 0n, bytes: buf.subarray(q, end) };
      pos = end;
    } else throw new WireError(`unsupported wire type ${wire} for field ${no}`);
  }
}

const EMPTY = new Uint8Array(0);
const utf8 = new TextDecoder();

/** The field's payload as UTF-8 text. */
export function text(f: Field): string {
  return utf8.decode(f.bytes);
}

/** A fixed64 field as a little-endian double. */
export function double(f: Field): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true);
}

/** A fixed32 field as a little-endian float. */
export function float(f: Field): number {
  return new DataView(f.bytes.buffer, f.bytes.byteOffset, 4).getFloat32(0, true);
}

/** Values of a repeated numeric field, packed (wire 2) or not; `kind` says how each value is encoded. */
export function repeated(f: Field, kind: 'double' | 'float' | 'varint'): number[] {
  if (f.wire === WIRE.fixed64) return [double(f)];
  if (f.wire === WIRE.fixed32) return [float(f)];
  if (f.wire === WIRE.varint) return [f.int];
  const out: number[] = [];
  const view = new DataView(f.bytes.buffer, f.bytes.byteOffset, f.bytes.byteLength);
  if (kind === 'double') for (let i = 0; i + 8 <= f.bytes.length; i += 8) out.push(view.getFloat64(i, true));
  else if (kind === 'float')
    for (let i = 0; i + 4 <= f.bytes.length; i += 4) out.push(view.getFloat32(i, true));
  else {
    let pos = 0;
    while (pos < f.bytes.length) {
      const [v, q] = readVarint(f.bytes, pos);
      out.push(Number(BigInt.asIntN(64, v)));
      pos = q;
    }
  }
  return out;
}
