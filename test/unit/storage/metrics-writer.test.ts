// MetricsWriter: streaming rows through the flush worker into part files and one merged metrics.parquet.

import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../src/cli/exit.js';
import { connectShared } from '../../../src/duckdb/read-parquet.js';
import { isVaultError, UsageError } from '../../../src/errors.js';
import { PARTS_DIR } from '../../../src/format/layout.js';
import { MetricsWriter, parquetInfo, readRunMetrics } from '../../../src/storage/metrics/index.js';
import { listParts } from '../../../src/storage/metrics/parts.js';
import { tempDir } from '../../support/helpers.js';

const dirs: string[] = [];
function dir(): string {
  const d = tempDir('sv-mwriter-');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

type Row = Record<string, number | bigint | boolean | string | null | undefined>;

/** Column values of a table as JS values (Int64 as bigint), in row order. */
async function readColumns(runDir: string, runId: string): Promise<Record<string, unknown[]>> {
  const table = await readRunMetrics(runDir, runId);
  if (!table) return {};
  const out: Record<string, unknown[]> = {};
  for (const f of table.schema.fields) out[f.name] = [...table.getChild(f.name)!];
  return out;
}

describe('MetricsWriter', () => {
  it("closes cleanly when the worker's exit is seen before its last reply", async () => {
    // The worker answers 'close' and then ends; both events can be pending at once (a busy main thread),
    // and then the exit may be delivered first. That must not read as a crash.
    for (let i = 0; i < 3; i++) {
      const runDir = dir();
      const w = new MetricsWriter({ runDir, runId: 'r' });
      for (let j = 0; j < 10; j++) w.log({ step: j });
      await w.flush(); // starts the worker (a short run closed without one never starts it)
      for (let j = 10; j < 20; j++) w.log({ step: j });
      const closing = w.close();
      const file = path.join(runDir, 'metrics.parquet');
      await new Promise<void>((resolve) => {
        const t = setInterval(() => {
          if (fs.existsSync(file)) {
            clearInterval(t);
            resolve();
          }
        }, 1);
      });
      // Hold the main thread while the worker replies and exits.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      expect((await closing)?.rows).toBe(20);
    }
  });

  it('writes metrics.parquet with exact row count, run_id last, and removes the parts', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'run-1', flushRows: 100 });
    for (let step = 0; step < 1234; step++) w.log({ step, loss: 1 / (step + 1) });
    expect(w.rowsLogged).toBe(1234);
    const info = await w.close();
    expect(info?.rows).toBe(1234);
    expect(info?.path).toBe(path.join(runDir, 'metrics.parquet'));
    expect(info?.columns).toEqual([
      { name: 'step', type: 'BIGINT' },
      { name: 'loss', type: 'DOUBLE' },
      { name: 'run_id', type: 'VARCHAR' },
    ]);
    expect(fs.existsSync(path.join(runDir, PARTS_DIR))).toBe(false);
    const cols = await readColumns(runDir, 'run-1');
    expect(cols.step).toEqual(Array.from({ length: 1234 }, (_, i) => BigInt(i)));
    expect(cols.loss).toEqual(Array.from({ length: 1234 }, (_, i) => 1 / (i + 1)));
    expect(new Set(cols.run_id)).toEqual(new Set(['run-1']));
  });

  it('widens integers to doubles mid-batch and across flushes, keeping earlier values exact', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r', flushRows: 4 });
    const big = 2 ** 53 - 1;
    const values = [big, 1, 2, 3, -5, 6, 7.5, 8, big - 2, 0];
    for (const [i, v] of values.entries()) w.log({ i, v });
    // Within one batch, too.
    const w2dir = dir();
    const w2 = new MetricsWriter({ runDir: w2dir, runId: 'r' });
    w2.log({ v: big });
    w2.log({ v: 0.5 });
    await Promise.all([w.close(), w2.close()]);
    const info = await parquetInfo(path.join(runDir, 'metrics.parquet'));
    expect(info.columns).toEqual([
      { name: 'i', type: 'BIGINT' },
      { name: 'v', type: 'DOUBLE' },
      { name: 'run_id', type: 'VARCHAR' },
    ]);
    expect((await readColumns(runDir, 'r')).v).toEqual(values);
    expect((await readColumns(w2dir, 'r')).v).toEqual([big, 0.5]);
  });

  it('adds columns that appear later (earlier rows null) and keeps missing keys null', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r', flushRows: 3 });
    w.log({ step: 0, loss: 0.5 });
    w.log({ step: 1 });
    w.log({ step: 2, loss: 0.25 });
    w.log({ step: 3, loss: 0.125, eval_acc: 0.9, note: 'eval' });
    w.log({ step: 4, loss: 0.1 });
    w.log({ loss: 0.05, done: true });
    await w.close();
    const cols = await readColumns(runDir, 'r');
    expect(Object.keys(cols)).toEqual(['step', 'loss', 'eval_acc', 'note', 'done', 'run_id']);
    expect(cols.step).toEqual([0n, 1n, 2n, 3n, 4n, null]);
    expect(cols.loss).toEqual([0.5, null, 0.25, 0.125, 0.1, 0.05]);
    expect(cols.eval_acc).toEqual([null, null, null, 0.9, null, null]);
    expect(cols.note).toEqual([null, null, null, 'eval', null, null]);
    expect(cols.done).toEqual([null, null, null, null, null, true]);
  });

  it('preserves NaN and ±Infinity as values distinct from null', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r', flushRows: 2 });
    const xs = [Number.NaN, Number.POSITIVE_INFINITY, null, Number.NEGATIVE_INFINITY, -0, 1];
    for (const x of xs) w.log({ x });
    await w.close();
    const table = (await readRunMetrics(runDir, 'r'))!;
    const col = table.getChild('x')!;
    expect(col.nullCount).toBe(1);
    expect(Number.isNaN(col.get(0))).toBe(true);
    expect(col.get(1)).toBe(Number.POSITIVE_INFINITY);
    expect(col.get(2)).toBeNull();
    expect(col.get(3)).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(col.get(4), -0)).toBe(true);
    expect(col.get(5)).toBe(1);
  });

  it('merges many parts (concatenated row groups) in log order, run_id last', async () => {
    const runDir = dir();
    // Parts of ≥ 65,536 rows on average with one schema are concatenated without re-encoding.
    const w = new MetricsWriter({ runDir, runId: 'r', flushRows: 100_000 });
    const n = 100_000 * 3 + 50_123;
    for (let step = 0; step < n; step++) w.log({ step, loss: Math.sin(step), ok: step % 3 === 0 });
    await w.flush();
    expect((await listParts(runDir)).length).toBe(4);
    const info = await w.close();
    expect(info?.rows).toBe(n);
    expect(info?.columns.at(-1)).toEqual({ name: 'run_id', type: 'VARCHAR' });
    const table = (await readRunMetrics(runDir, 'r'))!;
    const step = table.getChild('step')!.toArray() as BigInt64Array;
    const loss = table.getChild('loss')!.toArray() as Float64Array;
    const ok = table.getChild('ok')!;
    for (let i = 0; i < n; i += 997) {
      expect(step[i]).toBe(BigInt(i));
      expect(loss[i]).toBe(Math.sin(i));
      expect(ok.get(i)).toBe(i % 3 === 0);
    }
    expect(step[n - 1]).toBe(BigInt(n - 1));
    // Concatenated, not re-encoded: the parts' row groups (100,000 and 50,123 rows) are kept as they were.
    const con = await connectShared();
    try {
      const reader = await con.runAndReadAll(
        `SELECT DISTINCT row_group_num_rows::INT AS n FROM parquet_metadata('${info!.path}') ORDER BY n`,
      );
      expect(reader.getRowsJS().map((r) => r[0])).toEqual([50_123, 100_000]);
    } finally {
      con.closeSync();
    }
  });

  it('close() is idempotent and returns undefined when nothing was logged', async () => {
    const empty = dir();
    const w0 = new MetricsWriter({ runDir: empty, runId: 'r' });
    expect(await w0.close()).toBeUndefined();
    expect(await w0.close()).toBeUndefined();
    expect(fs.readdirSync(empty)).toEqual([]);
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r' });
    w.log({ a: 1 });
    const [a, b] = await Promise.all([w.close(), w.close()]);
    expect(a).toEqual(b);
    expect(await w.close()).toEqual(a);
    expect(a?.rows).toBe(1);
    expect(() => w.log({ a: 2 })).toThrow(/after close/);
    expect(() => w.log({ a: 2 })).toThrow(UsageError);
    expect(() => new MetricsWriter({ runDir, runId: 'r', flushRows: 0 })).toThrow(UsageError);
  });

  it('flush() puts buffered rows on disk as a readable part before close', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r' });
    w.log({ step: 0, loss: 1.5 });
    w.log({ step: 1, loss: 0.5 });
    await w.flush();
    expect(fs.existsSync(path.join(runDir, 'metrics.parquet'))).toBe(false);
    expect(await readColumns(runDir, 'r')).toEqual({ step: [0n, 1n], loss: [1.5, 0.5], run_id: ['r', 'r'] });
    w.log({ step: 2, loss: 0.25 });
    await w.close();
    expect((await readColumns(runDir, 'r')).loss).toEqual([1.5, 0.5, 0.25]);
  });

  it('flushes an idle writer after flushIntervalMs', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r', flushIntervalMs: 100 });
    w.log({ step: 0 });
    const deadline = Date.now() + 10_000;
    while ((await listParts(runDir)).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect((await listParts(runDir)).length).toBe(1);
    await w.close();
  });

  it('throws MetricsSchemaError from log() for a column mixing strings and numbers, keeping earlier rows', async () => {
    const runDir = dir();
    const w = new MetricsWriter({ runDir, runId: 'r' });
    w.log({ step: 0, phase: 'train' });
    let err: unknown;
    try {
      w.log({ step: 1, fresh: 1, phase: 2 });
    } catch (e) {
      err = e;
    }
    expect(isVaultError(err, 'MetricsSchemaError')).toBe(true);
    expect((err as { column: string }).column).toBe('phase');
    expect((err as Error).message).toContain('"phase"');
    expect(() => w.log({ loss: 1 })).not.toThrow();
    expect(() => w.log({ loss: 'x' })).toThrow(/"loss" mixes strings and integers/);
    expect(() => w.log({ run_id: 'x' })).toThrow(/run_id/);
    expect(w.rowsLogged).toBe(2);
    await w.close();
    // The rejected row left nothing behind: not its step, not its new column.
    expect(await readColumns(runDir, 'r')).toEqual({
      step: [0n, null],
      phase: ['train', null],
      loss: [null, 1n],
      run_id: ['r', 'r'],
    });
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a nested object', { loss: { train: 1 } }, /column "loss" got an object, .*e\.g\. "loss\.train"/],
    ['an array', { loss: [1, 2] }, /column "loss" got an array of 2, .*writeTensors\(\)/],
    ['a typed array', { loss: new Float32Array(3) }, /column "loss" got a Float32Array, .*writeTensors\(\)/],
    ['a function', { loss: () => 1 }, /column "loss" got a function, .*log the value it returns/],
    ['a Date', { at: new Date(0) }, /column "at" got a Date, .*date\.getTime\(\)/],
    ['a Map', { loss: new Map() }, /column "loss" got a Map, /],
    ['an empty column name', { '': 1 }, /a column name is empty/],
    ['a column name with NUL', { 'a\0b': 1 }, /column name "a\\u0000b" contains a NUL character/],
    ['a name differing only in case', { Loss: 1 }, /"Loss" differs from column "loss" only in case/],
    ['run_id in other case', { RUN_ID: 'r' }, /"RUN_ID" differs from column "run_id" only in case/],
  ])(
    'refuses %s in log() with a MetricsSchemaError that says what to do (exit 2)',
    async (_what, row, message) => {
      const runDir = dir();
      const w = new MetricsWriter({ runDir, runId: 'r' });
      w.log({ step: 0, loss: 0.5 });
      let err: unknown;
      try {
        w.log({ step: 1, ...row } as Row);
      } catch (e) {
        err = e;
      }
      expect(isVaultError(err, 'MetricsSchemaError'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(/^metrics: /);
      expect((err as Error).message).toMatch(message);
      expect(exitCodeOf(err)).toBe(2);
      // Nothing of the row was kept, and the writer goes on.
      w.log({ step: 2, loss: 0.25 });
      expect(w.rowsLogged).toBe(2);
      await w.close();
      expect(await readColumns(runDir, 'r')).toEqual({
        step: [0n, 2n],
        loss: [0.5, 0.25],
        run_id: ['r', 'r'],
      });
    },
  );

  it('round-trips random rows with random keys and values (property)', async () => {
    const key = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    // Each key has one type family so rows are valid; ints may widen to floats within the family.
    const valueFor: Record<string, fc.Arbitrary<Row[string]>> = {
      a: fc.oneof(fc.integer(), fc.constant(null)),
      b: fc.oneof(fc.integer({ min: -1000, max: 1000 }), fc.double(), fc.constant(undefined)),
      c: fc.oneof(fc.boolean(), fc.constant(null)),
      d: fc.oneof(fc.string(), fc.constant(null)),
      e: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.constant(null)),
    };
    const row = fc
      .uniqueArray(key, { maxLength: 5 })
      .chain((keys) =>
        fc
          .tuple(...keys.map((k) => valueFor[k]!.map((v) => [k, v] as const)))
          .map((kvs) => Object.fromEntries(kvs)),
      );
    await fc.assert(
      fc.asyncProperty(
        fc.array(row, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (rows, flushRows) => {
          const runDir = dir();
          const w = new MetricsWriter({ runDir, runId: 'p', flushRows });
          for (const r of rows) w.log(r as Row);
          const info = await w.close();
          const cols = await readColumns(runDir, 'p');
          const seen = [...new Set(rows.flatMap((r) => Object.keys(r)))];
          if (seen.length === 0) {
            // Rows without keys still count; every part holds only run_id.
            expect(info?.rows).toBe(rows.length);
            return;
          }
          expect(Object.keys(cols).sort()).toEqual([...seen, 'run_id'].sort());
          for (const k of seen) {
            const expected = rows.map((r) => (r[k] === undefined ? null : r[k]));
            const isFloatCol = expected.some(
              (v) => typeof v === 'number' && !(Number.isSafeInteger(v) && !Object.is(v, -0)),
            );
            const got = cols[k]!.map((v) =>
              typeof v === 'bigint' && (k === 'a' || k === 'b') ? Number(v) : v,
            );
            const want = expected.map((v) => (k === 'e' || v === null || !isFloatCol ? v : Number(v)));
            expect(got, `column ${k}`).toEqual(want);
          }
          expect(info?.rows).toBe(rows.length);
        },
      ),
      { numRuns: 25 },
    );
  }, 120_000);
});
