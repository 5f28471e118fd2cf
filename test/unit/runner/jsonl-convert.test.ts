// metrics.jsonl → metrics.parquet: the converter against an independent reference. Each generated line
// carries the row it means (built from JS values, or JSON.parse of the line where the line is plain JSON);
// those rows go through MetricsWriter.log() and the two Parquet files must hold the same table. Lines meant
// to be rejected are known by number in advance.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isVaultError } from '../../../src/errors.js';
import { convertMetricsJsonl } from '../../../src/runner/convert.js';
import { MetricsWriter, parquetInfo, readRunMetrics } from '../../../src/storage/metrics/index.js';
import { tempDir } from '../../support/helpers.js';

type Value = number | bigint | boolean | string | null;
type Row = Record<string, Value>;

/** One line of a generated file: its text (without the newline) and what it must become. */
interface Line {
  text: string;
  /** A row, a line that must be rejected, or a blank line (skipped, not rejected). */
  want: { row: Row } | 'reject' | 'blank';
  eol?: '\n' | '\r\n' | '';
}

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('sv-jsonl-');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** Small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

/** A double from random bits: any exponent, subnormals included (NaN and infinities excluded). */
function randomDouble(r: Rng): number {
  const f = new Float64Array(1);
  const u = new Uint32Array(f.buffer);
  do {
    u[0] = r.int(2 ** 32);
    u[1] = r.int(2 ** 32);
  } while (!Number.isFinite(f[0]!));
  return f[0]!;
}

/** A JSON token for finite `x`, in one of the spellings writers use; JSON.parse(token) === x. */
function numberToken(r: Rng, x: number): string {
  if (Object.is(x, -0)) return r.pick(['-0', '-0.0', '-0e0', '-0E+3']);
  const forms = [JSON.stringify(x), x.toPrecision(17), x.toExponential(), x.toExponential().toUpperCase()];
  if (Number.isInteger(x) && Math.abs(x) < 1e15) forms.push(`${x}.0`, `${x}e0`, `${x}.000`);
  const token = r.pick(forms).replace('e+', r.chance(0.5) ? 'e+' : 'e');
  if (JSON.parse(token) !== x) throw new Error(`test bug: ${token} is not ${x}`);
  return token;
}

const ALPHABET = [
  'a',
  'Z',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
  '\u0001',
  '\u007f',
  'é',
  'ß',
  '中',
  '😀',
  '\u2028',
  '\ufffd',
];

function randomString(r: Rng): string {
  let s = '';
  const n = r.int(12);
  for (let i = 0; i < n; i++) s += r.chance(0.6) ? String.fromCharCode(97 + r.int(26)) : r.pick(ALPHABET);
  return s;
}

/** JSON for a string, either as JSON.stringify writes it or with every non-ASCII character escaped (Python). */
function stringToken(r: Rng, s: string): string {
  const json = JSON.stringify(s);
  if (r.chance(0.5)) return json;
  return json.replace(/[^\x00-\x7f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function token(r: Rng, v: Value): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return stringToken(r, v);
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  return numberToken(r, v);
}

/** Writes `row` as an object line in a random style (compact, Python's ", "/": ", extra blanks). */
function objectLine(r: Rng, row: Row): string {
  const style = r.int(3);
  const sep = style === 0 ? [',', ':'] : style === 1 ? [', ', ': '] : [' ,\t', ' :  '];
  const body = Object.entries(row)
    .map(([k, v]) => `${stringToken(r, k)}${sep[1]}${token(r, v)}`)
    .join(sep[0]);
  return style === 2 ? ` {  ${body} }\t` : `{${body}}`;
}

// Lines that are not rows; each must be reported by its line number. They use the file's own columns, so
// that only their syntax tells them apart from good lines.
const GARBAGE = [
  'not json at all',
  '[1, 2, 3]',
  '"just a string"',
  '42',
  'null',
  '{"loss": {"b": 1}}',
  '{"step": 1, "loss": [1, 2]}',
  '{"loss": [NaN]}',
  '{"loss": 1,}',
  '{"step": 1, "loss": 01}',
  '{"loss": 1.}',
  '{"loss": .5}',
  '{"loss": +1}',
  '{"loss": -}',
  '{"loss": 1e}',
  '{"loss": 1e+}',
  '{"loss": 0x10}',
  '{"loss": NaN1}',
  '{"loss": -NaN}',
  '{"loss": Infinit}',
  '{"loss": -Infinityx}',
  '{"loss": nul}',
  '{"flag": tru}',
  '{"flag": falsy}',
  '{"loss": 1} x',
  '{"loss": 1}{"step": 2}',
  '{"step": 1 "loss": 2}',
  '{"step" 1}',
  '{"step": 1, "note": "unterminated',
  '{"note": "raw\u0001control"}',
  '{"note": "raw\ttab"}',
  '{"note": "bad \\x escape"}',
  '{"note": "bad \\u12 escape"}',
  '{NaN: 1}',
  '{Infinity: 1}',
  '{12345678901234567890: 1}',
  "{'step': 1}",
  '\ufeff{"step": 1}',
  '{"loss": -Infinite, "step": 1}',
  '{"loss": Infinite, "step": 1}',
  '{"loss": Nab, "step": 1}',
  '{"flag": trux, "step": 1}',
  '{"flag": fals3, "step": 1}',
  '{"note": nulx, "step": 1}',
  '{"step": 1, "loss": 2, }',
  '{"step": 1, , "loss": 2}',
  '{"step": 1, "loss": 2',
  '{xstep": 1, "loss": 2}',
  '{"step" 12, "loss": 1}',
];

// Valid lines of unusual shapes; they mean what JSON.parse makes of them (the last of duplicate keys wins).
const ODD = [
  '{"widen": null, "widen": 5}',
  '{"widen": 2.5, "widen": 3}',
  '{"flag": true, "step": 1, "flag": false}',
  '{"step": 2, "__proto__": 7}',
  '{"1": 3, "step": 4}',
  '{}',
  '{ "loss"\t:\r0.5 }',
  '{"\\\\u0062": 1}',
  '{"\\u0062": 2, "\\\\u0062": 3}',
];

/**
 * A random file: a handful of columns with their own habits (integers widening to floats, late keys,
 * nulls and missing keys, NaN/±Infinity, big integers, strings with escapes, booleans, unicode keys),
 * garbage and type conflicts at random places, blank lines, CRLF endings.
 */
function randomFile(seed: number, rows: number): Line[] {
  const r = prng(seed);
  const lines: Line[] = [];
  const lateAt = r.int(rows);
  const widenAt = r.int(rows);
  for (let i = 0; i < rows; i++) {
    const roll = r.next();
    if (roll < 0.03) {
      lines.push({ text: r.pick(['', '   ', '\t', '\r']), want: 'blank' });
      continue;
    }
    if (roll < 0.07) {
      lines.push({ text: r.pick(GARBAGE), want: 'reject' });
      continue;
    }
    if (roll < 0.09) {
      const text = r.pick(ODD);
      lines.push({ text, want: { row: JSON.parse(text) } });
      continue;
    }
    const row: Row = {};
    if (r.chance(0.95)) row.step = i;
    if (r.chance(0.9)) row.loss = r.chance(0.8) ? 1 / (i + 1) : randomDouble(r);
    if (r.chance(0.1))
      row.loss = r.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0]);
    if (r.chance(0.7)) row.widen = i < widenAt ? r.int(1000) - 500 : r.next() * 10;
    if (r.chance(0.6)) row.flag = r.chance(0.5);
    if (r.chance(0.5)) row.note = randomString(r);
    if (r.chance(0.3)) row.lóss_λ = r.chance(0.5) ? null : r.next();
    if (r.chance(0.4))
      row.big = r.pick([
        2n ** 53n,
        2n ** 53n + 1n,
        -(2n ** 53n) - 7n,
        2n ** 63n - 1n,
        -(2n ** 63n),
        9_007_199_254_740_991,
        BigInt(r.int(2 ** 30)) * 2n ** 33n + 12_345n,
      ]);
    if (i >= lateAt && r.chance(0.8)) row.late = r.chance(0.2) ? null : r.int(7);
    if (r.chance(0.03)) row.loss = 'oops'; // conflicts with the numbers before it
    if (r.chance(0.02)) row.flag = 3; // conflicts with booleans
    // Some rows list their keys in another order.
    const shuffled = r.chance(0.1) ? Object.fromEntries(Object.entries(row).sort(() => r.next() - 0.5)) : row;
    lines.push({ text: objectLine(r, shuffled), want: { row: shuffled } });
  }
  for (const l of lines) l.eol = r.chance(0.2) ? '\r\n' : '\n';
  if (r.chance(0.5)) lines.at(-1)!.eol = '';
  return lines;
}

function fileText(lines: readonly Line[]): string {
  return lines.map((l) => l.text + (l.eol ?? '\n')).join('');
}

/** What MetricsWriter.log() makes of the rows the lines mean, and which line numbers it must reject. */
async function reference(lines: readonly Line[]) {
  const runDir = dir();
  const w = new MetricsWriter({ runDir, runId: 'run' });
  const rejected: { line: number; reason?: string }[] = [];
  lines.forEach((l, i) => {
    if (l.want === 'blank') return;
    if (l.want === 'reject') {
      rejected.push({ line: i + 1 });
      return;
    }
    try {
      w.log(l.want.row);
    } catch (err) {
      if (!isVaultError(err, 'MetricsSchemaError')) throw err;
      rejected.push({ line: i + 1, reason: err.message });
    }
  });
  await w.close();
  return { runDir, rejected, rows: w.rowsLogged };
}

/** Every column of a run's metrics as JS values (BIGINT as bigint), plus the DuckDB types. */
async function table(runDir: string) {
  const t = await readRunMetrics(runDir, 'run');
  const info = fs.existsSync(path.join(runDir, 'metrics.parquet'))
    ? await parquetInfo(path.join(runDir, 'metrics.parquet'))
    : undefined;
  const columns: Record<string, unknown[]> = {};
  for (const f of t?.schema.fields ?? []) columns[f.name] = [...t!.getChild(f.name)!];
  return { types: info?.columns, columns };
}

/** Converts `text` as metrics.jsonl of a fresh run directory. */
async function convert(text: string | Buffer, options: Parameters<typeof convertMetricsJsonl>[3] = {}) {
  const runDir = dir();
  fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), text);
  const warnings: string[] = [];
  const report = await convertMetricsJsonl(runDir, 'run', (m) => warnings.push(m), options);
  const rejectedFile = path.join(runDir, 'metrics.rejected.jsonl');
  const rejected = fs.existsSync(rejectedFile)
    ? fs
        .readFileSync(rejectedFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { line: number; reason: string; text: string })
    : [];
  return { runDir, report, warnings, rejected };
}

/** Same values, with NaN equal to NaN and -0 distinct from 0. */
function expectSameColumns(got: Record<string, unknown[]>, want: Record<string, unknown[]>) {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const [name, values] of Object.entries(want)) {
    const actual = got[name]!;
    expect(actual.length, name).toBe(values.length);
    for (let i = 0; i < values.length; i++) {
      if (!Object.is(actual[i], values[i])) {
        expect.fail(`column ${name} row ${i}: got ${String(actual[i])}, want ${String(values[i])}`);
      }
    }
  }
}

describe('metrics.jsonl conversion', () => {
  it.each([
    // seed, rows, read size in bytes, rows per Parquet part
    [1, 400, 4 << 20, undefined],
    [2, 400, 7, 16],
    [3, 600, 64, 50],
    [4, 300, 1, 7],
    [5, 1500, 333, 128],
    [6, 800, 4096, 1000],
    [8, 3000, 4 << 20, 500],
  ] as const)(
    'matches MetricsWriter.log on the meant rows (seed %i, %i lines, %i-byte reads, parts of %s rows)',
    async (seed, rows, readBytes, flushRows) => {
      const lines = randomFile(seed, rows);
      const want = await reference(lines);
      const got = await convert(fileText(lines), { readBytes, ...(flushRows ? { flushRows } : {}) });
      expect(got.report.rows).toBe(want.rows);
      expect(got.report.rejectedLines).toBe(want.rejected.length);
      expect(got.rejected.map((r) => r.line)).toEqual(want.rejected.map((r) => r.line));
      for (const [i, r] of got.rejected.entries()) {
        const line = lines[r.line - 1]!;
        expect(r.text).toBe(line.text + (line.eol === '\r\n' ? '\r' : ''));
        // Type conflicts carry the writer's own message.
        if (want.rejected[i]!.reason) expect(r.reason).toBe(want.rejected[i]!.reason);
      }
      const [a, b] = await Promise.all([table(got.runDir), table(want.runDir)]);
      expect(a.types).toEqual(b.types);
      expectSameColumns(a.columns, b.columns);
      expect(fs.existsSync(path.join(got.runDir, 'metrics.jsonl'))).toBe(false);
    },
  );

  it('rejects every malformed line by number once its columns exist', async () => {
    const good = (i: number): Line => ({
      text: `{"step": ${i}, "loss": ${i / 3}, "flag": ${i % 2 === 0}, "note": "n${i}"}`,
      want: { row: { step: i, loss: i / 3, flag: i % 2 === 0, note: `n${i}` } },
    });
    const lines: Line[] = [good(0)];
    for (const [i, text] of GARBAGE.entries()) lines.push({ text, want: 'reject' }, good(i + 1));
    const want = await reference(lines);
    const got = await convert(fileText(lines));
    expect(got.rejected.map((r) => r.line)).toEqual(GARBAGE.map((_, i) => 2 * i + 2));
    expect(got.rejected.map((r) => r.text)).toEqual(GARBAGE);
    expect(got.report.rows).toBe(GARBAGE.length + 1);
    expectSameColumns((await table(got.runDir)).columns, (await table(want.runDir)).columns);
  });

  it('parses each number token as JSON.parse does and keeps integers beyond 2^53 exact', async () => {
    const floats = [
      '0.1',
      '0.30000000000000004',
      '0.1000000000000000055511151231257827021181583404541015625',
      '2.2250738585072011e-308',
      '2.2250738585072012e-308',
      '4.9e-324',
      '5e-325',
      '1.7976931348623157e308',
      '1.7976931348623158e308',
      '1e400',
      '-1e-400',
      '123456789012345678901234567890e-10',
      '9007199254740993.0',
      '1E+2',
      '-0.0',
      '3.141592653589793238462643383279',
    ];
    const ints = [
      '9007199254740991',
      '9007199254740992',
      '-9007199254740993',
      '9223372036854775807',
      '-9223372036854775808',
    ];
    const lines = floats.map((f, i) => `{"i": ${ints[i % ints.length]}, "f": ${f}}`);
    const got = await convert(`${lines.join('\n')}\n`);
    const { columns, types } = await table(got.runDir);
    expect(types).toEqual([
      { name: 'i', type: 'BIGINT' },
      { name: 'f', type: 'DOUBLE' },
      { name: 'run_id', type: 'VARCHAR' },
    ]);
    floats.forEach((f, i) => {
      expect(Object.is(columns.f![i], JSON.parse(f)), f).toBe(true);
      expect(columns.i![i], ints[i % ints.length]).toBe(BigInt(ints[i % ints.length]!));
    });
    // Beyond 64 bits an integer is a double, as JSON.parse reads it.
    const wide = await convert('{"x": 1}\n{"x": 18446744073709551616}\n{"x": -99999999999999999999}\n');
    const w = await table(wide.runDir);
    expect(w.types?.[0]).toEqual({ name: 'x', type: 'DOUBLE' });
    expect(w.columns.x).toEqual([1, 2 ** 64, Number('-99999999999999999999')]);
  });

  it('reports malformed lines by number, keeps the good ones, and saves the rejected lines', async () => {
    const text = [
      '{"step": 0, "loss": 1.5}',
      'not json at all',
      '{"step": 1, "loss": NaN}',
      '[1,2,3]',
      '{"step": 2, "loss": Infinity, "tag": "NaN inside a string"}',
      '',
      '{"step": 3, "loss": "oops"}',
      '{"step": 4, "loss": -Infinity}\r',
      '{"step": 5, "loss": {"nested": 1}}',
      '   ',
      '{"step": 6, "loss": 0.5}',
    ].join('\n');
    const got = await convert(text, { readBytes: 10 });
    expect(got.report.rows).toBe(5);
    expect(got.report.rejected.map((r) => r.line)).toEqual([2, 4, 7, 9]);
    expect(got.report.rejected[2]!.reason).toMatch(/"loss" mixes strings and numbers/);
    expect(got.report.rejected[3]!.reason).toBe('field "loss" is not a scalar');
    expect(got.warnings).toHaveLength(1);
    expect(got.warnings[0]).toMatch(
      /^metrics: 4 malformed line\(s\) in metrics\.jsonl skipped \(line 2: .+; line 4: not a JSON object; line 7: .+; line 9: field "loss" is not a scalar\); 5 good line\(s\) kept; rejected lines saved in metrics\.rejected\.jsonl$/,
    );
    expect(got.rejected.map((r) => [r.line, r.text])).toEqual([
      [2, 'not json at all'],
      [4, '[1,2,3]'],
      [7, '{"step": 3, "loss": "oops"}'],
      [9, '{"step": 5, "loss": {"nested": 1}}'],
    ]);
    const { columns } = await table(got.runDir);
    expect(columns.step).toEqual([0n, 1n, 2n, 4n, 6n]);
    expect(columns.loss).toEqual([1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5]);
    expect(columns.tag).toEqual([null, null, 'NaN inside a string', null, null]);
  });

  it('reads the same rows whatever the block size, with multi-byte characters split across reads', async () => {
    const rows: Row[] = [];
    for (let i = 0; i < 60; i++) {
      const row: Row = { step: i, ключ: `знач😀${i}`, 中文: i % 3 === 0 ? null : i / 7 };
      if (i % 5 === 0) row.ünïcödé = `a"b\\c\u00e9${'中'.repeat(i % 4)}`;
      rows.push(row);
    }
    const text = rows.map((r) => JSON.stringify(r)).join('\r\n');
    const want: Record<string, unknown[]> = {
      step: rows.map((r) => BigInt(r.step as number)),
      ключ: rows.map((r) => r.ключ),
      中文: rows.map((r) => r.中文),
      ünïcödé: rows.map((r) => r.ünïcödé ?? null),
      run_id: rows.map(() => 'run'),
    };
    for (const readBytes of [1, 2, 3, 5, 17, 1 << 20]) {
      const got = await convert(Buffer.from(text), { readBytes, flushRows: 9 });
      expect(got.report.rejectedLines).toBe(0);
      expectSameColumns((await table(got.runDir)).columns, want);
    }
  });

  it('treats a line it does not read directly the same as one it does', async () => {
    // The same rows, once in the plainest form and once with what sends a line down the general path
    // (escaped keys, keys that look like indices, duplicate keys, a new key on every line).
    const plain: string[] = [];
    const odd: string[] = [];
    for (let i = 0; i < 40; i++) {
      plain.push(JSON.stringify({ '7': i, a: i * 0.5, [`k${i % 4}`]: true, b: i % 2 ? 'x' : null }));
      odd.push(
        `{"\\u0037": ${i}, "\\u0061": ${i * 0.5}, "k${i % 4}": true, "a": ${i * 0.5}, "b": ${i % 2 ? '"\\u0078"' : 'null'}}`,
      );
    }
    const [p, o] = await Promise.all([convert(`${plain.join('\n')}\n`), convert(`${odd.join('\n')}\n`)]);
    const [tp, to] = await Promise.all([table(p.runDir), table(o.runDir)]);
    expect(to.types).toEqual(tp.types);
    expectSameColumns(to.columns, tp.columns);
    expect(Object.keys(tp.columns)).toEqual(['7', 'a', 'k0', 'b', 'k1', 'k2', 'k3', 'run_id']);
    // A key is its decoded text: "\u0062" is b, and a column may be named with a backslash.
    const keys = await convert('{"\\\\u0062": 1}\n{"\\u0062": 2}\n{"b": 3, "\\\\u0062": 4}\n');
    expect((await table(keys.runDir)).columns).toEqual({
      '\\u0062': [1n, null, 4n],
      b: [null, 2n, 3n],
      run_id: ['run', 'run', 'run'],
    });
  });

  it('accepts an empty object as a row of nulls and a row of more keys than usual', async () => {
    const wide = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`m${i}`, i + 0.25]));
    const got = await convert(`{"m0": 1.5}\n{}\n${JSON.stringify(wide)}\n{ }\n`);
    const { columns } = await table(got.runDir);
    expect(got.report.rows).toBe(4);
    expect(columns.m0).toEqual([1.5, null, 0.25, null]);
    expect(columns.m69).toEqual([null, null, 69.25, null]);
  });

  it('reads lines longer than a read or a scanning piece', async () => {
    const long = (i: number) => `${'é'.repeat(50_000 + i)}"\\${'x'.repeat(40_000)}`;
    const rows: Row[] = [];
    for (let i = 0; i < 12; i++)
      rows.push(i % 4 === 1 ? { step: i, note: long(i) } : { step: i, note: `n${i}` });
    const text = `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
    for (const readBytes of [4 << 20, 70_000]) {
      const got = await convert(text, { readBytes });
      expect(got.report.rows).toBe(rows.length);
      const { columns } = await table(got.runDir);
      expect(columns.note).toEqual(rows.map((r) => r.note));
      expect(columns.step).toEqual(rows.map((r) => BigInt(r.step as number)));
    }
  });

  it('keeps metrics.jsonl when the protocol also wrote metrics.parquet', async () => {
    const runDir = dir();
    fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '{"a": 1}\n');
    fs.writeFileSync(path.join(runDir, 'metrics.parquet'), 'written by the protocol');
    const warnings: string[] = [];
    const report = await convertMetricsJsonl(runDir, 'run', (m) => warnings.push(m));
    expect(report.rows).toBe(0);
    expect(warnings[0]).toMatch(/kept as is: the protocol also wrote metrics\.parquet/);
    expect(fs.readFileSync(path.join(runDir, 'metrics.jsonl'), 'utf8')).toBe('{"a": 1}\n');
    expect(fs.readFileSync(path.join(runDir, 'metrics.parquet'), 'utf8')).toBe('written by the protocol');
  });

  it('reads invalid UTF-8 as the replacement character, as decoding the whole file would', async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"s": "a'),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('", "n": 1}\n{"s": "'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('b", "n": 2}\n'),
    ]);
    const got = await convert(bytes, { readBytes: 3 });
    const want = bytes
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l).s);
    expect((await table(got.runDir)).columns.s).toEqual(want);
  });
});
