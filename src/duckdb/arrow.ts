/**
 * DuckDB results as apache-arrow Tables: the one converter behind Parquet reads (`readMetrics`,
 * `readAllRuns`) and catalog queries (`VaultQuery.search`). There is no Arrow extension in this DuckDB
 * build, so Tables are assembled here. Fixed-width columns (integers, floats, dates, timestamps) and
 * booleans are copied out of each result chunk's vector in one block (`vector_get_data`) into one typed
 * array per column, validity bits alongside, and Arrow vectors are built over those arrays without another
 * copy; strings, lists and everything else go through DuckDB's value objects. apache-arrow is imported
 * lazily (it costs ~90 ms of start-up).
 *
 * @example
 * const result = await con.stream('SELECT step, loss FROM read_parquet($1)', [file])
 * const table = await resultToArrow(result, { rows: 1000 })
 * table.getChild('loss')?.toArray() // Float64Array
 */
import type { DuckDBResult, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Data, DataType, Field, Float64, Table } from 'apache-arrow';
import { type DuckDBModule, loadDuckDB } from './node-api.js';
import { loadBindings } from './raw.js';

type ArrowModule = typeof import('apache-arrow');
type TypeIds = DuckDBModule['DuckDBTypeId'];
type Fixed =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint32Array
  | Uint16Array
  | Uint8Array;

/** Options of `resultToArrow`. */
export interface ToArrowOptions {
  /**
   * Rows the result will yield, when known: columns are then allocated once at that size. Only a hint
   * (more rows still fit); a materialized result's own row count is used when not given.
   */
  rows?: number;
  /** Column names, in result order (default: the result's, deduplicated). */
  names?: readonly string[];
  /**
   * Text of a value that has no Arrow type here (struct, map, interval, UUID…), for its Utf8 column;
   * default DuckDB's own text form.
   */
  text?: (v: DuckDBValue) => string;
}

/** A DuckDB type copied in bulk: element width, the typed array holding it, its Arrow type. */
interface Bulk {
  width: number;
  array: (n: number) => Fixed;
  arrow: (a: ArrowModule) => DataType;
}

/**
 * Every type copied in bulk, by DuckDBTypeId name; the rest go through value objects. BOOLEAN comes as one
 * byte per value and is packed into bits at the end.
 */
const BULK: Readonly<Record<string, Bulk>> = {
  DOUBLE: { width: 8, array: (n) => new Float64Array(n), arrow: (a) => new a.Float64() },
  FLOAT: { width: 4, array: (n) => new Float32Array(n), arrow: (a) => new a.Float32() },
  BIGINT: { width: 8, array: (n) => new BigInt64Array(n), arrow: (a) => new a.Int64() },
  INTEGER: { width: 4, array: (n) => new Int32Array(n), arrow: (a) => new a.Int32() },
  SMALLINT: { width: 2, array: (n) => new Int16Array(n), arrow: (a) => new a.Int16() },
  TINYINT: { width: 1, array: (n) => new Int8Array(n), arrow: (a) => new a.Int8() },
  UBIGINT: { width: 8, array: (n) => new BigUint64Array(n), arrow: (a) => new a.Uint64() },
  UINTEGER: { width: 4, array: (n) => new Uint32Array(n), arrow: (a) => new a.Uint32() },
  USMALLINT: { width: 2, array: (n) => new Uint16Array(n), arrow: (a) => new a.Uint16() },
  UTINYINT: { width: 1, array: (n) => new Uint8Array(n), arrow: (a) => new a.Uint8() },
  DATE: { width: 4, array: (n) => new Int32Array(n), arrow: (a) => new a.DateDay() },
  TIMESTAMP: { width: 8, array: (n) => new BigInt64Array(n), arrow: (a) => new a.TimestampMicrosecond() },
  TIMESTAMP_TZ: {
    width: 8,
    array: (n) => new BigInt64Array(n),
    arrow: (a) => new a.TimestampMicrosecond('UTC'),
  },
  TIMESTAMP_MS: { width: 8, array: (n) => new BigInt64Array(n), arrow: (a) => new a.TimestampMillisecond() },
  TIMESTAMP_S: { width: 8, array: (n) => new BigInt64Array(n), arrow: (a) => new a.TimestampSecond() },
  TIMESTAMP_NS: { width: 8, array: (n) => new BigInt64Array(n), arrow: (a) => new a.TimestampNanosecond() },
  BOOLEAN: { width: 1, array: (n) => new Uint8Array(n), arrow: (a) => new a.Bool() },
};

function bulkOf(type: DuckDBType, T: TypeIds): Bulk | undefined {
  return BULK[T[type.typeId]];
}

/** Arrow type of a column collected as values: numbers, strings, or lists of those; text otherwise. */
function valueType(a: ArrowModule, type: DuckDBType, T: TypeIds): DataType {
  switch (type.typeId) {
    case T.HUGEINT:
    case T.UHUGEINT:
    case T.DECIMAL:
      return new a.Float64();
    case T.LIST:
    case T.ARRAY: {
      const child = (type as unknown as { valueType: DuckDBType }).valueType;
      const childType = bulkOf(child, T)?.arrow(a) ?? valueType(a, child, T);
      return new a.List(new a.Field('item', childType, true));
    }
    default:
      return new a.Utf8();
  }
}

/** A value as it goes into an Arrow vector built from JS values (lists recurse; odd types become text). */
function arrowValue(
  v: DuckDBValue,
  type: DataType,
  a: ArrowModule,
  text: (v: DuckDBValue) => string,
): unknown {
  if (v === null) return null;
  if (type instanceof a.List) {
    const items = (v as { items?: readonly DuckDBValue[] }).items ?? [];
    const child = type.children[0]!.type;
    return items.map((x) => arrowValue(x, child, a, text));
  }
  if (type instanceof a.Float) {
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    const d = (v as { toDouble?: () => number }).toDouble;
    return typeof d === 'function' ? d.call(v) : Number(String(v));
  }
  if (type instanceof a.Int) return typeof v === 'bigint' ? v : BigInt(v as number);
  if (type instanceof a.Bool) return Boolean(v);
  if (type instanceof a.Date_) return new Date(Number((v as { days: number }).days) * 86_400_000);
  if (type instanceof a.Timestamp) return Number((v as { micros: bigint }).micros / 1000n);
  if (type instanceof a.Utf8) return typeof v === 'string' ? v : text(v);
  return v;
}

/**
 * One bulk-copied column: bytes and validity bits grow by doubling when the row hint was short, so a
 * correct hint means one allocation and no copy.
 */
class BulkColumn {
  private bytes: Uint8Array;
  /** Arrow validity (LSB first, 1 = valid), allocated at the first null. */
  private bitmap: Uint8Array | undefined;
  private capacity: number;
  length = 0;
  nullCount = 0;

  constructor(
    readonly bulk: Bulk,
    capacity: number,
  ) {
    this.capacity = Math.max(capacity, 0);
    this.bytes = new Uint8Array(this.capacity * bulk.width);
  }

  append(data: Uint8Array, validity: Uint8Array | null, n: number): void {
    if (this.length + n > this.capacity) this.grow(this.length + n);
    this.bytes.set(data.subarray(0, n * this.bulk.width), this.length * this.bulk.width);
    if (validity) {
      const nulls = countNulls(validity, n);
      if (nulls > 0) {
        this.bitmap ??= new Uint8Array(Math.ceil(this.capacity / 8)).fill(0xff);
        copyBits(this.bitmap, this.length, validity, n);
        this.nullCount += nulls;
      }
    }
    this.length += n;
  }

  private grow(needed: number): void {
    this.capacity = Math.max(needed, this.capacity * 2);
    const bytes = new Uint8Array(this.capacity * this.bulk.width);
    bytes.set(this.bytes.subarray(0, this.length * this.bulk.width));
    this.bytes = bytes;
    if (this.bitmap) {
      const bitmap = new Uint8Array(Math.ceil(this.capacity / 8)).fill(0xff);
      bitmap.set(this.bitmap);
      this.bitmap = bitmap;
    }
  }

  toData(a: ArrowModule, type: DataType): Data {
    const n = this.length;
    const nullBitmap = this.nullCount > 0 ? this.bitmap!.subarray(0, Math.ceil(n / 8)) : undefined;
    if (type instanceof a.Bool)
      return a.makeData({
        type,
        length: n,
        nullCount: this.nullCount,
        nullBitmap,
        data: packBits(this.bytes, n),
      });
    const ctor = this.bulk.array(0).constructor as new (
      b: ArrayBufferLike,
      offset: number,
      length: number,
    ) => Fixed;
    // makeData's overloads are keyed on the concrete type; every fixed-width type builds the same Data.
    return a.makeData({
      type: type as Float64,
      length: n,
      nullCount: this.nullCount,
      nullBitmap,
      data: new ctor(this.bytes.buffer, 0, n) as unknown as Float64Array,
    });
  }
}

/** Reads every chunk of `result` into one apache-arrow Table (see the module comment). */
export async function resultToArrow(result: DuckDBResult, options: ToArrowOptions = {}): Promise<Table> {
  const a = await import('apache-arrow');
  const { DuckDBTypeId: T } = await loadDuckDB();
  const duckdb = await loadBindings();
  const text = options.text ?? String;
  const names = options.names ?? result.deduplicatedColumnNames();
  const types = result.columnTypes();
  const hint = options.rows ?? ('rowCount' in result ? Number(result.rowCount) : 0);
  const bulks = types.map((t) => bulkOf(t, T));
  const arrowTypes = types.map((t, i) => bulks[i]?.arrow(a) ?? valueType(a, t, T));
  const columns = bulks.map((b) => (b ? new BulkColumn(b, hint) : undefined));
  const values: unknown[][] = types.map(() => []);
  let total = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    for (let ci = 0; ci < types.length; ci++) {
      const column = columns[ci];
      if (!column) {
        const vec = chunk.getColumnVector(ci);
        const out = values[ci]!;
        const at = arrowTypes[ci]!;
        for (let j = 0; j < n; j++) out.push(arrowValue(vec.getItem(j), at, a, text));
        continue;
      }
      const vec = duckdb.data_chunk_get_vector(chunk.chunk, ci);
      const validity = duckdb.vector_get_validity(vec, Math.ceil(n / 64) * 8);
      column.append(duckdb.vector_get_data(vec, n * column.bulk.width), validity, n);
    }
    total += n;
  }
  const fields: Field[] = [];
  const children: Data[] = [];
  for (let ci = 0; ci < types.length; ci++) {
    const type = arrowTypes[ci]!;
    fields.push(new a.Field(names[ci]!, type, true));
    const column = columns[ci];
    children.push(
      column
        ? column.toData(a, type)
        : (a.vectorFromArray(values[ci]!, type).data[0] ?? a.makeData({ type: type as Float64, length: 0 })),
    );
  }
  const schema = new a.Schema(fields);
  const struct = a.makeData({ type: new a.Struct(fields), length: total, nullCount: 0, children });
  return new a.Table([new a.RecordBatch(schema, struct)]);
}

/** Number of zero bits among the first `n` of a DuckDB validity mask. */
function countNulls(validity: Uint8Array, n: number): number {
  let nulls = 0;
  const full = n >> 3;
  for (let b = 0; b < full; b++) {
    const byte = validity[b]!;
    if (byte !== 0xff) nulls += 8 - popcount8(byte);
  }
  for (let j = full << 3; j < n; j++) if ((validity[j >> 3]! & (1 << (j & 7))) === 0) nulls++;
  return nulls;
}

function popcount8(b: number): number {
  b = b - ((b >> 1) & 0x55);
  b = (b & 0x33) + ((b >> 2) & 0x33);
  return (b + (b >> 4)) & 0x0f;
}

/** Copies `n` validity bits to `target` starting at bit `at` (both LSB-first, 1 = valid). */
function copyBits(target: Uint8Array, at: number, src: Uint8Array, n: number): void {
  if ((at & 7) === 0) {
    const full = n >> 3;
    target.set(src.subarray(0, full), at >> 3);
    for (let j = full << 3; j < n; j++) setBit(target, at + j, (src[j >> 3]! & (1 << (j & 7))) !== 0);
    return;
  }
  for (let j = 0; j < n; j++) setBit(target, at + j, (src[j >> 3]! & (1 << (j & 7))) !== 0);
}

function setBit(target: Uint8Array, bit: number, on: boolean): void {
  const i = bit >> 3;
  const mask = 1 << (bit & 7);
  target[i] = on ? target[i]! | mask : target[i]! & ~mask;
}

/** Arrow's bit-packed booleans from DuckDB's one byte per value. */
function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let j = 0; j < n; j++) if (bytes[j]) out[j >> 3] = out[j >> 3]! | (1 << (j & 7));
  return out;
}
