/**
 * The Parquet footer with its fields named once. `thrift-compact.ts` decodes `FileMetaData` into numbered
 * fields; the views here give those numbers the names of parquet.thrift (`FileMetaData.num_rows` is field
 * 3, `RowGroup.file_offset` field 5, …) so that no other file reads a raw field number. The views wrap the
 * decoded structs rather than copying them out: a change through a view is a change to the struct, and
 * fields the views do not name survive encoding byte for byte.
 *
 * @example
 * const { meta } = await readParquetFooter('metrics.parquet')
 * meta.numRows                                  // 1000n
 * meta.schema.slice(1).map((el) => el.name)     // ['step', 'loss', 'run_id']
 * meta.rowGroups[0]?.columns[0]?.metaData?.offset('data_page_offset')
 */
import fsp from 'node:fs/promises';
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

/** Field ids of parquet.thrift, by struct; only the fields this library reads or writes. */
const FILE_METADATA = {
  schema: 2,
  num_rows: 3,
  row_groups: 4,
  encryption_algorithm: 8,
  footer_signing_key_metadata: 9,
} as const;
const ROW_GROUP = { columns: 1, num_rows: 3, file_offset: 5, ordinal: 7 } as const;
const COLUMN_CHUNK = {
  file_path: 1,
  file_offset: 2,
  meta_data: 3,
  offset_index_offset: 4,
  offset_index_length: 5,
  column_index_offset: 6,
  column_index_length: 7,
  crypto_metadata: 8,
  encrypted_column_metadata: 9,
} as const;
const COLUMN_METADATA = {
  data_page_offset: 9,
  index_page_offset: 10,
  dictionary_page_offset: 11,
  bloom_filter_offset: 14,
} as const;
const SCHEMA_ELEMENT = { type: 1, name: 4, num_children: 5, converted_type: 6, logicalType: 10 } as const;

/** `Type`: physical types of parquet.thrift. */
export const PhysicalType = {
  BOOLEAN: 0,
  INT32: 1,
  INT64: 2,
  INT96: 3,
  FLOAT: 4,
  DOUBLE: 5,
  BYTE_ARRAY: 6,
  FIXED_LEN_BYTE_ARRAY: 7,
} as const;

/** `ConvertedType` of parquet.thrift (the legacy annotations, still what most readers look at). */
export const ConvertedType = {
  UTF8: 0,
  MAP: 1,
  MAP_KEY_VALUE: 2,
  LIST: 3,
  ENUM: 4,
  DECIMAL: 5,
  DATE: 6,
  TIME_MILLIS: 7,
  TIME_MICROS: 8,
  TIMESTAMP_MILLIS: 9,
  TIMESTAMP_MICROS: 10,
  UINT_8: 11,
  UINT_16: 12,
  UINT_32: 13,
  UINT_64: 14,
  INT_8: 15,
  INT_16: 16,
  INT_32: 17,
  INT_64: 18,
  JSON: 19,
  BSON: 20,
  INTERVAL: 21,
} as const;

const utf8 = new TextDecoder();

/** Typed reads and writes of one decoded struct's fields. */
class StructView {
  constructor(
    /** The decoded struct this view reads and changes. */
    readonly struct: ThriftStruct,
  ) {}

  protected has(id: number): boolean {
    return getField(this.struct, id) !== undefined;
  }

  protected i64(id: number): bigint | undefined {
    const v = getField(this.struct, id)?.value;
    return typeof v === 'bigint' ? v : undefined;
  }

  protected int(id: number): number | undefined {
    const v = getField(this.struct, id)?.value;
    return typeof v === 'number' ? v : undefined;
  }

  protected structs(id: number): ThriftStruct[] {
    return ((getField(this.struct, id)?.value as ThriftList | undefined)?.items ?? []) as ThriftStruct[];
  }

  protected struct_(id: number): ThriftStruct | undefined {
    const v = getField(this.struct, id)?.value;
    return typeof v === 'object' && 'kind' in v && v.kind === 'struct' ? v : undefined;
  }

  /** Sets an i64 field; `undefined` leaves an absent field absent (offsets are only moved, never added). */
  protected setI64(id: number, v: bigint | undefined): void {
    if (v !== undefined) setField(this.struct, id, T.I64, v);
  }

  protected remove(id: number): void {
    deleteField(this.struct, id);
  }
}

/** `FileMetaData`: the footer's root struct. */
export class FileMetaData extends StructView {
  /** The flattened schema tree, root first (`schema`); empty when absent. */
  get schema(): SchemaElement[] {
    return this.structs(FILE_METADATA.schema).map((s) => new SchemaElement(s));
  }

  /** The `schema` field as encoded, for comparing two files' schemas byte for byte. */
  get schemaBytes(): Uint8Array {
    const field = getField(this.struct, FILE_METADATA.schema);
    return field ? encodeStruct({ kind: 'struct', fields: [field] }) : new Uint8Array();
  }

  /** `num_rows`, undefined when absent or not an i64. */
  get numRows(): bigint | undefined {
    return this.i64(FILE_METADATA.num_rows);
  }

  set numRows(n: bigint) {
    setField(this.struct, FILE_METADATA.num_rows, T.I64, n);
  }

  /** `row_groups`, in file order. */
  get rowGroups(): RowGroup[] {
    return this.structs(FILE_METADATA.row_groups).map((s) => new RowGroup(s));
  }

  set rowGroups(groups: readonly RowGroup[]) {
    setField(this.struct, FILE_METADATA.row_groups, T.LIST, {
      kind: 'list',
      elemType: T.STRUCT,
      items: groups.map((g) => g.struct),
    });
  }

  /** True for an encrypted footer (`encryption_algorithm` or `footer_signing_key_metadata` present). */
  get encrypted(): boolean {
    return (
      this.has(FILE_METADATA.encryption_algorithm) || this.has(FILE_METADATA.footer_signing_key_metadata)
    );
  }

  /** A copy whose top-level fields can be set without changing this one (nested structs are shared). */
  copy(): FileMetaData {
    return new FileMetaData({ kind: 'struct', fields: this.struct.fields.map((f) => ({ ...f })) });
  }

  /** The footer's Thrift bytes (without length and magic). */
  encode(): Uint8Array {
    return encodeStruct(this.struct);
  }
}

/** `RowGroup`. */
export class RowGroup extends StructView {
  /** `columns`: one chunk per leaf column. */
  get columns(): ColumnChunk[] {
    return this.structs(ROW_GROUP.columns).map((s) => new ColumnChunk(s));
  }

  /** `num_rows`. */
  get numRows(): bigint | undefined {
    return this.i64(ROW_GROUP.num_rows);
  }

  /** `file_offset` (optional): where the row group's first page starts. */
  get fileOffset(): bigint | undefined {
    return this.i64(ROW_GROUP.file_offset);
  }

  set fileOffset(v: bigint | undefined) {
    this.setI64(ROW_GROUP.file_offset, v);
  }

  /** `ordinal` (optional, an i16): the row group's position in the file; `undefined` removes it. */
  get ordinal(): number | undefined {
    return this.int(ROW_GROUP.ordinal);
  }

  set ordinal(v: number | undefined) {
    if (v === undefined) this.remove(ROW_GROUP.ordinal);
    else setField(this.struct, ROW_GROUP.ordinal, T.I16, v);
  }
}

/** `ColumnChunk`. */
export class ColumnChunk extends StructView {
  /** True when the chunk's data lives in another file (`file_path` present). */
  get external(): boolean {
    return this.has(COLUMN_CHUNK.file_path);
  }

  /** True for an encrypted column (`crypto_metadata` or `encrypted_column_metadata` present). */
  get encrypted(): boolean {
    return this.has(COLUMN_CHUNK.crypto_metadata) || this.has(COLUMN_CHUNK.encrypted_column_metadata);
  }

  /** `file_offset` (deprecated; 0 from most writers). */
  get fileOffset(): bigint | undefined {
    return this.i64(COLUMN_CHUNK.file_offset);
  }

  set fileOffset(v: bigint | undefined) {
    this.setI64(COLUMN_CHUNK.file_offset, v);
  }

  /** `meta_data`, when present. */
  get metaData(): ColumnMetaData | undefined {
    const s = this.struct_(COLUMN_CHUNK.meta_data);
    return s ? new ColumnMetaData(s) : undefined;
  }

  /** Removes the page index locations (`offset_index_*`, `column_index_*`). */
  removePageIndexes(): void {
    for (const id of [
      COLUMN_CHUNK.offset_index_offset,
      COLUMN_CHUNK.offset_index_length,
      COLUMN_CHUNK.column_index_offset,
      COLUMN_CHUNK.column_index_length,
    ])
      this.remove(id);
  }
}

/** The fields of `ColumnMetaData` that hold absolute file offsets. */
export type ColumnOffset = keyof typeof COLUMN_METADATA;

/** `ColumnMetaData`: here, the absolute file offsets of a column chunk's pages. */
export class ColumnMetaData extends StructView {
  /** Every offset field: data_page_offset, index_page_offset, dictionary_page_offset, bloom_filter_offset. */
  static readonly OFFSETS = Object.keys(COLUMN_METADATA) as ColumnOffset[];

  /** The offset field `name`, undefined when absent. */
  offset(name: ColumnOffset): bigint | undefined {
    return this.i64(COLUMN_METADATA[name]);
  }

  /** Sets the offset field `name` (`undefined` leaves an absent one absent). */
  setOffset(name: ColumnOffset, v: bigint | undefined): void {
    this.setI64(COLUMN_METADATA[name], v);
  }
}

/** `SchemaElement`: one node of the flattened schema tree. */
export class SchemaElement extends StructView {
  /** `name`, decoded as UTF-8. */
  get name(): string | undefined {
    const v = getField(this.struct, SCHEMA_ELEMENT.name)?.value;
    return v instanceof Uint8Array ? utf8.decode(v) : undefined;
  }

  /** `type`: the physical type (see PhysicalType); absent on group nodes. */
  get type(): number | undefined {
    return this.int(SCHEMA_ELEMENT.type);
  }

  /** `num_children`: present on group nodes (the root included). */
  get numChildren(): number | undefined {
    return this.int(SCHEMA_ELEMENT.num_children);
  }

  /** `converted_type` (see ConvertedType). */
  get convertedType(): number | undefined {
    return this.int(SCHEMA_ELEMENT.converted_type);
  }

  /** True when a `logicalType` annotation is present. */
  get hasLogicalType(): boolean {
    return this.has(SCHEMA_ELEMENT.logicalType);
  }
}

/** The footer's `FileMetaData` from its Thrift bytes. */
export function decodeFooter(bytes: Uint8Array): FileMetaData {
  return new FileMetaData(decodeStruct(bytes).value);
}

/** `PAR1`, which opens and closes every Parquet file. */
export const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

/** A Parquet file's decoded footer and where its row-group data ends. */
export interface ParquetFooter {
  /** The decoded `FileMetaData`. */
  meta: FileMetaData;
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
    return { meta: decodeFooter(footer), dataEnd, size };
  } finally {
    await fh.close();
  }
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
