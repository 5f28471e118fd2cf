// Small multiples over HTTP, against a real vault and server: the multiples route returns slices along any
// dimension as numbers or colour codes equal to the library's own read, with each slice's range; pages are
// chunk-aligned; codes can come mean-pooled to a cell's size; the stats route agrees with sliceStat; bad queries are refused before any chunk is read.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLICE_STATS, sliceRange, sliceStat } from '../../src/analysis/slice-stats.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { codesInto, multiplesBlocks, parseMultiples } from '../../src/server/multiples.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { openTensor } from '../../src/storage/tensors/index.js';
import { Vault } from '../../src/storage/vault.js';

const ID = '2025_06_03_multiples';
const SHAPE = [6, 9, 7, 5] as const;
const CHUNKS = [2, 9, 4, 5] as const;

describe('small multiples route', () => {
  let dir: string;
  let server: RunningServer;
  let runId: string;
  let data: Float32Array;
  let tensorDir: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sv-multiples-'));
    const vault = await Vault.init(dir);
    await vault.createSpecimen({ specimenId: ID, domain: 'training', method: 'fine_tuning' });
    const storage = await SpecimenStorage.open(ID, { vault });
    await storage.startRun({});
    const n = SHAPE.reduce((a, b) => a * b, 1);
    data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 11)));
    data[15] = Number.NaN; // [0, 0, 3, 0]
    data[40] = Number.POSITIVE_INFINITY; // [0, 1, 1, 0]
    await storage.writeTensors('acts', data, { shape: [...SHAPE], chunks: [...CHUNKS] });
    await storage.finish();
    runId = storage.runId!;
    tensorDir = path.join(dir, 'specimens', ID, 'runs', runId, 'acts.zarr');
    server = await startServer({ vaultRoot: dir, port: 0, index: false });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const url = (q: string, route = 'multiples') =>
    `${server.url}api/specimens/${ID}/runs/${runId}/tensors/acts/${route}?${q}`;

  /** Element [i0, i1, i2, i3] of the written array. */
  const el = (ix: number[]) => data[((ix[0]! * SHAPE[1] + ix[1]!) * SHAPE[2] + ix[2]!) * SHAPE[3] + ix[3]!]!;

  /** The (slice, row, col) numbers expected for a grid, from the written array. */
  const expected = (grid: number, rows: number, cols: number, at: number[], from: number, to: number) => {
    const out: number[] = [];
    for (let g = from; g < to; g++)
      for (let r = 0; r < SHAPE[rows]!; r++)
        for (let c = 0; c < SHAPE[cols]!; c++) {
          const ix = [...at];
          ix[grid] = g;
          ix[rows] = r;
          ix[cols] = c;
          out.push(el(ix));
        }
    return out;
  };

  it('returns slices along any dimension in (slice, row, col) order, with each slice range', async () => {
    // Grid after rows and columns in the tensor (a transposed copy), and one in order.
    for (const [grid, rows, cols, at] of [
      [2, 3, 1, [4, 0, 0, 0]],
      [0, 1, 2, [0, 0, 0, 3]],
    ] as const) {
      const res = await fetch(url(`grid=${grid}&rows=${rows}&cols=${cols}&at=${at.join(',')}&from=1&to=4`));
      expect(res.status).toBe(200);
      expect(res.headers.get('x-shape')).toBe(`3,${SHAPE[rows]},${SHAPE[cols]}`);
      expect(res.headers.get('x-slices')).toBe(`1,4,${SHAPE[grid]}`);
      const buf = await res.arrayBuffer();
      const plane = SHAPE[rows]! * SHAPE[cols]!;
      const numbers = new Float32Array(buf, 0, 3 * plane);
      const want = expected(grid, rows, cols, [...at], 1, 4);
      expect(Array.from(numbers)).toEqual(Array.from(Float32Array.from(want)));
      const ranges = new Float64Array(buf, Math.ceil((3 * plane * 4) / 8) * 8, 6);
      for (let g = 0; g < 3; g++)
        expect([ranges[2 * g], ranges[2 * g + 1]]).toEqual(
          sliceRange(Float32Array.from(want), g * plane, plane),
        );
    }
  });

  it('as colour codes: one byte per element on the range of the slices sent, 0 where not finite', async () => {
    const res = await fetch(url('grid=0&rows=1&cols=2&at=0,0,0,0&as=codes'));
    expect(res.headers.get('x-dtype')).toBe('codes');
    const [min, max] = res.headers.get('x-range')!.split(',').map(Number) as [number, number];
    const want = Float32Array.from(expected(0, 1, 2, [0, 0, 0, 0], 0, SHAPE[0]));
    expect([min, max]).toEqual(sliceRange(want, 0, want.length));
    const codes = new Uint8Array(await res.arrayBuffer(), 0, want.length);
    const mine = new Uint8Array(want.length);
    codesInto(want, min, max, mine, 0);
    expect(Array.from(codes)).toEqual(Array.from(mine));
    expect(codes[3]).toBe(0); // NaN at row 0, col 3 of slice 0
    expect(codes[8]).toBe(0); // +∞ at row 1, col 1
    expect(Math.min(...codes.filter((c) => c > 0))).toBe(1);
    expect(Math.max(...codes)).toBe(255);
    // A given range: values beyond it clamp to the ends.
    const clamped = await fetch(url('grid=0&rows=1&cols=2&as=codes&range=0,0.5'));
    expect(clamped.headers.get('x-range')).toBe('0,0.5');
    const c2 = new Uint8Array(await clamped.arrayBuffer(), 0, want.length);
    want.forEach((v, i) => {
      if (Number.isFinite(v) && v >= 0.5) expect(c2[i]).toBe(255);
      if (Number.isFinite(v) && v <= 0) expect(c2[i]).toBe(1);
    });
  });

  it('with px, codes of each slice mean-pooled to that many pixels along its longer side, exact ranges', async () => {
    // Slices of 9 × 7 (rows, cols) at px=4: 4 × 3 pixels, each the mean of the finite elements it covers.
    const res = await fetch(url('grid=0&rows=1&cols=2&at=0,0,0,0&as=codes&px=4'));
    expect(res.headers.get('x-shape')).toBe(`${SHAPE[0]},4,3`);
    const [min, max] = res.headers.get('x-range')!.split(',').map(Number) as [number, number];
    const full = expected(0, 1, 2, [0, 0, 0, 0], 0, SHAPE[0]);
    expect([min, max]).toEqual(sliceRange(Float32Array.from(full), 0, full.length));
    const means: number[] = [];
    for (let g = 0; g < SHAPE[0]; g++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 3; x++) {
          const vs: number[] = [];
          for (let r = 0; r < SHAPE[1]; r++)
            for (let c = 0; c < SHAPE[2]; c++) {
              const v = full[(g * SHAPE[1] + r) * SHAPE[2] + c]!;
              if (
                Math.floor((r * 4) / SHAPE[1]) === y &&
                Math.floor((c * 3) / SHAPE[2]) === x &&
                Number.isFinite(v)
              )
                vs.push(v);
            }
          means.push(vs.reduce((a, b) => a + b, 0) / vs.length);
        }
    const mine = new Uint8Array(means.length);
    codesInto(Float32Array.from(means), min, max, mine, 0);
    const body = await res.arrayBuffer();
    expect(Array.from(new Uint8Array(body, 0, means.length))).toEqual(Array.from(mine));
    // Each slice's range is of its elements, not of the means.
    const ranges = new Float64Array(body, Math.ceil(means.length / 8) * 8, SHAPE[0] * 2);
    const plane = SHAPE[1] * SHAPE[2];
    expect(Array.from(ranges.subarray(0, 2))).toEqual(sliceRange(Float32Array.from(full), 0, plane));
    // A px not smaller than the slice sends it whole.
    const whole = await fetch(url('grid=0&rows=1&cols=2&as=codes&px=9'));
    expect(whole.headers.get('x-shape')).toBe(`${SHAPE[0]},9,7`);
    expect((await fetch(url('grid=0&rows=1&cols=2&as=codes&px=x'))).status).toBe(400);
  });

  it('agrees with the library read of the same tensor', async () => {
    const t = await openTensor(tensorDir);
    const lib = await t.read([[0, 6], null, null, 2]);
    const res = await fetch(url('grid=0&rows=1&cols=2&at=0,0,0,2'));
    const got = new Float32Array(await res.arrayBuffer(), 0, lib.data.length);
    expect(Array.from(got)).toEqual(Array.from(lib.data as Float32Array));
  });

  it('computes every statistic of every slice on the server, as sliceStat does', async () => {
    const plane = SHAPE[1] * SHAPE[2];
    const all = Float32Array.from(expected(0, 1, 2, [0, 0, 0, 1], 0, SHAPE[0]));
    for (const { id } of SLICE_STATS) {
      const res = await fetch(url(`grid=0&rows=1&cols=2&at=0,0,0,1&stat=${id}`, 'multiples/stats'));
      expect(res.status).toBe(200);
      const body = (await res.json()) as { values: (number | null)[]; min: number; max: number };
      expect([body.min, body.max]).toEqual(sliceRange(all, 0, all.length));
      if (id === 'index') {
        expect(body.values).toEqual([]);
        continue;
      }
      const want = Array.from({ length: SHAPE[0] }, (_, g) => {
        const v = sliceStat(all.subarray(g * plane, (g + 1) * plane), SHAPE[1], SHAPE[2], id);
        return Number.isFinite(v) ? v : null;
      });
      expect(body.values).toEqual(want);
    }
  });

  it('refuses bad queries with a message naming the problem', async () => {
    for (const [q, what] of [
      ['grid=0&rows=0&cols=2', 'three different dimensions'],
      ['grid=0&rows=1', 'cols is required'],
      ['grid=9&rows=1&cols=2', 'grid must be in [0, 3]'],
      ['grid=0&rows=1&cols=2&at=0,0,0,9', 'at[3] must be in [0, 4]'],
      ['grid=0&rows=1&cols=2&at=0,0,0,0,0', '5 entries'],
      ['grid=0&rows=1&cols=2&from=-1', 'non-negative integer'],
      ['grid=0&rows=1&cols=2&as=codes&range=2,1', 'min ≤ max'],
    ] as const) {
      const res = await fetch(url(q));
      expect(res.status, q).toBe(400);
      const body = (await res.json()) as { error: { tag: string; message: string } } & Record<
        string,
        unknown
      >;
      expect(JSON.stringify(body), q).toContain(what);
    }
    const stat = await fetch(url('grid=0&rows=1&cols=2&stat=median', 'multiples/stats'));
    expect(stat.status).toBe(400);
    // A tensor name that is not one (path parts) is refused as before.
    const outside = await fetch(
      `${server.url}api/specimens/${ID}/runs/${runId}/tensors/..%2F..%2Fmanifest.msgpack/multiples?grid=0&rows=1&cols=2`,
    );
    expect(outside.status).toBeGreaterThanOrEqual(400);
  });

  it('cuts a request to a page at a chunk boundary of the grid dimension', () => {
    const q = new URLSearchParams('grid=0&rows=1&cols=2&from=1');
    // 2 slices' worth of elements from slice 1: cut at the chunk boundary 2 (chunks of 2 along the grid).
    const spec = parseMultiples(q, SHAPE, 2 * 9 * 7, CHUNKS);
    expect([spec.from, spec.to]).toEqual([1, 2]);
    const next = parseMultiples(new URLSearchParams('grid=0&rows=1&cols=2&from=2'), SHAPE, 2 * 9 * 7, CHUNKS);
    expect([next.from, next.to]).toEqual([2, 4]);
    // Blocks of a read: chunk-aligned after the first, so no chunk is decoded twice.
    const all = parseMultiples(new URLSearchParams('grid=0&rows=1&cols=2&from=1'), SHAPE);
    expect(multiplesBlocks(all, 2, 2 * 63)).toEqual([
      [1, 2],
      [2, 4],
      [4, 6],
    ]);
  });
});
