/**
 * A running run's `metrics.jsonl`, read incrementally for readers that show it while it grows (the web
 * UI's charts). The reader keeps the byte offset of the last complete line and the parsed columns; each
 * `refresh()` reads only the bytes appended since, parses the complete lines among them with
 * `parseMetricsLine` (the rule the converter applies when the run is sealed) and appends them to growable
 * typed arrays. A trailing line without its newline (a writer mid-flush) waits for the next refresh. A file
 * that shrank or was replaced (another inode) is read again from the start.
 *
 * Numbers (and bigints, as doubles) go to Float64Arrays with a validity byte per row (null and a missing key
 * are invalid; NaN and ±Infinity are values); booleans and strings are kept as JS arrays. A line whose value
 * conflicts with its column's kind (a string in a numeric column…) is counted in `rejected` and skipped, as
 * the converter rejects it.
 *
 * @example
 * const live = new LiveJsonl(`${runDir}/metrics.jsonl`)
 * await live.refresh()                  // reads what is new
 * live.rows; live.numeric('loss')       // Float64Array of the rows so far (NaN where missing)
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { isIntegral } from './columns.js';
import { type MetricsRow, parseMetricsLine } from './jsonl.js';

/** What a live column holds: `int` and `float` are numeric (charted), `bool` and `string` are not. */
export type LiveKind = 'null' | 'int' | 'float' | 'bool' | 'string';

/** One column of a live JSON lines file. */
export interface LiveColumn {
  name: string;
  kind: LiveKind;
  /** Numeric values (NaN where invalid); capacity ≥ rows. */
  values: Float64Array;
  /** 1 where the row holds a value. */
  valid: Uint8Array;
  /** Booleans and strings by row (null where missing). */
  others: (boolean | string | null)[];
  /** Rows holding a value. */
  count: number;
}

const READ_BYTES = 4 << 20;

function kindOf(v: number | bigint | boolean | string | null): LiveKind {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'bigint') return 'int';
  return isIntegral(v) ? 'int' : 'float';
}

/** The kind a column of kind `a` has once it also holds `b`, or undefined when they conflict. */
function widen(a: LiveKind, b: LiveKind): LiveKind | undefined {
  if (b === 'null' || a === b) return a;
  if (a === 'null') return b;
  if ((a === 'int' && b === 'float') || (a === 'float' && b === 'int')) return 'float';
  return undefined;
}

/** See the module comment. */
export class LiveJsonl {
  /** Rows read so far. */
  rows = 0;
  /** Lines skipped (not an object of scalars, or a type conflict). */
  rejected = 0;
  /** Bytes consumed: the file's first `offset` bytes are complete lines already read. */
  offset = 0;
  /** Bytes read from the file by the last refresh (what was new). */
  lastReadBytes = 0;
  private readonly byName = new Map<string, LiveColumn>();
  private readonly order: LiveColumn[] = [];
  private capacity = 0;
  private ino = -1;
  private carry: Buffer | undefined;

  constructor(readonly file: string) {}

  /** Columns in the order their keys first appeared. */
  get columns(): readonly LiveColumn[] {
    return this.order;
  }

  column(name: string): LiveColumn | undefined {
    return this.byName.get(name);
  }

  /** A numeric column's values for the rows read so far (a view, not a copy; NaN where missing). */
  numeric(name: string): Float64Array | undefined {
    const c = this.byName.get(name);
    if (!c || (c.kind !== 'int' && c.kind !== 'float')) return undefined;
    return c.values.subarray(0, this.rows);
  }

  /** The cell of `name` at `row` (null where missing). */
  value(name: string, row: number): number | boolean | string | null {
    const c = this.byName.get(name);
    if (!c || row >= this.rows || c.valid[row] !== 1) return null;
    return c.kind === 'int' || c.kind === 'float' ? c.values[row]! : (c.others[row] ?? null);
  }

  /** Approximate bytes held. */
  get bytes(): number {
    return this.capacity * 9 * this.order.length;
  }

  /**
   * Reads what was appended since the last refresh. Returns true when rows were added (or the file was
   * read again from the start); false when nothing changed. A missing file reads as empty.
   */
  async refresh(): Promise<boolean> {
    const fh = await fsp.open(this.file, fs.constants.O_RDONLY).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    this.lastReadBytes = 0;
    if (!fh) return false;
    try {
      const st = await fh.stat();
      let reset = false;
      if (st.ino !== this.ino || st.size < this.offset) {
        reset = this.offset > 0 || this.rows > 0;
        this.clear();
        this.ino = st.ino;
      }
      const before = this.rows;
      let pos = this.offset + (this.carry?.length ?? 0);
      while (pos < st.size) {
        const want = Math.min(READ_BYTES, st.size - pos);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await fh.read(buf, 0, want, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        this.lastReadBytes += bytesRead;
        this.consume(buf.subarray(0, bytesRead));
      }
      return reset || this.rows !== before;
    } finally {
      await fh.close();
    }
  }

  private clear(): void {
    this.rows = 0;
    this.rejected = 0;
    this.offset = 0;
    this.capacity = 0;
    this.byName.clear();
    this.order.length = 0;
    this.carry = undefined;
  }

  /** Parses the complete lines of `carry + chunk`; keeps the incomplete tail for the next read. */
  private consume(chunk: Buffer): void {
    const data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const last = data.lastIndexOf(10);
    if (last < 0) {
      this.carry = Buffer.from(data);
      return;
    }
    // A newline byte never occurs inside a multi-byte UTF-8 character, so whole lines decode alone.
    const text = data.toString('utf8', 0, last + 1);
    this.offset += last + 1;
    this.carry = last + 1 < data.length ? Buffer.from(data.subarray(last + 1)) : undefined;
    let p = 0;
    while (p < text.length) {
      const nl = text.indexOf('\n', p);
      const line = text.slice(p, nl);
      p = nl + 1;
      if (line.trim() === '') continue;
      let row: MetricsRow;
      try {
        row = parseMetricsLine(line);
      } catch {
        this.rejected++;
        continue;
      }
      this.append(row);
    }
  }

  private append(row: MetricsRow): void {
    // Check every value first: a conflicting line is skipped whole, as the converter rejects it.
    for (const k in row) {
      const c = this.byName.get(k);
      if (c && widen(c.kind, kindOf(row[k]!)) === undefined) {
        this.rejected++;
        return;
      }
    }
    if (this.rows === this.capacity) this.grow(Math.max(1024, this.capacity * 2));
    const i = this.rows;
    for (const k in row) {
      const v = row[k]!;
      let c = this.byName.get(k);
      if (!c) c = this.add(k);
      c.kind = widen(c.kind, kindOf(v))!;
      if (v === null) continue;
      c.valid[i] = 1;
      c.count++;
      if (typeof v === 'number') c.values[i] = v;
      else if (typeof v === 'bigint') c.values[i] = Number(v);
      else c.others[i] = v;
    }
    this.rows++;
  }

  private add(name: string): LiveColumn {
    const values = new Float64Array(this.capacity).fill(Number.NaN);
    const c: LiveColumn = {
      name,
      kind: 'null',
      values,
      valid: new Uint8Array(this.capacity),
      others: [],
      count: 0,
    };
    this.byName.set(name, c);
    this.order.push(c);
    return c;
  }

  private grow(capacity: number): void {
    for (const c of this.order) {
      const values = new Float64Array(capacity).fill(Number.NaN, this.capacity);
      values.set(c.values);
      const valid = new Uint8Array(capacity);
      valid.set(c.valid);
      c.values = values;
      c.valid = valid;
    }
    this.capacity = capacity;
  }
}
