/**
 * DuckDB results as apache-arrow Tables and as JSON-safe rows. There is no Arrow extension in this DuckDB
 * build, so Tables are assembled here: fixed-width columns (integers, floats, dates, timestamps) are copied
 * out of each result chunk's vector in one block (`vector_get_data`) into one typed array per column, with
 * validity bits alongside; strings, lists and everything else go through DuckDB's value objects.
 *
 * Rows for the CLI and the web are JSON-safe: BIGINT becomes a number when it is exactly representable,
 * else a decimal string; NaN and ±Infinity become "NaN", "Infinity", "-Infinity"; dates and timestamps
 * become ISO-8601 text (catalog timestamps are UTC); JSON columns are parsed.
 *
 * @example
 * const result = await con.run('SELECT * FROM runs')
 * const table = await resultToArrow(result)       // apache-arrow Table
 * const rows = await resultToRows(await con.run('SELECT * FROM catalog'))
 */
import type { DuckDBMaterializedResult, DuckDBType, DuckDBValue } from '@duckdb/node-api';
import type { Data, DataType, Field, Float64, Table } from 'apache-arrow';
import { type DuckDBModule, loadDuckDB } from '../duckdb/node-api.js';
import { loadBindings } from '../duckdb/raw.js';

type ArrowModule = typeof import('apache-arrow');
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

/** A JSON value as rows() returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A result column: name and DuckDB type text. */
export interface ResultColumn {
  name: string;
  type: string;
}

/** How one column is collected. */
interface Plan {
  kind: 'fixed' | 'bool' | 'value';
  width: number;
  makeArray: (n: number) => Fixed;
  makeType: (a: ArrowModule) => DataType;
}

function planFor(type: DuckDBType, T: typeof import('@duckdb/node-api').DuckDBTypeId): Plan {
  const fixed = (width: number, makeArray: Plan['makeArray'], makeType: Plan['makeType']): Plan => ({
    kind: 'fixed',
    width,
    makeArray,
    makeType,
  });
  switch (type.typeId) {
    case T.DOUBLE:
      return fixed(
        8,
        (n) => new Float64Array(n),
        (a) => new a.Float64(),
      );
    case T.FLOAT:
      return fixed(
        4,
        (n) => new Float32Array(n),
        (a) => new a.Float32(),
      );
    case T.BIGINT:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.Int64(),
      );
    case T.INTEGER:
      return fixed(
        4,
        (n) => new Int32Array(n),
        (a) => new a.Int32(),
      );
    case T.SMALLINT:
      return fixed(
        2,
        (n) => new Int16Array(n),
        (a) => new a.Int16(),
      );
    case T.TINYINT:
      return fixed(
        1,
        (n) => new Int8Array(n),
        (a) => new a.Int8(),
      );
    case T.UBIGINT:
      return fixed(
        8,
        (n) => new BigUint64Array(n),
        (a) => new a.Uint64(),
      );
    case T.UINTEGER:
      return fixed(
        4,
        (n) => new Uint32Array(n),
        (a) => new a.Uint32(),
      );
    case T.USMALLINT:
      return fixed(
        2,
        (n) => new Uint16Array(n),
        (a) => new a.Uint16(),
      );
    case T.UTINYINT:
      return fixed(
        1,
        (n) => new Uint8Array(n),
        (a) => new a.Uint8(),
      );
    case T.DATE:
      return fixed(
        4,
        (n) => new Int32Array(n),
        (a) => new a.DateDay(),
      );
    case T.TIMESTAMP:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.TimestampMicrosecond(),
      );
    case T.TIMESTAMP_TZ:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.TimestampMicrosecond('UTC'),
      );
    case T.TIMESTAMP_MS:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.TimestampMillisecond(),
      );
    case T.TIMESTAMP_S:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.TimestampSecond(),
      );
    case T.TIMESTAMP_NS:
      return fixed(
        8,
        (n) => new BigInt64Array(n),
        (a) => new a.TimestampNanosecond(),
      );
    case T.BOOLEAN:
      return { kind: 'bool', width: 1, makeArray: (n) => new Uint8Array(n), makeType: (a) => new a.Bool() };
    default:
      return {
        kind: 'value',
        width: 0,
        makeArray: () => new Uint8Array(0),
        makeType: (a) => valueType(a, type, T),
      };
  }
}

/** Arrow type of a column collected as values: numbers, strings, or lists of those; text otherwise. */
function valueType(
  a: ArrowModule,
  type: DuckDBType,
  T: typeof import('@duckdb/node-api').DuckDBTypeId,
): DataType {
  switch (type.typeId) {
    case T.HUGEINT:
    case T.UHUGEINT:
    case T.DECIMAL:
      return new a.Float64();
    case T.LIST:
    case T.ARRAY: {
      const child = (type as unknown as { valueType: DuckDBType }).valueType;
      const inner = planFor(child, T);
      const childType = inner.kind === 'value' ? valueType(a, child, T) : inner.makeType(a);
      return new a.List(new a.Field('item', childType, true));
    }
    default:
      return new a.Utf8();
  }
}

/** A value as it goes into an Arrow vector built from JS values (lists recurse; odd types become text). */
function arrowValue(v: DuckDBValue, type: DataType, a: ArrowModule, m: DuckDBModule): unknown {
  if (v === null) return null;
  if (type instanceof a.List) {
    const items = (v as { items?: readonly DuckDBValue[] }).items ?? [];
    const child = type.children[0]!.type;
    return items.map((x) => arrowValue(x, child, a, m));
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
  if (type instanceof a.Utf8) {
    if (typeof v === 'string') return v;
    const j = toJsonValue(v, m);
    return typeof j === 'string' ? j : JSON.stringify(j);
  }
  return v;
}

/** The columns of a result, with DuckDB type text (`JSON` for JSON columns). */
export function resultColumns(result: DuckDBMaterializedResult): ResultColumn[] {
  const names = result.deduplicatedColumnNames();
  return names.map((name, i) => {
    const t = result.columnType(i);
    return { name, type: t.alias ?? t.toString() };
  });
}

/** Collects a materialized result into one apache-arrow Table. */
export async function resultToArrow(result: DuckDBMaterializedResult): Promise<Table> {
  const a = await import('apache-arrow');
  const m = await loadDuckDB();
  const T = m.DuckDBTypeId;
  const duckdb = await loadBindings();
  const names = result.deduplicatedColumnNames();
  const types = result.columnTypes();
  const plans = types.map((t) => planFor(t, T));
  const arrowTypes = plans.map((p) => p.makeType(a));
  const fixedParts: Uint8Array[][] = plans.map(() => []);
  const validityParts: { bits: Uint8Array | null; n: number }[][] = plans.map(() => []);
  const values: unknown[][] = plans.map(() => []);
  let total = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    for (let ci = 0; ci < plans.length; ci++) {
      const plan = plans[ci]!;
      if (plan.kind === 'value') {
        const vec = chunk.getColumnVector(ci);
        const out = values[ci]!;
        const at = arrowTypes[ci]!;
        for (let j = 0; j < n; j++) out.push(arrowValue(vec.getItem(j), at, a, m));
        continue;
      }
      const vec = duckdb.data_chunk_get_vector(chunk.chunk, ci);
      // Copies: the chunk's memory is released with the chunk.
      fixedParts[ci]!.push(new Uint8Array(duckdb.vector_get_data(vec, n * plan.width)));
      const validity = duckdb.vector_get_validity(vec, Math.ceil(n / 64) * 8);
      validityParts[ci]!.push({ bits: validity ? new Uint8Array(validity) : null, n });
    }
    total += n;
  }
  const fields: Field[] = [];
  const children: Data[] = [];
  for (let ci = 0; ci < plans.length; ci++) {
    const plan = plans[ci]!;
    const type = arrowTypes[ci]!;
    fields.push(new a.Field(names[ci]!, type, true));
    if (plan.kind === 'value') {
      children.push(
        a.vectorFromArray(values[ci]!, type).data[0] ?? a.makeData({ type: type as Float64, length: 0 }),
      );
      continue;
    }
    const bytes = new Uint8Array(total * plan.width);
    let off = 0;
    for (const part of fixedParts[ci]!) {
      bytes.set(part, off);
      off += part.length;
    }
    const { bitmap, nullCount } = mergeValidity(validityParts[ci]!, total);
    if (plan.kind === 'bool') {
      children.push(
        a.makeData({
          type: new a.Bool(),
          length: total,
          nullCount,
          nullBitmap: bitmap,
          data: packBits(bytes, total),
        }),
      );
    } else {
      const arr = plan.makeArray(0);
      const typed = new (arr.constructor as new (b: ArrayBuffer) => Fixed)(bytes.buffer);
      // makeData's overloads are keyed on the concrete type; every fixed-width type builds the same Data.
      children.push(
        a.makeData({
          type: type as Float64,
          length: total,
          nullCount,
          nullBitmap: bitmap,
          data: typed as unknown as Float64Array,
        }),
      );
    }
  }
  const schema = new a.Schema(fields);
  const struct = a.makeData({ type: new a.Struct(fields), length: total, nullCount: 0, children });
  return new a.Table([new a.RecordBatch(schema, struct)]);
}

/** One Arrow validity bitmap (LSB first, 1 = valid) from DuckDB's per-chunk masks; none when nothing is null. */
function mergeValidity(
  parts: { bits: Uint8Array | null; n: number }[],
  total: number,
): {
  bitmap: Uint8Array | undefined;
  nullCount: number;
} {
  let nullCount = 0;
  let bitmap: Uint8Array | undefined;
  let at = 0;
  for (const { bits, n } of parts) {
    if (bits) {
      for (let j = 0; j < n; j++) {
        if ((bits[j >> 3]! & (1 << (j & 7))) === 0) {
          if (!bitmap) bitmap = new Uint8Array(Math.ceil(total / 8)).fill(0xff);
          const k = at + j;
          bitmap[k >> 3] = bitmap[k >> 3]! & ~(1 << (k & 7));
          nullCount++;
        }
      }
    }
    at += n;
  }
  return { bitmap, nullCount };
}

/** Arrow's bit-packed booleans from DuckDB's one byte per value. */
function packBits(bytes: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  for (let j = 0; j < n; j++) if (bytes[j]) out[j >> 3] = out[j >> 3]! | (1 << (j & 7));
  return out;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** ISO-8601 text of microseconds since the epoch (`…Z`, microseconds shown when not whole milliseconds). */
function isoFromMicros(micros: bigint): string {
  const ms = micros / 1000n;
  const rest = Number(((micros % 1000n) + 1000n) % 1000n);
  const iso = new Date(Number(ms) - (rest !== 0 && micros < 0n ? 1 : 0)).toISOString();
  return rest === 0 ? iso : `${iso.slice(0, -1)}${pad(rest, 3)}Z`;
}

function isoDate(days: number): string {
  const d = new Date(days * 86_400_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}

/**
 * A DuckDB value as JSON-safe data (see the module comment). `type` is the column's DuckDB type text when
 * known (`JSON` columns are parsed). `m` is the loaded `@duckdb/node-api` module, for its value classes.
 */
export function toJsonValue(v: DuckDBValue, m: DuckDBModule, type?: string): JsonValue {
  if (v === null) return null;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : String(v);
    case 'bigint':
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
        ? Number(v)
        : v.toString();
    case 'string':
      if (type === 'JSON') {
        try {
          return JSON.parse(v) as JsonValue;
        } catch {
          return v;
        }
      }
      return v;
  }
  const js = (x: DuckDBValue) => toJsonValue(x, m);
  if (v instanceof m.DuckDBTimestampValue || v instanceof m.DuckDBTimestampTZValue)
    return v.isFinite ? isoFromMicros(v.micros) : String(v);
  if (v instanceof m.DuckDBTimestampMillisecondsValue)
    return v.isFinite ? isoFromMicros(v.millis * 1000n) : String(v);
  if (v instanceof m.DuckDBTimestampSecondsValue)
    return v.isFinite ? isoFromMicros(v.seconds * 1_000_000n) : String(v);
  if (v instanceof m.DuckDBDateValue) return v.isFinite ? isoDate(v.days) : String(v);
  if (v instanceof m.DuckDBListValue || v instanceof m.DuckDBArrayValue) return v.items.map(js);
  if (v instanceof m.DuckDBStructValue)
    return Object.fromEntries(Object.entries(v.entries).map(([k, x]) => [k, js(x)]));
  if (v instanceof m.DuckDBMapValue) {
    // An object when every key is a string, else [key, value] pairs.
    if (v.entries.every((e) => typeof e.key === 'string'))
      return Object.fromEntries(v.entries.map((e) => [e.key as string, js(e.value)]));
    return v.entries.map((e) => [js(e.key), js(e.value)]);
  }
  if (v instanceof m.DuckDBDecimalValue) return js(v.toDouble());
  if (v instanceof m.DuckDBBlobValue) return Buffer.from(v.bytes).toString('base64');
  if (v instanceof m.DuckDBUnionValue) return { [v.tag]: js(v.value) };
  // Time, interval, UUID, bit strings…: DuckDB's own text form.
  return String(v);
}

/** Collects a materialized result as JSON-safe row objects, at most `maxRows` (all when undefined). */
export async function resultToRows(
  result: DuckDBMaterializedResult,
  maxRows?: number,
): Promise<{ columns: ResultColumn[]; rows: Record<string, JsonValue>[]; truncated: boolean }> {
  const m = await loadDuckDB();
  const columns = resultColumns(result);
  const rows: Record<string, JsonValue>[] = [];
  let truncated = false;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const values of chunk.getRows()) {
      if (maxRows !== undefined && rows.length >= maxRows) {
        truncated = true;
        break;
      }
      const row: Record<string, JsonValue> = {};
      for (let i = 0; i < columns.length; i++)
        row[columns[i]!.name] = toJsonValue(values[i]!, m, columns[i]!.type);
      rows.push(row);
    }
    if (truncated) break;
  }
  return { columns, rows, truncated };
}
