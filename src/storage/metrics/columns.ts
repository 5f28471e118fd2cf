/**
 * Column buffers for metrics: values go straight into typed arrays, the schema is inferred as they arrive
 * and widened when needed. Integers are BIGINT until a non-integer number shows up (then DOUBLE: earlier
 * values are exact because integer columns are kept as doubles while every value is a safe integer),
 * booleans are BOOLEAN, strings VARCHAR; a column mixing strings, numbers and booleans is an error.
 * Missing keys and null/undefined become nulls; NaN and ±Infinity are values, distinct from null.
 *
 * @example
 * const buf = new RowBuffer(1024)
 * buf.append({ step: 0, loss: 0.9 })
 * buf.append({ step: 1, loss: 0.7, lr: 1e-3 }) // lr is null in row 0
 * const batch = buf.take() // { rows: 2, columns: [...] } ready for writeColumnsParquet
 */

import { MetricsSchemaError } from '../../errors.js';
import type { ColumnData, MetricsType, StorageKind } from '../../parquet/write-columns.js';

/** A value a metrics cell may hold. */
export type MetricsValue = number | bigint | boolean | string | null | undefined;

// Column kinds. INT keeps safe integers in a Float64Array (no BigInt allocation per value); INT64 is used
// once a bigint value arrives.
const UNSET = 0;
const INT = 1;
const INT64 = 2;
const DOUBLE = 3;
const BOOL = 4;
const STR = 5;

const KIND_NAMES = ['null', 'integers', 'bigints', 'numbers', 'booleans', 'strings'] as const;
const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;
const EMPTY_F64 = new Float64Array(0);
const EMPTY_I64 = new BigInt64Array(0);
const EMPTY_U8 = new Uint8Array(0);

/** Allocates a zero-length-or-more buffer of `bytes`; the writer passes one that recycles old buffers. */
export type Allocate = (bytes: number) => ArrayBuffer;

const defaultAllocate: Allocate = (bytes) => new ArrayBuffer(bytes);

/** Is `v` a number that a BIGINT column holds exactly? (-0 is a float: BIGINT would drop its sign.) */
export function isIntegral(v: number): boolean {
  return Number.isSafeInteger(v) && (v !== 0 || 1 / v > 0);
}

/** The column both writers add to every file from the run. */
const RUN_ID = 'run_id';

/**
 * The MetricsSchemaError for a value that is not a cell (an object, an array, a function…): it names the
 * column and what was logged, and says what to log instead.
 */
function notAScalar(name: string, v: unknown): MetricsSchemaError {
  const fix = (got: string, instead: string) =>
    new MetricsSchemaError(
      `metrics: column ${JSON.stringify(name)} got ${got}, but a value must be a number, bigint, boolean, ` +
        `string or null; ${instead}`,
      name,
    );
  if (typeof v === 'function') return fix('a function', 'log the value it returns');
  if (typeof v === 'symbol') return fix('a symbol', 'log a string instead');
  if (Array.isArray(v) || ArrayBuffer.isView(v)) {
    const what = Array.isArray(v) ? `an array of ${v.length}` : `a ${v.constructor.name}`;
    return fix(what, 'log one column per element, or save it as a tensor with writeTensors()');
  }
  if (v instanceof Date) return fix('a Date', 'log date.getTime() or date.toISOString()');
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto !== null && proto !== Object.prototype) {
    return fix(
      `a ${proto.constructor?.name ?? 'object'}`,
      'log its numbers or strings as columns of their own',
    );
  }
  const first = Object.keys(v as object)[0] ?? 'x';
  return fix(
    'an object',
    `log each field as a column of its own, e.g. ${JSON.stringify(`${name}.${first}`)}`,
  );
}

/** Lower-cases ASCII letters only, as DuckDB does when it matches identifiers. */
function foldCase(name: string): string {
  return name.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

/**
 * Throws MetricsSchemaError for a column name that cannot be written: empty, holding a NUL (DuckDB cannot
 * name such a column), or `clash`, an existing column's name that differs only in case: DuckDB, and with it
 * the catalog, reads such names as one and would rename the second column silently.
 */
export function assertColumnName(name: string, clash?: string): void {
  if (name === '')
    throw new MetricsSchemaError('metrics: a column name is empty; give every value a name', name);
  if (name.includes('\0')) {
    throw new MetricsSchemaError(
      `metrics: column name ${JSON.stringify(name)} contains a NUL character; remove it`,
      name,
    );
  }
  if (clash !== undefined) {
    throw new MetricsSchemaError(
      `metrics: column ${JSON.stringify(name)} differs from column ${JSON.stringify(clash)} only in case, ` +
        'which DuckDB reads as the same name; spell it one way',
      name,
    );
  }
}

/**
 * The name among `taken` (keyed by folded case) that `name` would clash with, if any; `run_id`, which the
 * writers add themselves, is always taken.
 */
export function caseClash(name: string, taken: ReadonlyMap<string, string>): string | undefined {
  const folded = foldCase(name);
  const other = taken.get(folded) ?? (folded === RUN_ID ? RUN_ID : undefined);
  return other === name ? undefined : other;
}

/** Throws MetricsSchemaError for the first column name among `names` that cannot be written together. */
export function assertColumnNames(names: Iterable<string>): void {
  const taken = new Map<string, string>();
  for (const name of names) {
    assertColumnName(name, caseClash(name, taken));
    taken.set(foldCase(name), name);
  }
}

/** One column's buffer for the current batch plus its kind, which persists across batches. */
export class Column {
  kind = UNSET;
  f64: Float64Array = EMPTY_F64;
  i64: BigInt64Array = EMPTY_I64;
  u8: Uint8Array = EMPTY_U8;
  str: (string | null)[] = [];
  /** One byte per row, 1 = null; empty until the batch has a null in this column. */
  nulls: Uint8Array = EMPTY_U8;
  /** Row index of the last value written in this batch (-1: none); rows between are null. */
  last = -1;
  /** `last` before the current row, to undo a rejected row. */
  prev = -1;

  constructor(
    readonly name: string,
    private capacity: number,
    private readonly allocate: Allocate,
  ) {}

  /** Enlarges the batch's buffers to `capacity` rows, keeping the rows stored so far. */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    const n = capacity;
    if (this.f64.length > 0) {
      const f64 = new Float64Array(this.allocate(n * 8), 0, n);
      f64.set(this.f64);
      this.f64 = f64;
    }
    if (this.i64.length > 0) {
      const i64 = new BigInt64Array(this.allocate(n * 8), 0, n);
      i64.set(this.i64);
      this.i64 = i64;
    }
    if (this.u8.length > 0) {
      const u8 = new Uint8Array(this.allocate(n), 0, n);
      u8.set(this.u8);
      this.u8 = u8;
    }
    if (this.kind === STR) for (let i = this.str.length; i < n; i++) this.str.push(null);
    if (this.nulls.length > 0) {
      const nulls = new Uint8Array(this.allocate(n), 0, n).fill(0);
      nulls.set(this.nulls);
      this.nulls = nulls;
    }
    this.capacity = capacity;
  }

  /** Stores any value at row `i` (the general path; RowBuffer.append inlines the common number cases). */
  set(i: number, v: unknown): void {
    if (v === null || v === undefined) {
      this.setNull(i);
      return;
    }
    switch (typeof v) {
      case 'number':
        this.setNumber(i, v);
        return;
      case 'bigint':
        this.setBigInt(i, v);
        return;
      case 'boolean':
        if (this.kind === UNSET) this.become(BOOL);
        else if (this.kind !== BOOL) throw this.mixed('booleans', v);
        this.u8[i] = v ? 1 : 0;
        return;
      case 'string':
        if (this.kind === UNSET) this.become(STR);
        else if (this.kind !== STR) throw this.mixed('strings', v);
        this.str[i] = v;
        return;
      default:
        throw notAScalar(this.name, v);
    }
  }

  setNumber(i: number, v: number): void {
    switch (this.kind) {
      case DOUBLE:
        this.f64[i] = v;
        return;
      case INT:
        if (!isIntegral(v)) this.kind = DOUBLE; // widening: f64 already holds every earlier value exactly
        this.f64[i] = v;
        return;
      case UNSET:
        this.become(isIntegral(v) ? INT : DOUBLE);
        this.f64[i] = v;
        return;
      case INT64:
        if (isIntegral(v)) {
          this.i64[i] = BigInt(v);
        } else {
          this.toDouble(i);
          this.f64[i] = v;
        }
        return;
      default:
        throw this.mixed('numbers', v);
    }
  }

  private setBigInt(i: number, v: bigint): void {
    if (v < MIN_I64 || v > MAX_I64) {
      throw new MetricsSchemaError(
        `metrics: column ${JSON.stringify(this.name)} got ${v}, outside the BIGINT range`,
        this.name,
      );
    }
    switch (this.kind) {
      case INT64:
        this.i64[i] = v;
        return;
      case UNSET:
        this.become(INT64);
        this.i64[i] = v;
        return;
      case INT: {
        // Exact 64-bit integers from now on: move the batch's earlier values (all safe integers) over.
        const i64 = new BigInt64Array(this.allocate(this.capacity * 8), 0, this.capacity);
        const f64 = this.f64;
        for (let r = 0; r < i; r++) {
          const x = f64[r]!;
          i64[r] = Number.isSafeInteger(x) ? BigInt(x) : 0n; // non-integers only sit under nulls
        }
        this.kind = INT64;
        this.i64 = i64;
        this.f64 = EMPTY_F64;
        i64[i] = v;
        return;
      }
      case DOUBLE:
        this.f64[i] = Number(v);
        return;
      default:
        throw this.mixed('bigints', v);
    }
  }

  setNull(i: number): void {
    if (this.nulls.length === 0)
      this.nulls = new Uint8Array(this.allocate(this.capacity), 0, this.capacity).fill(0);
    this.nulls[i] = 1;
  }

  /** Marks rows (last, i) as null: the rows between the previous value and row `i` lacked this key. */
  fillGap(i: number): void {
    if (this.nulls.length === 0)
      this.nulls = new Uint8Array(this.allocate(this.capacity), 0, this.capacity).fill(0);
    this.nulls.fill(1, this.last + 1, i);
  }

  /**
   * The column's batch as ColumnData for `rows` rows; resets the buffers (the kind stays) and, when `next`,
   * allocates the buffers of the next batch.
   */
  take(rows: number, next = true): ColumnData {
    if (this.last < rows - 1) this.fillGap(rows);
    const nulls = this.nulls.length > 0 ? this.nulls : undefined;
    let data: ColumnData;
    switch (this.kind) {
      case INT:
      case UNSET:
      case DOUBLE: {
        const type: MetricsType = this.kind === INT ? 'BIGINT' : 'DOUBLE';
        const values = this.f64.length > 0 ? this.f64 : new Float64Array(rows);
        data = { name: this.name, type, storage: 'f64', values, nulls };
        break;
      }
      case INT64:
        data = { name: this.name, type: 'BIGINT', storage: 'i64', values: this.i64, nulls };
        break;
      case BOOL:
        data = { name: this.name, type: 'BOOLEAN', storage: 'bool', values: this.u8, nulls };
        break;
      default:
        data = { name: this.name, type: 'VARCHAR', storage: 'string', values: this.str, nulls };
    }
    this.f64 = EMPTY_F64;
    this.i64 = EMPTY_I64;
    this.u8 = EMPTY_U8;
    this.str = [];
    this.nulls = EMPTY_U8;
    this.last = -1;
    this.prev = -1;
    const kind = this.kind;
    this.kind = UNSET;
    if (next && kind !== UNSET) this.become(kind);
    else this.kind = kind;
    return data;
  }

  /** The DuckDB type the column has now. */
  get type(): MetricsType {
    return this.kind === INT || this.kind === INT64
      ? 'BIGINT'
      : this.kind === BOOL
        ? 'BOOLEAN'
        : this.kind === STR
          ? 'VARCHAR'
          : 'DOUBLE';
  }

  /** Allocates the buffer for `kind` (used when the kind is first known and at the start of a batch). */
  private become(kind: number): void {
    const n = this.capacity;
    if (kind === INT || kind === DOUBLE) this.f64 = new Float64Array(this.allocate(n * 8), 0, n);
    else if (kind === INT64) this.i64 = new BigInt64Array(this.allocate(n * 8), 0, n);
    else if (kind === BOOL) this.u8 = new Uint8Array(this.allocate(n), 0, n);
    else if (kind === STR) this.str = new Array<string | null>(n).fill(null);
    this.kind = kind;
  }

  /** INT64 → DOUBLE for the batch's rows before `i`. */
  private toDouble(i: number): void {
    const f64 = new Float64Array(this.allocate(this.capacity * 8), 0, this.capacity);
    const i64 = this.i64;
    for (let r = 0; r < i; r++) f64[r] = Number(i64[r]!);
    this.f64 = f64;
    this.i64 = EMPTY_I64;
    this.kind = DOUBLE;
  }

  private mixed(got: string, v: unknown): MetricsSchemaError {
    const shown =
      typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : String(v);
    return new MetricsSchemaError(
      `metrics: column ${JSON.stringify(this.name)} mixes ${got} and ${KIND_NAMES[this.kind]}: got ${shown} ` +
        `after ${KIND_NAMES[this.kind]}; log each metric with one type`,
      this.name,
    );
  }
}

/** Name and type of every column seen so far, in first-seen order (all-null columns as DOUBLE). */
export function schemaOf(buffer: RowBuffer): { name: string; type: MetricsType }[] {
  return buffer.columns.map((c) => ({ name: c.name, type: c.type }));
}

/** What a cell of `Cells` holds; numbers are in `numbers`, strings and bigints in `others`. */
export const CELL_NULL = 0;
export const CELL_NUMBER = 1;
export const CELL_FALSE = 2;
export const CELL_TRUE = 3;
export const CELL_STRING = 4;
export const CELL_BIGINT = 5;

/**
 * One row given cell by cell, for loaders that parse rows themselves (the JSON lines reader) and so skip
 * building an object per row. Cell `k` (k < count) goes to `columns[k]`, which must be distinct columns of
 * the buffer; bigints must fit in 64 bits.
 */
export interface Cells {
  count: number;
  columns: Column[];
  tags: Uint8Array;
  numbers: Float64Array;
  others: (string | bigint | undefined)[];
}

/** A batch ready to write: `rows` rows of `columns` in first-seen order. */
export interface Batch {
  rows: number;
  columns: ColumnData[];
}

/**
 * Row-at-a-time buffer of up to `capacity` rows. `append` is the hot path of MetricsWriter.log(): a row whose
 * keys come in the same order as the previous row's costs one string comparison per key to find its
 * columns; only new shapes go through the Map.
 */
export class RowBuffer {
  /** Rows in the current batch. */
  rows = 0;
  readonly columns: Column[] = [];
  private readonly byName = new Map<string, Column>();
  /** Column names by folded case, to refuse a name that differs from another only in case. */
  private readonly byFoldedName = new Map<string, string>();
  private shapeKeys: string[] = [];
  private shapeCols: Column[] = [];
  private created: Column[] = [];

  /**
   * @param reserved a column name callers may not use (the writer adds `run_id` itself).
   */
  constructor(
    /** Rows the current buffers hold; `grow` raises it. */
    public capacity: number,
    private readonly allocate: Allocate = defaultAllocate,
    private readonly reserved?: string,
  ) {}

  /**
   * Enlarges every column's buffers to `capacity` rows, keeping the current batch. A writer starts small
   * and grows, so a short run allocates for its rows, not for a full batch.
   */
  grow(capacity: number): void {
    if (capacity <= this.capacity) return;
    for (const c of this.columns) c.grow(capacity);
    this.capacity = capacity;
  }

  get full(): boolean {
    return this.rows >= this.capacity;
  }

  /** Adds one row; throws MetricsSchemaError (leaving the buffer as it was) for a value of the wrong type. */
  append(row: Record<string, MetricsValue>): void {
    const i = this.rows;
    const keys = this.shapeKeys;
    const cols = this.shapeCols;
    let k = 0;
    let key: string | undefined;
    try {
      for (key in row) {
        const col = k < keys.length && keys[k] === key ? cols[k]! : this.lookup(key, k);
        k++;
        const v = row[key];
        // Inline the overwhelmingly common cases; everything else goes through Column.set.
        if (typeof v === 'number' && col.kind === DOUBLE) col.f64[i] = v;
        else if (typeof v === 'number' && col.kind === INT && isIntegral(v)) col.f64[i] = v;
        else col.set(i, v);
        if (col.last !== i - 1) col.fillGap(i);
        col.prev = col.last;
        col.last = i;
      }
    } catch (err) {
      this.rollback(row, key, i);
      throw err;
    }
    if (k < keys.length) {
      keys.length = k;
      cols.length = k;
    }
    if (this.created.length > 0) this.created.length = 0;
    this.rows = i + 1;
  }

  /**
   * Adds one row given as cells, with the effect `append` has on the same values. Returns false, storing
   * nothing, when a value does not fit its column's type (the caller then goes through `append`, which
   * reports the conflict).
   */
  appendCells(cells: Cells): boolean {
    const { count, columns, tags, numbers, others } = cells;
    for (let k = 0; k < count; k++) {
      const kind = columns[k]!.kind;
      const tag = tags[k]!;
      if (tag === CELL_NUMBER || tag === CELL_BIGINT) {
        if (kind === BOOL || kind === STR) return false;
      } else if (tag === CELL_STRING) {
        if (kind !== UNSET && kind !== STR) return false;
      } else if (tag !== CELL_NULL && kind !== UNSET && kind !== BOOL) return false;
    }
    const i = this.rows;
    for (let k = 0; k < count; k++) {
      const col = columns[k]!;
      const tag = tags[k]!;
      if (tag === CELL_NUMBER) {
        const v = numbers[k]!;
        if (col.kind === DOUBLE) col.f64[i] = v;
        else if (col.kind === INT && isIntegral(v)) col.f64[i] = v;
        else col.setNumber(i, v);
      } else if (tag === CELL_NULL) col.setNull(i);
      else col.set(i, tag === CELL_TRUE ? true : tag === CELL_FALSE ? false : others[k]);
      if (col.last !== i - 1) col.fillGap(i);
      col.prev = col.last;
      col.last = i;
    }
    this.rows = i + 1;
    return true;
  }

  /** The column named `name`, if a row has had it. */
  column(name: string): Column | undefined {
    return this.byName.get(name);
  }

  /**
   * The current batch (every known column, nulls filled in) and a fresh, empty one in its place (`next`
   * false: the last batch, no new buffers). `keepUntyped` false leaves out columns that hold only nulls.
   */
  take(next = true, keepUntyped = true): Batch {
    const rows = this.rows;
    const columns: ColumnData[] = [];
    for (const c of this.columns) {
      // A column with only nulls so far has no type yet; a part writing it as DOUBLE would clash with the
      // BOOLEAN or VARCHAR it turns out to be, so streaming parts leave it out (union_by_name fills nulls).
      if (!keepUntyped && c.kind === UNSET) c.take(rows, next);
      else columns.push(c.take(rows, next));
    }
    this.rows = 0;
    return { rows, columns };
  }

  /** The column named `key`, created if new, and remembered at position `k` of the row shape. */
  private lookup(key: string, k: number): Column {
    let col = this.byName.get(key);
    if (!col) {
      if (key === this.reserved) {
        throw new MetricsSchemaError(
          `metrics: column ${JSON.stringify(key)} is added by the writer from the run; do not log it`,
          key,
        );
      }
      assertColumnName(key, caseClash(key, this.byFoldedName));
      if (this.columns.length >= 10_000) {
        throw new MetricsSchemaError(
          `metrics: more than 10000 columns; is ${JSON.stringify(key)} a value?`,
          key,
        );
      }
      col = new Column(key, this.capacity, this.allocate);
      this.byName.set(key, col);
      this.byFoldedName.set(foldCase(key), key);
      this.columns.push(col);
      this.created.push(col);
    }
    this.shapeKeys.length = k;
    this.shapeCols.length = k;
    this.shapeKeys.push(key);
    this.shapeCols.push(col);
    return col;
  }

  /** Undoes a partly stored row: restores `last` of the columns already written, drops columns it created. */
  private rollback(row: Record<string, MetricsValue>, failedKey: string | undefined, i: number): void {
    for (const key in row) {
      if (key === failedKey) break;
      const col = this.byName.get(key);
      if (col && col.last === i) col.last = col.prev;
    }
    for (const col of this.created) {
      this.byName.delete(col.name);
      this.byFoldedName.delete(foldCase(col.name));
      const at = this.columns.indexOf(col);
      if (at >= 0) this.columns.splice(at, 1);
    }
    this.created.length = 0;
    this.shapeKeys.length = 0;
    this.shapeCols.length = 0;
  }
}

/** The storage and type of a column given as a typed array that can be written without conversion. */
export function directColumn(
  values: unknown,
):
  | { type: MetricsType; storage: StorageKind; values: Float64Array | BigInt64Array | Int32Array }
  | undefined {
  if (values instanceof Float64Array) return { type: 'DOUBLE', storage: 'f64', values };
  if (values instanceof BigInt64Array) return { type: 'BIGINT', storage: 'i64', values };
  if (values instanceof Int32Array) return { type: 'BIGINT', storage: 'i32', values };
  if (values instanceof Float32Array)
    return { type: 'DOUBLE', storage: 'f64', values: Float64Array.from(values) };
  return undefined;
}
