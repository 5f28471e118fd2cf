/**
 * DuckDB results as JSON-safe rows, for the CLI and the web. (Tables come from the DuckDB seam,
 * duckdb/arrow.ts; a query's Table writes values Arrow has no type for here as `valueText`.)
 *
 * Rows are JSON-safe: BIGINT becomes a number when it is exactly representable, else a decimal string;
 * NaN and ±Infinity become "NaN", "Infinity", "-Infinity"; dates and timestamps become ISO-8601 text
 * (catalog timestamps are UTC); JSON columns are parsed.
 *
 * @example
 * const { columns, rows } = await resultToRows(await con.run('SELECT * FROM catalog'))
 * const text = valueText(structValue, await loadDuckDB())   // '{"a":1}'
 */
import type { DuckDBResult, DuckDBValue } from '@duckdb/node-api';
import { type DuckDBModule, loadDuckDB } from '../duckdb/node-api.js';
import { QueryLimitError } from '../errors.js';

/** A JSON value as rows() returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A result column: name and DuckDB type text. */
export interface ResultColumn {
  name: string;
  type: string;
}

/** The columns of a result, with DuckDB type text (`JSON` for JSON columns). */
export function resultColumns(result: DuckDBResult): ResultColumn[] {
  const names = result.deduplicatedColumnNames();
  return names.map((name, i) => {
    const t = result.columnType(i);
    return { name, type: t.alias ?? t.toString() };
  });
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

/** Receives a result row by row (see visitResultRows). */
export interface RowVisitor {
  /** Called before the first row, and again if the query is run once more (see VaultQuery): start afresh. */
  start(columns: ResultColumn[]): void;
  /** One row's JSON-safe values in column order; the array is reused for the next row. */
  row(values: JsonValue[]): void;
}

/**
 * Hands every row of `result` to `visitor` one chunk at a time, without a row object or array per row: a
 * consumer that serializes rows as they come (the server's catalog of 100,000 runs) holds no copy of the
 * whole result.
 */
export async function visitResultRows(result: DuckDBResult, visitor: RowVisitor): Promise<void> {
  const m = await loadDuckDB();
  const columns = resultColumns(result);
  visitor.start(columns);
  const values: JsonValue[] = columns.map(() => null);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const cols = chunk.getColumns();
    for (let row = 0; row < chunk.rowCount; row++) {
      for (let c = 0; c < columns.length; c++) values[c] = toJsonValue(cols[c]![row]!, m, columns[c]!.type);
      visitor.row(values);
    }
  }
}

/** A value's text in an Arrow Utf8 column of a query result: its JSON-safe form, as JSON unless a string. */
export function valueText(v: DuckDBValue, m: DuckDBModule): string {
  const j = toJsonValue(v, m);
  return typeof j === 'string' ? j : JSON.stringify(j);
}

/** Bounds of `resultToRows`. */
export interface RowLimits {
  /** Most rows (all when undefined). */
  maxRows?: number;
  /** Most bytes of the rows as JSON, approximately (unbounded when undefined). */
  maxBytes?: number;
  /** Deepest nesting of a value (unbounded when undefined); deeper is a QueryLimitError. */
  maxDepth?: number;
}

/**
 * The approximate size in bytes of `v` as JSON, walking it with an explicit stack (a value nested thousands
 * deep must give a clear error, not overflow the call stack). Throws QueryLimitError past `maxDepth`.
 */
export function jsonSize(v: JsonValue, maxDepth = Number.POSITIVE_INFINITY): number {
  let bytes = 0;
  const stack: [JsonValue, number][] = [[v, 0]];
  while (stack.length > 0) {
    const [x, depth] = stack.pop()!;
    if (x === null || typeof x === 'boolean') bytes += 5;
    else if (typeof x === 'number') bytes += 24;
    else if (typeof x === 'string') bytes += x.length + 2;
    else {
      if (depth >= maxDepth)
        throw new QueryLimitError(
          'nesting',
          maxDepth,
          `a result value is nested deeper than ${maxDepth} levels, the most a response carries; select a part of it (json_extract, list slices) instead`,
        );
      if (Array.isArray(x)) {
        bytes += 2 + x.length;
        for (const item of x) stack.push([item, depth + 1]);
      } else {
        for (const [k, item] of Object.entries(x)) {
          bytes += k.length + 4;
          stack.push([item, depth + 1]);
        }
      }
    }
  }
  return bytes;
}

/**
 * Collects a result as JSON-safe row objects, stopping at `maxRows` rows or `maxBytes` bytes (`truncated`
 * tells, `truncatedBy` says which). A single row larger than `maxBytes` is a QueryLimitError.
 */
export async function resultToRows(
  result: DuckDBResult,
  limits: number | RowLimits = {},
): Promise<{
  columns: ResultColumn[];
  rows: Record<string, JsonValue>[];
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
}> {
  const { maxRows, maxBytes, maxDepth } = typeof limits === 'number' ? { maxRows: limits } : limits;
  const m = await loadDuckDB();
  const columns = resultColumns(result);
  const rows: Record<string, JsonValue>[] = [];
  let truncatedBy: 'rows' | 'bytes' | undefined;
  let bytes = 0;
  const measure = maxBytes !== undefined || maxDepth !== undefined;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    for (const values of chunk.getRows()) {
      if (maxRows !== undefined && rows.length >= maxRows) {
        truncatedBy = 'rows';
        break;
      }
      const row: Record<string, JsonValue> = {};
      for (let i = 0; i < columns.length; i++)
        row[columns[i]!.name] = toJsonValue(values[i]!, m, columns[i]!.type);
      if (measure) {
        const size = jsonSize(row, maxDepth);
        if (maxBytes !== undefined && size > maxBytes)
          throw new QueryLimitError(
            'valueBytes',
            maxBytes,
            `one result row is about ${size} bytes, more than the ${maxBytes}-byte result limit; select fewer or shorter columns`,
          );
        if (maxBytes !== undefined && bytes + size > maxBytes) {
          truncatedBy = 'bytes';
          break;
        }
        bytes += size;
      }
      rows.push(row);
    }
    if (truncatedBy) break;
  }
  return truncatedBy ? { columns, rows, truncated: true, truncatedBy } : { columns, rows, truncated: false };
}
