/**
 * A small, schema-less Thrift compact-protocol codec, enough to read a Parquet footer (`FileMetaData`),
 * change a few fields and write it back byte-for-byte otherwise. Fields are kept in their original order
 * with their wire types, so anything this code does not understand survives a round trip unchanged.
 * Fields here are numbers; footer.ts names the Parquet ones, and the rest of the code reads those names.
 *
 * @example
 * const { value: meta } = decodeStruct(footerBytes)
 * setField(meta, 3, T.I64, 42n)
 * const bytes = encodeStruct(meta)
 */

/** Compact-protocol wire types. */
export const T = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
export interface ThriftList {
  kind: 'list';
  elemType: number;
  items: ThriftValue[];
}
export interface ThriftMap {
  kind: 'map';
  keyType: number;
  valueType: number;
  entries: [ThriftValue, ThriftValue][];
}
export interface ThriftField {
  id: number;
  type: number;
  value: ThriftValue;
}
export interface ThriftStruct {
  kind: 'struct';
  fields: ThriftField[];
}

/** Decodes one struct starting at `offset`; returns it and the offset just past its STOP byte. */
export function decodeStruct(bytes: Uint8Array, offset = 0): { value: ThriftStruct; end: number } {
  const r = new Reader(bytes, offset);
  const value = r.struct();
  return { value, end: r.pos };
}

/** Encodes a struct produced by decodeStruct (possibly modified). */
export function encodeStruct(s: ThriftStruct): Uint8Array {
  const w = new Writer();
  w.struct(s);
  return w.finish();
}

/** The field with `id`, if present. */
export function getField(s: ThriftStruct, id: number): ThriftField | undefined {
  return s.fields.find((f) => f.id === id);
}

/** Sets (or adds, keeping ids ascending) field `id`. */
export function setField(s: ThriftStruct, id: number, type: number, value: ThriftValue): void {
  const existing = getField(s, id);
  if (existing) {
    existing.type = type;
    existing.value = value;
    return;
  }
  const at = s.fields.findIndex((f) => f.id > id);
  const field = { id, type, value };
  if (at < 0) s.fields.push(field);
  else s.fields.splice(at, 0, field);
}

/** Removes field `id` if present. */
export function deleteField(s: ThriftStruct, id: number): void {
  s.fields = s.fields.filter((f) => f.id !== id);
}

class Reader {
  constructor(
    private readonly b: Uint8Array,
    public pos: number,
  ) {}

  private byte(): number {
    if (this.pos >= this.b.length) throw new RangeError('thrift: unexpected end of data');
    return this.b[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = this.byte();
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError('thrift: varint too long');
    }
  }

  private zigzag(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  private size(): number {
    const n = Number(this.varint());
    if (n > this.b.length) throw new RangeError('thrift: size larger than the data');
    return n;
  }

  struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let lastId = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.STOP) return { kind: 'struct', fields };
      const delta = header >> 4;
      const id = delta === 0 ? Number(this.zigzag()) : lastId + delta;
      lastId = id;
      const value = type === T.TRUE ? true : type === T.FALSE ? false : this.value(type);
      fields.push({ id, type, value });
    }
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Inside collections booleans are one byte each: 1 true, 2 false.
        return this.byte() === T.TRUE;
      case T.BYTE: {
        const v = this.byte();
        return v > 127 ? v - 256 : v;
      }
      case T.I16:
      case T.I32:
        return Number(this.zigzag());
      case T.I64:
        return this.zigzag();
      case T.DOUBLE: {
        const v = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return v;
      }
      case T.BINARY: {
        const n = this.size();
        if (this.pos + n > this.b.length) throw new RangeError('thrift: unexpected end of data');
        const v = this.b.slice(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        const elemType = header & 0x0f;
        const n = header >> 4 === 15 ? this.size() : header >> 4;
        const items: ThriftValue[] = [];
        for (let i = 0; i < n; i++) items.push(this.value(elemType));
        return { kind: 'list', elemType, items };
      }
      case T.MAP: {
        const n = this.size();
        const types = n > 0 ? this.byte() : 0;
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < n; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { kind: 'map', keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }
}

class Writer {
  private buf = new Uint8Array(1024);
  private pos = 0;

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.pos + n));
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  private byte(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  private varint(n: bigint): void {
    do {
      let byte = Number(n & 0x7fn);
      n >>= 7n;
      if (n !== 0n) byte |= 0x80;
      this.byte(byte);
    } while (n !== 0n);
  }

  private zigzag(n: bigint): void {
    this.varint(BigInt.asUintN(64, (n << 1n) ^ (n >> 63n)));
  }

  struct(s: ThriftStruct): void {
    let lastId = 0;
    for (const f of s.fields) {
      const type = f.type === T.TRUE || f.type === T.FALSE ? (f.value ? T.TRUE : T.FALSE) : f.type;
      const delta = f.id - lastId;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag(BigInt(f.id));
      }
      lastId = f.id;
      if (type !== T.TRUE && type !== T.FALSE) this.value(type, f.value);
    }
    this.byte(T.STOP);
  }

  private value(type: number, v: ThriftValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.byte(v ? T.TRUE : T.FALSE);
        return;
      case T.BYTE:
        this.byte(Number(v));
        return;
      case T.I16:
      case T.I32:
      case T.I64:
        this.zigzag(BigInt(v as number | bigint));
        return;
      case T.DOUBLE: {
        this.ensure(8);
        new DataView(this.buf.buffer, this.pos, 8).setFloat64(0, v as number, true);
        this.pos += 8;
        return;
      }
      case T.BINARY: {
        const b = v as Uint8Array;
        this.varint(BigInt(b.length));
        this.ensure(b.length);
        this.buf.set(b, this.pos);
        this.pos += b.length;
        return;
      }
      case T.LIST:
      case T.SET: {
        const l = v as ThriftList;
        if (l.items.length < 15) this.byte((l.items.length << 4) | l.elemType);
        else {
          this.byte(0xf0 | l.elemType);
          this.varint(BigInt(l.items.length));
        }
        for (const item of l.items) this.value(l.elemType, item);
        return;
      }
      case T.MAP: {
        const m = v as ThriftMap;
        this.varint(BigInt(m.entries.length));
        if (m.entries.length > 0) this.byte((m.keyType << 4) | m.valueType);
        for (const [k, val] of m.entries) {
          this.value(m.keyType, k);
          this.value(m.valueType, val);
        }
        return;
      }
      case T.STRUCT:
        this.struct(v as ThriftStruct);
        return;
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }
}
