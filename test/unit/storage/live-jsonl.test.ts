// A running run's metrics.jsonl read incrementally (storage/metrics/live-jsonl.ts) and served by the
// server's metrics cache: each refresh reads only the appended bytes, partial lines wait, a replaced file
// is read again, and the cache's snapshots grow while the file does.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MetricsCache } from '../../../src/server/metrics-cache.js';
import { LiveJsonl } from '../../../src/storage/metrics/live-jsonl.js';
import { tempDir } from '../../support/helpers.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

function runDir(): string {
  const dir = tempDir('sv-live-');
  made.push(dir);
  return dir;
}

const lines = (from: number, to: number, extra = (_i: number) => ({})) =>
  Array.from({ length: to - from }, (_, k) => {
    const i = from + k;
    return `${JSON.stringify({ step: i, loss: 1 / (i + 1), ...extra(i) })}\n`;
  }).join('');

describe('LiveJsonl', () => {
  it('reads only the bytes appended since the last refresh and keeps a partial line for later', async () => {
    const dir = runDir();
    const file = path.join(dir, 'metrics.jsonl');
    const first = lines(0, 100);
    fs.writeFileSync(file, first);
    const live = new LiveJsonl(file);
    expect(await live.refresh()).toBe(true);
    expect(live.rows).toBe(100);
    expect(live.lastReadBytes).toBe(Buffer.byteLength(first));
    expect(await live.refresh()).toBe(false);
    expect(live.lastReadBytes).toBe(0);

    const next = lines(100, 110);
    const partial = '{"step": 110, "lo';
    fs.appendFileSync(file, next + partial);
    expect(await live.refresh()).toBe(true);
    expect(live.rows).toBe(110);
    expect(live.lastReadBytes).toBe(Buffer.byteLength(next + partial));
    fs.appendFileSync(file, 'ss": 0.5, "acc": NaN}\n');
    await live.refresh();
    expect(live.rows).toBe(111);
    expect(live.numeric('loss')![110]).toBe(0.5);
    // A key that first appears late: earlier rows are missing, NaN is a value distinct from missing.
    expect(live.column('acc')!.count).toBe(1);
    expect(live.value('acc', 0)).toBeNull();
    expect(Number.isNaN(live.value('acc', 110))).toBe(true);
    expect(live.offset).toBe(fs.statSync(file).size);
  });

  it('skips malformed and conflicting lines, widens integers to floats, and re-reads a replaced file', async () => {
    const dir = runDir();
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(
      file,
      '{"step": 0, "n": 1, "tag": "a"}\nnot json\n{"step": 1, "n": "two"}\n{"step": 2, "n": 2.5}\n',
    );
    const live = new LiveJsonl(file);
    await live.refresh();
    expect(live.rows).toBe(2);
    expect(live.rejected).toBe(2);
    expect(live.column('n')!.kind).toBe('float');
    expect(live.value('tag', 0)).toBe('a');
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, lines(0, 3));
    fs.renameSync(tmp, file);
    expect(await live.refresh()).toBe(true);
    expect(live.rows).toBe(3);
    expect(live.column('n')).toBeUndefined();
  });
});

describe('MetricsCache on a run with metrics.jsonl only', () => {
  it('gives snapshots that grow with the file, in step order, with summaries', async () => {
    const dir = runDir();
    const file = path.join(dir, 'metrics.jsonl');
    fs.writeFileSync(
      file,
      lines(0, 50, (i) => (i % 10 === 0 ? { eval: i } : {})),
    );
    const admitted: string[] = [];
    const cache = new MetricsCache(
      async () => {
        throw new Error('no parquet here');
      },
      undefined,
      async (f) => {
        admitted.push(f);
      },
    );
    const a = await cache.get(dir, 'r');
    expect(a?.rows).toBe(50);
    expect(a?.hasStep).toBe(true);
    expect(a?.columns.map((c) => [c.name, c.type, c.numeric])).toEqual([
      ['step', 'Int64', false],
      ['loss', 'Float64', true],
      ['eval', 'Int64', true],
    ]);
    expect(a?.summaries().find((s) => s.column === 'eval')).toMatchObject({ count: 5, last: 40, max: 40 });
    expect(await cache.get(dir, 'r')).toBe(a);

    // A step going backwards: the snapshot is sorted by step; the earlier snapshot is unchanged.
    fs.appendFileSync(file, `${lines(50, 60)}${JSON.stringify({ step: 5, loss: 9 })}\n`);
    const b = await cache.get(dir, 'r');
    expect(b?.rows).toBe(61);
    expect(a?.rows).toBe(50);
    expect(a?.numeric('loss')?.length).toBe(50);
    expect(b?.order).toBeDefined();
    expect(Array.from(b!.steps.slice(4, 8))).toEqual([4, 5, 5, 6]);
    expect(b?.numeric('loss')?.[6]).toBe(9);
    expect(b?.value('loss', 60)).toBe(9);
    expect(admitted).toEqual([file]);

    // Once sealed, metrics.parquet wins and the JSON lines are no longer read.
    fs.writeFileSync(path.join(dir, 'metrics.parquet'), 'x');
    await expect(cache.get(dir, 'r')).rejects.toThrow('no parquet here');
  });
});
