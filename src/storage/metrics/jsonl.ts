/**
 * JSON lines → metrics rows: each line of a `metrics.jsonl` file is one JSON object of scalars (written by
 * the Python helper or any language) and becomes one row of a MetricsWriter. Rows are the same as logging
 * `JSON.parse(line)`, with two additions JSON.parse lacks: the bare tokens `NaN`, `Infinity` and
 * `-Infinity` (Python's json writes them) are numbers, and an integer beyond 2^53 that fits in 64 bits is
 * kept exactly (a bigint, so a BIGINT column) instead of being rounded.
 *
 * Two paths give those rows. A scanner reads the common lines (flat objects whose keys are known columns
 * and whose values fit their columns) from the file's bytes straight into the writer's column buffers,
 * without an object per row; numbers are converted by `Number()` on the token, as JSON.parse would. Any
 * line it does not handle (a new key, escapes in a key, nested values, a type conflict, a syntax error, a
 * blank line…) goes through `parseMetricsLine` and `MetricsWriter.log`, exactly as a row logged by hand.
 *
 * @example
 * const writer = new MetricsWriter({ runDir, runId })
 * const { rows } = await appendJsonLines(`${runDir}/metrics.jsonl`, writer, (line, text, err) => {
 *   console.warn(`line ${line}: ${(err as Error).message}`)
 * })
 * await writer.close()
 */
import fsp from 'node:fs/promises';
import { MetricsSchemaError } from '../../errors.js';
import {
  CELL_BIGINT,
  CELL_FALSE,
  CELL_NULL,
  CELL_NUMBER,
  CELL_STRING,
  CELL_TRUE,
  type Cells,
  type Column,
} from './columns.js';
import type { MetricsWriter } from './metrics-writer.js';

/** A row as parsed from one line. */
export type MetricsRow = Record<string, number | bigint | boolean | string | null>;

const MIN_I64 = -(2n ** 63n);
const MAX_I64 = 2n ** 63n - 1n;

/**
 * The value of a JSON integer token (digits, optional minus): a number when it is a safe integer, a bigint
 * beyond that while it fits in 64 bits, else the nearest double (as JSON.parse gives).
 */
export function integerValue(token: string): number | bigint {
  const v = Number(token);
  if (Number.isSafeInteger(v)) return v;
  const b = BigInt(token);
  return b >= MIN_I64 && b <= MAX_I64 ? b : v;
}

// Strings (skipped whole), the bare tokens Python writes, and JSON number tokens.
const TOKENS = /("(?:[^"\\]|\\.)*")|(-?Infinity|NaN)|(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
// A run of 16+ digits that is not the fraction or exponent of a float: an integer JSON.parse may round.
// (Python's repr of a float often has 17 digits after the point; those lines need no second pass.)
const LONG_DIGITS = /(?<![\d.eE])\d{16}(?![.eE])/;

/** A character that occurs in `line` neither as such nor as a \u escape, to mark rewritten tokens. */
function freeMarker(line: string): string {
  const lower = line.toLowerCase();
  for (let c = 0xe000; ; c++) {
    const ch = String.fromCharCode(c);
    if (!line.includes(ch) && !lower.includes(`\\u${c.toString(16)}`)) return ch;
  }
}

/**
 * Parses one line into a row: a JSON object whose values are numbers, bigints, booleans, strings or null.
 * Throws (JSON.parse's SyntaxError, or an Error naming the problem) for anything else.
 */
export function parseMetricsLine(line: string): MetricsRow {
  let value: unknown;
  let syntaxError: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    syntaxError = err;
  }
  const retry = syntaxError !== undefined ? /NaN|Infinity/.test(line) : LONG_DIGITS.test(line);
  if (syntaxError !== undefined && !retry) throw syntaxError;
  if (retry) {
    // Bare NaN/Infinity and integers JSON.parse would round become marked strings, converted back below.
    const tag = `${freeMarker(line)}sv:`;
    let marked = false;
    const text = line.replace(TOKENS, (m, str: string | undefined, special: string | undefined) => {
      if (str !== undefined) return m;
      if (
        special !== undefined ||
        (m.length >= 16 && !/[.eE]/.test(m) && typeof integerValue(m) === 'bigint')
      ) {
        marked = true;
        return `"${tag}${m}"`;
      }
      return m;
    });
    if (marked) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw syntaxError ?? err;
      }
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        const obj = parsed as Record<string, unknown>;
        for (const k in obj) {
          // A bare token in a key's place: the line is not JSON after all.
          if (k.includes(tag)) throw syntaxError ?? new SyntaxError(`unexpected token in key ${k}`);
          const v = obj[k];
          if (typeof v === 'string' && v.startsWith(tag)) {
            const token = v.slice(tag.length);
            obj[k] = /^-?\d+$/.test(token) ? integerValue(token) : Number(token);
          }
        }
      }
      value = parsed;
    } else if (syntaxError !== undefined) {
      throw syntaxError;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error('not a JSON object');
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v !== null && typeof v === 'object') throw new Error(`field ${JSON.stringify(k)} is not a scalar`);
  }
  return value as MetricsRow;
}

interface KeyEntry {
  key: string;
  /** The key's bytes as they appeared in the file. */
  bytes: Uint8Array;
  column: Column;
  /** The line this key was last seen on (a second time on the same line is a duplicate key). */
  seen: number;
}

/**
 * Reads common lines straight into a MetricsWriter's columns. It works on the file's bytes (`b`) and on the
 * same bytes as a Latin-1 string (`text`: one character per byte, so the offsets agree) to slice number
 * tokens and ASCII strings from; strings with other bytes are decoded as UTF-8.
 */
export class JsonLineScanner {
  private readonly entries = new Map<string, KeyEntry>();
  /** Keys of the last line read, in order: the next line most likely has the same. */
  private readonly shape: KeyEntry[] = [];
  private lineId = 0;
  private readonly cells: Cells = {
    count: 0,
    columns: [],
    tags: new Uint8Array(16),
    numbers: new Float64Array(16),
    others: [],
  };

  constructor(private readonly writer: MetricsWriter) {}

  /**
   * Reads the line starting at `at` (`b` must end with a newline) into the writer. Returns the offset past
   * the line's newline, or -1, having stored nothing, when the line needs the general path.
   */
  line(b: Uint8Array, text: string, at: number): number {
    const lineId = ++this.lineId;
    const cells = this.cells;
    let { tags, numbers } = cells;
    const { columns, others } = cells;
    let p = at;
    let c = b[p]!;
    while (c === 32 || c === 9 || c === 13) c = b[++p]!;
    if (c !== 123) return -1; // {
    c = b[++p]!;
    while (c === 32 || c === 9 || c === 13) c = b[++p]!;
    let k = 0;
    if (c === 125) c = b[++p]!;
    else {
      for (;;) {
        if (c !== 34) return -1; // "
        p++;
        // The key: most often the one at this position on the previous line.
        let entry = this.shape[k];
        if (entry !== undefined) {
          const kb = entry.bytes;
          const n = kb.length;
          let j = 0;
          while (j < n && b[p + j] === kb[j]) j++;
          if (j === n && b[p + n] === 34) p += n + 1;
          else entry = undefined;
        }
        if (entry === undefined) {
          const start = p;
          let high = false;
          c = b[p]!;
          while (c !== 34) {
            if (c === 92 || !(c >= 32)) return -1; // escapes, control characters
            if (c >= 128) high = true;
            c = b[++p]!;
          }
          const key = high ? utf8Slice(b, start, p) : text.slice(start, p);
          entry = this.entries.get(key);
          if (entry === undefined) {
            const column = this.writer.column(key);
            if (column === undefined) return -1; // a new column is created by the general path
            entry = { key, bytes: new Uint8Array(b.subarray(start, p)), column, seen: 0 };
            this.entries.set(key, entry);
          }
          this.shape[k] = entry;
          p++;
        }
        if (entry.seen === lineId) return -1; // duplicate key: JSON.parse keeps the last value
        entry.seen = lineId;
        c = b[p]!;
        while (c === 32 || c === 9 || c === 13) c = b[++p]!;
        if (c !== 58) return -1; // :
        c = b[++p]!;
        while (c === 32 || c === 9 || c === 13) c = b[++p]!;
        if (k === tags.length) {
          const t = new Uint8Array(k * 2);
          t.set(tags);
          const f = new Float64Array(k * 2);
          f.set(numbers);
          cells.tags = tags = t;
          cells.numbers = numbers = f;
        }
        columns[k] = entry.column;
        // The value.
        if (c === 34) {
          const start = p + 1;
          let escaped = false;
          let high = false;
          c = b[++p]!;
          while (c !== 34) {
            if (c === 92) {
              escaped = true;
              c = b[++p]!;
            }
            if (!(c >= 32)) return -1;
            if (c >= 128) high = true;
            c = b[++p]!;
          }
          let str: string;
          if (escaped) {
            try {
              str = JSON.parse(
                high ? utf8Slice(b, start - 1, p + 1) : text.slice(start - 1, p + 1),
              ) as string;
            } catch {
              return -1;
            }
          } else str = high ? utf8Slice(b, start, p) : text.slice(start, p);
          tags[k] = CELL_STRING;
          others[k] = str;
          c = b[++p]!;
        } else if ((c >= 48 && c <= 57) || c === 45) {
          const start = p;
          const negative = c === 45;
          if (negative) c = b[++p]!;
          tags[k] = CELL_NUMBER;
          if (c === 73) {
            if (!text.startsWith('Infinity', p)) return -1;
            numbers[k] = Number.NEGATIVE_INFINITY;
            p += 8;
            c = b[p]!;
          } else {
            const digits = p;
            let acc = c - 48;
            if (!(acc >= 0 && acc <= 9)) return -1;
            c = b[++p]!;
            let d = c - 48;
            if (acc === 0) {
              if (d >= 0 && d <= 9) return -1; // leading zero
            } else {
              while (d >= 0 && d <= 9) {
                acc = acc * 10 + d;
                c = b[++p]!;
                d = c - 48;
              }
            }
            const intDigits = p - digits;
            let integral = true;
            if (c === 46) {
              integral = false;
              c = b[++p]!;
              d = c - 48;
              if (!(d >= 0 && d <= 9)) return -1;
              do {
                c = b[++p]!;
                d = c - 48;
              } while (d >= 0 && d <= 9);
            }
            if (c === 101 || c === 69) {
              integral = false;
              c = b[++p]!;
              if (c === 43 || c === 45) c = b[++p]!;
              d = c - 48;
              if (!(d >= 0 && d <= 9)) return -1;
              do {
                c = b[++p]!;
                d = c - 48;
              } while (d >= 0 && d <= 9);
            }
            if (!integral) numbers[k] = Number(text.slice(start, p));
            else if (intDigits <= 15)
              numbers[k] = negative ? -acc : acc; // exact: below 2^53
            else {
              const v = integerValue(text.slice(start, p));
              if (typeof v === 'bigint') {
                tags[k] = CELL_BIGINT;
                others[k] = v;
              } else numbers[k] = v;
            }
          }
        } else if (c === 116) {
          if (b[p + 1] !== 114 || b[p + 2] !== 117 || b[p + 3] !== 101) return -1;
          tags[k] = CELL_TRUE;
          p += 4;
          c = b[p]!;
        } else if (c === 102) {
          if (!text.startsWith('false', p)) return -1;
          tags[k] = CELL_FALSE;
          p += 5;
          c = b[p]!;
        } else if (c === 110) {
          if (b[p + 1] !== 117 || b[p + 2] !== 108 || b[p + 3] !== 108) return -1;
          tags[k] = CELL_NULL;
          p += 4;
          c = b[p]!;
        } else if (c === 78) {
          if (!text.startsWith('NaN', p)) return -1;
          tags[k] = CELL_NUMBER;
          numbers[k] = Number.NaN;
          p += 3;
          c = b[p]!;
        } else if (c === 73) {
          if (!text.startsWith('Infinity', p)) return -1;
          tags[k] = CELL_NUMBER;
          numbers[k] = Number.POSITIVE_INFINITY;
          p += 8;
          c = b[p]!;
        } else return -1; // nested values, anything else
        k++;
        while (c === 32 || c === 9 || c === 13) c = b[++p]!;
        if (c === 44) {
          c = b[++p]!;
          while (c === 32 || c === 9 || c === 13) c = b[++p]!;
          continue;
        }
        if (c !== 125) return -1; // }
        c = b[++p]!;
        break;
      }
    }
    while (c === 32 || c === 9 || c === 13) c = b[++p]!;
    if (c !== 10) return -1; // text after the object
    cells.count = k;
    return this.writer.logCells(cells) ? p + 1 : -1;
  }
}

function utf8Slice(b: Uint8Array, start: number, end: number): string {
  return Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
}

const NEWLINE = Buffer.from('\n');
const PIECE_BYTES = 1 << 16;

/** Options of appendJsonLines. */
export interface JsonLinesOptions {
  /** Bytes read from the file at a time (default 4 MiB; small values exercise block edges in tests). */
  readBytes?: number;
}

/**
 * Appends every line of `file` to `writer`, reading it in blocks (memory stays bounded whatever the file's
 * size). Blank lines are skipped; a line that is not a row, or whose values conflict with the columns'
 * types, is passed to `onReject` with its 1-based number and text, and the other lines are kept. Errors of
 * the writer itself (a failed write) are thrown. Returns the number of rows appended and of lines read.
 */
export async function appendJsonLines(
  file: string,
  writer: MetricsWriter,
  onReject: (line: number, text: string, err: unknown) => void,
  options: JsonLinesOptions = {},
): Promise<{ rows: number; lines: number }> {
  const readBytes = Math.max(1, options.readBytes ?? 4 << 20);
  const scanner = new JsonLineScanner(writer);
  let lineNo = 0;
  let rows = 0;
  const general = (line: string): void => {
    if (line.trim() === '') return;
    let row: MetricsRow;
    try {
      row = parseMetricsLine(line);
    } catch (err) {
      onReject(lineNo, line, err);
      return;
    }
    try {
      writer.log(row);
    } catch (err) {
      if (!(err instanceof MetricsSchemaError)) throw err;
      onReject(lineNo, line, err);
      return;
    }
    rows++;
  };
  // `piece` holds whole lines, each ending with a newline. Newline bytes never occur inside a multi-byte
  // UTF-8 character, so a line decodes the same alone as within the whole file.
  const scan = (piece: Buffer): void => {
    const text = piece.toString('latin1');
    const n = piece.length;
    let p = 0;
    while (p < n) {
      lineNo++;
      const next = scanner.line(piece, text, p);
      if (next >= 0) {
        rows++;
        p = next;
        continue;
      }
      const end = piece.indexOf(10, p);
      general(piece.toString('utf8', p, end));
      p = end + 1;
    }
  };
  // A block is scanned in pieces of whole lines of about PIECE_BYTES: their text is then short-lived
  // memory of the JavaScript heap, where a whole block's would be a large external string (and allocating
  // those makes V8 collect the whole heap, costly when the caller's heap is large).
  const lines = (block: Buffer): void => {
    const n = block.length;
    let from = 0;
    while (from < n) {
      let to = n;
      if (n - from > PIECE_BYTES) {
        to = block.lastIndexOf(10, from + PIECE_BYTES - 1) + 1;
        if (to <= from) to = block.indexOf(10, from + PIECE_BYTES) + 1;
      }
      scan(from === 0 && to === n ? block : block.subarray(from, to));
      from = to;
    }
  };

  const fh = await fsp.open(file, 'r');
  let pending: Promise<Buffer> | undefined;
  try {
    const { size } = await fh.stat();
    let position = 0;
    // Bytes after the last newline read so far: the start of a line that continues in the next block.
    let carry: Buffer | undefined;
    // Two read buffers, used in turn: one is parsed while the next block is read into the other. Nothing
    // keeps a view of a block once it is parsed (keys, strings and the carried line are copies).
    // A small file (a short run's) gets buffers of its size: two blocks of 4 MiB per run of a sweep would
    // be mostly garbage collection.
    const block = Math.min(readBytes, size + 1);
    const buffers = [Buffer.allocUnsafeSlow(block), Buffer.allocUnsafeSlow(block)];
    let turn = 0;
    const read = async (): Promise<Buffer> => {
      const buf = buffers[turn]!;
      turn ^= 1;
      const { bytesRead } = await fh.read(buf, 0, block, null);
      return buf.subarray(0, bytesRead);
    };
    pending = read();
    for (;;) {
      const bytes = await pending;
      pending = undefined;
      if (bytes.length === 0) break;
      pending = read(); // the next block is read while this one is parsed
      // Near the end of the file, the rows buffered so far go to be written while the rest is parsed, so
      // that little is left to write once the file is read.
      if (lineNo > 0) writer.cut(((size - position) * lineNo) / position);
      position += bytes.length;
      let from = 0;
      if (carry) {
        const nl = bytes.indexOf(10);
        if (nl < 0) {
          carry = Buffer.concat([carry, bytes]);
          continue;
        }
        lines(Buffer.concat([carry, bytes.subarray(0, nl + 1)]));
        carry = undefined;
        from = nl + 1;
      }
      const last = bytes.lastIndexOf(10);
      if (last >= from) {
        lines(bytes.subarray(from, last + 1));
        from = last + 1;
      }
      if (from < bytes.length) carry = Buffer.from(bytes.subarray(from));
    }
    // A last line without its newline.
    if (carry) lines(Buffer.concat([carry, NEWLINE]));
  } finally {
    await pending?.catch(() => undefined);
    await fh.close();
  }
  return { rows, lines: lineNo };
}
