// The JSON API in process, against a real vault: the synthetic demo specimen (two runs) plus a generated
// learning-rate sweep (long metrics with a spike, a 3-D tensor), indexed with indexVault.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexVault } from '../../src/catalog/index.js';
import { runSyntheticDemo } from '../../src/demo/run-demo.js';
import { CatalogBusyError } from '../../src/errors.js';
import type {
  CatalogResponse,
  CompareResponse,
  MetricsPage,
  QueryResponse,
  RunListResponse,
  RunResponse,
  SeriesResponse,
  SpecimenResponse,
  ValuesAtResponse,
} from '../../src/server/api-types.js';
import { downsampleMinMax } from '../../src/server/downsample.js';
import { errorResponse } from '../../src/server/errors.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { parseSelection, splitSelection } from '../../src/server/selection.js';
import { SpecimenStorage } from '../../src/storage/specimen-storage.js';
import { Vault } from '../../src/storage/vault.js';
import { CLI, tempDir } from '../support/helpers.js';

const DEMO = 'example_2024_12_19_synthetic_demo';
const SWEEP = '2025_03_01_lr_sweep';
const LONG = 100_000;
const SPIKE_AT = 61_234;

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  json: <T>() => T;
}

/** A raw HTTP request (the path is sent exactly as given, never normalized). */
function request(
  server: RunningServer,
  target: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path: target,
        method: options.method ?? 'GET',
        headers: { Host: `localhost:${server.port}`, ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: <T>() => JSON.parse(body.toString('utf8')) as T,
          });
        });
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

function postJson(server: RunningServer, target: string, body: unknown): Promise<Reply> {
  return request(server, target, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

let dir: string;
let server: RunningServer;
let demoRuns: string[];
let sweepRuns: string[];
let live: SpecimenStorage;

beforeAll(async () => {
  dir = tempDir('sv-server-');
  const vault = await Vault.init(path.join(dir, 'vault'));
  demoRuns = [(await runSyntheticDemo({ vault })).runId, (await runSyntheticDemo({ vault, seed: 7 })).runId];
  await vault.createSpecimen({
    specimenId: SWEEP,
    domain: 'training',
    method: 'fine_tuning',
    model: 'tiny-mlp',
    tags: ['sweep', 'lr'],
    description: 'Learning-rate sweep',
  });
  fs.writeFileSync(
    path.join(vault.specimenDir(SWEEP), 'field_notes.md'),
    '# Purpose\n\nFind the **best** rate.\n',
  );
  sweepRuns = [];
  for (const [k, lr] of [1e-3, 3e-3].entries()) {
    const s = await SpecimenStorage.open(SWEEP, { vault });
    await s.startRun({ seeds: { global: k + 1 }, config: { lr, layers: 2, optimizer: { name: 'adam' } } });
    const step = Int32Array.from({ length: LONG }, (_, i) => i);
    const loss = Float64Array.from({ length: LONG }, (_, i) => 1 / (1 + i * lr) + (i === SPIKE_AT ? 50 : 0));
    await s.writeMetrics({ step, loss, acc: Float64Array.from({ length: LONG }, (_, i) => i / LONG) });
    const w = Float32Array.from({ length: 3 * 40 * 50 }, (_, i) => i * (k + 1));
    await s.writeTensors('weights', w, { shape: [3, 40, 50], chunks: [1, 20, 50] });
    await s.finish({ summary: { final_loss: loss[LONG - 1]! } });
    sweepRuns.push(s.runId!);
  }
  // A run still in progress: this process owns it, so readers see `running`.
  live = await SpecimenStorage.open(SWEEP, { vault });
  await live.startRun({ config: { lr: 0.01, layers: 2, optimizer: { name: 'adam' } } });
  await live.writeTensors(
    'vec',
    BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i * 1000)),
    { shape: [10] },
  );
  await live.writeTensors('scalar', Float64Array.of(Math.PI), { shape: [] });
  await live.writeTensors('mask', [true, false, true, false, false, true], { shape: [2, 3] });
  // One row per chunk; the last chunk is garbage (the run is still open, so its files can be changed).
  await live.writeTensors(
    'broken',
    Float32Array.from({ length: 32 }, (_, i) => i),
    {
      shape: [4, 8],
      chunks: [1, 8],
    },
  );
  fs.writeFileSync(path.join(live.runDir!, 'broken.zarr', 'c', '3', '0'), 'not zstd at all');
  const w = live.metricsWriter({ flushIntervalMs: 60_000 });
  for (let i = 0; i < 50; i++) w.log({ step: i, loss: 1 / (i + 1) });
  await w.flush();
  await indexVault(vault.root);
  server = await startServer({ vaultRoot: vault.root, port: 0, index: false });
});

afterAll(async () => {
  await server?.close();
  await live?.finish().catch(() => {});
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('catalog and runs', () => {
  it('answers /api/health', async () => {
    const r = await request(server, '/api/health');
    expect(r.status).toBe(200);
    expect(r.json<{ ok: boolean; tokenRequired: boolean }>()).toMatchObject({
      ok: true,
      tokenRequired: false,
    });
    expect(server.url).toMatch(/^http:\/\/localhost:\d+\/$/);
  });

  it('lists every specimen with its columns and facets', async () => {
    const r = await request(server, '/api/catalog');
    expect(r.status).toBe(200);
    const body = r.json<CatalogResponse>();
    expect(body.total).toBe(2);
    const ids = body.rows.map((row) => row[0]);
    expect(ids).toEqual(expect.arrayContaining([DEMO, SWEEP]));
    const sweep = body.rows.find((row) => row[0] === SWEEP)!;
    const at = (c: string) => sweep[body.columns.indexOf(c as never)];
    expect(at('domain')).toBe('training');
    expect(at('tags')).toEqual(['sweep', 'lr']);
    expect(at('run_count')).toBe(3);
    expect(body.facets.tags).toEqual(expect.arrayContaining([['sweep', 1]]));
    expect(body.facets.domains.map(([d]) => d).sort()).toEqual(['interpretability', 'training']);
  });

  it('lists runs of any specimen for the compare picker, filtered by text', async () => {
    const all = (await request(server, '/api/runs')).json<RunListResponse>();
    expect(all.total).toBe(5);
    const sweep = (await request(server, '/api/runs?q=lr_sweep')).json<RunListResponse>();
    expect(sweep.runs.every((r) => r.specimen_id === SWEEP)).toBe(true);
    expect(sweep.runs).toHaveLength(3);
  });

  it('shows a specimen: manifest, field notes, runs with seed and status', async () => {
    const r = await request(server, `/api/specimens/${SWEEP}`);
    expect(r.status).toBe(200);
    const body = r.json<SpecimenResponse>();
    expect(body.manifest.model).toBe('tiny-mlp');
    expect(body.field_notes).toContain('Find the **best** rate.');
    expect(body.runs.map((x) => x.run_id)).toEqual([...sweepRuns, live.runId]);
    expect(body.runs[0]).toMatchObject({ status: 'succeeded', seed: 1, sealed: true });
    expect(body.runs[2]).toMatchObject({ status: 'running', sealed: false });
    const demo = (await request(server, `/api/specimens/${DEMO}`)).json<SpecimenResponse>();
    expect(demo.protocol_file).toBe('protocol.ts');
    expect(demo.runs.map((x) => x.seed)).toEqual([42, 7]);
  });

  it('shows a run: config, summary, metric columns and tensors', async () => {
    const r = await request(server, `/api/specimens/${SWEEP}/runs/${sweepRuns[0]}`);
    expect(r.status).toBe(200);
    const body = r.json<RunResponse>();
    expect(body.run.config).toEqual({ lr: 0.001, layers: 2, optimizer: { name: 'adam' } });
    expect(body.metrics?.rows).toBe(LONG);
    expect(body.metrics?.columns.filter((c) => c.numeric).map((c) => c.name)).toEqual(['loss', 'acc']);
    expect(body.tensors).toEqual([
      expect.objectContaining({ name: 'weights', shape: [3, 40, 50], dtype: 'float32', chunks: [1, 20, 50] }),
    ]);
  });

  it('pages through a run metrics table', async () => {
    const r = await request(
      server,
      `/api/specimens/${SWEEP}/runs/${sweepRuns[0]}/metrics?offset=1000&limit=3`,
    );
    const page = r.json<MetricsPage>();
    expect(page.total).toBe(LONG);
    expect(page.rows).toHaveLength(3);
    expect(page.rows[0]![0]).toBe(1000);
    expect(page.columns.map((c) => c.name)).toEqual(['step', 'loss', 'acc']);
    const bad = await request(server, `/api/specimens/${SWEEP}/runs/${sweepRuns[0]}/metrics?limit=-1`);
    expect(bad.status).toBe(400);
  });

  it('names the closest specimens in a 404', async () => {
    const r = await request(server, '/api/specimens/2025_03_01_lr_swep');
    expect(r.status).toBe(404);
    expect(r.json<{ error: { tag: string; message: string } }>().error).toMatchObject({
      tag: 'NotFoundError',
    });
    expect(r.body.toString()).toContain(SWEEP);
    expect((await request(server, `/api/specimens/${SWEEP}/runs/20990101_000000`)).status).toBe(404);
    expect((await request(server, '/api/nope')).status).toBe(404);
  });
});

describe('series, compare and values', () => {
  const ref = (i: number) => `${SWEEP}/${sweepRuns[i]}`;

  it('downsamples long series on the server per pixel bucket, keeping spikes', async () => {
    const r = await request(server, `/api/series?run=${ref(0)}&run=${ref(1)}&metric=loss&width=800`);
    expect(r.status).toBe(200);
    const body = r.json<SeriesResponse>();
    expect(body.series).toHaveLength(2);
    for (const s of body.series) {
      expect(s.total).toBe(LONG);
      expect(s.downsampled).toBe(true);
      expect(s.steps.length).toBeLessThanOrEqual(2 * 800 + 2);
      expect(s.steps.length).toBeGreaterThan(800);
      expect(Math.max(...(s.values as number[]))).toBeGreaterThan(50);
      expect(s.steps).toContain(SPIKE_AT);
      expect(s.steps[0]).toBe(0);
      expect(s.steps.at(-1)).toBe(LONG - 1);
    }
  });

  it('refines on zoom: a step range returns finer points inside it', async () => {
    const r = await request(server, `/api/series?run=${ref(0)}&metric=loss&width=500&from=61000&to=61500`);
    const s = r.json<SeriesResponse>().series[0]!;
    expect(s.total).toBe(501);
    expect(s.downsampled).toBe(false);
    // Every point of the range, plus one either side so the line reaches the edges.
    expect(s.steps).toHaveLength(503);
    expect(s.steps[0]).toBe(60999);
    expect(s.steps.at(-1)).toBe(61501);
    expect(s.values[SPIKE_AT - 60999]).toBeGreaterThan(50);
  });

  it('marks a metric a run does not have, and refuses bad parameters', async () => {
    const r = await request(
      server,
      `/api/series?run=${DEMO}/${demoRuns[0]}&run=${ref(0)}&metric=entropy&width=100`,
    );
    const [demo, sweep] = r.json<SeriesResponse>().series;
    expect(demo!.missing).toBeUndefined();
    expect(demo!.steps).toHaveLength(100);
    expect(sweep!.missing).toBe(true);
    for (const q of [
      'metric=loss',
      `run=${ref(0)}`,
      `run=${ref(0)}&metric=loss&width=5`,
      `run=${ref(0)}&metric=loss&width=x`,
      `run=bad&metric=loss`,
      `run=${ref(0)}&metric=loss&from=5&to=1`,
    ]) {
      expect((await request(server, `/api/series?${q}`)).status, q).toBe(400);
    }
  });

  it('compares runs: config, metrics, summaries from the catalog and live', async () => {
    const liveRef = `${SWEEP}/${live.runId}`;
    const r = await request(
      server,
      `/api/compare?run=${ref(0)}&run=${ref(1)}&run=${liveRef}&run=${DEMO}/${demoRuns[0]}`,
    );
    expect(r.status).toBe(200);
    const body = r.json<CompareResponse>();
    expect(body.runs.map((x) => x.config)).toEqual([
      { lr: 0.001, layers: 2, optimizer: { name: 'adam' } },
      { lr: 0.003, layers: 2, optimizer: { name: 'adam' } },
      { lr: 0.01, layers: 2, optimizer: { name: 'adam' } },
      expect.objectContaining({ steps: 100 }),
    ]);
    expect(body.metrics.map((m) => m.name)).toEqual(['acc', 'accuracy', 'entropy', 'loss']);
    expect(body.metrics.find((m) => m.name === 'loss')!.runs).toHaveLength(4);
    const loss0 = body.summaries.find((s) => s.run_id === sweepRuns[0] && s.metric === 'loss')!;
    expect(loss0).toMatchObject({ source: 'catalog', count: LONG, step_of_max: SPIKE_AT });
    expect(loss0.max).toBeGreaterThan(50);
    expect(loss0.last).toBeCloseTo(1 / (1 + (LONG - 1) * 1e-3));
    const liveLoss = body.summaries.find((s) => s.run_id === live.runId && s.metric === 'loss')!;
    expect(liveLoss).toMatchObject({
      source: 'live',
      count: 50,
      max: 1,
      step_of_max: 0,
      last: 1 / 50,
      step_of_min: 49,
    });
  });

  it('gives every run value at a pinned step (nearest row)', async () => {
    const r = await request(server, `/api/values?run=${ref(0)}&run=${DEMO}/${demoRuns[0]}&step=${SPIKE_AT}`);
    const body = r.json<ValuesAtResponse>();
    expect(body.runs[0]).toMatchObject({ step: SPIKE_AT });
    expect(body.runs[0]!.values.loss).toBeGreaterThan(50);
    expect(body.runs[1]!.step).toBe(99);
    expect(Object.keys(body.runs[1]!.values).sort()).toEqual(['accuracy', 'entropy', 'loss']);
    expect((await request(server, `/api/values?run=${ref(0)}`)).status).toBe(400);
  });

  it('shows a running run with the metrics flushed so far, then the rows flushed later', async () => {
    const path0 = `/api/specimens/${SWEEP}/runs/${live.runId}`;
    const before = (await request(server, path0)).json<RunResponse>();
    expect(before.run.status).toBe('running');
    expect(before.metrics?.rows).toBe(50);
    const w = live.metricsWriter();
    for (let i = 50; i < 80; i++) w.log({ step: i, loss: 1 / (i + 1) });
    await w.flush();
    const after = (await request(server, path0)).json<RunResponse>();
    expect(after.metrics?.rows).toBe(80);
    const s = (
      await request(server, `/api/series?run=${SWEEP}/${live.runId}&metric=loss&width=100`)
    ).json<SeriesResponse>();
    expect(s.series[0]!.steps.at(-1)).toBe(79);
    expect(s.series[0]!.status).toBe('running');
  });
});

describe('tensors', () => {
  const base = () => `/api/specimens/${SWEEP}/runs/${sweepRuns[1]}/tensors/weights`;

  it('describes a tensor', async () => {
    const r = await request(server, base());
    expect(r.json()).toMatchObject({ name: 'weights', shape: [3, 40, 50], dtype: 'float32', zarr_format: 3 });
  });

  it('serves a 2-D slice as raw floats with its shape, equal to the library read', async () => {
    const r = await request(server, `${base()}/slice?sel=2,:,:`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['x-shape']).toBe('40,50');
    expect(r.headers['x-dtype']).toBe('float32');
    const got = new Float32Array(
      r.body.buffer.slice(r.body.byteOffset, r.body.byteOffset + r.body.byteLength),
    );
    const storage = await SpecimenStorage.open(SWEEP, { vault: path.join(dir, 'vault') });
    const want = (await (await storage.readTensorLazy('weights', sweepRuns[1])).read([2, null, null])).data;
    // 40 rows of 20-row chunks: sent as two blocks, which must join up exactly.
    expect(Number(r.headers['content-length'])).toBe(40 * 50 * 4);
    expect(Array.from(got)).toEqual(Array.from(want as Float32Array));
  });

  it('supports strides and transposed dimensions, and refuses bad selections', async () => {
    const r = await request(server, `${base()}/slice?sel=0:3,5,0:50:10`);
    expect(r.headers['x-shape']).toBe('3,5');
    const got = new Float32Array(
      r.body.buffer.slice(r.body.byteOffset, r.body.byteOffset + r.body.byteLength),
    );
    expect(got[1]).toBe((5 * 50 + 10) * 2);
    for (const sel of ['3,0,0', '0,0,0,0', 'a,:,:', '0,0:5:0', '0,-41,:']) {
      const bad = await request(server, `${base()}/slice?sel=${encodeURIComponent(sel)}`);
      expect(bad.status, sel).toBe(400);
    }
    expect((await request(server, `/api/specimens/${SWEEP}/runs/${sweepRuns[1]}/tensors/nope`)).status).toBe(
      404,
    );
  });
});

describe('tensors of other dtypes and ranks', () => {
  it('reports a bad first chunk as an error, and cuts the connection on a bad later one', async () => {
    const url = (sel: string) =>
      `${server.url}api/specimens/${SWEEP}/runs/${live.runId}/tensors/broken/slice?sel=${sel}`;
    const good = await fetch(url('0:3'));
    expect(good.status).toBe(200);
    expect(Array.from(new Float32Array(await good.arrayBuffer()))).toEqual(
      Array.from({ length: 24 }, (_, i) => i),
    );
    const first = await fetch(url('3:4'));
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: { message: string } }).error.message).toMatch(
      /cannot decode chunk c\/3\/0/,
    );
    // Rows 0–2 go out before row 3 fails: the client must see a failed request, never a short slice.
    const later = await fetch(url(':'));
    expect(later.status).toBe(200);
    await expect(later.arrayBuffer()).rejects.toThrow();
    // The server carries on.
    expect((await fetch(url('1'))).status).toBe(200);
  });

  const slice = async (name: string, sel: string) => {
    const r = await request(
      server,
      `/api/specimens/${SWEEP}/runs/${live.runId}/tensors/${name}/slice?sel=${sel}`,
    );
    expect(r.status, r.body.toString()).toBe(200);
    const bytes = r.body.buffer.slice(r.body.byteOffset, r.body.byteOffset + r.body.byteLength);
    const data = r.headers['x-dtype'] === 'float64' ? new Float64Array(bytes) : new Float32Array(bytes);
    return { data: Array.from(data), headers: r.headers };
  };

  it('sends int64 as float64, bool as 0/1, and 1-D and 0-D slices', async () => {
    const vec = await slice('vec', '2:5');
    expect(vec.data).toEqual([2000, 3000, 4000]);
    expect(vec.headers['x-dtype']).toBe('float64');
    expect(vec.headers['x-source-dtype']).toBe('int64');
    const scalar = await slice('scalar', '');
    expect(scalar.headers['x-shape']).toBe('');
    expect(scalar.data).toEqual([Math.PI]);
    const mask = await slice('mask', ':,::2');
    expect(mask.headers['x-shape']).toBe('2,2');
    expect(mask.data).toEqual([1, 1, 0, 1]);
    const run = (await request(server, `/api/specimens/${SWEEP}/runs/${live.runId}`)).json<RunResponse>();
    expect(run.tensors.map((t) => [t.name, t.shape])).toEqual([
      ['broken', [4, 8]],
      ['mask', [2, 3]],
      ['scalar', []],
      ['vec', [10]],
    ]);
  });
});

describe('SQL', () => {
  it('runs a read-only query', async () => {
    const r = await postJson(server, '/api/query', {
      sql: "SELECT specimen_id, run_count FROM catalog WHERE domain = 'training'",
    });
    expect(r.status).toBe(200);
    const body = r.json<QueryResponse>();
    expect(body.columns.map((c) => c.name)).toEqual(['specimen_id', 'run_count']);
    expect(body.rows).toEqual([[SWEEP, 3]]);
  });

  it('truncates at maxRows and reads the metrics views', async () => {
    const r = await postJson(server, '/api/query', {
      sql: `SELECT step, loss FROM exp_${SWEEP} ORDER BY step`,
      maxRows: 10,
    });
    const body = r.json<QueryResponse>();
    expect(body.rows).toHaveLength(10);
    expect(body.truncated).toBe(true);
  });

  it('reports DuckDB errors with their position', async () => {
    const r = await postJson(server, '/api/query', { sql: 'SELECT specimen_id\nFROM catalogue' });
    expect(r.status).toBe(400);
    const e = r.json<{
      error: { tag: string; message: string; position: number; line: number; column: number };
    }>().error;
    expect(e.tag).toBe('SqlError');
    expect(e.message).toContain('catalogue');
    expect(e).toMatchObject({ line: 2, column: 6, position: 24 });
  });

  it('refuses bodies that are not a JSON object with sql', async () => {
    expect((await postJson(server, '/api/query', { sql: '' })).status).toBe(400);
    expect((await postJson(server, '/api/query', { sql: 'SELECT 1', maxRows: 0 })).status).toBe(400);
    expect(
      (
        await request(server, '/api/query', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: '{',
        })
      ).status,
    ).toBe(400);
  });
});

describe('index', () => {
  it('re-indexes on POST /api/index and the catalog shows the new specimen', async () => {
    const vault = await Vault.open(path.join(dir, 'vault'));
    await vault.createSpecimen({
      specimenId: '2025_04_01_new_probe',
      domain: 'interpretability',
      method: 'probe_training',
    });
    const r = await postJson(server, '/api/index', {});
    expect(r.status).toBe(200);
    expect(r.json<{ specimens: { indexed: number } }>().specimens.indexed).toBeGreaterThanOrEqual(1);
    const cat = (await request(server, '/api/catalog')).json<CatalogResponse>();
    expect(cat.rows.map((row) => row[0])).toContain('2025_04_01_new_probe');
  });
});

describe('pieces', () => {
  it('downsampleMinMax keeps each bucket min and max in step order', () => {
    const xs = Float64Array.from({ length: 1000 }, (_, i) => i);
    const ys = Float64Array.from({ length: 1000 }, (_, i) => (i === 501 ? -5 : i === 502 ? 9 : Math.sin(i)));
    const s = downsampleMinMax(xs, ys, { width: 10 });
    expect(s.steps.length).toBeLessThanOrEqual(20);
    expect(s.values).toContain(-5);
    expect(s.values).toContain(9);
    expect([...s.steps].sort((a, b) => a - b)).toEqual(s.steps);
    const gaps = downsampleMinMax(
      xs,
      Float64Array.from(xs, (x) => (x < 500 ? Number.NaN : x)),
      { width: 10 },
    );
    expect(gaps.values[0]).toBeNull();
    const small = downsampleMinMax([1, 2, 3], [1, Number.POSITIVE_INFINITY, 3], { width: 10 });
    expect(small).toEqual({ steps: [1, 2, 3], values: [1, null, 3], total: 3, downsampled: false });
  });

  it('parseSelection follows NumPy slicing', () => {
    expect(parseSelection('2,:,0:512:2', [8, 512, 1024])).toEqual({
      selection: [2, null, [0, 512, 2]],
      shape: [512, 256],
    });
    expect(parseSelection('-1', [4, 5])).toEqual({ selection: [3, null], shape: [5] });
    expect(parseSelection('1:-1,::3', [4, 5]).shape).toEqual([2, 2]);
    expect(() => parseSelection('4', [4])).toThrow(/out of range/);
  });

  it('splitSelection cuts along the outermost varying dimension at chunk boundaries', () => {
    const big = [16, 4096, 4096];
    expect(splitSelection([3, [0, 512], [0, 512]], big, [1, 128, 4096], 4)).toEqual([
      [3, [0, 128, 1], [0, 512]],
      [3, [128, 256, 1], [0, 512]],
      [3, [256, 384, 1], [0, 512]],
      [3, [384, 512, 1], [0, 512]],
    ]);
    // Strided, unaligned start, uneven chunks: the blocks cover exactly the selected rows, in order.
    const blocks = splitSelection([1, [5, 300, 7], 0], [3, 300, 10], [1, 64, 10], 4);
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.length).toBeLessThanOrEqual(4);
    const rows = blocks.flatMap((b) => {
      const [lo, hi, step] = b[1] as [number, number, number];
      expect(b[0]).toBe(1);
      return Array.from({ length: Math.ceil((hi - lo) / step) }, (_, i) => lo + i * step);
    });
    expect(rows).toEqual(Array.from({ length: Math.ceil(295 / 7) }, (_, i) => 5 + i * 7));
    for (const b of blocks.slice(1)) expect((b[1] as readonly number[])[0]! % 64).toBeLessThan(7);
    // Inside one chunk, or nothing to split: one block.
    expect(splitSelection([[0, 3]], [10], [4], 4)).toEqual([[[0, 3]]]);
    expect(splitSelection([2, 5], [4, 8], [1, 1], 4)).toEqual([[2, 5]]);
    expect(splitSelection([null], [100], [10], 1)).toEqual([[null]]);
  });

  it('refuses a bad port or token with a UsageError before opening anything', async () => {
    const root = path.join(dir, 'vault');
    await expect(startServer({ vaultRoot: root, port: 70_000 })).rejects.toMatchObject({
      _tag: 'UsageError',
      message: 'serve: invalid port 70000',
    });
    await expect(startServer({ vaultRoot: root, port: 0, token: 'short' })).rejects.toMatchObject({
      _tag: 'UsageError',
      message: expect.stringContaining('serve: a token must be 16 to 256 characters'),
    });
  });

  it('turns unexpected errors into a generic 500 that reveals nothing', () => {
    const err = new Error(`ENOENT: open '${dir}/vault/secret'`);
    expect(errorResponse(err, [dir])).toEqual({
      status: 500,
      body: { error: { tag: 'InternalError', message: 'internal error' } },
    });
    const known = errorResponse(new CatalogBusyError(`${dir}/y`, undefined, 10), [dir]);
    expect(known.status).toBe(503);
    expect(known.body.error.message).toBe(new CatalogBusyError('<vault>/y', undefined, 10).message);
  });
});

describe('specimen serve', () => {
  it('prints the URL, serves until SIGINT, then exits 0', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--vault', path.join(dir, 'vault')], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/open http:\/\/localhost:\d+\//.test(out) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const url = /open (http:\/\/localhost:\d+\/)/.exec(out)?.[1];
    expect(url, out).toBeDefined();
    const health = await fetch(`${url}api/health`);
    expect(health.status).toBe(200);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
